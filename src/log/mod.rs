//! The authenticated, anchored, group-committed log: an append-only sequence of opaque
//! payloads that its own database administrator can't rewrite unnoticed.
//!
//! - **Chained**: each [`Entry`] carries its position ([`Seq`], from 1, assigned by the
//!   store), its time, the previous entry's hash (`prev`, [`GENESIS`] for the first) and
//!   its own `hash`: SHA-256 over all of them and the payload, domain-separated and
//!   length-prefixed.
//! - **Authenticated**: each entry's hash is authenticated (HMAC-SHA-256) under the log's key,
//!   derived from the [`KeyPurpose::AuthenticateLog`] KEK of a [`KeyProvider`] — never
//!   from the data directory. Without that key no one can write an entry that verifies.
//! - **Anchored**: every N entries or T (see [`LogBuilder`]; 1000 entries and one second
//!   by default, checked when appending) the log signs a [`Checkpoint`] of a synced prefix
//!   (count, head hash, time) with an Ed25519 key derived from the
//!   [`KeyPurpose::SignCheckpoints`] KEK, keeps it in its store and hands it to an
//!   [`Anchor`] — [`FileAnchor`] writes it to a file in another directory; a real
//!   deployment sends it to a witness outside the host. Anyone holding the public
//!   [`CheckpointKey`] ([`Log::checkpoint_key`]) can then check the log against the anchor
//!   with [`verify_against_anchor`], without the MAC key.
//! - **Group-committed**: [`Log::append`] returns once its entry is durable. Appenders
//!   arriving while a write is under way queue their entries; when it ends, one of them
//!   writes everything queued as one batch (one transaction, one sync) and wakes the rest.
//!   One appender alone writes its entry at once, as a plain synced insert would. Nothing
//!   on a read path syncs.
//!
//! # What is checked, and when
//!
//! | check | from | key needed | catches |
//! |---|---|---|---|
//! | [`LogBuilder::open`] | the last verified checkpoint (the store's or the anchor's, each signature checked) | the KEKs | a deleted, inserted, edited, reordered entry after it; a log cut off before a checkpoint's count; a checkpoint whose head differs from the entry at its count |
//! | [`Log::verify_full`] | the first entry | the KEKs | the same, and any edit before the last checkpoint |
//! | [`verify_against_anchor`] | the first entry | the public key only | a broken chain anywhere; a log cut off before the anchored count; a log rewritten with a fresh chain (its entry at the anchored count has another hash) |
//!
//! Every failure is [`LogError::Tampered`] naming the first bad position and the
//! [`Problem`] there (never a payload byte), and a failed open writes nothing.
//!
//! An edit before the last checkpoint that keeps the entry's hash valid (the hash
//! recomputed) but can't forge its MAC is caught by `verify_full` ([`Problem::BadMac`]) and,
//! because every later hash then depends on it, by the anchor check at the checkpoint's
//! count ([`Problem::BrokenLink`] at the entry after the edit, or a
//! [`Problem::CheckpointMismatch`] if the rest of the chain was recomputed too).
//! `open` looks only from the last checkpoint on, which is what makes it fast.
//!
//! # The window a truncated tail hides in
//!
//! An acknowledged entry is durable, so a crash loses none; but only a checkpoint says how
//! many entries there were. Entries after the latest checkpoint the anchor holds — at most
//! N, or those of the last T, and any appended since the last append if appends stopped
//! (checkpoints are made when appending; call [`Log::checkpoint`] from a timer, or
//! [`Log::close`], to close that gap) — can be cut off the tail of the store, together with
//! any later checkpoint the store holds, and what remains is a sound log that can't be told
//! from one whose writer stopped earlier. Everything up to the anchored count can't be cut
//! off unnoticed. A crash right after a checkpoint (its entries present, the next ones never
//! written, or a checkpoint line half-written to the anchor file) is not tampering: the
//! checkpoint is always of entries already synced, and a torn anchor line is skipped.
//!
//! Restoring a backup older than the latest anchored checkpoint looks exactly like
//! truncation, and is reported as such.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use amanat::key::KeyDir;
//! use amanat::log::{Log, LogError, MemoryAnchor, MemoryLogStore, Problem, Seq, verify_against_anchor};
//!
//! let dir = tempfile::tempdir()?;
//! let keys = KeyDir::new(dir.path().join("keys"))?;
//! let store = Arc::new(MemoryLogStore::new());
//! let anchor = Arc::new(MemoryAnchor::new());
//!
//! let log = Log::builder(Arc::clone(&store))
//!     .anchor(Arc::clone(&anchor))
//!     .checkpoint_every(2)
//!     .open(&keys)?;
//! assert_eq!(log.append(b"consent given")?, Seq::new(1));
//! assert_eq!(log.append(b"consent withdrawn")?, Seq::new(2)); // the second anchors both
//! log.append(b"record read")?;
//! let public = log.checkpoint_key();
//! drop(log);
//!
//! // An auditor with the public key alone: the chain is sound, and holds the anchored prefix.
//! let verified = verify_against_anchor(&*store, &public, &*anchor)?;
//! assert_eq!(verified.head.map(|h| h.seq), Some(Seq::new(3)));
//!
//! // Someone erases the withdrawal from the store.
//! store.entries_mut().remove(1);
//! let reopened = Log::builder(Arc::clone(&store)).anchor(Arc::clone(&anchor)).open(&keys);
//! assert!(matches!(
//!     reopened,
//!     Err(LogError::Tampered { position, problem: Problem::Missing }) if position == Seq::new(2)
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checkpoint;
mod entry;
mod keyring;
mod snapshot;
mod store;
mod verify;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

