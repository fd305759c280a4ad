//! Withdrawing consent (Art. 11.2), whole or for one purpose: it takes effect at once and
//! stands even when the audit log or the journal can't keep it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Serialize;

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
}

// Withdrawing: it protects the subject, so it takes effect first and is kept after.
impl ConsentLedger {
    /// Withdraws a consent for every purpose it still holds for (Art. 11.2). Every token
    /// issued on it fails from its next use on, on every thread; tokens issued on another
    /// legal basis are untouched. A value already opened by [`read`](crate::PersonalData::read)
    /// stays open for the rest of that borrow: withdrawal stops new opens.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownConsent`] if the ledger has no such consent;
    /// [`Error::AlreadyWithdrawn`] if it was withdrawn for every purpose before;
    /// [`Error::ConsentNotInForce`] if it has expired.
    pub fn withdraw(&self, consent: &ConsentId) -> Result<Withdrawal, Error> {
        let (withdrawal, kept) = self.withdraw_kept(consent, false)?;
        kept.map(|()| withdrawal)
    }

    /// [`withdraw`](Self::withdraw), journaled as heard by the retention schedule when
    /// `retention` is set. The withdrawal stands whether or not it is kept: the second
    /// result says whether it was.
    ///
    /// # Errors
    ///
    /// As [`withdraw`](Self::withdraw), for a withdrawal that was not made.
    pub(crate) fn withdraw_kept(
        &self,
        consent: &ConsentId,
        retention: bool,
    ) -> Result<(Withdrawal, Result<(), Error>), Error> {
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
        let kept = self.keep_event(&record, &event, retention);
        entry.then(event);
        let withdrawal = Withdrawal {
            subject: record.subject.clone(),
            at: millis_to_time(now),
            withdrawn: vec![(record.id, purposes)],
        };
        Ok((withdrawal, kept))
    }

    /// Withdraws `purpose` from every consent of `subject` that holds it now; the consents'
    /// other purposes stay.
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
        let mut entry = self.subjects.get_mut(subject).ok_or_else(nothing)?;
        let now = self.clock.now_millis();
        let mut withdrawn = Vec::new();
        let mut events = Vec::new();
        for record in &entry.consents {
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
            .map(|(record, event)| self.keep_event(record, event, false))
            .collect();
        for (_, event) in events {
            entry.then(event);
        }
        drop(entry);
        kept.into_iter().collect::<Result<(), _>>()?;
        Ok(Withdrawal {
            subject: subject.clone(),
            at: millis_to_time(now),
            withdrawn,
        })
    }
}
