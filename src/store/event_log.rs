//! The operator's one log: the changes replay needs and the entries of the audit trail, as
//! entries of one [authenticated log](crate::log), so neither can be edited, deleted,
//! inserted, reordered or cut short below the last anchored checkpoint unnoticed.
//!
//! Two durability classes:
//!
//! - **A change** (a consent given or withdrawn, a record kept, a deadline, a hold, a
//!   destruction, a notice, a request) is one entry: the [`Event`](crate::audit::Event)
//!   as its audit entry, which the replay applies too. It is acknowledged once durable, so
//!   a crash keeps the change and its audit entry together, or neither. Entries reach the
//!   log in the order the audit log numbered them: a change is durable only with every
//!   audit entry numbered before it.
//! - **An audit-only entry** (an authorization, a read count) is queued and written with
//!   the next change, or by a background flush within the operator's
//!   [`audit_sync_within`](super::OperatorBuilder::audit_sync_within) (100 ms by default),
//!   whichever comes first. A crash can lose those of the last such interval, and never
//!   a sync on the read path.
//!
//! Each entry's payload is one tag byte — `c` for a change, `a` for an audit-only entry —
//! and the audit entry's JSON.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use dashmap::DashMap;
use parking_lot::{Condvar, Mutex};
use zeroize::Zeroizing;

use crate::audit::{AuditEntry, AuditEvent, AuditLog, AuditStore};
use crate::error::{AuditError, LogError, StoreError};
use crate::event::{Change, Journal};
use crate::log::{Handle, KeyRow, Log, LogStore, Nonce, SealKey, Seq, Snapshot};
use crate::payload;
use crate::vocab::SubjectId;

use super::sealed_entry;
use super::snapshot_body::{self, SnapshotBody};

/// The log, shared by the journal's and the audit log's side of it.
pub(crate) struct EventLog {
    log: Log<Arc<dyn LogStore>>,
    /// Audit entries acknowledged and not yet handed to the log, oldest first: they go with
    /// the next change, or with the next flush.
    pending: Mutex<Pending>,
    /// The subjects' keys lately used, so that an entry about a subject seals without a
    /// read of the store.
    keys: KeyCache,
    /// The rows that shred keys being erased, until the erasure that names them is queued.
    erasing: Mutex<HashMap<Handle, KeyRow>>,
    /// Tells the flusher to end, and wakes it.
    stop: Arc<Stop>,
    /// Set once the operator has closed: an audit log or journal kept past it must not
    /// write to a directory whose lock it no longer holds.
    closed: std::sync::atomic::AtomicBool,
    /// The JSON of the last audit entry the replay saw on its way, which the audit chain
    /// goes on from: one pass over the log at open, not two.
    last: Mutex<Option<Vec<u8>>>,
    /// The changes the replay read from the entries after the last snapshot, ready to be
    /// kept as the next one once the operator has opened.
    unsnapshotted: Mutex<Option<Unsnapshotted>>,
    /// How many changes the entries after the last snapshot must hold for the open to keep
    /// a new one.
    snapshot_after: usize,
    /// The snapshots, once read and checked for the open's [`consents_hint`]: the replay
    /// takes them from here rather than read them twice.
    ///
    /// [`consents_hint`]: Self::consents_hint
    snapshots: Mutex<Option<Vec<Snapshot>>>,
}

/// What waits for the next write.
#[derive(Default)]
struct Pending {
    payloads: Vec<Vec<u8>>,
    /// The rows of keys made for the entries queued: written with them, or before.
    keys: Vec<KeyRow>,
}

/// How many keys the cache holds at most, each way; it is emptied when full, so that a
/// million subjects don't stay in memory after a replay.
const KEYS_CACHED: usize = 1 << 16;

