//! Forgetting a subject erased from an operator's log, and replaying what refers to them
//! in clear once their entries can't be read.

#[cfg(feature = "sqlite")]
use super::Locked;
use super::RetentionSchedule;
use crate::audit::Reference;
#[cfg(feature = "sqlite")]
use crate::vocab::SubjectId;

#[cfg(feature = "sqlite")]
impl Locked<'_> {
    /// Whether `subject` may be forgotten: none of their records is kept, and no hold
    /// covers them.
    ///
    /// # Errors
    ///
    /// A reason, if a record of theirs is kept or a hold covers them.
    pub(crate) fn check_erasable(&self, subject: &SubjectId) -> Result<(), &'static str> {
        let state = &self.state;
        if state
            .by_subject
            .get(subject)
            .is_some_and(|ids| !ids.is_empty())
        {
            return Err("a record of theirs is kept");
        }
        if state
            .holds_on_subject
            .get(subject)
            .is_some_and(|ids| !ids.is_empty())
        {
            return Err("a legal hold covers them");
        }
        Ok(())
    }

    /// Forgets `subject`: what the schedule remembers of them — when their relationship
    /// ended, the decisions about them.
    pub(crate) fn forget(&mut self, subject: &SubjectId) {
        let state = &mut self.state;
        state.by_subject.remove(subject);
        state.holds_on_subject.remove(subject);
        state.relationship_ended.remove(subject);
        state
            .decisions
            .retain(|d| d.event.sealed_for() != Some(subject));
    }
}

impl RetentionSchedule {
    /// Replays an entry erased with its subject that was about `reference`: a record it
    /// tracked, or a hold it placed, whose number stays taken.
    pub(crate) fn replay_erased(&self, reference: Reference) {
        let mut state = self.state();
        match reference {
            Reference::Record(record) => {
                state.erased_records.insert(record);
            }
            Reference::Hold(hold) => {
                state.next_hold = state.next_hold.max(hold.0);
                state.erased_holds.insert(hold);
            }
            Reference::Consent(_) | Reference::Notice(_) | Reference::Request(_) => {}
        }
    }
}
