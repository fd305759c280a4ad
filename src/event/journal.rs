//! Where changes are kept, and how the components hold it.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use super::change::Change;
use crate::error::StoreError;

/// Where the [`Change`]s are kept. [`MemoryJournal`] and, with the `sqlite` feature,
/// `store::journal::SqliteJournal` come with the library; implement it for another
/// database.
pub trait Journal: Send + Sync {
    /// Keeps `change` after every change appended before it, and returns once it would
    /// survive a crash: what the caller is told was done must be there at the next open.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if it can't be kept; nothing of it may be kept then.
    fn append(&self, change: &Change) -> Result<(), StoreError>;

    /// Calls `visit` with every change kept, oldest first, stopping at its first error.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if the store can't be read or holds what this library did not
    /// write, or the error `visit` returned.
    fn replay(
        &self,
        visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// A journal in memory: for tests, and for a process whose state may die with it.
#[derive(Default)]
pub struct MemoryJournal {
    changes: Mutex<Vec<Change>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many changes it holds.
    pub fn len(&self) -> usize {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemoryJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryJournal")
            .field("changes", &self.len())
            .finish()
    }
}

impl Journal for MemoryJournal {
    fn append(&self, change: &Change) -> Result<(), StoreError> {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change.clone());
        Ok(())
    }

    fn replay(
        &self,
        visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let changes = self
            .changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        changes.into_iter().try_for_each(visit)
    }
}

/// A journal as the components hold it: once an append fails, every later one is refused,
/// because what was done in memory and not kept must not be built on — reopen to go on
/// from what was kept.
pub(crate) struct Journaled {
    journal: std::sync::Arc<dyn Journal>,
    stopped: Mutex<Option<String>>,
    /// Whether the journal writes each change as its audit entry too (an operator's log):
    /// the change is then not recorded in the audit log a second time.
    carries_audit: bool,
}

impl fmt::Debug for Journaled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journaled")
            .field("stopped", &self.stopped())
            .finish_non_exhaustive()
    }
}

impl Journaled {
    pub(crate) fn new(journal: std::sync::Arc<dyn Journal>) -> Self {
        Self {
            journal,
            stopped: Mutex::new(None),
            carries_audit: false,
        }
    }

    /// A journal whose every change is also its own audit entry: one write for both.
    pub(crate) fn carrying_audit(journal: std::sync::Arc<dyn Journal>) -> Self {
        Self {
            carries_audit: true,
            ..Self::new(journal)
        }
    }

    /// Whether each change appended is its own audit entry.
    pub(crate) fn carries_audit(&self) -> bool {
        self.carries_audit
    }

    /// Why the journal stopped, if it did.
    pub(crate) fn stopped(&self) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Appends `change`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotStored`] if the journal has stopped or can't keep it; it stops
    /// then.
    pub(crate) fn append(&self, change: &Change) -> Result<(), crate::Error> {
        if let Some(why) = self.stopped() {
            return Err(crate::Error::NotStored(StoreError::Stopped(why)));
        }
        // Not under the lock: appenders on other threads share the journal's syncs
        // (the authenticated log writes what they queued meanwhile in one batch). One
        // that passed the check while another failed is refused by the journal itself.
        self.journal.append(change).map_err(|failed| {
            self.stopped
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(|| failed.to_string());
            crate::Error::NotStored(failed)
        })
    }
}

/// Replays the opening of entry `id` of a numbered register (a notice owed, a request
/// received): it must be the next number, or the journal is out of order.
pub(crate) fn replay_next<T>(
    register: &mut Vec<T>,
    id: u64,
    entry: T,
    what: &str,
) -> Result<(), StoreError> {
    if id != register.len() as u64 + 1 {
        return Err(StoreError::Corrupt(format!("{what} {id} out of order")));
    }
    register.push(entry);
    Ok(())
}

/// Replays the closing of entry `id` of a numbered register (a notice sent, a request
/// answered) with `close`.
pub(crate) fn replay_close<T>(
    register: &mut [T],
    id: u64,
    what: &str,
    close: impl FnOnce(&mut T),
) -> Result<(), StoreError> {
    let entry = crate::slot(id)
        .and_then(|i| register.get_mut(i))
        .ok_or_else(|| StoreError::Corrupt(format!("{what} {id} closed but never opened")))?;
    close(entry);
    Ok(())
}

/// Runs `erase` once no entry of a numbered register that `theirs` picks is still `open`;
/// then empties each of theirs, if `erase` succeeded: their numbers stay taken.
///
/// # Errors
///
/// [`crate::Error::NotErasable`] with `reason` if one of theirs is open (`erase` is not
/// run); `erase`'s error (nothing is emptied).
#[cfg(feature = "sqlite")]
pub(crate) fn erase_from<T>(
    register: &mut [Option<T>],
    theirs: impl Fn(&T) -> bool,
    open: impl Fn(&T) -> bool,
    reason: &'static str,
    erase: impl FnOnce() -> Result<(), crate::Error>,
) -> Result<(), crate::Error> {
    if register.iter().flatten().any(|e| theirs(e) && open(e)) {
        return Err(crate::Error::NotErasable { reason });
    }
    erase()?;
    for slot in register.iter_mut() {
        if slot.as_ref().is_some_and(&theirs) {
            *slot = None;
        }
    }
    Ok(())
}
