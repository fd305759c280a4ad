//! What the SQLite stores share: opening a file without writing to one that is not ours,
//! and bringing its schema up to date one numbered migration at a time.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::StoreError;

/// Why a file could not be opened as a store.
pub(crate) enum Opening {
    /// A newer library wrote it.
    Newer { found: i64, supported: i64 },
    /// Not a database, or damaged.
    Corrupt(String),
    /// It could not be read or written.
    Io(String),
}

impl From<rusqlite::Error> for Opening {
    fn from(e: rusqlite::Error) -> Self {
        if is_corrupt(&e) {
            Opening::Corrupt(e.to_string())
        } else {
            Opening::Io(e.to_string())
        }
    }
}

/// A SQLite failure as a store reports it: damage as [`StoreError::Corrupt`], the rest as
/// [`StoreError::Io`].
pub(crate) fn store_error(e: &rusqlite::Error) -> StoreError {
    if is_corrupt(e) {
        StoreError::Corrupt(e.to_string())
    } else {
        StoreError::Io(e.to_string())
    }
}

/// Whether SQLite says the file is not a database or is damaged.
pub(crate) fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            )
    )
}

/// Opens the store at `path`. An existing file is first looked at read-only: one written by
/// a newer library, one that is not a database, and a database that is not one of ours are
/// refused and left exactly as they are. Then each migration the file lacks is applied in
/// an immediate transaction of its own — two processes opening at once can't both apply
/// one — numbering the schema as it goes (`PRAGMA user_version`); `secure_delete` is turned
/// on first and write-ahead logging last, so that a new file's schema is in the file
/// itself, not in a write-ahead log beside it.
pub(crate) fn open(path: &Path, migrations: &[&str]) -> Result<Connection, Opening> {
    let latest = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    if path.exists() {
        // Immutable: the probe takes no lock and creates no write-ahead log or index
        // beside the file, so a refused file is left with nothing added.
        let probe = Connection::open_with_flags(
            immutable_uri(path),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )?;
        let version = version(&probe)?;
        if version > latest {
            return Err(Opening::Newer {
                found: version,
                supported: latest,
            });
        }
        let tables: i64 =
            probe.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))?;
        if version < 1 && tables > 0 {
            return Err(Opening::Corrupt(
                "a database of something else: it has tables but no amanat schema".into(),
            ));
        }
    }
    // Private from the first byte; SQLite gives the `-wal` and `-shm` files the same mode.
    crate::files::precreate(path).map_err(|e| Opening::Io(e.to_string()))?;
    let mut db = Connection::open(path)?;
    // Deleted rows are overwritten, not just unlinked: a shredded key leaves no trace.
    db.pragma_update(None, "secure_delete", "ON")?;
    let current = version(&db)?;
    // The probe read the main file alone; a newer schema committed only to a write-ahead
    // log left by a crash shows here.
    if current > latest {
        return Err(Opening::Newer {
            found: current,
            supported: latest,
        });
    }
    for (number, migration) in (1..).zip(migrations).filter(|(n, _)| *n > current) {
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read again inside the transaction: another process may have migrated meanwhile.
        if version(&tx)? >= number {
            continue;
        }
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
    }
    // Only now: a new file's schema goes in through a rollback journal, straight into the
    // file, so a kill after it leaves no write-ahead log behind. One holding the schema
    // alone would look, to a reader that can't replay it without writing, like a log that
    // kept entries (`Stores::in_dir` refuses a log that did without its vault).
    let mode: String = db.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Opening::Io(format!(
            "write-ahead logging refused (journal mode {mode})"
        )));
    }
    Ok(db)
}

/// `path` as a SQLite URI opening it immutable: `%`, `?` and `#` escaped, as the URI
/// syntax wants.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

fn version(db: &Connection) -> rusqlite::Result<i64> {
    db.pragma_query_value(None, "user_version", |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use super::open;

    #[test]
    fn a_path_with_uri_characters_opens_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a 100% odd?name#1.db");
        let migrations = ["CREATE TABLE t (x INTEGER);"];
        open(&path, &migrations).map_err(|_| "first open").unwrap();
        // The second open probes the existing file through its URI.
        let db = open(&path, &migrations).map_err(|_| "reopen").unwrap();
        let version: i64 = db
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, 1);
        assert!(!dir.path().join("a 100%25 odd").exists());
    }
}
