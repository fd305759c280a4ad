//! What the ledger tells about consents already recorded: whose one is, which a subject
//! gave, their history, and the proof of one.

use std::sync::Arc;

use super::{ConsentEvent, ConsentId, ConsentLedger, ConsentProof};
use crate::Error;
use crate::vocab::SubjectId;

// Queries: read-only answers about consents already recorded.
impl ConsentLedger {
    /// Every consent event of `subject`, oldest first: each consent given with all it
    /// covered, its form, evidence and policy version; each renewal, withdrawal and expiry;
    /// each use of another legal basis with its reference. Enough to prove later what the
    /// processing stood on (Art. 25.1). Empty for an unknown subject.
    pub fn history(&self, subject: &SubjectId) -> Vec<ConsentEvent> {
        let now = self.clock.now_millis();
        self.subjects
            .get(subject)
            .map(|entry| entry.history(now))
            .unwrap_or_default()
    }

    /// The proof of a consent: its events, evidence and policy version, with the audit
    /// entries that recorded them (Art. 25.1). Check it with [`ConsentProof::verify`].
    ///
    /// # Errors
    ///
    /// [`Error::UnknownConsent`] if the ledger has no such consent;
    /// [`Error::AuditUnavailable`] if the audit log can't be read.
    ///
    /// ```
    /// use amanat::audit::AuditLog;
    /// use amanat::{category::Phone, ConsentForm, ConsentLedger, ElectronicMethod, Grant,
    ///              PolicyVersion, Purpose, SubjectId};
    /// use std::sync::Arc;
    ///
    /// let ledger = ConsentLedger::builder(PolicyVersion::new("v1")?)
    ///     .audit(Arc::new(AuditLog::in_memory()))
    ///     .build();
    /// let subject = SubjectId::new("cust-1")?;
    /// let consent = ledger.grant(
    ///     Grant::new(subject, ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword })
    ///         .purpose(Purpose::SERVICE_PROVISION)
    ///         .category::<Phone>(),
    /// )?;
    /// ledger.withdraw(&consent)?;
    ///
    /// let proof = ledger.proof_of_consent(&consent)?;
    /// assert_eq!(proof.verify()?, 2); // given, withdrawn
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn proof_of_consent(&self, consent: &ConsentId) -> Result<ConsentProof, Error> {
        let record = self
            .consents
            .get(consent)
            .map(|r| Arc::clone(r.value()))
            .ok_or(Error::UnknownConsent { consent: *consent })?;
        let events: Vec<ConsentEvent> = self
            .history(&record.subject)
            .into_iter()
            .filter(|e| e.consent == Some(*consent))
            .collect();
        let entries = match &self.audit {
            Some(log) => log
                .entries()?
                .into_iter()
                .filter(|e| {
                    e.event
                        .consent_event()
                        .is_some_and(|(_, c, _)| c == *consent)
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(ConsentProof {
            consent: *consent,
            subject: record.subject.clone(),
            policy_version: record.policy_version().clone(),
            evidence: record.evidence().cloned(),
            events,
            entries,
        })
    }

    /// The ids of the consents `subject` has given, oldest first, whatever their state.
    pub fn consents_of(&self, subject: &SubjectId) -> Vec<ConsentId> {
        self.subjects
            .get(subject)
            .map(|entry| entry.consents().map(|r| r.id).collect())
            .unwrap_or_default()
    }
}

// Terms that ended: what a sweep turns into destructions (ZRU-547 Art. 17).
impl ConsentLedger {
    /// Each purpose whose consent's term ended after `after` and by `until` (milliseconds
    /// since the epoch), with its subject and the categories of that consent no other
    /// consent of the subject's holds for the purpose at `until`. A purpose withdrawn
    /// before its term ended is not among them: the withdrawal brought its records forward
    /// already.
    ///
    /// One pass over the consents, in which a consent with no term of its own costs a load
    /// and a compare; the subjects of those that ended are looked at after it, never while
    /// a shard of the consents is held: `grant` locks a subject before its consent, so
    /// the other order could deadlock with it.
    pub(crate) fn terms_ended(
        &self,
        after: i64,
        until: i64,
    ) -> Vec<(
        SubjectId,
        crate::vocab::Purpose,
        Vec<crate::category::CategoryId>,
    )> {
        use std::sync::atomic::Ordering::Acquire;
        let ended: Vec<Arc<super::record::ConsentRecord>> = self
            .consents
            .iter()
            .filter(|record| {
                let valid_until = record.valid_until.load(Acquire);
                after < valid_until && valid_until <= until
            })
            .map(|record| Arc::clone(record.value()))
            .collect();
        let mut found = Vec::new();
        for record in ended {
            let Some(entry) = self.subjects.get(&record.subject) else {
                continue;
            };
            for (p, purpose) in record.purposes().iter().enumerate() {
                if record.is_withdrawn(p) {
                    continue;
                }
                // Another consent in force that names the purpose for the category.
                let held = |category: &crate::category::CategoryId| {
                    entry.consents().any(|other| {
                        other.valid_until.load(Acquire) > until
                            && other.categories().iter().any(|(c, _)| c == category)
                            && other
                                .purposes()
                                .iter()
                                .position(|q| q == purpose)
                                .is_some_and(|q| !other.is_withdrawn(q))
                    })
                };
                let categories: Vec<_> = record
                    .categories()
                    .iter()
                    .map(|(c, _)| c.clone())
                    .filter(|c| !held(c))
                    .collect();
                if !categories.is_empty() {
                    found.push((record.subject.clone(), purpose.clone(), categories));
                }
            }
        }
        found.sort_by(|a, b| (a.0.as_str(), a.1.as_str()).cmp(&(b.0.as_str(), b.1.as_str())));
        found
    }
}
