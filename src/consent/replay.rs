//! Replay: rebuilding the ledger from its journal at open, change by change, with the ids
//! and times they were made with.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::basis::BasisUse;
use super::history::Event;
#[cfg(feature = "sqlite")]
use super::record::Shape;
use super::record::{RecordTerms, purposes_mask, withdraw_purposes};
use super::{ConsentId, ConsentLedger, MAX_PURPOSES, NEVER};
use crate::audit::AuditEvent;
#[cfg(feature = "sqlite")]
use crate::category::CategoryId;
use crate::error::StoreError;
use crate::event::Change;
#[cfg(feature = "sqlite")]
use crate::event::GivenRef;
use crate::vocab::SubjectId;
#[cfg(feature = "sqlite")]
use crate::vocab::{PolicyVersion, Purpose};

// Replay: each change applied as journaled, with no new audit entry or journal line.
impl ConsentLedger {
    /// Applies a change read back from the journal, as it was made: same ids, same times,
    /// without writing to the audit log or the journal again.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if it names a consent the journal never gave.
    pub(crate) fn replay(&self, change: Change) -> Result<(), StoreError> {
        let unknown = |consent: ConsentId| {
            StoreError::Corrupt(format!(
                "the journal changes consent {consent}, which it never gave"
            ))
        };
        // The consent, which must be the subject's the change names: the replay hears a
        // withdrawal for that subject, and runs each subject's changes on one thread.
        let find = |consent: ConsentId, subject: &SubjectId| {
            let record = self
                .consents
                .get(&consent)
                .map(|r| Arc::clone(r.value()))
                .ok_or_else(|| unknown(consent))?;
            if record.subject != *subject {
                return Err(StoreError::Corrupt(format!(
                    "the journal changes consent {consent} under a subject it was not given by"
                )));
            }
            Ok(record)
        };
        let at = change.at;
        match change.event {
            AuditEvent::ConsentGiven { given, .. } => {
                let mut given = *given;
                if given.purposes.len() > MAX_PURPOSES {
                    return Err(StoreError::Corrupt(
                        "a consent with too many purposes".into(),
                    ));
                }
                given.purposes = given
                    .purposes
                    .into_iter()
                    .map(|p| self.vocabulary.canonical(p))
                    .collect();
                let terms = self.terms_of(given);
                self.replay_record(terms)?;
            }
            AuditEvent::ConsentRenewed {
                subject,
                consent,
                valid_until,
                ..
            } => {
                let record = find(consent, &subject)?;
                let until = valid_until.map_or(NEVER, |t| t.timestamp_millis());
                record.valid_until.store(until, Ordering::Release);
                self.push_event(
                    &record.subject,
                    Event::Renewed {
                        record: Arc::clone(&record),
                        valid_until: until,
                        at: at.timestamp_millis(),
                    },
                );
            }
            AuditEvent::ConsentWithdrawn {
                subject,
                consent,
                purposes,
                ..
            } => {
                let record = find(consent, &subject)?;
                let purposes = withdraw_purposes(&record, |p| purposes.contains(p));
                self.push_event(
                    &record.subject,
                    Event::Withdrawn {
                        record: Arc::clone(&record),
                        purposes,
                        at: at.timestamp_millis(),
                    },
                );
            }
            AuditEvent::ConsentInvalidated {
                subject,
                consent,
                by,
                ..
            } => {
                let record = find(consent, &subject)?;
                let open = !record.withdrawn.load(Ordering::Acquire) & purposes_mask(&record);
                record.invalidate(by.clone(), open);
                withdraw_purposes(&record, |_| true);
                self.push_event(
                    &record.subject,
                    Event::Invalidated {
                        record: Arc::clone(&record),
                        by,
                        at: at.timestamp_millis(),
                    },
                );
            }
            AuditEvent::LegalBasisUsed {
                subject,
                purpose,
                category,
                basis,
                policy_version,
                ..
            } => {
                let mut entry = self.subjects.entry(subject).or_default();
                let used = Arc::new(BasisUse {
                    subject: entry.key().clone(),
                    purpose,
                    category,
                    basis,
                    policy_version,
                    at: at.timestamp_millis(),
                    clock: Arc::clone(&self.clock),
                    services: Arc::clone(&self.services),
                });
                entry.then(Event::BasisUsed(used));
            }
            _ => {}
        }
        Ok(())
    }

    fn push_event(&self, subject: &SubjectId, event: Event) {
        if let Some(mut entry) = self.subjects.get_mut(subject) {
            entry.then(event);
        }
    }
}

// A consent given, from the journal or straight from a snapshot.
impl ConsentLedger {
    /// Adds the record of a consent given on `terms` to its subject's entry and to the
    /// consents, as the grant did.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if the consent was given before.
    fn replay_record(&self, mut terms: RecordTerms) -> Result<(), StoreError> {
        // The map's copy of the subject's id if it has one: one allocation shared by its
        // records. Every reference count the record takes is taken before either map is
        // written: a count is a locked instruction, which waits until the write into a cold
        // bucket before it has reached memory, and a million such waits are most of a
        // replay's time.
        if let Some(known) = self.subjects.get(&terms.subject) {
            terms.subject = known.key().clone();
        }
        let record = self.record_of(terms);
        let (in_consents, in_entry, key) = (
            Arc::clone(&record),
            Arc::clone(&record),
            record.subject.clone(),
        );
        // Checked and inserted at once: the replay of two subjects' changes can run
        // on two threads.
        match self.consents.entry(record.id) {
            dashmap::Entry::Occupied(_) => {
                return Err(StoreError::Corrupt(format!(
                    "the journal gives consent {} twice",
                    record.id
                )));
            }
            dashmap::Entry::Vacant(vacant) => {
                vacant.insert(in_consents);
            }
        }
        self.subjects.entry(key).or_default().give_owned(in_entry);
        Ok(())
    }

