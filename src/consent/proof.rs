//! Proof of a consent: its events, its evidence, the policy version, and the audit entries
//! that carry them — consistent on its own, and anchored in the log that recorded them.

use serde::{Deserialize, Serialize};

use super::{ConsentEvent, ConsentEventKind, ConsentId};
use crate::audit::{AuditEntry, AuditLog, Reference};
use crate::error::{LogError, Problem};
use crate::log::{Anchor, CheckpointKey, Entry, GENESIS, LogStore, Seq};
use crate::payload;
use crate::vocab::{Evidence, PolicyVersion, SubjectId};

/// What a regulator is shown when asked "prove this customer consented" (Tajik law Art.
/// 25.1): the consent's events as the ledger holds them — given (with its form, evidence
/// and policy version), renewed, withdrawn, expired, invalidated — and the audit entries
/// that recorded them.
///
/// Two checks, from weaker to stronger:
///
/// - [`verify`](Self::verify), on the proof alone: every entry's hash matches its content,
///   the entries are in log order, each is about this consent and subject, the events and
///   the entries match one to one (each event but an expiry, which is not an action, by
///   the digest its entry carries), the first event is the consent being given, and the
///   policy version and evidence are those it was given with. It shows the proof is
///   consistent; anyone who can hash could build a consistent one.
/// - [`verify_against`](Self::verify_against) adds the log: the whole chain verifies and
///   each entry of the proof is the log's entry at its place. That is what ties the proof
///   to what was recorded at the time.
///
/// A consent recorded while the ledger kept no audit log, or whose withdrawal the log
/// could not record, has events no entry carries: the proof says so rather than pass.
///
/// It holds ids, purposes, categories, forms, references and digests — and, when a legal
/// representative gave the consent, the representative's name and mandate, as the
/// subject's history does. The audit entries hold only the digests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// no audit log (and then the proof does not verify).
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
    /// An entry is about another consent or subject, or carries an event the proof does
    /// not show.
    #[error("audit entry {seq} is not one of this consent's events")]
    Foreign {
        /// The entry's place in the log.
        seq: u64,
    },
    /// The proof does not start with the consent being given, or a field disagrees with
    /// the event that gave it.
    #[error("the proof's {field} does not match the consent as given")]
    Mismatch {
        /// `events`, `consent`, `policy_version` or `evidence`.
        field: &'static str,
    },
    /// An entry is not the log's entry at its place.
    #[error("audit entry {seq} is not the one the log holds at that place")]
    NotInLog {
        /// The entry's place in the log.
        seq: u64,
    },
    /// The log itself does not verify.
    #[error(transparent)]
    Log(#[from] crate::audit::AuditError),
    /// A change of this consent the log holds is not in the proof: a withdrawal made after
    /// the proof, or taken out of it.
    #[error("audit entry {seq} records a change of this consent the proof leaves out")]
    Omitted {
        /// The entry's place in the audit trail.
        seq: u64,
    },
    /// The operator's log does not verify against its anchor, or can't be read.
    #[error("the log does not verify against its anchor: {0}")]
    Anchored(#[from] LogError),
}

impl ConsentProof {
    /// Checks the proof on its own and returns how many events its entries carry. See the
    /// [type's documentation](Self) for what this does and does not show.
    ///
    /// # Errors
    ///
    /// [`ProofError`] for the first entry, event or field that does not hold.
    pub fn verify(&self) -> Result<usize, ProofError> {
        self.check_given()?;
        let mut last = 0;
        let mut digests = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            if !entry.is_intact() {
                return Err(ProofError::EntryEdited { seq: entry.seq });
            }
            if entry.seq <= last {
                return Err(ProofError::OutOfOrder { seq: entry.seq });
            }
            last = entry.seq;
            match entry.event.consent_event() {
                Some((subject, consent, digest))
                    if consent == self.consent && *subject == self.subject =>
                {
                    digests.push((entry.seq, digest));
                }
                _ => return Err(ProofError::Foreign { seq: entry.seq }),
            }
        }
        let mut carried = 0;
        for event in &self.events {
            if event.consent != Some(self.consent) {
                return Err(ProofError::Mismatch { field: "consent" });
            }
            // An expiry is not an action: it follows from the end of validity the given
            // and renewed events carry.
            if matches!(event.kind, ConsentEventKind::Expired) {
                continue;
            }
            let digest = event.digest();
            // One to one: an entry matched once can't vouch for a second, identical event.
            let Some(place) = digests.iter().position(|(_, d)| *d == digest) else {
                return Err(ProofError::Unrecorded {
                    consent: self.consent,
                    change: event.change(),
                });
            };
            digests.swap_remove(place);
            carried += 1;
        }
        // An entry left over carries an event the proof leaves out — a withdrawal, say.
        if let Some(&(seq, _)) = digests.iter().min_by_key(|(seq, _)| *seq) {
            return Err(ProofError::Foreign { seq });
        }
        Ok(carried)
    }

    /// Checks the proof on its own and against `log`: the whole chain verifies, and each
    /// entry of the proof is the one the log holds at its place. Returns how many events
    /// the entries carry.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); [`ProofError::Log`] if the log does not verify or
    /// can't be read; [`ProofError::NotInLog`] for an entry the log does not hold.
    pub fn verify_against(&self, log: &AuditLog) -> Result<usize, ProofError> {
        let carried = self.verify()?;
        let recorded = log.entries()?;
        // As the log verifies itself: an operator's vouches for the entries it shows
        // erased with their subjects.
        log.verify_entries(&recorded)?;
        for entry in &self.entries {
            let held = crate::slot(entry.seq).and_then(|i| recorded.get(i));
            if held != Some(entry) {
                return Err(ProofError::NotInLog { seq: entry.seq });
            }
        }
        Ok(carried)
    }

    /// Checks the proof against an operator's log as an auditor holds it — the log's store
    /// (a copy of `log.db` opened with `store::SqliteLogStore`), the public
    /// [`CheckpointKey`] and the [`Anchor`] its checkpoints were published to — with no
    /// secret key, and returns how many events its entries carry. Besides
    /// [`verify`](Self::verify):
    ///
    /// - the log verifies against the anchor
    ///   ([`verify_against_anchor`](crate::log::verify_against_anchor)), so it was not cut
    ///   short before the anchored checkpoint, nor rewritten with a fresh chain;
    /// - every entry of the proof is in that log, written there as a change — not an entry
    ///   any caller could append through the public audit log;
    /// - every change of this consent the log holds is in the proof, so a proof made before
    ///   a withdrawal, or stripped of one, does not verify.
    ///
    /// Entries written after the anchor's latest checkpoint are as sound as the hash chain
    /// makes them: the anchor can't vouch for them yet (see the
    /// [log's window](crate::log#the-window-a-truncated-tail-hides-in)).
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); [`ProofError::Anchored`] if the log does not verify
    /// against the anchor or can't be read; [`ProofError::NotInLog`] for an entry of the
    /// proof the log does not hold; [`ProofError::Omitted`] for a change of this consent
    /// the log holds and the proof leaves out.
    pub fn verify_against_anchor(
        &self,
        store: &dyn LogStore,
        key: &CheckpointKey,
        anchor: &dyn Anchor,
    ) -> Result<usize, ProofError> {
        let carried = self.verify()?;
        let verified = crate::log::verify_against_anchor(store, key, anchor)?;
        let head = verified.head.map(|h| (h.seq, h.hash));
        let mut found = vec![false; self.entries.len()];
        let mut omitted = None;
        let mut read = (Seq::new(0), GENESIS);
        let stop = || LogError::Stopped("read as far as needed".into());
        let walked = store.read_from(Seq::FIRST, &mut |entry| {
            if head.is_none_or(|(seq, _)| entry.seq > seq) {
                return Err(stop());
            }
            // Read again, bound to the chain just verified: the same links and hashes.
            let problem = if entry.prev != read.1 {
                Some(Problem::BrokenLink)
            } else if Entry::compute_hash(entry.seq, entry.at_ms, &entry.prev, &entry.payload)
                != entry.hash
            {
                Some(Problem::HashMismatch)
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(LogError::Tampered {
                    position: entry.seq,
                    problem,
                });
            }
            read = (entry.seq, entry.hash);
            // What the entry says of this consent, where it says anything: from the JSON of
            // one in clear; from the clear part of one sealed under its subject's key — its
            // consent, and its audit position and hash, which a proof's entry, hashed
            // again, must have. A payload this library did not write is about no consent.
            let (change, in_proof, seq) = if payload::sealed_kind(&entry.payload).is_some() {
                let Ok(header) = payload::header(&entry.payload) else {
                    return Ok(());
                };
                if header.reference != Some(Reference::Consent(self.consent)) {
                    return Ok(());
                }
                let place = self
                    .entries
                    .iter()
                    .position(|e| e.seq == header.seq && e.hash == header.hash);
                (header.change, place, header.seq)
            } else {
                let Ok((change, audited)) = payload::from_log_payload(&entry.payload) else {
                    return Ok(());
                };
                let about = audited.event.consent_event();
                if about.is_none_or(|(_, consent, _)| consent != self.consent) {
                    return Ok(());
                }
                let place = self.entries.iter().position(|e| *e == audited);
                (change, place, audited.seq)
            };
            // Only what the operator wrote as a change proves anything, and must be in the
            // proof: anyone may append an audit-only entry naming the consent.
            match in_proof {
                Some(i) if change => found[i] = true,
                None if change => {
                    omitted = Some(seq);
                    return Err(stop());
                }
                _ => {}
            }
            Ok(())
        });
        if let Some(seq) = omitted {
            return Err(ProofError::Omitted { seq });
        }
        match walked {
            Ok(()) | Err(LogError::Stopped(_)) => {}
            Err(e) => return Err(e.into()),
        }
        if head.is_some_and(|h| h != read) {
            // The store changed under the check.
            return Err(LogError::Tampered {
                position: Seq::new(read.0.get() + 1),
                problem: Problem::Truncated,
            }
            .into());
        }
        match found.iter().position(|f| !f) {
            Some(i) => Err(ProofError::NotInLog {
                seq: self.entries[i].seq,
            }),
            None => Ok(carried),
        }
    }

    /// The first event is the consent being given, and the proof's own fields are those
    /// it was given with.
    fn check_given(&self) -> Result<(), ProofError> {
        let Some(ConsentEvent {
            kind:
                ConsentEventKind::Given {
                    policy_version,
                    evidence,
                    ..
                },
            ..
        }) = self.events.first()
        else {
            return Err(ProofError::Mismatch { field: "events" });
        };
        if *policy_version != self.policy_version {
            return Err(ProofError::Mismatch {
                field: "policy_version",
            });
        }
        if *evidence != self.evidence {
            return Err(ProofError::Mismatch { field: "evidence" });
        }
        let given_again = self.events[1..]
            .iter()
            .any(|e| matches!(e.kind, ConsentEventKind::Given { .. }));
        if given_again {
            return Err(ProofError::Mismatch { field: "events" });
        }
        Ok(())
    }
}
