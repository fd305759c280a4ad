//! Authorizing on a legal basis other than consent (Tajik law Art. 12, 17.2; ZRU-547 Art. 18, 26): the checks, the record of
//! each use with its reference, and the token it issues.

use std::sync::Arc;

use super::history::Event;
use super::record::Services;
use super::token::Grounds;
use super::{ConsentLedger, ConsentToken};
use crate::Error;
use crate::audit::{self, AuditEvent};
use crate::category::{Category, CategoryId, Named};
use crate::clock::{Clock, millis_to_time};
use crate::vocab::{Actor, LegalBasis, PolicyVersion, Purpose, SubjectId};

/// A use of a legal basis other than consent, kept so the reference can be shown later.
pub(crate) struct BasisUse {
    pub(crate) subject: SubjectId,
    pub(crate) purpose: Purpose,
    pub(crate) category: CategoryId,
    pub(crate) basis: LegalBasis,
    pub(crate) policy_version: PolicyVersion,
    pub(crate) at: i64,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) services: Arc<Services>,
}

// Authorizing on another legal basis: checked, recorded, then issued.
impl ConsentLedger {
    /// Issues a token for processing without consent, on another legal basis the policy's
    /// pack accepts: under ZRU-547 Art. 18 a contract, a legal obligation, a state body's
    /// function, protection of rights, a court order; under Tajik law Art. 12's closed list
    /// a state body's function or protection of constitutional rights; for biometric data
    /// the law's own grounds (Tajik law Art. 17.2; ZRU-547 Art. 26). The use and its
    /// reference are recorded in the subject's [`history`](Self::history); a withdrawal of
    /// consent never touches such a token (Tajik law Art. 12; ZRU-547 Art. 18).
    ///
    /// The ledger checks the reference is there and that the basis may reach the category;
    /// with a [`Policy`], also that the policy declares the purpose for the category on
    /// this very basis. Without one, choosing a basis that truly applies is the caller's
    /// duty, and every use is on the record.
    ///
    /// With [`LegalBasis::Consent`] this is [`authorize`](Self::authorize).
    ///
    /// # Errors
    ///
    /// [`Error::MissingReference`] if the basis's reference (or a state body's name) is
    /// blank; with a policy, [`Error::NotDeclared`] or [`Error::BasisNotDeclared`]; [`Error::BasisNotAllowed`] if `C` is a special category and the basis is not
    /// a ground of Art. 17.2 or a court order; [`Error::AuditUnavailable`] if the audit log
    /// can't record the use; with consent, as [`authorize`](Self::authorize).
    ///
    /// [`Policy`]: crate::policy::Policy
    pub fn authorize_with_basis<C: Category>(
        &self,
        subject: &SubjectId,
        purpose: &Purpose,
        basis: LegalBasis,
    ) -> Result<ConsentToken<C>, Error> {
        self.basis_for(None, subject, purpose, basis)
    }

    /// [`authorize_with_basis`](Self::authorize_with_basis) for a named `actor`, as
    /// [`authorize_as`](Self::authorize_as) is to `authorize`.
    ///
    /// # Errors
    ///
    /// As [`authorize_with_basis`](Self::authorize_with_basis).
    pub fn authorize_with_basis_as<C: Category>(
        &self,
        actor: &Actor,
        subject: &SubjectId,
        purpose: &Purpose,
        basis: LegalBasis,
    ) -> Result<ConsentToken<C>, Error> {
        self.basis_for(Some(actor), subject, purpose, basis)
    }

    fn basis_for<C: Category>(
        &self,
        actor: Option<&Actor>,
        subject: &SubjectId,
        purpose: &Purpose,
        basis: LegalBasis,
    ) -> Result<ConsentToken<C>, Error> {
        if basis == LegalBasis::Consent {
            return match actor {
                Some(actor) => self.authorize_as(actor, subject, purpose),
                None => self.authorize(subject, purpose),
            };
        }
        // A use of a basis is recorded as such when granted; refusals go the way of
        // every refusal.
        let mut decided = self.decide_basis::<C>(actor, subject, purpose, basis);
        if decided.is_err() {
            self.observe(actor, subject, purpose, &mut decided);
        }
        decided
    }

    fn decide_basis<C: Category>(
        &self,
        actor: Option<&Actor>,
        subject: &SubjectId,
        purpose: &Purpose,
        basis: LegalBasis,
    ) -> Result<ConsentToken<C>, Error> {
        let blank = |s: &str| s.trim().is_empty();
        let authority_blank =
            matches!(&basis, LegalBasis::StateFunction { authority, .. } if blank(authority));
        if basis.reference().is_none_or(blank) || authority_blank {
            return Err(Error::MissingReference {
                basis: basis.name(),
            });
        }
        // One reading of the terms for every check, so an adoption in between can't
        // split them.
        let terms = self.terms.load();
        // Under a policy its pack decides which categories are special; with none, the
        // category type does.
        let special = match &terms.policy {
            Some(policy) => policy.category(C::NAME).is_some_and(|c| c.special),
            None => C::SPECIAL,
        };
        if special && !basis.allows_special_categories() {
            return Err(Error::BasisNotAllowed {
                basis: basis.name(),
                category: C::ID,
                purpose: purpose.clone(),
                article: terms
                    .policy
                    .as_ref()
                    .map_or(super::authorize::NO_POLICY, |p| {
                        p.pack().articles.special_bases.article
                    }),
            });
        }
        Self::required_form::<C>(&terms, subject, purpose)?;
        if let Some(declared) = terms.policy.as_ref().and_then(|p| p.purpose(purpose))
            && declared.basis != basis.kind()
        {
            return Err(Error::BasisNotDeclared {
                subject: subject.clone(),
                purpose: purpose.clone(),
                category: C::ID,
                basis: basis.name(),
                declared: declared.basis.name(),
            });
        }
        let now = self.clock.now_millis();
        let mut entry = self.subjects.entry(subject.clone()).or_default();
        // Share the ledger's copy of the id, so reads compare pointers, not bytes.
        let subject = entry.key().clone();
        let used = Arc::new(BasisUse {
            subject,
            purpose: purpose.clone(),
            category: C::ID,
            basis,
            policy_version: terms.version.clone(),
            at: now,
            clock: Arc::clone(&self.clock),
            services: Arc::clone(&self.services),
        });
        let kept = audit::change(
            self.audit.as_ref(),
            self.journal.as_deref(),
            millis_to_time(now),
            AuditEvent::LegalBasisUsed {
                actor: actor.cloned(),
                subject: used.subject.clone(),
                purpose: used.purpose.clone(),
                category: used.category.clone(),
                basis: used.basis.clone(),
                policy_version: used.policy_version.clone(),
            },
            audit::Stands::IfRecorded,
        );
        if let Err(failed) = kept {
            drop(entry);
            self.forget_if_empty(&used.subject);
            return Err(failed);
        }
        entry.then(Event::BasisUsed(Arc::clone(&used)));
        let token = ConsentToken::new(Grounds::Basis(used), now.saturating_add(self.token_ttl_ms));
        Ok(if self.watched() || actor.is_some() {
            token.issued_to(actor)
        } else {
            token
        })
    }
}
