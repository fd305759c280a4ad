//! The decisions the schedule takes about records, and how each reaches the audit log.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{RetentionSchedule, State};
use crate::Error;
use crate::audit::{self, AuditEvent};
use crate::clock::millis_to_time;
use crate::data::{DestructionReason, RecordId};
use crate::vocab::SubjectId;
use crate::vocab::ids::HoldId;
use crate::vocab::retention::HoldScope;

/// A decision the schedule took about a record, for the record of processing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
#[non_exhaustive]
pub enum Decision {
    /// A deadline was set or brought forward.
    Deadline {
        /// The record.
        record: RecordId,
        /// When it falls due.
        due: DateTime<Utc>,
        /// Why.
        reason: DestructionReason,
    },
    /// Destruction was postponed by holds.
    Postponed {
        /// The record.
        record: RecordId,
        /// The holds.
        holds: Vec<HoldId>,
        /// Until when; `None` until a hold is released or its relationship end is known.
        until: Option<DateTime<Utc>>,
        /// When it was decided.
        at: DateTime<Utc>,
    },
    /// A hook failed; the destruction is retried.
    Retrying {
        /// The record.
        record: RecordId,
        /// Attempts so far.
        attempts: u32,
        /// The next attempt.
        next: DateTime<Utc>,
    },
    /// The record was destroyed.
    Destroyed {
        /// The record.
        record: RecordId,
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: DestructionReason,
        /// The retention rule that set the deadline.
        rule: Option<Arc<str>>,
    },
    /// A legal hold was placed.
    HoldPlaced {
        /// The hold.
        hold: HoldId,
        /// What it covers.
        scope: HoldScope,
        /// The law, order or case it stands on.
        reference: String,
    },
    /// A legal hold was released.
    HoldReleased {
        /// The hold.
        hold: HoldId,
    },
    /// A trigger changed nothing, and why.
    NoEffect {
        /// When it was seen.
        at: DateTime<Utc>,
        /// The subject.
        subject: SubjectId,
        /// What was seen.
        trigger: &'static str,
        /// Why it changed nothing.
        why: &'static str,
    },
}

impl Decision {
    /// The decision as the audit log records it.
    fn audit_event(&self) -> AuditEvent {
        match self.clone() {
            Decision::Deadline {
                record,
                due,
                reason,
            } => AuditEvent::Deadline {
                record,
                due,
                reason,
            },
            Decision::Postponed {
                record,
                holds,
                until,
                ..
            } => AuditEvent::Postponed {
                record,
                holds,
                until,
            },
            Decision::Retrying {
                record,
                attempts,
                next,
            } => AuditEvent::DestructionRetry {
                record,
                attempts,
                next,
            },
            Decision::Destroyed {
                record,
                reason,
                rule,
                ..
            } => AuditEvent::Destruction {
                record,
                reason,
                rule: rule.map(|r| r.to_string()),
            },
            Decision::HoldPlaced {
                hold, reference, ..
            } => AuditEvent::Hold {
                hold,
                placed: true,
                reference: Some(reference),
            },
            Decision::HoldReleased { hold } => AuditEvent::Hold {
                hold,
                placed: false,
                reference: None,
            },
            Decision::NoEffect {
                subject,
                trigger,
                why,
                ..
            } => AuditEvent::TriggerIgnored {
                subject,
                trigger: trigger.to_owned(),
                why: why.to_owned(),
            },
        }
    }
}

impl State {
    /// Records a decision that stands whether or not the audit log can record it — one
    /// that protects the subject or follows a duty already in force.
    pub(super) fn decide(&mut self, at: i64, decision: Decision) {
        // A failed log stops itself and refuses what widens processing next.
        let _ = audit::record(self.audit.as_ref(), millis_to_time(at), || {
            decision.audit_event()
        });
        self.decisions.push(decision);
    }

    /// Records a decision that is taken only if the audit log records it.
    ///
    /// # Errors
    ///
    /// [`Error::AuditUnavailable`] when the log can't record it; nothing is kept then.
    pub(super) fn decide_if_recorded(&mut self, at: i64, decision: Decision) -> Result<(), Error> {
        audit::record(self.audit.as_ref(), millis_to_time(at), || {
            decision.audit_event()
        })?;
        self.decisions.push(decision);
        Ok(())
    }
}

impl RetentionSchedule {
    /// Every decision taken so far, in order.
    pub fn decisions(&self) -> Vec<Decision> {
        self.state().decisions.clone()
    }
}