pub use crate::error::{LogError, Problem};
pub use crate::vocab::ids::Seq;
pub use checkpoint::{
    Anchor, Checkpoint, CheckpointKey, FileAnchor, MemoryAnchor, SignedCheckpoint,
};
pub use entry::{Entry, GENESIS, Hash};
#[cfg(feature = "sqlite")]
pub(crate) use keyring::Nonce;
pub use keyring::{Handle, KeyRow};
pub(crate) use keyring::{Keyring, SealKey};
pub use snapshot::Snapshot;
use snapshot::SnapshotKey;
pub use store::{Head, LogStore, MemoryLogStore, continues};

use checkpoint::Signer;
use entry::MacKey;

use crate::key::{Kek, KeyError, KeyProvider, KeyPurpose, KeyVersion};

/// How many entries at most go unanchored, by default.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// How long at most entries go unanchored while appends go on, by default.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// What a check found sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The last entry, if the log holds any.
    pub head: Option<Head>,
    /// The latest checkpoint the log was found to contain, if any.
    pub checkpoint: Option<Checkpoint>,
}

/// Configures a [`Log`] before it opens.
#[must_use = "call open() to open the log"]
pub struct LogBuilder<S> {
    store: S,
    anchor: Option<Box<dyn Anchor>>,
    every: u64,
    interval: Duration,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl<S> fmt::Debug for LogBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogBuilder")
            .field("anchored", &self.anchor.is_some())
            .field("every", &self.every)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl<S: LogStore> LogBuilder<S> {
    /// Hands each checkpoint to `anchor` too, and checks against its latest at open.
    /// Without one, checkpoints are kept in the store alone, where whoever can delete
    /// entries can delete them too.
    pub fn anchor(mut self, anchor: impl Anchor + 'static) -> Self {
        self.anchor = Some(Box::new(anchor));
        self
    }

    /// Signs a checkpoint once `n` entries (at least 1) were appended since the last
    /// ([`DEFAULT_CHECKPOINT_EVERY`] by default).
    pub fn checkpoint_every(mut self, n: u64) -> Self {
        self.every = n.max(1);
        self
    }

    /// Signs a checkpoint at the first append once `interval` has passed since the last
    /// ([`DEFAULT_CHECKPOINT_INTERVAL`] by default).
    pub fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Takes entries' and checkpoints' times, in milliseconds since the Unix epoch, from
    /// `clock` rather than the system's.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Opens the log: takes its keys from `keys` (the newest version of each purpose;
    /// for a new, empty log, the first is made if the provider has none), then verifies every entry from the last verified
    /// checkpoint on — the store's latest or the anchor's, whichever is earlier, each with
    /// its signature checked — before anything is written.
    ///
    /// # Errors
    ///
    /// [`LogError::Tampered`] naming the first bad position, and nothing is written;
    /// [`LogError::Key`] if a key can't be had ([`KeyError::KekMissing`] for a log with
    /// entries whose provider has no key); others if the store or the anchor can't be read.
    pub fn open(self, keys: &dyn KeyProvider) -> Result<Log<S>, LogError> {
        self.open_as(keys, false).map(|(log, _)| log)
    }

    /// Opens a log restored from a backup, which may end before the anchor's latest
    /// checkpoint — what [`open`](Self::open) refuses as truncation — and returns it, if it
    /// does, with the furthest checkpoint the anchor ever signed ([`Anchor::history`]; after
    /// an earlier restore, that is not the latest), or `None` if the store holds the
    /// anchored prefix: nothing was lost. Only a log this key wrote is restored: every entry is verified from the
    /// first, its MAC among the rest, against the store's own checkpoint, and the anchor's
    /// signature is checked. Record the restore in the log, then sign a
    /// [`checkpoint`](Log::checkpoint): the anchor's latest is then the restored log's.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), but never [`Problem::Truncated`] or
    /// [`Problem::CheckpointMismatch`] for the anchor's checkpoint.
    pub fn open_restored(
        self,
        keys: &dyn KeyProvider,
    ) -> Result<(Log<S>, Option<Checkpoint>), LogError> {
        self.open_as(keys, true)
    }

    fn open_as(
        self,
        keys: &dyn KeyProvider,
        restoring: bool,
    ) -> Result<(Log<S>, Option<Checkpoint>), LogError> {
        let stored = self.store.latest_checkpoint()?;
        let anchored = match &self.anchor {
            Some(anchor) => anchor.latest()?,
            None => None,
        };
        // Keys are made for a new log only: for one that has entries, a missing key is
        // a missing key, and a fresh one would only make every entry look forged.
        let new = self.store.head()?.is_none() && stored.is_none() && anchored.is_none();
        let kek = current(keys, KeyPurpose::AuthenticateLog, new)?;
        let mac = MacKey::new(&kek)?;
        let keyring = Keyring::new(&kek)?;
        let snapshot_key = SnapshotKey::new(&kek)?;
        drop(kek);
        let seed = zeroize::Zeroizing::new(entry::derive(
            &current(keys, KeyPurpose::SignCheckpoints, new)?,
            b"amanat/log/checkpoint-key/v1",
        )?);
        let signer = Signer::new(&seed);
        let public = signer.public();

        let (head, behind) = if restoring {
            let own = signed_checkpoints(stored, None, &public)?;
            let head = verify::walk(&self.store, Some(&mac), own, true)?;
            let witnessed = signed_checkpoints(None, anchored, &public)?;
            let holds = verify::walk(&self.store, None, witnessed.clone(), false).is_ok();
            // What the restore reports lost: up to the furthest the anchor ever signed, so
            // that a second restore, which cuts the record of the first, still says how far
            // the log once reached. Lines that don't verify are no witness of anything.
            let furthest = match &self.anchor {
                Some(anchor) if !holds => anchor
                    .history()?
                    .into_iter()
                    .filter(|c| c.check(&public).is_ok())
                    .map(|c| c.checkpoint)
                    .chain(witnessed.first().copied())
                    .max_by_key(|c| c.count),
                _ => None,
            };
            (head, furthest)
        } else {
            let checkpoints = signed_checkpoints(stored, anchored, &public)?;
            (
                verify::walk(&self.store, Some(&mac), checkpoints, false)?,
                None,
            )
        };

        // The anchor's count when there is one: the next checkpoint is due relative to
        // what the witness holds, not to what the store alone holds — unless the store
        // falls short of it, after a restore.
        let published = if self.anchor.is_some() && behind.is_none() {
            anchored
        } else {
            stored
        };
        let (durable, durable_hash) = head.map_or((0, GENESIS), |h| (h.seq.get(), h.hash));
        let log = Log {
            store: self.store,
            mac,
            snapshot_key,
            keyring,
            signer,
            anchor: self.anchor,
            every: self.every,
            interval: self.interval,
            clock: self.clock,
            queue: Mutex::new(Queue {
                next: durable + 1,
                tail: durable_hash,
                pending: Vec::new(),
                keys: Vec::new(),
                keys_alone: false,
                writing: false,
                durable,
                durable_hash,
                failed: None,
                waiters: Vec::new(),
            }),
            checkpoints: Mutex::new(Checkpointing {
                count: published.map_or(0, |c| c.checkpoint.count.get()),
                at: Instant::now(),
                failure: None,
            }),
        };
        Ok((log, behind))
    }
}

/// The newest version of `purpose`'s KEK; made if the provider has none and the log is
/// `new`.
fn current(keys: &dyn KeyProvider, purpose: KeyPurpose, new: bool) -> Result<Kek, LogError> {
    let version = match keys.versions(purpose)?.last() {
        Some(version) => *version,
        None if new => keys.create(purpose)?,
        None => {
            return Err(LogError::Key(KeyError::KekMissing {
                purpose,
                version: KeyVersion::new(1),
            }));
        }
    };
    Ok(keys.key(purpose, version)?)
}

/// The authenticated log over a [`LogStore`]: see the [module](self) documentation.
pub struct Log<S> {
    store: S,
    mac: MacKey,
    snapshot_key: SnapshotKey,
    #[cfg_attr(
        not(feature = "sqlite"),
        allow(dead_code, reason = "only an operator's own log seals entries")
    )]
    keyring: Keyring,
    signer: Signer,
    anchor: Option<Box<dyn Anchor>>,
    every: u64,
    interval: Duration,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    queue: Mutex<Queue>,
    checkpoints: Mutex<Checkpointing>,
}

