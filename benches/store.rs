//! Sealing at rest on SQLite: what keeping a passport number sealed under its own key costs
//! over keeping the same bytes in a bare SQLite table, and what opening and shredding cost.
//! Every write is its own transaction, synced as SQLite's write-ahead log does by default.
//!
//! And what rotating the key-encryption key costs per million live data keys
//! (`AMANAT_ROTATION_KEYS`, default 1,000,000): every key unwrapped and wrapped again under a
//! new version in one transaction, beside the floor of the same transaction re-writing the
//! same rows without any cryptography.

use std::hint::black_box;

use amanat::data::RecordId;
use amanat::store::kek::{KeyDir, KeyProvider, KeyPurpose, KeyVersion};
use amanat::store::keys::{DataKey, SqliteKeyStore};
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

/// A key store of `count` live data keys under version 1 of `provider`'s KEK, filled in one
/// transaction (each key wrapped as the store wraps it: XChaCha20-Poly1305, the record id as
/// associated data).
fn key_store_of(path: &std::path::Path, provider: &KeyDir, count: u64) -> SqliteKeyStore {
    use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
    drop(SqliteKeyStore::open_with(path, provider).unwrap());
    let kek = provider
        .key(KeyPurpose::WrapDataKeys, KeyVersion::new(1))
        .unwrap();
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(kek.expose().into());
    let mut db = rusqlite::Connection::open(path).unwrap();
    let tx = db.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO data_keys (record, subject, nonce, wrapped) VALUES (?1, ?2, ?3, ?4)",
            )
            .unwrap();
        for n in 0..count {
            let record = RecordId::random().to_string();
            let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
            let key = DataKey::random();
            let wrapped = cipher
                .encrypt(
                    &nonce,
                    Payload {
                        msg: &key.expose()[..],
                        aad: record.as_bytes(),
                    },
                )
                .unwrap();
            insert
                .execute(rusqlite::params![
                    record,
                    format!("cust-{n}"),
                    nonce.as_slice(),
                    wrapped
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    drop(db);
    SqliteKeyStore::open_with(path, provider).unwrap()
}

fn rotation(c: &mut Criterion) {
    let count: u64 = std::env::var("AMANAT_ROTATION_KEYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let provider = KeyDir::new(dir.path().join("keys")).unwrap();
    let path = dir.path().join("keys.db");
    let keys = key_store_of(&path, &provider, count);
    let floor = rusqlite::Connection::open(&path).unwrap();
    // As the key store writes: overwritten rows zeroed.
    floor.pragma_update(None, "secure_delete", "ON").unwrap();

    let mut group = c.benchmark_group(format!("rotation_{count}_keys"));
    group.sample_size(10);
    group.sampling_mode(criterion::SamplingMode::Flat);
    group.bench_function("rewrite_rows_without_crypto", |b| {
        b.iter(|| {
            let tx = floor.unchecked_transaction().unwrap();
            {
                let mut rows = tx
                    .prepare("SELECT record, nonce, wrapped FROM data_keys")
                    .unwrap();
                let rows: Vec<(String, Vec<u8>, Vec<u8>)> = rows
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let mut update = tx
                    .prepare("UPDATE data_keys SET nonce = ?1, wrapped = ?2 WHERE record = ?3")
                    .unwrap();
                for (record, nonce, wrapped) in rows {
                    update
                        .execute(rusqlite::params![nonce, wrapped, record])
                        .unwrap();
                }
                tx.execute("UPDATE meta SET rotated_at = rotated_at", [])
                    .unwrap();
            }
            tx.commit().unwrap();
        });
    });
    group.bench_function("rotate_kek", |b| {
        b.iter(|| keys.rotate_with(&provider, 0).unwrap());
    });
    group.finish();
}

criterion_group!(benches, store, rotation);
criterion_main!(benches);
