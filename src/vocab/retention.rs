//! The words of retention: what starts a countdown, what postpones destruction, and why a
//! record was destroyed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::RecordId;
use super::{Purpose, SubjectId};

/// What brings a deadline forward (Tajik law Art. 20, 25.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Trigger {
    /// The account is closed: the legal relationship ends. Rules counted "after the
    /// relationship ends" start running, and so do holds counted from it.
    AccountClosed,
    /// The subject logged out. **Not** a trigger: logging out does not end the relationship
    /// and the data is kept (IMANUM §2.1.5). Recorded, so the record shows it was seen.
    Logout,
    /// The purpose was achieved: rules counted "after the purpose is achieved" start.
    PurposeAchieved(Purpose),
    /// A court decision ordering destruction entered into force: due at once.
    CourtDecision {
        /// The court and case number.
        reference: String,
        /// The record it names, or `None` for all of the subject's records.
        record: Option<RecordId>,
    },
    /// The subject withdrew consent for a purpose: records collected for it are due at once
    /// where the policy declares the purpose on consent; where it declares another basis,
    /// that basis still holds and nothing changes (Art. 11.2).
    ConsentWithdrawn(Purpose),
}

/// A duty to keep data that postpones its destruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// What it covers.
    pub scope: HoldScope,
    /// Why, in words.
    pub reason: String,
    /// The law, order or case it stands on.
    pub reference: String,
    /// When it ends.
    pub until: HoldUntil,
}

/// What a legal hold covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldScope {
    /// Every record of a subject.
    Subject(SubjectId),
    /// One record.
    Record(RecordId),
}

/// When a legal hold ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldUntil {
    /// At a date.
    Date(#[serde(with = "super::when")] DateTime<Utc>),
    /// So long after the relationship with the subject ends (AML: five years, FATF
    /// Recommendation 11); until then, indefinitely.
    AfterRelationshipEnd {
        /// Years.
        years: u32,
        /// Months.
        months: u32,
        /// Days.
        days: u32,
    },
    /// Until released.
    Released,
}

/// Why a record was destroyed (Tajik law Art. 20, 22.1, 25.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DestructionReason {
    /// The subject withdrew consent and no other legal basis holds.
    ConsentWithdrawn,
    /// The subject asked for it (Art. 22.1).
    SubjectRequest,
    /// The purpose of processing was achieved (Art. 14.3).
    PurposeAchieved,
    /// The retention period ran out.
    RetentionExpired,
    /// The legal relationship with the subject ended: the account was closed (not a logout).
    RelationshipEnded,
    /// A court decision entered into force.
    CourtDecision {
        /// The court and case number.
        reference: String,
    },
    /// The data was found incomplete, outdated, wrong, unlawfully obtained or unnecessary
    /// (Art. 22.1).
    Unlawful,
}
