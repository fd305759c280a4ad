//! The consent history of a subject: the evidence that processing stood on something.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BasisUse, ConsentId, ConsentRecord, NEVER};
use crate::audit::ChainHash;
use crate::category::CategoryId;
use crate::clock::millis_to_time;
use crate::vocab::{ConsentForm, Evidence, GivenBy, LegalBasis, PolicyVersion, Purpose};

/// What the ledger keeps per subject. Given events share the record itself rather than a
/// copy of it; the public [`ConsentEvent`]s are built from them on demand.
pub(super) enum Event {
    Given(Arc<ConsentRecord>),
    Renewed {
        record: Arc<ConsentRecord>,
        valid_until: i64,
        at: i64,
    },
    Withdrawn {
        record: Arc<ConsentRecord>,
        purposes: Vec<Purpose>,
        at: i64,
    },
    BasisUsed(Arc<BasisUse>),
    Invalidated {
        record: Arc<ConsentRecord>,
        by: PolicyVersion,
        at: i64,
    },
}

/// One entry of a subject's consent history (the W3C DPV consent states: given, renewed,
/// withdrawn, expired), or a use of another legal basis.
///
/// It holds ids, purposes, categories, forms and references — never a personal value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentEvent {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The consent it concerns; `None` for a use of another legal basis.
    pub consent: Option<ConsentId>,
    /// What happened.
    pub kind: ConsentEventKind,
}

impl ConsentEvent {
    /// The SHA-256 of the event's compact JSON: what the audit log's entry for it carries
    /// ([`ConsentGiven`](crate::audit::Event::ConsentGiven) and the other consent events), so a
    /// [`ConsentProof`](crate::consent::ConsentProof) can show the entry is this event.
    pub fn digest(&self) -> ChainHash {
        ChainHash::of_json(self)
    }

    /// The event's name as the audit log writes it: `given`, `renewed`, `withdrawn`,
    /// `expired`, `invalidated`, `legal_basis_used`.
    pub fn change(&self) -> &'static str {
        match self.kind {
            ConsentEventKind::Given { .. } => "given",
            ConsentEventKind::Renewed { .. } => "renewed",
            ConsentEventKind::Withdrawn { .. } => "withdrawn",
            ConsentEventKind::Expired => "expired",
            ConsentEventKind::Invalidated { .. } => "invalidated",
            ConsentEventKind::LegalBasisUsed { .. } => "legal_basis_used",
        }
    }
}

/// What a [`ConsentEvent`] records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
pub enum ConsentEventKind {
    /// The consent was given.
    Given {
        /// The purposes agreed to.
        purposes: Vec<Purpose>,
        /// The categories of data agreed to.
        categories: Vec<CategoryId>,
        /// Written, electronic or implied.
        form: ConsentForm,
        /// The subject or a legal representative.
        given_by: GivenBy,
        /// The policy version it was given under.
        policy_version: PolicyVersion,
        /// What proves it.
        evidence: Option<Evidence>,
        /// Its end of validity as given; `None` for "until withdrawn".
        valid_until: Option<DateTime<Utc>>,
        /// Recipients agreed to by name (their transfers owe no notice, Art. 21).
        recipients: Vec<String>,
        /// Whether transfers abroad were agreed to (Art. 18).
        cross_border: bool,
    },
    /// Its end of validity moved.
    Renewed {
        /// The new end; `None` for "until withdrawn".
        valid_until: Option<DateTime<Utc>>,
    },
    /// It was withdrawn for these purposes.
    Withdrawn {
        /// The purposes withdrawn.
        purposes: Vec<Purpose>,
    },
    /// It reached its end of validity while at least one purpose still held.
    Expired,
    /// A new policy version that requires re-consent ended it (IMANUM §6; the DPV state
    /// "invalidated").
    Invalidated {
        /// The policy version that ended it.
        policy_version: PolicyVersion,
    },
    /// Processing was authorized without consent, on another legal basis.
    LegalBasisUsed {
        /// For what.
        purpose: Purpose,
        /// On which category.
        category: CategoryId,
        /// The basis, with its reference.
        basis: LegalBasis,
    },
}

pub(super) fn end(ms: i64) -> Option<DateTime<Utc>> {
    (ms != NEVER).then(|| millis_to_time(ms))
}

