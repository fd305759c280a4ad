//! The log's unit tests: appends, checkpoints, tampering at open, snapshots, restores
//! and group commit, on the in-memory store.

use std::sync::Arc;

use super::*;
use crate::key::KeyDir;

struct Fixture {
    _dir: tempfile::TempDir,
    keys: KeyDir,
    store: Arc<MemoryLogStore>,
    anchor: Arc<MemoryAnchor>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyDir::new(dir.path().join("keys")).unwrap();
    Fixture {
        _dir: dir,
        keys,
        store: Arc::new(MemoryLogStore::new()),
        anchor: Arc::new(MemoryAnchor::new()),
    }
}

impl Fixture {
    fn open(&self) -> Result<Log<Arc<MemoryLogStore>>, LogError> {
        Log::builder(Arc::clone(&self.store))
            .anchor(Arc::clone(&self.anchor))
            .checkpoint_every(4)
            .checkpoint_interval(Duration::from_secs(3600))
            .open(&self.keys)
    }

    /// Ten entries, checkpointed at 4 and 8.
    fn ten(&self) {
        let log = self.open().unwrap();
        for i in 0..10_u8 {
            log.append(&[i; 3]).unwrap();
        }
    }
}

fn tampered(result: Result<impl fmt::Debug, LogError>, position: u64, problem: Problem) {
    match result {
        Err(LogError::Tampered {
            position: p,
            problem: q,
        }) => assert_eq!((p.get(), q), (position, problem)),
        other => panic!("expected tampering at {position} ({problem:?}), got {other:?}"),
    }
}

