//! Authorizing: the hot read path that turns a consent in force into a token, or into the
//! refusal closest to success, and the audit and monitoring of each decision.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::record::ConsentRecord;
use super::token::Grounds;
use super::{ConsentLedger, ConsentToken, Terms};
use crate::Error;
use crate::audit::AuditEvent;
use crate::category::{Category, Named};
use crate::clock::millis_to_time;
use crate::vocab::{Actor, FormKind, Purpose, SubjectId};

/// What a refusal cites when no policy is in force: the category type asked for writing.
pub(super) const NO_POLICY: &str = "no policy in force: the category type asks it";

/// The refusals `authorize` can give when no consent holds, most specific last, so the
/// caller hears the reason closest to success.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Miss {
    NoConsent,
    CategoryNotCovered,
    Expired(usize, i64),
    Withdrawn(usize),
    Invalidated(usize, usize),
    TooWeak(usize, FormKind),
    /// A legal representative's consent weaker than the writing the pack asks of it.
    Representative(usize),
}

// Authorizing on consent: the read path, out-of-line observation, and the refusal's reason.
impl ConsentLedger {
    /// Checks that `subject` has a consent in force that covers `purpose` for category `C`,
    /// and issues a token for it.
    ///
    /// Among several consents that cover it, the one valid longest is used; the token lives
    /// for the ledger's token TTL, never past that consent's end.
    ///
    /// # Errors
    ///
    /// With a policy, [`Error::NotDeclared`] if it does not declare `purpose` for `C`
    /// (Art. 8.2, 8.3). When no consent holds, the reason closest to success:
    /// [`Error::FormTooWeak`] if the consent is weaker than the policy requires;
    /// [`Error::ReconsentRequired`] if a new policy version ended it;
    /// [`Error::WrittenConsentRequired`] if `C` is a special category and the consent that
    /// covers it is not written (Art. 17.1); [`Error::ConsentWithdrawn`];
    /// [`Error::ConsentExpired`]; [`Error::CategoryNotCovered`] if consents for the purpose
    /// exist but none names `C` (Art. 8.3); [`Error::NoConsent`] otherwise. With an audit
    /// log, [`Error::AuditUnavailable`] instead of a token the log can't record.
    pub fn authorize<C: Category>(
        &self,
        subject: &SubjectId,
        purpose: &Purpose,
    ) -> Result<ConsentToken<C>, Error> {
        if self.watched() {
            return self.authorize_observed(None, subject, purpose);
        }
        // In tail position, so the decision is built straight in the caller's slot: the
        // result is 96 bytes, and one more move of it shows on the hot path.
        self.decide::<C>(subject, purpose)
    }

    /// [`authorize`](Self::authorize) for a named `actor`: the audit log names it in the
    /// authorization and in every entry the token leads to (collection, reads,
    /// rectification, disclosure), and the ledger's [`RefusalMonitor`] counts its refusals.
    ///
    /// # Errors
    ///
    /// As [`authorize`](Self::authorize).
    ///
    /// ```
    /// use amanat::audit::{AuditEvent, AuditLog};
    /// use amanat::{category::Phone, Actor, ConsentLedger, PolicyVersion, Purpose, SubjectId};
    /// use std::sync::Arc;
    ///
    /// let log = Arc::new(AuditLog::in_memory());
    /// let ledger = ConsentLedger::builder(PolicyVersion::new("v1")?).audit(Arc::clone(&log)).build();
    /// let marketing = Actor::new("svc:marketing")?;
    /// let subject = SubjectId::new("cust-1")?;
    /// assert!(ledger.authorize_as::<Phone>(&marketing, &subject, &Purpose::MARKETING_ANALYTICS).is_err());
    /// let entry = &log.entries()?[0];
    /// assert!(matches!(&entry.event, AuditEvent::Authorization { actor: Some(a), granted: false, .. } if *a == marketing));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`RefusalMonitor`]: crate::audit::RefusalMonitor
    pub fn authorize_as<C: Category>(
        &self,
        actor: &Actor,
        subject: &SubjectId,
        purpose: &Purpose,
    ) -> Result<ConsentToken<C>, Error> {
        self.authorize_observed(Some(actor), subject, purpose)
    }

