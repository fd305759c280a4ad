//! The policy in force, and adopting a new version of it (IMANUM §6): a version that
//! requires re-consent ends the consents given under others, at adoption or at the next
//! open after a crash.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use serde::Serialize;

use super::history::Event;
use super::record::{purposes_mask, withdraw_purposes};
use super::{ConsentId, ConsentLedger, Terms};
use crate::Error;
use crate::audit::{self, AuditEvent};
use crate::error::StoreError;
use crate::policy::Policy;
use crate::vocab::PolicyVersion;

/// What adopting a policy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Adoption {
    /// The version now in force.
    pub policy_version: PolicyVersion,
    /// The consents it ended because it requires re-consent, in no particular order.
    pub invalidated: Vec<ConsentId>,
}

// The policy in force: reading it, adopting a new version, resuming one after a crash.
impl ConsentLedger {
    /// The policy version new consents are bound to.
    pub fn policy_version(&self) -> PolicyVersion {
        self.terms.load().version.clone()
    }

    /// The policy in force, if the ledger enforces one.
    pub fn policy(&self) -> Option<Arc<Policy>> {
        self.terms.load().policy.clone()
    }

    /// Puts a new version of the policy in force (IMANUM §6). Consents given under earlier
    /// versions stay valid — unless the new one [requires
    /// re-consent](Policy::requires_reconsent): then every consent in force given under
    /// another version ends now, tokens issued on it fail at their next use, and
    /// `authorize` answers [`Error::ReconsentRequired`] until the subject grants again.
    ///
    /// Tokens already issued under the old policy run to their (short) expiry; new ones
    /// follow the new policy at once.
    ///
    /// # Errors
    ///
    /// [`Error::SamePolicyVersion`] if a policy with that version is already in force;
    /// [`Error::AuditUnavailable`] if the audit log can't record the change.
    pub fn adopt(&self, policy: Policy) -> Result<Adoption, Error> {
        let _adopting = self
            .adoption
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let version = policy.version().clone();
        let current = self.terms.load();
        if version == current.version && current.policy.is_some() {
            return Err(Error::SamePolicyVersion {
                policy_version: version,
            });
        }
        let requires_reconsent = policy.requires_reconsent();
        self.record_adoption(&version)?;
        self.terms.store(Arc::new(Terms::of(policy)));
        let invalidated = if requires_reconsent {
            self.end_consents_not_under(&version)
        } else {
            Vec::new()
        };
        let kept = self.keep_adoption(&version);
        if let Some(why) = self.journal.as_ref().and_then(|j| j.stopped()) {
            return Err(Error::NotStored(StoreError::Stopped(why)));
        }
        kept?;
        Ok(Adoption {
            policy_version: version,
            invalidated,
        })
    }

    /// Records that `version` comes into force, before it does: in the audit log, where the
    /// journal is not also the audit trail, so that an adoption the log can't record is not
    /// made. Where it is (an operator's log), the one entry is written last
    /// ([`keep_adoption`](Self::keep_adoption)), and a stopped log refuses here.
    ///
    /// # Errors
    ///
    /// [`Error::AuditUnavailable`] if the audit log can't record it.
    fn record_adoption(&self, version: &PolicyVersion) -> Result<(), Error> {
        match (&self.audit, &self.journal) {
            (Some(log), Some(journal)) if journal.carries_audit() => Ok(log.ensure_running()?),
            (log, _) => audit::record(log.as_ref(), self.clock.now(), || {
                AuditEvent::PolicyChange {
                    version: version.clone(),
                }
            }),
        }
    }

    /// Keeps that `version` is in force, last: an adoption a crash interrupted is finished
    /// at the next open.
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] if the journal can't keep it.
    fn keep_adoption(&self, version: &PolicyVersion) -> Result<(), Error> {
        // Not to the audit log a second time: `record_adoption` recorded it there.
        audit::change(
            None,
            self.journal.as_deref(),
            self.clock.now(),
            AuditEvent::PolicyChange {
                version: version.clone(),
            },
            audit::Stands::IfRecorded,
        )
    }

    /// Ends every consent in force given under a version other than `version`, as a policy
    /// that requires re-consent does; returns them.
    fn end_consents_not_under(&self, version: &PolicyVersion) -> Vec<ConsentId> {
        let now = self.clock.now_millis();
        let mut invalidated = Vec::new();
        for mut entry in self.subjects.iter_mut() {
            let entry = entry.value_mut();
            let mut events = Vec::new();
            for record in entry.consents() {
                if *record.policy_version() == *version || record.ensure_open(now).is_err() {
                    continue;
                }
                let open = !record.withdrawn.load(Ordering::Acquire) & purposes_mask(record);
                // Set before the flags: a token that fails on the flags finds the reason.
                record.invalidate(version.clone(), open);
                withdraw_purposes(record, |_| true);
                let event = Event::Invalidated {
                    record: Arc::clone(record),
                    by: version.clone(),
                    at: now,
                };
                // Ended in memory whatever the journal says: a failure stops it, and the
                // caller reports it.
                let _ = self.keep_event(record, &event, false);
                events.push(event);
                invalidated.push(record.id);
            }
            for event in events {
                entry.then(event);
            }
        }
        invalidated
    }

    /// Puts the ledger's policy in force over a journal replayed under `last`, the version
    /// in force when it was last written: a new version that requires re-consent ends the
    /// consents given under others, as [`adopt`](Self::adopt) would have.
    ///
    /// # Errors
    ///
    /// [`Error::NotStored`] if the journal can't keep it.
    pub(crate) fn resume_under(&self, last: Option<&PolicyVersion>) -> Result<(), Error> {
        let terms = self.terms.load();
        if last == Some(&terms.version) {
            return Ok(());
        }
        if last.is_some()
            && terms
                .policy
                .as_ref()
                .is_some_and(|p| p.requires_reconsent())
        {
            self.record_adoption(&terms.version)?;
            self.end_consents_not_under(&terms.version);
        }
        self.keep_adoption(&terms.version)?;
        match self.journal.as_ref().and_then(|j| j.stopped()) {
            Some(why) => Err(Error::NotStored(StoreError::Stopped(why))),
            None => Ok(()),
        }
    }
}
