//! Vaults: where sealed records are kept, with what they are about — never the value in
//! the clear — and the destruction that shreds a record's key before its row.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

pub use crate::error::StoreError;

use super::keys::KeyStore;
use super::seal::Sealed;
use crate::data::RecordId;
use crate::vocab::{Purpose, SubjectId};

/// What a vault keeps beside a sealed value: whose it is, of which category, for which
/// purpose, since when. Ids and dates only.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VaultEntry {
    /// The record.
    pub record: RecordId,
    /// Whose.
    pub subject: SubjectId,
    /// Its category, by id.
    pub category: String,
    /// The purpose it was collected for.
    pub purpose: Purpose,
    /// When it was collected, to the millisecond (as every vault keeps it).
    pub collected_at: DateTime<Utc>,
}

impl VaultEntry {
    /// An entry for `record`.
    pub fn new(
        record: RecordId,
        subject: SubjectId,
        category: impl Into<String>,
        purpose: Purpose,
        collected_at: DateTime<Utc>,
    ) -> Self {
        Self {
            record,
            subject,
            category: category.into(),
            purpose,
            collected_at: crate::clock::millis_to_time(collected_at.timestamp_millis()),
        }
    }
}

/// Where sealed records are kept. [`MemoryVault`] and, with the `sqlite` feature,
/// [`SqliteVault`] come with the library; implement it for another database.
pub trait Vault: Send + Sync {
    /// Keeps `sealed` with its `entry`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Exists`] if the record is already kept; [`StoreError::WrongRecord`] if
    /// `sealed` is of another record; others if the store can't be written. Nothing is kept
    /// then.
    fn put(&self, entry: &VaultEntry, sealed: &Sealed) -> Result<(), StoreError>;

    /// The record's entry and sealed value, if kept.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if the store can't be read.
    fn get(&self, record: RecordId) -> Result<Option<(VaultEntry, Sealed)>, StoreError>;

    /// Removes the record, and says whether it was kept.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if the store can't be written; the record is then still kept.
    fn remove(&self, record: RecordId) -> Result<bool, StoreError>;

    /// The records of `subject`, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if the store can't be read.
    fn records_of(&self, subject: &SubjectId) -> Result<Vec<RecordId>, StoreError>;

    /// Every record kept, in no particular order: what an
    /// [`Operator`](crate::store::Operator) checks at open for sealed copies a crash left
    /// untracked.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if the store can't be read.
    fn records(&self) -> Result<Vec<RecordId>, StoreError>;
}

/// What [`shred`] did to one record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Shredded {
    /// The record.
    pub record: RecordId,
    /// Its data key was deleted now: from this moment no copy of it — live, replicated or
    /// backed up — can be opened with the key store.
    pub key_deleted: bool,
    /// Its row was removed from the vault.
    pub row_deleted: bool,
}

/// Destroys a sealed record: its key first, so that every copy of the ciphertext is dead
/// before the vault is touched, then its row. A crash between the two leaves a row nobody
/// can open, which a second call removes.
///
/// # Errors
///
/// [`StoreError`] if the key store or the vault can't be written. If the key was deleted
/// and the row was not, the record is already unreadable; call again to remove the row.
///
/// ```
/// use amanat::data::RecordId;
/// use amanat::store::keys::MemoryKeyStore;
/// use amanat::store::seal::Sealed;
/// use amanat::store::vault::{shred, MemoryVault, Vault, VaultEntry};
/// use amanat::{Purpose, SubjectId};
/// use chrono::Utc;
///
/// let (keys, vault) = (MemoryKeyStore::new(), MemoryVault::new());
/// let subject = SubjectId::new("cust-1")?;
/// let record = RecordId::random();
/// let sealed = Sealed::seal(&keys, record, &subject, b"AA1234567")?;
/// vault.put(&VaultEntry::new(record, subject, "identity_document",
///                            Purpose::IDENTITY_VERIFICATION, Utc::now()), &sealed)?;
///
/// let done = shred(&keys, &vault, record)?;
/// assert!(done.key_deleted && done.row_deleted);
/// assert!(vault.get(record)?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shred(
    keys: &dyn KeyStore,
    vault: &dyn Vault,
    record: RecordId,
) -> Result<Shredded, StoreError> {
    let key_deleted = keys.shred(record)?;
    let row_deleted = vault.remove(record)?;
    Ok(Shredded {
        record,
        key_deleted,
        row_deleted,
    })
}

