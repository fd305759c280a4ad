//! The record's side of retention: what a read of a tracked record checks, set by the
//! retention schedule.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// What a tracked [`PersonalData`](super::PersonalData) consults on every read: the deadline the schedule set
/// and whether the schedule destroyed the record. Two atomics, so a read pays two loads.
#[derive(Debug)]
pub(crate) struct RetentionCell {
    pub(crate) deadline: AtomicI64,
    /// Until when a legal hold keeps the record readable past its deadline, on a basis
    /// other than consent; `i64::MIN` while no hold covers it.
    pub(crate) held_until: AtomicI64,
    pub(crate) destroyed: AtomicBool,
}

/// Why a tracked record refuses a read.
#[derive(Clone, Copy)]
pub(crate) enum Refusal {
    Destroyed,
    Expired(i64),
}

impl RetentionCell {
    pub(crate) fn new() -> Self {
        Self {
            deadline: AtomicI64::new(i64::MAX),
            held_until: AtomicI64::new(i64::MIN),
            destroyed: AtomicBool::new(false),
        }
    }

    /// Whether a read at `now` may go ahead: never after destruction, and past the
    /// deadline only while a legal hold keeps the record, and only on a legal basis other
    /// than consent (what a hold keeps data for). Past its deadline, unheld data is due for
    /// destruction (Tajik law Art. 20) whether or not a sweep has run yet.
    #[inline]
    pub(crate) fn admits(&self, now: i64, on_consent: bool) -> Result<(), Refusal> {
        if self.destroyed.load(Ordering::Acquire) {
            return Err(Refusal::Destroyed);
        }
        let deadline = self.deadline.load(Ordering::Acquire);
        if now >= deadline && (on_consent || now >= self.held_until.load(Ordering::Acquire)) {
            return Err(Refusal::Expired(deadline));
        }
        Ok(())
    }
}
