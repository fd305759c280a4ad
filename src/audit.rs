//! A tamper-evident audit log (Tajik law Art. 25.1-25.2): every entry is chained to the one
//! before it by SHA-256, so an edited, deleted, inserted or reordered entry breaks the chain
//! at a place [`verify`] names.
//!
//! Entries hold the [`Event`]s of the one vocabulary: ids, categories, purposes, dates,
//! references and digests — and, for a consent given, what replay needs to give it again:
//! its evidence's references, and the name and mandate of a legal representative who
//! consented for the subject (the proof of consent needs them). Never a value of the
//! subject's personal data.
//!
//! ```
//! use amanat::audit::{AuditEvent, AuditLog};
//! use amanat::{Purpose, SubjectId};
//! use chrono::Utc;
//!
//! let log = AuditLog::in_memory();
//! log.append(Utc::now(), AuditEvent::Authorization {
//!     subject: SubjectId::new("cust-1")?,
//!     purpose: Purpose::CREDIT_SCORING,
//!     category: "payment_card".into(),
//!     granted: false,
//!     rule: Some("no_consent".into()),
//!     consent: None,
//!     actor: None,
//! })?;
//! assert_eq!(log.verify(), Ok(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::error::AuditError;
pub use crate::event::{ChainHash, Event, Event as AuditEvent, Given, Reference};
use crate::event::{Change, Journaled};
use crate::vocab::SubjectId;

/// Appends to `log` if there is one. The one place that decides what a failed append means
/// for an action that widens processing: it is not done.
pub(crate) fn record(
    log: Option<&Arc<AuditLog>>,
    at: DateTime<Utc>,
    event: impl FnOnce() -> AuditEvent,
) -> Result<(), crate::Error> {
    match log {
        Some(log) => log.record(at, event()).map(drop).map_err(Into::into),
        None => Ok(()),
    }
}

/// How a change stands when the audit log can't record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stands {
    /// Only if recorded: what widens processing (a grant, a record kept, a hold) is not
    /// made without its audit entry, nor kept in the journal.
    IfRecorded,
    /// Whatever the audit log says: what protects the subject (a withdrawal, a release, a
    /// destruction) or is owed to them (a request, a notice) has taken effect, and is kept
    /// in the journal even so. The failed audit log stops itself and refuses what widens
    /// processing next.
    Regardless,
}

/// Records a change: once, in `journal`, where the journal writes each change as its own
/// audit entry (an operator's log); otherwise in `log` and then in `journal`, whichever
/// there are, as `stands` says. The one place that decides how a change reaches both.
///
/// # Errors
///
/// [`crate::Error::AuditUnavailable`] if `log` can't record a change that stands only if
/// recorded (the journal is not written then); [`crate::Error::NotStored`] if the
/// journal can't keep it.
pub(crate) fn change(
    log: Option<&Arc<AuditLog>>,
    journal: Option<&Journaled>,
    at: DateTime<Utc>,
    event: Event,
    stands: Stands,
) -> Result<(), crate::Error> {
    let refused = |recorded: Result<u64, AuditError>| match (recorded, stands) {
        (Err(failed), Stands::IfRecorded) => Err(crate::Error::from(failed)),
        _ => Ok(()),
    };
    let Some(journal) = journal else {
        return log.map_or(Ok(()), |log| refused(log.record(at, event)));
    };
    if journal.carries_audit() {
        return journal.append(&Change::new(at, event));
    }
    if let Some(log) = log {
        refused(log.record(at, event.clone()))?;
    }
    journal.append(&Change::new(at, event))
}

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Its place in the log, from 1.
    pub seq: u64,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: AuditEvent,
    /// The hash of the entry before it (zeros for the first).
    pub prev: ChainHash,
    /// SHA-256 over this entry's canonical encoding and `prev`.
    pub hash: ChainHash,
}

