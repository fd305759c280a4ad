//! A change, as the journal keeps it: what replay needs to rebuild the state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::vocab::category_id::CategoryId;
use crate::vocab::ids::{ConsentId, HoldId, RecordId};
use crate::vocab::register::{SubjectRequest, TransferNotice};
use crate::vocab::retention::{LegalHold, Trigger};
use crate::vocab::{ConsentForm, Evidence, GivenBy, LegalBasis, PolicyVersion, Purpose, SubjectId};

/// One change to what must outlive the process, as the journal keeps it.
///
/// Opaque on purpose: a [`Journal`](super::Journal) stores and returns it whole (its
/// [`to_json`](Self::to_json) form is stable across patch releases), and only the library
/// applies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Change(pub(crate) Kind);

/// What a [`Change`] did. Times are kept to the millisecond, as everything in the library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    ConsentGiven(Given),
    ConsentRenewed {
        consent: ConsentId,
        at: DateTime<Utc>,
        valid_until: Option<DateTime<Utc>>,
    },
    ConsentWithdrawn {
        consent: ConsentId,
        at: DateTime<Utc>,
        purposes: Vec<Purpose>,
        /// Whether the retention schedule heard of it in the same change
        /// ([`Operator::withdraw`](crate::store::Operator::withdraw)): replayed, the
        /// withdrawal brings the deadlines forward again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        retention: bool,
    },
    ConsentInvalidated {
        consent: ConsentId,
        at: DateTime<Utc>,
        by: PolicyVersion,
    },
    /// The policy version in force from now on.
    PolicyInForce {
        version: PolicyVersion,
        at: DateTime<Utc>,
    },
    BasisUsed {
        subject: SubjectId,
        at: DateTime<Utc>,
        purpose: Purpose,
        category: CategoryId,
        basis: LegalBasis,
        policy_version: PolicyVersion,
    },
    /// An operator is about to seal and keep `record`: a sealed copy found at open with
    /// this and no `Tracked` was never acknowledged, and one without even this was never
    /// written through this journal.
    Keeping {
        record: RecordId,
        subject: SubjectId,
        at: DateTime<Utc>,
    },
    Tracked {
        record: RecordId,
        subject: SubjectId,
        category: CategoryId,
        purpose: Purpose,
        collected_at: DateTime<Utc>,
    },
    Triggered {
        subject: SubjectId,
        at: DateTime<Utc>,
        trigger: Trigger,
    },
    HoldPlaced {
        hold: HoldId,
        at: DateTime<Utc>,
        legal_hold: LegalHold,
    },
    HoldReleased {
        hold: HoldId,
        at: DateTime<Utc>,
    },
    Destroyed {
        record: RecordId,
        at: DateTime<Utc>,
    },
    NoticeOwed(TransferNotice),
    NoticeSent {
        notice: u64,
        at: DateTime<Utc>,
    },
    RequestReceived(SubjectRequest),
    RequestCompleted {
        request: u64,
        at: DateTime<Utc>,
    },
}

/// A consent as given, with everything needed to give it again on replay.
#[allow(clippy::struct_field_names)] // `given_by` is the vocabulary's name for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Given {
    pub(crate) consent: ConsentId,
    pub(crate) subject: SubjectId,
    pub(crate) at: DateTime<Utc>,
    pub(crate) purposes: Vec<Purpose>,
    /// Each category with whether it was special when granted.
    pub(crate) categories: Vec<(CategoryId, bool)>,
    pub(crate) form: ConsentForm,
    pub(crate) given_by: GivenBy,
    pub(crate) policy_version: PolicyVersion,
    pub(crate) evidence: Option<Evidence>,
    pub(crate) recipients: Vec<String>,
    pub(crate) cross_border: bool,
    pub(crate) valid_until: Option<DateTime<Utc>>,
}

impl Change {
    /// The change's name: `consent_given`, `consent_withdrawn`, `tracked`, `hold_placed`,
    /// `destroyed`, `notice_owed`, `request_received`, …
    pub fn kind(&self) -> &'static str {
        match &self.0 {
            Kind::ConsentGiven(_) => "consent_given",
            Kind::ConsentRenewed { .. } => "consent_renewed",
            Kind::ConsentWithdrawn { .. } => "consent_withdrawn",
            Kind::ConsentInvalidated { .. } => "consent_invalidated",
            Kind::PolicyInForce { .. } => "policy_in_force",
            Kind::BasisUsed { .. } => "basis_used",
            Kind::Keeping { .. } => "keeping",
            Kind::Tracked { .. } => "tracked",
            Kind::Triggered { .. } => "triggered",
            Kind::HoldPlaced { .. } => "hold_placed",
            Kind::HoldReleased { .. } => "hold_released",
            Kind::Destroyed { .. } => "destroyed",
            Kind::NoticeOwed(_) => "notice_owed",
            Kind::NoticeSent { .. } => "notice_sent",
            Kind::RequestReceived(_) => "request_received",
            Kind::RequestCompleted { .. } => "request_completed",
        }
    }

    /// The subject the change is about, where it names one directly: a store can index
    /// by it.
    pub fn subject(&self) -> Option<&SubjectId> {
        match &self.0 {
            Kind::ConsentGiven(given) => Some(&given.subject),
            Kind::BasisUsed { subject, .. }
            | Kind::Keeping { subject, .. }
            | Kind::Tracked { subject, .. }
            | Kind::Triggered { subject, .. } => Some(subject),
            Kind::NoticeOwed(notice) => Some(&notice.subject),
            Kind::RequestReceived(request) => Some(&request.subject),
            _ => None,
        }
    }

    /// When it was made.
    pub fn at(&self) -> DateTime<Utc> {
        match &self.0 {
            Kind::ConsentGiven(given) => given.at,
            Kind::Tracked { collected_at, .. } => *collected_at,
            Kind::NoticeOwed(notice) => notice.at,
            Kind::RequestReceived(request) => request.received,
            Kind::ConsentRenewed { at, .. }
            | Kind::ConsentWithdrawn { at, .. }
            | Kind::ConsentInvalidated { at, .. }
            | Kind::BasisUsed { at, .. }
            | Kind::PolicyInForce { at, .. }
            | Kind::Keeping { at, .. }
            | Kind::Triggered { at, .. }
            | Kind::HoldPlaced { at, .. }
            | Kind::HoldReleased { at, .. }
            | Kind::Destroyed { at, .. }
            | Kind::NoticeSent { at, .. }
            | Kind::RequestCompleted { at, .. } => *at,
        }
    }

    /// The change as one line of JSON: what a store keeps.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] if it can't be written as JSON (a change is ids, strings,
    /// numbers and dates: never, in practice); a store keeps nothing then.
    pub fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self)
            .map_err(|e| StoreError::Io(format!("a {} change can't be written: {e}", self.kind())))
    }

    /// A change from what [`to_json`](Self::to_json) wrote.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if `json` is not a change this library wrote (the error
    /// names the place, never the content).
    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        serde_json::from_str(json).map_err(|e| {
            StoreError::Corrupt(format!(
                "a journal entry is not a change this library wrote (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }
}
