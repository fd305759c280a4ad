//! The words of the law, as types: who, for what, on which ground, in which form.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub(crate) mod border;
pub(crate) mod category_id;
pub(crate) mod ids;
pub(crate) mod register;
pub(crate) mod retention;
pub(crate) mod when;

const MAX_ID_LEN: usize = 128;

/// Ids are printed in errors and audit records, so they may hold only characters that can't
/// forge a log line or hide text.
fn check_id(kind: &'static str, id: &str, allowed: fn(char) -> bool) -> Result<(), InvalidId> {
    let reason = if id.is_empty() {
        "it is empty"
    } else if id.len() > MAX_ID_LEN {
        "it is longer than 128 bytes"
    } else if !id.chars().all(allowed) {
        "it has a character outside the allowed set"
    } else {
        return Ok(());
    };
    Err(InvalidId { kind, reason })
}

/// An id or a version that can't be made from the text given: what kind of id, and why.
///
/// The text itself is never repeated, since a caller may have passed a phone number by
/// mistake. [`Error`](crate::Error) wraps it as [`Error::InvalidId`](crate::Error::InvalidId),
/// so `?` carries it on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id: {reason}")]
pub struct InvalidId {
    /// The kind of id: `subject`, `purpose`, `category`, `actor`, `policy version`.
    pub kind: &'static str,
    /// Why it was refused.
    pub reason: &'static str,
}

/// The opaque id of a data subject: the natural person the data belongs to.
///
/// It must be an id the operator assigned (a customer number, a UUID) — **never** the phone
/// number, e-mail, passport number or any other personal value, because ids appear in
/// errors and audit records in the clear. ASCII letters, digits and `-_.:` are allowed, up
/// to 128 bytes; `@` and `+` are not, and an id of nine or more digits alone is refused as
/// well, since it looks like a phone, card or PINFL number (prefix it: `cust-123456789`).
///
/// Cloning is cheap (a reference count), so records and tokens share one allocation.
///
/// ```
/// use amanat::SubjectId;
///
/// let alice = SubjectId::new("cust-000123")?;
/// assert_eq!(alice.as_str(), "cust-000123");
/// assert!(SubjectId::new("").is_err());
/// assert!(SubjectId::new("two words").is_err());
/// # Ok::<(), amanat::Error>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubjectId(Arc<str>);