/// Subjects' keys by subject (for sealing) and by handle (for opening; `None` once
/// shredded). Sharded: an authorization seals its audit entry on the caller's thread, and
/// must not wait for another subject's.
#[derive(Default)]
struct KeyCache {
    by_subject: DashMap<SubjectId, Arc<SealKey>>,
    by_handle: DashMap<Handle, Option<Arc<SealKey>>>,
    /// About how many each map holds, counted as they fill: `DashMap::len` locks every
    /// shard in turn, and asked for each new subject it kept sixteen granting threads
    /// queued on the shards (measured).
    subjects_cached: AtomicUsize,
    handles_cached: AtomicUsize,
}

/// An event's JSON, and the key and nonce it is sealed with, if it is.
struct Encoded {
    json: Zeroizing<Vec<u8>>,
    seal: Option<(Arc<SealKey>, Nonce)>,
}

/// The changes read after the last snapshot, encoded as a snapshot keeps them.
struct Unsnapshotted {
    from: Seq,
    to: Seq,
    body: Vec<u8>,
    changes: usize,
}

/// Whether the flusher should end, and what it sleeps on: apart from the log, so that the
/// flusher holds the log only while it writes.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog")
            .field("log", &self.log)
            .field("pending", &self.pending.lock().payloads.len())
            .finish_non_exhaustive()
    }
}

impl EventLog {
    /// The event log over `log`, with a thread that writes queued audit entries at least
    /// every `flush_within`.
    pub(crate) fn new(
        log: Log<Arc<dyn LogStore>>,
        flush_within: Duration,
        snapshot_after: usize,
    ) -> Arc<Self> {
        let stop = Arc::new(Stop::default());
        let this = Arc::new(Self {
            log,
            pending: Mutex::new(Pending::default()),
            keys: KeyCache::default(),
            erasing: Mutex::new(HashMap::new()),
            stop: Arc::clone(&stop),
            closed: std::sync::atomic::AtomicBool::new(false),
            last: Mutex::new(None),
            unsnapshotted: Mutex::new(None),
            snapshot_after,
            snapshots: Mutex::new(None),
        });
        let weak = Arc::downgrade(&this);
        // A thread of its own, so that the bound holds when nothing else is written; it
        // holds the log only while it flushes, and ends once the log is closed or dropped.
        // Should the system refuse one, audit-only entries wait for the next change or
        // flush instead: still written in order, only later.
        let _detached = std::thread::Builder::new()
            .name("amanat-audit-flush".into())
            .spawn(move || flusher(&weak, &stop, flush_within));
        this
    }

    /// The log under it.
    pub(crate) fn log(&self) -> &Log<Arc<dyn LogStore>> {
        &self.log
    }

    /// Hands the queued entries, with the keys staged for them, to the log as consecutive
    /// entries of one batch, and returns once they are durable.
    fn write(&self) -> Result<(), LogError> {
        let last = {
            let mut pending = self.pending.lock();
            if self.is_closed() {
                return Err(closed());
            }
            if pending.payloads.is_empty() && pending.keys.is_empty() && !self.log.has_pending() {
                return Ok(());
            }
            let pending = &mut *pending;
            let keys = std::mem::take(&mut pending.keys);
            let payloads: Vec<&[u8]> = pending.payloads.iter().map(Vec::as_slice).collect();
            // Queued under the lock, so entries reach the log in the order the audit log
            // numbered them, and a change after the entries that preceded it; a key staged
            // for an entry goes with it, or before it.
            let last = self.log.submit_with(&payloads, keys)?;
            pending.payloads.clear();
            last
        };
        self.log.wait_durable(last)
    }

