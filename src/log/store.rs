//! Where the log's entries and checkpoints are kept: the [`LogStore`] trait, and
//! [`MemoryLogStore`].

use parking_lot::RwLock;

use super::checkpoint::SignedCheckpoint;
use super::entry::{Entry, Hash};
use super::keyring::{Handle, KeyRow};
use super::snapshot::Snapshot;
use crate::error::LogError;
use crate::vocab::ids::Seq;

/// The last entry a store holds: its position and its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The last entry's position (the number of entries, in a sound log).
    pub seq: Seq,
    /// Its hash.
    pub hash: Hash,
}

/// The storage under a [`Log`](super::Log): SQLite (`SqliteLogStore`, with the `sqlite`
/// feature), memory ([`MemoryLogStore`]), or another database through this trait.
///
/// The store is the authority on the chain's head: [`append`](Self::append) takes a batch
/// only if it continues the store's own head — its first entry one position after the
/// head, linked to the head's hash — so two writers can't both number the same position,
/// and the position each entry gets is the store's. It checks nothing else: the log
/// verifies what it reads, and a store is assumed to be editable by an attacker.
pub trait LogStore: Send + Sync {
    /// Keeps `batch` — consecutive entries — and `keys` — rows of the keyring, each in
    /// place of any row of the same handle — all or none, durably (on disk, not in a cache
    /// a power cut loses) before returning.
    ///
    /// A shredded row erases what its key sealed: in the same transaction, the store
    /// deletes every snapshot (a snapshot holds in clear what the entries hold sealed),
    /// zeroing what it deletes (SQLite: `secure_delete`); [`scrub`](Self::scrub) then
    /// wipes any older copy its files keep.
    ///
    /// # Errors
    ///
    /// [`LogError::Conflict`] if the batch does not continue the store's head (nothing is
    /// kept); others if it can't be written, and then none of it may be kept.
    fn append(&self, batch: &[Entry], keys: &[KeyRow]) -> Result<(), LogError>;

    /// Every row of the keyring with this tag, live or not.
    ///
    /// # Errors
    ///
    /// If the store can't be read.
    fn keys_tagged(&self, tag: &[u8; 32]) -> Result<Vec<KeyRow>, LogError>;

    /// The row of the keyring with this handle, if any.
    ///
    /// # Errors
    ///
    /// If the store can't be read.
    fn key(&self, handle: &Handle) -> Result<Option<KeyRow>, LogError>;

    /// Makes what was deleted unreadable in the store's files — for SQLite, the older
    /// pages the write-ahead log still holds — where it can. The default does nothing: a
    /// store in memory keeps no older copy.
    ///
    /// # Errors
    ///
    /// If it can't yet (another connection reads the file): what was deleted stays in the
    /// files until it can.
    fn scrub(&self) -> Result<(), LogError> {
        Ok(())
    }

    /// Gives `visit` every entry of position `from` or later, in order of position, as
    /// stored; stops at the first error `visit` returns and returns it.
    ///
    /// # Errors
    ///
    /// Whatever `visit` returns; [`LogError::Tampered`] with [`Malformed`] for a stored
    /// row that is not an entry; others if the store can't be read.
    ///
    /// [`Malformed`]: super::Problem::Malformed
    fn read_from(
        &self,
        from: Seq,
        visit: &mut dyn FnMut(Entry) -> Result<(), LogError>,
    ) -> Result<(), LogError>;

    /// The last entry it holds, if any.
    ///
    /// # Errors
    ///
    /// If the store can't be read.
    fn head(&self) -> Result<Option<Head>, LogError>;

    /// Keeps `checkpoint`, durably.
    ///
    /// # Errors
    ///
    /// If it can't be written.
    fn put_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError>;

    /// The checkpoint of the greatest count it holds, if any.
    ///
    /// # Errors
    ///
    /// If the store can't be read.
    fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LogError>;

    /// Keeps `snapshot`, durably, in place of every snapshot whose positions it covers (one
    /// an earlier version kept, in a format this one does not read), all or nothing.
    ///
    /// # Errors
    ///
    /// If it can't be written.
    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), LogError>;

    /// Every snapshot kept, by position.
    ///
    /// # Errors
    ///
    /// If the store can't be read.
    fn snapshots(&self) -> Result<Vec<Snapshot>, LogError>;
}

impl<S: LogStore + ?Sized> LogStore for std::sync::Arc<S> {
    fn append(&self, batch: &[Entry], keys: &[KeyRow]) -> Result<(), LogError> {
        (**self).append(batch, keys)
    }
    fn keys_tagged(&self, tag: &[u8; 32]) -> Result<Vec<KeyRow>, LogError> {
        (**self).keys_tagged(tag)
    }
    fn key(&self, handle: &Handle) -> Result<Option<KeyRow>, LogError> {
        (**self).key(handle)
    }
    fn scrub(&self) -> Result<(), LogError> {
        (**self).scrub()
    }
    fn read_from(
        &self,
        from: Seq,
        visit: &mut dyn FnMut(Entry) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        (**self).read_from(from, visit)
    }
    fn head(&self) -> Result<Option<Head>, LogError> {
        (**self).head()
    }
    fn put_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        (**self).put_checkpoint(checkpoint)
    }
    fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        (**self).latest_checkpoint()
    }
    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), LogError> {
        (**self).put_snapshot(snapshot)
    }
    fn snapshots(&self) -> Result<Vec<Snapshot>, LogError> {
        (**self).snapshots()
    }
}

