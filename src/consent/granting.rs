//! Granting a consent and renewing one in force: the checks against the policy, and the
//! order in which a new consent is made visible.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use super::history::{Event, end};
use super::{ConsentId, ConsentLedger, Grant, MAX_PURPOSES, NEVER, WithCategory, WithPurpose};
use crate::Error;
use crate::clock::millis_to_time;
use crate::event::Given;
use crate::vocab::{FormKind, GivenBy};

// Granting and renewing: what widens processing, so nothing stands that the log refused.
impl ConsentLedger {
    /// Records a consent and returns its id.
    ///
    /// # Errors
    ///
    /// [`Error::ValidityNotInFuture`] if its `valid_until` is not in the future;
    /// [`Error::TooManyPurposes`] if it names more than 64 purposes; with a policy,
    /// [`Error::PurposeNotDeclared`] or [`Error::CategoryNotDeclared`] if it names a
    /// purpose or category the policy does not declare;
    /// [`Error::RepresentativeConsentNotWritten`] if a legal representative gave it in a
    /// form weaker than writing where the pack asks writing (ZRU-547 Art. 21);
    /// [`Error::AuditUnavailable`] if the
    /// audit log can't record it (nothing is recorded then).
    pub fn grant(&self, grant: Grant<WithPurpose, WithCategory>) -> Result<ConsentId, Error> {
        if let Some(category) = grant.impostor {
            return Err(Error::CategoryIdTaken { category });
        }
        let _granting = self.adoption.read().unwrap_or_else(PoisonError::into_inner);
        let terms = self.terms.load();
        if let Some(policy) = &terms.policy {
            let version = || terms.version.clone();
            // A consent stamped with another version would escape the re-consent that
            // version's adoption demands (or will demand).
            if let Some(given) = grant
                .policy_version
                .as_ref()
                .filter(|v| **v != terms.version)
            {
                return Err(Error::PolicyVersionMismatch {
                    subject: grant.subject,
                    given: given.clone(),
                    policy_version: version(),
                });
            }
            if let Some(purpose) = grant.purposes.iter().find(|p| policy.purpose(p).is_none()) {
                return Err(Error::PurposeNotDeclared {
                    subject: grant.subject,
                    purpose: purpose.clone(),
                    policy_version: version(),
                });
            }
            if let Some((category, _)) = grant
                .categories
                .iter()
                .find(|(c, _)| policy.category(c.as_str()).is_none())
            {
                return Err(Error::CategoryNotDeclared {
                    subject: grant.subject,
                    category: category.clone(),
                    policy_version: version(),
                });
            }
            // A minor's or an incapable subject's consent is given by their representative,
            // in writing where the law asks it (ZRU-547 Art. 21).
            let pack = policy.pack();
            if let (GivenBy::LegalRepresentative { .. }, Some(rule)) =
                (&grant.given_by, pack.representative_written)
                && pack.strength(&grant.form) < FormKind::Written
            {
                return Err(Error::RepresentativeConsentNotWritten {
                    subject: grant.subject,
                    article: rule.article,
                });
            }
        }
        let now = self.clock.now_millis();
        let valid_until = grant.valid_until.map_or(NEVER, |t| t.timestamp_millis());
        if valid_until <= now {
            return Err(Error::ValidityNotInFuture {
                subject: grant.subject,
                valid_until: millis_to_time(valid_until),
            });
        }
        if grant.purposes.len() > MAX_PURPOSES {
            return Err(Error::TooManyPurposes {
                subject: grant.subject,
                count: grant.purposes.len(),
            });
        }
        let purposes = grant
            .purposes
            .into_iter()
            .map(|p| self.vocabulary.canonical(p))
            .collect();
        let id = ConsentId::random();
        let mut entry = self.subjects.entry(grant.subject).or_default();
        let record = self.record_of(
            self.terms_of(Given {
                consent: id,
                // Share the ledger's copy of the id, so reads compare pointers, not bytes.
                subject: entry.key().clone(),
                at: millis_to_time(now),
                purposes,
                categories: grant.categories,
                form: grant.form,
                given_by: grant.given_by,
                policy_version: grant
                    .policy_version
                    .unwrap_or_else(|| terms.version.clone()),
                evidence: grant.evidence,
                recipients: grant.recipients,
                cross_border: grant.cross_border,
                valid_until: end(valid_until),
            }),
        );
        let given = Event::Given(Arc::clone(&record));
        if let Err(failed) = self.keep_event(&record, &given, false) {
            drop(entry);
            self.forget_if_empty(&record.subject);
            return Err(failed);
        }
        entry.then(given);
        // Registered by id before the subject's entry is released, so that no token can be
        // issued on a consent that `withdraw` can't find yet. This is the only place the
        // two maps are locked together, always subject first: no lock order can deadlock.
        self.consents.insert(id, record);
        drop(entry);
        Ok(id)
    }

    /// Moves the end of a consent's validity, or removes it with `None`. The subject renews
    /// a consent that is still in force; one that has expired needs a new grant.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownConsent`] if there is no such consent; [`Error::AlreadyWithdrawn`] if
    /// it was withdrawn for every purpose; [`Error::ConsentNotInForce`] if it has expired;
    /// [`Error::ValidityNotInFuture`] if the new end is not in the future;
    /// [`Error::AuditUnavailable`] if the audit log can't record it.
    pub fn renew(
        &self,
        consent: &ConsentId,
        valid_until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), Error> {
        let (record, mut entry) = self.lock_consent(consent)?;
        let now = self.clock.now_millis();
        record.ensure_open(now)?;
        let until = valid_until.map_or(NEVER, |t| t.timestamp_millis());
        if until <= now {
            return Err(Error::ValidityNotInFuture {
                subject: record.subject.clone(),
                valid_until: millis_to_time(until),
            });
        }
        let event = Event::Renewed {
            record: Arc::clone(&record),
            valid_until: until,
            at: now,
        };
        self.keep_event(&record, &event, false)?;
        record.valid_until.store(until, Ordering::Release);
        entry.then(event);
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Phone;
    use crate::consent::tests::{ledger, otp};
    use crate::vocab::{Purpose, SubjectId};

    #[test]
    fn a_grant_of_more_purposes_than_withdrawal_bits_is_refused() {
        let subject = SubjectId::new("s").unwrap();
        let mut grant = Grant::new(subject.clone(), otp())
            .purpose(Purpose::new("p0").unwrap())
            .category::<Phone>();
        for n in 1..=MAX_PURPOSES {
            grant = grant.purpose(Purpose::new(format!("p{n}")).unwrap());
        }
        assert!(matches!(
            ledger().grant(grant),
            Err(Error::TooManyPurposes { count: 65, .. })
        ));
        let mut grant = Grant::new(subject, otp())
            .purpose(Purpose::new("p0").unwrap())
            .category::<Phone>();
        for n in 1..MAX_PURPOSES {
            grant = grant.purpose(Purpose::new(format!("p{n}")).unwrap());
        }
        let ledger = ledger();
        let id = ledger.grant(grant).unwrap();
        // The last bit works like the first.
        let last = Purpose::new(format!("p{}", MAX_PURPOSES - 1)).unwrap();
        let subject = SubjectId::new("s").unwrap();
        let withdrawal = ledger.withdraw_purpose(&subject, &last).unwrap();
        assert_eq!(withdrawal.withdrawn, [(id, vec![last.clone()])]);
        assert!(ledger.authorize::<Phone>(&subject, &last).is_err());
        let first = Purpose::new("p0").unwrap();
        assert!(ledger.authorize::<Phone>(&subject, &first).is_ok());
    }
}