/// The appenders' shared state.
struct Queue {
    /// The position the next entry gets.
    next: u64,
    /// The hash of the last entry queued: the next one links to it.
    tail: Hash,
    /// Entries waiting for a writer.
    pending: Vec<Entry>,
    /// Key rows waiting for a writer: each is written with the entries queued with it, or
    /// before them.
    keys: Vec<KeyRow>,
    /// Whether key rows were queued with no entry: the next `wait_durable` writes them.
    keys_alone: bool,
    /// Whether an appender is writing a batch now.
    writing: bool,
    /// The last position known durable, and its hash.
    durable: u64,
    durable_hash: Hash,
    /// The error a write failed with: the log is stopped.
    failed: Option<LogError>,
    /// The appenders waiting for a write to end, in the order they began to wait.
    waiters: Vec<Waiting>,
}

/// An appender waiting for the write under way to end, and the position it waits for.
struct Waiting {
    seq: u64,
    parked: Arc<Parked>,
}

/// A thread parked until it is woken.
struct Parked {
    thread: std::thread::Thread,
    woken: AtomicBool,
}

struct Checkpointing {
    /// The count of the last checkpoint published.
    count: u64,
    at: Instant,
    failure: Option<LogError>,
}

impl<S> fmt::Debug for Log<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.queue.lock();
        f.debug_struct("Log")
            .field("durable", &queue.durable)
            .field("checkpoint_key", &self.signer.public())
            .finish_non_exhaustive()
    }
}

