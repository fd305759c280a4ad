//! [`SqliteLogStore`]: the authenticated log's entries and checkpoints in a SQLite file.

use std::fmt;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::StoreError;
use crate::log::{
    Checkpoint, Entry, Handle, Hash, Head, KeyRow, LogError, LogStore, Problem, Seq,
    SignedCheckpoint, Snapshot,
};
use crate::store::sqlite::store_error;

/// The schema, one migration per version.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE entries (
         seq     INTEGER PRIMARY KEY,
         at      INTEGER NOT NULL,
         prev    BLOB NOT NULL,
         hash    BLOB NOT NULL,
         mac     BLOB NOT NULL,
         payload BLOB NOT NULL
     );
     CREATE TABLE checkpoints (
         count     INTEGER PRIMARY KEY,
         head      BLOB NOT NULL,
         at        INTEGER NOT NULL,
         signature BLOB NOT NULL
     );",
    "CREATE TABLE snapshots (
         last  INTEGER PRIMARY KEY,
         first INTEGER NOT NULL,
         head  BLOB NOT NULL,
         mac   BLOB NOT NULL,
         body  BLOB NOT NULL
     );",
    "CREATE TABLE keyring (
         handle  BLOB PRIMARY KEY,
         tag     BLOB,
         wrapped BLOB,
         mac     BLOB NOT NULL
     );",
    // One B-tree, not a table and an index on the handle: a page fewer written with each
    // batch that makes keys.
    "CREATE TABLE keyring_rows (
         handle  BLOB PRIMARY KEY,
         tag     BLOB,
         wrapped BLOB,
         mac     BLOB NOT NULL
     ) WITHOUT ROWID;
     INSERT INTO keyring_rows SELECT handle, tag, wrapped, mac FROM keyring;
     DROP TABLE keyring;
     ALTER TABLE keyring_rows RENAME TO keyring;",
];

const INSERT: &str =
    "INSERT INTO entries (seq, at, prev, hash, mac, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const HEAD: &str = "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1";

/// The log in a SQLite file (0600, as its `-wal` and `-shm`): one row per entry, each
/// batch in one transaction synced before [`append`](LogStore::append) returns
/// (write-ahead logging, `synchronous = FULL`), under a versioned schema.
///
/// Writes go through one connection and reads through another, so a reader never waits
/// behind a batch being synced.
pub struct SqliteLogStore {
    write: Mutex<Writer>,
    read: Mutex<Connection>,
    /// The keyring's reads: a connection of their own, since a key is looked up while an
    /// entry read through `read` is being opened.
    keys: Mutex<Connection>,
    path: PathBuf,
}

impl fmt::Debug for SqliteLogStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteLogStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The writing connection, and the head of the file as this store last wrote or read it.
struct Writer {
    db: Connection,
    head: Option<Head>,
}

fn error(e: &rusqlite::Error) -> LogError {
    LogError::Store(store_error(e))
}

impl SqliteLogStore {
    /// Opens the log's file at `path`, created if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::NewerSchema`] (as [`LogError::Store`]) if a newer library wrote it;
    /// [`StoreError::Corrupt`] if the file is damaged or is another database (nothing is
    /// written then); [`StoreError::Io`] otherwise.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LogError> {
        let path = path.as_ref().to_path_buf();
        let write = crate::store::sqlite::open(&path, MIGRATIONS).map_err(StoreError::from)?;
        // An acknowledged entry is on disk, not in a buffer a crash of the machine loses.
        write
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| error(&e))?;
        let reader = || -> Result<Connection, LogError> {
            let read = Connection::open(&path).map_err(|e| error(&e))?;
            read.pragma_update(None, "query_only", "ON")
                .map_err(|e| error(&e))?;
            Ok(read)
        };
        let read = reader()?;
        let keys = reader()?;
        let head = head(&write)?;
        Ok(Self {
            write: Mutex::new(Writer { db: write, head }),
            read: Mutex::new(read),
            keys: Mutex::new(keys),
            path,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the body of the snapshot ending at `last`, whose MAC `db` read as `mac`, into
    /// `body`. A large one is read in two halves at once, the second through the keyring's
    /// connection (idle while an open reads its snapshots): most of such a read is the
    /// kernel zeroing the fresh pages it fills, which the two cores share. The second half
    /// is read in a transaction that finds the same MAC, so both halves are of one body;
    /// if it does not, it fails, or no second thread is given, `db` reads it too. The
    /// keyring's reads wait meanwhile (tens of milliseconds for a million consents).
    fn read_body(
        &self,
        db: &Connection,
        last: i64,
        mac: &[u8],
        body: &mut [u8],
    ) -> Result<(), LogError> {
        /// Below this a second thread costs more than it saves.
        const SPLIT: usize = 8 << 20;
        let read = |db: &Connection, at: usize, part: &mut [u8]| {
            db.blob_open(rusqlite::MAIN_DB, "snapshots", "body", last, true)
                .and_then(|blob| blob.read_at_exact(part, at))
                .map_err(|e| error(&e))
        };
        if body.len() < SPLIT {
            return read(db, 0, body);
        }
        let half = body.len() / 2;
        let (first, second) = body.split_at_mut(half);
        // Behind a lock only so that this thread can take it if no other reads it.
        let second = Mutex::new(second);
        let read_second = || -> Result<bool, LogError> {
            let keys = self.keys.lock();
            let tx = keys.unchecked_transaction().map_err(|e| error(&e))?;
            let same: Option<Vec<u8>> = tx
                .query_row("SELECT mac FROM snapshots WHERE last = ?1", [last], |row| {
                    row.get(0)
                })
                .optional()
                .map_err(|e| error(&e))?;
            if same.as_deref() != Some(mac) {
                return Ok(false);
            }
            read(&tx, half, &mut second.lock())?;
            Ok(true)
        };
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("amanat-snapshot-read".into())
                .spawn_scoped(scope, read_second);
            read(db, 0, first)?;
            // An error there is no reason to fail: this connection reads that half too.
            let read_there = match other {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    .unwrap_or(false),
                Err(_) => false,
            };
            if !read_there {
                read(db, half, &mut second.lock())?;
            }
            Ok(())
        })
    }
}