    /// Replays a consent given as a snapshot holds it, its texts borrowed from the
    /// snapshot: the lists of purposes and categories and the policy version the ledger
    /// shares are found by their text, and not read into copies first. Each text is
    /// checked as [`replay`](Self::replay) checks it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if an id or a version is not one, there are too many
    /// purposes, or the consent was given before.
    #[cfg(feature = "sqlite")]
    pub(crate) fn replay_given(
        &self,
        lane: &mut ReplayLane,
        given: GivenRef<'_>,
    ) -> Result<(), StoreError> {
        let invalid = |e: crate::vocab::InvalidId| {
            StoreError::Corrupt(format!("a consent given in a snapshot: {e}"))
        };
        if given.purposes.len() > MAX_PURPOSES {
            return Err(StoreError::Corrupt(
                "a consent with too many purposes".into(),
            ));
        }
        // Nearly every consent has the shape of one before it in its lane: found by its
        // texts, the record costs one reference count, and no list or version is made to
        // be dropped. The lane's shapes are its own copies of the ledger's, so that the
        // count is this thread's alone: one both lanes counted would be a cache line passed
        // between the cores for every consent.
        let same = |shape: &Shape| {
            shape.policy_version.as_str() == given.policy_version
                && purposes_read(&shape.purposes, &given.purposes)
                && categories_read(&shape.categories, &given.categories)
        };
        let shape = if let Some(shape) = lane.shapes.iter().find(|shape| same(shape)) {
            Arc::clone(shape)
        } else {
            let shared = match self.vocabulary.shapes.find(same) {
                Some(shape) => shape,
                None => self
                    .vocabulary
                    .shapes
                    .share(self.shape_of(&given).map_err(invalid)?),
            };
            let own = Arc::new(Shape {
                purposes: Arc::clone(&shared.purposes),
                categories: Arc::clone(&shared.categories),
                policy_version: shared.policy_version.clone(),
            });
            if lane.shapes.len() < super::SHARED_LISTS {
                lane.shapes.push(Arc::clone(&own));
            }
            own
        };
        self.replay_record(RecordTerms {
            consent: given.consent,
            subject: SubjectId::new(given.subject).map_err(invalid)?,
            at: given.at,
            shape,
            form: given.form,
            given_by: given.given_by,
            evidence: given.evidence,
            recipients: given.recipients,
            cross_border: given.cross_border,
            valid_until: given.valid_until,
        })
    }
}

/// Whether `list` is the purposes `texts` name, in order.
#[cfg(feature = "sqlite")]
fn purposes_read(list: &[Purpose], texts: &[&str]) -> bool {
    list.len() == texts.len() && list.iter().zip(texts).all(|(p, s)| p.as_str() == *s)
}

/// Whether `list` is the categories `texts` name, each special as they say, in order.
#[cfg(feature = "sqlite")]
fn categories_read(list: &[(CategoryId, bool)], texts: &[(&str, bool)]) -> bool {
    list.len() == texts.len()
        && list
            .iter()
            .zip(texts)
            .all(|((id, special), (s, b))| id.as_str() == *s && special == b)
}

/// What one lane of a replay keeps as it goes: its own copies of the shapes of the
/// consents it replayed.
#[cfg(feature = "sqlite")]
#[derive(Default)]
pub(crate) struct ReplayLane {
    shapes: Vec<Arc<Shape>>,
}

// A consent given in a snapshot whose shape no consent before it had.
#[cfg(feature = "sqlite")]
impl ConsentLedger {
    /// The shape `given` names, its lists and version as the ledger shares them, each text
    /// checked as [`replay`](Self::replay) checks it.
    fn shape_of(&self, given: &GivenRef<'_>) -> Result<Shape, crate::vocab::InvalidId> {
        let purposes = self.vocabulary.purpose_lists.share_matching(
            |list| purposes_read(list, &given.purposes),
            || {
                given
                    .purposes
                    .iter()
                    .map(|s| Purpose::new(*s).map(|p| self.vocabulary.canonical(p)))
                    .collect()
            },
        )?;
        let categories = self.vocabulary.category_lists.share_matching(
            |list| categories_read(list, &given.categories),
            || {
                given
                    .categories
                    .iter()
                    .map(|(s, special)| CategoryId::parse(s).map(|id| (id, *special)))
                    .collect()
            },
        )?;
        // Made once per shape, not per consent: checked, then the policy's copy if it is it.
        let policy_version = self.shared_version(PolicyVersion::new(given.policy_version)?);
        Ok(Shape {
            purposes,
            categories,
            policy_version,
        })
    }
}