/// The public form of a consent given, from its record.
fn given(record: &ConsentRecord) -> ConsentEvent {
    ConsentEvent {
        at: millis_to_time(record.given_at),
        consent: Some(record.id),
        kind: ConsentEventKind::Given {
            purposes: record.purposes().to_vec(),
            categories: record
                .categories()
                .iter()
                .map(|(id, _)| id.clone())
                .collect(),
            form: record.form(),
            given_by: record.given_by().clone(),
            policy_version: record.policy_version().clone(),
            evidence: record.evidence().cloned(),
            valid_until: end(record.given_until),
            recipients: record.recipients().to_vec(),
            cross_border: record.cross_border,
        },
    }
}

/// The public form of one event: what the history shows and the audit log digests.
pub(super) fn public(event: &Event) -> ConsentEvent {
    let (at, consent, kind) = match event {
        Event::Given(record) => return given(record),
        Event::Renewed {
            record,
            valid_until,
            at,
        } => (
            *at,
            Some(record.id),
            ConsentEventKind::Renewed {
                valid_until: end(*valid_until),
            },
        ),
        Event::Withdrawn {
            record,
            purposes,
            at,
        } => (
            *at,
            Some(record.id),
            ConsentEventKind::Withdrawn {
                purposes: purposes.clone(),
            },
        ),
        Event::Invalidated { record, by, at } => (
            *at,
            Some(record.id),
            ConsentEventKind::Invalidated {
                policy_version: by.clone(),
            },
        ),
        Event::BasisUsed(used) => (
            used.at,
            None,
            ConsentEventKind::LegalBasisUsed {
                purpose: used.purpose.clone(),
                category: used.category.clone(),
                basis: used.basis.clone(),
            },
        ),
    };
    ConsentEvent {
        at: millis_to_time(at),
        consent,
        kind,
    }
}

/// Every event of a subject's history but a consent given, each with how many of the
/// subject's consents had been given before it. A consent given is its record, in the
/// subject's consents in the order given: kept here too, it would cost each subject an
/// allocation or two, and a million subjects who only gave consent hold none. Consents
/// are never taken from a subject (one erased goes whole), so the count puts each event
/// back where it happened among them.
#[derive(Default)]
pub(super) struct Later(Vec<(usize, Event)>);

impl Later {
    /// Adds `event`, which came after the first `given_before` consents were given.
    pub(super) fn push(&mut self, given_before: usize, event: Event) {
        self.0.push((given_before, event));
    }

    pub(super) fn events(&self) -> &[(usize, Event)] {
        &self.0
    }
}

/// Builds the public history of a subject with `consents` (`count` of them), given in
/// that order, and the `later` events, as of `now`. Expiry is not stored (nothing happens
/// at that instant): it is derived from each consent's current end of validity, which can
/// only have been reached once since an expired consent can't be renewed.
pub(super) fn materialize<'a>(
    consents: impl Iterator<Item = &'a ConsentRecord>,
    count: usize,
    later: &[(usize, Event)],
    now: i64,
) -> Vec<ConsentEvent> {
    // How many of each consent's purposes were withdrawn before it expired: a consent
    // withdrawn for all of them never expires in the history.
    let mut withdrawn_before: HashMap<ConsentId, usize> = HashMap::new();
    for (_, event) in later {
        let (record, ended, at) = match event {
            Event::Withdrawn {
                record,
                purposes,
                at,
            } => (record, purposes.len(), at),
            // An invalidation withdraws whatever was left.
            Event::Invalidated { record, at, .. } => (record, record.purposes().len(), at),
            _ => continue,
        };
        if *at < record.valid_until.load(Ordering::Acquire) {
            let count = withdrawn_before.entry(record.id).or_default();
            *count = (*count + ended).min(record.purposes().len());
        }
    }
    let mut out = Vec::with_capacity(count + later.len());
    let mut expiries = Vec::new();
    let mut give = |record: &ConsentRecord, out: &mut Vec<ConsentEvent>| {
        let valid_until = record.valid_until.load(Ordering::Acquire);
        let withdrawn = withdrawn_before.get(&record.id).copied().unwrap_or(0);
        if valid_until <= now && withdrawn < record.purposes().len() {
            expiries.push(ConsentEvent {
                at: millis_to_time(valid_until),
                consent: Some(record.id),
                kind: ConsentEventKind::Expired,
            });
        }
        out.push(given(record));
    };
    let mut consents = consents.enumerate().peekable();
    for (given_before, event) in later {
        while let Some((_, record)) = consents.next_if(|(n, _)| n < given_before) {
            give(record, &mut out);
        }
        out.push(public(event));
    }
    for (_, record) in consents {
        give(record, &mut out);
    }
    out.extend(expiries);
    // Stable: events at the same instant keep the order they happened in.
    out.sort_by_key(|e| e.at);
    out
}
