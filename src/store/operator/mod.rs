//! The embedded default: one directory holding everything an operator of personal data
//! must keep, rebuilt as it was at every open.

use std::fmt;
#[cfg(feature = "sqlite")]
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::AuditLog;
use crate::consent::ConsentLedger;
use crate::disclosure::Disclosures;
use crate::event::Journaled;
#[cfg(feature = "sqlite")]
use crate::key::KeyProvider;
#[cfg(feature = "sqlite")]
use crate::log::{CheckpointKey, Verified};
use crate::policy::Policy;
use crate::rights::{AccessReport, ReportSources, SubjectRequests};
#[cfg(feature = "sqlite")]
use crate::store::event_log::EventLog;
use crate::store::keys::KeyStore;
#[cfg(feature = "sqlite")]
use crate::store::vault::StoreError;
use crate::store::vault::Vault;
use crate::vocab::SubjectId;
use crate::{Error, RetentionSchedule};

mod builder;
mod lifecycle;
mod records;
mod sealable;
mod stores;

pub use builder::OperatorBuilder;
use builder::Place;
#[cfg(feature = "sqlite")]
pub use builder::{DEFAULT_AUDIT_SYNC_WITHIN, DEFAULT_SNAPSHOT_AFTER};
#[cfg(feature = "sqlite")]
use lifecycle::Rotation;
pub use sealable::Sealable;
pub use stores::Stores;

/// Everything an operator of personal data keeps, in one directory: the consent ledger,
/// the retention schedule, the registers of transfer notices and subject requests — all
/// written to a journal before each change takes effect and rebuilt from it at open — the
/// audit log, and the personal data itself, sealed with a key per record in a vault whose
/// keys are kept in a file of their own. [`Operator::with_stores`] runs on other stores.
///
/// Copies of records read with [`fetch`](Self::fetch) belong to the operator that read
/// them: after reopening, read them again from the new one.
///
// `Operator::open` is the embedded SQLite store's: without it, the example is not built.
#[cfg_attr(feature = "sqlite", doc = "```")]
#[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
/// use amanat::category::Phone;
/// use amanat::store::Operator;
/// use amanat::store::kek::KeyDir;
/// use amanat::{ConsentForm, ElectronicMethod, Grant, PersonalData, Policy, Purpose, SubjectId};
///
/// let dir = tempfile::tempdir()?;
/// // The key-encryption keys live apart from the data: a copy of `dir` alone opens nothing
/// // once a record in it is shredded.
/// let keys = tempfile::tempdir()?;
/// let policy = Policy::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/imanum.toml"))?;
/// let subject = SubjectId::new("cust-1")?;
/// let record = {
///     let operator = Operator::open(dir.path(), policy.clone(), KeyDir::new(keys.path().join("amanat-keys"))?)?;
///     operator.ledger().grant(
///         Grant::new(subject.clone(), ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword })
///             .purpose(Purpose::SERVICE_PROVISION)
///             .category::<Phone>(),
///     )?;
///     let token = operator.ledger().authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
///     let mut phone = PersonalData::collect(&subject, String::from("+998901234567"), &token)?;
///     operator.keep(&mut phone, &token)?;
///     phone.id()
/// };
///
/// // Another process, another day: the consent and the sealed phone number are there.
/// let operator = Operator::open(dir.path(), policy, KeyDir::new(keys.path().join("amanat-keys"))?)?;
/// let token = operator.ledger().authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
/// let phone = operator.fetch::<String, Phone>(record, &token)?;
/// assert_eq!(phone.read(&token)?.as_str(), "+998901234567");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Operator {
    dir: Option<PathBuf>,
    policy: Arc<Policy>,
    ledger: ConsentLedger,
    schedule: RetentionSchedule,
    disclosures: Disclosures,
    requests: SubjectRequests,
    audit: Arc<AuditLog>,
    journal: Arc<Journaled>,
    keys: Arc<dyn KeyStore>,
    vault: Arc<dyn Vault>,
    #[cfg(feature = "sqlite")]
    rotation: Option<Arc<Rotation>>,
    /// The log the journal and the audit log share, closed as the operator drops.
    #[cfg(feature = "sqlite")]
    event_log: Option<Arc<EventLog>>,
    /// The directory's lock, released when the operator drops.
    _lock: Option<std::fs::File>,
}

impl Drop for Operator {
    fn drop(&mut self) {
        // Before the lock is released: the next operator finds every acknowledged entry
        // on disk and the last checkpoint signed.
        #[cfg(feature = "sqlite")]
        if let Some(log) = &self.event_log {
            log.close();
        }
    }
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operator")
            .field("dir", &self.dir)
            .field("policy", self.policy.version())
            .field("ledger", &self.ledger)
            .field("schedule", &self.schedule)
            .field("stopped", &self.journal.stopped())
            .finish_non_exhaustive()
    }
}