    /// `authorize` when an audit log or a monitor watches: out of line, so that the
    /// unwatched path stays small.
    #[inline(never)]
    fn authorize_observed<C: Category>(
        &self,
        actor: Option<&Actor>,
        subject: &SubjectId,
        purpose: &Purpose,
    ) -> Result<ConsentToken<C>, Error> {
        let mut decided = self
            .decide::<C>(subject, purpose)
            .map(|token| token.issued_to(actor));
        self.observe(actor, subject, purpose, &mut decided);
        decided
    }

    /// Records an authorization, granted or refused, and counts a refusal with the
    /// monitor. A token the log can't record is not issued: `decided` becomes the audit
    /// error. A refusal stays the refusal it was.
    #[cold]
    pub(super) fn observe<C: Category>(
        &self,
        actor: Option<&Actor>,
        subject: &SubjectId,
        purpose: &Purpose,
        decided: &mut Result<ConsentToken<C>, Error>,
    ) {
        let now = self.clock.now();
        if let (Some(monitor), Err(_)) = (&self.monitor, &*decided) {
            match actor {
                Some(actor) => monitor.refused(actor.as_str(), subject, now),
                None => monitor.refused_unnamed(subject, now),
            };
        }
        let Some(log) = &self.audit else {
            return;
        };
        let (granted, rule, consent) = match &*decided {
            Ok(token) => (true, None, token.consent()),
            Err(refusal) => (false, Some(refusal.rule().to_owned()), None),
        };
        let recorded = log.record(
            now,
            AuditEvent::Authorization {
                subject: subject.clone(),
                purpose: purpose.clone(),
                category: C::NAME.into(),
                granted,
                rule,
                consent,
                actor: actor.cloned(),
            },
        );
        if let (Ok(_), Err(failed)) = (&*decided, recorded) {
            *decided = Err(failed.into());
        }
    }

