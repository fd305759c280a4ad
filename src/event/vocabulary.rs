//! The one vocabulary of events: what the audit trail shows and what the replay applies,
//! spelled once.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::hash::ChainHash;
use crate::vocab::category_id::CategoryId;
use crate::vocab::ids::{ConsentId, HoldId, RecordId};
use crate::vocab::register::{
    ChangeNotice, Publication, RequestKind, SubjectRequest, TransferNotice,
};
use crate::vocab::retention::{DestructionReason, LegalHold, Trigger};
use crate::vocab::{
    Actor, ConsentForm, Evidence, GivenBy, LegalBasis, PolicyVersion, Purpose, SubjectId,
};

/// Something that happened to personal data or to what governs it: the one vocabulary of
/// the library. The [audit trail](crate::audit) shows every event; the replay that rebuilds
/// an [`Operator`](crate::store::Operator) at open applies the events that are *changes*
/// (see [`is_change`](Self::is_change)) and passes over the rest. An operator writes each
/// event once, as one entry of its log.
///
/// Two classes, by what a crash may cost:
///
/// - **Changes** — a consent given, renewed, withdrawn or invalidated, a legal basis used,
///   a record being kept or tracked, a trigger, a hold placed or released, a destruction, a
///   notice owed or sent, a record stated made public by its subject, a request received or
///   completed, a policy in force — each carry
///   what replay needs, and are acknowledged once durable.
/// - **Observations** — an authorization, a collection, reads, a rectification or block, a
///   disclosure, a deadline set, a postponement, a retry, a trigger that changed nothing —
///   follow from the changes or only record what was done, and are written with the next
///   change or within a stated interval.
///
/// Every variant holds ids, categories, purposes, dates, references and digests — and, in
/// [`ConsentGiven`](Self::ConsentGiven), the name and mandate of a legal representative who
/// consented for the subject, which the proof of consent needs. Never a value of the
/// subject's personal data. References (of a legal basis, a hold, a court decision) are
/// written as given: name a law, an order or a case number there, never a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// An authorization was granted or refused, and by which rule.
    Authorization {
        /// Who acted, when the token was issued to a named [`Actor`].
        actor: Option<Actor>,
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which category.
        category: Cow<'static, str>,
        /// Whether a token was issued.
        granted: bool,
        /// The rule that refused ([`Error::rule`](crate::Error::rule)), when one did.
        rule: Option<String>,
        /// The consent the token stands on, when it was granted on one.
        consent: Option<ConsentId>,
    },
    /// A consent was given: a change.
    ConsentGiven {
        /// The consent, as given.
        given: Box<Given>,
        /// The SHA-256 of the event as the subject's history holds it
        /// ([`ConsentEvent::digest`](crate::consent::ConsentEvent::digest)), so that a
        /// [proof of consent](crate::ConsentLedger::proof_of_consent) can show the entry
        /// carries exactly that event.
        digest: ChainHash,
    },
    /// A consent's validity was moved: a change.
    ConsentRenewed {
        /// Whose consent.
        subject: SubjectId,
        /// Which consent.
        consent: ConsentId,
        /// Its new end; `None` for none.
        #[serde(with = "crate::vocab::when::option")]
        valid_until: Option<DateTime<Utc>>,
        /// As in [`ConsentGiven`](Self::ConsentGiven).
        digest: ChainHash,
    },
    /// A consent was withdrawn for some or all of its purposes (Tajik law Art. 11.1; ZRU-547 Art. 21): a change.
    ConsentWithdrawn {
        /// Whose consent.
        subject: SubjectId,
        /// Which consent.
        consent: ConsentId,
        /// The purposes withdrawn.
        purposes: Vec<Purpose>,
        /// Whether the retention schedule heard of it in the same change
        /// ([`Operator::withdraw`](crate::store::Operator::withdraw)): replayed, the
        /// withdrawal brings the deadlines forward again.
        retention: bool,
        /// As in [`ConsentGiven`](Self::ConsentGiven).
        digest: ChainHash,
    },
    /// A consent was invalidated by a policy change: a change.
    ConsentInvalidated {
        /// Whose consent.
        subject: SubjectId,
        /// Which consent.
        consent: ConsentId,
        /// The policy version that invalidated it.
        by: PolicyVersion,
        /// As in [`ConsentGiven`](Self::ConsentGiven).
        digest: ChainHash,
    },
    /// Processing on a legal basis other than consent, with its reference: a change, as
    /// the subject's history shows it.
    LegalBasisUsed {
        /// Who acted, when the token was issued to a named [`Actor`].
        actor: Option<Actor>,
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which category.
        category: CategoryId,
        /// The basis, with its reference.
        basis: LegalBasis,
        /// The policy version in force.
        policy_version: PolicyVersion,
    },
    /// A record was collected.
    Collection {
        /// Who acted, when the token was issued to a named [`Actor`].
        actor: Option<Actor>,
        /// The record.
        record: RecordId,
        /// Whose.
        subject: SubjectId,
        /// Its category.
        category: Cow<'static, str>,
        /// The purpose of collection.
        purpose: Purpose,
        /// `subject` or `third_party`.
        source: String,
    },
    /// An operator is about to seal and keep a record: a change. A sealed copy found at
    /// open with this and no [`Tracked`](Self::Tracked) was never acknowledged.
    Keeping {
        /// The record.
        record: RecordId,
        /// Whose.
        subject: SubjectId,
    },
    /// A record's retention is tracked from now on: a change.
    Tracked {
        /// The record.
        record: RecordId,
        /// Whose.
        subject: SubjectId,
        /// Its category.
        category: CategoryId,
        /// The purpose it was collected for.
        purpose: Purpose,
        /// When it was collected.
        #[serde(with = "crate::vocab::when")]
        collected_at: DateTime<Utc>,
    },
    /// How many times one token opened values, counted when the token is dropped.
    Reads {
        /// Who acted, when the token was issued to a named [`Actor`].
        actor: Option<Actor>,
        /// Whose data.
        subject: SubjectId,
        /// For what.
        purpose: Purpose,
        /// Which category.
        category: Cow<'static, str>,
        /// The consent the token stood on, if it stood on one.
        consent: Option<ConsentId>,
        /// How many reads.
        count: u64,
    },
    /// A record was rectified, blocked or unblocked.
    Change {
        /// Who acted, when the token was issued to a named [`Actor`].
        actor: Option<Actor>,
        /// The record.
        record: RecordId,
        /// Whose.
        subject: SubjectId,
        /// Its category.
        category: Cow<'static, str>,
        /// What changed: `rectified`, `blocked`, `unblocked`.
        change: String,
    },
    /// A record was disclosed, and the notice owed, if any.
    Disclosure {
        /// Who acted, when the token was issued to a named [`Actor`].
        actor: Option<Actor>,
        /// The record.
        record: RecordId,
        /// Whose.
        subject: SubjectId,
        /// Its category.
        category: Cow<'static, str>,
        /// To whom.
        recipient: String,
        /// The recipient's country.
        country: String,
        /// The notice owed (Art. 21), by number.
        notice: Option<u64>,
    },
    /// A notice is owed to a subject (Art. 21): a change.
    NoticeOwed {
        /// The notice.
        notice: TransferNotice,
    },
    /// A notice owed to a subject was recorded as sent: a change.
    NoticeSent {
        /// The notice, by number.
        notice: u64,
    },
    /// A policy version came into force: a change.
    PolicyChange {
        /// The version.
        version: PolicyVersion,
    },
    /// A record's deadline was set or brought forward.
    Deadline {
        /// The record.
        record: RecordId,
        /// When it falls due.
        #[serde(with = "crate::vocab::when")]
        due: DateTime<Utc>,
        /// Why.
        reason: DestructionReason,
    },
    /// Destruction was postponed by legal holds.
    Postponed {
        /// The record.
        record: RecordId,
        /// The holds.
        holds: Vec<HoldId>,
        /// The statutory minimum that keeps it too, as its law and article.
        #[serde(default)]
        minimum: Option<String>,
        /// Until when; `None` until a hold is released or its relationship end is known.
        #[serde(with = "crate::vocab::when::option")]
        until: Option<DateTime<Utc>>,
    },
    /// A legal hold was placed: a change.
    HoldPlaced {
        /// The hold.
        hold: HoldId,
        /// What it covers, until when, and the law, order or case it stands on.
        legal_hold: LegalHold,
    },
    /// A legal hold was released: a change.
    HoldReleased {
        /// The hold.
        hold: HoldId,
    },
    /// Something that moves a subject's deadlines happened (a relationship ended, a
    /// withdrawal, an erasure request): a change.
    Triggered {
        /// Whose records.
        subject: SubjectId,
        /// What happened.
        trigger: Trigger,
    },
    /// A trigger changed nothing, and why (a logout, a withdrawal where another basis holds).
    TriggerIgnored {
        /// Whose records.
        subject: SubjectId,
        /// What was seen.
        trigger: String,
        /// Why it changed nothing.
        why: String,
    },
    /// A destruction hook failed; the destruction will be retried.
    DestructionRetry {
        /// The record.
        record: RecordId,
        /// Attempts so far.
        attempts: u32,
        /// The next attempt.
        #[serde(with = "crate::vocab::when")]
        next: DateTime<Utc>,
    },
    /// A record was destroyed: a change when a retention schedule destroyed it.
    Destruction {
        /// The record.
        record: RecordId,
        /// Why.
        reason: DestructionReason,
        /// The retention rule that set the deadline, when a schedule destroyed it.
        rule: Option<String>,
        /// The holds a court's order to destroy outweighed: they stand on neither a court
        /// order nor a statute.
        #[serde(default)]
        overrode: Vec<HoldId>,
    },
    /// A record was blocked — kept, and read by no one but what a law or a hold keeps it
    /// for (Art. 22.1) — at the subject's request when one is named: a change.
    Blocked {
        /// Whose.
        subject: SubjectId,
        /// The record.
        record: RecordId,
        /// The request it answers.
        request: Option<u64>,
    },
    /// A record's block was lifted: a change.
    Unblocked {
        /// Whose.
        subject: SubjectId,
        /// The record.
        record: RecordId,
    },
    /// A record was rectified at the subject's request: its corrected value is kept as a
    /// new record, sealed under a new key, and the old record destroyed (Art. 22.1): a
    /// change.
    Rectified {
        /// Whose.
        subject: SubjectId,
        /// The record corrected, destroyed with it.
        old: RecordId,
        /// The record that holds the corrected value.
        new: RecordId,
        /// The request it answers.
        request: u64,
    },
    /// The identity of the subject behind a request was verified, as an export of their
    /// data requires: a change.
    IdentityVerified {
        /// Whose.
        subject: SubjectId,
        /// The request.
        request: u64,
        /// How: a document shown, a signature checked, a one-time password.
        method: String,
        /// Who verified it.
        verified_by: String,
    },
    /// The subject's data was handed to them for a request (Tajik law Art. 25.1): which
    /// records, never their values. A change: a request is exported once.
    Exported {
        /// Whose.
        subject: SubjectId,
        /// The request.
        request: u64,
        /// The records the export held.
        records: Vec<RecordId>,
    },
    /// A notice of a record's correction, block or destruction is owed to its subject or
    /// another participant (Uzbek law Art. 31): a change.
    ChangeNoticeOwed {
        /// The notice.
        notice: ChangeNotice,
    },
    /// A notice of a change was sent: a change.
    ChangeNoticeSent {
        /// Its number.
        notice: u64,
    },
    /// A subject's request (access, rectification, blocking, destruction, withdrawal) was
    /// received: a change.
    RequestReceived {
        /// The request.
        request: SubjectRequest,
    },
    /// The operator's log was restored from a backup that ends before the last checkpoint
    /// its anchor holds ([`OperatorBuilder::restore`](crate::store::OperatorBuilder::restore)):
    /// a change, which the replay passes over. What the backup lacks — the entries from
    /// `entries + 1` to `anchored` — was lost with it.
    Restored {
        /// How many entries the restored log held.
        entries: u64,
        /// The count of the anchor's latest checkpoint, which the backup falls short of.
        anchored: u64,
        /// Why, as the operator gave it: a ticket or an incident, never a person.
        reason: String,
    },
    /// A subject's personal data was erased from the operator's log
    /// ([`Operator::erase_subject`](crate::store::Operator::erase_subject)): the keys its
    /// entries were sealed under were shredded. A change, which the replay passes over:
    /// what those keys sealed is read no more.
    SubjectErased {
        /// The shredded keys, by handle in hex: the trail shows each entry they sealed as
        /// [`Erased`](Self::Erased).
        keys: Vec<String>,
    },
    /// How an operator's trail shows an entry sealed under a key since shredded: what it
    /// recorded was erased with its subject. Its audit hash is shown as it was written,
    /// and the log's MAC vouches for it; [`verify`](crate::audit::verify) refuses one
    /// anywhere else, where nothing vouches for it.
    Erased {
        /// What the entry was: `consent_given`, `tracked`, `authorization`, …
        was: String,
        /// Whether it was a change.
        change: bool,
        /// The handle of the key it was sealed under, in hex.
        key: String,
        /// The record, hold, notice or request it was about, which the log keeps in clear
        /// beside what it seals: the replay needs it to tell an erased subject's
        /// destructions, releases and numbers from a journal out of order.
        reference: Option<Reference>,
    },
    /// A subject's request was answered: a change.
    RequestCompleted {
        /// The request, by number.
        request: u64,
        /// Whose.
        subject: SubjectId,
        /// What was asked.
        kind: RequestKind,
    },
    /// A record's data was stated to have been made public by its subject or at their
    /// wish (Tajik law Art. 21.3): a change. Last of the variants, as every new one is: a
    /// snapshot encodes a variant by its place.
    MadePublic {
        /// Who stated it, when the token was issued to a named [`Actor`].
        actor: Option<Actor>,
        /// The record.
        record: RecordId,
        /// Whose.
        subject: SubjectId,
        /// By whom, where and when it was published.
        publication: Publication,
    },
}

