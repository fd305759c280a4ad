//! The authenticated log (issue 16, items 3 and 4), each test an attack on its SQLite file
//! made as someone with the `sqlite3` shell would make it — rusqlite on the file, without
//! the log's keys — and what catches it: `open` (from the last verified checkpoint),
//! `verify_full` (from the first entry, with the MAC key), or `verify_against_anchor` (with
//! the public key alone). Every refusal names the first bad position, and a refused open
//! leaves every file as it was.

#![cfg(feature = "sqlite")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use amanat::key::KeyDir;
use amanat::log::{
    Anchor, CheckpointKey, Entry, FileAnchor, Log, LogError, LogStore, Problem, Seq,
    verify_against_anchor,
};
use amanat::store::SqliteLogStore;

use crate::common::{fingerprints, keys_for};

/// A log of ten entries in `data/log.db`, checkpointed every four (at 4 and 8) into an
/// anchor file in `anchor/`, beside the data directory, never in it.
struct Setup {
    _root: tempfile::TempDir,
    data: PathBuf,
    anchor_dir: PathBuf,
    keys: KeyDir,
    public: CheckpointKey,
}

impl Setup {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let anchor_dir = root.path().join("anchor");
        let keys = keys_for(&data);
        let mut setup = Self {
            _root: root,
            data,
            anchor_dir,
            keys,
            public: CheckpointKey::from_bytes(&[0; 32]).unwrap(),
        };
        let log = setup.open().unwrap();
        for i in 1..=10_u8 {
            assert_eq!(
                log.append(format!("event {i}").as_bytes()).unwrap().get(),
                u64::from(i)
            );
        }
        setup.public = log.checkpoint_key();
        setup
    }

    fn db(&self) -> PathBuf {
        self.data.join("log.db")
    }

    fn anchor(&self) -> FileAnchor {
        FileAnchor::new(&self.anchor_dir, &self.data).unwrap()
    }

    fn open(&self) -> Result<Log<SqliteLogStore>, LogError> {
        Log::builder(SqliteLogStore::open(self.db())?)
            .anchor(self.anchor())
            .checkpoint_every(4)
            .open(&self.keys)
    }

    /// What the attacker runs in the `sqlite3` shell.
    fn attack(&self, sql: &str) {
        let db = rusqlite::Connection::open(self.db()).unwrap();
        db.execute_batch(sql).unwrap();
    }

    /// The auditor's check: the store and the anchor, with the public key alone.
    fn audit(&self) -> Result<amanat::log::Verified, LogError> {
        let store = SqliteLogStore::open(self.db()).unwrap();
        verify_against_anchor(&store, &self.public, &self.anchor())
    }

    /// Opens, expecting the open refused as tampering at `position` with `problem`, and
    /// every file of the data and the anchor directories left as it was.
    fn refused(&self, position: u64, problem: Problem) {
        let before = (fingerprints(&self.data), fingerprints(&self.anchor_dir));
        let error = self.open().map(|_| ()).unwrap_err();
        assert_tampered(&error, position, problem);
        assert_eq!(
            before,
            (fingerprints(&self.data), fingerprints(&self.anchor_dir)),
            "a refused open changed a file"
        );
    }
}

fn assert_tampered(error: &LogError, position: u64, problem: Problem) {
    assert!(
        matches!(error, LogError::Tampered { position: p, problem: q } if p.get() == position && *q == problem),
        "expected tampering at {position} ({problem:?}), got {error:?}"
    );
    // The payloads ("event N") never show in what is reported.
    assert!(!error.to_string().contains("event"), "{error}");
}

fn tampered<T: std::fmt::Debug>(result: Result<T, LogError>, position: u64, problem: Problem) {
    assert_tampered(&result.unwrap_err(), position, problem);
}

#[test]
fn an_untouched_log_reopens_and_verifies_every_way() {
    let setup = Setup::new();
    let log = setup.open().unwrap();
    assert_eq!(log.head().unwrap().seq, Seq::new(10));
    assert_eq!(
        log.verify_full().unwrap().checkpoint.unwrap().count,
        Seq::new(8)
    );
    let audited = setup.audit().unwrap();
    assert_eq!(audited.head.unwrap().seq, Seq::new(10));
    assert_eq!(audited.checkpoint.unwrap().count, Seq::new(8));
}

#[test]
fn a_deleted_entry_is_refused_at_open_at_its_position() {
    let setup = Setup::new();
    setup.attack("DELETE FROM entries WHERE seq = 9");
    setup.refused(9, Problem::Missing);
}

