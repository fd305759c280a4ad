//! The journal: every change that must outlive the process, in the one order it was made
//! (see [`Change`] and [`Journal`]), and [`SqliteJournal`], the journal in a SQLite file.

pub use crate::event::{Change, Journal, MemoryJournal};

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteJournal;

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::fmt;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, PoisonError};

    use rusqlite::{Connection, params};

    use super::{Change, Journal};
    use crate::error::StoreError;

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

    use super::{Change, Journal, MemoryJournal};
    use crate::category::Phone;
    use crate::error::StoreError;
    use crate::event::Journaled;
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
