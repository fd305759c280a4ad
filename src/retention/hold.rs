//! Legal holds: placing and releasing them, and weighing them when a record falls due.

use std::sync::atomic::Ordering;

use super::{Decision, Entry, RetentionSchedule, State, SweepReport, after};
use crate::Error;
use crate::audit::{Event, Stands};
use crate::clock::millis_to_time;
use crate::data::RecordId;
use crate::vocab::ids::HoldId;
use crate::vocab::retention::{HoldScope, HoldUntil, LegalHold};

impl RetentionSchedule {
    /// Places a legal hold; records it covers are not destroyed while it lasts.
    ///
    /// # Errors
    ///
    /// [`Error::MissingReference`] if the hold names no law, order or case;
    /// [`Error::UnknownRecord`] if it is on a record the schedule does not track;
    /// [`Error::AuditUnavailable`] if the schedule's audit log can't record it.
    pub fn place_hold(&self, hold: LegalHold) -> Result<HoldId, Error> {
        if hold.reference.trim().is_empty() {
            return Err(Error::MissingReference {
                basis: "legal_hold",
            });
        }
        // Your clock's code runs before the schedule is locked.
        self.place_hold_at(hold, self.clock.now_millis())
    }

    /// [`place_hold`](Self::place_hold) at `now`.
    pub(crate) fn place_hold_at(&self, hold: LegalHold, now: i64) -> Result<HoldId, Error> {
        let mut state = self.state();
        if let HoldScope::Record(record) = &hold.scope
            && !state.records.contains_key(record)
        {
            return Err(Error::UnknownRecord { record: *record });
        }
        let id = HoldId(state.next_hold + 1);
        // A hold keeps data longer: one that can't be kept is not placed.
        let placed = Event::HoldPlaced {
            hold: id,
            legal_hold: hold.clone(),
        };
        state.keep(now, placed.clone(), Stands::IfRecorded)?;
        state.decisions.push(Decision {
            at: millis_to_time(now),
            event: placed,
        });
        state.next_hold += 1;
        match &hold.scope {
            HoldScope::Subject(subject) => state
                .holds_on_subject
                .entry(subject.clone())
                .or_default()
                .push(id),
            HoldScope::Record(record) => state.holds_on_record.entry(*record).or_default().push(id),
        }
        let covered: Vec<RecordId> = match &hold.scope {
            HoldScope::Record(record) => vec![*record],
            HoldScope::Subject(subject) => state.subject_records(subject),
        };
        state.holds.insert(id, hold);
        state.refresh_holds(&covered);
        Ok(id)
    }

    /// Releases a hold; what it kept falls due at the next sweep if its deadline passed.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownHold`] if there is no such hold.
    pub fn release_hold(&self, hold: HoldId) -> Result<LegalHold, Error> {
        self.release_hold_at(hold, self.clock.now_millis())
    }

    /// [`release_hold`](Self::release_hold) at `now`.
    pub(crate) fn release_hold_at(&self, hold: HoldId, now: i64) -> Result<LegalHold, Error> {
        let mut state = self.state();
        let released = state
            .holds
            .remove(&hold)
            .ok_or(Error::UnknownHold { hold })?;
        // Releasing only shortens retention: it stands even if it can't be kept.
        let _ = state.decide_change(now, Event::HoldReleased { hold });
        let ids = match &released.scope {
            HoldScope::Subject(subject) => state.holds_on_subject.get_mut(subject),
            HoldScope::Record(record) => state.holds_on_record.get_mut(record),
        };
        if let Some(ids) = ids {
            ids.retain(|h| *h != hold);
        }
        let covered: Vec<RecordId> = match &released.scope {
            HoldScope::Record(record) => vec![*record],
            HoldScope::Subject(subject) => state.subject_records(subject),
        };
        state.requeue(&covered);
        Ok(released)
    }
}

impl State {
    /// Puts records whose holds changed back in the queue at their deadline, so the next
    /// sweep weighs the holds again: one held until release waits in no queue, one held
    /// until a date waits for that date. Destructions under way keep their retry time.
    pub(super) fn requeue(&mut self, ids: &[RecordId]) {
        self.refresh_holds(ids);
        for &id in ids {
            if let Some(entry) = self.records.get(&id)
                && entry.pending.is_none()
                && let Some(due) = entry.deadline
            {
                self.enqueue(id, due);
            }
        }
    }

    /// Tells the in-memory copies of records whose holds changed until when a hold keeps
    /// them readable past their deadline: without one, no token opens them then.
    pub(super) fn refresh_holds(&self, ids: &[RecordId]) {
        for &id in ids {
            if let Some(entry) = self.records.get(&id)
                && let Some(cell) = &entry.cell
            {
                cell.held_until
                    .store(self.hold_end(id, entry), Ordering::Release);
            }
        }
    }

    /// The latest end of the holds on `id`, whenever they were placed; `i64::MIN` if none.
    pub(super) fn hold_end(&self, id: RecordId, entry: &Entry) -> i64 {
        self.held_until(id, entry, i64::MIN)
            .map_or(i64::MIN, |(until, _)| until)
    }

    /// If a hold keeps `id` at `now`, takes it out of destruction until the hold ends,
    /// records the decision, and says so.
    pub(super) fn postpone_if_held(
        &mut self,
        id: RecordId,
        now: i64,
        report: &mut SweepReport,
    ) -> bool {
        let Some(entry) = self.records.get(&id) else {
            return false;
        };
        let Some((until, holds)) = self.held_until(id, entry, now) else {
            return false;
        };
        let until_time = (until != i64::MAX).then(|| millis_to_time(until));
        // A legal duty to keep the record stands whether or not the log records it.
        self.decide(
            now,
            Event::Postponed {
                record: id,
                holds,
                until: until_time,
            },
        );
        if let Some(entry) = self.records.get_mut(&id) {
            entry.queued = None;
            entry.pending = None;
            entry.in_flight = false;
        }
        if until != i64::MAX {
            self.enqueue(id, until);
        }
        report.postponed.push((id, until_time));
        true
    }

    /// The end of the holds on `id` still in force at `now`: `None` if none holds it,
    /// `Some(i64::MAX)` if one holds it until released or until an unknown end.
    pub(super) fn held_until(
        &self,
        id: RecordId,
        entry: &Entry,
        now: i64,
    ) -> Option<(i64, Vec<HoldId>)> {
        if self.holds.is_empty() {
            return None;
        }
        let mut until = None;
        let mut ids = Vec::new();
        let candidates = self
            .holds_on_subject
            .get(&entry.subject)
            .into_iter()
            .chain(self.holds_on_record.get(&id))
            .flatten();
        for hold_id in candidates {
            let Some(hold) = self.holds.get(hold_id) else {
                continue;
            };
            let end = match hold.until {
                HoldUntil::Date(at) => at.timestamp_millis(),
                HoldUntil::Released => i64::MAX,
                HoldUntil::AfterRelationshipEnd {
                    years,
                    months,
                    days,
                } => self
                    .relationship_ended
                    .get(&entry.subject)
                    .map_or(i64::MAX, |&ended| after(ended, years, months, days)),
            };
            if end > now {
                until = Some(until.map_or(end, |u: i64| u.max(end)));
                ids.push(*hold_id);
            }
        }
        ids.sort_unstable_by_key(|h| h.0);
        until.map(|u| (u, ids))
    }
}
