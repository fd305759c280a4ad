//! Tracking records and the deadlines their retention rules set; what the schedule can
//! say about a tracked record.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroize;

use super::{Entry, RetentionSchedule, State, after};
use crate::Error;
use crate::audit::{Event, Stands};
use crate::category::{Category, CategoryId};
use crate::clock::millis_to_time;
use crate::data::{DestructionReason, PersonalData, Purge, RecordId, RetentionCell};
use crate::policy::RetentionStart;
use crate::vocab::{Purpose, SubjectId};

/// What the schedule knows of a tracked record, as the journal gave it.
pub(crate) struct Tracked {
    pub(crate) subject: SubjectId,
    pub(crate) category: CategoryId,
    pub(crate) purpose: Purpose,
    pub(crate) collected_at: i64,
}

/// A record the schedule keeps, as a subject's access report shows it: ids, dates and the
/// rule — never the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TrackedRecord {
    /// The record.
    pub record: RecordId,
    /// Its category.
    pub category: CategoryId,
    /// The purpose it was collected for.
    pub purpose: Purpose,
    /// When it was collected.
    pub collected_at: DateTime<Utc>,
    /// The retention rule that governs it, in words.
    pub rule: Option<Arc<str>>,
    /// When it is due for destruction; `None` while its period has not started (it counts
    /// from an event still to come).
    pub deadline: Option<DateTime<Utc>>,
    /// Whether a legal hold covers it now.
    pub held: bool,
    /// Whether it is blocked (Art. 22.1).
    pub blocked: bool,
    /// The statutory minimum that keeps its category — past its own deadline, past the
    /// subject's withdrawal and the account's closure — by its law and article: why it
    /// outlives them.
    pub statutory_minimum: Option<String>,
}

impl RetentionSchedule {
    /// Tracks a record held as [`PersonalData`], with its subject, category, purpose and
    /// collection time. From now on the record refuses consent-based reads past its
    /// deadline, and when the schedule destroys it, its value is zeroized in place: the
    /// value moves behind a read lock the schedule shares, so its reads take the lock.
    ///
    /// # Errors
    ///
    /// As [`track_record`](Self::track_record).
    pub fn track<T, C>(&self, data: &mut PersonalData<T, C>) -> Result<(), Error>
    where
        T: Zeroize + Send + Sync + 'static,
        C: Category,
    {
        self.track_if(data, &|| Ok(()))
    }

    /// [`track`](Self::track), once `still` holds under the schedule's lock: what a
    /// withdrawal, which holds that lock across its write and its hearing, must not slip
    /// between.
    pub(crate) fn track_if<T, C>(
        &self,
        data: &mut PersonalData<T, C>,
        still: &dyn Fn() -> Result<(), Error>,
    ) -> Result<(), Error>
    where
        T: Zeroize + Send + Sync + 'static,
        C: Category,
    {
        if data.is_tracked() {
            return Err(Error::AlreadyTracked { record: data.id() });
        }
        // Refused before the value moves: a record the policy has no rule for stays as it was.
        let index = self.rule_index(&C::ID, data.purpose())?;
        let cell = Arc::new(RetentionCell::new());
        let purge = data.share_with_schedule();
        self.track_inner(
            index,
            data.id(),
            data.subject(),
            C::ID,
            data.purpose(),
            data.collected_at(),
            Some((Arc::clone(&cell), purge)),
            still,
        )?;
        // `&mut` rules out another schedule tracking it meanwhile.
        data.attach_retention(cell);
        Ok(())
    }

    /// Tracks a record kept anywhere, and sets its deadline when its rule counts from
    /// collection (or from a relationship end already known).
    ///
    /// # Errors
    ///
    /// [`Error::NoRetentionRule`] if the policy has no rule for this category and purpose;
    /// [`Error::AlreadyTracked`] if the record is tracked or was destroyed.
    pub fn track_record(
        &self,
        record: RecordId,
        subject: &SubjectId,
        category: CategoryId,
        purpose: &Purpose,
        collected_at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let index = self.rule_index(&category, purpose)?;
        self.track_inner(
            index,
            record,
            subject,
            category,
            purpose,
            collected_at,
            None,
            &|| Ok(()),
        )
    }

