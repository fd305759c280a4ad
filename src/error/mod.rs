//! The one error type of the crate.

use chrono::{DateTime, Utc};

use crate::key::KeyError;
use crate::vocab::category_id::CategoryId;
use crate::vocab::ids::{ConsentId, HoldId, RecordId};
use crate::vocab::{FormKind, PolicyVersion, Purpose, SubjectId};

mod audit;
mod log;
pub(crate) mod policy;

pub use audit::AuditError;
pub use log::{LogError, Problem};
pub use policy::{PolicyError, PolicyErrorKind};

/// Why the library refused.
///
/// One variant per rule that can refuse, each naming the subject, purpose and category it
/// was about — and **never the value**: an `Error` can be logged, returned to a caller or
/// shown to an operator without leaking the personal data it protects. Match on the
/// variant, not the message; new variants are added as new rules arrive, so the enum is
/// `#[non_exhaustive]`.
///
/// ```
/// use amanat::{category::Phone, ConsentLedger, Error, PolicyVersion, Purpose, SubjectId};
///
/// let ledger = ConsentLedger::new(PolicyVersion::new("2025-07-01")?);
/// let subject = SubjectId::new("customer-42")?;
/// match ledger.authorize::<Phone>(&subject, &Purpose::MARKETING_ANALYTICS) {
///     Err(Error::NoConsent { category, .. }) => assert_eq!(category.as_str(), "phone"),
///     other => panic!("expected a refusal, got {other:?}"),
/// }
/// # Ok::<(), amanat::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An id (subject, purpose, policy version) was empty, too long or had characters an id
    /// may not have. The text itself is not repeated: it may be personal data passed by
    /// mistake.
    #[error(transparent)]
    InvalidId(#[from] crate::vocab::InvalidId),

    /// The subject never gave a consent that covers this purpose (Tajik law Art. 8.1, 11.1).
    #[error("no consent from subject {subject} for purpose {purpose} on category {category}")]
    NoConsent {
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which kind of data.
        category: CategoryId,
    },

    /// The consent that covered this processing was withdrawn (Tajik law Art. 11.1; ZRU-547 Art. 21).
    #[error(
        "consent {consent} withdrawn by subject {subject} for purpose {purpose} on category {category}"
    )]
    ConsentWithdrawn {
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which kind of data.
        category: CategoryId,
        /// The consent that no longer holds.
        consent: ConsentId,
    },

    /// The consent that covered this processing reached the end of its validity.
    #[error(
        "consent {consent} of subject {subject} expired at {expired_at} for purpose {purpose} on category {category}"
    )]
    ConsentExpired {
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which kind of data.
        category: CategoryId,
        /// The consent that no longer holds.
        consent: ConsentId,
        /// When it stopped holding.
        expired_at: DateTime<Utc>,
    },

    /// The subject consented to this purpose, but not for this category of data: content
    /// and volume must fit the declared purpose (Art. 8.3, minimisation).
    #[error(
        "consent of subject {subject} for purpose {purpose} does not cover category {category}"
    )]
    CategoryNotCovered {
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// The category the consent does not name.
        category: CategoryId,
    },

    /// The category may be processed only with **written** consent (Tajik law Art. 17.1
    /// for biometric data; ZRU-547 Art. 25 for special data, an electronic document
    /// included, and Art. 24 for an automated decision); the consent found was weaker.
    #[error(
        "category {category} needs written consent ({article}); consent {consent} of subject {subject} for purpose {purpose} is not written"
    )]
    WrittenConsentRequired {
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// The special category.
        category: CategoryId,
        /// The consent whose form is too weak.
        consent: ConsentId,
        /// The rule, as the pack in force cites it.
        article: &'static str,
    },

    /// The token's short life is over; ask the ledger for a new one.
    #[error(
        "token for subject {subject}, purpose {purpose}, category {category} expired at {expired_at}"
    )]
    TokenExpired {
        /// Whose data the token was for.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which kind of data.
        category: CategoryId,
        /// When it stopped being valid.
        expired_at: DateTime<Utc>,
    },

    /// The token was issued for one subject and used on another subject's data.
    #[error(
        "token for subject {token_subject} used on data of subject {data_subject} (category {category})"
    )]
    SubjectMismatch {
        /// The subject the token speaks for.
        token_subject: SubjectId,
        /// The subject the data belongs to.
        data_subject: SubjectId,
        /// Which kind of data.
        category: CategoryId,
    },

    /// The token was issued by another ledger than the one the data belongs to: a ledger
    /// of the caller's own, another operator's, or an earlier instance of this operator
    /// (a reopened operator is a new ledger). The attempt is recorded in the data's audit
    /// log, when its ledger keeps one.
    #[error(
        "a token of another ledger was refused for {} of subject {subject} (category {category})",
        record.map_or_else(|| "a record".to_owned(), |r| format!("record {r}"))
    )]
    ForeignToken {
        /// Whose data.
        subject: SubjectId,
        /// Which kind of data.
        category: CategoryId,
        /// The record, when the refusal was for one.
        record: Option<RecordId>,
    },

    /// Two category types claim one id: the first type used with it owns it for the life
    /// of the process (the built-in categories own theirs from the start), and the other
    /// is refused at its first use. A category is its type, not its id.
    #[error("category id {category} is already claimed by another type")]
    CategoryIdTaken {
        /// The id claimed twice.
        category: CategoryId,
    },

    /// The record is blocked: processing is suspended while the data is kept (Art. 1, 22.1).
    #[error("record {record} of subject {subject} (category {category}) is blocked")]
    Blocked {
        /// Whose data.
        subject: SubjectId,
        /// Which kind of data.
        category: CategoryId,
        /// The blocked record.
        record: RecordId,
    },

    /// No consent with this id is in the ledger.
    #[error("unknown consent {consent}")]
    UnknownConsent {
        /// The id asked for.
        consent: ConsentId,
    },

    /// The consent was already withdrawn; a withdrawal is recorded once.
    #[error("consent {consent} is already withdrawn")]
    AlreadyWithdrawn {
        /// The consent.
        consent: ConsentId,
    },

    /// The subject has no consent in force for this purpose, so there is nothing to
    /// withdraw.
    #[error("subject {subject} has no consent in force for purpose {purpose} to withdraw")]
    NothingToWithdraw {
        /// Whose consent.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
    },

    /// A grant or renewal gave an end of validity that is not in the future.
    #[error("consent of subject {subject} can't end at {valid_until}: that is not in the future")]
    ValidityNotInFuture {
        /// Whose consent.
        subject: SubjectId,
        /// The end given.
        valid_until: DateTime<Utc>,
    },

    /// A notice can't have been sent before it was owed.
    #[error("notice {notice} was owed at {owed_at}: it can't have been sent before")]
    SentBeforeOwed {
        /// The notice.
        notice: u64,
        /// When it was owed.
        owed_at: DateTime<Utc>,
    },

    /// A legal representative's consent — for a minor, or a subject who lacks or has
    /// limited legal capacity — was given in a form weaker than writing where the law asks
    /// writing, an electronic document included (ZRU-547 Art. 21).
    #[error(
        "consent for subject {subject} given by a legal representative must be written ({article})"
    )]
    RepresentativeConsentNotWritten {
        /// Whose consent.
        subject: SubjectId,
        /// The rule, as the pack in force cites it.
        article: &'static str,
    },

    /// A grant named more purposes than one consent can hold (64); split it.
    #[error("consent of subject {subject} names {count} purposes; one consent holds at most 64")]
    TooManyPurposes {
        /// Whose consent.
        subject: SubjectId,
        /// How many it named.
        count: usize,
    },

    /// The consent has reached its end of validity, so it can be neither renewed nor
    /// withdrawn; the subject grants anew.
    #[error("consent {consent} is no longer in force: it expired at {expired_at}")]
    ConsentNotInForce {
        /// The consent.
        consent: ConsentId,
        /// When it expired.
        expired_at: DateTime<Utc>,
    },

    /// The purpose accepts only depersonalised data (statistics, research: Tajik law
    /// Art. 19; ZRU-547 Art. 16): no token opens personal data for it. Pseudonymise or mask
    /// under another purpose.
    #[error(
        "purpose {purpose} accepts only depersonalised data; no token opens category {category} of subject {subject} for it ({article})"
    )]
    DepersonalisedOnly {
        /// Whose data.
        subject: SubjectId,
        /// The purpose.
        purpose: Purpose,
        /// The category asked for.
        category: CategoryId,
        /// The rule, as the pack in force cites it.
        article: &'static str,
    },

    /// The policy does not declare this purpose for this category: processing incompatible
    /// with the declared purposes, or beyond what they need, is forbidden (Art. 8.2, 8.3).
    #[error(
        "policy {policy_version} does not declare purpose {purpose} for category {category} (subject {subject})"
    )]
    NotDeclared {
        /// Whose data.
        subject: SubjectId,
        /// The purpose asked for.
        purpose: Purpose,
        /// The category asked for.
        category: CategoryId,
        /// The policy in force.
        policy_version: PolicyVersion,
    },

    /// A consent names a purpose the policy does not declare.
    #[error(
        "consent of subject {subject} names purpose {purpose}, which policy {policy_version} does not declare"
    )]
    PurposeNotDeclared {
        /// Whose consent.
        subject: SubjectId,
        /// The purpose.
        purpose: Purpose,
        /// The policy in force.
        policy_version: PolicyVersion,
    },

    /// A consent names a category the policy does not declare.
    #[error(
        "consent of subject {subject} names category {category}, which policy {policy_version} does not declare"
    )]
    CategoryNotDeclared {
        /// Whose consent.
        subject: SubjectId,
        /// The category.
        category: CategoryId,
        /// The policy in force.
        policy_version: PolicyVersion,
    },

    /// The consent's form is weaker than the policy requires for this purpose (an implied
    /// consent where the policy asks for an electronic one).
    #[error(
        "consent {consent} of subject {subject} is weaker than the {required} consent policy requires for purpose {purpose} on category {category}"
    )]
    FormTooWeak {
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which kind of data.
        category: CategoryId,
        /// The consent.
        consent: ConsentId,
        /// The form required.
        required: FormKind,
    },

    /// The policy declares another legal basis for this purpose.
    #[error(
        "purpose {purpose} stands on {declared} in the policy, not on {basis} (subject {subject}, category {category})"
    )]
    BasisNotDeclared {
        /// Whose data.
        subject: SubjectId,
        /// Which kind of data.
        category: CategoryId,
        /// The purpose.
        purpose: Purpose,
        /// The basis asked for.
        basis: &'static str,
        /// The basis the policy declares.
        declared: &'static str,
    },

    /// While a policy is enforced, a consent must be given under the version in force.
    #[error(
        "consent of subject {subject} given under policy {given}, but policy {policy_version} is in force"
    )]
    PolicyVersionMismatch {
        /// Whose consent.
        subject: SubjectId,
        /// The version the grant named.
        given: PolicyVersion,
        /// The version in force.
        policy_version: PolicyVersion,
    },

    /// A new policy version required every subject to consent again, and this subject has
    /// not yet (IMANUM §6).
    #[error(
        "consent {consent} of subject {subject} predates policy {policy_version}, which requires consent again, for purpose {purpose} on category {category}"
    )]
    ReconsentRequired {
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which kind of data.
        category: CategoryId,
        /// The consent that no longer holds.
        consent: ConsentId,
        /// The policy version that requires re-consent.
        policy_version: PolicyVersion,
    },

    /// The consent was ended by a policy version that required re-consent: it can be neither
    /// renewed nor withdrawn.
    #[error("consent {consent} was ended by policy {policy_version}, which requires consent again")]
    ConsentInvalidated {
        /// The consent.
        consent: ConsentId,
        /// The policy version that ended it.
        policy_version: PolicyVersion,
    },

    /// The policy adopted has the version already in force.
    #[error("policy {policy_version} is already in force")]
    SamePolicyVersion {
        /// The version.
        policy_version: PolicyVersion,
    },

    /// The policy does not declare this recipient for this purpose and category (Art. 16).
    #[error("recipient {recipient} is not declared for purpose {purpose} on category {category}")]
    RecipientNotDeclared {
        /// The recipient's id.
        recipient: String,
        /// The purpose.
        purpose: Purpose,
        /// The category.
        category: CategoryId,
    },

    /// A transfer abroad with no ground: the country is not adequate, the subject did not
    /// consent to transfers abroad, and the policy states no treaty or law (Tajik law
    /// Art. 18; ZRU-547 Art. 15).
    #[error(
        "transfer of subject {subject}'s data to {recipient} in {country} refused: no ground for a transfer abroad ({article})"
    )]
    CrossBorderRefused {
        /// Whose data.
        subject: SubjectId,
        /// The recipient's id.
        recipient: String,
        /// Its country.
        country: String,
        /// The rule, as the pack in force cites it.
        article: &'static str,
    },

    /// No subject request with this number.
    #[error("no subject request {request}")]
    UnknownRequest {
        /// The number asked for.
        request: u64,
    },

    /// A subject request can't be answered by the call made: it was answered already, or
    /// asks for something else (a blocking request is not an erasure's).
    #[error("subject request {request} can't be answered this way: {why}")]
    RequestNotOpen {
        /// The request.
        request: u64,
        /// Why not.
        why: &'static str,
    },

    /// The subject's data can't be exported for a request before the requester's identity
    /// is verified and on the record ([`Operator::verify_identity`]).
    ///
    /// [`Operator::verify_identity`]: crate::store::Operator::verify_identity
    #[error("the identity behind subject request {request} is not verified yet")]
    IdentityNotVerified {
        /// The request.
        request: u64,
    },

    /// A verification of identity names no method or no verifier: nothing was recorded.
    #[error(
        "the verification of the identity behind subject request {request} leaves its method or its verifier blank"
    )]
    BlankVerification {
        /// The request.
        request: u64,
    },

    /// A request's data was exported already: an export is made once per request.
    #[error("subject request {request} was exported already")]
    AlreadyExported {
        /// The request.
        request: u64,
    },

    /// A record can't be destroyed at the subject's request: a law or a hold keeps it. It
    /// was blocked instead (Art. 22.1).
    #[error("record {record} is kept under {kept_under}: blocked instead of destroyed")]
    KeptByLaw {
        /// The record.
        record: RecordId,
        /// The statutory minimum (law and article) or the hold's ground that keeps it.
        kept_under: String,
    },

    /// No transfer notice with this number.
    #[error("no transfer notice {notice}")]
    UnknownNotice {
        /// The number asked for.
        notice: u64,
    },

    /// The policy holds transfers to this recipient while a notice of an earlier transfer
    /// to it is overdue: send that notice, and record it sent, first.
    #[error(
        "transfer to {recipient} held: notice {notice} of an earlier transfer to it is overdue ({article})"
    )]
    TransferHeld {
        /// The recipient's id.
        recipient: String,
        /// The overdue notice, by number.
        notice: u64,
        /// The article of the policy's pack that sets the notice's deadline.
        article: &'static str,
    },

    /// A statement that a record was made public names no place it was published.
    #[error(
        "record {record}: a publication by its subject needs a reference to where it was published"
    )]
    BlankPublication {
        /// The record.
        record: RecordId,
    },

    /// A value was not in its type's format.
    #[error(transparent)]
    InvalidValue(#[from] crate::values::ValueError),

    /// A policy could not be loaded.
    #[error(transparent)]
    Policy(#[from] PolicyError),

    /// The policy has no retention rule for this category and purpose, so the record can't
    /// be given a deadline (Art. 14.3).
    #[error("no retention rule for category {category} used for purpose {purpose}")]
    NoRetentionRule {
        /// The category.
        category: CategoryId,
        /// The purpose.
        purpose: Purpose,
    },

    /// The record's retention deadline has passed: it is kept only for what holds it, and
    /// consent-based processing has ended (Art. 14.3, 20).
    #[error(
        "record {record} of subject {subject} (category {category}) is past its retention deadline {deadline}"
    )]
    RetentionExpired {
        /// Whose data.
        subject: SubjectId,
        /// Which kind of data.
        category: CategoryId,
        /// The record.
        record: RecordId,
        /// When its retention ended.
        deadline: DateTime<Utc>,
    },

    /// The record was destroyed by its retention schedule; this copy only waits to be
    /// dropped.
    #[error("record {record} of subject {subject} (category {category}) was destroyed")]
    RecordDestroyed {
        /// Whose data.
        subject: SubjectId,
        /// Which kind of data.
        category: CategoryId,
        /// The record.
        record: RecordId,
    },

    /// The record is tracked already, or was destroyed: a destruction never runs twice.
    #[error("record {record} is already tracked or destroyed")]
    AlreadyTracked {
        /// The record.
        record: RecordId,
    },

    /// No legal hold with this id is in force.
    #[error("no legal hold {hold}")]
    UnknownHold {
        /// The hold.
        hold: HoldId,
    },

    /// The schedule does not track this record.
    #[error("record {record} is not tracked")]
    UnknownRecord {
        /// The record.
        record: RecordId,
    },

    /// A legal basis other than consent must say which law, order or request it stands on
    /// (Art. 12), so that the audit log can name it.
    #[error("legal basis {basis} needs a non-empty reference")]
    MissingReference {
        /// The basis, by name.
        basis: &'static str,
    },

    /// This legal basis does not allow processing this category without consent: a special
    /// or biometric category needs consent or one of the law's own grounds (Tajik law
    /// Art. 17.2; ZRU-547 Art. 25, 26).
    #[error(
        "legal basis {basis} does not allow processing category {category} for purpose {purpose} without consent ({article})"
    )]
    BasisNotAllowed {
        /// The basis, by name.
        basis: &'static str,
        /// The category refused.
        category: CategoryId,
        /// For what.
        purpose: Purpose,
        /// The rule, as the pack in force cites it.
        article: &'static str,
    },
    /// A store is somewhere the policy or the law does not let this data be kept (Tajik
    /// law Art. 14.2; ZRU-547 Art. 27-1).
    #[error(
        "a store in {country} is refused for {}: {} ({rule})",
        category.as_deref().unwrap_or("this policy's data"),
        if category.is_some() { "the law keeps it at home" } else { "the policy declares no storage there" }
    )]
    StorageRefused {
        /// Where the store is.
        country: String,
        /// The first category the law keeps at home, if one does.
        category: Option<String>,
        /// The rule that refuses, as the pack in force cites it.
        rule: &'static str,
    },

    /// A subject can't be erased yet: what `reason` says must end first (their records
    /// destroyed, their consents withdrawn or expired, their requests answered, their
    /// notices sent, the holds on them released). Nothing was erased.
    #[error("the subject can't be erased yet: {reason}")]
    NotErasable {
        /// What stands in the way.
        reason: &'static str,
    },

    /// A time handed to an operator's sweep or trigger is ahead of its clock, by more than
    /// the second a coarse clock's reading may lag a finer one: a sweep dated ahead
    /// destroys at once what is not due yet. Nothing was done.
    #[error("{at} is ahead of the operator's clock ({now})")]
    TimeAhead {
        /// The time handed in.
        at: DateTime<Utc>,
        /// The operator's clock when it was refused.
        now: DateTime<Utc>,
    },

    /// A time handed to an operator's sweep or trigger is before the latest change its
    /// retention schedule recorded (capped at its clock), by more than a second: a closure
    /// dated back would bring deadlines forward to a time already past, and the record
    /// would read out of order. Nothing was done.
    #[error("{at} is before the last change on record ({last})")]
    BeforeLastChange {
        /// The time handed in.
        at: DateTime<Utc>,
        /// When the last change on record was made.
        last: DateTime<Utc>,
    },

    /// The subject was erased — their keys shredded, on the record, and forgotten — but what
    /// the erasure deleted is still in the store's files (another connection holds
    /// `log.db` open, so its write-ahead log can't be truncated). Call
    /// [`erase_subject`](crate::store::Operator::erase_subject) again once it lets go.
    #[error("erased, but still in the store's files for now: {0}")]
    StillInFiles(StoreError),

    /// The audit log could not record the action, so it was not done: processing that
    /// leaves no trace is refused (Tajik law Art. 25.2; ZRU-547 Art. 27). Actions that protect the subject (withdrawal,
    /// blocking, destruction) are done even then; the log stays failed and refuses the rest.
    #[error("not done: the audit log could not record it ({0})")]
    AuditUnavailable(#[from] AuditError),

    /// The store could not keep the change, so it is not acknowledged: what widens
    /// processing (a grant, a renewal, a record tracked, a hold) was not done; what
    /// protects the subject (a withdrawal) took effect in this process but will not be
    /// there after a restart. The store stops and refuses the rest until it is reopened.
    #[error("not stored: {0}")]
    NotStored(#[from] StoreError),
}

impl Error {
    /// The rule that refused, as a stable `snake_case` name (`no_consent`,
    /// `consent_withdrawn`, …): what the audit log records for a refusal, and what a
    /// dashboard can count by. It never holds a value.
    ///
    /// ```
    /// use amanat::{category::Phone, ConsentLedger, PolicyVersion, Purpose, SubjectId};
    ///
    /// let ledger = ConsentLedger::new(PolicyVersion::new("v1")?);
    /// let refusal = ledger
    ///     .authorize::<Phone>(&SubjectId::new("cust-1")?, &Purpose::MARKETING_ANALYTICS)
    ///     .unwrap_err();
    /// assert_eq!(refusal.rule(), "no_consent");
    /// # Ok::<(), amanat::Error>(())
    /// ```
    pub fn rule(&self) -> &'static str {
        match self {
            Error::InvalidId { .. } => "invalid_id",
            Error::NoConsent { .. } => "no_consent",
            Error::ConsentWithdrawn { .. } => "consent_withdrawn",
            Error::ConsentExpired { .. } => "consent_expired",
            Error::CategoryNotCovered { .. } => "category_not_covered",
            Error::WrittenConsentRequired { .. } => "written_consent_required",
            Error::TokenExpired { .. } => "token_expired",
            Error::SubjectMismatch { .. } => "subject_mismatch",
            Error::ForeignToken { .. } => "foreign_token",
            Error::CategoryIdTaken { .. } => "category_id_taken",
            Error::Blocked { .. } => "blocked",
            Error::UnknownConsent { .. } => "unknown_consent",
            Error::AlreadyWithdrawn { .. } => "already_withdrawn",
            Error::NothingToWithdraw { .. } => "nothing_to_withdraw",
            Error::ValidityNotInFuture { .. } => "validity_not_in_future",
            Error::RepresentativeConsentNotWritten { .. } => "representative_consent_not_written",
            Error::SentBeforeOwed { .. } => "sent_before_owed",
            Error::TooManyPurposes { .. } => "too_many_purposes",
            Error::ConsentNotInForce { .. } => "consent_not_in_force",
            Error::DepersonalisedOnly { .. } => "depersonalised_only",
            Error::NotDeclared { .. } => "not_declared",
            Error::PurposeNotDeclared { .. } => "purpose_not_declared",
            Error::CategoryNotDeclared { .. } => "category_not_declared",
            Error::FormTooWeak { .. } => "form_too_weak",
            Error::BasisNotDeclared { .. } => "basis_not_declared",
            Error::PolicyVersionMismatch { .. } => "policy_version_mismatch",
            Error::ReconsentRequired { .. } => "reconsent_required",
            Error::ConsentInvalidated { .. } => "consent_invalidated",
            Error::SamePolicyVersion { .. } => "same_policy_version",
            Error::RecipientNotDeclared { .. } => "recipient_not_declared",
            Error::CrossBorderRefused { .. } => "cross_border_refused",
            Error::UnknownRequest { .. } => "unknown_request",
            Error::UnknownNotice { .. } => "unknown_notice",
            Error::TransferHeld { .. } => "transfer_held",
            Error::BlankPublication { .. } => "blank_publication",
            Error::InvalidValue(..) => "invalid_value",
            Error::Policy(..) => "policy",
            Error::NoRetentionRule { .. } => "no_retention_rule",
            Error::RetentionExpired { .. } => "retention_expired",
            Error::RecordDestroyed { .. } => "record_destroyed",
            Error::AlreadyTracked { .. } => "already_tracked",
            Error::UnknownHold { .. } => "unknown_hold",
            Error::UnknownRecord { .. } => "unknown_record",
            Error::MissingReference { .. } => "missing_reference",
            Error::BasisNotAllowed { .. } => "basis_not_allowed",
            Error::StorageRefused { .. } => "storage_refused",
            Error::NotErasable { .. } => "not_erasable",
            Error::StillInFiles(_) => "still_in_files",
            Error::TimeAhead { .. } => "time_ahead",
            Error::RequestNotOpen { .. } => "request_not_open",
            Error::IdentityNotVerified { .. } => "identity_not_verified",
            Error::AlreadyExported { .. } => "already_exported",
            Error::BlankVerification { .. } => "blank_verification",
            Error::KeptByLaw { .. } => "kept_by_law",
            Error::BeforeLastChange { .. } => "before_last_change",
            Error::AuditUnavailable(..) => "audit_unavailable",
            Error::NotStored(..) => "not_stored",
        }
    }
}

