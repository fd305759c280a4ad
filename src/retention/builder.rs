//! Configuring a schedule: its hooks, how it retries, when a destruction counts as stuck,
//! where it records, and the clock it dates holds by.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::{DestructionHook, Registered, RetentionSchedule, State};
use crate::audit::AuditLog;
use crate::category::{Category, CategoryId};
use crate::clock::Clock;
use crate::policy::Policy;

/// How a [`RetentionSchedule`] retries and when it reports a destruction as stuck.
#[derive(Debug)]
#[must_use = "call build() to get the schedule"]
pub struct ScheduleBuilder {
    policy: Arc<Policy>,
    hooks: HashMap<CategoryId, Vec<Registered>>,
    backoff: Duration,
    max_backoff: Duration,
    stuck_after: Duration,
    audit: Option<Arc<AuditLog>>,
    clock: Arc<dyn Clock>,
}

impl ScheduleBuilder {
    /// Registers `hook` for records of category `C`. Several hooks may serve one category;
    /// a record is destroyed when all of them have confirmed.
    pub fn hook<C: Category>(self, hook: impl DestructionHook + 'static) -> Self {
        self.hook_for(C::ID, Arc::new(hook))
    }

    /// Registers `hook` for records of `category`.
    pub(crate) fn hook_for(mut self, category: CategoryId, hook: Arc<dyn DestructionHook>) -> Self {
        let name = hook.name().to_owned();
        self.hooks
            .entry(category)
            .or_default()
            .push(Registered { name, hook });
        self
    }

    /// The wait before the first retry; it doubles with each failure up to `max`.
    /// Default: one minute, up to one day.
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// How long a destruction may keep failing before it is reported as stuck. Default:
    /// three days. A stuck destruction is still retried.
    pub fn stuck_after(mut self, limit: Duration) -> Self {
        self.stuck_after = limit;
        self
    }

    /// Records every decision — deadlines, postponements, holds, retries, destructions,
    /// triggers that changed nothing — in `log`, besides [`decisions`](RetentionSchedule::decisions).
    /// A hold the log can't record is not placed; a destruction or an earlier deadline
    /// stands all the same (the failed log then refuses what widens processing).
    pub fn audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// The clock that dates decisions taken outside a [`sweep`](RetentionSchedule::sweep)
    /// or a [`trigger`](RetentionSchedule::trigger) — placing and releasing holds — in the
    /// audit log. Default: [`SystemClock`](crate::SystemClock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the schedule.
    pub fn build(self) -> RetentionSchedule {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let rule_texts = self
            .policy
            .retention()
            .iter()
            .map(|rule| Arc::from(rule.describe()))
            .collect();
        let minimums = self.policy.minimums().to_vec();
        RetentionSchedule {
            policy: self.policy,
            hooks: self.hooks,
            backoff_ms: ms(self.backoff).max(1),
            max_backoff_ms: ms(self.max_backoff).max(1),
            stuck_after_ms: ms(self.stuck_after),
            rule_texts,
            clock: self.clock,
            state: Mutex::new(State {
                audit: self.audit,
                minimums,
                ..State::default()
            }),
            after_sweep: OnceLock::new(),
        }
    }
}

impl RetentionSchedule {
    /// A schedule for `policy`'s retention rules, with no hooks and the default backoff.
    pub fn new(policy: Arc<Policy>) -> Self {
        Self::builder(policy).build()
    }

    /// Starts configuring a schedule.
    pub fn builder(policy: Arc<Policy>) -> ScheduleBuilder {
        ScheduleBuilder {
            policy,
            hooks: HashMap::new(),
            backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(24 * 60 * 60),
            stuck_after: Duration::from_secs(3 * 24 * 60 * 60),
            audit: None,
            clock: Arc::new(crate::SystemClock),
        }
    }
}
