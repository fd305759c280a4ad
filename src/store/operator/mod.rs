//! The embedded default: one directory holding everything an operator of personal data
//! must keep, rebuilt as it was at every open.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::RetentionSchedule;
use crate::audit::AuditLog;
use crate::consent::ConsentLedger;
use crate::disclosure::Disclosures;
use crate::event::Journaled;
use crate::notices::ChangeNotices;
use crate::policy::Policy;
use crate::rights::SubjectRequests;
#[cfg(feature = "sqlite")]
use crate::store::event_log::EventLog;
use crate::store::keys::KeyStore;
use crate::store::vault::Vault;

mod builder;
mod schedule;
mod sealable;
mod stores;
// In the order the operator's documentation lists their methods: opening it and what it
// holds, records kept and fetched, then what ends them.
mod facade;

mod records;

mod rights;

mod lifecycle;

pub use builder::OperatorBuilder;
#[cfg(feature = "sqlite")]
pub use builder::{DEFAULT_AUDIT_SYNC_WITHIN, DEFAULT_SNAPSHOT_AFTER};
#[cfg(feature = "sqlite")]
use lifecycle::Rotation;
pub use rights::{Export, ExportedRecord, IdentityCheck};
pub use schedule::OperatorSchedule;
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
    schedule: Arc<RetentionSchedule>,
    /// Shared with the ledger's services, which tell it of every record collected from a
    /// third party.
    disclosures: Arc<Disclosures>,
    notices: ChangeNotices,
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
    /// Up to when (milliseconds) the sweeps looked for consents whose term ended: from
    /// the start after an open, for a term that ended while the operator was closed.
    terms_checked: std::sync::atomic::AtomicI64,
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