/// Why a vault could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store was written by a newer version of the library.
    #[error("store schema {found} is newer than this library reads ({supported})")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this library reads.
        supported: i64,
    },
    /// The store's file is damaged: not a database, truncated, or a row that is not what
    /// this library wrote. Nothing was written.
    #[error("store damaged: {0}")]
    Corrupt(String),
    /// The sealed value is of another record than its entry: keeping it would let a
    /// destruction of the entry's record shred the wrong key.
    #[error("the sealed value is of record {sealed}, not of {entry}")]
    WrongRecord {
        /// The entry's record.
        entry: RecordId,
        /// The sealed value's record.
        sealed: RecordId,
    },
    /// A record with this id is already kept.
    #[error("record {record} is already in the vault")]
    Exists {
        /// The record.
        record: RecordId,
    },
    /// The key store could not answer.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The store's location is refused for this policy's data
    /// ([`Error::StorageRefused`](crate::Error::StorageRefused)).
    #[error(transparent)]
    Location(Box<crate::Error>),
    /// The store could not be read or written.
    #[error("store: {0}")]
    Io(String),
    /// An earlier write failed, so the journal refuses every change after it: what was
    /// done in memory and not kept must not be built on. Reopen to go on from what was
    /// kept.
    #[error("the store stopped after a failed write ({0}); reopen it")]
    Stopped(String),
    /// A category the policy names can't be given the shredder that destroys its records:
    /// the operator does not open, rather than report such a record destroyed and keep it.
    #[error("the policy's category {category} can't be given a shredder")]
    NoShredder {
        /// The category as the policy names it.
        category: String,
    },
    /// Key material lies inside the data directory — the provider's key directory, or a
    /// key file (`master.key`, which 0.1 kept there): a copy of the directory would carry
    /// the keys that open it, and shredding would reach no backup. Nothing was written.
    /// Move it to a key directory of its own outside (a 0.1 `master.key` becomes
    /// `wrap-data-keys.1.key` in a [`KeyDir`](crate::store::kek::KeyDir)).
    #[error("key material {} lies inside the data directory: move it to a key directory outside", path.display())]
    KeysInsideData {
        /// The key directory or key file.
        path: std::path::PathBuf,
    },
    /// Another operator has the store open — in another process, or in this one — and
    /// two writing at once would each number changes the other can't see.
    #[error("the store is in use by another operator")]
    InUse,
    /// The audit log kept with the store could not be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The store's authenticated log refused to open or to write: tampered with
    /// ([`LogError::Tampered`], naming the first bad entry), cut short below its latest
    /// anchored checkpoint, or written by another writer.
    #[error(transparent)]
    Log(Box<LogError>),
    /// The directory holds a store of an older format, which this library does not open:
    /// format 1 is amanat 0.1's (`journal.db` and `audit.jsonl`, neither authenticated).
    /// Nothing in it was read or changed. See the CHANGELOG for what to do with it.
    #[error("the directory holds a store of format {version} (amanat 0.1), which is not opened")]
    OldFormat {
        /// The format found.
        version: u32,
    },
}

impl From<LogError> for StoreError {
    /// A store's own error comes back as itself; any other as [`StoreError::Log`].
    fn from(error: LogError) -> Self {
        match error {
            LogError::Store(store) => store,
            other => StoreError::Log(Box::new(other)),
        }
    }
}
