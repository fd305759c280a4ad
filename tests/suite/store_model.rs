//! The SQLite key store and vault against a small model, across restarts: whatever was
//! sealed and kept opens to its value after any number of reopenings; whatever was
//! shredded, alone or with its subject's account, never opens again.

#![cfg(feature = "sqlite")]

use std::collections::HashMap;

use amanat::data::RecordId;
use amanat::store::keys::{KeyStore, SqliteKeyStore};
use amanat::store::seal::{SealError, Sealed};
use amanat::store::vault::{SqliteVault, Vault, VaultEntry, shred};
use amanat::{Purpose, SubjectId};
use chrono::{DateTime, TimeDelta};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// Seal a value for subject `n` and keep it.
    Keep(u8, Vec<u8>),
    /// Destroy the kept record picked by the index.
    Destroy(prop::sample::Index),
    /// Close subject `n`'s account: shred all its keys.
    Close(u8),
    /// Close and reopen both stores.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3_u8, prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(n, v)| Op::Keep(n, v)),
        2 => any::<prop::sample::Index>().prop_map(Op::Destroy),
        1 => (0..3_u8).prop_map(Op::Close),
        1 => Just(Op::Reopen),
    ]
}

fn subject(n: u8) -> SubjectId {
    SubjectId::new(format!("cust-{n}")).unwrap()
}

proptest! {
    // Every operation is a transaction synced to disk: few cases, enough operations.
    #![proptest_config(ProptestConfig { cases: crate::common::cases(24), ..ProptestConfig::default() })]

    #[test]
    fn kept_records_open_and_shredded_ones_never_do_across_reopens(
        ops in prop::collection::vec(op(), 1..30),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (keys_db, key_file, data) = (
            dir.path().join("keys.db"),
            dir.path().join("keys.key"),
            dir.path().join("data.db"),
        );
        let open = || {
            (
                SqliteKeyStore::open(&keys_db, &key_file).unwrap(),
                SqliteVault::open(&data).unwrap(),
            )
        };
        let (mut keys, mut vault) = open();
        // The model: what is kept, and what was destroyed (with a copy of its sealed bytes).
        let mut kept: HashMap<RecordId, (u8, Vec<u8>)> = HashMap::new();
        let mut gone: Vec<Vec<u8>> = Vec::new();
        let start = DateTime::UNIX_EPOCH + TimeDelta::days(20_000);
        for (step, op) in ops.into_iter().enumerate() {
            match op {
                Op::Keep(n, value) => {
                    let record = RecordId::random();
                    let sealed = Sealed::seal(&keys, record, &subject(n), &value).unwrap();
                    let entry = VaultEntry::new(
                        record,
                        subject(n),
                        "identity_document",
                        Purpose::IDENTITY_VERIFICATION,
                        start + TimeDelta::seconds(i64::try_from(step).unwrap()),
                    );
                    vault.put(&entry, &sealed).unwrap();
                    kept.insert(record, (n, value));
                }
                Op::Destroy(pick) => {
                    if kept.is_empty() {
                        continue;
                    }
                    let mut ids: Vec<RecordId> = kept.keys().copied().collect();
                    ids.sort();
                    let record = ids[pick.index(ids.len())];
                    let (_, sealed) = vault.get(record).unwrap().unwrap();
                    let done = shred(&keys, &vault, record).unwrap();
                    prop_assert!(done.key_deleted && done.row_deleted);
                    kept.remove(&record);
                    gone.push(sealed.to_bytes());
                }
                Op::Close(n) => {
                    let theirs: Vec<RecordId> = kept
                        .iter()
                        .filter(|(_, (owner, _))| *owner == n)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in &theirs {
                        let (_, sealed) = vault.get(*id).unwrap().unwrap();
                        gone.push(sealed.to_bytes());
                        kept.remove(id);
                    }
                    prop_assert_eq!(keys.shred_subject(&subject(n)), Ok(theirs.len()));
                }
                Op::Reopen => {
                    drop((keys, vault));
                    (keys, vault) = open();
                }
            }
            for (record, (n, value)) in &kept {
                let (entry, sealed) = vault.get(*record).unwrap().unwrap();
                prop_assert_eq!(&entry.subject, &subject(*n));
                prop_assert_eq!(&*sealed.open(&keys).unwrap(), value.as_slice());
            }
            for bytes in &gone {
                let sealed = Sealed::from_bytes(bytes).unwrap();
                let shredded = matches!(sealed.open(&keys), Err(SealError::Shredded { .. }));
                prop_assert!(shredded);
            }
        }
        for n in 0..3 {
            let mut expected: Vec<RecordId> = kept
                .iter()
                .filter(|(_, (owner, _))| *owner == n)
                .map(|(id, _)| *id)
                .collect();
            let mut listed = vault.records_of(&subject(n)).unwrap();
            expected.sort();
            listed.sort();
            // Closing an account shreds keys; the rows stay until each is removed.
            prop_assert!(expected.iter().all(|id| listed.contains(id)));
        }
    }
}
