//! What the SQLite stores share: opening a file without writing to one that is not ours,
//! and bringing its schema up to date one numbered migration at a time.

use std::path::Path;

use rusqlite::Connection;

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

/// Opens the store at `path`: checks its schema version before writing anything (a newer
/// or damaged file is left exactly as it is), then applies each migration it lacks in a
/// transaction of its own, numbering the schema as it goes (`PRAGMA user_version`), and
/// turns on write-ahead logging and `secure_delete`.
pub(crate) fn open(path: &Path, migrations: &[&str]) -> Result<Connection, Opening> {
    let mut db = Connection::open(path)?;
    let version: i64 = db.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let latest = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    if version > latest {
        return Err(Opening::Newer {
            found: version,
            supported: latest,
        });
    }
    if version < latest {
        db.pragma_update(None, "journal_mode", "WAL")?;
    }
    for (number, migration) in (1..)
        .zip(migrations)
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let tx = db.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
    }
    // Deleted rows are overwritten, not just unlinked: a shredded key leaves no trace.
    db.pragma_update(None, "secure_delete", "ON")?;
    Ok(db)
}