    #[inline]
    fn decide<C: Category>(
        &self,
        subject: &SubjectId,
        purpose: &Purpose,
    ) -> Result<ConsentToken<C>, Error> {
        let terms = self.terms.load();
        let required = Self::required_form::<C>(&terms, subject, purpose)?;
        let pack = terms.policy.as_ref().map(|p| p.pack());
        let now = self.clock.now_millis();
        let Some(entry) = self.subjects.get(subject) else {
            return Err(Error::NoConsent {
                subject: subject.clone(),
                purpose: purpose.clone(),
                category: C::ID,
            });
        };
        let mut best: Option<(&Arc<ConsentRecord>, usize, i64)> = None;
        let mut miss = Miss::NoConsent;
        // The consent the refusal names, where it names one: the one `miss` was found on.
        let mut missed: Option<&Arc<ConsentRecord>> = None;
        let (bit, category_bit) = (purpose.bit(), const { crate::vocab::id_bit(C::NAME) });
        // A consent that may name the purpose but can't cover `C` can't grant either:
        // it is read only if the refusal needs its reason.
        let mut uncovered = false;
        for (n, record) in entry.consents().enumerate() {
            if !record.may_name(bit) {
                continue;
            }
            if !record.may_cover(category_bit) {
                uncovered = true;
                continue;
            }
            let Some(p) = record.purposes().iter().position(|p| p == purpose) else {
                continue;
            };
            let Some(special) = record.covers::<C>() else {
                miss = miss.max(Miss::CategoryNotCovered);
                continue;
            };
            // Under a policy its pack decides which categories need writing; with none, the
            // category type does.
            let required = match required {
                Some(form) => form,
                None if special => FormKind::Written,
                None => FormKind::Implied,
            };
            let found = if record.is_withdrawn(p) {
                if record.ended_by_policy(p).is_some() {
                    Miss::Invalidated(n, p)
                } else {
                    Miss::Withdrawn(n)
                }
            } else {
                let valid_until = record.valid_until.load(Ordering::Acquire);
                if now >= valid_until {
                    Miss::Expired(n, valid_until)
                } else {
                    match record.strength(pack) {
                        None => Miss::Representative(n),
                        Some(kind) if kind < required => Miss::TooWeak(n, required),
                        Some(_) => {
                            if best.is_none_or(|(_, _, until)| valid_until >= until) {
                                best = Some((record, p, valid_until));
                            }
                            continue;
                        }
                    }
                }
            };
            if found > miss {
                miss = found;
                missed = Some(record);
            }
        }
        if let Some((record, purpose, valid_until)) = best {
            let expires_at = now.saturating_add(self.token_ttl_ms).min(valid_until);
            return Ok(ConsentToken::new(
                Grounds::Consent {
                    record: Arc::clone(record),
                    purpose,
                },
                expires_at,
            ));
        }
        if uncovered
            && miss < Miss::CategoryNotCovered
            && entry.consents().any(|record| {
                record.may_name(bit)
                    && !record.may_cover(category_bit)
                    && record.purposes().contains(purpose)
            })
        {
            miss = Miss::CategoryNotCovered;
        }
        let subject = subject.clone();
        let purpose = purpose.clone();
        let category = C::ID;
        Err(match (miss, missed) {
            (Miss::CategoryNotCovered, _) => Error::CategoryNotCovered {
                subject,
                purpose,
                category,
            },
            (Miss::NoConsent, _) | (_, None) => Error::NoConsent {
                subject,
                purpose,
                category,
            },
            (Miss::Expired(_, at), Some(missed)) => Error::ConsentExpired {
                subject,
                purpose,
                category,
                consent: missed.id,
                expired_at: millis_to_time(at),
            },
            (Miss::Withdrawn(_), Some(missed)) => Error::ConsentWithdrawn {
                subject,
                purpose,
                category,
                consent: missed.id,
            },
            (Miss::Invalidated(_, p), Some(missed)) => Error::ReconsentRequired {
                subject,
                purpose,
                category,
                consent: missed.id,
                policy_version: missed
                    .ended_by_policy(p)
                    .unwrap_or_else(|| self.policy_version()),
            },
            (Miss::TooWeak(_, FormKind::Written), Some(missed)) => Error::WrittenConsentRequired {
                article: terms
                    .policy
                    .as_ref()
                    .map_or(NO_POLICY, |p| p.written_article(&purpose, C::NAME)),
                subject,
                purpose,
                category,
                consent: missed.id,
            },
            (Miss::Representative(_), _) => Error::RepresentativeConsentNotWritten {
                subject,
                article: pack
                    .and_then(|p| p.representative_written)
                    .map_or(NO_POLICY, |c| c.article),
            },
            (Miss::TooWeak(_, required), Some(missed)) => Error::FormTooWeak {
                subject,
                purpose,
                category,
                consent: missed.id,
                required,
            },
        })
    }

