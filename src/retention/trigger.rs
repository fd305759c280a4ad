//! Triggers: events in a subject's life that bring their records' deadlines forward.

use chrono::{DateTime, Utc};

use super::{RetentionSchedule, State, after};
use crate::audit::{Event, Stands};
use crate::category::CategoryId;
use crate::clock::millis_to_time;
use crate::data::{DestructionReason, RecordId};
use crate::policy::RetentionStart;
use crate::vocab::retention::Trigger;
use crate::vocab::{BasisKind, Purpose, SubjectId};

impl RetentionSchedule {
    /// Applies a trigger to `subject`'s records and returns the records whose deadline it
    /// set or brought forward.
    pub fn trigger(
        &self,
        subject: &SubjectId,
        trigger: Trigger,
        at: DateTime<Utc>,
    ) -> Vec<RecordId> {
        self.trigger_kept(subject, trigger, at, true)
    }

    /// [`trigger`](Self::trigger), journaled only when `journaled`: a trigger that another
    /// change carries (a withdrawal made through an Operator) is replayed with it.
    pub(crate) fn trigger_kept(
        &self,
        subject: &SubjectId,
        trigger: Trigger,
        at: DateTime<Utc>,
        journaled: bool,
    ) -> Vec<RecordId> {
        self.trigger_in(&mut self.state(), subject, trigger, at, journaled)
    }

    /// Locks the schedule until the guard drops: a change made meanwhile elsewhere — a
    /// withdrawal an operator keeps — is ordered against every record tracked here, as
    /// the replay will order it, and the triggers it brings are applied through the guard.
    pub(crate) fn locked(&self) -> Locked<'_> {
        Locked {
            schedule: self,
            state: self.state(),
        }
    }

    fn trigger_in(
        &self,
        state: &mut State,
        subject: &SubjectId,
        trigger: Trigger,
        at: DateTime<Utc>,
        journaled: bool,
    ) -> Vec<RecordId> {
        let at = at.timestamp_millis();
        let ids = state.subject_records(subject);
        // A term's end is found again at every sweep after a reopen: kept only the first
        // time it changes something, so the log doesn't grow with each.
        if let Trigger::ConsentTermEnded {
            purpose,
            categories,
        } = &trigger
            && !ids.iter().any(|id| {
                state.records.get(id).is_some_and(|e| {
                    e.purpose == *purpose
                        && categories.contains(&e.category)
                        && e.deadline.is_none_or(|d| d > at)
                })
            })
        {
            return Vec::new();
        }
        let kept = journaled.then(|| trigger.clone());
        let before: Vec<Option<i64>> = ids
            .iter()
            .map(|id| state.records.get(id).and_then(|e| e.deadline))
            .collect();
        match trigger {
            Trigger::Logout => {
                state.decide(
                    at,
                    Event::TriggerIgnored {
                        subject: subject.clone(),
                        trigger: "logout".into(),
                        why: "logging out does not end the relationship (IMANUM §IV)".into(),
                    },
                );
            }
            Trigger::AccountClosed => {
                state
                    .relationship_ended
                    .entry(subject.clone())
                    .or_insert(at);
                let ended = state.relationship_ended[subject];
                for &id in &ids {
                    let Some(entry) = state.records.get(&id) else {
                        continue;
                    };
                    let rule = &self.policy.retention()[entry.rule as usize];
                    // The end of the relationship ends every period, whatever it counts
                    // from (Art. 20): one counted from collection or from achieving the
                    // purpose is over now. Only a period the policy counts from the end
                    // itself — which must cite the law that sets it — and a statutory
                    // minimum, weighed at the sweep, keep the record longer.
                    let due = match rule.after {
                        RetentionStart::RelationshipEnd => {
                            after(ended, rule.years, rule.months, rule.days)
                        }
                        RetentionStart::Collection | RetentionStart::PurposeAchieved => ended,
                    };
                    state.bring_forward(at, id, due, DestructionReason::RelationshipEnded);
                }
                // Holds counted from the relationship's end now have an end.
                state.requeue(&ids);
            }
            Trigger::PurposeAchieved(purpose) => {
                for &id in &ids {
                    let Some(entry) = state.records.get(&id) else {
                        continue;
                    };
                    let rule = &self.policy.retention()[entry.rule as usize];
                    if rule.after == RetentionStart::PurposeAchieved && entry.purpose == purpose {
                        let due = after(at, rule.years, rule.months, rule.days);
                        state.bring_forward(at, id, due, DestructionReason::PurposeAchieved);
                    }
                }
            }
            Trigger::CourtDecision { reference, record } => {
                for &id in &ids {
                    if record.is_none_or(|r| r == id) {
                        state.order_destruction(at, id, &reference);
                    }
                }
                // The holds a court's order outweighs no longer keep the records readable.
                state.refresh_holds(&ids);
            }
            Trigger::ErasureRequested { record, .. } => {
                if ids.contains(&record) {
                    state.bring_forward(at, record, at, DestructionReason::SubjectRequest);
                }
            }
            Trigger::ConsentWithdrawn(purpose) => {
                self.consent_ended(
                    state,
                    subject,
                    &ids,
                    &purpose,
                    None,
                    &DestructionReason::ConsentWithdrawn,
                    at,
                );
            }
            Trigger::ConsentTermEnded {
                purpose,
                categories,
            } => {
                self.consent_ended(
                    state,
                    subject,
                    &ids,
                    &purpose,
                    Some(&categories),
                    &DestructionReason::ConsentTermEnded,
                    at,
                );
            }
        }
        // A trigger only ever shortens retention: it applies even if it can't be kept (the
        // journal stops then, and an Operator reports it). Kept after its decisions are
        // in the audit log.
        if let Some(trigger) = kept {
            let _ = state.keep(
                at,
                Event::Triggered {
                    subject: subject.clone(),
                    trigger,
                },
                Stands::Regardless,
            );
        }
        ids.iter()
            .zip(before)
            .filter(|(id, was)| state.records.get(id).and_then(|e| e.deadline) != *was)
            .map(|(id, _)| *id)
            .collect()
    }
}