impl SubjectId {
    /// Makes a subject id.
    ///
    /// # Errors
    ///
    /// [`InvalidId`] if the id is empty, longer than 128 bytes, has a character
    /// other than an ASCII letter, digit or one of `-_.:`, or is nine or more digits alone.
    /// The error does not repeat the text.
    pub fn new(id: impl AsRef<str>) -> Result<Self, InvalidId> {
        let id = id.as_ref();
        check_id("subject", id, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
        })?;
        if id.len() >= 9 && id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidId {
                kind: "subject",
                reason: "it is only digits, like a phone, card or PINFL number",
            });
        }
        Ok(Self(Arc::from(id)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for SubjectId {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        // Records and tokens usually share the ledger's allocation, so the pointer test
        // settles most comparisons on the read path without touching the bytes.
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for SubjectId {}

impl Hash for SubjectId {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialOrd for SubjectId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SubjectId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl Borrow<str> for SubjectId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectId({:?})", &*self.0)
    }
}

impl TryFrom<String> for SubjectId {
    type Error = InvalidId;
    fn try_from(id: String) -> Result<Self, InvalidId> {
        Self::new(id)
    }
}

impl From<SubjectId> for String {
    fn from(id: SubjectId) -> Self {
        id.0.to_string()
    }
}

/// Who acts on personal data: a service, an employee's staff id, an API key's name. The
/// audit log names it in every entry a token issued to it leads to — authorization,
/// collection, reads, rectification, disclosure — and the
/// [`RefusalMonitor`](crate::audit::RefusalMonitor) counts its refusals (Art. 25.2).
///
/// ASCII letters, digits and `-_.:/` up to 128 bytes: a role or a staff id, not a person's
/// name or e-mail (`@` is refused), since it is written into every entry in the clear.
///
/// ```
/// use amanat::Actor;
///
/// let scoring = Actor::new("svc:credit-scoring")?;
/// assert_eq!(scoring.as_str(), "svc:credit-scoring");
/// assert!(Actor::new("").is_err());
/// assert!(Actor::new("aziza@imanum.uz").is_err());
/// # Ok::<(), amanat::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Actor(Arc<str>);

impl Actor {
    /// Makes an actor id.
    ///
    /// # Errors
    ///
    /// [`InvalidId`] if it is empty, longer than 128 bytes, or has a character other
    /// than an ASCII letter, digit or one of `-_.:/`.
    pub fn new(id: impl AsRef<str>) -> Result<Self, InvalidId> {
        let id = id.as_ref();
        check_id("actor", id, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/')
        })?;
        Ok(Self(Arc::from(id)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Actor({:?})", &*self.0)
    }
}

impl TryFrom<String> for Actor {
    type Error = InvalidId;
    fn try_from(id: String) -> Result<Self, InvalidId> {
        Self::new(id)
    }
}

impl From<Actor> for String {
    fn from(id: Actor) -> Self {
        id.0.to_string()
    }
}

/// One of 32 bits standing for an id in a mask of ids, so that a set can be ruled out
/// without reading it. Equal ids get the same bit; different ones may share one, so a set
/// bit only says "maybe". Made from the length and the two end bytes, which give each
/// standard purpose and each built-in category its own bit without a pass over the text.
pub(crate) const fn id_bit(id: &str) -> u32 {
    let id = id.as_bytes();
    let (Some(&first), Some(&last)) = (id.first(), id.last()) else {
        return 1;
    };
    let mix = id.len() + first as usize + 2 * last as usize;
    1 << (mix % 32)
}

/// An id's text: a constant's, or one read at run time and shared by its copies.
#[derive(Clone)]
pub(crate) enum Text {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
        }
    }
}

// Compared, hashed and ordered as the text it holds, whichever form holds it.
impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.as_str(), other.as_str());
        // Constants and the ledger's shared copies are the same bytes at the same address;
        // the pointer test spares `authorize` a string compare on its hot path.
        std::ptr::eq(a, b) || a == b
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// A declared purpose of processing (Tajik law Art. 8.2): every consent, token and record
/// names one, and processing for a purpose the subject did not consent to is refused.
///
/// The common purposes are constants, named as in the W3C Data Privacy Vocabulary where it
/// has a match. Your own are made with [`Purpose::new`]: lower-case ASCII letters, digits and
/// `_`, up to 128 bytes.
///
/// ```
/// use amanat::Purpose;
///
/// assert_eq!(Purpose::CREDIT_SCORING.as_str(), "credit_scoring");
/// let onboarding = Purpose::new("merchant_onboarding")?;
/// assert_ne!(onboarding, Purpose::CREDIT_SCORING);
/// assert!(Purpose::new("Credit Scoring").is_err());
/// # Ok::<(), amanat::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Purpose(Text);

impl Purpose {
    /// Checking who the customer is: KYC, comparing a selfie with a state database
    /// (DPV `IdentityVerification`).
    pub const IDENTITY_VERIFICATION: Purpose = Purpose::from_static("identity_verification");
    /// Assessing creditworthiness (DPV `CreditChecking`).
    pub const CREDIT_SCORING: Purpose = Purpose::from_static("credit_scoring");
    /// Analysing behaviour for marketing (DPV `Marketing`, `ServiceUsageAnalytics`).
    pub const MARKETING_ANALYTICS: Purpose = Purpose::from_static("marketing_analytics");
    /// Carrying out payments the customer asked for (DPV `ServiceProvision`).
    pub const PAYMENT_PROCESSING: Purpose = Purpose::from_static("payment_processing");
    /// Detecting and preventing fraud (DPV `FraudPreventionAndDetection`).
    pub const FRAUD_PREVENTION: Purpose = Purpose::from_static("fraud_prevention");
    /// Meeting a legal obligation (DPV `LegalCompliance`).
    pub const LEGAL_OBLIGATION: Purpose = Purpose::from_static("legal_obligation");
    /// Statistics, social or scientific research: the law wants depersonalised data for it
    /// (Tajik law Art. 19; ZRU-547 Art. 16).
    pub const STATISTICS: Purpose = Purpose::from_static("statistics");
    /// Providing the service itself: registration and use of the app (IMANUM §2.1.3).
    pub const SERVICE_PROVISION: Purpose = Purpose::from_static("service_provision");