impl<S: LogStore> Log<S> {
    /// A builder for the log over `store`.
    pub fn builder(store: S) -> LogBuilder<S> {
        LogBuilder {
            store,
            anchor: None,
            every: DEFAULT_CHECKPOINT_EVERY,
            interval: DEFAULT_CHECKPOINT_INTERVAL,
            clock: Arc::new(|| chrono::Utc::now().timestamp_millis()),
        }
    }

    /// Appends `payload` and returns its position once it is durable.
    ///
    /// Concurrent appenders share one write: the entry is queued, and the first appender to
    /// find no write under way takes everything queued and writes it as one batch while the
    /// others wait for their position to be durable. Signs a checkpoint afterwards if one is
    /// due — that append then also waits for the checkpoint to be kept and published —;
    /// a checkpoint that fails does not fail the append (the entry is durable), is
    /// tried again at the next, and shows in [`last_checkpoint_error`](Self::last_checkpoint_error).
    ///
    /// # Errors
    ///
    /// The store's error if the batch holding the entry could not be written — whether it
    /// reached the disk is then unknown, and the log stops: every later append is
    /// [`LogError::Stopped`]; reopen to go on from what was kept.
    pub fn append(&self, payload: &[u8]) -> Result<Seq, LogError> {
        let seq = self.submit(&[payload])?;
        self.wait_durable(seq)?;
        Ok(seq)
    }

