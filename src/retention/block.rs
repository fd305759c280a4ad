//! Blocking: a record kept, and read by no one but what a law or a hold keeps it for
//! (Tajik law Art. 22.1; Uzbek law Art. 30, 31).

use super::{RetentionSchedule, State};
use crate::Error;
use crate::audit::{Event, Stands};
use crate::data::RecordId;

impl RetentionSchedule {
    /// Blocks tracked `record` at `at`, for `request` when a subject's request asks it:
    /// from now on every copy of it refuses every read but one on a legal basis other than
    /// consent, for a purpose a statutory minimum or a hold keeps it for; after a reopen
    /// too. Blocking protects the subject: it stands even when it can't be kept. Says
    /// whether it blocked it: `false` if it was blocked already.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRecord`] if the record is not tracked; [`Error::AuditUnavailable`]
    /// or [`Error::NotStored`] if it could not be kept (it took effect all the same).
    pub(crate) fn block(
        &self,
        record: RecordId,
        request: Option<u64>,
        at: i64,
    ) -> Result<bool, Error> {
        let mut state = self.state();
        if state
            .records
            .get(&record)
            .is_some_and(|entry| entry.blocked)
        {
            // Blocked already: nothing changes, nothing to record or to tell.
            return Ok(false);
        }
        let subject = state.set_blocked(record, true)?;
        state
            .keep(
                at,
                Event::Blocked {
                    subject,
                    record,
                    request,
                },
                Stands::Regardless,
            )
            .map(|()| true)
    }

    /// Lifts the block on `record` at `at`: it widens processing again, so it is done only
    /// once kept.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRecord`] if the record is not tracked; [`Error::AuditUnavailable`]
    /// or [`Error::NotStored`] if it could not be kept (the record stays blocked).
    pub(crate) fn unblock(&self, record: RecordId, at: i64) -> Result<(), Error> {
        let mut state = self.state();
        let subject = state
            .records
            .get(&record)
            .map(|entry| entry.subject.clone())
            .ok_or(Error::UnknownRecord { record })?;
        state.keep(at, Event::Unblocked { subject, record }, Stands::IfRecorded)?;
        state.set_blocked(record, false).map(drop)
    }

    /// Applies a block or its lifting read back from the journal.
    pub(super) fn replay_block(&self, record: RecordId, blocked: bool) -> Result<(), Error> {
        let mut state = self.state();
        if state.erased_records.contains(&record) || state.destroyed.contains(&record) {
            return Ok(());
        }
        state.set_blocked(record, blocked).map(drop)
    }
}

impl State {
    /// Blocks `record` or lifts its block, and says whose it is.
    fn set_blocked(
        &mut self,
        record: RecordId,
        blocked: bool,
    ) -> Result<crate::vocab::SubjectId, Error> {
        let entry = self
            .records
            .get_mut(&record)
            .ok_or(Error::UnknownRecord { record })?;
        entry.blocked = blocked;
        if let Some(cell) = &entry.cell {
            cell.set_blocked(blocked);
        }
        Ok(entry.subject.clone())
    }
}

impl RetentionSchedule {
    /// Records that tracked record `new` holds the corrected value of `old` for `request`
    /// at `at`: `new` falls due no later than `old` would have, and `old` falls due now as
    /// wrong data (Art. 22.1) — blocked instead where a statutory minimum or a hold keeps
    /// it. It protects the subject: it stands even when it can't be kept.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRecord`] if either is not tracked; [`Error::AuditUnavailable`] or
    /// [`Error::NotStored`] if it could not be kept (it took effect all the same).
    pub(crate) fn rectified(
        &self,
        subject: &crate::vocab::SubjectId,
        old: RecordId,
        new: RecordId,
        request: u64,
        at: i64,
    ) -> Result<(), Error> {
        let mut state = self.state();
        for record in [old, new] {
            if !state.records.contains_key(&record) {
                return Err(Error::UnknownRecord { record });
            }
        }
        state.apply_rectified(old, new, at);
        state.keep(
            at,
            Event::Rectified {
                subject: subject.clone(),
                old,
                new,
                request,
            },
            Stands::Regardless,
        )
    }

    /// Applies a rectification read back from the journal.
    pub(super) fn replay_rectified(&self, old: RecordId, new: RecordId, at: i64) {
        self.state().apply_rectified(old, new, at);
    }
}

impl State {
    fn apply_rectified(&mut self, old: RecordId, new: RecordId, at: i64) {
        let Some(entry) = self.records.get(&old) else {
            return;
        };
        let due = entry.deadline.map(|due| (due, entry.reason.clone()));
        let (kept, blocked) = (self.keeping(old, entry, at).until.is_some(), entry.blocked);
        if let Some((due, reason)) = due {
            self.set_deadline(new, due, reason);
        }
        // A correction does not lift a block: the corrected value is blocked as the wrong
        // one was.
        if blocked {
            let _ = self.set_blocked(new, true);
        }
        self.bring_forward(at, old, at, crate::data::DestructionReason::Unlawful);
        if kept {
            let _ = self.set_blocked(old, true);
        }
    }
}
