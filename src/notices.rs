//! Notices of changes: where the law asks it (Uzbek law Art. 31), the subject and the other
//! participants in the processing of a record are told in writing when it is corrected,
//! blocked or destroyed. The register keeps what is owed, by when, and what was sent.
//!
//! ```
//! use amanat::notices::{ChangeNotices, RecordChange};
//! use amanat::{category::Passport, data::RecordId, Category, Policy, Purpose, SubjectId};
//! use chrono::{TimeZone, Utc};
//! use std::sync::Arc;
//!
//! let policy = Arc::new(Policy::from_toml_str(include_str!(
//!     "../examples/policies/imanum.toml"))?);
//! let notices = ChangeNotices::new(policy);
//! // Thursday 12 June 2025: a passport kept for credit scoring is corrected.
//! let at = Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap();
//! let owed = notices.owe(
//!     &SubjectId::new("cust-1")?,
//!     RecordId::random(),
//!     &Passport::ID,
//!     &Purpose::CREDIT_SCORING,
//!     RecordChange::Rectified,
//!     at,
//! );
//! // The subject, and the credit bureaus the policy sends passports to for scoring.
//! assert_eq!(owed.len(), 3);
//! assert_eq!(notices.pending(at).len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chrono::{DateTime, Utc};

use crate::Error;
use crate::audit::{self, AuditEvent, AuditLog, Stands};
use crate::category::CategoryId;
use crate::data::RecordId;
use crate::error::StoreError;
use crate::event::{self as journal, Change, Journaled};
use crate::policy::Policy;
pub use crate::vocab::register::{Addressee, ChangeNotice, RecordChange};
use crate::vocab::{Purpose, SubjectId};

/// The register of notices of changes. `Send + Sync`.
#[derive(Debug)]
pub struct ChangeNotices {
    policy: Arc<Policy>,
    /// By number from 1; `None` where the notice was erased with its subject.
    notices: Mutex<Vec<Option<ChangeNotice>>>,
    audit: Option<Arc<AuditLog>>,
    journal: OnceLock<Arc<Journaled>>,
}

impl ChangeNotices {
    /// A register for `policy`'s pack, recipients and calendar.
    pub fn new(policy: Arc<Policy>) -> Self {
        Self {
            policy,
            notices: Mutex::new(Vec::new()),
            audit: None,
            journal: OnceLock::new(),
        }
    }

    /// Records each notice owed and sent in `log`.
    #[must_use]
    pub fn audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    fn notices(&self) -> std::sync::MutexGuard<'_, Vec<Option<ChangeNotice>>> {
        self.notices.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that `subject`'s `record`, of `category`, collected for `purpose`, was
    /// changed at `at`, and owes a notice of it to the subject and to each recipient the
    /// policy declares for that purpose and category — where the policy's pack asks it;
    /// and returns the notices owed (none where it does not). A notice is the subject's
    /// due: it is registered even when it can't be kept.
    pub fn owe(
        &self,
        subject: &SubjectId,
        record: RecordId,
        category: &CategoryId,
        purpose: &Purpose,
        change: RecordChange,
        at: DateTime<Utc>,
    ) -> Vec<ChangeNotice> {
        let Some(deadline) = self.policy.pack().change_notice else {
            return Vec::new();
        };
        let day = at.date_naive();
        // A calendar that can't count that far makes the notice due at once.
        let due = deadline.due(day, self.policy.calendar()).unwrap_or(day);
        let participants = self
            .policy
            .recipients_for(|p, c| p == purpose && c == category.as_str())
            .map(|r| Addressee::Participant {
                recipient: r.id.clone(),
                name: r.name.clone(),
                address: r.address.clone(),
            });
        let mut notices = self.notices();
        let mut owed = Vec::new();
        for to in std::iter::once(Addressee::Subject).chain(participants) {
            let notice = ChangeNotice {
                id: notices.len() as u64 + 1,
                subject: subject.clone(),
                record,
                category: category.clone(),
                change,
                to,
                at,
                due,
                sent_at: None,
            };
            let _ = audit::change(
                self.audit.as_ref(),
                self.journal.get().map(|j| &**j),
                at,
                AuditEvent::ChangeNoticeOwed {
                    notice: notice.clone(),
                },
                Stands::Regardless,
            );
            notices.push(Some(notice.clone()));
            owed.push(notice);
        }
        owed
    }

