//! The record's side of retention: what a read of a tracked record checks, set by the
//! retention schedule.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use parking_lot::RwLock;

use crate::vocab::Purpose;

/// What a tracked [`PersonalData`](super::PersonalData) consults on every read: the deadline the schedule set
/// and whether the schedule destroyed the record. Two atomics, so a read pays two loads; a
/// block folds into the first (the word reads `i64::MIN` while the record is blocked), so
/// it adds none.
#[derive(Debug)]
pub(crate) struct RetentionCell {
    /// The deadline a read compares with: the schedule's, or `i64::MIN` while blocked.
    deadline: AtomicI64,
    /// The schedule's deadline, whether or not the record is blocked; read only on the
    /// refusal's path.
    due: AtomicI64,
    /// Until when a legal hold keeps the record readable past its deadline, on a basis
    /// other than consent; `i64::MIN` while no hold covers it.
    held_until: AtomicI64,
    /// The purposes a hold or a statutory minimum keeps the record readable for past its
    /// deadline; read only then.
    readable_for: RwLock<Vec<Purpose>>,
    pub(crate) destroyed: AtomicBool,
    /// Blocked by the schedule (Art. 22.1): read as if past its deadline.
    blocked: AtomicBool,
}

/// Why a tracked record refuses a read.
#[derive(Clone, Copy)]
pub(crate) enum Refusal {
    Destroyed,
    Expired(i64),
    Blocked,
}

impl RetentionCell {
    pub(crate) fn new() -> Self {
        Self {
            deadline: AtomicI64::new(i64::MAX),
            due: AtomicI64::new(i64::MAX),
            held_until: AtomicI64::new(i64::MIN),
            readable_for: RwLock::new(Vec::new()),
            destroyed: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
        }
    }

    /// Keeps the record readable past its deadline until `until`, for `purposes` alone.
    pub(crate) fn keep_readable(&self, until: i64, purposes: Vec<Purpose>) {
        *self.readable_for.write() = purposes;
        self.held_until.store(until, Ordering::Release);
    }

    /// Whether a read for `purpose` at `now` may go ahead: never after destruction, and past
    /// the deadline only while a legal hold or a statutory minimum keeps the record, only
    /// on a legal basis other than consent (what a hold keeps data for), and only for a
    /// purpose it keeps the record for. Past its deadline, unheld data is due for
    /// destruction (Tajik law Art. 20) whether or not a sweep has run yet.
    #[inline]
    pub(crate) fn admits<'p>(
        &self,
        now: i64,
        on_consent: bool,
        purpose: impl FnOnce() -> &'p Purpose,
    ) -> Result<(), Refusal> {
        if self.destroyed.load(Ordering::Acquire) {
            return Err(Refusal::Destroyed);
        }
        // One load decides for nearly every read: a blocked record's word is `i64::MIN`.
        if now >= self.deadline.load(Ordering::Acquire) {
            return self.past_or_blocked(now, on_consent, purpose());
        }
        Ok(())
    }

    /// The refusal's path: a record past its deadline or blocked opens only on a basis
    /// other than consent, for a purpose something keeps it for.
    #[cold]
    fn past_or_blocked(
        &self,
        now: i64,
        on_consent: bool,
        purpose: &Purpose,
    ) -> Result<(), Refusal> {
        if !on_consent && self.kept_for(now, purpose) {
            return Ok(());
        }
        Err(if self.blocked.load(Ordering::Acquire) {
            Refusal::Blocked
        } else {
            Refusal::Expired(self.due.load(Ordering::Acquire))
        })
    }

    /// Sets the schedule's deadline. Called under the schedule's lock, as
    /// [`set_blocked`](Self::set_blocked) is.
    pub(crate) fn set_deadline(&self, due: i64) {
        self.due.store(due, Ordering::Release);
        if !self.blocked.load(Ordering::Acquire) {
            self.deadline.store(due, Ordering::Release);
        }
    }

    /// Blocks the record or lifts its block.
    pub(crate) fn set_blocked(&self, blocked: bool) {
        self.blocked.store(blocked, Ordering::Release);
        let word = if blocked {
            i64::MIN
        } else {
            self.due.load(Ordering::Acquire)
        };
        self.deadline.store(word, Ordering::Release);
    }

    /// Whether the schedule blocked the record.
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked.load(Ordering::Acquire)
    }

    /// Past the deadline: whether something keeps the record at `now` for `purpose`.
    #[cold]
    fn kept_for(&self, now: i64, purpose: &Purpose) -> bool {
        now < self.held_until.load(Ordering::Acquire) && self.readable_for.read().contains(purpose)
    }
}
