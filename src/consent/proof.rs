//! Proof of a consent: its events, its evidence, the policy version, and the audit entries
//! that carry them, checkable without the ledger or the rest of the log.

use serde::Serialize;

use super::{ConsentEvent, ConsentEventKind, ConsentId};
use crate::audit::{AuditEntry, AuditEvent};
use crate::vocab::{Evidence, PolicyVersion, SubjectId};

/// What a regulator is shown when asked "prove this customer consented" (Tajik law Art.
/// 25.1): the consent's events as the ledger holds them — given (with its form, evidence
/// and policy version), renewed, withdrawn, expired, invalidated — and the audit entries
/// that recorded them.
///
/// [`verify`](Self::verify) checks it on its own: each entry's hash matches its content and
/// its link to the entry before it, and each event is carried by an entry whose digest is
/// the event's. The entries are a subset of the log: that nothing was left out of the
/// log is what [`AuditLog::verify`](crate::audit::AuditLog::verify) shows over the whole.
///
/// It holds ids, purposes, categories, forms and digests — never a personal value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConsentProof {
    /// The consent.
    pub consent: ConsentId,
    /// Whose.
    pub subject: SubjectId,
    /// The policy version it was given under.
    pub policy_version: PolicyVersion,
    /// What proves it was given: a one-time password, a signed document, a receipt.
    pub evidence: Option<Evidence>,
    /// Its events, oldest first.
    pub events: Vec<ConsentEvent>,
    /// The audit entries that carry the events, in log order; empty when the ledger keeps
    /// no audit log.
    pub entries: Vec<AuditEntry>,
}

/// Why a [`ConsentProof`] does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// An entry's hash does not match its content: it was edited.
    #[error("audit entry {seq} was edited: its hash does not match its content")]
    EntryEdited {
        /// The entry's place in the log.
        seq: u64,
    },
    /// The entries are not in log order.
    #[error("audit entry {seq} is out of log order")]
    OutOfOrder {
        /// The entry's place in the log.
        seq: u64,
    },
    /// An event has no audit entry with its digest.
    #[error("the {change} event of consent {consent} is in no audit entry")]
    Unrecorded {
        /// The consent.
        consent: ConsentId,
        /// The event: `given`, `renewed`, `withdrawn`, `invalidated`.
        change: &'static str,
    },
    /// An entry is about another consent.
    #[error("audit entry {seq} is about another consent")]
    Foreign {
        /// The entry's place in the log.
        seq: u64,
    },
}

impl ConsentProof {
    /// Checks the proof on its own and returns how many events its entries carry.
    ///
    /// # Errors
    ///
    /// [`ProofError`] for the first entry or event that does not hold.
    pub fn verify(&self) -> Result<usize, ProofError> {
        let mut last = 0;
        for entry in &self.entries {
            if !entry.is_intact() {
                return Err(ProofError::EntryEdited { seq: entry.seq });
            }
            if entry.seq <= last {
                return Err(ProofError::OutOfOrder { seq: entry.seq });
            }
            last = entry.seq;
            if !matches!(&entry.event, AuditEvent::Consent { consent, .. } if *consent == self.consent)
            {
                return Err(ProofError::Foreign { seq: entry.seq });
            }
        }
        let mut carried = 0;
        for event in &self.events {
            // An expiry is not an action: it follows from the end of validity the given
            // and renewed events carry.
            if matches!(event.kind, ConsentEventKind::Expired) {
                continue;
            }
            let digest = event.digest();
            let found = self.entries.iter().any(|entry| {
                matches!(&entry.event, AuditEvent::Consent { digest: d, .. } if *d == digest)
            });
            if !found {
                return Err(ProofError::Unrecorded {
                    consent: self.consent,
                    change: event.change(),
                });
            }
            carried += 1;
        }
        Ok(carried)
    }
}