    /// Makes a purpose.
    ///
    /// # Errors
    ///
    /// [`InvalidId`] if the id is empty, longer than 128 bytes or has a character other
    /// than a lower-case ASCII letter, a digit or `_`.
    pub fn new(id: impl AsRef<str>) -> Result<Self, InvalidId> {
        let id = id.as_ref();
        // One of the library's own is its constant: no allocation, and `authorize`
        // compares it by address.
        if let Some(known) = Self::KNOWN.iter().find(|known| known.as_str() == id) {
            return Ok(known.clone());
        }
        check_id("purpose", id, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
        })?;
        Ok(Self(Text::Shared(Arc::from(id))))
    }

    /// The library's own purposes.
    const KNOWN: [Purpose; 8] = [
        Self::IDENTITY_VERIFICATION,
        Self::CREDIT_SCORING,
        Self::MARKETING_ANALYTICS,
        Self::PAYMENT_PROCESSING,
        Self::FRAUD_PREVENTION,
        Self::LEGAL_OBLIGATION,
        Self::STATISTICS,
        Self::SERVICE_PROVISION,
    ];

    const fn from_static(id: &'static str) -> Self {
        Self(Text::Static(id))
    }

    /// The purpose's id.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn is_static(&self) -> bool {
        matches!(self.0, Text::Static(_))
    }

    /// This purpose's bit in a consent's purpose mask (see [`id_bit`]).
    #[inline]
    pub(crate) fn bit(&self) -> u32 {
        id_bit(self.as_str())
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Purpose({:?})", self.as_str())
    }
}

impl TryFrom<String> for Purpose {
    type Error = InvalidId;
    fn try_from(id: String) -> Result<Self, InvalidId> {
        Self::new(id)
    }
}

// Made from the text as the input holds it: a purpose read back allocates once, and not at
// all if it is one of the library's own.
impl<'de> Deserialize<'de> for Purpose {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_id(deserializer, "a purpose", |id| Self::new(id))
    }
}

impl From<Purpose> for String {
    fn from(purpose: Purpose) -> Self {
        purpose.as_str().to_owned()
    }
}

/// The version of the privacy policy a consent was given under (IMANUM §6: a new version
/// takes effect when published, and consent is bound to the text the subject accepted).
///
/// ```
/// use amanat::PolicyVersion;
/// let v = PolicyVersion::new("2025-07-01/2")?;
/// assert_eq!(v.to_string(), "2025-07-01/2");
/// # Ok::<(), amanat::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicyVersion(Arc<str>);

impl PolicyVersion {
    /// Makes a policy version: printable ASCII without spaces, up to 128 bytes.
    ///
    /// # Errors
    ///
    /// [`InvalidId`] if the text is empty, too long or has a space or a character
    /// outside printable ASCII.
    pub fn new(version: impl AsRef<str>) -> Result<Self, InvalidId> {
        let version = version.as_ref();
        check_id("policy version", version, |c| c.is_ascii_graphic())?;
        Ok(Self(Arc::from(version)))
    }

    /// The version as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyVersion({:?})", &*self.0)
    }
}

impl TryFrom<String> for PolicyVersion {
    type Error = InvalidId;
    fn try_from(version: String) -> Result<Self, InvalidId> {
        Self::new(version)
    }
}

impl From<PolicyVersion> for String {
    fn from(version: PolicyVersion) -> Self {
        version.0.to_string()
    }
}

/// The SHA-256 digest of a document, such as a signed consent form.
///
/// ```
/// use amanat::DocumentHash;
/// let hash = DocumentHash::of(b"I consent to the processing of my selfie.");
/// assert_eq!(hash.to_string().len(), 64);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentHash([u8; 32]);

impl DocumentHash {
    /// Hashes a document's bytes.
    pub fn of(document: &[u8]) -> Self {
        Self(Sha256::digest(document).into())
    }

    /// Wraps a digest computed elsewhere.
    pub const fn from_bytes(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for DocumentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(&self.0, f)
    }
}

/// An id made by `make` from the text the input holds, without a `String` in between.
pub(crate) fn deserialize_id<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    make: fn(&str) -> Result<T, InvalidId>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Id<T> {
        expecting: &'static str,
        make: fn(&str) -> Result<T, InvalidId>,
    }
    impl<T> serde::de::Visitor<'_> for Id<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<T, E> {
            (self.make)(id).map_err(E::custom)
        }
    }
    deserializer.deserialize_str(Id { expecting, make })
}

/// Lower-case hex, the form digests and pseudonyms are shown in.
pub(crate) fn write_hex(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    bytes.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
}

impl fmt::Debug for DocumentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentHash({self})")
    }
}

