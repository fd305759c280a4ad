//! Retention: deadlines that run by themselves, legal holds, and destruction that reaches
//! every copy.
//!
//! A [`RetentionSchedule`] tracks records — [`PersonalData`] the program holds, or rows and
//! files it keeps elsewhere — and gives each the deadline its policy's retention rule sets
//! (Tajik law Art. 14.3, 20): so long after collection, after the purpose is achieved, or
//! after the relationship ends. [`Trigger`]s bring deadlines forward: the account is closed
//! (a logout is not: IMANUM §2.1.5), a purpose is achieved, a court decides, consent is
//! withdrawn where no other basis holds. [`LegalHold`]s postpone destruction — an
//! anti-money-laundering hold keeps identification records five years after the
//! relationship ends.
//!
//! [`sweep`](RetentionSchedule::sweep) destroys what is due: it asks every
//! [`DestructionHook`] registered for the category to delete the copies the library can't
//! see, retries those that fail with backoff, reports destructions stuck past a limit, and
//! ends each destruction in a [`DestructionReceipt`]. It costs O(k log n) for k due records
//! among n tracked.
//!
//! # The rule that combines them
//!
//! A record is destroyed at the **latest** of its retention deadline and the end of every
//! hold on it or on its subject. Triggers only ever bring a deadline earlier; holds only
//! ever postpone. A court decision does not lift a hold: when two legal duties collide the
//! library keeps the data — kept data can still be destroyed, destroyed data can't be
//! restored — and records the decision, so a person can release the hold. Every such
//! decision is in [`decisions`](RetentionSchedule::decisions).
//!
//! ```
//! use amanat::retention::{HoldScope, HoldUntil, LegalHold, RetentionSchedule, Trigger};
//! use amanat::{category::Biometric, data::RecordId, Category, Policy, Purpose, SubjectId};
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use std::sync::Arc;
//!
//! let policy = Arc::new(Policy::from_toml_str(include_str!(
//!     "../../examples/policies/imanum.toml"))?);
//! let schedule = RetentionSchedule::new(policy);
//! let customer = SubjectId::new("cust-1")?;
//! let t0 = Utc.with_ymd_and_hms(2025, 7, 1, 9, 0, 0).unwrap();
//! let selfie = RecordId::random();
//! schedule.track_record(selfie, &customer, Biometric::ID, &Purpose::IDENTITY_VERIFICATION, t0)?;
//!
//! // The selfie is kept until the account is closed; a logout changes nothing.
//! schedule.trigger(&customer, Trigger::Logout, t0);
//! assert!(schedule.sweep(t0 + TimeDelta::days(400)).destroyed.is_empty());
//! schedule.trigger(&customer, Trigger::AccountClosed, t0 + TimeDelta::days(400));
//! let report = schedule.sweep(t0 + TimeDelta::days(400));
//! assert_eq!(report.destroyed[0].record, selfie);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`DestructionReceipt`]: crate::data::DestructionReceipt

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use chrono::{DateTime, Days, Months, Utc};
use foldhash::fast::RandomState;
use serde::Serialize;
use zeroize::Zeroize;

use crate::Error;
use crate::audit::AuditLog;
use crate::category::{Category, CategoryId};
use crate::clock::{Clock, millis_to_time};
use crate::data::{DestructionReason, PersonalData, Purge, RecordId, RetentionCell};
use crate::event::{self as journal, Journaled, Kind};
use crate::policy::{Policy, RetentionStart};
pub use crate::vocab::ids::HoldId;
pub use crate::vocab::retention::{HoldScope, HoldUntil, LegalHold, Trigger};
use crate::vocab::{Purpose, SubjectId};

mod builder;
mod decision;
mod destroy;
mod hold;
mod hook;
mod replay;
mod sweep;
mod trigger;

pub use builder::ScheduleBuilder;
pub use decision::Decision;
use hook::Registered;
pub use hook::{DestructionHook, DestructionRequest, HookError};
use sweep::{AfterSweep, Pending};
pub use sweep::{StuckDestruction, SweepReport};

/// What the schedule knows of a tracked record, as the journal gave it.
pub(crate) struct Tracked {
    pub(crate) subject: SubjectId,
    pub(crate) category: CategoryId,
    pub(crate) purpose: Purpose,
    pub(crate) collected_at: i64,
}