impl AuditEntry {
    /// Whether the entry's hash matches its content and the hash it links to — true of
    /// every entry nobody edited. Whether it sits where it should in the log is what
    /// [`verify`](fn@verify) checks.
    pub fn is_intact(&self) -> bool {
        Self::digest(self.seq, self.at, &self.event, self.prev) == self.hash
    }

    fn digest(seq: u64, at: DateTime<Utc>, event: &AuditEvent, prev: ChainHash) -> ChainHash {
        // The canonical encoding: the JSON of (seq, time in ms, event), field order fixed by
        // the types, then the previous hash.
        let mut hasher = Sha256::new();
        // Straight into the hasher: no buffer per entry. Writing to a hasher can't fail.
        let _ = serde_json::to_writer(&mut hasher, &(seq, at.timestamp_millis(), event));
        hasher.update(prev.0);
        ChainHash(hasher.finalize().into())
    }

    /// [`digest`](Self::digest), from the event's JSON as `serde_json` writes it: the same
    /// bytes hashed, for `serde_json` writes a tuple as its elements, comma-separated,
    /// between brackets.
    #[cfg(feature = "sqlite")]
    fn digest_encoded(
        seq: u64,
        at: DateTime<Utc>,
        event_json: &[u8],
        prev: ChainHash,
    ) -> ChainHash {
        let mut hasher = Sha256::new();
        hasher.update(b"[");
        // Writing a number to a hasher can't fail.
        let _ = serde_json::to_writer(&mut hasher, &seq);
        hasher.update(b",");
        let _ = serde_json::to_writer(&mut hasher, &at.timestamp_millis());
        hasher.update(b",");
        hasher.update(event_json);
        hasher.update(b"]");
        hasher.update(prev.0);
        ChainHash(hasher.finalize().into())
    }
}

/// Checks a sequence of entries and returns how many there are.
///
/// # Errors
///
/// [`AuditError::Broken`] at the first entry that is out of place or whose hash does not
/// match its content and its predecessor.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, AuditError> {
    verify_chain(entries, false)
}

/// As [`verify`], taking an [`Erased`](Event::Erased) entry's hash as it is shown when
/// `vouched`: an operator's log checked each entry's MAC as it read it, and an erased
/// entry's content can't be hashed again.
fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    vouched: bool,
) -> Result<u64, AuditError> {
    let mut prev = ChainHash::GENESIS;
    let mut count = 0;
    for entry in entries {
        count += 1;
        let broken = |problem| AuditError::Broken {
            position: count,
            problem,
        };
        if entry.seq != count {
            return Err(broken(
                "out of sequence: an entry was deleted, inserted or moved",
            ));
        }
        if entry.prev != prev {
            return Err(broken("it does not follow the entry before it"));
        }
        let erased = vouched && matches!(entry.event, Event::Erased { .. });
        if !erased && !entry.is_intact() {
            return Err(broken("its content does not match its hash: it was edited"));
        }
        prev = entry.hash;
    }
    Ok(count)
}

/// Where an [`AuditLog`] keeps its entries when they are neither in memory nor in a file
/// of their own: implement it for your database and open the log with
/// [`AuditLog::with_store`]. The log chains and verifies; the store only keeps.
pub trait AuditStore: Send {
    /// Every entry kept, oldest first.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if they can't be read; [`AuditError::Unreadable`] for one that
    /// is not an entry.
    fn entries(&mut self) -> Result<Vec<AuditEntry>, AuditError>;

    /// Keeps `entry` after those before it. It need not be durable before
    /// [`sync`](Self::sync); it must be whole or absent, never part-written.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if it can't be kept: the log stops then.
    fn write(&mut self, entry: &AuditEntry) -> Result<(), AuditError>;

    /// Makes every entry written so far durable.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if they can't be: the log stops then.
    fn sync(&mut self) -> Result<(), AuditError>;
}

struct Chain {
    prev: ChainHash,
    next_seq: u64,
    entries: Vec<AuditEntry>,
    file: Option<(PathBuf, BufWriter<File>)>,
    store: Option<Box<dyn AuditStore>>,
    unflushed: usize,
    /// Set by the first failed write; every append after it is refused.
    failed: Option<String>,
}

