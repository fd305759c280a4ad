//! Replay: rebuilding the ledger from its journal at open, change by change, with the ids
//! and times they were made with.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::basis::BasisUse;
use super::entry::Held;
use super::history::Event;
use super::record::{purposes_mask, withdraw_purposes};
use super::{ConsentId, ConsentLedger, MAX_PURPOSES, NEVER};
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::event::Change;
use crate::vocab::SubjectId;

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
                // The map's copy of the subject's id, one allocation shared by its records.
                let mut entry = self.subjects.entry(given.subject).or_default();
                given.subject = entry.key().clone();
                let record = self.record_of(given);
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
                        vacant.insert(Arc::clone(&record));
                    }
                }
                entry.consents.push(Held::new(&record));
                // Room for one event at first, not the four a first push makes: a million
                // subjects read back with a consent each would hold three million unused.
                if entry.events.capacity() == 0 {
                    entry.events.reserve_exact(1);
                }
                entry.events.push(Event::Given(record));
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
                let _ = record.invalidated_by.set((by.clone(), open));
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
                entry.events.push(Event::BasisUsed(used));
            }
            _ => {}
        }
        Ok(())
    }

    fn push_event(&self, subject: &SubjectId, event: Event) {
        if let Some(mut entry) = self.subjects.get_mut(subject) {
            entry.events.push(event);
        }
    }
}
