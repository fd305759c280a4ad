//! Rebuilding a schedule from its journal, change by change, as each was first made.

use super::{HoldScope, LegalHold, RetentionSchedule};
use crate::Error;
use crate::audit::{Event, Reference};
use crate::event::Change;

impl RetentionSchedule {
    /// Applies a change read back from the journal, as it was made, before the schedule
    /// records anywhere ([`attach`](Self::attach)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`](crate::error::StoreError::Corrupt) if the change
    /// can't be applied as it was: the policy lost a rule, or a hold or record is unknown.
    pub(crate) fn replay(&self, change: Change) -> Result<(), crate::error::StoreError> {
        let refused = |e: Error| {
            crate::error::StoreError::Corrupt(format!("the journal can't be replayed: {e}"))
        };
        let at = change.at;
        self.state().note_change(at.timestamp_millis());
        match change.event {
            Event::Tracked {
                record,
                subject,
                category,
                purpose,
                collected_at,
            } => self
                .track_record(record, &subject, category, &purpose, collected_at)
                .map_err(refused),
            Event::Triggered { subject, trigger } => {
                self.trigger(&subject, trigger, at);
                Ok(())
            }
            // On a record of a subject since erased: its number stays taken, and nothing
            // is held.
            Event::HoldPlaced {
                hold,
                legal_hold:
                    LegalHold {
                        scope: HoldScope::Record(record),
                        ..
                    },
            } if self.state().erased_records.contains(&record) => {
                self.replay_erased(Reference::Hold(hold));
                Ok(())
            }
            Event::HoldReleased { hold } if self.state().erased_holds.contains(&hold) => Ok(()),
            Event::Destruction { record, .. } if self.state().erased_records.contains(&record) => {
                self.state().destroyed.insert(record);
                Ok(())
            }
            Event::HoldPlaced { hold, legal_hold } => {
                let placed = self
                    .place_hold_at(legal_hold, at.timestamp_millis())
                    .map_err(refused)?;
                if placed == hold {
                    Ok(())
                } else {
                    Err(refused(Error::UnknownHold { hold }))
                }
            }
            Event::HoldReleased { hold } => self
                .release_hold_at(hold, at.timestamp_millis())
                .map(drop)
                .map_err(refused),
            Event::Blocked { record, .. } => self.replay_block(record, true).map_err(refused),
            Event::Rectified { old, new, .. } => {
                self.replay_rectified(old, new, at.timestamp_millis());
                Ok(())
            }
            Event::Unblocked { record, .. } => self.replay_block(record, false).map_err(refused),
            Event::Destruction { record, .. } => {
                let mut state = self.state();
                self.finish_destruction(&mut state, record, at.timestamp_millis())
                    .map(drop)
                    .ok_or_else(|| refused(Error::UnknownRecord { record }))
            }
            _ => Ok(()),
        }
    }
}
