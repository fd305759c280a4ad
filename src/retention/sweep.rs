//! Sweeps: claiming what is due, asking the hooks, retrying with backoff, and reporting
//! destructions that stay stuck.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{DestructionHook, DestructionRequest, Entry, HookError, RetentionSchedule, State};
use crate::audit::Event;
use crate::category::CategoryId;
use crate::clock::millis_to_time;
use crate::data::{DestructionReceipt, RecordId};

/// A destruction that has failed past the schedule's limit: reported, never dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StuckDestruction {
    /// The record.
    pub record: RecordId,
    /// Its category.
    pub category: CategoryId,
    /// Attempts so far.
    pub attempts: u32,
    /// The first attempt.
    pub since: DateTime<Utc>,
    /// The hooks that have not confirmed.
    pub waiting_for: Vec<String>,
    /// The last error.
    pub last_error: String,
}

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SweepReport {
    /// The records destroyed, with their receipts.
    pub destroyed: Vec<DestructionReceipt>,
    /// Records due but held, and until when (`None`: until a hold is released).
    pub postponed: Vec<(RecordId, Option<DateTime<Utc>>)>,
    /// Records whose destruction failed at a hook and will be retried.
    pub retrying: Vec<(RecordId, DateTime<Utc>)>,
    /// Destructions failing for longer than the limit.
    pub stuck: Vec<StuckDestruction>,
    /// Destroyed records whose value in this process could not be zeroized yet, because a
    /// read still holds it (an `Exposed` alive, or one leaked with `mem::forget`): reads
    /// of it are refused, and every sweep tries again until the holder lets it go.
    pub not_yet_zeroized: Vec<RecordId>,
    /// Why the key-encryption key could not be rotated after this sweep, when the schedule
    /// is an [`Operator`](crate::store::Operator)'s and a rotation was due (after a
    /// destruction, or daily) but failed: until one succeeds, a backup taken before the
    /// destruction still opens what it destroyed. Every later sweep tries again.
    pub keys_not_rotated: Option<String>,
}

pub(super) struct Pending {
    key: String,
    attempts: u32,
    first_attempt: i64,
    /// The places, among the category's hooks, of those that confirmed: two hooks may
    /// share a name, never a place.
    pub(super) confirmed: Vec<usize>,
    last_error: String,
}

/// A record taken out of the queue for destruction: the hooks still to confirm (by their
/// place among the category's hooks), and what to ask them.
type Claim = (
    RecordId,
    Vec<(usize, Arc<dyn DestructionHook>)>,
    DestructionRequest,
);

/// What an owner of the schedule does after a sweep, at its time, told whether the sweep
/// destroyed something.
pub(crate) type AfterSweep = Arc<dyn Fn(DateTime<Utc>, bool) -> Result<(), String> + Send + Sync>;

impl RetentionSchedule {
    /// Destroys every record due at `now`: checks holds, calls the hooks, retries those
    /// that fail, and returns what it did. Costs O(k log n) for k due records among n.
    ///
    /// Hooks run without the schedule's lock held, so a slow hook does not stop other
    /// threads from tracking or triggering; a record being destroyed is claimed first, so
    /// two sweeps never destroy it twice.
    pub fn sweep(&self, now: DateTime<Utc>) -> SweepReport {
        let now_ms = now.timestamp_millis();
        let mut report = SweepReport::default();
        // Claim everything due under one lock, run the hooks without it, settle under one
        // lock again: two lock round-trips per sweep, whatever k is.
        let claimed = {
            let mut state = self.state();
            state.unpurged.retain(|(_, purge)| !purge.purge());
            let mut claimed = Vec::new();
            while let Some(&(due, id)) = state.queue.first() {
                if due > now_ms {
                    break;
                }
                state.queue.pop_first();
                if let Some(work) = self.claim(&mut state, id, now_ms, &mut report) {
                    claimed.push(work);
                }
            }
            claimed
        };
        let settled: Vec<_> = claimed
            .into_iter()
            .map(|(id, hooks, request)| {
                let results: Vec<(usize, Result<(), HookError>)> = hooks
                    .iter()
                    .map(|(place, hook)| {
                        // A hook that panics is a hook that failed: the destruction is
                        // retried, not lost with the unwinding thread.
                        let outcome =
                            std::panic::catch_unwind(AssertUnwindSafe(|| hook.destroy(&request)))
                                .unwrap_or_else(|_| Err(HookError("the hook panicked".into())));
                        (*place, outcome)
                    })
                    .collect();
                (id, results)
            })
            .collect();
        let mut state = self.state();
        for (id, results) in settled {
            self.settle(&mut state, id, results, now_ms, &mut report);
        }
        report.not_yet_zeroized = state.unpurged.iter().map(|(id, _)| *id).collect();
        report.not_yet_zeroized.sort_unstable();
        report.not_yet_zeroized.dedup();
        drop(state);
        if let Some(after) = self.after_sweep.get() {
            report.keys_not_rotated = after(now, !report.destroyed.is_empty()).err();
        }
        report
    }