/// A record the schedule keeps, as a subject's access report shows it: ids, dates and the
/// rule — never the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TrackedRecord {
    /// The record.
    pub record: RecordId,
    /// Its category.
    pub category: CategoryId,
    /// The purpose it was collected for.
    pub purpose: Purpose,
    /// When it was collected.
    pub collected_at: DateTime<Utc>,
    /// The retention rule that governs it, in words.
    pub rule: Option<Arc<str>>,
    /// When it is due for destruction; `None` while its period has not started (it counts
    /// from an event still to come).
    pub deadline: Option<DateTime<Utc>>,
    /// Whether a legal hold covers it now.
    pub held: bool,
}

/// The period a rule or hold counts, added to a time in milliseconds.
fn after(from: i64, years: u32, months: u32, days: u32) -> i64 {
    millis_to_time(from)
        .checked_add_months(Months::new(years.saturating_mul(12).saturating_add(months)))
        .and_then(|t| t.checked_add_days(Days::new(days.into())))
        .map_or(i64::MAX, |t| t.timestamp_millis())
}

struct Entry {
    subject: SubjectId,
    category: CategoryId,
    purpose: Purpose,
    collected_at: i64,
    /// Index of its rule in the policy's retention rules: ten million records share a
    /// handful of rules.
    rule: u32,
    deadline: Option<i64>,
    reason: DestructionReason,
    /// The key under which it sits in the queue, if it does.
    queued: Option<i64>,
    pending: Option<Box<Pending>>,
    /// Claimed by a sweep that is running its hooks: in no queue, whatever happens, until
    /// that sweep settles it, so no two sweeps work on one record.
    in_flight: bool,
    /// The in-memory record's view, when the record is held as `PersonalData`.
    cell: Option<Arc<RetentionCell>>,
    /// The handle that zeroizes that record's value in place.
    purge: Option<Arc<dyn Purge>>,
    /// Copies read back from a store (`Operator::fetch`), zeroized with the record; weak,
    /// so a copy dropped meanwhile is forgotten here too.
    copies: Vec<Weak<dyn Purge>>,
}

#[derive(Default)]
struct State {
    records: HashMap<RecordId, Entry, RandomState>,
    queue: BTreeSet<(i64, RecordId)>,
    by_subject: HashMap<SubjectId, HashSet<RecordId, RandomState>, RandomState>,
    holds: HashMap<HoldId, LegalHold, RandomState>,
    holds_on_subject: HashMap<SubjectId, Vec<HoldId>, RandomState>,
    holds_on_record: HashMap<RecordId, Vec<HoldId>, RandomState>,
    next_hold: u64,
    relationship_ended: HashMap<SubjectId, i64, RandomState>,
    destroyed: HashSet<RecordId, RandomState>,
    /// Destroyed records whose in-memory value a read still held at destruction.
    unpurged: Vec<(RecordId, Arc<dyn Purge>)>,
    decisions: Vec<Decision>,
    audit: Option<Arc<AuditLog>>,
    journal: Option<Arc<Journaled>>,
}

impl State {
    fn enqueue(&mut self, id: RecordId, at: i64) {
        if let Some(entry) = self.records.get_mut(&id) {
            if entry.in_flight {
                return;
            }
            if let Some(old) = entry.queued.take() {
                self.queue.remove(&(old, id));
            }
            entry.queued = Some(at);
            self.queue.insert((at, id));
        }
    }

    /// The subject's records, in no particular order.
    fn subject_records(&self, subject: &SubjectId) -> Vec<RecordId> {
        self.by_subject
            .get(subject)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Sets the deadline of `id` to `due` if that is earlier, and queues it; whether it
    /// moved.
    fn set_deadline(&mut self, id: RecordId, due: i64, reason: DestructionReason) -> bool {
        let Some(entry) = self.records.get_mut(&id) else {
            return false;
        };
        if entry.deadline.is_some_and(|d| d <= due) {
            return false;
        }
        entry.deadline = Some(due);
        entry.reason = reason;
        if let Some(cell) = &entry.cell {
            cell.deadline.store(due, Ordering::Release);
        }
        self.enqueue(id, due);
        true
    }
}

/// Deadlines, holds and destruction for the records of one policy. See the [module
/// documentation](self). `Send + Sync`.
pub struct RetentionSchedule {
    policy: Arc<Policy>,
    hooks: HashMap<CategoryId, Vec<Registered>>,
    backoff_ms: i64,
    max_backoff_ms: i64,
    stuck_after_ms: i64,
    /// Each retention rule as a receipt names it, written once.
    rule_texts: Vec<Arc<str>>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// Called after every sweep, however it was started, told whether it destroyed
    /// something: an operator rotates its key-encryption key there, so that a backup taken
    /// before a destruction opens nothing after it. Says why, if it could not.
    after_sweep: OnceLock<AfterSweep>,
}

impl fmt::Debug for RetentionSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetentionSchedule")
            .field("policy", self.policy.version())
            .field("tracked", &self.len())
            .finish_non_exhaustive()
    }
}