impl Serialize for DocumentHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocumentHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(deserializer)?;
        let malformed = || serde::de::Error::custom("a document hash is 64 lower-case hex digits");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let mut digest = [0; 32];
        for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| malformed())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| malformed())?;
        }
        Ok(Self(digest))
    }
}

/// The form a consent was given in (Tajik law Art. 17; Uzbek Ministry of Justice order
/// No. 3478: written, or an electronic document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentForm {
    /// A written consent, signed on paper or as a signed document; its digest is kept so the
    /// document can later be matched to the consent. The only form that allows processing a
    /// special category such as biometric data (Art. 17.1).
    Written {
        /// The SHA-256 of the signed document.
        document_sha256: DocumentHash,
    },
    /// An electronic consent, such as a one-time password sent to the subject's phone and
    /// typed back (IMANUM §2.1.3).
    Electronic {
        /// How it was confirmed.
        method: ElectronicMethod,
    },
    /// Consent inferred from conduct. Weakest form; never enough for a special category.
    Implied,
}

impl ConsentForm {
    /// Whether this is a written consent.
    pub const fn is_written(&self) -> bool {
        matches!(self, ConsentForm::Written { .. })
    }

    /// The form's kind, without its details.
    pub const fn kind(&self) -> FormKind {
        match self {
            ConsentForm::Written { .. } => FormKind::Written,
            ConsentForm::Electronic { .. } => FormKind::Electronic,
            ConsentForm::Implied => FormKind::Implied,
        }
    }
}

/// How strong a consent's form is, weakest first: what a policy requires at least.
///
/// ```
/// use amanat::vocab::FormKind;
/// assert!(FormKind::Implied < FormKind::Electronic && FormKind::Electronic < FormKind::Written);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// Inferred from conduct.
    Implied,
    /// Confirmed electronically (a one-time password, an accepted public offer).
    Electronic,
    /// Written and signed.
    Written,
}

impl fmt::Display for FormKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormKind::Implied => "implied",
            FormKind::Electronic => "electronic",
            FormKind::Written => "written",
        })
    }
}

/// How an electronic consent was confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ElectronicMethod {
    /// A one-time password sent to the subject's phone and entered back.
    OneTimePassword,
    /// Acceptance of a public offer that states the purposes (Uzbek Ministry of Justice order No. 3478).
    PublicOfferAcceptance,
    /// An electronic digital signature.
    DigitalSignature,
}

/// Who gave a consent: the subject, or their legal representative (Art. 8.1, 11.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GivenBy {
    /// The subject themselves.
    Subject,
    /// A parent, guardian or attorney acting for the subject.
    LegalRepresentative {
        /// The representative's name, as on the document that empowers them.
        name: String,
        /// What empowers them: a power of attorney's number, a guardianship decision.
        basis: String,
    },
}

/// What proves a consent was obtained (Art. 25.1). Keep here only references to evidence,
/// never the personal data itself: evidence is stored in the consent history in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Evidence {
    /// A one-time password was sent and typed back (IMANUM §2.1.3). Name the challenge by
    /// the id your SMS gateway gave it, not by the phone number.
    OneTimePassword {
        /// The gateway's id for the challenge.
        challenge_id: String,
        /// When the subject typed the code back.
        #[serde(with = "when")]
        confirmed_at: DateTime<Utc>,
    },
    /// A signed document, by its digest.
    SignedDocument {
        /// The SHA-256 of the signed document.
        document_sha256: DocumentHash,
    },
    /// A record kept in another system (a CRM, a consent receipt from another controller).
    External {
        /// The system that keeps it.
        system: String,
        /// Its id there.
        reference: String,
    },
}

/// A ground of Tajik law Art. 17.2 on which biometric data may be processed without written
/// consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BiometricGround {
    /// Criminal prosecution.
    CriminalProsecution,
    /// The administration of justice and court acts.
    Justice,
    /// Execution of sentences.
    SentenceExecution,
    /// Defence.
    Defence,
    /// State security.
    Security,
    /// Operational-search activity.
    OperationalSearch,
    /// Countering terrorism and extremism.
    CounterTerrorism,
    /// Countering corruption.
    AntiCorruption,
    /// Countering money laundering and the financing of terrorism and proliferation.
    AntiMoneyLaundering,
    /// Citizenship matters.
    Citizenship,
    /// Civil service.
    CivilService,
}

