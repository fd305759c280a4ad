//! Opening an operator, and what it holds: its policy, ledger, schedule, registers and
//! audit trail.

#[cfg(feature = "sqlite")]
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::audit::AuditLog;
use crate::consent::ConsentLedger;
use crate::disclosure::Disclosures;
#[cfg(feature = "sqlite")]
use crate::key::KeyProvider;
#[cfg(feature = "sqlite")]
use crate::log::{CheckpointKey, Verified};
use crate::notices::ChangeNotices;
use crate::policy::Policy;
use crate::rights::{AccessReport, ReportSources, SubjectRequests};
#[cfg(feature = "sqlite")]
use crate::store::vault::StoreError;
use crate::vocab::SubjectId;

use super::{Operator, OperatorBuilder, OperatorSchedule, Stores, builder::Place};

/// Opening, and what the operator holds.
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

    /// The retention schedule: the records it tracks, their deadlines, its decisions and
    /// legal holds, each kept. Sweeps and triggers are the operator's own
    /// ([`sweep`](Self::sweep), [`trigger`](Self::trigger)), which check their time
    /// against its clock and say when the store has stopped.
    pub fn schedule(&self) -> OperatorSchedule<'_> {
        OperatorSchedule::new(self)
    }

    /// The register of transfers and the notices they owe.
    pub fn disclosures(&self) -> &Disclosures {
        &self.disclosures
    }

    /// The register of the notices owed when a record is corrected, blocked or destroyed at
    /// the subject's request, where the policy's pack asks them (Uzbek law Art. 31).
    pub fn change_notices(&self) -> &ChangeNotices {
        &self.notices
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