impl RetentionSchedule {
    /// Starts recording decisions in `audit` and changes in `journal`: an
    /// [`Operator`](crate::store::Operator) attaches them once it has replayed the journal,
    /// so that the replay records nothing twice.
    pub(crate) fn attach(&self, audit: Option<Arc<AuditLog>>, journal: Arc<Journaled>) {
        let mut state = self.state();
        state.audit = audit;
        state.journal = Some(journal);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking hook runs outside the lock; the state is consistent between steps.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many records are tracked and not yet destroyed.
    pub fn len(&self) -> usize {
        self.state().records.len()
    }

    /// Whether no record is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tracks a record held as [`PersonalData`], with its subject, category, purpose and
    /// collection time. From now on the record refuses consent-based reads past its
    /// deadline, and when the schedule destroys it, its value is zeroized in place: the
    /// value moves behind a read lock the schedule shares, so its reads take the lock.
    ///
    /// # Errors
    ///
    /// As [`track_record`](Self::track_record).
    pub fn track<T, C>(&self, data: &mut PersonalData<T, C>) -> Result<(), Error>
    where
        T: Zeroize + Send + Sync + 'static,
        C: Category,
    {
        if data.is_tracked() {
            return Err(Error::AlreadyTracked { record: data.id() });
        }
        // Refused before the value moves: a record the policy has no rule for stays as it was.
        let index = self.rule_index(&C::ID, data.purpose())?;
        let cell = Arc::new(RetentionCell::new());
        let purge = data.share_with_schedule();
        self.track_inner(
            index,
            data.id(),
            data.subject(),
            C::ID,
            data.purpose(),
            data.collected_at(),
            Some((Arc::clone(&cell), purge)),
        )?;
        // `&mut` rules out another schedule tracking it meanwhile.
        data.attach_retention(cell);
        Ok(())
    }

    /// Tracks a record kept anywhere, and sets its deadline when its rule counts from
    /// collection (or from a relationship end already known).
    ///
    /// # Errors
    ///
    /// [`Error::NoRetentionRule`] if the policy has no rule for this category and purpose;
    /// [`Error::AlreadyTracked`] if the record is tracked or was destroyed.
    pub fn track_record(
        &self,
        record: RecordId,
        subject: &SubjectId,
        category: CategoryId,
        purpose: &Purpose,
        collected_at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let index = self.rule_index(&category, purpose)?;
        self.track_inner(
            index,
            record,
            subject,
            category,
            purpose,
            collected_at,
            None,
        )
    }

    /// The place of the policy's rule for `category` used for `purpose`.
    fn rule_index(&self, category: &CategoryId, purpose: &Purpose) -> Result<usize, Error> {
        self.policy
            .retention_index(category.as_str(), purpose)
            .ok_or_else(|| Error::NoRetentionRule {
                category: category.clone(),
                purpose: purpose.clone(),
            })
    }

    /// Tracks `record` under the policy's rule at `index`, found by [`rule_index`](Self::rule_index).
    #[allow(clippy::too_many_arguments)]
    fn track_inner(
        &self,
        index: usize,
        record: RecordId,
        subject: &SubjectId,
        category: CategoryId,
        purpose: &Purpose,
        collected_at: DateTime<Utc>,
        held: Option<(Arc<RetentionCell>, Arc<dyn Purge>)>,
    ) -> Result<(), Error> {
        let rule = &self.policy.retention()[index];
        let (cell, purge) = held.map_or((None, None), |(cell, purge)| (Some(cell), Some(purge)));
        let mut state = self.state();
        if state.records.contains_key(&record) || state.destroyed.contains(&record) {
            return Err(Error::AlreadyTracked { record });
        }
        journal::append(state.journal.as_deref(), || Kind::Tracked {
            record,
            subject: subject.clone(),
            category: category.clone(),
            purpose: purpose.clone(),
            collected_at: millis_to_time(collected_at.timestamp_millis()),
        })?;
        let collected_at = collected_at.timestamp_millis();
        let start = match rule.after {
            RetentionStart::Collection => Some((collected_at, DestructionReason::RetentionExpired)),
            RetentionStart::RelationshipEnd => state
                .relationship_ended
                .get(subject)
                .map(|&ended| (ended, DestructionReason::RelationshipEnded)),
            RetentionStart::PurposeAchieved => None,
        };
        let period = (rule.years, rule.months, rule.days);
        state.records.insert(
            record,
            Entry {
                subject: subject.clone(),
                category,
                purpose: purpose.clone(),
                collected_at,
                // A policy's rules number in the dozens.
                rule: u32::try_from(index).unwrap_or(u32::MAX),
                deadline: None,
                reason: DestructionReason::RetentionExpired,
                queued: None,
                pending: None,
                in_flight: false,
                cell,
                purge,
                copies: Vec::new(),
            },
        );
        state
            .by_subject
            .entry(subject.clone())
            .or_default()
            .insert(record);
        if let Some((from, reason)) = start {
            // The deadline a rule sets at tracking is no decision: only triggers and holds
            // are recorded.
            state.set_deadline(record, after(from, period.0, period.1, period.2), reason);
        }
        // A subject already under a hold keeps the new record too.
        state.refresh_holds(&[record]);
        Ok(())
    }

    /// Zeroizes `copy`, a copy of tracked `record` read back from a store, when the record
    /// is destroyed (it refuses reads from then on through the record's cell already).
    pub(crate) fn watch_copy(&self, record: RecordId, copy: &Arc<dyn Purge>) {
        let mut state = self.state();
        if let Some(entry) = state.records.get_mut(&record) {
            entry.copies.retain(|c| c.strong_count() > 0);
            entry.copies.push(Arc::downgrade(copy));
        } else if state.destroyed.contains(&record) && !copy.purge() {
            state.unpurged.push((record, Arc::clone(copy)));
        }
    }

    /// What the schedule knows of tracked `record` — whose, of which category, for which
    /// purpose, since when — and the view a copy of it read back from a store consults on
    /// every read, shared by every such copy; `None` if the record is not tracked.
    pub(crate) fn tracked(&self, record: RecordId) -> Option<(Tracked, Arc<RetentionCell>)> {
        let mut state = self.state();
        let held_until = state.hold_end(record, state.records.get(&record)?);
        let entry = state.records.get_mut(&record)?;
        let deadline = entry.deadline;
        let cell = entry.cell.get_or_insert_with(|| {
            let cell = RetentionCell::new();
            cell.deadline
                .store(deadline.unwrap_or(i64::MAX), Ordering::Release);
            cell.held_until.store(held_until, Ordering::Release);
            Arc::new(cell)
        });
        let cell = Arc::clone(cell);
        Some((
            Tracked {
                subject: entry.subject.clone(),
                category: entry.category.clone(),
                purpose: entry.purpose.clone(),
                collected_at: entry.collected_at,
            },
            cell,
        ))
    }

    /// Whether the schedule tracks `record` (and has not destroyed it).
    pub(crate) fn tracks(&self, record: RecordId) -> bool {
        self.state().records.contains_key(&record)
    }

    /// Whether the schedule destroyed `record`.
    pub(crate) fn is_destroyed(&self, record: RecordId) -> bool {
        self.state().destroyed.contains(&record)
    }

    /// The deadline of a tracked record, if one is set yet.
    pub fn deadline(&self, record: RecordId) -> Option<DateTime<Utc>> {
        self.state()
            .records
            .get(&record)
            .and_then(|e| e.deadline)
            .map(millis_to_time)
    }

    /// The records of `subject` the schedule keeps, oldest first.
    pub fn records_of(&self, subject: &SubjectId) -> Vec<TrackedRecord> {
        let state = self.state();
        let held_subject = state
            .holds_on_subject
            .get(subject)
            .is_some_and(|h| !h.is_empty());
        let mut out: Vec<TrackedRecord> = state
            .subject_records(subject)
            .into_iter()
            .filter_map(|id| {
                let entry = state.records.get(&id)?;
                Some(TrackedRecord {
                    record: id,
                    category: entry.category.clone(),
                    purpose: entry.purpose.clone(),
                    collected_at: millis_to_time(entry.collected_at),
                    rule: self.rule_texts.get(entry.rule as usize).cloned(),
                    deadline: entry.deadline.map(millis_to_time),
                    held: held_subject
                        || state
                            .holds_on_record
                            .get(&id)
                            .is_some_and(|h| !h.is_empty()),
                })
            })
            .collect();
        out.sort_by_key(|r| (r.collected_at, r.record));
        out
    }
}