    /// The place of the policy's rule for `category` used for `purpose`.
    fn rule_index(&self, category: &CategoryId, purpose: &Purpose) -> Result<usize, Error> {
        self.policy
            .retention_index(category.as_str(), purpose)
            .ok_or_else(|| Error::NoRetentionRule {
                category: category.clone(),
                purpose: purpose.clone(),
            })
    }

    /// Tracks `record` under the policy's rule at `index`, found by [`rule_index`](Self::rule_index).
    #[allow(clippy::too_many_arguments)]
    fn track_inner(
        &self,
        index: usize,
        record: RecordId,
        subject: &SubjectId,
        category: CategoryId,
        purpose: &Purpose,
        collected_at: DateTime<Utc>,
        held: Option<(Arc<RetentionCell>, Arc<dyn Purge>)>,
        still: &dyn Fn() -> Result<(), Error>,
    ) -> Result<(), Error> {
        let rule = &self.policy.retention()[index];
        let (cell, purge) = held.map_or((None, None), |(cell, purge)| (Some(cell), Some(purge)));
        // Your clock's code runs before the schedule is locked.
        let now = self.clock.now_millis();
        let mut state = self.state();
        if state.records.contains_key(&record) || state.destroyed.contains(&record) {
            return Err(Error::AlreadyTracked { record });
        }
        still()?;
        state.keep(
            now,
            Event::Tracked {
                record,
                subject: subject.clone(),
                category: category.clone(),
                purpose: purpose.clone(),
                collected_at: millis_to_time(collected_at.timestamp_millis()),
            },
            Stands::IfRecorded,
        )?;
        let collected_at = collected_at.timestamp_millis();
        let ended = state.relationship_ended.get(subject).copied();
        let period = (rule.years, rule.months, rule.days);
        let due = match rule.after {
            RetentionStart::Collection => {
                let due = after(collected_at, period.0, period.1, period.2);
                // Kept after the relationship ended, it ends with it (Art. 20).
                Some(match ended {
                    Some(ended) if ended < due => (ended, DestructionReason::RelationshipEnded),
                    _ => (due, DestructionReason::RetentionExpired),
                })
            }
            RetentionStart::RelationshipEnd => ended.map(|ended| {
                (
                    after(ended, period.0, period.1, period.2),
                    DestructionReason::RelationshipEnded,
                )
            }),
            RetentionStart::PurposeAchieved => {
                ended.map(|ended| (ended, DestructionReason::RelationshipEnded))
            }
        };
        state.records.insert(
            record,
            Entry {
                subject: subject.clone(),
                category,
                purpose: purpose.clone(),
                collected_at,
                // A policy's rules number in the dozens.
                rule: u32::try_from(index).unwrap_or(u32::MAX),
                deadline: None,
                reason: DestructionReason::RetentionExpired,
                queued: None,
                pending: None,
                in_flight: false,
                cell,
                purge,
                copies: Vec::new(),
                blocked: false,
            },
        );
        state
            .by_subject
            .entry(subject.clone())
            .or_default()
            .insert(record);
        if let Some((due, reason)) = due {
            // The deadline a rule sets at tracking is no decision: only triggers and holds
            // are recorded.
            state.set_deadline(record, due, reason);
        }
        // A subject already under a hold keeps the new record too.
        state.refresh_holds(&[record]);
        Ok(())
    }

    /// Zeroizes `copy`, a copy of tracked `record` read back from a store, when the record
    /// is destroyed (it refuses reads from then on through the record's cell already).
    pub(crate) fn watch_copy(&self, record: RecordId, copy: &Arc<dyn Purge>) {
        let mut state = self.state();
        if let Some(entry) = state.records.get_mut(&record) {
            entry.copies.retain(|c| c.strong_count() > 0);
            entry.copies.push(Arc::downgrade(copy));
        } else if state.destroyed.contains(&record) && !copy.purge() {
            state.unpurged.push((record, Arc::clone(copy)));
        }
    }

