//! Configuring a ledger: its clock, token lifetime, audit log, refusal monitor, policy and
//! journal, and the constructors that start from the defaults.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use dashmap::DashMap;

use super::record::Services;
use super::{ConsentLedger, Terms, Vocabulary};
use crate::audit::{AuditLog, RefusalMonitor};
use crate::clock::{Clock, SystemClock};
use crate::event::Journaled;
use crate::policy::Policy;
use crate::vocab::PolicyVersion;

/// Shards of the subject map: enough that writers waiting on a sync rarely share one.
const SUBJECT_SHARDS: usize = 256;

/// Configures a [`ConsentLedger`].
#[derive(Debug)]
#[must_use = "call build() to get the ledger"]
pub struct LedgerBuilder {
    terms: Terms,
    clock: Arc<dyn Clock>,
    token_ttl: Duration,
    audit: Option<Arc<AuditLog>>,
    monitor: Option<Arc<RefusalMonitor>>,
    journal: Option<Arc<Journaled>>,
    capacity: usize,
}

impl LedgerBuilder {
    /// The clock the ledger, its tokens and the data they open check time against.
    /// Default: [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a token lives after it is issued. Default: 5 minutes. A token never
    /// outlives the consent it stands on; with zero, every token is born expired, which is
    /// only useful to test what expiry does.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Records every consent event, authorization (granted or refused, and by which rule),
    /// use of another legal basis and policy change in `log` — and, through the tokens it
    /// issues, every collection, read count, rectification, blocking and disclosure of the
    /// data they open.
    ///
    /// What widens processing (a grant, a renewal, a token, a collection) is refused with
    /// [`Error::AuditUnavailable`] when the log can't record it; what protects the subject
    /// (a withdrawal, blocking, destruction) is done all the same, and the failed log then
    /// refuses the rest until it is reopened.
    ///
    /// [`Error::AuditUnavailable`]: crate::Error::AuditUnavailable
    pub fn audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Counts every refusal with `monitor` — per actor for
    /// [`authorize_as`](ConsentLedger::authorize_as), per subject always — so that a burst
    /// of refusals fires its [`AlertHook`](crate::audit::AlertHook) (Art. 25.2).
    pub fn monitor(mut self, monitor: Arc<RefusalMonitor>) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// Enforces `policy`: its version replaces the one given to
    /// [`builder`](ConsentLedger::builder), purposes it does not declare for a category are
    /// refused, and consents must take the form it requires.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.terms = Terms::of(policy);
        self
    }

    /// Writes every change to `journal` before it takes effect; only an
    /// [`Operator`](crate::store::Operator), which replays it at open, sets one.
    pub(crate) fn journal(mut self, journal: Arc<Journaled>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Sizes the ledger for `consents` consents of as many subjects: an operator's replay,
    /// which knows how many its snapshots give, inserts them without growing the maps.
    #[cfg(feature = "sqlite")]
    pub(crate) fn capacity(mut self, consents: usize) -> Self {
        self.capacity = consents;
        self
    }

    /// Builds the ledger.
    pub fn build(self) -> ConsentLedger {
        ConsentLedger {
            terms: ArcSwap::from_pointee(self.terms),
            adoption: RwLock::new(()),
            clock: Arc::clone(&self.clock),
            token_ttl_ms: i64::try_from(self.token_ttl.as_millis()).unwrap_or(i64::MAX),
            // A grant or a withdrawal holds its subject's shard while its change is kept
            // (a durable write, on a store): with the default shards (four per core), the
            // writers that a shared sync could carry together wait on each other instead.
            subjects: DashMap::with_capacity_and_hasher_and_shard_amount(
                self.capacity,
                foldhash::fast::RandomState::default(),
                SUBJECT_SHARDS,
            ),
            consents: DashMap::with_capacity_and_hasher(
                self.capacity,
                foldhash::fast::RandomState::default(),
            ),
            vocabulary: Vocabulary::default(),
            services: Arc::new(Services::new(Arc::clone(&self.clock), self.audit.clone())),
            audit: self.audit,
            monitor: self.monitor,
            journal: self.journal,
            listener: std::sync::OnceLock::new(),
        }
    }
}

// The constructors: each starts a builder from the defaults.
impl ConsentLedger {
    /// A ledger on the system clock with 5-minute tokens, recording consents under
    /// `policy_version`, with no policy to restrict purposes: every purpose a subject
    /// consents to is allowed.
    pub fn new(policy_version: PolicyVersion) -> Self {
        Self::builder(policy_version).build()
    }

    /// A ledger on the system clock with 5-minute tokens that enforces `policy`.
    pub fn with_policy(policy: Policy) -> Self {
        Self::builder(policy.version().clone())
            .policy(policy)
            .build()
    }

    /// Starts configuring a ledger that records consents under `policy_version`.
    pub fn builder(policy_version: PolicyVersion) -> LedgerBuilder {
        LedgerBuilder {
            terms: Terms {
                version: policy_version,
                policy: None,
            },
            clock: Arc::new(SystemClock),
            token_ttl: Duration::from_secs(5 * 60),
            audit: None,
            monitor: None,
            journal: None,
            capacity: 0,
        }
    }
}
