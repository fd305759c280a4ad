//! The words of retention: what starts a countdown, what postpones destruction, and why a
//! record was destroyed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::category_id::CategoryId;
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
    /// and the data is kept (IMANUM §IV). Recorded, so the record shows it was seen.
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
    /// The subject asked for a record destroyed (Art. 22.1) and nothing keeps it: due at
    /// once. What a statutory minimum or a hold keeps is blocked instead
    /// ([`Operator::erase`](crate::store::Operator::erase)).
    ErasureRequested {
        /// The record.
        record: RecordId,
        /// The request.
        request: u64,
    },
    /// The subject withdrew consent for a purpose: records collected for it are due at once
    /// where the policy declares the purpose on consent; where it declares another basis,
    /// that basis still holds and nothing changes (Tajik law Art. 12; ZRU-547 Art. 18).
    ConsentWithdrawn(Purpose),
    /// The term a consent set ended, and no other consent of the subject's holds `purpose`
    /// for `categories`: the records of those categories collected for it are due at once
    /// where the policy declares the purpose on consent (ZRU-547 Art. 17, 3rd indent;
    /// Art. 19: processing may not outlast the consent). An
    /// [`Operator`](crate::store::Operator)'s sweep finds the terms that ended and applies it.
    ConsentTermEnded {
        /// The purpose the consent held.
        purpose: Purpose,
        /// The categories no other consent holds for it.
        categories: Vec<CategoryId>,
    },
}

/// A duty to keep data that postpones its destruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// What it covers.
    pub scope: HoldScope,
    /// Why, in words.
    pub reason: String,
    /// What it stands on: a statute, a court order, an authority's investigation, or the
    /// operator's own decision. A court's order to destroy outweighs every hold but one on
    /// another court order or a statute.
    pub ground: HoldGround,
    /// When it ends.
    pub until: HoldUntil,
    /// The purposes that may still read a record it keeps past the record's deadline, on a
    /// legal basis other than consent — an anti-money-laundering hold: the legal
    /// obligation's purpose, not marketing. Empty: the record is kept and read by none.
    pub readable_for: Vec<Purpose>,
}

/// What a legal hold stands on. Each names its source; none may be blank.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoldGround {
    /// A law that requires the data kept.
    Statute {
        /// The law.
        law: String,
        /// Its article.
        article: String,
    },
    /// A court's order to keep the data.
    CourtOrder {
        /// The court.
        court: String,
        /// The case.
        case: String,
    },
    /// An authority's investigation — a financial intelligence unit, a regulator, the
    /// police — that asked for the data kept.
    Investigation {
        /// The authority.
        authority: String,
        /// Its reference for the request.
        reference: String,
    },
    /// The operator's own decision (an internal case, a dispute): outweighed by a court's
    /// order to destroy.
    Internal {
        /// The operator's reference.
        reference: String,
    },
}

impl HoldGround {
    /// Whether a hold on it keeps data a court ordered destroyed: only another court order
    /// or a statute does (a court decision in force is a destruction trigger: Tajik law
    /// Art. 20, Uzbek law Art. 17).
    pub fn outweighs_a_court_order(&self) -> bool {
        matches!(self, Self::Statute { .. } | Self::CourtOrder { .. })
    }

    /// Whether every field names something.
    pub(crate) fn is_complete(&self) -> bool {
        let filled = |s: &String| !s.trim().is_empty();
        match self {
            Self::Statute { law, article } => filled(law) && filled(article),
            Self::CourtOrder { court, case } => filled(court) && filled(case),
            Self::Investigation {
                authority,
                reference,
            } => filled(authority) && filled(reference),
            Self::Internal { reference } => filled(reference),
        }
    }
}

impl std::fmt::Display for HoldGround {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Statute { law, article } => write!(f, "{law}, {article}"),
            Self::CourtOrder { court, case } => write!(f, "{court}, case {case}"),
            Self::Investigation {
                authority,
                reference,
            } => write!(f, "{authority}, {reference}"),
            Self::Internal { reference } => write!(f, "internal: {reference}"),
        }
    }
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
    /// The term the subject's consent set ended (ZRU-547 Art. 17), and no other consent or
    /// legal basis holds.
    ConsentTermEnded,
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