impl RetentionSchedule {
    /// A consent that ended for `purpose` — withdrawn, for every category, or past its term,
    /// for `categories` only (those no other consent holds): the records of it fall due now
    /// where the policy declares the purpose on consent; on another basis that basis still
    /// holds, and the decision says so.
    #[allow(clippy::too_many_arguments)]
    fn consent_ended(
        &self,
        state: &mut State,
        subject: &SubjectId,
        ids: &[RecordId],
        purpose: &Purpose,
        categories: Option<&[CategoryId]>,
        reason: &DestructionReason,
        at: i64,
    ) {
        let on_consent = self
            .policy
            .purpose(purpose)
            .is_none_or(|p| p.basis == BasisKind::Consent);
        if !on_consent {
            state.decide(
                at,
                Event::TriggerIgnored {
                    subject: subject.clone(),
                    trigger: if *reason == DestructionReason::ConsentWithdrawn {
                        "consent withdrawn".into()
                    } else {
                        "consent's term ended".into()
                    },
                    why: format!(
                        "the policy declares another legal basis for the purpose ({})",
                        self.policy.pack().articles.other_bases.article
                    ),
                },
            );
            return;
        }
        for &id in ids {
            let ended = state.records.get(&id).is_some_and(|e| {
                e.purpose == *purpose && categories.is_none_or(|c| c.contains(&e.category))
            });
            if ended {
                state.bring_forward(at, id, at, reason.clone());
            }
        }
    }
}

/// The schedule, locked: no record is tracked, triggered or destroyed but through it.
pub(crate) struct Locked<'a> {
    schedule: &'a RetentionSchedule,
    pub(super) state: std::sync::MutexGuard<'a, State>,
}

impl Locked<'_> {
    /// As [`RetentionSchedule::trigger_kept`], under the lock held.
    pub(crate) fn trigger_kept(
        &mut self,
        subject: &SubjectId,
        trigger: Trigger,
        at: DateTime<Utc>,
        journaled: bool,
    ) -> Vec<RecordId> {
        self.schedule
            .trigger_in(&mut self.state, subject, trigger, at, journaled)
    }
}

impl State {
    /// A court's order to destroy `id`, in force at `at`: due at once, and due for that
    /// reason even where it was due earlier for another — the reason decides which holds
    /// still keep it (only those on a court order or a statute).
    fn order_destruction(&mut self, at: i64, id: RecordId, reference: &str) {
        let reason = DestructionReason::CourtDecision {
            reference: reference.to_owned(),
        };
        if self.set_deadline(id, at, reason.clone()) {
            self.decide(
                at,
                Event::Deadline {
                    record: id,
                    due: millis_to_time(at),
                    reason,
                },
            );
            return;
        }
        let Some(entry) = self.records.get_mut(&id) else {
            return;
        };
        let Some(due) = entry.deadline else {
            return;
        };
        entry.reason = reason.clone();
        // Back in the queue, out of a postponement that waited for a hold's release: the
        // next sweep weighs the holds against the order.
        if entry.pending.is_none() {
            self.enqueue(id, due);
        }
        self.decide(
            at,
            Event::Deadline {
                record: id,
                due: millis_to_time(due),
                reason,
            },
        );
    }

    /// Brings the deadline of `id` forward for a trigger, and records the decision.
    pub(super) fn bring_forward(
        &mut self,
        at: i64,
        id: RecordId,
        due: i64,
        reason: DestructionReason,
    ) {
        if self.set_deadline(id, due, reason.clone()) {
            // An earlier deadline only shortens retention: it stands even if unrecorded.
            self.decide(
                at,
                Event::Deadline {
                    record: id,
                    due: millis_to_time(due),
                    reason,
                },
            );
        }
    }
}
