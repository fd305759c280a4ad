//! The audit log's entries in a SQLite file, for an [`AuditLog`](crate::audit::AuditLog)
//! opened with [`AuditLog::with_store`](crate::audit::AuditLog::with_store).

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::audit::{AuditEntry, AuditError, AuditStore};
use crate::error::StoreError;

/// The schema, one migration per version.
const MIGRATIONS: &[&str] = &["CREATE TABLE entries (
         seq  INTEGER PRIMARY KEY,
         body TEXT NOT NULL
     );"];

/// Audit entries in a SQLite file: the entries of one batch are written in one
/// transaction, committed and synced when the log syncs (write-ahead logging,
/// `synchronous = FULL`), so a crash loses only the batch not yet synced, whole.
///
/// ```
/// use amanat::audit::{AuditEvent, AuditLog};
/// use amanat::store::SqliteAuditStore;
/// use amanat::{Purpose, SubjectId};
///
/// let dir = tempfile::tempdir()?;
/// let store = SqliteAuditStore::open(dir.path().join("audit.db"))?;
/// let log = AuditLog::with_store(Box::new(store), 1)?;
/// log.append(chrono::Utc::now(), AuditEvent::Authorization {
///     subject: SubjectId::new("cust-1")?,
///     purpose: Purpose::CREDIT_SCORING,
///     category: "payment_card".into(),
///     granted: false,
///     rule: Some("no_consent".into()),
///     consent: None,
///     actor: None,
/// })?;
/// drop(log);
///
/// let log = AuditLog::with_store(Box::new(SqliteAuditStore::open(dir.path().join("audit.db"))?), 1)?;
/// assert_eq!(log.verify()?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteAuditStore {
    db: Connection,
    path: PathBuf,
    /// Whether a batch's transaction is open.
    writing: bool,
}

impl fmt::Debug for SqliteAuditStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteAuditStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteAuditStore {
    /// Opens the store at `path`, created if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::NewerSchema`] if a newer library wrote it; [`StoreError::Corrupt`] if
    /// the file is damaged or is another database (nothing is written then);
    /// [`StoreError::Io`] otherwise.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let db = super::sqlite::open(&path, MIGRATIONS)?;
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| super::sqlite::store_error(&e))?;
        Ok(Self {
            db,
            path,
            writing: false,
        })
    }
}

fn io(e: &rusqlite::Error) -> AuditError {
    AuditError::Io(e.to_string())
}

impl AuditStore for SqliteAuditStore {
    fn entries(&mut self) -> Result<Vec<AuditEntry>, AuditError> {
        let mut query = self
            .db
            .prepare("SELECT seq, body FROM entries ORDER BY seq")
            .map_err(|e| io(&e))?;
        let mut rows = query.query([]).map_err(|e| io(&e))?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next().map_err(|e| io(&e))? {
            let seq: i64 = row.get(0).map_err(|e| io(&e))?;
            let line = u64::try_from(seq).unwrap_or(0);
            let body = row.get_ref(1).map_err(|e| io(&e))?;
            let entry = body
                .as_str()
                .ok()
                .and_then(|text| serde_json::from_str(text).ok())
                .ok_or(AuditError::Unreadable { line })?;
            entries.push(entry);
        }
        Ok(entries)
    }

    fn write(&mut self, entry: &AuditEntry) -> Result<(), AuditError> {
        let body = serde_json::to_string(entry).map_err(|e| AuditError::Io(e.to_string()))?;
        if !self.writing {
            self.db
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| io(&e))?;
            self.writing = true;
        }
        let seq = i64::try_from(entry.seq).map_err(|_| AuditError::Io("seq too large".into()))?;
        self.db
            .prepare_cached("INSERT INTO entries (seq, body) VALUES (?1, ?2)")
            .and_then(|mut insert| insert.execute(params![seq, body]))
            .map_err(|e| io(&e))?;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), AuditError> {
        if self.writing {
            self.db.execute_batch("COMMIT").map_err(|e| io(&e))?;
            self.writing = false;
        }
        Ok(())
    }
}
