//! Forgetting a subject erased from an operator's log.

use super::ConsentLedger;
use crate::vocab::SubjectId;

impl ConsentLedger {
    /// Whether `subject` may be forgotten: none of their consents can still be used —
    /// each is withdrawn for every purpose, ended by a policy, or expired.
    ///
    /// # Errors
    ///
    /// A reason, if a consent of theirs is still in force.
    pub(crate) fn check_erasable(&self, subject: &SubjectId) -> Result<(), &'static str> {
        let now = self.clock.now_millis();
        let in_force = self.subjects.get(subject).is_some_and(|entry| {
            entry
                .consents
                .iter()
                .any(|held| held.ensure_open(now).is_ok())
        });
        if in_force {
            Err("a consent of theirs is still in force")
        } else {
            Ok(())
        }
    }

    /// Forgets `subject`: their consents and their history.
    pub(crate) fn forget(&self, subject: &SubjectId) {
        if let Some((_, entry)) = self.subjects.remove(subject) {
            for held in &entry.consents {
                self.consents.remove(&held.id);
            }
        }
    }
}