/// The audit log: an append-only, hash-chained list of entries, in memory or in a JSON
/// Lines file flushed durably in batches.
pub struct AuditLog {
    chain: Mutex<Chain>,
    batch: usize,
    /// Whether an operator's log that checks each entry's MAC as it reads it vouches for
    /// the entries it shows, so that an [`Erased`](Event::Erased) one verifies.
    vouched: bool,
    /// Whether an operator keeps this log: every entry in it is then the library's own,
    /// and [`append`](Self::append) refuses what it is handed.
    owned: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let chain = self.lock();
        f.debug_struct("AuditLog")
            .field("entries", &(chain.next_seq - 1))
            .field("file", &chain.file.as_ref().map(|(path, _)| path))
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// A log kept in memory.
    pub fn in_memory() -> Self {
        Self {
            chain: Mutex::new(Chain {
                prev: ChainHash::GENESIS,
                next_seq: 1,
                entries: Vec::new(),
                file: None,
                store: None,
                unflushed: 0,
                failed: None,
            }),
            batch: 1,
            vouched: false,
            owned: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A log appended to the JSON Lines file at `path`, created if missing. An existing
    /// file is verified first and the chain continues from its last entry; entries are
    /// flushed to disk (and synced) every `batch` appends and on [`flush`](Self::flush).
    ///
    /// `batch` trades durability for speed: an append is acknowledged once it is in the
    /// log's buffer, and reaches the disk with its batch. With `batch = 1` every
    /// acknowledged entry is on disk before the action it records goes ahead; with more, a
    /// crash can lose the last `batch - 1` entries (the chain stays valid: they are lost
    /// from its end).
    ///
    /// A last line cut short — a write a crash or a full disk interrupted — is cut off at
    /// open: it was never a complete entry. Anything else that does not verify is refused,
    /// and the file is left as it is.
    ///
    /// # Errors
    ///
    /// [`AuditError`] if the file can't be opened, or what is in it does not verify.
    pub fn open(path: impl AsRef<Path>, batch: usize) -> Result<Self, AuditError> {
        Self::open_noting(path, batch, &mut |_| {})
    }

    /// [`open`](Self::open), showing `note` every entry read: one pass over a large file
    /// for a caller that needs some of them.
    pub(crate) fn open_noting(
        path: impl AsRef<Path>,
        batch: usize,
        note: &mut dyn FnMut(&AuditEntry),
    ) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let entries = if path.exists() {
            cut_torn_tail(&path)?;
            read_file(&path)?
        } else {
            Vec::new()
        };
        verify(&entries)?;
        entries.iter().for_each(&mut *note);
        let file = crate::files::options()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| AuditError::Io(e.to_string()))?;
        Ok(Self::continuing(
            &entries,
            Some((path, BufWriter::new(file))),
            None,
            batch,
        ))
    }