#[test]
fn appends_are_numbered_from_one_chained_and_checkpointed_every_n() {
    let f = fixture();
    f.ten();
    let counts: Vec<u64> = f
        .anchor
        .all()
        .iter()
        .map(|c| c.checkpoint.count.get())
        .collect();
    assert_eq!(counts, [4, 8]);
    let log = f.open().unwrap();
    assert_eq!(log.head().unwrap().seq, Seq::new(10));
    assert_eq!(log.append(b"x").unwrap(), Seq::new(11));
    let mut seen = Vec::new();
    log.read_from(Seq::new(9), &mut |e| {
        seen.push(e.seq.get());
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, [9, 10, 11]);
    assert_eq!(log.verify_full().unwrap().head.unwrap().seq, Seq::new(11));
    assert_eq!(
        log.checkpoint().unwrap().unwrap().checkpoint.count,
        Seq::new(11)
    );
    assert_eq!(log.checkpoint().unwrap(), None);
}

#[test]
fn snapshots_verify_under_the_key_follow_each_other_and_fit_the_entries() {
    let f = fixture();
    f.ten();
    let log = f.open().unwrap();
    log.put_snapshot(Seq::FIRST, Seq::new(4), b"first four".to_vec())
        .unwrap();
    log.put_snapshot(Seq::new(5), Seq::new(8), b"four more".to_vec())
        .unwrap();
    let opened = log.snapshots().unwrap();
    assert_eq!(opened.len(), 2);
    assert_eq!(opened[1].body, b"four more");
    // The store keeps them sealed.
    let kept = f.store.snapshots_mut().clone();
    assert!(
        kept.iter()
            .all(|s| !s.body.windows(4).any(|w| w == b"four"))
    );
    // Not durable yet: refused.
    assert!(
        log.put_snapshot(Seq::new(9), Seq::new(12), Vec::new())
            .is_err()
    );

    let mismatch = |log: &Log<Arc<MemoryLogStore>>, at| {
        tampered(log.snapshots(), at, Problem::SnapshotMismatch);
    };
    // Its body edited: a byte of its ciphertext, its tag, or its nonce; or put in clear.
    for at in [30, kept[1].body.len() - 1, 6] {
        f.store.snapshots_mut()[1].body[at] ^= 1;
        mismatch(&log, 8);
        f.store.snapshots_mut()[1] = kept[1].clone();
    }
    f.store.snapshots_mut()[1].body = b"four others".to_vec();
    mismatch(&log, 8);
    // The first's sealed body in the second's place, MAC and all.
    f.store.snapshots_mut()[1].body = kept[0].body.clone();
    f.store.snapshots_mut()[1].mac = kept[0].mac;
    mismatch(&log, 8);
    // Moved to cover other entries, MAC and all.
    f.store.snapshots_mut()[1] = kept[1].clone();
    f.store.snapshots_mut()[1].to = Seq::new(9);
    mismatch(&log, 9);
    // One missing between the first position and the last.
    f.store.snapshots_mut().remove(0);
    mismatch(&log, 9);
    // The entry it ends at rewritten: it no longer fits.
    f.store.snapshots_mut().clear();
    f.store.snapshots_mut().push(kept[0].clone());
    f.store.entries_mut()[3].payload = b"rewritten".to_vec();
    mismatch(&log, 4);
}

#[test]
fn a_snapshot_an_earlier_version_kept_in_clear_is_read_if_its_mac_is_sound() {
    let f = fixture();
    f.ten();
    let log = f.open().unwrap();
    let sealed = log
        .put_snapshot(Seq::FIRST, Seq::new(4), b"first four".to_vec())
        .unwrap();
    let clear = Snapshot::in_clear(
        &log.mac,
        Seq::FIRST,
        Seq::new(4),
        sealed.head,
        b"first four".to_vec(),
    );
    f.store.snapshots_mut()[0] = clear.clone();
    assert_eq!(log.snapshots().unwrap(), std::slice::from_ref(&clear));
    // Its MAC is checked all the same.
    f.store.snapshots_mut()[0].body = b"first fore".to_vec();
    tampered(log.snapshots(), 4, Problem::SnapshotMismatch);
}

#[test]
fn a_restored_log_that_falls_short_of_the_anchor_opens_only_as_restored() {
    let f = fixture();
    f.ten();
    // Nothing lost: nothing to restore.
    let (log, behind) = Log::builder(Arc::clone(&f.store))
        .anchor(Arc::clone(&f.anchor))
        .open_restored(&f.keys)
        .unwrap();
    assert_eq!(behind, None);
    drop(log);
    // A backup of the first six entries, which the anchor's checkpoint at 8 outlives.
    f.store.entries_mut().truncate(6);
    f.store
        .checkpoints_mut()
        .retain(|c| c.checkpoint.count.get() <= 6);
    tampered(f.open(), 7, Problem::Truncated);
    let (log, behind) = Log::builder(Arc::clone(&f.store))
        .anchor(Arc::clone(&f.anchor))
        .open_restored(&f.keys)
        .unwrap();
    assert_eq!(behind.map(|c| c.count.get()), Some(8));
    log.append(b"restored").unwrap();
    assert_eq!(log.checkpoint().unwrap().unwrap().checkpoint.count.get(), 7);
    drop(log);
    assert_eq!(f.open().unwrap().head().unwrap().seq, Seq::new(7));
}

#[test]
fn tampering_after_the_checkpoint_is_refused_at_open_with_its_first_position() {
    // Deleted.
    let f = fixture();
    f.ten();
    f.store.entries_mut().remove(9 - 1);
    tampered(f.open(), 9, Problem::Missing);

    // Edited, its hash left alone.
    let f = fixture();
    f.ten();
    f.store.entries_mut()[9].payload = b"AA1234567".to_vec();
    let error = f.open().unwrap_err();
    assert!(!error.to_string().contains("AA1234567"));
    tampered(Err::<(), _>(error), 10, Problem::HashMismatch);

    // Edited, its hash recomputed: the MAC gives it away.
    let f = fixture();
    f.ten();
    {
        let mut entries = f.store.entries_mut();
        let e = &mut entries[9];
        e.payload = b"forged".to_vec();
        e.hash = Entry::compute_hash(e.seq, e.at_ms, &e.prev, &e.payload);
    }
    tampered(f.open(), 10, Problem::BadMac);

    // Reordered: 9 and 10 swap places.
    let f = fixture();
    f.ten();
    {
        let mut entries = f.store.entries_mut();
        let (a, b) = (entries[8].clone(), entries[9].clone());
        entries[8] = Entry { seq: a.seq, ..b };
        entries[9] = Entry { seq: b.seq, ..a };
    }
    tampered(f.open(), 9, Problem::HashMismatch);

    // Inserted at the end with a sound hash.
    let f = fixture();
    f.ten();
    {
        let mut entries = f.store.entries_mut();
        let last = entries[9].clone();
        let seq = Seq::new(11);
        let hash = Entry::compute_hash(seq, 0, &last.hash, b"consent_given");
        entries.push(Entry {
            seq,
            at_ms: 0,
            prev: last.hash,
            payload: b"consent_given".to_vec(),
            hash,
            mac: [0; 32],
        });
    }
    tampered(f.open(), 11, Problem::BadMac);

    // Cut below the anchored count: the checkpoint at 8 names entries no longer there.
    let f = fixture();
    f.ten();
    f.store.entries_mut().truncate(6);
    f.store.checkpoints_mut().clear();
    tampered(f.open(), 7, Problem::Truncated);

    // Emptied, store checkpoints and all: the anchor still knows.
    let f = fixture();
    f.ten();
    f.store.entries_mut().clear();
    f.store.checkpoints_mut().clear();
    tampered(f.open(), 1, Problem::Truncated);
}

#[test]
fn an_edit_before_the_checkpoint_passes_open_and_fails_verify_full() {
    let f = fixture();
    f.ten();
    {
        let mut entries = f.store.entries_mut();
        let e = &mut entries[1];
        e.payload = b"forged".to_vec();
        e.hash = Entry::compute_hash(e.seq, e.at_ms, &e.prev, &e.payload);
    }
    let log = f.open().unwrap();
    tampered(log.verify_full(), 2, Problem::BadMac);
    // The auditor without the MAC key sees the chain break at the next entry.
    tampered(
        verify_against_anchor(&*f.store, &log.checkpoint_key(), &*f.anchor),
        3,
        Problem::BrokenLink,
    );
}

#[test]
fn a_log_with_entries_is_not_given_new_keys_when_its_own_are_missing() {
    let f = fixture();
    f.ten();
    let other = tempfile::tempdir().unwrap();
    let empty = KeyDir::new(other.path().join("keys")).unwrap();
    let opened = Log::builder(Arc::clone(&f.store))
        .anchor(Arc::clone(&f.anchor))
        .open(&empty);
    assert!(matches!(
        opened,
        Err(LogError::Key(KeyError::KekMissing {
            purpose: KeyPurpose::AuthenticateLog,
            ..
        }))
    ));
    assert!(
        empty
            .versions(KeyPurpose::AuthenticateLog)
            .unwrap()
            .is_empty()
    );
    assert!(
        empty
            .versions(KeyPurpose::SignCheckpoints)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_forged_or_foreign_checkpoint_is_refused() {
    let f = fixture();
    f.ten();
    {
        let mut checkpoints = f.store.checkpoints_mut();
        let last = checkpoints.last_mut().unwrap();
        last.checkpoint.count = Seq::new(10);
    }
    tampered(f.open(), 10, Problem::BadSignature);
}

#[test]
fn sixteen_threads_get_distinct_dense_positions_on_a_sound_chain() {
    let f = fixture();
    let log = Arc::new(f.open().unwrap());
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..50)
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
    assert_eq!(all, (1..=800).collect::<Vec<_>>());
    assert_eq!(log.verify_full().unwrap().head.unwrap().seq, Seq::new(800));
    let key = log.checkpoint_key();
    let verified = verify_against_anchor(&*f.store, &key, &*f.anchor).unwrap();
    assert!(verified.checkpoint.is_some());
}

/// Fails every write: the appender that led and those queued behind it get the error,
/// and the log stops.
struct Broken;

impl LogStore for Broken {
    fn append(&self, _: &[Entry], _: &[KeyRow]) -> Result<(), LogError> {
        Err(LogError::Store(crate::error::StoreError::Io(
            "disk full".into(),
        )))
    }
    fn keys_tagged(&self, _: &[u8; 32]) -> Result<Vec<KeyRow>, LogError> {
        Ok(Vec::new())
    }
    fn key(&self, _: &Handle) -> Result<Option<KeyRow>, LogError> {
        Ok(None)
    }
    fn read_from(
        &self,
        _: Seq,
        _: &mut dyn FnMut(Entry) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        Ok(())
    }
    fn head(&self) -> Result<Option<Head>, LogError> {
        Ok(None)
    }
    fn put_checkpoint(&self, _: &SignedCheckpoint) -> Result<(), LogError> {
        Ok(())
    }
    fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        Ok(None)
    }
    fn put_snapshot(&self, _: &Snapshot) -> Result<(), LogError> {
        Ok(())
    }
    fn snapshots(&self) -> Result<Vec<Snapshot>, LogError> {
        Ok(Vec::new())
    }
}

#[test]
fn a_failed_write_stops_the_log() {
    let f = fixture();
    let log = Log::builder(Broken).open(&f.keys).unwrap();
    assert!(matches!(log.append(b"a"), Err(LogError::Store(_))));
    assert!(matches!(log.append(b"b"), Err(LogError::Stopped(_))));
    assert_eq!(log.head(), None);
}

/// Counts the batches written and their sizes.
#[derive(Default)]
struct Batches {
    inner: MemoryLogStore,
    sizes: parking_lot::Mutex<Vec<usize>>,
}

impl LogStore for Batches {
    fn append(&self, batch: &[Entry], keys: &[KeyRow]) -> Result<(), LogError> {
        self.sizes.lock().push(batch.len());
        self.inner.append(batch, keys)
    }
    fn keys_tagged(&self, tag: &[u8; 32]) -> Result<Vec<KeyRow>, LogError> {
        self.inner.keys_tagged(tag)
    }
    fn key(&self, handle: &Handle) -> Result<Option<KeyRow>, LogError> {
        self.inner.key(handle)
    }
    fn read_from(
        &self,
        from: Seq,
        visit: &mut dyn FnMut(Entry) -> Result<(), LogError>,
    ) -> Result<(), LogError> {
        self.inner.read_from(from, visit)
    }
    fn head(&self) -> Result<Option<Head>, LogError> {
        self.inner.head()
    }
    fn put_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<(), LogError> {
        self.inner.put_checkpoint(checkpoint)
    }
    fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LogError> {
        self.inner.latest_checkpoint()
    }
    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<(), LogError> {
        self.inner.put_snapshot(snapshot)
    }
    fn snapshots(&self) -> Result<Vec<Snapshot>, LogError> {
        self.inner.snapshots()
    }
}

#[test]
fn submitted_entries_wait_for_the_next_write_and_go_with_it_in_one_batch() {
    let f = fixture();
    let store = Arc::new(Batches::default());
    let log = Log::builder(Arc::clone(&store)).open(&f.keys).unwrap();
    assert_eq!(log.submit(&[b"read", b"read"]).unwrap(), Seq::new(2));
    assert!(log.has_pending());
    assert_eq!(log.head(), None, "nothing is durable before a write");
    assert_eq!(
        log.append_all(&[b"given", b"its audit"]).unwrap(),
        Seq::new(4)
    );
    assert!(!log.has_pending());
    assert_eq!(*store.sizes.lock(), [4], "one batch: all durable, or none");
    log.submit(&[b"read"]).unwrap();
    log.wait_durable(Seq::new(5)).unwrap();
    assert_eq!(*store.sizes.lock(), [4, 1]);
    assert_eq!(log.verify_full().unwrap().head.unwrap().seq, Seq::new(5));
}

#[test]
fn a_write_that_ends_wakes_those_it_made_durable_and_one_to_write_next() {
    let waiting = |seq| Waiting {
        seq,
        parked: Arc::new(Parked {
            thread: std::thread::current(),
            woken: AtomicBool::new(false),
        }),
    };
    let queue = |failed: Option<LogError>| Queue {
        next: 13,
        tail: GENESIS,
        pending: Vec::new(),
        keys: Vec::new(),
        keys_alone: false,
        writing: false,
        durable: 8,
        durable_hash: GENESIS,
        failed,
        waiters: [3, 9, 7, 12, 10].into_iter().map(waiting).collect(),
    };
    let seqs = |queue: &Queue| queue.waiters.iter().map(|w| w.seq).collect::<Vec<_>>();

    let mut ended = queue(None);
    let parked: Vec<_> = ended
        .waiters
        .iter()
        .map(|w| Arc::clone(&w.parked))
        .collect();
    let woken = Log::<MemoryLogStore>::to_wake(&mut ended);
    // 3 and 7 are durable; 9, the first of the others to wait, writes next.
    let is = |i: usize| woken.iter().any(|p| Arc::ptr_eq(p, &parked[i]));
    assert_eq!(
        (0..5).map(is).collect::<Vec<_>>(),
        [true, true, true, false, false]
    );
    assert_eq!(seqs(&ended), [12, 10]);

    let mut failed = queue(Some(LogError::Stopped("disk full".into())));
    assert_eq!(Log::<MemoryLogStore>::to_wake(&mut failed).len(), 5);
    assert_eq!(seqs(&failed), Vec::<u64>::new());
}
