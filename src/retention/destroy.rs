//! The end of a record: out of the schedule, every copy in this process zeroized, the
//! decision recorded and journaled, a receipt handed back.

use std::sync::Weak;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::{RetentionSchedule, State};
use crate::audit::Event;
use crate::clock::millis_to_time;
use crate::data::{DestructionReceipt, RecordId};

impl RetentionSchedule {
    /// Destroys a tracked record whose hooks have all confirmed (or, on replay, that the
    /// journal says was destroyed) and returns its receipt.
    pub(super) fn finish_destruction(
        &self,
        state: &mut State,
        id: RecordId,
        now: i64,
    ) -> Option<DestructionReceipt> {
        let overridden = state
            .records
            .get(&id)
            .map(|entry| state.keeping(id, entry, now).overridden)?;
        let entry = state.records.remove(&id)?;
        if let Some(queued) = entry.queued {
            state.queue.remove(&(queued, id));
        }
        let names = self.hooks.get(&entry.category);
        let confirmed: Vec<String> = entry
            .pending
            .map(|p| p.confirmed)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|place| names.and_then(|n| n.get(place)).map(|r| r.name.clone()))
            .collect();
        if let Some(cell) = &entry.cell {
            cell.destroyed.store(true, Ordering::Release);
        }
        let copies = entry.copies.iter().filter_map(Weak::upgrade);
        for purge in entry.purge.clone().into_iter().chain(copies) {
            if !purge.purge() {
                // A read holds the value right now; reads are already refused, and the next
                // sweep zeroizes it.
                state.unpurged.push((id, purge));
            }
        }
        if let Some(ids) = state.by_subject.get_mut(&entry.subject) {
            ids.remove(&id);
        }
        state.destroyed.insert(id);
        let rule = self.rule_texts.get(entry.rule as usize).cloned();
        // Destroyed is destroyed: a log or journal that can't keep it stops, and an
        // Operator reports it; the next open finds the record due and destroys it again.
        let _ = state.decide_change(
            now,
            Event::Destruction {
                record: id,
                reason: entry.reason.clone(),
                rule: rule.as_deref().map(str::to_owned),
                overrode: overridden.clone(),
            },
        );
        Some(DestructionReceipt {
            record: id,
            subject: entry.subject,
            category: entry.category,
            purpose: entry.purpose.clone(),
            collected_at: millis_to_time(entry.collected_at),
            destroyed_at: millis_to_time(now),
            reason: entry.reason,
            rule,
            hooks_confirmed: confirmed,
            holds_overridden: overridden,
        })
    }

    /// Completes the destruction of `record` that the audit log recorded at `at` and a
    /// crash kept from the journal: its hooks had all confirmed. Called once the journal
    /// is attached and before the audit log is, so that it is recorded exactly once.
    pub(crate) fn complete_destruction(&self, record: RecordId, at: DateTime<Utc>) {
        let mut state = self.state();
        self.finish_destruction(&mut state, record, at.timestamp_millis());
    }

    /// Whether a sweep at `at` could have destroyed `record`: tracked, its deadline passed,
    /// and nothing keeping it. An audit entry of a destruction the journal lacks is
    /// completed at open only then — the audit log is public to append to, so an entry
    /// alone must not destroy what a sweep would have kept.
    pub(crate) fn was_due_and_unheld(&self, record: RecordId, at: DateTime<Utc>) -> bool {
        let at = at.timestamp_millis();
        let state = self.state();
        state.records.get(&record).is_some_and(|entry| {
            entry.deadline.is_some_and(|due| due <= at)
                && state.keeping(record, entry, at).until.is_none()
        })
    }
}