/// The ground on which processing is lawful (Tajik law Art. 8.1, 12, 17.2; ZRU-547 Art. 18,
/// 26): which of them a policy may use is its pack's to say.
///
/// Every basis but [`Consent`](LegalBasis::Consent) carries a reference — which law, order
/// or request — that is kept with the processing it allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LegalBasis {
    /// The subject's (or representative's) consent, recorded in the ledger.
    Consent,
    /// Performing a contract with the subject.
    Contract {
        /// The contract's number.
        reference: String,
    },
    /// A duty that a law puts on the operator.
    LegalObligation {
        /// The law and article.
        reference: String,
    },
    /// A state body performing its legal duties (Art. 12).
    StateFunction {
        /// The body.
        authority: String,
        /// The request's number and the law it cites.
        reference: String,
    },
    /// Protecting the subject's or others' rights (Tajik law Art. 12; ZRU-547 Art. 18; and
    /// abroad, when consent can't be had, Tajik law Art. 18.2).
    ProtectionOfRights {
        /// Whose rights, and the case.
        reference: String,
    },
    /// A court order.
    CourtOrder {
        /// The court and case number.
        reference: String,
    },
    /// One of the grounds of Art. 17.2 on which biometric data may be processed without
    /// written consent.
    BiometricException {
        /// Which ground.
        ground: BiometricGround,
        /// The law, case or request.
        reference: String,
    },
}

/// The kind of a [`LegalBasis`], without its reference: what a policy declares for a
/// purpose and a jurisdiction pack accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BasisKind {
    /// See [`LegalBasis::Consent`].
    Consent,
    /// See [`LegalBasis::Contract`].
    Contract,
    /// See [`LegalBasis::LegalObligation`].
    LegalObligation,
    /// See [`LegalBasis::StateFunction`].
    StateFunction,
    /// See [`LegalBasis::ProtectionOfRights`].
    ProtectionOfRights,
    /// See [`LegalBasis::CourtOrder`].
    CourtOrder,
    /// See [`LegalBasis::BiometricException`].
    BiometricException,
}

impl BasisKind {
    /// The name used in policies, errors and records.
    pub const fn name(self) -> &'static str {
        match self {
            BasisKind::Consent => "consent",
            BasisKind::Contract => "contract",
            BasisKind::LegalObligation => "legal_obligation",
            BasisKind::StateFunction => "state_function",
            BasisKind::ProtectionOfRights => "protection_of_rights",
            BasisKind::CourtOrder => "court_order",
            BasisKind::BiometricException => "biometric_exception",
        }
    }
}

impl fmt::Display for BasisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl LegalBasis {
    /// The basis's kind.
    pub const fn kind(&self) -> BasisKind {
        match self {
            LegalBasis::Consent => BasisKind::Consent,
            LegalBasis::Contract { .. } => BasisKind::Contract,
            LegalBasis::LegalObligation { .. } => BasisKind::LegalObligation,
            LegalBasis::StateFunction { .. } => BasisKind::StateFunction,
            LegalBasis::ProtectionOfRights { .. } => BasisKind::ProtectionOfRights,
            LegalBasis::CourtOrder { .. } => BasisKind::CourtOrder,
            LegalBasis::BiometricException { .. } => BasisKind::BiometricException,
        }
    }

    /// The basis's name, as used in errors and records.
    pub const fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The reference the basis stands on, or `None` for consent.
    pub fn reference(&self) -> Option<&str> {
        match self {
            LegalBasis::Consent => None,
            LegalBasis::Contract { reference }
            | LegalBasis::LegalObligation { reference }
            | LegalBasis::StateFunction { reference, .. }
            | LegalBasis::ProtectionOfRights { reference }
            | LegalBasis::CourtOrder { reference }
            | LegalBasis::BiometricException { reference, .. } => Some(reference),
        }
    }

    /// Whether this basis allows processing a special category (biometric data) without
    /// written consent: only the grounds of Art. 17.2 do, and court acts are among them.
    pub const fn allows_special_categories(&self) -> bool {
        matches!(
            self,
            LegalBasis::BiometricException { .. } | LegalBasis::CourtOrder { .. }
        )
    }
}

