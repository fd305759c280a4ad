//! The authenticated log on SQLite (issue 16, item 3): what an acknowledged append costs —
//! chained, authenticated, checkpointed every 1000 entries and durable before it returns — from one
//! thread, and from sixteen sharing syncs through group commit; beside the floor, a bare
//! synced SQLite insert of the same payload in its own transaction (WAL,
//! `synchronous = FULL`), measured in the same run on the same disk.
//!
//! Each figure is per append: criterion's time is for one append, and its throughput line
//! gives appends per second.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use amanat::key::KeyDir;
use amanat::log::{FileAnchor, Log};
use amanat::store::SqliteLogStore;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A grant's worth of event: about what the journal keeps for one.
const PAYLOAD: &[u8] = &[0x5a; 160];
const THREADS: u64 = 16;

fn log(c: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let keys = KeyDir::new(root.path().join("keys")).unwrap();
    let anchor = FileAnchor::new(root.path().join("anchor"), &data).unwrap();
    let log = Arc::new(
        Log::builder(SqliteLogStore::open(data.join("log.db")).unwrap())
            .anchor(anchor)
            .open(&keys)
            .unwrap(),
    );

    let bare = rusqlite::Connection::open(data.join("bare.db")).unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.pragma_update(None, "synchronous", "FULL").unwrap();
    bare.execute_batch("CREATE TABLE plain (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, prev BLOB NOT NULL, hash BLOB NOT NULL, mac BLOB NOT NULL, payload BLOB NOT NULL);")
        .unwrap();

    let mut group = c.benchmark_group("log");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bare_sqlite_insert_synced", |b| {
        b.iter(|| {
            bare.execute(
                "INSERT INTO plain (at, prev, hash, mac, payload) VALUES (0, ?1, ?1, ?1, ?2)",
                rusqlite::params![[7_u8; 32], PAYLOAD],
            )
            .unwrap()
        });
    });
    group.bench_function("append_1_thread", |b| {
        b.iter(|| log.append(PAYLOAD).unwrap());
    });
    group.bench_function("append_16_threads", |b| {
        b.iter_custom(|iters| {
            // Sixteen appenders, each its share of the iterations, released together; the
            // time is the wall time until the last returns.
            let per_thread = iters.div_ceil(THREADS);
            let start = Arc::new(Barrier::new(usize::try_from(THREADS).unwrap() + 1));
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (log, start) = (Arc::clone(&log), Arc::clone(&start));
                    std::thread::spawn(move || {
                        start.wait();
                        for _ in 0..per_thread {
                            log.append(PAYLOAD).unwrap();
                        }
                    })
                })
                .collect();
            start.wait();
            let began = Instant::now();
            for handle in handles {
                handle.join().unwrap();
            }
            let elapsed = began.elapsed();
            // Scaled to the iterations asked for: the last thread's share may be rounded up.
            let scaled = elapsed.as_nanos() * u128::from(iters) / u128::from(per_thread * THREADS);
            Duration::from_nanos(u64::try_from(scaled).unwrap())
        });
    });
    group.finish();
    assert!(log.verify_full().is_ok());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1));
    targets = log
}
criterion_main!(benches);
