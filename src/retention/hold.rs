//! Legal holds: placing and releasing them, and weighing them when a record falls due.

use super::{Decision, Entry, RetentionSchedule, State, SweepReport, after};
use crate::Error;
use crate::audit::{Event, Stands};
use crate::clock::millis_to_time;
use crate::data::DestructionReason;
use crate::data::RecordId;
use crate::policy::RetentionStart;
use crate::vocab::Purpose;
use crate::vocab::ids::HoldId;
use crate::vocab::retention::{HoldScope, HoldUntil, LegalHold};

impl RetentionSchedule {
    /// Places a legal hold; records it covers are not destroyed while it lasts — unless a
    /// court orders them destroyed and the hold stands on neither a court order nor a
    /// statute ([`HoldGround::outweighs_a_court_order`]). Past a record's deadline, the
    /// hold keeps it readable only for its [`readable_for`](LegalHold::readable_for)
    /// purposes, on a legal basis other than consent.
    ///
    /// # Errors
    ///
    /// [`Error::MissingReference`] if its ground leaves a name blank;
    /// [`Error::PurposeNotDeclared`] if it opens a record to a purpose the policy does not
    /// declare; [`Error::UnknownRecord`] if it is on a record the schedule does not track;
    /// [`Error::AuditUnavailable`] if the schedule's audit log can't record it.
    ///
    /// [`HoldGround::outweighs_a_court_order`]: crate::vocab::retention::HoldGround::outweighs_a_court_order
    pub fn place_hold(&self, hold: LegalHold) -> Result<HoldId, Error> {
        if !hold.ground.is_complete() {
            return Err(Error::MissingReference {
                basis: "legal_hold",
            });
        }
        if let Some(purpose) = hold
            .readable_for
            .iter()
            .find(|p| self.policy.purpose(p).is_none())
        {
            let subject = match &hold.scope {
                HoldScope::Subject(subject) => subject.clone(),
                HoldScope::Record(record) => self
                    .state()
                    .records
                    .get(record)
                    .map(|e| e.subject.clone())
                    .ok_or(Error::UnknownRecord { record: *record })?,
            };
            return Err(Error::PurposeNotDeclared {
                subject,
                purpose: purpose.clone(),
                policy_version: self.policy.version().clone(),
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

impl RetentionSchedule {
    /// What keeps tracked `record` from destruction at `at`: the statutory minimum of its
    /// category (law and article), or the ground of a hold in force; `None` if nothing does.
    pub(crate) fn kept_under(&self, record: RecordId, at: i64) -> Option<String> {
        let state = self.state();
        let entry = state.records.get(&record)?;
        let keeping = state.keeping(record, entry, at);
        keeping.minimum.or_else(|| {
            keeping
                .holds
                .first()
                .and_then(|hold| state.holds.get(hold))
                .map(|hold| hold.ground.to_string())
        })
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

    /// Tells the in-memory copies of records whose holds changed until when, and for which
    /// purposes, a hold or a statutory minimum keeps them readable past their deadline:
    /// without one, no token opens them then.
    pub(super) fn refresh_holds(&self, ids: &[RecordId]) {
        for &id in ids {
            if let Some(entry) = self.records.get(&id)
                && let Some(cell) = &entry.cell
            {
                let keeping = self.keeping(id, entry, i64::MIN);
                cell.keep_readable(keeping.until.unwrap_or(i64::MIN), keeping.readable_for);
            }
        }
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
        let keeping = self.keeping(id, entry, now);
        let Some(until) = keeping.until else {
            return false;
        };
        let until_time = (until != i64::MAX).then(|| millis_to_time(until));
        // A legal duty to keep the record stands whether or not the log records it.
        self.decide(
            now,
            Event::Postponed {
                record: id,
                holds: keeping.holds,
                minimum: keeping.minimum,
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

    /// What keeps `id` past its deadline at `now`: the holds in force on it and its
    /// category's statutory minimums, weighed against why it is due — a court's order to
    /// destroy outweighs every hold that stands on neither a court order nor a statute.
    pub(super) fn keeping(&self, id: RecordId, entry: &Entry, now: i64) -> Keeping {
        let mut keeping = Keeping::default();
        let ended = self.relationship_ended.get(&entry.subject).copied();
        let ordered = matches!(entry.reason, DestructionReason::CourtDecision { .. });
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
                } => ended.map_or(i64::MAX, |ended| after(ended, years, months, days)),
            };
            if end <= now {
                continue;
            }
            if ordered && !hold.ground.outweighs_a_court_order() {
                keeping.overridden.push(*hold_id);
                continue;
            }
            keeping.keep(end, &hold.readable_for);
            keeping.holds.push(*hold_id);
        }
        for minimum in self
            .minimums
            .iter()
            .filter(|m| m.category == entry.category.as_str())
        {
            let from = match minimum.after {
                RetentionStart::Collection => Some(entry.collected_at),
                _ => ended,
            };
            let end = from.map_or(i64::MAX, |from| {
                after(from, minimum.years, minimum.months, minimum.days)
            });
            if end > now {
                keeping.keep(end, std::slice::from_ref(&minimum.readable_for));
                keeping.minimum.get_or_insert_with(|| minimum.citation());
            }
        }
        keeping.holds.sort_unstable_by_key(|h| h.0);
        keeping.overridden.sort_unstable_by_key(|h| h.0);
        keeping
    }
}

/// What keeps a record past its deadline, at a time.
#[derive(Debug, Default)]
pub(super) struct Keeping {
    /// The latest end of what keeps it, `i64::MAX` while one has no end known yet; `None`
    /// if nothing keeps it.
    pub(super) until: Option<i64>,
    /// The holds that keep it.
    pub(super) holds: Vec<HoldId>,
    /// The statutory minimum that keeps it, as its citation.
    pub(super) minimum: Option<String>,
    /// The purposes that may read it meanwhile.
    pub(super) readable_for: Vec<Purpose>,
    /// Holds in force that a court's order to destroy outweighs.
    pub(super) overridden: Vec<HoldId>,
}

impl Keeping {
    fn keep(&mut self, end: i64, readable_for: &[Purpose]) {
        self.until = Some(self.until.map_or(end, |u| u.max(end)));
        for purpose in readable_for {
            if !self.readable_for.contains(purpose) {
                self.readable_for.push(purpose.clone());
            }
        }
    }
}