#[test]
fn an_inserted_entry_with_a_sound_hash_is_refused_for_its_mac() {
    let setup = Setup::new();
    // Entries 9 and 10 move up one; a new 9 links to 8 with a hash computed as the log
    // would, but a MAC made without the key.
    let store = SqliteLogStore::open(setup.db()).unwrap();
    let mut eight = None;
    store
        .read_from(Seq::new(8), &mut |e| {
            eight.get_or_insert(e);
            Ok(())
        })
        .unwrap();
    drop(store);
    let eight = eight.unwrap();
    let payload = b"consent_given".to_vec();
    let hash = Entry::compute_hash(Seq::new(9), eight.at_ms, &eight.hash, &payload);
    setup.attack(&format!(
        "UPDATE entries SET seq = -seq WHERE seq >= 9;
         UPDATE entries SET seq = 1 - seq WHERE seq < 0;
         INSERT INTO entries (seq, at, prev, hash, mac, payload)
             VALUES (9, {}, X'{}', X'{}', zeroblob(32), X'{}');",
        eight.at_ms,
        hex::encode(eight.hash),
        hex::encode(hash),
        hex::encode(&payload)
    ));
    setup.refused(9, Problem::BadMac);
}

#[test]
fn an_edited_entry_is_refused_whether_or_not_its_hash_was_recomputed() {
    let setup = Setup::new();
    setup.attack("UPDATE entries SET payload = X'00' WHERE seq = 10");
    setup.refused(10, Problem::HashMismatch);

    let setup = Setup::new();
    setup.attack("UPDATE entries SET at = at + 2207520000000 WHERE seq = 9");
    setup.refused(9, Problem::HashMismatch);
}

#[test]
fn reordered_entries_are_refused_at_the_first_moved() {
    let setup = Setup::new();
    setup.attack(
        "UPDATE entries SET seq = -seq WHERE seq IN (9, 10);
         UPDATE entries SET seq = 10 WHERE seq = -9;
         UPDATE entries SET seq = 9 WHERE seq = -10;",
    );
    setup.refused(9, Problem::HashMismatch);
}

#[test]
fn a_tail_cut_below_the_anchored_count_is_refused_and_one_within_the_window_is_not() {
    // Entries 9 and 10 come after the anchored checkpoint (8): cutting them off leaves a
    // sound log that can't be told from one whose writer stopped at 8 — the stated window.
    let setup = Setup::new();
    setup.attack("DELETE FROM entries WHERE seq > 8");
    assert_eq!(setup.open().unwrap().head().unwrap().seq, Seq::new(8));

    // Below it, the checkpoint of 8 names entries that are gone, whatever the store's own
    // checkpoints say.
    let setup = Setup::new();
    setup.attack("DELETE FROM entries WHERE seq > 6; DELETE FROM checkpoints;");
    setup.refused(7, Problem::Truncated);
    tampered(setup.audit(), 7, Problem::Truncated);
}

#[test]
fn an_emptied_log_is_refused_while_the_anchor_remembers_it() {
    let setup = Setup::new();
    setup.attack("DELETE FROM entries; DELETE FROM checkpoints;");
    setup.refused(1, Problem::Truncated);
    tampered(setup.audit(), 1, Problem::Truncated);
}

#[test]
fn a_whole_log_rewritten_with_a_fresh_chain_is_caught_without_the_mac_key() {
    let setup = Setup::new();
    // The attacker writes a chain of their own — hashes that verify, MACs they can't make —
    // as long as the old one, and removes the store's checkpoints.
    let mut sql = String::from("DELETE FROM entries; DELETE FROM checkpoints;");
    let mut prev = amanat::log::GENESIS;
    for seq in 1..=10_u64 {
        let payload = format!("rewritten {seq}");
        let hash = Entry::compute_hash(Seq::new(seq), 0, &prev, payload.as_bytes());
        write!(
            sql,
            "INSERT INTO entries VALUES ({seq}, 0, X'{}', X'{}', zeroblob(32), X'{}');",
            hex::encode(prev),
            hex::encode(hash),
            hex::encode(payload)
        )
        .unwrap();
        prev = hash;
    }
    setup.attack(&sql);
    // The auditor's check: the chain is sound from end to end, but its entry at the
    // anchored count is not the one signed.
    tampered(setup.audit(), 8, Problem::CheckpointMismatch);
    // Open, from the anchored checkpoint on: the entry there has a MAC no one with the key
    // made.
    setup.refused(8, Problem::BadMac);
}