impl Operator {
    /// Opens the operator's directory `dir` under `policy`, with the key-encryption keys
    /// of `keys` (a [`KeyDir`](crate::key::KeyDir) outside `dir`, an
    /// [`EnvKey`](crate::key::EnvKey), or your KMS), on the system clock, located in the
    /// policy's home country. See [`OperatorBuilder::open`].
    ///
    /// # Errors
    ///
    /// As [`OperatorBuilder::open`].
    #[cfg(feature = "sqlite")]
    pub fn open(
        dir: impl AsRef<Path>,
        policy: Policy,
        keys: impl KeyProvider + 'static,
    ) -> Result<Self, StoreError> {
        Self::builder(dir, policy, keys).open()
    }

    /// Starts configuring an operator on the embedded stores in `dir`
    /// ([`Stores::in_dir`]) under `policy`, with the key-encryption keys of `keys`.
    #[cfg(feature = "sqlite")]
    pub fn builder(
        dir: impl AsRef<Path>,
        policy: Policy,
        keys: impl KeyProvider + 'static,
    ) -> OperatorBuilder {
        Self::builder_on(
            Place::Dir(dir.as_ref().to_path_buf(), Arc::new(keys)),
            policy,
        )
    }

    /// Starts configuring an operator on `stores` under `policy`: your own database's, or
    /// [`Stores::in_memory`].
    pub fn with_stores(stores: Stores, policy: Policy) -> OperatorBuilder {
        Self::builder_on(Place::Stores(stores), policy)
    }

    /// The policy in force.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The consent ledger: every grant, renewal and withdrawal through it is kept before
    /// it is acknowledged.
    pub fn ledger(&self) -> &ConsentLedger {
        &self.ledger
    }

    /// The retention schedule: records tracked, triggers, holds and destructions are kept.
    /// Sweep through [`sweep`](Self::sweep), which also says when the store has stopped.
    pub fn schedule(&self) -> &RetentionSchedule {
        &self.schedule
    }

    /// The register of transfers and the notices they owe.
    pub fn disclosures(&self) -> &Disclosures {
        &self.disclosures
    }

    /// The register of subjects' requests.
    pub fn requests(&self) -> &SubjectRequests {
        &self.requests
    }

    /// The audit trail: every entry the operator wrote, to read and verify. It takes no
    /// appended entry ([`AuditError::NotAppendable`](crate::audit::AuditError)), and it is
    /// lent, not shared: no ledger, schedule or register of yours can be built on it to
    /// write into it, and none of it outlives the operator.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// The public key the log's checkpoints are signed with, for an auditor's
    /// [`verify_against_anchor`](crate::log::verify_against_anchor); `None` for an
    /// operator on stores without the authenticated log.
    #[cfg(feature = "sqlite")]
    pub fn checkpoint_key(&self) -> Option<CheckpointKey> {
        self.event_log
            .as_ref()
            .map(|log| log.log().checkpoint_key())
    }

    /// Verifies the whole log from its first entry — every hash, link and MAC, and every
    /// checkpoint the store holds — where opening checks only what follows the last
    /// checkpoint, and checks that every snapshot holds exactly the changes of the entries
    /// it covers, where opening trusts its MAC; `None` for an operator on stores without
    /// the authenticated log.
    ///
    /// # Errors
    ///
    /// [`StoreError::Log`] with [`LogError::Tampered`](crate::log::LogError::Tampered)
    /// naming the first bad entry; [`StoreError::Io`] if the log can't be read.
    #[cfg(feature = "sqlite")]
    pub fn verify_full(&self) -> Result<Option<Verified>, StoreError> {
        self.event_log
            .as_ref()
            .map(|log| {
                let verified = log.log().verify_full()?;
                log.check_snapshots()?;
                Ok(verified)
            })
            .transpose()
    }

    /// What `subject` is told on an access request, from everything the operator keeps
    /// ([`access_report`](crate::rights::access_report)).
    ///
    /// # Errors
    ///
    /// As [`access_report`](crate::rights::access_report).
    pub fn access_report(
        &self,
        subject: &SubjectId,
        now: DateTime<Utc>,
    ) -> Result<AccessReport, Error> {
        crate::rights::access_report(
            subject,
            ReportSources::new(&self.policy, &self.ledger)
                .schedule(&self.schedule)
                .audit(&self.audit),
            now,
        )
    }
}