/// Refuses to keep a sealed value under another record's entry.
fn same_record(entry: &VaultEntry, sealed: &Sealed) -> Result<(), StoreError> {
    if sealed.record() == entry.record {
        Ok(())
    } else {
        Err(StoreError::WrongRecord {
            entry: entry.record,
            sealed: sealed.record(),
        })
    }
}

/// Sealed records in memory.
#[derive(Default)]
pub struct MemoryVault {
    rows: Mutex<HashMap<RecordId, (VaultEntry, Sealed)>>,
}

impl MemoryVault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, HashMap<RecordId, (VaultEntry, Sealed)>> {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryVault")
            .field("records", &self.rows().len())
            .finish()
    }
}

impl Vault for MemoryVault {
    fn put(&self, entry: &VaultEntry, sealed: &Sealed) -> Result<(), StoreError> {
        same_record(entry, sealed)?;
        let mut rows = self.rows();
        if rows.contains_key(&entry.record) {
            return Err(StoreError::Exists {
                record: entry.record,
            });
        }
        rows.insert(entry.record, (entry.clone(), sealed.clone()));
        Ok(())
    }

    fn get(&self, record: RecordId) -> Result<Option<(VaultEntry, Sealed)>, StoreError> {
        Ok(self.rows().get(&record).cloned())
    }

    fn remove(&self, record: RecordId) -> Result<bool, StoreError> {
        Ok(self.rows().remove(&record).is_some())
    }

    fn records_of(&self, subject: &SubjectId) -> Result<Vec<RecordId>, StoreError> {
        let rows = self.rows();
        let mut found: Vec<&VaultEntry> = rows
            .values()
            .map(|(entry, _)| entry)
            .filter(|entry| entry.subject == *subject)
            .collect();
        found.sort_by_key(|entry| (entry.collected_at, entry.record));
        Ok(found.into_iter().map(|entry| entry.record).collect())
    }