/// The acts the law calls processing (Tajik law Art. 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Obtaining the data.
    Collect,
    /// Writing it down.
    Record,
    /// Keeping it.
    Store,
    /// Using it.
    Use,
    /// Changing or supplementing it.
    Modify,
    /// Looking it up.
    Retrieve,
    /// Giving it to a specific recipient.
    Disclose,
    /// Giving it to an indefinite circle of persons.
    Distribute,
    /// Handing it over to another operator.
    Transfer,
    /// Transfer to the territory of a foreign state (Art. 18).
    CrossBorderTransfer,
    /// Making it impossible to tie to the subject without extra information.
    Depersonalize,
    /// Suspending processing while keeping it.
    Block,
    /// Making it impossible to restore.
    Destroy,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category as _;

    #[test]
    fn a_purpose_of_the_library_read_back_is_its_constant_and_a_bad_one_is_refused() {
        for known in Purpose::KNOWN {
            let json = serde_json::to_string(&known).unwrap();
            let read: Purpose = serde_json::from_str(&json).unwrap();
            assert!(read.is_static(), "{known}");
            assert_eq!(read, known);
        }
        let own: Purpose = serde_json::from_str("\"merchant_onboarding\"").unwrap();
        assert!(!own.is_static());
        assert_eq!(own.as_str(), "merchant_onboarding");
        // Escaped in the JSON: read through the same door.
        let escaped: Purpose = serde_json::from_str("\"credit\\u005fscoring\"").unwrap();
        assert_eq!(escaped, Purpose::CREDIT_SCORING);
        assert!(serde_json::from_str::<Purpose>("\"Credit Scoring\"").is_err());
        assert!(serde_json::from_str::<Purpose>("7").is_err());
    }

    #[test]
    fn each_standard_purpose_and_category_has_its_own_bit_and_equal_ids_share_one() {
        let standard = [
            Purpose::IDENTITY_VERIFICATION,
            Purpose::CREDIT_SCORING,
            Purpose::MARKETING_ANALYTICS,
            Purpose::PAYMENT_PROCESSING,
            Purpose::FRAUD_PREVENTION,
            Purpose::LEGAL_OBLIGATION,
            Purpose::STATISTICS,
            Purpose::SERVICE_PROVISION,
        ];
        let mask = standard.iter().fold(0, |mask, p| mask | p.bit());
        assert_eq!(mask.count_ones(), 8);
        let categories = [
            crate::category::Biometric::ID,
            crate::category::Passport::ID,
            crate::category::PaymentCard::ID,
            crate::category::Phone::ID,
        ];
        let mask = categories.iter().fold(0, |mask, c| mask | c.bit());
        assert_eq!(mask.count_ones(), 4);
        for purpose in &standard {
            assert_eq!(Purpose::new(purpose.as_str()).unwrap().bit(), purpose.bit());
        }
    }

    #[test]
    fn invalid_ids_do_not_echo_the_text() {
        let phone = "+998901234567 x";
        let err = SubjectId::new(phone).unwrap_err();
        assert!(!err.to_string().contains("998901234567"));
        assert!(SubjectId::new("a".repeat(129)).is_err());
        assert!(SubjectId::new("a".repeat(128)).is_ok());
        assert!(SubjectId::new("line\nbreak").is_err());
        assert!(SubjectId::new("998901234567").is_err());
        assert!(SubjectId::new("alisher@example.uz").is_err());
        assert!(SubjectId::new("12345678").is_ok());
        assert!(SubjectId::new("cust-998901234567").is_ok());
    }

    #[test]
    fn constant_and_new_purposes_compare_by_text() {
        let made = Purpose::new("credit_scoring").unwrap();
        assert_eq!(made, Purpose::CREDIT_SCORING);
        let set: std::collections::HashSet<_> = [made, Purpose::CREDIT_SCORING].into();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn ids_round_trip_through_serde_and_are_validated() {
        let subject: SubjectId = serde_json::from_str("\"cust-1\"").unwrap();
        assert_eq!(serde_json::to_string(&subject).unwrap(), "\"cust-1\"");
        assert!(serde_json::from_str::<Purpose>("\"Not Valid\"").is_err());
    }

    #[test]
    fn document_hash_is_lower_hex_sha256() {
        assert_eq!(
            DocumentHash::of(b"abc").to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_art_17_2_grounds_and_courts_allow_special_categories() {
        let court = LegalBasis::CourtOrder {
            reference: "case 1".into(),
        };
        let state = LegalBasis::StateFunction {
            authority: "tax".into(),
            reference: "r".into(),
        };
        assert!(court.allows_special_categories());
        assert!(!state.allows_special_categories());
        assert!(!LegalBasis::Consent.allows_special_categories());
    }
}
