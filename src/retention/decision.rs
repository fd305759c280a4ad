//! The decisions the schedule takes about records, and how each reaches the audit log and
//! the journal.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{RetentionSchedule, State};
use crate::Error;
use crate::audit::{self, Event, Stands};
use crate::clock::millis_to_time;

/// A decision the schedule took, for the record of processing: an [`Event`] of the one
/// vocabulary — a [`Deadline`](Event::Deadline) set or brought forward, a
/// [`Postponed`](Event::Postponed) destruction, a [`DestructionRetry`](Event::DestructionRetry),
/// a [`Destruction`](Event::Destruction), a [`HoldPlaced`](Event::HoldPlaced) or
/// [`HoldReleased`](Event::HoldReleased), a [`TriggerIgnored`](Event::TriggerIgnored) —
/// and when it was taken. The audit log records the same event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Decision {
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// What was decided.
    pub event: Event,
}

impl State {
    /// Records an observation that stands whether or not the audit log can record it — one
    /// that protects the subject or follows a duty already in force.
    pub(super) fn decide(&mut self, at: i64, event: Event) {
        let at = millis_to_time(at);
        // A failed log stops itself and refuses what widens processing next.
        let _ = audit::record(self.audit.as_ref(), at, || event.clone());
        self.decisions.push(Decision { at, event });
    }

    /// Keeps a change in the audit log and the journal, whichever the schedule has, as one
    /// entry where the journal is an operator's log.
    ///
    /// # Errors
    ///
    /// [`Error::AuditUnavailable`] or [`Error::NotStored`] if it could not be kept; the
    /// log or the journal stops then.
    pub(super) fn keep(&self, at: i64, event: Event, stands: Stands) -> Result<(), Error> {
        // Live only: the replay notes each change at the time it was first made.
        if self.journal.is_some() {
            self.note_change(at);
        }
        audit::change(
            self.audit.as_ref(),
            self.journal.as_deref(),
            millis_to_time(at),
            event,
            stands,
        )
    }

    /// Keeps a decision that protects the subject (a release, a destruction) and records it
    /// among the decisions: it stands whatever this returns, journaled even when the audit
    /// log can't record it.
    ///
    /// # Errors
    ///
    /// As [`keep`](Self::keep); the decision is recorded all the same.
    pub(super) fn decide_change(&mut self, at: i64, event: Event) -> Result<(), Error> {
        let kept = self.keep(at, event.clone(), Stands::Regardless);
        self.decisions.push(Decision {
            at: millis_to_time(at),
            event,
        });
        kept
    }
}

impl RetentionSchedule {
    /// Every decision taken so far, in order.
    pub fn decisions(&self) -> Vec<Decision> {
        self.state().decisions.clone()
    }
}