    fn records(&self) -> Result<Vec<RecordId>, StoreError> {
        Ok(self.rows().keys().copied().collect())
    }
}

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteVault;

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::fmt;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, PoisonError};

    use chrono::NaiveDate;
    use rusqlite::{Connection, OptionalExtension, params};

    use super::{Sealed, StoreError, Vault, VaultEntry};
    use crate::Policy;
    use crate::data::RecordId;
    use crate::policy::Country;
    use crate::store::sqlite::Opening;
    use crate::vocab::{Purpose, SubjectId};

    /// The schema, one migration per version.
    const MIGRATIONS: &[&str] = &["CREATE TABLE sealed (
             record       BLOB PRIMARY KEY,
             subject      TEXT NOT NULL,
             category     TEXT NOT NULL,
             purpose      TEXT NOT NULL,
             collected_at INTEGER NOT NULL,
             value        BLOB NOT NULL
         );
         CREATE INDEX sealed_subject ON sealed (subject, collected_at);"];

    use crate::store::sqlite::store_error as error;

    impl From<Opening> for StoreError {
        fn from(opening: Opening) -> Self {
            match opening {
                Opening::Newer { found, supported } => StoreError::NewerSchema { found, supported },
                Opening::Corrupt(why) => StoreError::Corrupt(why),
                Opening::Io(why) => StoreError::Io(why),
            }
        }
    }

    /// Sealed records in a SQLite file: write-ahead logging, one transaction per change, a
    /// versioned schema. Only ciphertext and ids are in it; the keys are in a
    /// [`KeyStore`](crate::store::keys::KeyStore) kept elsewhere.
    pub struct SqliteVault {
        db: Mutex<Connection>,
        path: PathBuf,
    }

    impl fmt::Debug for SqliteVault {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SqliteVault")
                .field("path", &self.path)
                .finish_non_exhaustive()
        }
    }

    impl SqliteVault {
        /// Opens the vault at `path`, created if missing.
        ///
        /// # Errors
        ///
        /// [`StoreError::NewerSchema`] if a newer library wrote it; [`StoreError::Corrupt`]
        /// if the file is damaged (nothing is written then); [`StoreError::Io`] otherwise.
        pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
            let path = path.as_ref().to_path_buf();
            let db = crate::store::sqlite::open(&path, MIGRATIONS)?;
            Ok(Self {
                db: Mutex::new(db),
                path,
            })
        }

        /// Opens the vault at `path` for a store located in `country`, after checking that
        /// `policy` lets its data be kept there on `date`
        /// ([`Policy::check_store_location`](crate::Policy::check_store_location)).
        ///
        /// # Errors
        ///
        /// [`StoreError::Location`] if the location is refused — nothing is created then;
        /// otherwise as [`open`](Self::open).
        pub fn open_in(
            path: impl AsRef<Path>,
            country: Country,
            policy: &Policy,
            date: NaiveDate,
        ) -> Result<Self, StoreError> {
            policy
                .check_store_location(country, date)
                .map_err(|refused| StoreError::Location(Box::new(refused)))?;
            Self::open(path)
        }

        fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
            self.db.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    fn row_error(what: &'static str) -> StoreError {
        StoreError::Corrupt(format!("a row's {what} is not what this library writes"))
    }

    impl Vault for SqliteVault {
        fn put(&self, entry: &VaultEntry, sealed: &Sealed) -> Result<(), StoreError> {
            super::same_record(entry, sealed)?;
            let inserted = self
                .db()
                .execute(
                    "INSERT OR IGNORE INTO sealed
                         (record, subject, category, purpose, collected_at, value)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        entry.record.as_bytes().as_slice(),
                        entry.subject.as_str(),
                        entry.category,
                        entry.purpose.as_str(),
                        entry.collected_at.timestamp_millis(),
                        sealed.to_bytes(),
                    ],
                )
                .map_err(|e| error(&e))?;
            if inserted == 0 {
                return Err(StoreError::Exists {
                    record: entry.record,
                });
            }
            Ok(())
        }

        fn get(&self, record: RecordId) -> Result<Option<(VaultEntry, Sealed)>, StoreError> {
            type Row = (String, String, String, i64, Vec<u8>);
            let row: Option<Row> = self
                .db()
                .query_row(
                    "SELECT subject, category, purpose, collected_at, value
                     FROM sealed WHERE record = ?1",
                    params![record.as_bytes().as_slice()],
                    |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    },
                )
                .optional()
                .map_err(|e| error(&e))?;
            let Some((subject, category, purpose, at, value)) = row else {
                return Ok(None);
            };
            let entry = VaultEntry {
                record,
                subject: SubjectId::new(subject).map_err(|_| row_error("subject"))?,
                category,
                purpose: Purpose::new(purpose).map_err(|_| row_error("purpose"))?,
                collected_at: chrono::DateTime::from_timestamp_millis(at)
                    .ok_or_else(|| row_error("collection time"))?,
            };
            let sealed = Sealed::from_bytes(&value).map_err(|_| row_error("sealed value"))?;
            if sealed.record() != record {
                return Err(row_error("sealed value"));
            }
            Ok(Some((entry, sealed)))
        }

        fn remove(&self, record: RecordId) -> Result<bool, StoreError> {
            let removed = self
                .db()
                .execute(
                    "DELETE FROM sealed WHERE record = ?1",
                    params![record.as_bytes().as_slice()],
                )
                .map_err(|e| error(&e))?;
            Ok(removed > 0)
        }

        fn records_of(&self, subject: &SubjectId) -> Result<Vec<RecordId>, StoreError> {
            record_ids(
                &self.db(),
                "SELECT record FROM sealed WHERE subject = ?1 ORDER BY collected_at, record",
                params![subject.as_str()],
            )
        }

        fn records(&self) -> Result<Vec<RecordId>, StoreError> {
            record_ids(&self.db(), "SELECT record FROM sealed", [])
        }
    }

    /// The record ids `sql` selects.
    fn record_ids(
        db: &Connection,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<RecordId>, StoreError> {
        let mut query = db.prepare(sql).map_err(|e| error(&e))?;
        let ids = query
            .query_map(args, |row| row.get::<_, Vec<u8>>(0))
            .map_err(|e| error(&e))?;
        ids.map(|id| {
            let bytes: [u8; 16] = id
                .map_err(|e| error(&e))?
                .try_into()
                .map_err(|_| row_error("record id"))?;
            Ok(RecordId::from_bytes(bytes))
        })
        .collect()
    }
}