fn head(db: &Connection) -> Result<Option<Head>, LogError> {
    let row = db
        .query_row(HEAD, [], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })
        .optional()
        .map_err(|e| error(&e))?;
    row.map(|(seq, hash)| {
        let seq = position(seq)?;
        Ok(Head {
            seq,
            hash: fixed(seq, &hash)?,
        })
    })
    .transpose()
}

/// A stored position as a [`Seq`]: a negative one is not something the log wrote.
fn position(seq: i64) -> Result<Seq, LogError> {
    u64::try_from(seq)
        .map(Seq::new)
        .map_err(|_| LogError::Tampered {
            position: Seq::new(0),
            problem: Problem::Malformed,
        })
}

fn fixed<const N: usize>(seq: Seq, bytes: &[u8]) -> Result<[u8; N], LogError> {
    bytes.try_into().map_err(|_| LogError::Tampered {
        position: seq,
        problem: Problem::Malformed,
    })
}

fn insert(db: &Connection, entry: &Entry) -> rusqlite::Result<()> {
    let seq = i64::try_from(entry.seq.get())
        .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, i64::MAX))?;
    db.prepare_cached(INSERT)?.execute(params![
        seq,
        entry.at_ms,
        entry.prev.as_slice(),
        entry.hash.as_slice(),
        entry.mac.as_slice(),
        entry.payload,
    ])?;
    Ok(())
}

/// Checkpoints the write-ahead log into the file and truncates it: the pages a deletion
/// zeroed in the database have their older images there until then.
fn truncate_wal(db: &Connection) -> Result<(), LogError> {
    let (busy, frames, done) = db
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .map_err(|e| error(&e))?;
    if busy == 0 && frames == done {
        Ok(())
    } else {
        Err(LogError::Store(StoreError::Io(
            "another connection reads log.db: what was deleted stays in log.db-wal until \
             it lets go"
                .into(),
        )))
    }
}

fn put_key(db: &Connection, row: &KeyRow) -> rusqlite::Result<()> {
    if row.is_shredded() {
        // A snapshot holds in clear what the shredded key sealed.
        db.prepare_cached("DELETE FROM snapshots")?.execute([])?;
    }
    db.prepare_cached(
        "INSERT OR REPLACE INTO keyring (handle, tag, wrapped, mac) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        row.handle.as_slice(),
        row.tag.as_ref().map(<[u8; 32]>::as_slice),
        row.wrapped.as_ref().map(<[u8; 32]>::as_slice),
        row.mac.as_slice(),
    ])?;
    Ok(())
}

/// A keyring row as stored; one whose fields are of the wrong type or size is refused by
/// its MAC when it is used, so it is read as it is, with what can't be read left empty.
#[expect(
    clippy::unnecessary_wraps,
    reason = "the shape rusqlite's row mappers take"
)]
fn key_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRow> {
    fn sized<const N: usize>(bytes: Option<Vec<u8>>) -> Option<[u8; N]> {
        bytes.and_then(|b| b.try_into().ok())
    }
    let blob = |i| row.get::<_, Option<Vec<u8>>>(i).ok().flatten();
    Ok(KeyRow {
        handle: sized(blob(0)).unwrap_or_default(),
        tag: sized(blob(1)),
        wrapped: sized(blob(2)),
        mac: sized(blob(3)).unwrap_or_default(),
    })
}

