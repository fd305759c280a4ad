//! What the registers hold: transfer notices owed to subjects and requests received from
//! them, and where a record came from.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::category_id::CategoryId;
use super::ids::RecordId;
use super::{Purpose, SubjectId};

/// Where the data came from: the subject, or a third party (which owes the subject a
/// notice, Tajik law Art. 21).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// The subject gave it.
    Subject,
    /// Someone else gave it: a credit bureau, a partner bank.
    ThirdParty {
        /// Who gave it.
        name: Arc<str>,
    },
}

/// What happened to a record that its subject and the other participants in its processing
/// must be told of (Uzbek law Art. 31).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordChange {
    /// It was corrected.
    Rectified,
    /// Its use was restricted: it was blocked.
    Blocked,
    /// It was destroyed.
    Destroyed,
}

/// Whom a notice of a change goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Addressee {
    /// The subject.
    Subject,
    /// Another participant in the processing: a recipient the policy declares for the
    /// record's purpose and category.
    Participant {
        /// The recipient's id in the policy.
        recipient: String,
        /// Its name.
        name: String,
        /// Its address.
        address: String,
    },
}

/// The written notice owed when a record was corrected, blocked or destroyed (Uzbek law
/// Art. 31): to whom, about which record, what happened, and by when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangeNotice {
    /// The notice's number in the register.
    pub id: u64,
    /// Whose record.
    pub subject: SubjectId,
    /// The record.
    pub record: RecordId,
    /// Its category.
    pub category: CategoryId,
    /// What happened to it.
    pub change: RecordChange,
    /// Whom to tell.
    pub to: Addressee,
    /// When it happened.
    #[serde(with = "super::when")]
    pub at: DateTime<Utc>,
    /// The last day the notice may be sent.
    pub due: NaiveDate,
    /// When it was sent, once it was.
    #[serde(with = "super::when::option")]
    pub sent_at: Option<DateTime<Utc>>,
}

/// The notice a subject is owed when their data went to a third party, or came from one
/// (Tajik law Art. 21): who has it, where, for what, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransferNotice {
    /// The notice's number in the register.
    pub id: u64,
    /// Whom to notify.
    pub subject: SubjectId,
    /// The record concerned.
    pub record: RecordId,
    /// Its category.
    pub category: CategoryId,
    /// Who now holds the data: the recipient's name, or the operator's when the data came
    /// from a third party.
    pub holder: String,
    /// The holder's address.
    pub address: String,
    /// The purpose.
    pub purpose: Purpose,
    /// Where the data came from.
    pub source: Source,
    /// The policy's id of the recipient the data was transferred to; `None` for the
    /// operator's own notice of data a third party gave it. A policy may hold further
    /// transfers to a recipient while a notice of one to it is overdue.
    #[serde(default)]
    pub recipient: Option<String>,
    /// When the transfer or collection happened.
    #[serde(with = "super::when")]
    pub at: DateTime<Utc>,
    /// The last day the notice may be sent.
    pub due: NaiveDate,
    /// When it was sent, once it was.
    #[serde(with = "super::when::option")]
    pub sent_at: Option<DateTime<Utc>>,
}

/// Who made a record's data public (Tajik law Art. 21.3): only data its subject made
/// public, or had made public, is exempt from the notice of its transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PublishedBy {
    /// The subject published it.
    Subject,
    /// Someone published it at the subject's wish.
    AtSubjectsWish,
}

/// The statement that a record's data was made public by its subject or at their wish:
/// by whom, where and when. Recorded on the record, and in the audit trail, so that the
/// exemption it grants from the notice of a transfer can be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Publication {
    /// The subject, or someone at their wish.
    pub by: PublishedBy,
    /// Where it was published: a register's entry, a page, an issue of a gazette. A
    /// reference, as the audit trail shows it — never the value itself.
    pub reference: String,
    /// When it was published: a transfer before then is not exempt.
    #[serde(with = "super::when")]
    pub at: DateTime<Utc>,
}

impl Publication {
    /// The subject published the data at `at`, where `reference` says.
    pub fn by_subject(reference: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            by: PublishedBy::Subject,
            reference: reference.into(),
            at,
        }
    }

    /// Someone published the data at the subject's wish, at `at`, where `reference` says.
    pub fn at_subjects_wish(reference: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            by: PublishedBy::AtSubjectsWish,
            reference: reference.into(),
            at,
        }
    }
}

/// One request and its dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubjectRequest {
    /// Its number.
    pub id: u64,
    /// Who asked.
    pub subject: SubjectId,
    /// For what.
    pub kind: RequestKind,
    /// When it arrived.
    #[serde(with = "super::when")]
    pub received: DateTime<Utc>,
    /// The last day to answer, on the policy's calendar.
    pub due: NaiveDate,
    /// When it was answered, once it was.
    #[serde(with = "super::when::option")]
    pub completed: Option<DateTime<Utc>>,
}

/// What the subject asks for (Tajik law Art. 22; ZRU-547 Art. 11, 22, 24, 30).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestKind {
    /// To be told what is processed, why, by whom, for how long (Art. 22.2-22.4).
    Access,
    /// To have incomplete or wrong data corrected.
    Rectification,
    /// To have processing suspended.
    Blocking,
    /// To have data destroyed.
    Destruction,
    /// To withdraw consent.
    Withdrawal,
    /// To object to a decision made solely by automated processing, such as a credit
    /// score (ZRU-547 Art. 24: answered in writing within ten days).
    Objection,
}

impl RequestKind {
    /// The kind's name, as it is serialized.
    ///
    /// ```
    /// use amanat::rights::RequestKind;
    /// assert_eq!(RequestKind::Objection.name(), "objection");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Rectification => "rectification",
            RequestKind::Blocking => "blocking",
            RequestKind::Destruction => "destruction",
            RequestKind::Withdrawal => "withdrawal",
            RequestKind::Objection => "objection",
        }
    }
}