    /// Starts writing changes to `journal`, once an [`Operator`](crate::store::Operator)
    /// has replayed it.
    pub(crate) fn attach(&self, journal: Arc<Journaled>) {
        let _ = self.journal.set(journal);
    }

    /// Applies a change read back from the journal.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if it is out of order or names an unknown notice.
    pub(crate) fn replay(&self, change: Change) -> Result<(), StoreError> {
        let mut notices = self.notices();
        let at = change.at;
        match change.event {
            AuditEvent::ChangeNoticeOwed { notice } => {
                journal::replay_next(&mut notices, notice.id, Some(notice), "change notice")
            }
            AuditEvent::ChangeNoticeSent { notice } => {
                journal::replay_close(&mut notices, notice, "change notice", |owed| {
                    if let Some(owed) = owed {
                        owed.sent_at.get_or_insert(at);
                    }
                })
            }
            _ => Ok(()),
        }
    }

    /// Runs `erase` with the register locked, once every notice about `subject` was sent;
    /// then erases theirs, if `erase` succeeded: their numbers stay taken.
    ///
    /// # Errors
    ///
    /// [`Error::NotErasable`] if one of theirs is not sent (`erase` is not run); `erase`'s
    /// error (nothing is erased).
    #[cfg(feature = "sqlite")]
    pub(crate) fn erase_with(
        &self,
        subject: &SubjectId,
        erase: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        journal::erase_from(
            &mut self.notices(),
            |n| n.subject == *subject,
            |n| n.sent_at.is_none(),
            "a notice of a change to their data is not sent yet",
            erase,
        )
    }

    /// Replays notice `id`, about a subject since erased: its number stays taken.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if it is out of order.
    pub(crate) fn replay_erased(&self, id: u64) -> Result<(), StoreError> {
        journal::replay_next(&mut self.notices(), id, None, "change notice")
    }

    /// Notices not yet sent and not yet overdue at `now`, oldest first.
    pub fn pending(&self, now: DateTime<Utc>) -> Vec<ChangeNotice> {
        let today = now.date_naive();
        self.notices()
            .iter()
            .flatten()
            .filter(|n| n.sent_at.is_none() && n.due >= today)
            .cloned()
            .collect()
    }

    /// Notices not sent by the end of their due day, as of `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<ChangeNotice> {
        let today = now.date_naive();
        self.notices()
            .iter()
            .flatten()
            .filter(|n| n.sent_at.is_none() && n.due < today)
            .cloned()
            .collect()
    }

    /// Records that notice `id` was sent at `at`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownNotice`] if there is no such notice; [`Error::SentBeforeOwed`] if
    /// `at` is before the notice was owed.
    pub fn mark_sent(&self, id: u64, at: DateTime<Utc>) -> Result<(), Error> {
        let mut notices = self.notices();
        let notice = crate::slot(id)
            .and_then(|i| notices.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Error::UnknownNotice { notice: id })?;
        if at < notice.at {
            return Err(Error::SentBeforeOwed {
                notice: id,
                owed_at: notice.at,
            });
        }
        if notice.sent_at.is_none() {
            notice.sent_at = Some(at);
            // Sent is sent: keeping it is best effort (the journal stops where it can't,
            // and an Operator reports it).
            let _ = audit::change(
                self.audit.as_ref(),
                self.journal.get().map(|j| &**j),
                at,
                AuditEvent::ChangeNoticeSent { notice: id },
                Stands::Regardless,
            );
        }
        Ok(())
    }
}
