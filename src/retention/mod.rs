//! Retention: deadlines that run by themselves, legal holds, and destruction that reaches
//! every copy.
//!
//! A [`RetentionSchedule`] tracks records — [`PersonalData`] the program holds, or rows and
//! files it keeps elsewhere — and gives each the deadline its policy's retention rule sets
//! (Tajik law Art. 14.3, 20): so long after collection, after the purpose is achieved, or
//! after the relationship ends. [`Trigger`]s bring deadlines forward: the account is closed
//! (a logout is not: IMANUM §IV), a purpose is achieved, a court decides, consent is
//! withdrawn where no other basis holds. Closing the account ends every period, whatever it
//! counts from (Art. 20). A policy's statutory minimums keep a category longer whatever
//! purpose collected it — identity documents five years after the relationship ends, under
//! the anti-money-laundering law the policy cites — and [`LegalHold`]s, each standing on a
//! statute, a court order, an authority's investigation or the operator's own decision,
//! postpone destruction.
//!
//! [`sweep`](RetentionSchedule::sweep) destroys what is due: it asks every
//! [`DestructionHook`] registered for the category to delete the copies the library can't
//! see, retries those that fail with backoff, reports destructions stuck past a limit, and
//! ends each destruction in a [`DestructionReceipt`]. It costs O(k log n) for k due records
//! among n tracked.
//!
//! # The rule that combines them
//!
//! A record is destroyed at the **latest** of its retention deadline, the end of every
//! hold on it or on its subject, and the end of its category's statutory minimum. Triggers
//! only ever bring a deadline earlier; holds and minimums only ever postpone. A court's
//! order to destroy, in force, outweighs every hold that stands on neither another court
//! order nor a statute (Tajik law Art. 20, Uzbek law Art. 17): the receipt names the holds
//! it outweighed. Between two court orders, or a court order and a statute, the library
//! keeps the data — kept data can still be destroyed, destroyed data can't be restored —
//! and records the decision, so a person can release the hold. Every such decision is in
//! [`decisions`](RetentionSchedule::decisions).
//!
//! Past its deadline, a record something keeps is readable only on a legal basis other than
//! consent, and only for a purpose the hold or minimum names
//! ([`LegalHold::readable_for`], [`StatutoryMinimum::readable_for`]): an anti-money-laundering
//! hold opens it to the legal obligation, not to marketing.
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
//! [`StatutoryMinimum::readable_for`]: crate::policy::StatutoryMinimum::readable_for
//! [`PersonalData`]: crate::data::PersonalData

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use chrono::{Days, Months};
use foldhash::fast::RandomState;

use crate::audit::AuditLog;
use crate::category::CategoryId;
use crate::clock::{Clock, millis_to_time};
use crate::data::{DestructionReason, Purge, RecordId, RetentionCell};
use crate::event::Journaled;
use crate::policy::{Policy, StatutoryMinimum};
pub use crate::vocab::ids::HoldId;
pub use crate::vocab::retention::{HoldGround, HoldScope, HoldUntil, LegalHold, Trigger};
use crate::vocab::{Purpose, SubjectId};

mod block;
mod builder;
mod decision;
mod destroy;
mod erase;
mod hold;
mod hook;
mod replay;
mod sweep;
mod track;
mod trigger;

pub use builder::ScheduleBuilder;
pub use decision::Decision;
use hook::Registered;
pub use hook::{DestructionHook, DestructionRequest, HookError};
use sweep::{AfterSweep, Pending};
pub use sweep::{StuckDestruction, SweepReport};
pub use track::TrackedRecord;
pub(crate) use trigger::Locked;

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
    /// Blocked (Art. 22.1): read by nothing but what a law or a hold keeps it for.
    blocked: bool,
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
    /// Records and holds of subjects since erased, met again in the replay: their entries
    /// can't be read, and what refers to them in clear — a destruction, a hold on one of
    /// their records, a release — is theirs.
    erased_records: HashSet<RecordId, RandomState>,
    erased_holds: HashSet<HoldId, RandomState>,
    /// Destroyed records whose in-memory value a read still held at destruction.
    unpurged: Vec<(RecordId, Arc<dyn Purge>)>,
    decisions: Vec<Decision>,
    /// The latest time of a change the schedule recorded — live, once attached, and read
    /// back at replay — in milliseconds; `None` before any. An operator refuses a
    /// sweep or a trigger dated before it. The schedule's own changes, not every entry of
    /// the log: a register's entry carries the time its caller gave.
    latest_change: std::cell::Cell<Option<i64>>,
    /// The policy's statutory minimums: a handful, looked up by category as a record falls
    /// due.
    minimums: Vec<StatutoryMinimum>,
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

    /// The latest time of a change the schedule recorded, if any.
    pub(crate) fn latest_change(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.state()
            .latest_change
            .get()
            .map(crate::clock::millis_to_time)
    }
}

impl State {
    /// Notes a change recorded at `at`.
    fn note_change(&self, at: i64) {
        let latest = self.latest_change.get().map_or(at, |latest| latest.max(at));
        self.latest_change.set(Some(latest));
    }
}
