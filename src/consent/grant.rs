//! The grant builder: what a subject agreed to, assembled step by step.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};

use crate::category::{Category, CategoryId};
use crate::vocab::{ConsentForm, Evidence, GivenBy, PolicyVersion, Purpose, SubjectId};

/// Typestate of a [`Grant`]: no purpose named yet.
#[derive(Debug)]
pub enum NoPurpose {}
/// Typestate of a [`Grant`]: at least one purpose named.
#[derive(Debug)]
pub enum WithPurpose {}
/// Typestate of a [`Grant`]: no category named yet.
#[derive(Debug)]
pub enum NoCategory {}
/// Typestate of a [`Grant`]: at least one category named.
#[derive(Debug)]
pub enum WithCategory {}

/// A consent being assembled, to be recorded with
/// [`ConsentLedger::grant`](crate::ConsentLedger::grant).
///
/// A consent is always for specific purposes (Tajik law Art. 8.2) and specific categories of
/// data (Art. 8.3), so the ledger only accepts a grant that names at least one of each: the
/// type parameters track that, and forgetting either is a compile error.
///
/// ```
/// use amanat::{category::{Passport, Phone}, ConsentForm, ConsentLedger, Evidence, Grant,
///              PolicyVersion, Purpose, SubjectId};
/// use amanat::vocab::ElectronicMethod;
/// use chrono::Utc;
///
/// let ledger = ConsentLedger::new(PolicyVersion::new("2025-07-01")?);
/// let grant = Grant::new(
///         SubjectId::new("cust-1")?,
///         ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword },
///     )
///     .purpose(Purpose::IDENTITY_VERIFICATION)
///     .category::<Phone>()
///     .category::<Passport>()
///     .evidence(Evidence::OneTimePassword {
///         challenge_id: "sms-7731".into(),
///         confirmed_at: Utc::now(),
///     });
/// let consent = ledger.grant(grant)?;
/// # let _ = consent;
/// # Ok::<(), amanat::Error>(())
/// ```
///
/// A grant with no category does not compile:
///
/// ```compile_fail
/// # use amanat::{ConsentForm, ConsentLedger, Grant, PolicyVersion, Purpose, SubjectId};
/// # let ledger = ConsentLedger::new(PolicyVersion::new("1").unwrap());
/// let grant = Grant::new(SubjectId::new("cust-1").unwrap(), ConsentForm::Implied)
///     .purpose(Purpose::MARKETING_ANALYTICS);
/// ledger.grant(grant);
/// ```
#[derive(Debug)]
#[must_use = "a grant does nothing until it is recorded with ConsentLedger::grant"]
pub struct Grant<P = NoPurpose, K = NoCategory> {
    pub(crate) subject: SubjectId,
    pub(crate) form: ConsentForm,
    pub(crate) purposes: Vec<Purpose>,
    pub(crate) categories: Vec<(CategoryId, bool)>,
    pub(crate) given_by: GivenBy,
    pub(crate) evidence: Option<Evidence>,
    pub(crate) recipients: Vec<String>,
    pub(crate) cross_border: bool,
    pub(crate) valid_until: Option<DateTime<Utc>>,
    pub(crate) policy_version: Option<PolicyVersion>,
    /// A category type whose id another type claimed first: the grant is refused when it
    /// is recorded (the builder itself can't fail).
    pub(crate) impostor: Option<CategoryId>,
    state: PhantomData<fn() -> (P, K)>,
}

impl Grant {
    /// Starts a grant by `subject` in `form`. By default the subject gave it themselves,
    /// under the ledger's current policy version, with no separate evidence, and it holds
    /// until withdrawn.
    pub fn new(subject: SubjectId, form: ConsentForm) -> Self {
        Grant {
            subject,
            form,
            purposes: Vec::new(),
            categories: Vec::new(),
            given_by: GivenBy::Subject,
            evidence: None,
            recipients: Vec::new(),
            cross_border: false,
            valid_until: None,
            policy_version: None,
            impostor: None,
            state: PhantomData,
        }
    }
}

impl<P, K> Grant<P, K> {
    fn into_state<P2, K2>(self) -> Grant<P2, K2> {
        Grant {
            subject: self.subject,
            form: self.form,
            purposes: self.purposes,
            categories: self.categories,
            given_by: self.given_by,
            evidence: self.evidence,
            recipients: self.recipients,
            cross_border: self.cross_border,
            valid_until: self.valid_until,
            policy_version: self.policy_version,
            impostor: self.impostor,
            state: PhantomData,
        }
    }

    /// Adds a purpose the subject agreed to.
    pub fn purpose(mut self, purpose: Purpose) -> Grant<WithPurpose, K> {
        if !self.purposes.contains(&purpose) {
            self.purposes.push(purpose);
        }
        self.into_state()
    }

    /// Adds a category of data the subject agreed to have processed for those purposes.
    ///
    /// A type whose id another category type claimed first makes the grant fail when it is
    /// recorded ([`Error::CategoryIdTaken`](crate::Error::CategoryIdTaken)).
    pub fn category<C: Category>(mut self) -> Grant<P, WithCategory> {
        if crate::category::claim::<C>().is_err() {
            self.impostor.get_or_insert(C::ID);
        }
        if !self.categories.iter().any(|(id, _)| *id == C::ID) {
            self.categories.push((C::ID, C::SPECIAL));
        }
        self.into_state()
    }

    /// Records who gave the consent, when it was not the subject themselves (Art. 11.1).
    pub fn given_by(mut self, given_by: GivenBy) -> Self {
        self.given_by = given_by;
        self
    }

    /// Attaches what proves the consent was obtained (Art. 25.1).
    pub fn evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = Some(evidence);
        self
    }

    /// Records the policy version the subject accepted, when it is not the ledger's current
    /// one — a consent given on paper last month, entered today. Default: the ledger's
    /// [`policy_version`](crate::ConsentLedger::policy_version).
    pub fn policy_version(mut self, version: PolicyVersion) -> Self {
        self.policy_version = Some(version);
        self
    }

    /// Records that the subject agreed to their data going to this recipient (the policy's
    /// id for it): a transfer to it then owes no notice (Tajik law Art. 21).
    pub fn to_recipient(mut self, recipient: impl Into<String>) -> Self {
        let recipient = recipient.into();
        if !self.recipients.contains(&recipient) {
            self.recipients.push(recipient);
        }
        self
    }

    /// Records that the subject agreed to transfers abroad for these purposes (Art. 18).
    pub fn cross_border(mut self) -> Self {
        self.cross_border = true;
        self
    }

    /// Sets when the consent ends by itself. It must lie in the future when the grant is
    /// recorded.
    pub fn valid_until(mut self, until: DateTime<Utc>) -> Self {
        self.valid_until = Some(until);
        self
    }
}
