//! Crypto-shredding (issue 7): a copy of the data file taken before a destruction yields
//! nothing after it — nor does the live file — with the key store as it then is; the
//! record can't be read; what the destruction did says so.

#![cfg(feature = "sqlite")]

use crate::common::{customer, policy_day};
use amanat::data::RecordId;
use amanat::store::keys::{KeyStore, SqliteKeyStore};
use amanat::store::seal::SealError;
use amanat::store::vault::{SqliteVault, StoreError, Vault, VaultEntry, shred};
use amanat::{Purpose, SubjectId};

const PASSPORT: &[u8] = b"AA0000CANARY";

/// The vault's files as they are now, copied aside (a checkpoint first, as a backup tool
/// would take them from a quiet database).
fn backup(from: &std::path::Path, to: &std::path::Path) {
    drop(SqliteVault::open(from).unwrap());
    std::fs::copy(from, to).unwrap();
}

#[test]
fn a_backup_taken_before_a_destruction_opens_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let keys =
        SqliteKeyStore::open(dir.path().join("keys.db"), dir.path().join("keys.key")).unwrap();
    let data = dir.path().join("data.db");
    let vault = SqliteVault::open(&data).unwrap();
    let subject = customer();
    let collected = policy_day();
    let passport = RecordId::random();
    let phone = RecordId::random();
    for (record, category, value) in [
        (passport, "identity_document", PASSPORT),
        (phone, "phone", b"+998901234567".as_slice()),
    ] {
        let sealed = amanat::store::seal::Sealed::seal(&keys, record, &subject, value).unwrap();
        let entry = VaultEntry::new(
            record,
            subject.clone(),
            category,
            Purpose::IDENTITY_VERIFICATION,
            collected,
        );
        vault.put(&entry, &sealed).unwrap();
        assert_eq!(
            vault.put(&entry, &sealed),
            Err(StoreError::Exists { record })
        );
    }
    assert_eq!(vault.records_of(&subject).unwrap().len(), 2);
    // A sealed value filed under another record's entry is refused: shredding that entry
    // would delete the wrong key.
    let stray = amanat::store::seal::Sealed::seal(
        &keys,
        RecordId::random(),
        &SubjectId::new("cust-stray").unwrap(),
        b"x",
    )
    .unwrap();
    let entry = VaultEntry::new(
        RecordId::random(),
        subject.clone(),
        "phone",
        Purpose::IDENTITY_VERIFICATION,
        collected,
    );
    assert!(matches!(
        vault.put(&entry, &stray),
        Err(StoreError::WrongRecord { .. })
    ));
    let (entry, sealed) = vault.get(passport).unwrap().unwrap();
    assert_eq!(entry.category, "identity_document");
    assert_eq!(&*sealed.open(&keys).unwrap(), PASSPORT);
    // Neither file ever holds the value in the clear.
    drop(vault);
    let raw = std::fs::read(&data).unwrap();
    assert!(!raw.windows(PASSPORT.len()).any(|w| w == PASSPORT));

    let copy = dir.path().join("backup.db");
    backup(&data, &copy);

    let vault = SqliteVault::open(&data).unwrap();
    let done = shred(&keys, &vault, passport).unwrap();
    assert!(done.key_deleted && done.row_deleted, "{done:?}");
    assert!(vault.get(passport).unwrap().is_none());

    // The copy still has the ciphertext, and the key store can't open it.
    let old = SqliteVault::open(&copy).unwrap();
    let (_, from_backup) = old.get(passport).unwrap().unwrap();
    assert_eq!(
        from_backup.open(&keys),
        Err(SealError::Shredded { record: passport })
    );
    // The other record, in both, is untouched.
    let (_, phone_now) = vault.get(phone).unwrap().unwrap();
    assert_eq!(&*phone_now.open(&keys).unwrap(), b"+998901234567");

    // Shredding again finds nothing; closing the account reaches the phone in the backup.
    let again = shred(&keys, &vault, passport).unwrap();
    assert!(!again.key_deleted && !again.row_deleted);
    assert_eq!(keys.shred_subject(&subject), Ok(1));
    let (_, phone_then) = old.get(phone).unwrap().unwrap();
    assert!(matches!(
        phone_then.open(&keys),
        Err(SealError::Shredded { .. })
    ));
}

#[test]
fn a_vault_from_a_newer_library_or_a_damaged_file_is_named_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
    }
    let before = std::fs::read(&newer).unwrap();
    assert_eq!(
        SqliteVault::open(&newer).unwrap_err(),
        StoreError::NewerSchema {
            found: 7,
            supported: 1
        }
    );
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    // A real vault, truncated mid-page.
    let data = dir.path().join("data.db");
    drop(SqliteVault::open(&data).unwrap());
    let whole = std::fs::read(&data).unwrap();
    let truncated = dir.path().join("truncated.db");
    std::fs::write(&truncated, &whole[..whole.len() / 2 + 7]).unwrap();
    let before = std::fs::read(&truncated).unwrap();
    assert!(matches!(
        SqliteVault::open(&truncated).and_then(|v| v.records_of(&SubjectId::new("s").unwrap())),
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(std::fs::read(&truncated).unwrap(), before);
}

#[test]
fn a_shred_while_a_reader_holds_the_key_stores_log_says_the_old_bytes_wait() {
    use amanat::store::keys::KeyError;

    let dir = tempfile::tempdir().unwrap();
    let keys_db = dir.path().join("keys.db");
    let keys = SqliteKeyStore::open(&keys_db, dir.path().join("keys.key")).unwrap();
    let subject = customer();
    let record = RecordId::random();
    amanat::store::seal::Sealed::seal(&keys, record, &subject, PASSPORT).unwrap();

    // Another process reading the key store: its snapshot keeps the log from being
    // emptied, so the deleted key's old bytes stay in the log for now.
    let reader = rusqlite::Connection::open(&keys_db).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .unwrap();
    let shredded = keys.shred(record);
    assert!(
        matches!(shredded, Err(KeyError::NotYetErased { record: Some(r) }) if r == record),
        "{shredded:?}"
    );
    // The key is deleted all the same: nothing opens with it.
    assert!(matches!(keys.get(record), Err(KeyError::Shredded { .. })));

    // Once the reader is done, shredding again empties the log.
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    assert!(!keys.shred(record).unwrap());
}