    /// Appends `payloads` as consecutive entries, written in one batch — all of them
    /// durable, or after a crash none — and returns the last one's position once they are
    /// durable. An empty list appends nothing and returns the last position queued.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append).
    pub fn append_all(&self, payloads: &[&[u8]]) -> Result<Seq, LogError> {
        let seq = self.submit(payloads)?;
        self.wait_durable(seq)?;
        Ok(seq)
    }

    /// Queues `payloads` as consecutive entries, which the next write takes together, and
    /// returns the last one's position at once, without waiting for it to be durable: for
    /// entries a crash may lose (see [`wait_durable`](Self::wait_durable)). Queued entries
    /// are written by the next [`append`](Self::append) or `wait_durable`, in order.
    ///
    /// # Errors
    ///
    /// [`LogError::Stopped`] if a write failed before; nothing is queued then.
    pub fn submit(&self, payloads: &[&[u8]]) -> Result<Seq, LogError> {
        self.submit_with(payloads, Vec::new())
    }

    /// As [`submit`](Self::submit), with `keys`: rows of the keyring written in the batch
    /// that carries the first of `payloads`, all or none with it — a new key with the first
    /// entry sealed under it, a shredded one with the entry that records the erasure.
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit).
    pub(crate) fn submit_with(
        &self,
        payloads: &[&[u8]],
        keys: Vec<KeyRow>,
    ) -> Result<Seq, LogError> {
        let mut queue = self.queue.lock();
        if let Some(failed) = &queue.failed {
            return Err(LogError::Stopped(failed.to_string()));
        }
        queue.keys_alone |= payloads.is_empty() && !keys.is_empty();
        queue.keys.extend(keys);
        for payload in payloads {
            let seq = Seq::new(queue.next);
            queue.next += 1;
            // Sealed under the lock: the link to the previous entry is only known here, and
            // a hash and a MAC of a small payload cost a microsecond or two against a
            // sync's ~100.
            let entry = Entry::seal(seq, (self.clock)(), queue.tail, payload.to_vec(), &self.mac);
            queue.tail = entry.hash;
            queue.pending.push(entry);
        }
        Ok(Seq::new(queue.next - 1))
    }

    /// Returns once every entry up to `seq` is durable, writing what is queued if no other
    /// appender is writing; signs a checkpoint afterwards if one is due.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append).
    pub fn wait_durable(&self, seq: Seq) -> Result<(), LogError> {
        let mut queue = self.queue.lock();
        loop {
            // Key rows queued with no entry are written too: an entry sealed under one
            // may follow, in a batch of its own.
            if queue.durable >= seq.get() && !queue.keys_alone {
                break;
            }
            if let Some(failed) = &queue.failed {
                return Err(failed.clone());
            }
            if queue.writing {
                let parked = Arc::new(Parked {
                    thread: std::thread::current(),
                    woken: AtomicBool::new(false),
                });
                queue.waiters.push(Waiting {
                    seq: seq.get(),
                    parked: Arc::clone(&parked),
                });
                parking_lot::MutexGuard::unlocked(&mut queue, || {
                    // `park` may return before `unpark`: the flag says whether it was woken.
                    while !parked.woken.load(Ordering::Acquire) {
                        std::thread::park();
                    }
                });
                continue;
            }
            // No write under way and ours is not durable: ours is queued, so we lead.
            let batch = std::mem::take(&mut queue.pending);
            let keys = std::mem::take(&mut queue.keys);
            queue.keys_alone = false;
            queue.writing = true;
            let result =
                parking_lot::MutexGuard::unlocked(&mut queue, || self.store.append(&batch, &keys));
            queue.writing = false;
            match (result, batch.last()) {
                (Ok(()), Some(last)) => {
                    queue.durable = last.seq.get();
                    queue.durable_hash = last.hash;
                }
                (Ok(()), None) => {}
                (Err(e), _) => queue.failed = Some(e),
            }
            let woken = Self::to_wake(&mut queue);
            parking_lot::MutexGuard::unlocked(&mut queue, || {
                for parked in woken {
                    parked.woken.store(true, Ordering::Release);
                    parked.thread.unpark();
                }
            });
        }
        drop(queue);
        self.checkpoint_if_due();
        Ok(())
    }

    /// The appenders to wake once a write has ended: those whose entries it made durable
    /// (all of them, if it failed), and the first of the others, to write the next batch.
    /// The rest sleep on: woken with the others to find their entries queued still, each
    /// would cost two context switches for nothing, and a wait is mostly that.
    fn to_wake(queue: &mut Queue) -> Vec<Arc<Parked>> {
        let (durable, failed) = (queue.durable, queue.failed.is_some());
        let mut woken = Vec::new();
        let mut next = None;
        queue.waiters.retain(|waiting| {
            if failed || waiting.seq <= durable {
                woken.push(Arc::clone(&waiting.parked));
                false
            } else if next.is_none() {
                next = Some(Arc::clone(&waiting.parked));
                false
            } else {
                true
            }
        });
        woken.extend(next);
        woken
    }

    /// Why the log stopped, if a write failed: every append after it is refused, and
    /// the log must be opened again to go on from what it kept.
    pub fn stopped(&self) -> Option<LogError> {
        self.queue.lock().failed.clone()
    }

    /// Whether entries are queued that are not durable yet.
    pub fn has_pending(&self) -> bool {
        let queue = self.queue.lock();
        queue.next - 1 > queue.durable
    }

    fn checkpoint_if_due(&self) {
        // Never wait behind another appender's checkpoint: it covers ours, or the next will.
        let Some(mut state) = self.checkpoints.try_lock() else {
            return;
        };
        let durable = self.queue.lock().durable;
        let due = durable.saturating_sub(state.count) >= self.every
            || (durable > state.count && state.at.elapsed() >= self.interval);
        if due {
            let _ = self.checkpoint_locked(&mut state);
        }
    }

    /// Signs a checkpoint of everything durable now, keeps it in the store and publishes it
    /// to the anchor; `None` if there is nothing new to checkpoint. Call it from a timer to
    /// keep the [window](self#the-window-a-truncated-tail-hides-in) short when appends are
    /// rare.
    ///
    /// # Errors
    ///
    /// The store's or the anchor's error if it could not be kept or published (it is tried
    /// again at the next checkpoint).
    pub fn checkpoint(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        let mut state = self.checkpoints.lock();
        self.checkpoint_locked(&mut state)
    }

    fn checkpoint_locked(
        &self,
        state: &mut Checkpointing,
    ) -> Result<Option<SignedCheckpoint>, LogError> {
        let (durable, head) = {
            let queue = self.queue.lock();
            (queue.durable, queue.durable_hash)
        };
        if durable == 0 || durable <= state.count {
            return Ok(None);
        }
        let signed = self.signer.sign(Checkpoint {
            count: Seq::new(durable),
            head,
            at_ms: (self.clock)(),
        });
        // The store first: a crash before the anchor has it leaves a checkpoint the anchor
        // lacks, which is no tampering; the other order would leave an anchored count
        // whose checkpoint the store never kept — harmless too, but the store's copy is the
        // one open finds first.
        let published = self.store.put_checkpoint(&signed).and_then(|()| {
            self.anchor
                .as_ref()
                .map_or(Ok(()), |anchor| anchor.publish(&signed))
        });
        state.at = Instant::now();
        match published {
            Ok(()) => {
                state.count = durable;
                state.failure = None;
                Ok(Some(signed))
            }
            Err(e) => {
                state.failure = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Why the last checkpoint made while appending failed, if it did and none has
    /// succeeded since.
    pub fn last_checkpoint_error(&self) -> Option<LogError> {
        self.checkpoints.lock().failure.clone()
    }

    /// Signs a last checkpoint, so that nothing appended is left in the window.
    ///
    /// # Errors
    ///
    /// As [`checkpoint`](Self::checkpoint).
    pub fn close(self) -> Result<(), LogError> {
        self.checkpoint().map(|_| ())
    }

    /// The public key checkpoints are signed with: give it to auditors, and to
    /// [`verify_against_anchor`].
    pub fn checkpoint_key(&self) -> CheckpointKey {
        self.signer.public()
    }

    /// The last durable entry, if any: from memory, without reading the store.
    pub fn head(&self) -> Option<Head> {
        let queue = self.queue.lock();
        (queue.durable > 0).then(|| Head {
            seq: Seq::new(queue.durable),
            hash: queue.durable_hash,
        })
    }

    /// The store under the log.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives `visit` each entry from position `from` on, each checked (hash, MAC, position,
    /// link to the one before) as it is read. Reads what is durable; never syncs.
    ///
    /// # Errors
    ///
    /// [`LogError::Tampered`] at the first entry that fails a check; whatever `visit`
    /// returns; the store's error if it can't be read.
    pub fn read_from(
        &self,
        from: Seq,
        visit: &mut dyn FnMut(Entry) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        let mut walk = verify::Walk::new(from, Some(&self.mac), Vec::new());
        self.store.read_from(from.max(Seq::FIRST), &mut |entry| {
            walk.visit(&entry)?;
            visit(entry)
        })
    }

    /// Keeps `body` as a snapshot of the entries from `from` to `to`, which must be
    /// durable: sealed under a key derived from the log's, authenticated by a MAC under the
    /// log's key, and bound to the hash of the entry at `to`, which
    /// [`snapshots`](Self::snapshots) checks it against. Returns it as the store keeps it.
    ///
    /// # Errors
    ///
    /// [`LogError::Tampered`] if the entry at `to` is missing or does not verify;
    /// [`LogError::Stopped`] if `to` is not durable yet; the store's error if it can't be
    /// written.
    pub fn put_snapshot(&self, from: Seq, to: Seq, body: Vec<u8>) -> Result<Snapshot, LogError> {
        if to.get() > self.queue.lock().durable {
            return Err(LogError::Stopped(format!(
                "a snapshot to entry {to}, which is not durable yet"
            )));
        }
        let head = self.entry_hash(to)?;
        let snapshot = Snapshot::seal(&self.mac, &self.snapshot_key, from, to, head, body)?;
        self.store.put_snapshot(&snapshot)?;
        Ok(snapshot)
    }

    #[cfg_attr(
        not(feature = "sqlite"),
        allow(dead_code, reason = "only an operator's own log seals entries")
    )]
    /// The keyring this log seals entries with.
    pub(crate) fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    #[cfg_attr(
        not(feature = "sqlite"),
        allow(dead_code, reason = "only an operator's own log seals entries")
    )]
    /// The key `handle` names, for the entry at `position` sealed under it: `None` if it
    /// was shredded.
    ///
    /// # Errors
    ///
    /// [`LogError::Tampered`] with [`Problem::KeyRow`] at `position` if the store holds no
    /// row for it, or one that does not verify; the store's error if it can't be read.
    pub(crate) fn key(&self, handle: &Handle, position: Seq) -> Result<Option<SealKey>, LogError> {
        let tampered = LogError::Tampered {
            position,
            problem: Problem::KeyRow,
        };
        let row = self.store.key(handle)?.ok_or_else(|| tampered.clone())?;
        if row.handle != *handle {
            return Err(tampered);
        }
        self.keyring.open(&row).map_err(|_| tampered)
    }

    /// Every snapshot the store keeps, each checked — its MAC under the log's key, its seal,
    /// that it follows the one before it from the first position on, and that it ends at
    /// an entry the store holds, sound, with the hash it names — and its body opened.
    ///
    /// # Errors
    ///
    /// [`LogError::Tampered`] with [`Problem::SnapshotMismatch`] where the first that
    /// fails ends; the store's error if it can't be read.
    pub fn snapshots(&self) -> Result<Vec<Snapshot>, LogError> {
        let mut next = Seq::FIRST;
        let mut opened = Vec::new();
        for snapshot in self.store.snapshots()? {
            let to = snapshot.to;
            let fits = snapshot.from == next
                && snapshot.to >= snapshot.from
                && self.entry_hash(snapshot.to).ok() == Some(snapshot.head);
            match snapshot.open(&self.mac, &self.snapshot_key) {
                Some(snapshot) if fits => opened.push(snapshot),
                _ => {
                    return Err(LogError::Tampered {
                        position: to,
                        problem: Problem::SnapshotMismatch,
                    });
                }
            }
            next = to.next();
        }
        Ok(opened)
    }

    /// The hash of the entry at `seq`, once its hash and MAC are checked.
    fn entry_hash(&self, seq: Seq) -> Result<Hash, LogError> {
        let mut found = None;
        let read = self.store.read_from(seq, &mut |entry| {
            found = Some(entry);
            Err(LogError::Stopped("one entry read".into()))
        });
        match (found, read) {
            (Some(entry), _) if entry.seq == seq => {
                if !entry.hash_is_sound() {
                    return Err(LogError::Tampered {
                        position: seq,
                        problem: Problem::HashMismatch,
                    });
                }
                if !self.mac.verify(&entry.hash, &entry.mac) {
                    return Err(LogError::Tampered {
                        position: seq,
                        problem: Problem::BadMac,
                    });
                }
                Ok(entry.hash)
            }
            (None, Err(failed)) if !matches!(failed, LogError::Stopped(_)) => Err(failed),
            _ => Err(LogError::Tampered {
                position: seq,
                problem: Problem::Missing,
            }),
        }
    }

    /// Verifies the whole log from its first entry, MACs included, and against the store's
    /// latest checkpoint and the anchor's: catches an edit before the last checkpoint,
    /// which [`open`](LogBuilder::open) does not look for.
    ///
    /// # Errors
    ///
    /// [`LogError::Tampered`] naming the first bad position; others if the store or the
    /// anchor can't be read.
    pub fn verify_full(&self) -> Result<Verified, LogError> {
        let public = self.signer.public();
        let anchored = match &self.anchor {
            Some(anchor) => anchor.latest()?,
            None => None,
        };
        let checkpoints = signed_checkpoints(self.store.latest_checkpoint()?, anchored, &public)?;
        let latest = checkpoints.iter().max_by_key(|c| c.count).copied();
        let head = verify::walk(&self.store, Some(&self.mac), checkpoints, true)?;
        Ok(Verified {
            head,
            checkpoint: latest,
        })
    }
}

