//! Sealing at rest on SQLite: what keeping a passport number sealed under its own key costs
//! over keeping the same bytes in a bare SQLite table, and what opening and shredding cost.
//! Every write is its own transaction, synced as SQLite's write-ahead log does by default.

use std::hint::black_box;

use amanat::data::RecordId;
use amanat::store::keys::SqliteKeyStore;
use amanat::store::seal::Sealed;
use amanat::store::vault::{SqliteVault, Vault, VaultEntry, shred};
use amanat::{Purpose, SubjectId};
use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn store(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let keys =
        SqliteKeyStore::open(dir.path().join("keys.db"), dir.path().join("keys.key")).unwrap();
    let vault = SqliteVault::open(dir.path().join("data.db")).unwrap();
    let bare = rusqlite::Connection::open(dir.path().join("bare.db")).unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.execute_batch("CREATE TABLE plain (record BLOB PRIMARY KEY, value BLOB NOT NULL);")
        .unwrap();
    let subject = SubjectId::new("cust-000123").unwrap();
    let passport = b"AA1234567".as_slice();
    let now = Utc::now();
    let keep = |record: RecordId| {
        let sealed = Sealed::seal(&keys, record, &subject, passport).unwrap();
        let entry = VaultEntry::new(
            record,
            subject.clone(),
            "identity_document",
            Purpose::IDENTITY_VERIFICATION,
            now,
        );
        vault.put(&entry, &sealed).unwrap();
    };

    let mut group = c.benchmark_group("store");
    group.bench_function("bare_sqlite_insert", |b| {
        b.iter(|| {
            bare.execute(
                "INSERT INTO plain (record, value) VALUES (?1, ?2)",
                rusqlite::params![RecordId::random().as_bytes().as_slice(), passport],
            )
            .unwrap()
        });
    });
    group.bench_function("seal_and_keep", |b| {
        b.iter(|| keep(black_box(RecordId::random())));
    });
    let kept = RecordId::random();
    keep(kept);
    group.bench_function("get_and_open", |b| {
        b.iter(|| {
            let (_, sealed) = vault.get(black_box(kept)).unwrap().unwrap();
            black_box(sealed.open(&keys).unwrap().len())
        });
    });
    group.bench_function("shred_key_and_row", |b| {
        b.iter_batched(
            || {
                let record = RecordId::random();
                keep(record);
                record
            },
            |record| shred(&keys, &vault, record).unwrap(),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