#[test]
fn an_edit_before_the_last_checkpoint_is_caught_by_verify_full_and_by_the_anchor() {
    // The hash recomputed: open (which starts at 8) doesn't look there; verify_full finds
    // the MAC wrong at 2; the auditor, without the MAC key, finds the chain broken at 3,
    // where the next entry links to the old hash.
    let setup = Setup::new();
    let store = SqliteLogStore::open(setup.db()).unwrap();
    let mut two = None;
    store
        .read_from(Seq::new(2), &mut |e| {
            two.get_or_insert(e);
            Ok(())
        })
        .unwrap();
    drop(store);
    let two = two.unwrap();
    let hash = Entry::compute_hash(two.seq, two.at_ms, &two.prev, b"forged");
    setup.attack(&format!(
        "UPDATE entries SET payload = CAST('forged' AS BLOB), hash = X'{}' WHERE seq = 2",
        hex::encode(hash)
    ));
    let log = setup.open().unwrap();
    tampered(log.verify_full(), 2, Problem::BadMac);
    tampered(setup.audit(), 3, Problem::BrokenLink);

    // The hash left alone: both see the edit where it is.
    let setup = Setup::new();
    setup.attack("UPDATE entries SET payload = X'00' WHERE seq = 2");
    let log = setup.open().unwrap();
    tampered(log.verify_full(), 2, Problem::HashMismatch);
    tampered(setup.audit(), 2, Problem::HashMismatch);
}

#[test]
fn a_forged_checkpoint_in_the_store_is_refused() {
    let setup = Setup::new();
    setup.attack("UPDATE checkpoints SET count = 10 WHERE count = 8");
    setup.refused(10, Problem::BadSignature);
}

#[test]
fn a_crash_right_after_a_checkpoint_is_not_tampering() {
    let setup = Setup::new();
    // The checkpoint of 8 kept and anchored, nothing after it written: a log that stopped.
    setup.attack("DELETE FROM entries WHERE seq > 8");
    // A checkpoint of 12 kept in the store, the crash before the anchor had it; and the
    // next one torn half-way through its line in the anchor file.
    let log = setup.open().unwrap();
    for _ in 9..=12 {
        log.append(b"later").unwrap();
    }
    drop(log);
    let anchor = setup.anchor();
    let text = std::fs::read_to_string(anchor.file()).unwrap();
    let kept: Vec<&str> = text.lines().collect();
    assert_eq!(kept.len(), 3, "checkpoints of 4, 8 and 12");
    let torn = &kept[2][..kept[2].len() / 2];
    std::fs::write(anchor.file(), format!("{}\n{}\n{torn}", kept[0], kept[1])).unwrap();
    assert_eq!(
        anchor.latest().unwrap().unwrap().checkpoint.count,
        Seq::new(8)
    );
    let log = setup.open().unwrap();
    assert_eq!(log.head().unwrap().seq, Seq::new(12));
    assert!(log.verify_full().is_ok());
    assert!(setup.audit().is_ok());
    // The anchor is behind the store by more than four entries: the first append catches
    // it up, on a line of its own after the torn one.
    log.append(b"after the crash").unwrap();
    assert_eq!(
        anchor.latest().unwrap().unwrap().checkpoint.count,
        Seq::new(13)
    );
    assert!(setup.audit().is_ok());
}

#[test]
fn the_anchor_directory_is_refused_inside_the_data_directory() {
    let setup = Setup::new();
    let inside = setup.data.join("anchor");
    assert!(matches!(
        FileAnchor::new(&inside, &setup.data),
        Err(LogError::AnchorInsideData { path }) if path == inside
    ));
    assert!(!inside.exists());
    let holding: &Path = setup.data.parent().unwrap();
    assert!(matches!(
        FileAnchor::new(holding, &setup.data),
        Err(LogError::AnchorInsideData { .. })
    ));
}

#[test]
fn sixteen_threads_append_to_distinct_dense_positions_on_a_sound_chain() {
    let setup = Setup::new();
    let log = Arc::new(setup.open().unwrap());
    let threads: Vec<_> = (0..16_u8)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..25_u8)
                    .map(|i| log.append(&[t, i]).unwrap().get())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (11..=410).collect::<Vec<_>>());
    assert_eq!(log.verify_full().unwrap().head.unwrap().seq, Seq::new(410));
    // An appender that finds another signing skips its own checkpoint (the next append
    // covers it), so which counts were anchored depends on the threads' timing; closing
    // anchors the last.
    Arc::try_unwrap(log).unwrap().close().unwrap();
    let audited = setup.audit().unwrap();
    assert_eq!(audited.head.unwrap().seq, Seq::new(410));
    assert_eq!(audited.checkpoint.unwrap().count, Seq::new(410));
}