    /// Has `after` run after every sweep (set once per schedule).
    #[cfg_attr(
        not(feature = "sqlite"),
        expect(dead_code, reason = "only the embedded store's key rotation sets it")
    )]
    pub(crate) fn after_sweep(&self, after: AfterSweep) {
        let _ = self.after_sweep.set(after);
    }

    /// Takes a due record out of the queue for destruction, or postpones it if a hold
    /// keeps it. Returns the hooks to call and what to ask them.
    fn claim(
        &self,
        state: &mut State,
        id: RecordId,
        now: i64,
        report: &mut SweepReport,
    ) -> Option<Claim> {
        if state.postpone_if_held(id, now, report) {
            return None;
        }
        let entry = state.records.get_mut(&id)?;
        entry.queued = None;
        entry.in_flight = true;
        let hooks_of_category = self.hooks.get(&entry.category).filter(|h| !h.is_empty());
        let Some(all_hooks) = hooks_of_category else {
            // No copies elsewhere to delete: nothing to ask, nothing to retry.
            let request = DestructionRequest {
                idempotency_key: String::new(),
                record: id,
                subject: entry.subject.clone(),
                category: entry.category.clone(),
                attempt: 1,
            };
            return Some((id, Vec::new(), request));
        };
        let pending = entry.pending.get_or_insert_with(|| {
            Box::new(Pending {
                key: format!("amanat-destroy-{id}"),
                attempts: 0,
                first_attempt: now,
                confirmed: Vec::new(),
                last_error: String::new(),
            })
        });
        pending.attempts += 1;
        let hooks: Vec<(usize, Arc<dyn DestructionHook>)> = all_hooks
            .iter()
            .enumerate()
            .filter(|(place, _)| !pending.confirmed.contains(place))
            .map(|(place, registered)| (place, Arc::clone(&registered.hook)))
            .collect();
        let request = DestructionRequest {
            idempotency_key: pending.key.clone(),
            record: id,
            subject: entry.subject.clone(),
            category: entry.category.clone(),
            attempt: pending.attempts,
        };
        Some((id, hooks, request))
    }

    /// Applies the hooks' answers for a claimed record.
    fn settle(
        &self,
        state: &mut State,
        id: RecordId,
        results: Vec<(usize, Result<(), HookError>)>,
        now: i64,
        report: &mut SweepReport,
    ) {
        let Some(entry) = state.records.get_mut(&id) else {
            return;
        };
        entry.in_flight = false;
        let mut failed = false;
        // No pending state means no hook was asked, so nothing can have failed.
        if let Some(pending) = entry.pending.as_mut() {
            for (place, result) in results {
                match result {
                    Ok(()) => pending.confirmed.push(place),
                    Err(err) => {
                        failed = true;
                        pending.last_error = err.0;
                    }
                }
            }
        }
        if failed && let Some(pending) = entry.pending.as_ref() {
            let attempts = pending.attempts;
            let shift = attempts.saturating_sub(1).min(40);
            let wait = self
                .backoff_ms
                .saturating_mul(1_i64 << shift)
                .min(self.max_backoff_ms);
            let next = now.saturating_add(wait);
            let stuck_report = self.stuck_report(id, entry, now);
            state.decide(
                now,
                Event::DestructionRetry {
                    record: id,
                    attempts,
                    next: millis_to_time(next),
                },
            );
            state.enqueue(id, next);
            report.retrying.push((id, millis_to_time(next)));
            report.stuck.extend(stuck_report);
            return;
        }
        // A hold placed while the hooks ran still wins: the record is kept (the copies the
        // hooks deleted stay deleted) and its destruction starts over when the hold ends.
        if state.postpone_if_held(id, now, report) {
            return;
        }
        if let Some(receipt) = self.finish_destruction(state, id, now) {
            report.destroyed.push(receipt);
        }
    }

    /// Destructions that have kept failing past the limit at `now`.
    pub fn stuck(&self, now: DateTime<Utc>) -> Vec<StuckDestruction> {
        let now = now.timestamp_millis();
        let state = self.state();
        state
            .records
            .iter()
            .filter_map(|(id, entry)| self.stuck_report(*id, entry, now))
            .collect()
    }

    /// The report on `entry`'s destruction if it has been failing past the limit.
    fn stuck_report(&self, id: RecordId, entry: &Entry, now: i64) -> Option<StuckDestruction> {
        let pending = entry.pending.as_ref()?;
        (now.saturating_sub(pending.first_attempt) >= self.stuck_after_ms).then(|| {
            StuckDestruction {
                record: id,
                category: entry.category.clone(),
                attempts: pending.attempts,
                since: millis_to_time(pending.first_attempt),
                waiting_for: self
                    .hooks
                    .get(&entry.category)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .filter(|(place, _)| !pending.confirmed.contains(place))
                    .map(|(_, registered)| registered.name.clone())
                    .collect(),
                last_error: pending.last_error.clone(),
            }
        })
    }
}