    /// The weakest consent form the policy accepts for `purpose` on `C` — `None` without a
    /// policy, where the category type decides — or the refusal when the policy does not
    /// declare that purpose for `C`.
    pub(super) fn required_form<C: Category>(
        terms: &Terms,
        subject: &SubjectId,
        purpose: &Purpose,
    ) -> Result<Option<FormKind>, Error> {
        let Some(policy) = &terms.policy else {
            return Ok(None);
        };
        if policy.purpose(purpose).is_some_and(|p| p.depersonalised) {
            return Err(Error::DepersonalisedOnly {
                subject: subject.clone(),
                purpose: purpose.clone(),
                category: C::ID,
                article: policy.pack().articles.depersonalised.article,
            });
        }
        policy
            .required_form(purpose, C::NAME)
            .map(Some)
            .ok_or_else(|| Error::NotDeclared {
                subject: subject.clone(),
                purpose: purpose.clone(),
                category: C::ID,
                policy_version: terms.version.clone(),
            })
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::{CategoryId, Phone};
    use crate::consent::Grant;
    use crate::consent::tests::{ledger, otp};

    /// A category whose id shares [`Phone`]'s mask bit.
    enum Sms {}
    impl Category for Sms {
        const ID: CategoryId = CategoryId::new("sms_ac");
        const SPECIAL: bool = false;
        const ACCESS: crate::category::Access = crate::category::Access::Restricted;
    }

    /// The masks only rule consents out: ids that share a bit are still told apart by the
    /// records, and each refusal keeps its reason.
    #[test]
    fn purposes_and_categories_sharing_a_mask_bit_are_still_told_apart() {
        let loyalty = Purpose::new("loyalty_ah").unwrap();
        assert_eq!(loyalty.bit(), Purpose::MARKETING_ANALYTICS.bit());
        assert_eq!(Sms::ID.bit(), Phone::ID.bit());
        let ledger = ledger();
        let subject = SubjectId::new("s").unwrap();
        ledger
            .grant(
                Grant::new(subject.clone(), otp())
                    .purpose(Purpose::MARKETING_ANALYTICS)
                    .category::<Phone>(),
            )
            .unwrap();
        assert!(matches!(
            ledger.authorize::<Phone>(&subject, &loyalty),
            Err(Error::NoConsent { .. })
        ));
        assert!(matches!(
            ledger.authorize::<Sms>(&subject, &Purpose::MARKETING_ANALYTICS),
            Err(Error::CategoryNotCovered { .. })
        ));
        // A consent that can't cover the category by its mask still gives the reason.
        assert!(matches!(
            ledger.authorize::<crate::category::Biometric>(&subject, &Purpose::MARKETING_ANALYTICS),
            Err(Error::CategoryNotCovered { .. })
        ));
        ledger
            .grant(
                Grant::new(subject.clone(), otp())
                    .purpose(loyalty.clone())
                    .category::<Sms>(),
            )
            .unwrap();
        assert!(ledger.authorize::<Sms>(&subject, &loyalty).is_ok());
        assert!(
            ledger
                .authorize::<Phone>(&subject, &Purpose::MARKETING_ANALYTICS)
                .is_ok()
        );
        assert!(matches!(
            ledger.authorize::<Phone>(&subject, &loyalty),
            Err(Error::CategoryNotCovered { .. })
        ));
        // Ruled out by its category's mask, a consent whose purpose only shares the bit
        // still doesn't count as naming the purpose.
        let other = SubjectId::new("t").unwrap();
        ledger
            .grant(
                Grant::new(other.clone(), otp())
                    .purpose(Purpose::MARKETING_ANALYTICS)
                    .category::<Phone>(),
            )
            .unwrap();
        assert!(matches!(
            ledger.authorize::<crate::category::Biometric>(&other, &loyalty),
            Err(Error::NoConsent { .. })
        ));
    }

    /// A consent the masks rule out for the category doesn't hide a more specific reason
    /// given by another.
    #[test]
    fn a_consent_ruled_out_by_its_mask_does_not_mask_a_withdrawal() {
        let ledger = ledger();
        let subject = SubjectId::new("s").unwrap();
        ledger
            .grant(
                Grant::new(subject.clone(), otp())
                    .purpose(Purpose::SERVICE_PROVISION)
                    .category::<Phone>(),
            )
            .unwrap();
        let passport = ledger
            .grant(
                Grant::new(subject.clone(), otp())
                    .purpose(Purpose::SERVICE_PROVISION)
                    .category::<crate::category::Passport>(),
            )
            .unwrap();
        ledger.withdraw(&passport).unwrap();
        assert!(matches!(
            ledger.authorize::<crate::category::Passport>(&subject, &Purpose::SERVICE_PROVISION),
            Err(Error::ConsentWithdrawn { consent, .. }) if consent == passport
        ));
    }
}
