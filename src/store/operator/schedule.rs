//! The operator's retention schedule as the operator lends it: sweeps and triggers go
//! through the operator, which checks their times against its clock.

use chrono::{DateTime, Utc};
use zeroize::Zeroize;

use crate::Error;
use crate::RetentionSchedule;
use crate::category::{Category, CategoryId};
use crate::data::{PersonalData, RecordId};
use crate::retention::{Decision, HoldId, LegalHold, StuckDestruction, TrackedRecord};
use crate::vocab::{Purpose, SubjectId};

use super::Operator;
use super::lifecycle::LEEWAY_MS;

/// An [`Operator`]'s retention schedule: the records it tracks, their deadlines, the
/// decisions taken, and legal holds. It has no `sweep` or `trigger` of its own: those are
/// the operator's ([`Operator::sweep`], [`Operator::trigger`]), which refuse a time ahead
/// of the operator's clock or behind its latest change on record. Everything done through
/// it is kept, as the operator keeps its changes.
#[derive(Clone, Copy)]
pub struct OperatorSchedule<'a> {
    operator: &'a Operator,
}

impl std::fmt::Debug for OperatorSchedule<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.schedule(), f)
    }
}

impl<'a> OperatorSchedule<'a> {
    pub(super) fn new(operator: &'a Operator) -> Self {
        Self { operator }
    }

    fn schedule(self) -> &'a RetentionSchedule {
        &self.operator.schedule
    }

    /// How many records are tracked and not yet destroyed.
    pub fn len(&self) -> usize {
        self.schedule().len()
    }

    /// Whether no record is tracked.
    pub fn is_empty(&self) -> bool {
        self.schedule().is_empty()
    }

    /// When `record` is due for destruction ([`RetentionSchedule::deadline`]).
    pub fn deadline(&self, record: RecordId) -> Option<DateTime<Utc>> {
        self.schedule().deadline(record)
    }

    /// The records tracked for `subject` ([`RetentionSchedule::records_of`]).
    pub fn records_of(&self, subject: &SubjectId) -> Vec<TrackedRecord> {
        self.schedule().records_of(subject)
    }

    /// Every decision taken so far, in order ([`RetentionSchedule::decisions`]).
    pub fn decisions(&self) -> Vec<Decision> {
        self.schedule().decisions()
    }

    /// Destructions that have kept failing past the limit, now on the operator's clock
    /// ([`RetentionSchedule::stuck`]).
    pub fn stuck(&self) -> Vec<StuckDestruction> {
        self.schedule().stuck(self.operator.ledger.clock().now())
    }

    /// Places a legal hold ([`RetentionSchedule::place_hold`]).
    ///
    /// # Errors
    ///
    /// As [`RetentionSchedule::place_hold`].
    pub fn place_hold(&self, hold: LegalHold) -> Result<HoldId, Error> {
        self.schedule().place_hold(hold)
    }

    /// Releases a legal hold ([`RetentionSchedule::release_hold`]).
    ///
    /// # Errors
    ///
    /// As [`RetentionSchedule::release_hold`].
    pub fn release_hold(&self, hold: HoldId) -> Result<LegalHold, Error> {
        self.schedule().release_hold(hold)
    }

    /// Tracks a record the program holds in memory ([`RetentionSchedule::track`]); keep
    /// it with [`Operator::keep`] to have the operator hold it sealed instead.
    ///
    /// # Errors
    ///
    /// [`Error::TimeAhead`] if it was collected ahead of the operator's clock (by more than
    /// a second); otherwise as [`RetentionSchedule::track`].
    pub fn track<T, C>(&self, data: &mut PersonalData<T, C>) -> Result<(), Error>
    where
        T: Zeroize + Send + Sync + 'static,
        C: Category,
    {
        self.not_ahead(data.collected_at())?;
        self.schedule().track(data)
    }

    /// Refuses a collection time more than a second ahead of the operator's clock.
    fn not_ahead(self, collected_at: DateTime<Utc>) -> Result<(), Error> {
        let now = self.operator.ledger.clock().now();
        if collected_at.timestamp_millis() > now.timestamp_millis().saturating_add(LEEWAY_MS) {
            return Err(Error::TimeAhead {
                at: collected_at,
                now,
            });
        }
        Ok(())
    }

    /// Tracks a record kept elsewhere — a row or a file the program keeps — whose copies a
    /// [`DestructionHook`](crate::retention::DestructionHook) deletes
    /// ([`RetentionSchedule::track_record`]).
    ///
    /// # Errors
    ///
    /// [`Error::TimeAhead`] if `collected_at` is ahead of the operator's clock (by more
    /// than a second, as for [`Operator::sweep`]): counted
    /// from the future, its period would outlast its rule. Otherwise as
    /// [`RetentionSchedule::track_record`].
    pub fn track_record(
        &self,
        record: RecordId,
        subject: &SubjectId,
        category: CategoryId,
        purpose: &Purpose,
        collected_at: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.not_ahead(collected_at)?;
        self.schedule()
            .track_record(record, subject, category, purpose, collected_at)
    }
}
