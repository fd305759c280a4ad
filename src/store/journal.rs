//! The journal: every change that must outlive the process — consent events, retention
//! deadlines, holds and destructions, transfer notices, subject requests — in the one
//! order they were made.
//!
//! The ledger, the retention schedule and the registers write each change to the journal
//! before they acknowledge it, and an [`Operator`](crate::store::Operator) rebuilds all of
//! them from it at open, with the original ids and times. What widens processing — a
//! grant, a renewal, a record tracked, a hold, a disclosure's notice — is done only if it
//! is kept; what protects the subject — a withdrawal, a trigger, a release, a destruction
//! — takes effect first and is kept after, and if it can't be, the journal stops and
//! every later change is refused until the operator is reopened. One journal rather than
//! one store per kind of change: a change is one row written in one transaction, so it is
//! either wholly there after a crash or not at all, and the replay sees a withdrawal after
//! the grant it ends, whichever component made each.
//!
//! A [`Change`] holds ids, purposes, categories, dates and references — and, where a legal
//! representative consented for the subject, the representative's name and mandate, which
//! the proof of consent needs. Never a value of the subject's personal data: those are
//! sealed in a [`Vault`](crate::store::vault::Vault).

use std::fmt;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::vault::StoreError;
use crate::category::CategoryId;
use crate::consent::ConsentId;
use crate::data::RecordId;
use crate::disclosure::TransferNotice;
use crate::retention::{HoldId, LegalHold, Trigger};
use crate::rights::SubjectRequest;
use crate::vocab::{ConsentForm, Evidence, GivenBy, LegalBasis, PolicyVersion, Purpose, SubjectId};

/// One change to what must outlive the process, as the journal keeps it.
///
/// Opaque on purpose: a [`Journal`] stores and returns it whole (its
/// [`to_json`](Self::to_json) form is stable across patch releases), and only the library
/// applies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Change(pub(crate) Kind);

/// What a [`Change`] did. Times are kept to the millisecond, as everything in the library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    ConsentGiven(Given),
    ConsentRenewed {
        consent: ConsentId,
        at: DateTime<Utc>,
        valid_until: Option<DateTime<Utc>>,
    },
    ConsentWithdrawn {
        consent: ConsentId,
        at: DateTime<Utc>,
        purposes: Vec<Purpose>,
        /// Whether the retention schedule heard of it in the same change
        /// ([`Operator::withdraw`](crate::store::Operator::withdraw)): replayed, the
        /// withdrawal brings the deadlines forward again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        retention: bool,
    },
    ConsentInvalidated {
        consent: ConsentId,
        at: DateTime<Utc>,
        by: PolicyVersion,
    },
    /// The policy version in force from now on.
    PolicyInForce {
        version: PolicyVersion,
        at: DateTime<Utc>,
    },
    BasisUsed {
        subject: SubjectId,
        at: DateTime<Utc>,
        purpose: Purpose,
        category: CategoryId,
        basis: LegalBasis,
        policy_version: PolicyVersion,
    },
    /// An operator is about to seal and keep `record`: a sealed copy found at open with
    /// this and no `Tracked` was never acknowledged, and one without even this was never
    /// written through this journal.
    Keeping {
        record: RecordId,
        subject: SubjectId,
        at: DateTime<Utc>,
    },
    Tracked {
        record: RecordId,
        subject: SubjectId,
        category: CategoryId,
        purpose: Purpose,
        collected_at: DateTime<Utc>,
    },
    Triggered {
        subject: SubjectId,
        at: DateTime<Utc>,
        trigger: Trigger,
    },
    HoldPlaced {
        hold: HoldId,
        at: DateTime<Utc>,
        legal_hold: LegalHold,
    },
    HoldReleased {
        hold: HoldId,
        at: DateTime<Utc>,
    },
    Destroyed {
        record: RecordId,
        at: DateTime<Utc>,
    },
    NoticeOwed(TransferNotice),
    NoticeSent {
        notice: u64,
        at: DateTime<Utc>,
    },
    RequestReceived(SubjectRequest),
    RequestCompleted {
        request: u64,
        at: DateTime<Utc>,
    },
}