/// What a sealed entry was about, kept in clear beside it: a random id the library made,
/// which says nothing of the subject once the subject's key is shredded — and which lets
/// an auditor without the keys find every change of a consent (see
/// [`ConsentProof::verify_against_anchor`](crate::consent::ConsentProof::verify_against_anchor)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reference {
    /// A consent.
    Consent(ConsentId),
    /// A record.
    Record(RecordId),
    /// A legal hold.
    Hold(HoldId),
    /// A notice of the transfer register, by number.
    Notice(u64),
    /// A subject's request, by number.
    Request(u64),
}

/// A consent as given, with everything needed to give it again on replay.
#[allow(clippy::struct_field_names)] // `given_by` is the vocabulary's name for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Given {
    /// The consent.
    pub consent: ConsentId,
    /// Whose.
    pub subject: SubjectId,
    /// When.
    #[serde(with = "crate::vocab::when")]
    pub at: DateTime<Utc>,
    /// For what.
    pub purposes: Vec<Purpose>,
    /// Each category with whether it was special when granted.
    pub categories: Vec<(CategoryId, bool)>,
    /// In what form.
    pub form: ConsentForm,
    /// By the subject, or by a legal representative (named, with the mandate).
    pub given_by: GivenBy,
    /// The policy version the subject agreed to.
    pub policy_version: PolicyVersion,
    /// What shows it was given.
    pub evidence: Option<Evidence>,
    /// Whom the data may be disclosed to.
    pub recipients: Vec<String>,
    /// Whether the data may cross the border.
    pub cross_border: bool,
    /// The end of validity, if any.
    #[serde(with = "crate::vocab::when::option")]
    pub valid_until: Option<DateTime<Utc>>,
}

