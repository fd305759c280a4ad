//! Withdrawing consent (Tajik law Art. 11.1; ZRU-547 Art. 21), whole or for one purpose: it takes effect at once and
//! stands even when the audit log or the journal can't keep it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::entry::SubjectEntry;
use super::history::Event;
use super::record::withdraw_purposes;
use super::{ConsentId, ConsentLedger};
use crate::Error;
use crate::clock::millis_to_time;
use crate::vocab::{Purpose, SubjectId};

/// What a withdrawal did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Withdrawal {
    /// Whose consent.
    pub subject: SubjectId,
    /// When it took effect.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Each consent touched, with the purposes withdrawn from it.
    pub withdrawn: Vec<(ConsentId, Vec<Purpose>)>,
    /// Whether the service itself ended: a purpose the policy marks as the service's own
    /// (`service = true`) was withdrawn, and no consent of the subject holds it any more.
    /// The subject can't use the service from now on (IMANUM §V: withdrawing consent
    /// suspends the use of the app), and the caller must stop serving them.
    pub service_ended: bool,
}

/// What must hear every withdrawal a ledger makes: an operator's retention schedule, for
/// which a withdrawal brings the deadlines of the records collected on it forward. Its lock
/// is taken before the withdrawal is written and held until it has heard it, so that no
/// record kept meanwhile falls between the two.
pub(crate) trait Listener: Send + Sync {
    /// Takes the listener's lock, before the withdrawal is made.
    fn lock(&self) -> Box<dyn Hearing + '_>;
}

/// A [`Listener`], locked.
pub(crate) trait Hearing {
    /// Hears a withdrawal made, and kept or not: it stands either way.
    fn hear(&mut self, withdrawal: &Withdrawal);
}

// Withdrawing: it protects the subject, so it takes effect first and is kept after.
impl ConsentLedger {
    /// Withdraws a consent for every purpose it still holds for (Tajik law Art. 11.1; ZRU-547 Art. 21). Every token
    /// issued on it fails from its next use on, on every thread; tokens issued on another
    /// legal basis are untouched. A value already opened by [`read`](crate::PersonalData::read)
    /// stays open for the rest of that borrow: withdrawal stops new opens.
    ///
    /// On an [`Operator`](crate::store::Operator)'s ledger the operator's retention
    /// schedule hears it in the same change: the records collected on the consent fall due
    /// where the policy declares their purpose on consent.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownConsent`] if the ledger has no such consent;
    /// [`Error::AlreadyWithdrawn`] if it was withdrawn for every purpose before;
    /// [`Error::ConsentNotInForce`] if it has expired.
    pub fn withdraw(&self, consent: &ConsentId) -> Result<Withdrawal, Error> {
        let mut hearing = self.listener.get().map(|listener| listener.lock());
        let (record, mut entry) = self.lock_consent(consent)?;
        let now = self.clock.now_millis();
        record.ensure_open(now)?;
        let purposes = withdraw_purposes(&record, |_| true);
        if purposes.is_empty() {
            return Err(Error::AlreadyWithdrawn { consent: *consent });
        }
        let event = Event::Withdrawn {
            record: Arc::clone(&record),
            purposes: purposes.clone(),
            at: now,
        };
        let kept = self.keep_event(&record, &event, hearing.is_some());
        entry.then(event);
        let withdrawal = Withdrawal {
            subject: record.subject.clone(),
            at: millis_to_time(now),
            service_ended: self.service_ended(&entry, &purposes, now),
            withdrawn: vec![(record.id, purposes)],
        };
        drop(entry);
        if let Some(hearing) = &mut hearing {
            hearing.hear(&withdrawal);
        }
        kept.map(|()| withdrawal)
    }

    /// Whether `withdrawn` took from the subject of `entry` the last consent they had in
    /// force for a purpose the policy marks as the service's own.
    fn service_ended(&self, entry: &SubjectEntry, withdrawn: &[Purpose], now: i64) -> bool {
        let terms = self.terms.load();
        let Some(policy) = &terms.policy else {
            return false;
        };
        withdrawn
            .iter()
            .filter(|purpose| policy.purpose(purpose).is_some_and(|p| p.service))
            .any(|purpose| {
                !entry.consents().any(|record| {
                    record
                        .purposes()
                        .iter()
                        .position(|p| p == purpose)
                        .is_some_and(|i| !record.is_withdrawn(i))
                        && now < record.valid_until.load(Ordering::Acquire)
                })
            })
    }

    /// Withdraws `purpose` from every consent of `subject` that holds it now; the consents'
    /// other purposes stay. An operator's retention schedule hears it as it hears
    /// [`withdraw`](Self::withdraw).
    ///
    /// # Errors
    ///
    /// [`Error::NothingToWithdraw`] if no consent of the subject is in force for the purpose.
    pub fn withdraw_purpose(
        &self,
        subject: &SubjectId,
        purpose: &Purpose,
    ) -> Result<Withdrawal, Error> {
        let nothing = || Error::NothingToWithdraw {
            subject: subject.clone(),
            purpose: purpose.clone(),
        };
        let mut hearing = self.listener.get().map(|listener| listener.lock());
        let mut entry = self.subjects.get_mut(subject).ok_or_else(nothing)?;
        let now = self.clock.now_millis();
        let mut withdrawn = Vec::new();
        let mut events = Vec::new();
        for record in entry.consents() {
            let purposes = withdraw_purposes(record, |p| {
                p == purpose && now < record.valid_until.load(Ordering::Acquire)
            });
            if !purposes.is_empty() {
                let event = Event::Withdrawn {
                    record: Arc::clone(record),
                    purposes: purposes.clone(),
                    at: now,
                };
                events.push((Arc::clone(record), event));
                withdrawn.push((record.id, purposes));
            }
        }
        if withdrawn.is_empty() {
            return Err(nothing());
        }
        // In effect for every consent before any is kept; each is kept even if one before
        // it could not be, and the first failure is reported.
        let kept: Vec<_> = events
            .iter()
            .map(|(record, event)| self.keep_event(record, event, hearing.is_some()))
            .collect();
        for (_, event) in events {
            entry.then(event);
        }
        let withdrawal = Withdrawal {
            subject: subject.clone(),
            at: millis_to_time(now),
            service_ended: self.service_ended(&entry, std::slice::from_ref(purpose), now),
            withdrawn,
        };
        drop(entry);
        if let Some(hearing) = &mut hearing {
            hearing.hear(&withdrawal);
        }
        kept.into_iter().collect::<Result<(), _>>()?;
        Ok(withdrawal)
    }
}