    /// A log whose chain goes on from the verified `entries` already kept.
    fn continuing(
        entries: &[AuditEntry],
        file: Option<(PathBuf, BufWriter<File>)>,
        store: Option<Box<dyn AuditStore>>,
        batch: usize,
    ) -> Self {
        let (prev, next_seq) = entries
            .last()
            .map_or((ChainHash::GENESIS, 1), |e| (e.hash, e.seq + 1));
        Self {
            chain: Mutex::new(Chain {
                prev,
                next_seq,
                entries: Vec::new(),
                file,
                store,
                unflushed: 0,
                failed: None,
            }),
            batch: batch.max(1),
            vouched: false,
            owned: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A log kept in `store`: what it holds is verified first and the chain continues from
    /// its last entry; entries are synced every `batch` appends and on
    /// [`flush`](Self::flush), as for [`open`](Self::open).
    ///
    /// # Errors
    ///
    /// [`AuditError`] if the store can't be read, or what is in it does not verify.
    pub fn with_store(mut store: Box<dyn AuditStore>, batch: usize) -> Result<Self, AuditError> {
        let entries = store.entries()?;
        verify(&entries)?;
        Ok(Self::continuing(&entries, None, Some(store), batch))
    }

    /// A log in `store` for a store that authenticates its entries itself (the operator's
    /// log MACs every byte of them), so its chain is not verified again here: it goes on
    /// after the entry given to [`resume_after`](Self::resume_after), before any append.
    ///
    /// Its changes are written by the operator's journal, each as its own entry: an event
    /// handed to [`append`](Self::append) is refused.
    #[cfg(feature = "sqlite")]
    pub(crate) fn with_store_after(store: Box<dyn AuditStore>, batch: usize) -> Self {
        let mut log = Self::continuing(&[], None, Some(store), batch);
        log.vouched = true;
        log.own();
        log
    }

    /// Continues the chain after `last`, the store's last entry.
    ///
    /// # Errors
    ///
    /// [`AuditError::Broken`] if an entry was appended already: it would be numbered as if
    /// the store were empty.
    #[cfg(feature = "sqlite")]
    pub(crate) fn resume_after(&self, last: Option<AuditEntry>) -> Result<(), AuditError> {
        let mut chain = self.lock();
        if chain.next_seq != 1 {
            return Err(AuditError::Broken {
                position: chain.next_seq - 1,
                problem: "appended before the store's chain was resumed",
            });
        }
        if let Some(last) = last {
            chain.prev = last.hash;
            chain.next_seq = last.seq + 1;
        }
        Ok(())
    }

    /// A log appending to an open file as is, without reading it first: for tests that
    /// need writes to fail (`/dev/full`).
    #[cfg(test)]
    pub(crate) fn writing_to(file: File, batch: usize) -> Self {
        Self {
            chain: Mutex::new(Chain {
                prev: ChainHash::GENESIS,
                next_seq: 1,
                entries: Vec::new(),
                file: Some((PathBuf::from("/dev/full"), BufWriter::new(file))),
                store: None,
                unflushed: 0,
                failed: None,
            }),
            batch: batch.max(1),
            vouched: false,
            owned: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an entry and returns its position.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if a file log can't be written; the entry is then not in the
    /// chain, and the log stops. [`AuditError::Stopped`] for every append after that.
    /// [`AuditError::NotAppendable`] on an [`Operator`](crate::store::Operator)'s log,
    /// every entry of which the library writes as it acts: an entry appended here would
    /// show in the trail, in a subject's access report or in the proof of a consent
    /// without having happened.
    pub fn append(&self, at: DateTime<Utc>, event: AuditEvent) -> Result<u64, AuditError> {
        if self.owned.load(std::sync::atomic::Ordering::Acquire) {
            return Err(AuditError::NotAppendable {
                event: event.name(),
            });
        }
        self.record(at, event)
    }

    /// Marks the log as an operator's: [`append`](Self::append) refuses from now on.
    pub(crate) fn own(&self) {
        self.owned.store(true, std::sync::atomic::Ordering::Release);
    }

    /// [`append`](Self::append), for the library's own components: a change on a log
    /// without a journal that carries it.
    pub(crate) fn record(&self, at: DateTime<Utc>, event: AuditEvent) -> Result<u64, AuditError> {
        let mut chain = self.lock();
        let entry = Self::next(&chain, at, event)?;
        let (seq, hash) = (entry.seq, entry.hash);
        let batch = self.batch;
        if let Some(store) = chain.store.as_mut() {
            if let Err(failed) = store.write(&entry) {
                return Err(Self::halt(&mut chain, failed.to_string()));
            }
            chain.unflushed += 1;
            if chain.unflushed >= batch {
                Self::sync(&mut chain)?;
            }
        } else if let Some((_, writer)) = chain.file.as_mut() {
            let written = serde_json::to_writer(&mut *writer, &entry)
                .map_err(|e| e.to_string())
                .and_then(|()| writer.write_all(b"\n").map_err(|e| e.to_string()));
            if let Err(why) = written {
                return Err(Self::halt(&mut chain, why));
            }
            chain.unflushed += 1;
            if chain.unflushed >= batch {
                Self::sync(&mut chain)?;
            }
        } else {
            chain.entries.push(entry);
        }
        chain.prev = hash;
        chain.next_seq = seq + 1;
        Ok(seq)
    }

    /// The entry `event` makes next in `chain`, linked to the one before it.
    ///
    /// # Errors
    ///
    /// [`AuditError::Stopped`] if the chain has stopped.
    fn next(chain: &Chain, at: DateTime<Utc>, event: AuditEvent) -> Result<AuditEntry, AuditError> {
        if let Some(why) = &chain.failed {
            return Err(AuditError::Stopped(why.clone()));
        }
        let seq = chain.next_seq;
        Ok(AuditEntry {
            seq,
            at,
            hash: AuditEntry::digest(seq, at, &event, chain.prev),
            event,
            prev: chain.prev,
        })
    }

    /// Appends an entry that `write` keeps instead of the log's store: how an operator's
    /// journal makes a change and its audit entry one entry of its log. The entry is
    /// numbered and linked under the log's lock, and `write` is called under it too, so
    /// entries reach the store in the order they are numbered. `event_json` is `event`'s
    /// JSON, written by the caller before the lock, which every change waits for in turn:
    /// under it the entry is only hashed, linked and handed to `write`.
    ///
    /// # Errors
    ///
    /// [`AuditError::Stopped`] if the log has stopped; `write`'s error, which stops it.
    #[cfg(feature = "sqlite")]
    pub(crate) fn append_encoded(
        &self,
        at: DateTime<Utc>,
        event: AuditEvent,
        event_json: &[u8],
        write: impl FnOnce(&AuditEntry) -> Result<(), AuditError>,
    ) -> Result<u64, AuditError> {
        let mut chain = self.lock();
        if let Some(why) = &chain.failed {
            return Err(AuditError::Stopped(why.clone()));
        }
        let seq = chain.next_seq;
        let entry = AuditEntry {
            seq,
            at,
            hash: AuditEntry::digest_encoded(seq, at, event_json, chain.prev),
            event,
            prev: chain.prev,
        };
        let hash = entry.hash;
        if let Err(failed) = write(&entry) {
            return Err(Self::halt(&mut chain, failed.to_string()));
        }
        chain.prev = hash;
        chain.next_seq = seq + 1;
        Ok(seq)
    }

    /// Refuses, as an append would, once the log has stopped.
    ///
    /// # Errors
    ///
    /// [`AuditError::Stopped`] if it has.
    pub(crate) fn ensure_running(&self) -> Result<(), AuditError> {
        match &self.lock().failed {
            Some(why) => Err(AuditError::Stopped(why.clone())),
            None => Ok(()),
        }
    }

    /// Stops the log after a failed write: what the buffer still holds is thrown away
    /// (never written after a torn line), and every later append is refused.
    fn halt(chain: &mut Chain, why: String) -> AuditError {
        if let Some((path, writer)) = chain.file.take() {
            let (file, _unwritten) = writer.into_parts();
            chain.file = Some((path, BufWriter::new(file)));
        }
        chain.failed = Some(why.clone());
        AuditError::Io(why)
    }

    fn sync(chain: &mut Chain) -> Result<(), AuditError> {
        if let Some(why) = &chain.failed {
            return Err(AuditError::Stopped(why.clone()));
        }
        if let Some(store) = chain.store.as_mut()
            && let Err(failed) = store.sync()
        {
            return Err(Self::halt(chain, failed.to_string()));
        }
        if let Some((_, writer)) = chain.file.as_mut() {
            let synced = writer
                .flush()
                .and_then(|()| writer.get_ref().sync_data())
                .map_err(|e| e.to_string());
            if let Err(why) = synced {
                return Err(Self::halt(chain, why));
            }
        }
        chain.unflushed = 0;
        Ok(())
    }

    /// Writes and syncs every entry appended so far.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if the file can't be written.
    pub fn flush(&self) -> Result<(), AuditError> {
        Self::sync(&mut self.lock())
    }

    /// Every entry, oldest first (read back from the file for a file log).
    ///
    /// # Errors
    ///
    /// [`AuditError`] if the file can't be read.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, AuditError> {
        let (path, written) = {
            let mut chain = self.lock();
            if chain.store.is_some() {
                if chain.failed.is_none() {
                    Self::sync(&mut chain)?;
                }
                return chain
                    .store
                    .as_mut()
                    .map_or_else(|| Ok(Vec::new()), |store| store.entries());
            }
            let Some((path, writer)) = chain.file.as_ref() else {
                return Ok(chain.entries.clone());
            };
            let path = path.clone();
            let file = writer.get_ref().try_clone();
            // A stopped log has nothing more to write: what reached the file is read.
            if chain.failed.is_none() {
                Self::sync(&mut chain)?;
            }
            let written = file
                .and_then(|f| f.metadata())
                .map_err(|e| AuditError::Io(e.to_string()))?
                .len();
            (path, written)
        };
        // Read without the lock, up to what was synced: appends go on meanwhile, and a
        // line being written past that point is not read half-way.
        read_entries(
            File::open(path)
                .map_err(|e| AuditError::Io(e.to_string()))?
                .take(written),
        )
    }

    /// Verifies the whole chain and returns how many entries it has.
    ///
    /// # Errors
    ///
    /// As [`verify`](fn@verify); for a file log also [`AuditError::Unreadable`]. An
    /// operator's trail shows an entry erased with its subject as
    /// [`Erased`](Event::Erased), whose hash is taken as shown: the operator's log
    /// checked its MAC as it read it.
    pub fn verify(&self) -> Result<u64, AuditError> {
        self.verify_entries(&self.entries()?)
    }

    /// Verifies `entries`, read from this log, as [`verify`](Self::verify) does.
    pub(crate) fn verify_entries(&self, entries: &[AuditEntry]) -> Result<u64, AuditError> {
        verify_chain(entries, self.vouched)
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Best effort: an entry appended and acknowledged should reach the disk.
        let _ = self.flush();
    }
}

/// Reads a JSON Lines audit file.
///
/// # Errors
///
/// [`AuditError::Io`] if it can't be read; [`AuditError::Unreadable`] for a line that is
/// not an entry.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<AuditEntry>, AuditError> {
    read_entries(File::open(path).map_err(|e| AuditError::Io(e.to_string()))?)
}

fn read_entries(file: impl Read) -> Result<Vec<AuditEntry>, AuditError> {
    let mut entries = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| AuditError::Io(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = serde_json::from_str(&line)
            .map_err(|_| AuditError::Unreadable { line: n as u64 + 1 })?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Cuts off a last line that does not end the file with a newline and is not an entry:
/// an append a crash or a full disk interrupted. A complete entry whose newline was lost
/// gets its newline back.
fn cut_torn_tail(path: &Path) -> Result<(), AuditError> {
    let io = |e: std::io::Error| AuditError::Io(e.to_string());
    let bytes = std::fs::read(path).map_err(io)?;
    if bytes.last().is_none_or(|&b| b == b'\n') {
        return Ok(());
    }
    let start = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let file = OpenOptions::new().append(true).open(path).map_err(io)?;
    if serde_json::from_slice::<AuditEntry>(&bytes[start..]).is_ok() {
        (&file).write_all(b"\n").map_err(io)?;
    } else {
        file.set_len(start as u64).map_err(io)?;
    }
    file.sync_data().map_err(io)
}

/// What an [`Alert`] is about: whose refusals a [`RefusalMonitor`] counts, or a notice
/// owed to a subject that is overdue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertKey {
    /// Refusals to one actor: a service, an employee, an API key.
    Actor(String),
    /// Refusals about one subject's data, whoever asked.
    Subject(SubjectId),
    /// A notice of a transfer, or of data a third party gave, was not sent by its due day
    /// ([`Disclosures::check_overdue`](crate::disclosure::Disclosures::check_overdue)).
    OverdueNotice {
        /// The notice, by number.
        notice: u64,
        /// The policy's id of the recipient of the transfer; `None` for the operator's
        /// own notice of data a third party gave it.
        recipient: Option<String>,
        /// The last day it could be sent.
        due: NaiveDate,
    },
}

/// A burst of refusals that may be unauthorised access (Tajik law Art. 25.2), or a notice
/// owed to a subject that is overdue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Alert {
    /// What it is about.
    pub key: AlertKey,
    /// How many refusals fell within the window; 0 for an overdue notice.
    pub refusals: usize,
    /// When the threshold was reached, or the notice was found overdue.
    pub at: DateTime<Utc>,
}

/// Your code that hears of suspicious refusals and overdue notices: page someone, lock an
/// account, send the notice.
pub trait AlertHook: Send + Sync {
    /// Called once per episode of refusals: when the refusals in the window reach the
    /// threshold, and not again until they have fallen below it; and once per overdue
    /// notice.
    fn alert(&self, alert: &Alert);
}

/// Counts refusals per actor and per subject in a sliding window and fires an
/// [`AlertHook`] once per episode over a threshold: the timely detection of unauthorised
/// access Art. 25.2 asks for.
///
/// ```
/// use amanat::audit::{Alert, AlertHook, RefusalMonitor};
/// use amanat::SubjectId;
/// use chrono::{TimeDelta, Utc};
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// struct Pager(Arc<Mutex<Vec<Alert>>>);
/// impl AlertHook for Pager {
///     fn alert(&self, alert: &Alert) { self.0.lock().unwrap().push(alert.clone()); }
/// }
///
/// let paged = Arc::new(Mutex::new(Vec::new()));
/// let monitor = RefusalMonitor::new(Duration::from_secs(60), 3, Pager(Arc::clone(&paged)));
/// let subject = SubjectId::new("cust-1")?;
/// let now = Utc::now();
/// for n in 0..5 {
///     monitor.refused("scoring-service", &subject, now + TimeDelta::seconds(n));
/// }
/// // One episode for the actor, one for the subject: two alerts, not six.
/// assert_eq!(paged.lock().unwrap().len(), 2);
/// # Ok::<(), amanat::Error>(())
/// ```
pub struct RefusalMonitor {
    window_ms: i64,
    threshold: usize,
    hook: Box<dyn AlertHook>,
    counts: Mutex<Counts>,
}

/// The windows of the keys seen lately.
#[derive(Default)]
struct Counts {
    windows: std::collections::HashMap<AlertKey, Window>,
    /// The size at which windows with no refusal left in them are dropped.
    prune_at: usize,
}

impl Counts {
    /// Drops the windows whose refusals all fell out before `since`, once the map has
    /// doubled since the last time: a caller probing random subject ids can't grow it
    /// without bound, and the cost stays constant per refusal on average.
    fn prune(&mut self, since: i64) {
        if self.windows.len() < self.prune_at.max(1024) {
            return;
        }
        self.windows
            .retain(|_, w| w.times.back().is_some_and(|&t| t > since));
        self.prune_at = self.windows.len() * 2;
    }
}

#[derive(Default)]
struct Window {
    times: std::collections::VecDeque<i64>,
    alerted: bool,
}

impl std::fmt::Debug for RefusalMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusalMonitor")
            .field("window_ms", &self.window_ms)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl RefusalMonitor {
    /// Fires `hook` when `threshold` refusals (at least one) fall within `window` for one
    /// actor or one subject.
    pub fn new(
        window: std::time::Duration,
        threshold: usize,
        hook: impl AlertHook + 'static,
    ) -> Self {
        Self {
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            threshold: threshold.max(1),
            hook: Box::new(hook),
            counts: Mutex::new(Counts::default()),
        }
    }

    /// Counts a refusal to `actor` about `subject`'s data at `at`, and returns the alerts
    /// it fired.
    pub fn refused(&self, actor: &str, subject: &SubjectId, at: DateTime<Utc>) -> Vec<Alert> {
        self.count(
            [
                Some(AlertKey::Actor(actor.to_owned())),
                Some(AlertKey::Subject(subject.clone())),
            ],
            at,
        )
    }

    /// Counts a refusal about `subject`'s data to a caller that gave no name: it counts
    /// for the subject only. A ledger with a monitor reports every refusal here or to
    /// [`refused`](Self::refused).
    pub fn refused_unnamed(&self, subject: &SubjectId, at: DateTime<Utc>) -> Vec<Alert> {
        self.count([None, Some(AlertKey::Subject(subject.clone()))], at)
    }

    fn count(&self, keys: [Option<AlertKey>; 2], at: DateTime<Utc>) -> Vec<Alert> {
        let now = at.timestamp_millis();
        let mut fired = Vec::new();
        {
            let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            let since = now.saturating_sub(self.window_ms);
            counts.prune(since);
            for key in keys.into_iter().flatten() {
                let window = counts.windows.entry(key.clone()).or_default();
                window.times.push_back(now);
                while window.times.front().is_some_and(|&t| t <= since) {
                    window.times.pop_front();
                }
                let count = window.times.len();
                if count < self.threshold {
                    // Below the threshold again: the episode, if any, is over.
                    window.alerted = false;
                } else if !window.alerted {
                    window.alerted = true;
                    fired.push(Alert {
                        key,
                        refusals: count,
                        at,
                    });
                }
            }
        }
        // The hook runs outside the lock: it may be slow, and may refuse things itself.
        for alert in &fired {
            self.hook.alert(alert);
        }
        fired
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeDelta;

    /// Events whose JSON escapes, nests and carries numbers, at times before and after
    /// 1970 and between milliseconds.
    pub(crate) fn varied_entries() -> Vec<AuditEntry> {
        let subject = SubjectId::new("cust-41").unwrap();
        let events = [
            Event::Keeping {
                record: crate::vocab::ids::RecordId::random(),
                subject,
            },
            Event::Restored {
                entries: u64::MAX,
                anchored: 0,
                reason: "line\nbreak \\ and \u{1F600}".into(),
            },
            Event::SubjectErased {
                keys: vec!["00ff".into(), String::new()],
            },
        ];
        let times = [
            DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap(),
            DateTime::from_timestamp(-5, 1).unwrap(),
        ];
        let mut entries = Vec::new();
        for (n, event) in events.into_iter().enumerate() {
            for at in times {
                let seq = [1, u64::MAX][n % 2];
                let prev = ChainHash([u8::try_from(n).unwrap(); 32]);
                entries.push(AuditEntry {
                    seq,
                    at,
                    hash: AuditEntry::digest(seq, at, &event, prev),
                    event: event.clone(),
                    prev,
                });
            }
        }
        entries
    }

    #[test]
    #[cfg(feature = "sqlite")]
    fn an_entry_hashed_from_its_events_json_has_the_hash_of_its_event() {
        for entry in varied_entries() {
            let json = serde_json::to_vec(&entry.event).unwrap();
            assert_eq!(
                AuditEntry::digest_encoded(entry.seq, entry.at, &json, entry.prev),
                entry.hash,
                "{entry:?}"
            );
        }
    }

    struct Silent;
    impl AlertHook for Silent {
        fn alert(&self, _: &Alert) {}
    }

    #[test]
    fn a_monitor_probed_with_endless_new_subjects_forgets_the_quiet_ones() {
        let monitor = RefusalMonitor::new(std::time::Duration::from_secs(60), 3, Silent);
        let start = DateTime::UNIX_EPOCH + TimeDelta::days(20_000);
        for n in 0..10_000 {
            let subject = SubjectId::new(format!("probe-{n}")).unwrap();
            // One refusal a second: at most 60 subjects within the window at any time.
            monitor.refused_unnamed(&subject, start + TimeDelta::seconds(n));
        }
        let kept = monitor.counts.lock().unwrap().windows.len();
        assert!(kept < 2048, "{kept} windows kept");
    }
}