/// The checkpoints among these, each of whose signature must verify.
fn signed_checkpoints(
    stored: Option<SignedCheckpoint>,
    anchored: Option<SignedCheckpoint>,
    key: &CheckpointKey,
) -> Result<Vec<Checkpoint>, LogError> {
    let mut checkpoints = Vec::new();
    for signed in stored.iter().chain(anchored.iter()) {
        signed.check(key)?;
        checkpoints.push(signed.checkpoint);
    }
    Ok(checkpoints)
}

/// An auditor's check, with the public [`CheckpointKey`] alone (no MAC key): recomputes the
/// hash chain from the first entry, checks the signature of the anchor's latest checkpoint
/// (and of the store's), and that the log holds that prefix with that head hash. A log cut
/// off before the anchored count, or rewritten with a fresh chain, fails here. What it
/// can't see without the MAC key: an entry appended after the anchored count by someone
/// else (a sound hash, a forged MAC) — [`Log::verify_full`] sees that.
///
/// If the anchor holds no checkpoint, [`Verified::checkpoint`] is `None` and only the
/// chain's consistency was shown: treat an empty anchor beside a non-empty log as suspect.
///
/// # Errors
///
/// [`LogError::Tampered`] naming the first bad position; others if the store or the anchor
/// can't be read.
pub fn verify_against_anchor<S: LogStore + ?Sized>(
    store: &S,
    key: &CheckpointKey,
    anchor: &dyn Anchor,
) -> Result<Verified, LogError> {
    let anchored = anchor.latest()?;
    let checkpoints = signed_checkpoints(store.latest_checkpoint()?, anchored, key)?;
    let head = verify::walk(store, None, checkpoints, true)?;
    Ok(Verified {
        head,
        checkpoint: anchored.map(|c| c.checkpoint),
    })
}

#[cfg(test)]
mod tests;
