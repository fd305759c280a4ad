//! Erasing a subject from an operator: the ledger's part.

use dashmap::mapref::entry::Entry;

use super::ConsentLedger;
use crate::Error;
use crate::vocab::SubjectId;

impl ConsentLedger {
    /// Runs `erase` with `subject`'s entry locked — no grant, renewal or withdrawal of
    /// theirs lands meanwhile — once none of their consents can still be used (each is
    /// withdrawn for every purpose, ended by a policy, or expired); then forgets their
    /// consents and history, if `erase` succeeded.
    ///
    /// # Errors
    ///
    /// [`Error::NotErasable`] if a consent of theirs is still in force (`erase` is not
    /// run); `erase`'s error (nothing is forgotten).
    pub(crate) fn erase_with(
        &self,
        subject: &SubjectId,
        erase: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        let now = self.clock.now_millis();
        match self.subjects.entry(subject.clone()) {
            Entry::Occupied(entry) => {
                if entry
                    .get()
                    .consents()
                    .any(|held| held.ensure_open(now).is_ok())
                {
                    return Err(Error::NotErasable {
                        reason: "a consent of theirs is still in force",
                    });
                }
                // A token still alive reports its reads, naming the subject, when it is
                // dropped: reported now, they are erased with the rest, and a token on a
                // consent no longer in force reads nothing more to report.
                self.services.flush_reads();
                erase()?;
                let (_, forgotten) = entry.remove_entry();
                for held in forgotten.consents() {
                    self.consents.remove(&held.id);
                }
                Ok(())
            }
            // Held vacant: a first grant for them waits until the erasure is done.
            Entry::Vacant(_vacant) => erase(),
        }
    }
}