/// A consent as given, with everything needed to give it again on replay.
#[allow(clippy::struct_field_names)] // `given_by` is the vocabulary's name for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Given {
    pub(crate) consent: ConsentId,
    pub(crate) subject: SubjectId,
    pub(crate) at: DateTime<Utc>,
    pub(crate) purposes: Vec<Purpose>,
    /// Each category with whether it was special when granted.
    pub(crate) categories: Vec<(CategoryId, bool)>,
    pub(crate) form: ConsentForm,
    pub(crate) given_by: GivenBy,
    pub(crate) policy_version: PolicyVersion,
    pub(crate) evidence: Option<Evidence>,
    pub(crate) recipients: Vec<String>,
    pub(crate) cross_border: bool,
    pub(crate) valid_until: Option<DateTime<Utc>>,
}

impl Change {
    /// The change's name: `consent_given`, `consent_withdrawn`, `tracked`, `hold_placed`,
    /// `destroyed`, `notice_owed`, `request_received`, …
    pub fn kind(&self) -> &'static str {
        match &self.0 {
            Kind::ConsentGiven(_) => "consent_given",
            Kind::ConsentRenewed { .. } => "consent_renewed",
            Kind::ConsentWithdrawn { .. } => "consent_withdrawn",
            Kind::ConsentInvalidated { .. } => "consent_invalidated",
            Kind::PolicyInForce { .. } => "policy_in_force",
            Kind::BasisUsed { .. } => "basis_used",
            Kind::Keeping { .. } => "keeping",
            Kind::Tracked { .. } => "tracked",
            Kind::Triggered { .. } => "triggered",
            Kind::HoldPlaced { .. } => "hold_placed",
            Kind::HoldReleased { .. } => "hold_released",
            Kind::Destroyed { .. } => "destroyed",
            Kind::NoticeOwed(_) => "notice_owed",
            Kind::NoticeSent { .. } => "notice_sent",
            Kind::RequestReceived(_) => "request_received",
            Kind::RequestCompleted { .. } => "request_completed",
        }
    }

    /// The subject the change is about, where it names one directly: a store can index
    /// by it.
    pub fn subject(&self) -> Option<&SubjectId> {
        match &self.0 {
            Kind::ConsentGiven(given) => Some(&given.subject),
            Kind::BasisUsed { subject, .. }
            | Kind::Keeping { subject, .. }
            | Kind::Tracked { subject, .. }
            | Kind::Triggered { subject, .. } => Some(subject),
            Kind::NoticeOwed(notice) => Some(&notice.subject),
            Kind::RequestReceived(request) => Some(&request.subject),
            _ => None,
        }
    }

    /// When it was made.
    pub fn at(&self) -> DateTime<Utc> {
        match &self.0 {
            Kind::ConsentGiven(given) => given.at,
            Kind::Tracked { collected_at, .. } => *collected_at,
            Kind::NoticeOwed(notice) => notice.at,
            Kind::RequestReceived(request) => request.received,
            Kind::ConsentRenewed { at, .. }
            | Kind::ConsentWithdrawn { at, .. }
            | Kind::ConsentInvalidated { at, .. }
            | Kind::BasisUsed { at, .. }
            | Kind::PolicyInForce { at, .. }
            | Kind::Keeping { at, .. }
            | Kind::Triggered { at, .. }
            | Kind::HoldPlaced { at, .. }
            | Kind::HoldReleased { at, .. }
            | Kind::Destroyed { at, .. }
            | Kind::NoticeSent { at, .. }
            | Kind::RequestCompleted { at, .. } => *at,
        }
    }

    /// The change as one line of JSON: what a store keeps.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] if it can't be written as JSON (a change is ids, strings,
    /// numbers and dates: never, in practice); a store keeps nothing then.
    pub fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self)
            .map_err(|e| StoreError::Io(format!("a {} change can't be written: {e}", self.kind())))
    }

    /// A change from what [`to_json`](Self::to_json) wrote.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] if `json` is not a change this library wrote (the error
    /// names the place, never the content).
    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        serde_json::from_str(json).map_err(|e| {
            StoreError::Corrupt(format!(
                "a journal entry is not a change this library wrote (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }
}

/// Where the [`Change`]s are kept. [`MemoryJournal`] and, with the `sqlite` feature,
/// [`SqliteJournal`] come with the library; implement it for another database.
pub trait Journal: Send + Sync {
    /// Keeps `change` after every change appended before it, and returns once it would
    /// survive a crash: what the caller is told was done must be there at the next open.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if it can't be kept; nothing of it may be kept then.
    fn append(&self, change: &Change) -> Result<(), StoreError>;

    /// Calls `visit` with every change kept, oldest first, stopping at its first error.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if the store can't be read or holds what this library did not
    /// write, or the error `visit` returned.
    fn replay(
        &self,
        visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// A journal in memory: for tests, and for a process whose state may die with it.
#[derive(Default)]
pub struct MemoryJournal {
    changes: Mutex<Vec<Change>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many changes it holds.
    pub fn len(&self) -> usize {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemoryJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryJournal")
            .field("changes", &self.len())
            .finish()
    }
}

impl Journal for MemoryJournal {
    fn append(&self, change: &Change) -> Result<(), StoreError> {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change.clone());
        Ok(())
    }

    fn replay(
        &self,
        visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let changes = self
            .changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        changes.into_iter().try_for_each(visit)
    }
}

/// A journal as the components hold it: once an append fails, every later one is refused,
/// because what was done in memory and not kept must not be built on — reopen to go on
/// from what was kept.
pub(crate) struct Journaled {
    journal: std::sync::Arc<dyn Journal>,
    stopped: Mutex<Option<String>>,
}

impl fmt::Debug for Journaled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journaled")
            .field("stopped", &self.stopped())
            .finish_non_exhaustive()
    }
}

impl Journaled {
    pub(crate) fn new(journal: std::sync::Arc<dyn Journal>) -> Self {
        Self {
            journal,
            stopped: Mutex::new(None),
        }
    }

    /// Why the journal stopped, if it did.
    pub(crate) fn stopped(&self) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Appends the change `make` builds.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotStored`] if the journal has stopped or can't keep it; it stops
    /// then.
    pub(crate) fn append(&self, make: impl FnOnce() -> Kind) -> Result<(), crate::Error> {
        let mut stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(why) = stopped.as_ref() {
            return Err(crate::Error::NotStored(StoreError::Stopped(why.clone())));
        }
        self.journal.append(&Change(make())).map_err(|failed| {
            *stopped = Some(failed.to_string());
            crate::Error::NotStored(failed)
        })
    }
}

/// Replays the opening of entry `id` of a numbered register (a notice owed, a request
/// received): it must be the next number, or the journal is out of order.
pub(crate) fn replay_next<T>(
    register: &mut Vec<T>,
    id: u64,
    entry: T,
    what: &str,
) -> Result<(), StoreError> {
    if id != register.len() as u64 + 1 {
        return Err(StoreError::Corrupt(format!("{what} {id} out of order")));
    }
    register.push(entry);
    Ok(())
}

/// Replays the closing of entry `id` of a numbered register (a notice sent, a request
/// answered) with `close`.
pub(crate) fn replay_close<T>(
    register: &mut [T],
    id: u64,
    what: &str,
    close: impl FnOnce(&mut T),
) -> Result<(), StoreError> {
    let entry = crate::slot(id)
        .and_then(|i| register.get_mut(i))
        .ok_or_else(|| StoreError::Corrupt(format!("{what} {id} closed but never opened")))?;
    close(entry);
    Ok(())
}

/// Appends to `journal` if there is one.
pub(crate) fn append(
    journal: Option<&Journaled>,
    make: impl FnOnce() -> Kind,
) -> Result<(), crate::Error> {
    journal.map_or(Ok(()), |j| j.append(make))
}

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteJournal;

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::fmt;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, PoisonError};

    use rusqlite::{Connection, params};

    use super::{Change, Journal, StoreError};

    /// The schema, one migration per version.
    const MIGRATIONS: &[&str] = &["CREATE TABLE changes (
             seq     INTEGER PRIMARY KEY,
             kind    TEXT NOT NULL,
             subject TEXT,
             at      INTEGER NOT NULL,
             body    TEXT NOT NULL
         );
         CREATE INDEX changes_subject ON changes (subject) WHERE subject IS NOT NULL;"];

    use crate::store::sqlite::store_error as error;

    /// The journal in a SQLite file: one row per change, each in a transaction of its own,
    /// synced before [`append`](Journal::append) returns (write-ahead logging,
    /// `synchronous = FULL`), under a versioned schema.
    pub struct SqliteJournal {
        db: Mutex<Connection>,
        path: PathBuf,
    }

    impl fmt::Debug for SqliteJournal {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SqliteJournal")
                .field("path", &self.path)
                .finish_non_exhaustive()
        }
    }

    impl SqliteJournal {
        /// Opens the journal at `path`, created if missing.
        ///
        /// # Errors
        ///
        /// [`StoreError::NewerSchema`] if a newer library wrote it; [`StoreError::Corrupt`]
        /// if the file is damaged or is another database (nothing is written then);
        /// [`StoreError::Io`] otherwise.
        pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
            let path = path.as_ref().to_path_buf();
            let db = crate::store::sqlite::open(&path, MIGRATIONS)?;
            // An acknowledged change is on disk, not in a buffer a crash of the machine loses.
            db.pragma_update(None, "synchronous", "FULL")
                .map_err(|e| error(&e))?;
            Ok(Self {
                db: Mutex::new(db),
                path,
            })
        }

        /// Appends `changes` in one transaction: all of them or none. For importing a
        /// journal kept elsewhere, or a test building a large state.
        ///
        /// # Errors
        ///
        /// [`StoreError::Io`] if they can't be written; none is kept then.
        pub fn append_all(&self, changes: &[Change]) -> Result<(), StoreError> {
            let mut db = self.db();
            let tx = db.transaction().map_err(|e| error(&e))?;
            {
                let mut insert = tx.prepare_cached(INSERT).map_err(|e| error(&e))?;
                for change in changes {
                    insert.execute(row(change)?).map_err(|e| error(&e))?;
                }
            }
            tx.commit().map_err(|e| error(&e))
        }

        fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
            self.db.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    const INSERT: &str = "INSERT INTO changes (kind, subject, at, body) VALUES (?1, ?2, ?3, ?4)";

    type Row<'a> = (&'static str, Option<&'a str>, i64, String);

    fn row(change: &Change) -> Result<Row<'_>, StoreError> {
        Ok((
            change.kind(),
            change.subject().map(crate::SubjectId::as_str),
            change.at().timestamp_millis(),
            change.to_json()?,
        ))
    }

    impl Journal for SqliteJournal {
        fn append(&self, change: &Change) -> Result<(), StoreError> {
            let db = self.db();
            let mut insert = db.prepare_cached(INSERT).map_err(|e| error(&e))?;
            let (kind, subject, at, body) = row(change)?;
            insert
                .execute(params![kind, subject, at, body])
                .map_err(|e| error(&e))?;
            Ok(())
        }

        fn replay(
            &self,
            visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            let db = self.db();
            let mut query = db
                .prepare("SELECT body FROM changes ORDER BY seq")
                .map_err(|e| error(&e))?;
            let mut rows = query.query([]).map_err(|e| error(&e))?;
            while let Some(row) = rows.next().map_err(|e| error(&e))? {
                let body = row.get_ref(0).map_err(|e| error(&e))?;
                let text = body
                    .as_str()
                    .map_err(|_| StoreError::Corrupt("a journal entry is not text".into()))?;
                visit(Change::from_json(text)?)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{Change, Journal, Journaled, MemoryJournal, StoreError};
    use crate::category::Phone;
    use crate::vocab::{ConsentForm, ElectronicMethod, PolicyVersion, Purpose, SubjectId};
    use crate::{ConsentLedger, Error, Grant};

    /// Keeps the first `room` changes, then fails as a full disk would.
    struct Full {
        room: AtomicUsize,
        kept: MemoryJournal,
    }

    impl Journal for Full {
        fn append(&self, change: &Change) -> Result<(), StoreError> {
            if self.room.load(Ordering::SeqCst) == 0 {
                return Err(StoreError::Io("disk full".into()));
            }
            self.room.fetch_sub(1, Ordering::SeqCst);
            self.kept.append(change)
        }

        fn replay(
            &self,
            visit: &mut dyn FnMut(Change) -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            self.kept.replay(visit)
        }
    }

    fn grant(
        subject: &SubjectId,
    ) -> Grant<crate::consent::WithPurpose, crate::consent::WithCategory> {
        Grant::new(
            subject.clone(),
            ConsentForm::Electronic {
                method: ElectronicMethod::OneTimePassword,
            },
        )
        .purpose(Purpose::SERVICE_PROVISION)
        .category::<Phone>()
    }

    #[test]
    fn a_grant_the_journal_cant_keep_is_not_granted_and_a_withdrawal_still_protects() {
        let full = Arc::new(Full {
            room: AtomicUsize::new(1),
            kept: MemoryJournal::new(),
        });
        let ledger = ConsentLedger::builder(PolicyVersion::new("v1").unwrap())
            .journal(Arc::new(Journaled::new(
                Arc::clone(&full) as Arc<dyn Journal>
            )))
            .build();
        let kept = SubjectId::new("cust-1").unwrap();
        let refused = SubjectId::new("cust-2").unwrap();
        let consent = ledger.grant(grant(&kept)).unwrap();

        // The disk is full: the grant is not made, and says why.
        let error = ledger.grant(grant(&refused)).unwrap_err();
        assert!(
            matches!(error, Error::NotStored(StoreError::Io(_))),
            "{error}"
        );
        assert_eq!(error.rule(), "not_stored");
        assert!(ledger.consents_of(&refused).is_empty());
        assert!(
            ledger
                .authorize::<Phone>(&refused, &Purpose::SERVICE_PROVISION)
                .is_err()
        );

        // The journal has stopped; a withdrawal takes effect all the same, and says it
        // was not kept.
        let token = ledger
            .authorize::<Phone>(&kept, &Purpose::SERVICE_PROVISION)
            .unwrap();
        assert!(matches!(
            ledger.withdraw(&consent),
            Err(Error::NotStored(StoreError::Stopped(_)))
        ));
        assert!(matches!(token.check(), Err(Error::ConsentWithdrawn { .. })));
        assert_eq!(full.kept.len(), 1);
    }

    #[test]
    fn a_change_reads_back_as_written_and_a_foreign_one_is_refused_without_its_content() {
        let journal = MemoryJournal::new();
        let written = Arc::new(MemoryJournal::new());
        let ledger = ConsentLedger::builder(PolicyVersion::new("v1").unwrap())
            .journal(Arc::new(Journaled::new(
                Arc::clone(&written) as Arc<dyn Journal>
            )))
            .build();
        let subject = SubjectId::new("cust-1").unwrap();
        ledger.grant(grant(&subject)).unwrap();
        let mut changes = Vec::new();
        written
            .replay(&mut |c| {
                changes.push(c);
                Ok(())
            })
            .unwrap();
        let change = changes.pop().unwrap();
        assert_eq!(change.kind(), "consent_given");
        assert_eq!(change.subject(), Some(&subject));
        assert_eq!(
            Change::from_json(&change.to_json().unwrap()).unwrap(),
            change
        );
        journal.append(&change).unwrap();
        assert_eq!(journal.len(), 1);

        let foreign =
            Change::from_json(r#"{"change":"consent_given","secret":"AA1234567"}"#).unwrap_err();
        assert!(matches!(foreign, StoreError::Corrupt(_)));
        assert!(!foreign.to_string().contains("AA1234567"));
    }
}