impl Event {
    /// Whether the event is a change — what replay applies — rather than an observation.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Event::ConsentGiven { .. }
                | Event::ConsentRenewed { .. }
                | Event::ConsentWithdrawn { .. }
                | Event::ConsentInvalidated { .. }
                | Event::LegalBasisUsed { .. }
                | Event::Keeping { .. }
                | Event::Tracked { .. }
                | Event::NoticeOwed { .. }
                | Event::NoticeSent { .. }
                | Event::PolicyChange { .. }
                | Event::HoldPlaced { .. }
                | Event::HoldReleased { .. }
                | Event::Triggered { .. }
                | Event::Destruction { .. }
                | Event::Blocked { .. }
                | Event::Unblocked { .. }
                | Event::Rectified { .. }
                | Event::IdentityVerified { .. }
                | Event::Exported { .. }
                | Event::ChangeNoticeOwed { .. }
                | Event::ChangeNoticeSent { .. }
                | Event::RequestReceived { .. }
                | Event::RequestCompleted { .. }
                | Event::Restored { .. }
                | Event::SubjectErased { .. }
                | Event::MadePublic { .. }
        )
    }

    /// The event's name, as its JSON names it: `consent_given`, `authorization`,
    /// `tracked`, `hold_placed`, `destruction`, …
    pub fn name(&self) -> &'static str {
        match self {
            Event::Authorization { .. } => "authorization",
            Event::ConsentGiven { .. } => "consent_given",
            Event::ConsentRenewed { .. } => "consent_renewed",
            Event::ConsentWithdrawn { .. } => "consent_withdrawn",
            Event::ConsentInvalidated { .. } => "consent_invalidated",
            Event::LegalBasisUsed { .. } => "legal_basis_used",
            Event::Collection { .. } => "collection",
            Event::Keeping { .. } => "keeping",
            Event::Tracked { .. } => "tracked",
            Event::Reads { .. } => "reads",
            Event::Change { .. } => "change",
            Event::Disclosure { .. } => "disclosure",
            Event::NoticeOwed { .. } => "notice_owed",
            Event::NoticeSent { .. } => "notice_sent",
            Event::PolicyChange { .. } => "policy_change",
            Event::Deadline { .. } => "deadline",
            Event::Postponed { .. } => "postponed",
            Event::HoldPlaced { .. } => "hold_placed",
            Event::HoldReleased { .. } => "hold_released",
            Event::Triggered { .. } => "triggered",
            Event::TriggerIgnored { .. } => "trigger_ignored",
            Event::DestructionRetry { .. } => "destruction_retry",
            Event::Destruction { .. } => "destruction",
            Event::Blocked { .. } => "blocked",
            Event::Unblocked { .. } => "unblocked",
            Event::Rectified { .. } => "rectified",
            Event::IdentityVerified { .. } => "identity_verified",
            Event::Exported { .. } => "exported",
            Event::ChangeNoticeOwed { .. } => "change_notice_owed",
            Event::ChangeNoticeSent { .. } => "change_notice_sent",
            Event::RequestReceived { .. } => "request_received",
            Event::RequestCompleted { .. } => "request_completed",
            Event::Restored { .. } => "restored",
            Event::SubjectErased { .. } => "subject_erased",
            Event::Erased { .. } => "erased",
            Event::MadePublic { .. } => "made_public",
        }
    }

    /// For an event of a consent — given, renewed, withdrawn, invalidated — its subject,
    /// the consent, and the digest of the event as the subject's history holds it.
    pub fn consent_event(&self) -> Option<(&SubjectId, ConsentId, ChainHash)> {
        match self {
            Event::ConsentGiven { given, digest } => Some((&given.subject, given.consent, *digest)),
            Event::ConsentRenewed {
                subject,
                consent,
                digest,
                ..
            }
            | Event::ConsentWithdrawn {
                subject,
                consent,
                digest,
                ..
            }
            | Event::ConsentInvalidated {
                subject,
                consent,
                digest,
                ..
            } => Some((subject, *consent, *digest)),
            _ => None,
        }
    }

    #[cfg_attr(
        not(feature = "sqlite"),
        allow(dead_code, reason = "only an operator's own log seals entries")
    )]
    /// The subject whose key seals the event in an operator's log: the one it names, or
    /// the one a hold covers.
    pub(crate) fn sealed_for(&self) -> Option<&SubjectId> {
        match self {
            Event::HoldPlaced {
                legal_hold:
                    LegalHold {
                        scope: crate::vocab::retention::HoldScope::Subject(subject),
                        ..
                    },
                ..
            } => Some(subject),
            other => other.subject(),
        }
    }

    #[cfg_attr(
        not(feature = "sqlite"),
        allow(dead_code, reason = "only an operator's own log seals entries")
    )]
    /// The record, hold, notice or request the replay needs of the event once it can no
    /// longer be read: kept in clear beside a sealed entry.
    pub(crate) fn reference(&self) -> Option<Reference> {
        match self {
            Event::Tracked { record, .. } | Event::Keeping { record, .. } => {
                Some(Reference::Record(*record))
            }
            Event::ConsentGiven { .. }
            | Event::ConsentRenewed { .. }
            | Event::ConsentWithdrawn { .. }
            | Event::ConsentInvalidated { .. } => self
                .consent_event()
                .map(|(_, consent, _)| Reference::Consent(consent)),
            Event::HoldPlaced { hold, .. } => Some(Reference::Hold(*hold)),
            Event::NoticeOwed { notice } => Some(Reference::Notice(notice.id)),
            Event::ChangeNoticeOwed { notice } => Some(Reference::Notice(notice.id)),
            Event::RequestReceived { request } => Some(Reference::Request(request.id)),
            Event::RequestCompleted { request, .. }
            | Event::IdentityVerified { request, .. }
            | Event::Exported { request, .. } => Some(Reference::Request(*request)),
            Event::Rectified { new, .. } => Some(Reference::Record(*new)),
            _ => None,
        }
    }

    /// The subject the event is about, where it names one directly.
    pub fn subject(&self) -> Option<&SubjectId> {
        match self {
            Event::ConsentGiven { given, .. } => Some(&given.subject),
            Event::NoticeOwed { notice } => Some(&notice.subject),
            Event::ChangeNoticeOwed { notice } => Some(&notice.subject),
            Event::RequestReceived { request } => Some(&request.subject),
            Event::Authorization { subject, .. }
            | Event::ConsentRenewed { subject, .. }
            | Event::ConsentWithdrawn { subject, .. }
            | Event::ConsentInvalidated { subject, .. }
            | Event::LegalBasisUsed { subject, .. }
            | Event::Collection { subject, .. }
            | Event::Keeping { subject, .. }
            | Event::Tracked { subject, .. }
            | Event::Reads { subject, .. }
            | Event::Change { subject, .. }
            | Event::Disclosure { subject, .. }
            | Event::Triggered { subject, .. }
            | Event::TriggerIgnored { subject, .. }
            | Event::Blocked { subject, .. }
            | Event::Unblocked { subject, .. }
            | Event::Rectified { subject, .. }
            | Event::IdentityVerified { subject, .. }
            | Event::Exported { subject, .. }
            | Event::RequestCompleted { subject, .. }
            | Event::MadePublic { subject, .. } => Some(subject),
            Event::NoticeSent { .. }
            | Event::ChangeNoticeSent { .. }
            | Event::PolicyChange { .. }
            | Event::Deadline { .. }
            | Event::Postponed { .. }
            | Event::HoldPlaced { .. }
            | Event::HoldReleased { .. }
            | Event::DestructionRetry { .. }
            | Event::Destruction { .. }
            | Event::Restored { .. }
            | Event::SubjectErased { .. }
            | Event::Erased { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_the_json_key() {
        let subject = SubjectId::new("s").unwrap();
        let events = [
            Event::NoticeSent { notice: 1 },
            Event::HoldReleased { hold: HoldId(1) },
            Event::Keeping {
                record: RecordId::random(),
                subject: subject.clone(),
            },
            Event::TriggerIgnored {
                subject,
                trigger: "logout".into(),
                why: "no rule".into(),
            },
        ];
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            let key = match &json {
                serde_json::Value::Object(map) => map.keys().next().cloned(),
                serde_json::Value::String(name) => Some(name.clone()),
                _ => None,
            };
            assert_eq!(key.as_deref(), Some(event.name()));
        }
    }
}