    /// Every entry from `from` on — only the changes unless `audit_only` — with whether it
    /// is a change, and its audit entry. `note` is called first with each position and
    /// payload.
    fn every(
        &self,
        from: Seq,
        audit_only: bool,
        note: &mut dyn FnMut(Seq, &[u8]),
        visit: &mut dyn FnMut(bool, AuditEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut failed = None;
        let read = self.log.read_from(from, &mut |entry| {
            note(entry.seq, &entry.payload);
            // Not parsed when not wanted: at open, half the entries are audit-only.
            if !audit_only
                && matches!(
                    entry.payload.first(),
                    Some(&(payload::AUDIT_TAG | payload::SEALED_AUDIT))
                )
            {
                return Ok(());
            }
            let (change, audited) = self.open(entry.seq, &entry.payload)?;
            if let AuditEvent::SubjectErased { keys } = &audited.event {
                self.check_shredded(keys, entry.seq)?;
            }
            // An audit-only entry erased with its subject: the trail shows it, the replay
            // has nothing to apply. An erased change goes to the replay, for the numbers
            // and ids it took.
            if !audit_only && !change {
                return Ok(());
            }
            if let Err(e) = visit(change, audited) {
                failed = Some(e);
                // Stops the read; the visitor's own error is returned below.
                return Err(LogError::Stopped("read stopped".into()));
            }
            Ok(())
        });
        match (failed, read) {
            (Some(e), _) => Err(e),
            (None, read) => read.map_err(StoreError::from),
        }
    }

    /// The audit entry the payload at `position` holds, and whether it is a change. One
    /// sealed under a shredded key is shown as [`Erased`](AuditEvent::Erased).
    ///
    /// # Errors
    ///
    /// [`LogError::Tampered`] with [`Problem::KeyRow`](crate::log::Problem::KeyRow) if
    /// its key's row is missing or does not verify; [`StoreError::Corrupt`] (as
    /// [`LogError::Store`]) for a payload this library did not write.
    fn open(&self, position: Seq, payload: &[u8]) -> Result<(bool, AuditEntry), LogError> {
        let corrupt = |why: String| {
            LogError::Store(StoreError::Corrupt(format!("log entry {position}: {why}")))
        };
        if payload::sealed_kind(payload).is_none() {
            return payload::from_log_payload(payload).map_err(corrupt);
        }
        let header = payload::header(payload).map_err(corrupt)?;
        let key = self.key_of(&header.handle, position)?;
        match key {
            Some(key) => sealed_entry::open(&header, &key)
                .map(|entry| (header.change, entry))
                .map_err(corrupt),
            None => Ok((header.change, header.erased())),
        }
    }

    /// Checks that each key an erasure at `position` names is shredded: a row put back
    /// from a copy made before it — its MAC sound, for it was the log's — would make the
    /// erased subject's entries read again.
    fn check_shredded(&self, keys: &[String], position: Seq) -> Result<(), LogError> {
        let tampered = LogError::Tampered {
            position,
            problem: crate::log::Problem::KeyRow,
        };
        for key in keys {
            let handle = hex::decode(key)
                .ok()
                .and_then(|bytes| Handle::try_from(bytes).ok())
                .ok_or_else(|| tampered.clone())?;
            if self.key_of(&handle, position)?.is_some() {
                return Err(tampered);
            }
        }
        Ok(())
    }

    /// The key `handle` names, for the entry at `position`: `None` once shredded.
    fn key_of(&self, handle: &Handle, position: Seq) -> Result<Option<Arc<SealKey>>, LogError> {
        if let Some(known) = self.keys.by_handle.get(handle) {
            return Ok(known.clone());
        }
        let key = self.log.key(handle, position)?.map(Arc::new);
        self.cache_handle(*handle, key.clone());
        Ok(key)
    }

    /// Keeps `key` as the one `handle` names (`None`: shredded), first emptying the
    /// cache if it holds its bound.
    fn cache_handle(&self, handle: Handle, key: Option<Arc<SealKey>>) {
        if self.keys.handles_cached.load(Ordering::Relaxed) >= KEYS_CACHED {
            self.keys.handles_cached.store(0, Ordering::Relaxed);
            self.keys.by_handle.clear();
        }
        if self.keys.by_handle.insert(handle, key).is_none() {
            self.keys.handles_cached.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `subject`'s key: the one this process last sealed their entries under, or a new one,
    /// staged to be written with the entry about to be sealed under it (or before it).
    ///
    /// The store is not asked for the key it holds: a lookup by tag read pages a write had
    /// just made stale — 26 µs a grant alone, 50 µs with sixteen threads, measured — where
    /// a second key for a subject costs a row. A subject has a key for each process that
    /// wrote about them after this cache let theirs go; an erasure shreds them all.
    fn key_for(&self, subject: &SubjectId) -> Arc<SealKey> {
        if let Some(key) = self.keys.by_subject.get(subject) {
            return Arc::clone(&key);
        }
        if self.keys.subjects_cached.load(Ordering::Relaxed) >= KEYS_CACHED {
            self.keys.subjects_cached.store(0, Ordering::Relaxed);
            self.keys.by_subject.clear();
        }
        // Made under the subject's shard: two entries of a new subject written at once get
        // one key, not two.
        let key = self
            .keys
            .by_subject
            .entry(subject.clone())
            .or_insert_with(|| {
                self.keys.subjects_cached.fetch_add(1, Ordering::Relaxed);
                let (row, key) = self.log.keyring().create(subject.as_str().as_bytes());
                self.pending.lock().keys.push(row);
                Arc::new(key)
            });
        Arc::clone(&key)
    }

    /// Stages the shredding of every live key of `subject`, and returns their handles: the
    /// rows go with the [`SubjectErased`](AuditEvent::SubjectErased) entry that names
    /// them, in its batch. From now on, an entry about the subject gets a new key.
    ///
    /// # Errors
    ///
    /// The log's error if what is queued can't be written first, or the keys can't be read.
    pub(crate) fn prepare_erasure(&self, subject: &SubjectId) -> Result<Vec<Handle>, LogError> {
        // A key made for an entry still queued is in the store once this returns.
        self.write()?;
        let name = subject.as_str().as_bytes();
        let keyring = self.log.keyring();
        let rows = self.log.store().keys_tagged(&keyring.tag(name))?;
        let mut erasing = self.erasing.lock();
        let handles: Vec<Handle> = rows
            .iter()
            .filter(|row| matches!(keyring.open(row), Ok(Some(_))))
            .map(|row| row.handle)
            .collect();
        for handle in &handles {
            erasing.insert(*handle, keyring.shredded(*handle));
        }
        drop(erasing);
        self.keys.by_subject.remove(subject);
        Ok(handles)
    }

    /// Once the erasure naming `handles` is durable (`done`) or failed: nothing is left
    /// staged, and what was sealed under them is read no more if it is done. (A failed
    /// write stops the log; the next open shows whether the erasure reached the disk.)
    pub(crate) fn erased(&self, handles: &[Handle], done: bool) {
        let mut erasing = self.erasing.lock();
        for handle in handles {
            erasing.remove(handle);
        }
        drop(erasing);
        if done {
            for handle in handles {
                self.cache_handle(*handle, None);
            }
        }
    }

    /// Makes what the log deleted unreadable in its files ([`LogStore::scrub`]).
    ///
    /// # Errors
    ///
    /// The store's, if it can't yet.
    pub(crate) fn scrub(&self) -> Result<(), LogError> {
        self.log.store().scrub()
    }

    /// Every audit entry kept, the changes' among them, oldest first.
    pub(crate) fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = Vec::new();
        self.every(Seq::FIRST, true, &mut |_, _| {}, &mut |_, entry| {
            entries.push(entry);
            Ok(())
        })?;
        Ok(entries)
    }

    /// The last audit entry the replay saw.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if it is not an entry this library wrote.
    pub(crate) fn noted_last(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.last
            .lock()
            .take()
            .as_deref()
            .map(|payload| {
                // Its position only names it in an error: the replay read it already.
                self.open(Seq::FIRST, payload)
                    .map(|(_, entry)| entry)
                    .map_err(StoreError::from)
            })
            .transpose()
    }

    /// Queues `entry`, the audit entry of a change, to be written as one entry tagged
    /// `tag`, after every entry queued before it.
    fn queue(&self, change: bool, entry: &AuditEntry) -> Result<(), AuditError> {
        self.queue_encoded(change, entry, &self.encode(&entry.event)?)
    }

    /// What an entry for `event` needs that its place in the log does not change: its
    /// JSON, and the subject's key and a nonce if it is sealed. Made before the audit log's
    /// lock, which every change waits for in turn.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] if the event can't be written as JSON (never, in practice).
    fn encode(&self, event: &AuditEvent) -> Result<Encoded, AuditError> {
        let json = payload::zeroized_json(event).map_err(|e| AuditError::Io(e.to_string()))?;
        let seal = event
            .sealed_for()
            .map(|subject| (self.key_for(subject), Nonce::random()));
        Ok(Encoded { json, seal })
    }

    /// As [`queue`](Self::queue), from what [`encode`](Self::encode) made of its event.
    fn queue_encoded(
        &self,
        change: bool,
        entry: &AuditEntry,
        encoded: &Encoded,
    ) -> Result<(), AuditError> {
        let payload = match &encoded.seal {
            None => {
                let mut payload = vec![if change {
                    payload::CHANGE_TAG
                } else {
                    payload::AUDIT_TAG
                }];
                payload.extend_from_slice(
                    &payload::entry_json(entry, &encoded.json).map_err(AuditError::Io)?,
                );
                payload
            }
            Some((key, nonce)) => {
                sealed_entry::seal_encoded(change, entry, &encoded.json, key, nonce)
                    .map_err(AuditError::Io)?
            }
        };
        self.push(entry, payload)
    }

    /// Queues `payload`, `entry`'s, after every entry queued before it.
    fn push(&self, entry: &AuditEntry, payload: Vec<u8>) -> Result<(), AuditError> {
        let mut pending = self.pending.lock();
        if self.is_closed() {
            return Err(AuditError::Stopped(closed().to_string()));
        }
        // An erasure's shredded keys go in its batch, all or nothing with it.
        if let AuditEvent::SubjectErased { keys } = &entry.event {
            let erasing = self.erasing.lock();
            for key in keys {
                let handle = hex::decode(key)
                    .ok()
                    .and_then(|bytes| Handle::try_from(bytes).ok());
                if let Some(row) = handle.and_then(|h| erasing.get(&h)) {
                    pending.keys.push(row.clone());
                }
            }
        }
        // A log that failed keeps nothing more: an entry queued now would never be
        // written, and what it records — an authorization — must not be made unrecorded.
        if let Some(failed) = self.log.stopped() {
            return Err(AuditError::Stopped(failed.to_string()));
        }
        pending.payloads.push(payload);
        Ok(())
    }
}

impl EventLog {
    /// Replays every change: the consent ledger's to `ledger` — those the snapshots keep on
    /// two threads at once, each subject's in order, a consent given to `given` — and every other, with the ledger's
    /// withdrawals the retention schedule heard, to `rest`, in order. `rest` must not read
    /// what `ledger` builds, which it runs beside. The entries after the last snapshot are
    /// replayed once the snapshots are, in order, on this thread.
    ///
    /// # Errors
    ///
    /// [`StoreError::Log`] if an entry or a snapshot does not verify;
    /// [`StoreError::Corrupt`] if one holds what this library did not write; `ledger`'s
    /// or `rest`'s error.
    pub(crate) fn replay_in_lanes(
        &self,
        ledger: &(dyn Fn(Change) -> Result<(), StoreError> + Sync),
        given: &snapshot_body::GivenVisit<'_>,
        rest: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let snapshots = self.take_snapshots()?;
        let mut erasures = Vec::new();
        snapshot_body::replay_in_lanes(&snapshots, ledger, Some(given), &mut |change| {
            note_erasure(&change, &mut erasures);
            rest(change)
        })?;
        self.check_erasures(&snapshots, &erasures)?;
        self.replay_after(&snapshots, &mut |change| {
            super::replay::route(change, ledger, rest)
        })
    }

    /// Checks that the keys the erasures `snapshots` hold name are shredded, as the replay
    /// of the entries checks those after them: a row put back from an older copy would
    /// make an erased subject's entries read again. Reported at the last snapshot's end.
    fn check_erasures(&self, snapshots: &[Snapshot], keys: &[String]) -> Result<(), StoreError> {
        match snapshots.last() {
            Some(last) if !keys.is_empty() => Ok(self.check_shredded(keys, last.to)?),
            _ => Ok(()),
        }
    }

    /// The changes of the entries after the last of `snapshots` — each checked as it is
    /// read, from the entry the last snapshot ends at — noting them for the next snapshot.
    fn replay_after(
        &self,
        snapshots: &[Snapshot],
        visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // From the entry the last snapshot ends at: its hash was just checked against the
        // snapshot, and the walk checks the link of the next one to it.
        let (start, covered) = snapshots
            .last()
            .map_or((Seq::FIRST, None), |s| (s.to, Some(s.to)));
        let mut last = self.last.lock();
        let reading = std::cell::Cell::new(covered);
        // Noted without a parse: only the last is read, once the replay is done.
        let mut note = |seq: Seq, payload: &[u8]| {
            reading.set(Some(seq));
            let noted = last.get_or_insert_with(Vec::new);
            noted.clear();
            noted.extend_from_slice(payload);
        };
        let mut body = Some(SnapshotBody::new());
        let mut changes = 0_usize;
        self.every(start, false, &mut note, &mut |_, entry| {
            if covered.is_some() && reading.get() == covered {
                // In the snapshot already.
                return Ok(());
            }
            // An erasure that shredded keys deleted every snapshot with it, in its own
            // transaction: one ending before it was put back, from a copy made before —
            // and would bring back what the erasure erased (found by a review).
            if let (Some(to), AuditEvent::SubjectErased { keys }) = (covered, &entry.event)
                && !keys.is_empty()
            {
                return Err(StoreError::from(LogError::Tampered {
                    position: to,
                    problem: crate::log::Problem::SnapshotMismatch,
                }));
            }
            // A change that can't be encoded is not snapshotted: the next open reads it
            // from the log again.
            body = body
                .take()
                .and_then(|body| body.push(entry.at, &entry.event));
            changes += 1;
            visit(Change::new(entry.at, entry.event))
        })?;
        drop(last);
        if let (Some(body), Some(to)) = (body, reading.get())
            && changes > 0
        {
            *self.unsnapshotted.lock() = Some(Unsnapshotted {
                from: covered.map_or(Seq::FIRST, Seq::next),
                to,
                body: body.finish(),
                changes,
            });
        }
        Ok(())
    }
}

impl EventLog {
    /// How many consents the snapshots' changes give, so that the open sizes the ledger
    /// for them before it replays: a million inserts then never stop to move what they
    /// inserted before. Reads and checks the snapshots, which the replay then takes.
    ///
    /// # Errors
    ///
    /// [`StoreError::Log`] if they can't be read or one does not verify;
    /// [`StoreError::Corrupt`] if one holds what this library did not write.
    pub(crate) fn consents_hint(&self) -> Result<usize, StoreError> {
        let mut kept = self.snapshots.lock();
        let snapshots = match &mut *kept {
            Some(snapshots) => snapshots,
            None => kept.insert(self.readable_snapshots()?),
        };
        let mut consents = 0_usize;
        for snapshot in snapshots.iter() {
            consents = consents.saturating_add(snapshot_body::consents(snapshot)?);
        }
        Ok(consents)
    }

    /// The snapshots [`consents_hint`](Self::consents_hint) read, or else read now.
    fn take_snapshots(&self) -> Result<Vec<Snapshot>, StoreError> {
        match self.snapshots.lock().take() {
            Some(snapshots) => Ok(snapshots),
            None => self.readable_snapshots(),
        }
    }

    /// The snapshots, each checked, or none if one is in a format this version does not
    /// read (an earlier version kept it): the entries they cover are read instead, and the
    /// next snapshot kept covers them all, in their place.
    fn readable_snapshots(&self) -> Result<Vec<Snapshot>, StoreError> {
        let snapshots = self.log.snapshots()?;
        if snapshots.iter().all(snapshot_body::is_readable) {
            Ok(snapshots)
        } else {
            Ok(Vec::new())
        }
    }

    /// Keeps the changes the replay read after the last snapshot as a new one, if they
    /// are at least the operator's `snapshot_after`: the next open reads them from it, and
    /// the log only after it. Called once the operator has opened, so that a refused open
    /// writes nothing. A checkpoint is signed first, so the snapshot ends inside a signed
    /// prefix.
    ///
    /// # Errors
    ///
    /// [`StoreError::Log`] if the checkpoint or the snapshot can't be kept.
    pub(crate) fn keep_snapshot(&self) -> Result<(), StoreError> {
        let Some(unsnapshotted) = self.unsnapshotted.lock().take() else {
            return Ok(());
        };
        if unsnapshotted.changes < self.snapshot_after {
            return Ok(());
        }
        self.log.checkpoint()?;
        self.log
            .put_snapshot(unsnapshotted.from, unsnapshotted.to, unsnapshotted.body)?;
        Ok(())
    }

    /// Checks that each snapshot holds exactly the changes of the entries it covers: they
    /// are read from the first, each checked, encoded again and compared byte for byte.
    /// What a snapshot's MAC can't show — that whoever made it with the log's key wrote
    /// what the entries say.
    ///
    /// # Errors
    ///
    /// [`StoreError::Log`] with [`Problem::SnapshotMismatch`](crate::log::Problem) where
    /// the first that differs ends; the log's error if an entry does not verify.
    pub(crate) fn check_snapshots(&self) -> Result<(), StoreError> {
        let snapshots = self.log.snapshots()?;
        // Each snapshot's changes encoded again from the entries; `None` once one can't be.
        let mut bodies: Vec<Option<SnapshotBody>> =
            std::iter::repeat_with(|| Some(SnapshotBody::new()))
                .take(snapshots.len())
                .collect();
        let reading = std::cell::Cell::new(Seq::FIRST);
        self.every(
            Seq::FIRST,
            false,
            &mut |seq, _| reading.set(seq),
            &mut |_, entry| {
                // Contiguous from the first position: the first that ends at or after it.
                let covering = snapshots.partition_point(|s| s.to < reading.get());
                if let Some(body) = bodies.get_mut(covering) {
                    *body = body
                        .take()
                        .and_then(|body| body.push(entry.at, &entry.event));
                }
                Ok(())
            },
        )?;
        match snapshots
            .iter()
            .zip(
                bodies
                    .into_iter()
                    .map(|body| body.map(SnapshotBody::finish)),
            )
            // One of another format is not read at open, and can't be compared.
            .filter(|(snapshot, _)| snapshot_body::is_readable(snapshot))
            .find(|(snapshot, body)| body.as_deref() != Some(snapshot.body.as_slice()))
        {
            Some((snapshot, _)) => Err(LogError::Tampered {
                position: snapshot.to,
                problem: crate::log::Problem::SnapshotMismatch,
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Writes what is queued, signs a last checkpoint and ends the flusher: what was
    /// acknowledged reaches the disk, and the checkpoint closes the window in which a cut
    /// tail can't be told from a crash. Called by the operator as it drops, before its
    /// directory's lock is released, whoever still holds the log.
    pub(crate) fn close(&self) {
        *self.stop.stopped.lock() = true;
        self.stop.wake.notify_all();
        // Best effort, as in a drop: a failure has stopped the log, and the next open
        // finds what was kept.
        let _ = self.write();
        let _ = self.log.checkpoint();
        // Under the queue's lock, so no writer is between its check and its submit.
        let _pending = self.pending.lock();
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Notes the keys `change` shreds, if it is an erasure.
fn note_erasure(change: &Change, keys: &mut Vec<String>) {
    if let AuditEvent::SubjectErased { keys: shredded } = change.event() {
        keys.extend(shredded.iter().cloned());
    }
}

fn closed() -> LogError {
    LogError::Stopped("the operator that kept this log was closed".into())
}

impl Drop for EventLog {
    fn drop(&mut self) {
        // Not `close`: an operator that failed to open drops its log too, and a refused
        // open writes nothing. What was queued is written, as acknowledged; a refused open
        // queued nothing.
        *self.stop.stopped.lock() = true;
        self.stop.wake.notify_all();
        let _ = self.write();
    }
}

fn flusher(log: &Weak<EventLog>, stop: &Stop, every: Duration) {
    loop {
        {
            let mut stopped = stop.stopped.lock();
            if *stopped {
                return;
            }
            stop.wake.wait_for(&mut stopped, every);
            if *stopped {
                return;
            }
        }
        let Some(log) = log.upgrade() else { return };
        // A failure stops the log; the next change or flush reports it.
        let _ = log.write();
    }
}

/// The journal's side: each change is one entry — its own audit entry, numbered by the
/// operator's audit log — durable before `append` returns.
pub(crate) struct LogJournal {
    pub(crate) log: Arc<EventLog>,
    pub(crate) audit: Arc<AuditLog>,
}

impl Journal for LogJournal {
    fn append(&self, change: &Change) -> Result<(), StoreError> {
        let event = change.event().clone();
        let encoded = self.log.encode(&event).map_err(StoreError::Audit)?;
        self.audit
            .append_encoded(change.at(), event, &encoded.json, |entry| {
                self.log.queue_encoded(true, entry, &encoded)
            })
            .map_err(StoreError::Audit)?;
        // Whoever writes next carries it, with what was queued before it; this waits
        // until it is durable.
        self.log.write().map_err(StoreError::from)
    }

    /// The changes the snapshots keep, then those of the entries after the last one, in
    /// order.
    fn replay(
        &self,
        visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let snapshots = self.log.take_snapshots()?;
        let mut erasures = Vec::new();
        snapshot_body::replay_in_order(&snapshots, &mut |change| {
            note_erasure(&change, &mut erasures);
            visit(change)
        })?;
        self.log.check_erasures(&snapshots, &erasures)?;
        self.log.replay_after(&snapshots, visit)
    }
}

/// The audit log's side: audit-only entries queue until the next change or flush.
pub(crate) struct LogAudit(pub(crate) Arc<EventLog>);

impl AuditStore for LogAudit {
    fn entries(&mut self) -> Result<Vec<AuditEntry>, AuditError> {
        self.0
            .audit_entries()
            .map_err(|e| AuditError::Io(e.to_string()))
    }

    fn write(&mut self, entry: &AuditEntry) -> Result<(), AuditError> {
        self.0.queue(false, entry)
    }

    fn sync(&mut self) -> Result<(), AuditError> {
        self.0.write().map_err(|e| AuditError::Io(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::MemoryLogStore;

    /// Each erased handle is kept as shredded: counted like any other, or erasures alone
    /// would grow the cache past its bound (found by a review).
    #[test]
    fn the_key_cache_keeps_its_bound_when_erasures_fill_it() {
        let dir = tempfile::tempdir().unwrap();
        let keys = crate::key::KeyDir::new(dir.path().join("keys")).unwrap();
        let store: Arc<dyn LogStore> = Arc::new(MemoryLogStore::new());
        let log = Log::builder(store).open(&keys).unwrap();
        let events = EventLog::new(log, std::time::Duration::from_secs(3600), usize::MAX);
        let subject = SubjectId::new("cust-1").unwrap();
        let _key = events.key_for(&subject);
        events.write().unwrap();
        let tag = events.log.keyring().tag(subject.as_str().as_bytes());
        let handle = events.log.store().keys_tagged(&tag).unwrap()[0].handle;
        let erased: Vec<Handle> = (0..(KEYS_CACHED as u128) * 2)
            .map(|n| (n + 1_000_000).to_le_bytes())
            .collect();
        events.erased(&erased, true);
        events.key_of(&handle, Seq::FIRST).unwrap();
        assert!(events.keys.by_handle.len() <= KEYS_CACHED);
        assert!(events.key_of(&handle, Seq::FIRST).unwrap().is_some());
    }
}