    /// What the schedule knows of tracked `record` — whose, of which category, for which
    /// purpose, since when — and the view a copy of it read back from a store consults on
    /// every read, shared by every such copy; `None` if the record is not tracked.
    pub(crate) fn tracked(&self, record: RecordId) -> Option<(Tracked, Arc<RetentionCell>)> {
        let mut state = self.state();
        let keeping = state.keeping(record, state.records.get(&record)?, i64::MIN);
        let entry = state.records.get_mut(&record)?;
        let (deadline, blocked) = (entry.deadline, entry.blocked);
        let cell = entry.cell.get_or_insert_with(|| {
            let cell = RetentionCell::new();
            cell.set_deadline(deadline.unwrap_or(i64::MAX));
            cell.set_blocked(blocked);
            cell.keep_readable(keeping.until.unwrap_or(i64::MIN), keeping.readable_for);
            Arc::new(cell)
        });
        let cell = Arc::clone(cell);
        Some((
            Tracked {
                subject: entry.subject.clone(),
                category: entry.category.clone(),
                purpose: entry.purpose.clone(),
                collected_at: entry.collected_at,
            },
            cell,
        ))
    }

    /// Whether the schedule tracks `record` (and has not destroyed it).
    pub(crate) fn tracks(&self, record: RecordId) -> bool {
        self.state().records.contains_key(&record)
    }

    /// Whether the schedule destroyed `record`.
    pub(crate) fn is_destroyed(&self, record: RecordId) -> bool {
        self.state().destroyed.contains(&record)
    }

    /// The deadline of a tracked record, if one is set yet.
    pub fn deadline(&self, record: RecordId) -> Option<DateTime<Utc>> {
        self.state()
            .records
            .get(&record)
            .and_then(|e| e.deadline)
            .map(millis_to_time)
    }

    /// What the schedule keeps of `record`, if it tracks it.
    pub(crate) fn records_of_record(&self, record: RecordId) -> Option<TrackedRecord> {
        let subject = self.state().records.get(&record)?.subject.clone();
        self.records_of(&subject)
            .into_iter()
            .find(|r| r.record == record)
    }

    /// The records of `subject` the schedule keeps, oldest first.
    pub fn records_of(&self, subject: &SubjectId) -> Vec<TrackedRecord> {
        let state = self.state();
        let held_subject = state
            .holds_on_subject
            .get(subject)
            .is_some_and(|h| !h.is_empty());
        let mut out: Vec<TrackedRecord> = state
            .subject_records(subject)
            .into_iter()
            .filter_map(|id| {
                let entry = state.records.get(&id)?;
                Some(TrackedRecord {
                    record: id,
                    category: entry.category.clone(),
                    purpose: entry.purpose.clone(),
                    collected_at: millis_to_time(entry.collected_at),
                    rule: self.rule_texts.get(entry.rule as usize).cloned(),
                    deadline: entry.deadline.map(millis_to_time),
                    held: held_subject
                        || state
                            .holds_on_record
                            .get(&id)
                            .is_some_and(|h| !h.is_empty()),
                    statutory_minimum: state.keeping(id, entry, i64::MIN).minimum,
                    blocked: entry.blocked,
                })
            })
            .collect();
        out.sort_by_key(|r| (r.collected_at, r.record));
        out
    }
}

impl State {
    /// Sets the deadline of `id` to `due` if that is earlier, and queues it; whether it
    /// moved.
    pub(super) fn set_deadline(
        &mut self,
        id: RecordId,
        due: i64,
        reason: DestructionReason,
    ) -> bool {
        let Some(entry) = self.records.get_mut(&id) else {
            return false;
        };
        if entry.deadline.is_some_and(|d| d <= due) {
            return false;
        }
        entry.deadline = Some(due);
        entry.reason = reason;
        if let Some(cell) = &entry.cell {
            cell.set_deadline(due);
        }
        self.enqueue(id, due);
        true
    }
}