fn stored(seq: Seq) -> Result<i64, LogError> {
    i64::try_from(seq.get())
        .map_err(|_| LogError::Store(StoreError::Io("position overflow".into())))
}

impl LogStore for SqliteLogStore {
    fn append(&self, batch: &[Entry], keys: &[KeyRow]) -> Result<(), LogError> {
        let mut writer = self.write.lock();
        // The head is the store's: kept here since the last write rather than read again in
        // each transaction (that read cost a tenth of a synced insert, measured). Should
        // another writer have moved the file's head meanwhile, the primary key refuses the
        // position it already used, and the head is read again.
        crate::log::continues(writer.head, batch)?;
        if batch.is_empty() && keys.is_empty() {
            return Ok(());
        }
        let written = if let ([entry], []) = (batch, keys) {
            // One statement is its own transaction: no BEGIN and COMMIT around it.
            insert(&writer.db, entry)
        } else {
            (|| {
                let tx = writer.db.transaction()?;
                for row in keys {
                    put_key(&tx, row)?;
                }
                for entry in batch {
                    insert(&tx, entry)?;
                }
                tx.commit()
            })()
        };
        match written {
            Ok(()) => {
                if let Some(last) = batch.last() {
                    writer.head = Some(Head {
                        seq: last.seq,
                        hash: last.hash,
                    });
                }
                Ok(())
            }
            Err(rusqlite::Error::SqliteFailure(code, _))
                if code.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                writer.head = head(&writer.db)?;
                Err(LogError::Conflict {
                    expected: batch.first().map_or(Seq::FIRST, |e| e.seq),
                    found: writer.head.map_or(Seq::FIRST, |h| h.seq.next()),
                })
            }
            Err(e) => Err(error(&e)),
        }
    }

    fn read_from(
        &self,
        from: Seq,
        visit: &mut dyn FnMut(Entry) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        let db = self.read.lock();
        let mut query = db
            .prepare_cached(
                "SELECT seq, at, prev, hash, mac, payload FROM entries WHERE seq >= ?1 ORDER BY seq",
            )
            .map_err(|e| error(&e))?;
        let mut rows = query.query([stored(from)?]).map_err(|e| error(&e))?;
        while let Some(row) = rows.next().map_err(|e| error(&e))? {
            let seq = position(row.get(0).map_err(|e| error(&e))?)?;
            // A value of the wrong type (text where a blob belongs) is a malformed entry,
            // named by its position, not a failure of the store.
            let malformed = |_| LogError::Tampered {
                position: seq,
                problem: Problem::Malformed,
            };
            let prev: Vec<u8> = row.get(2).map_err(malformed)?;
            let hash: Vec<u8> = row.get(3).map_err(malformed)?;
            let mac: Vec<u8> = row.get(4).map_err(malformed)?;
            visit(Entry {
                seq,
                at_ms: row.get(1).map_err(malformed)?,
                prev: fixed(seq, &prev)?,
                hash: fixed(seq, &hash)?,
                mac: fixed(seq, &mac)?,
                payload: row.get(5).map_err(malformed)?,
            })?;
        }
        Ok(())
    }

    fn head(&self) -> Result<Option<Head>, LogError> {
        head(&self.read.lock())
    }

    fn keys_tagged(&self, tag: &[u8; 32]) -> Result<Vec<KeyRow>, LogError> {
        // No index on the tag: only an erasure asks, and an index on an HMAC cost a page
        // written at random per new subject per commit (measured: 75 µs a grant with
        // sixteen threads, 51 µs without). A scan of the keyring is an erasure's to pay.
        let db = self.keys.lock();
        let mut query = db
            .prepare_cached("SELECT handle, tag, wrapped, mac FROM keyring WHERE tag = ?1")
            .map_err(|e| error(&e))?;
        let rows = query
            .query_map([tag.as_slice()], key_row)
            .map_err(|e| error(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| error(&e))
    }

    fn scrub(&self) -> Result<(), LogError> {
        truncate_wal(&self.write.lock().db)
    }

    fn key(&self, handle: &Handle) -> Result<Option<KeyRow>, LogError> {
        self.keys
            .lock()
            .prepare_cached("SELECT handle, tag, wrapped, mac FROM keyring WHERE handle = ?1")
            .and_then(|mut query| query.query_row([handle.as_slice()], key_row).optional())
            .map_err(|e| error(&e))
    }

    fn put_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        let c = &checkpoint.checkpoint;
        self.write
            .lock()
            .db
            .execute(
                "INSERT OR REPLACE INTO checkpoints (count, head, at, signature) VALUES (?1, ?2, ?3, ?4)",
                params![
                    stored(c.count)?,
                    c.head.as_slice(),
                    c.at_ms,
                    checkpoint.signature.as_slice()
                ],
            )
            .map_err(|e| error(&e))?;
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        let db = self.read.lock();
        let row = db
            .query_row(
                "SELECT count, head, at, signature FROM checkpoints ORDER BY count DESC LIMIT 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Vec<u8>>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, Vec<u8>>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| error(&e))?;
        row.map(|(count, head, at_ms, signature)| {
            let count = position(count)?;
            // A malformed checkpoint can't carry a valid signature: say so at its count.
            let bad = || LogError::Tampered {
                position: count,
                problem: Problem::BadSignature,
            };
            let head: Hash = head.try_into().map_err(|_| bad())?;
            Ok(SignedCheckpoint {
                checkpoint: Checkpoint { count, head, at_ms },
                signature: signature.try_into().map_err(|_| bad())?,
            })
        })
        .transpose()
    }

    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), LogError> {
        let (from, to) = (stored(snapshot.from)?, stored(snapshot.to)?);
        let mut write = self.write.lock();
        let tx = write.db.transaction().map_err(|e| error(&e))?;
        tx.execute(
            "DELETE FROM snapshots WHERE first >= ?1 AND last <= ?2",
            params![from, to],
        )
        .map_err(|e| error(&e))?;
        tx.execute(
            "INSERT OR REPLACE INTO snapshots (last, first, head, mac, body) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                to,
                from,
                snapshot.head.as_slice(),
                snapshot.mac.as_slice(),
                snapshot.body,
            ],
        )
        .map_err(|e| error(&e))?;
        tx.commit().map_err(|e| error(&e))
    }

    fn snapshots(&self) -> Result<Vec<Snapshot>, LogError> {
        let db = self.read.lock();
        let mut query = db
            .prepare(
                "SELECT first, last, head, mac, length(body), typeof(body) = 'blob' \
                 FROM snapshots ORDER BY last",
            )
            .map_err(|e| error(&e))?;
        let rows = query
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                    row.get::<_, Vec<u8>>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, bool>(5)?,
                ))
            })
            .map_err(|e| error(&e))?;
        let mut snapshots = Vec::new();
        for row in rows {
            let (from, last, head, mac, length, blob) = row.map_err(|e| error(&e))?;
            let (from, to) = (position(from)?, position(last)?);
            // A malformed snapshot can't carry a valid MAC: say so where it ends.
            let bad = || LogError::Tampered {
                position: to,
                problem: Problem::SnapshotMismatch,
            };
            if !blob {
                return Err(bad());
            }
            // Read in place, once: a million consents' body is a hundred megabytes, which
            // a column read would hold twice, SQLite's copy and ours.
            let mut body = vec![0; usize::try_from(length).map_err(|_| bad())?];
            self.read_body(&db, last, &mac, &mut body)?;
            snapshots.push(Snapshot {
                from,
                to,
                head: head.try_into().map_err(|_| bad())?,
                mac: mac.try_into().map_err(|_| bad())?,
                body,
            });
        }
        Ok(snapshots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyDir;
    use crate::log::{Log, MemoryAnchor};
    use std::sync::Arc;

    /// A body past the size read in two halves at once comes back whole; and when the
    /// second connection finds another snapshot than the first read (another MAC), the
    /// first reads the second half too.
    #[test]
    fn a_large_snapshot_reads_back_whole_from_two_connections_or_from_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteLogStore::open(dir.path().join("log.db")).unwrap();
        let body: Vec<u8> = (0..(9 << 20) + 7)
            .map(|n: usize| u8::try_from(n % 253).unwrap())
            .collect();
        let snapshot = Snapshot {
            from: Seq::new(1),
            to: Seq::new(1),
            head: [1; 32],
            body: body.clone(),
            mac: [2; 32],
        };
        store.put_snapshot(&snapshot).unwrap();
        assert_eq!(store.snapshots().unwrap()[0].body, body);
        let db = store.read.lock();
        let mut again = vec![0; body.len()];
        store.read_body(&db, 1, &[9; 32], &mut again).unwrap();
        assert!(again == body, "read by one connection");
    }

    #[test]
    fn a_key_is_found_by_its_tag_before_and_after_a_reopen_and_not_once_shredded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let keyring = crate::log::Keyring::new(&crate::key::Kek::random()).unwrap();
        let name = |i: usize| format!("cust-{i}");
        let rows: Vec<KeyRow> = (0..250)
            .map(|i| keyring.create(name(i).as_bytes()).0)
            .collect();
        let store = SqliteLogStore::open(&path).unwrap();
        for chunk in rows.chunks(100) {
            store.append(&[], chunk).unwrap();
        }
        let found = |store: &SqliteLogStore| {
            rows.iter().enumerate().all(|(i, row)| {
                store.keys_tagged(&keyring.tag(name(i).as_bytes())).unwrap() == [row.clone()]
            })
        };
        assert!(found(&store));
        drop(store);
        let store = SqliteLogStore::open(&path).unwrap();
        assert!(found(&store));

        // Shredded, a key is found by its tag no more, and its tag is gone from the file.
        let tag = keyring.tag(name(0).as_bytes());
        store
            .append(&[], &[keyring.shredded(rows[0].handle)])
            .unwrap();
        assert_eq!(store.keys_tagged(&tag).unwrap(), []);
        let tags: i64 = store
            .write
            .lock()
            .db
            .query_row(
                "SELECT count(*) FROM keyring WHERE tag = ?1",
                [tag.as_slice()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tags, 0);
    }

    #[test]
    fn a_keyring_written_before_it_lost_its_rowid_is_read_whole_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let keyring = crate::log::Keyring::new(&crate::key::Kek::random()).unwrap();
        let (row, _) = keyring.create(b"cust-7");
        {
            let Ok(db) = crate::store::sqlite::open(&path, &MIGRATIONS[..3]) else {
                panic!("a store at version 3 can be made");
            };
            put_key(&db, &row).unwrap();
        }
        let store = SqliteLogStore::open(&path).unwrap();
        assert_eq!(store.key(&row.handle).unwrap(), Some(row.clone()));
        let without_rowid: String = store
            .write
            .lock()
            .db
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'keyring'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(without_rowid.ends_with("WITHOUT ROWID"), "{without_rowid}");
    }

    #[test]
    fn entries_and_checkpoints_survive_a_reopen_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path().join("keys")).unwrap();
        let path = dir.path().join("data").join("log.db");
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let anchor = Arc::new(MemoryAnchor::new());
        {
            let log = Log::builder(SqliteLogStore::open(&path).unwrap())
                .anchor(Arc::clone(&anchor))
                .checkpoint_every(3)
                .open(&keys)
                .unwrap();
            for i in 0..7_u8 {
                assert_eq!(log.append(&[i]).unwrap().get(), u64::from(i) + 1);
            }
            // Another batch at a position already taken is refused by the store itself.
            let stale = log.store().append(
                &[Entry {
                    seq: Seq::new(3),
                    at_ms: 0,
                    prev: [0; 32],
                    payload: Vec::new(),
                    hash: [0; 32],
                    mac: [0; 32],
                }],
                &[],
            );
            assert!(matches!(stale, Err(LogError::Conflict { .. })));
        }
        let store = SqliteLogStore::open(&path).unwrap();
        assert_eq!(
            store.latest_checkpoint().unwrap().unwrap().checkpoint.count,
            Seq::new(6)
        );
        let log = Log::builder(store).anchor(anchor).open(&keys).unwrap();
        assert_eq!(log.head().unwrap().seq, Seq::new(7));
        assert_eq!(log.append(b"more").unwrap(), Seq::new(8));
        assert!(log.verify_full().is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_second_writer_on_the_same_file_gets_a_conflict_not_a_second_entry_at_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let (one, two) = (
            SqliteLogStore::open(&path).unwrap(),
            SqliteLogStore::open(&path).unwrap(),
        );
        let first = |payload: &[u8]| {
            let hash = Entry::compute_hash(Seq::FIRST, 0, &crate::log::GENESIS, payload);
            Entry {
                seq: Seq::FIRST,
                at_ms: 0,
                prev: crate::log::GENESIS,
                payload: payload.to_vec(),
                hash,
                mac: [0; 32],
            }
        };
        one.append(&[first(b"one")], &[]).unwrap();
        // The second store's head is from before the first wrote: the file refuses it.
        assert_eq!(
            two.append(&[first(b"two")], &[]),
            Err(LogError::Conflict {
                expected: Seq::FIRST,
                found: Seq::new(2)
            })
        );
        assert_eq!(two.head().unwrap().unwrap().seq, Seq::FIRST);
    }
}