/// Checks that `batch` continues `head`: what every store's `append` must refuse otherwise.
///
/// # Errors
///
/// [`LogError::Conflict`] if it does not.
pub fn continues(head: Option<Head>, batch: &[Entry]) -> Result<(), LogError> {
    let (next, prev) = head.map_or((Seq::FIRST, super::GENESIS), |h| (h.seq.next(), h.hash));
    let mut expected = (next, prev);
    for entry in batch {
        if entry.seq != expected.0 || entry.prev != expected.1 {
            return Err(LogError::Conflict {
                expected: entry.seq,
                found: expected.0,
            });
        }
        expected = (entry.seq.next(), entry.hash);
    }
    Ok(())
}

/// The log in memory, for tests and examples: it lives no longer than the process. Its
/// [`entries_mut`](Self::entries_mut) lets a test tamper with it.
#[derive(Debug, Default)]
pub struct MemoryLogStore {
    entries: RwLock<Vec<Entry>>,
    checkpoints: RwLock<Vec<SignedCheckpoint>>,
    snapshots: RwLock<Vec<Snapshot>>,
    keys: RwLock<std::collections::BTreeMap<Handle, KeyRow>>,
}

impl MemoryLogStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The snapshots as stored, to edit as an attacker with access to the store would.
    pub fn snapshots_mut(&self) -> parking_lot::RwLockWriteGuard<'_, Vec<Snapshot>> {
        self.snapshots.write()
    }

    /// The entries as stored, to edit as an attacker with access to the store would.
    pub fn entries_mut(&self) -> parking_lot::RwLockWriteGuard<'_, Vec<Entry>> {
        self.entries.write()
    }

    /// The keyring's rows as stored, to edit likewise.
    pub fn keys_mut(
        &self,
    ) -> parking_lot::RwLockWriteGuard<'_, std::collections::BTreeMap<Handle, KeyRow>> {
        self.keys.write()
    }

    /// The checkpoints as stored, to edit likewise.
    pub fn checkpoints_mut(&self) -> parking_lot::RwLockWriteGuard<'_, Vec<SignedCheckpoint>> {
        self.checkpoints.write()
    }
}

impl LogStore for MemoryLogStore {
    fn append(&self, batch: &[Entry], keys: &[KeyRow]) -> Result<(), LogError> {
        let mut entries = self.entries.write();
        let head = entries.iter().max_by_key(|e| e.seq).map(|e| Head {
            seq: e.seq,
            hash: e.hash,
        });
        continues(head, batch)?;
        entries.extend_from_slice(batch);
        let mut rows = self.keys.write();
        for row in keys {
            rows.insert(row.handle, row.clone());
        }
        if keys.iter().any(KeyRow::is_shredded) {
            self.snapshots.write().clear();
        }
        Ok(())
    }

    fn keys_tagged(&self, tag: &[u8; 32]) -> Result<Vec<KeyRow>, LogError> {
        Ok(self
            .keys
            .read()
            .values()
            .filter(|row| row.tag.as_ref() == Some(tag))
            .cloned()
            .collect())
    }

    fn key(&self, handle: &Handle) -> Result<Option<KeyRow>, LogError> {
        Ok(self.keys.read().get(handle).cloned())
    }

    fn read_from(
        &self,
        from: Seq,
        visit: &mut dyn FnMut(Entry) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        // Ordered by position as a database would order them, whatever the vector's order.
        let mut found: Vec<Entry> = self
            .entries
            .read()
            .iter()
            .filter(|e| e.seq >= from)
            .cloned()
            .collect();
        found.sort_by_key(|e| e.seq);
        found.into_iter().try_for_each(visit)
    }

    fn head(&self) -> Result<Option<Head>, LogError> {
        Ok(self
            .entries
            .read()
            .iter()
            .max_by_key(|e| e.seq)
            .map(|e| Head {
                seq: e.seq,
                hash: e.hash,
            }))
    }

    fn put_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        self.checkpoints.write().push(*checkpoint);
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        Ok(self
            .checkpoints
            .read()
            .iter()
            .max_by_key(|c| c.checkpoint.count)
            .copied())
    }

    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), LogError> {
        let mut snapshots = self.snapshots.write();
        snapshots
            .retain(|s| s.to != snapshot.to && !(s.from >= snapshot.from && s.to <= snapshot.to));
        snapshots.push(snapshot.clone());
        snapshots.sort_by_key(|s| s.to);
        Ok(())
    }

    fn snapshots(&self) -> Result<Vec<Snapshot>, LogError> {
        Ok(self.snapshots.read().clone())
    }
}
