//! Sealing at rest and crypto-shredding (issue 7, item 3): each record under its own key,
//! keys apart from the data, destruction that reaches every copy, tampering refused, and
//! damaged or foreign key stores named rather than used.

use amanat::SubjectId;
use amanat::data::RecordId;
use amanat::store::keys::{KeyError, KeyStore, MemoryKeyStore};
use amanat::store::seal::{SealError, Sealed};

const PASSPORT: &[u8] = b"AA0000CANARY";

fn subject(id: &str) -> SubjectId {
    SubjectId::new(id).unwrap()
}

/// The same checks on every key store.
fn seals_opens_refuses_and_shreds(keys: &dyn KeyStore) {
    let alice = subject("cust-alice");
    let bob = subject("cust-bob");
    let record = RecordId::random();
    let sealed = Sealed::seal(keys, record, &alice, PASSPORT).unwrap();
    assert_eq!(&*sealed.open(keys).unwrap(), PASSPORT);
    // A record is sealed once: a second key would make the first value unreadable.
    assert_eq!(
        Sealed::seal(keys, record, &alice, b"again"),
        Err(SealError::Keys(KeyError::Exists { record }))
    );
    assert_eq!(&*sealed.open(keys).unwrap(), PASSPORT);
    let bytes = sealed.to_bytes();
    assert!(
        !bytes.windows(PASSPORT.len()).any(|w| w == PASSPORT),
        "the sealed bytes hold the value"
    );

    // Altered, cut or moved to another record: refused, not decrypted.
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert_eq!(
        Sealed::from_bytes(&flipped).unwrap().open(keys),
        Err(SealError::Tampered { record })
    );
    let cut = &bytes[..bytes.len() - 1];
    assert_eq!(
        Sealed::from_bytes(cut).unwrap().open(keys),
        Err(SealError::Tampered { record })
    );
    let other = RecordId::random();
    let other_sealed = Sealed::seal(keys, other, &alice, b"other").unwrap();
    let mut moved = other_sealed.to_bytes();
    moved[1..17].copy_from_slice(record.as_bytes());
    assert_eq!(
        Sealed::from_bytes(&moved).unwrap().open(keys),
        Err(SealError::Tampered { record })
    );
    assert!(matches!(
        Sealed::from_bytes(&bytes[..10]),
        Err(SealError::Malformed(_))
    ));

    // Destroyed: the copy taken before is as dead as the original.
    assert_eq!(keys.shred(record), Ok(true));
    assert_eq!(keys.shred(record), Ok(false));
    let copy = Sealed::from_bytes(&bytes).unwrap();
    assert_eq!(copy.open(keys), Err(SealError::Shredded { record }));
    assert_eq!(sealed.open(keys), Err(SealError::Shredded { record }));

    // Closing an account shreds all of its records at once, and nobody else's.
    let bobs = Sealed::seal(keys, RecordId::random(), &bob, b"bob's").unwrap();
    let alices: Vec<Sealed> = (0..3)
        .map(|_| Sealed::seal(keys, RecordId::random(), &alice, b"alice's").unwrap())
        .collect();
    assert_eq!(keys.shred_subject(&alice), Ok(4));
    for sealed in &alices {
        assert!(matches!(sealed.open(keys), Err(SealError::Shredded { .. })));
    }
    assert!(matches!(
        other_sealed.open(keys),
        Err(SealError::Shredded { .. })
    ));
    assert_eq!(&*bobs.open(keys).unwrap(), b"bob's");
}

#[test]
fn in_memory_keys_seal_refuse_tampering_and_shred() {
    seals_opens_refuses_and_shreds(&MemoryKeyStore::new());
}

#[test]
fn keys_and_sealed_values_never_print() {
    let keys = MemoryKeyStore::new();
    let sealed = Sealed::seal(&keys, RecordId::random(), &subject("cust-1"), PASSPORT).unwrap();
    let shown = format!(
        "{sealed:?} {keys:?} {:?}",
        keys.get(sealed.record()).unwrap()
    );
    assert!(!shown.contains("CANARY"));
    assert!(shown.contains("[REDACTED]"));
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use amanat::store::keys::SqliteKeyStore;

    #[test]
    fn sqlite_keys_seal_refuse_tampering_and_shred() {
        let dir = tempfile::tempdir().unwrap();
        let keys =
            SqliteKeyStore::open(dir.path().join("keys.db"), dir.path().join("keys.key")).unwrap();
        seals_opens_refuses_and_shreds(&keys);
    }

    #[test]
    fn keys_survive_a_reopen_and_a_shred_leaves_no_trace_in_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key_file) = (dir.path().join("keys.db"), dir.path().join("keys.key"));
        let alice = subject("cust-alice");
        let record = RecordId::random();
        let sealed = {
            let keys = SqliteKeyStore::open(&db, &key_file).unwrap();
            Sealed::seal(&keys, record, &alice, PASSPORT).unwrap()
        };
        let keys = SqliteKeyStore::open(&db, &key_file).unwrap();
        assert_eq!(&*sealed.open(&keys).unwrap(), PASSPORT);

        // What the key store holds for the record, as its own files carry it.
        let files = || -> Vec<u8> {
            let mut all = std::fs::read(&db).unwrap();
            for suffix in ["-wal", "-shm"] {
                let mut name = db.clone().into_os_string();
                name.push(suffix);
                all.extend(std::fs::read(&name).unwrap_or_default());
            }
            all
        };
        let id = record.to_string();
        assert!(
            files().windows(id.len()).any(|w| w == id.as_bytes()),
            "the store names the record before the shred"
        );
        assert_eq!(keys.shred(record), Ok(true));
        assert!(
            !files().windows(id.len()).any(|w| w == id.as_bytes()),
            "the shredded row lingers in the key store's files"
        );
        drop(keys);
        let keys = SqliteKeyStore::open(&db, &key_file).unwrap();
        assert_eq!(sealed.open(&keys), Err(SealError::Shredded { record }));
    }

    /// The key store's files as they are, copied aside as a backup would take them.
    fn backup(db: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for suffix in ["", "-wal"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let from = std::path::PathBuf::from(name);
            if from.exists() {
                let mut target = to.join("keys.db").into_os_string();
                target.push(suffix);
                std::fs::copy(&from, target).unwrap();
            }
        }
    }

    #[test]
    fn rotating_the_store_key_leaves_no_earlier_copy_of_the_key_store_that_opens() {
        let dir = tempfile::tempdir().unwrap();
        let (db, old_key) = (dir.path().join("keys.db"), dir.path().join("keys.key"));
        let keys = SqliteKeyStore::open(&db, &old_key).unwrap();
        let alice = subject("cust-alice");
        let (gone, kept) = (RecordId::random(), RecordId::random());
        let gone_sealed = Sealed::seal(&keys, gone, &alice, PASSPORT).unwrap();
        let kept_sealed = Sealed::seal(&keys, kept, &alice, b"kept").unwrap();
        let copy = dir.path().join("backup");
        backup(&db, &copy);

        // A rotation to a file that exists is refused, and changes nothing.
        std::fs::write(dir.path().join("taken.key"), [1_u8; 32]).unwrap();
        assert!(matches!(
            keys.rotate(dir.path().join("taken.key")),
            Err(KeyError::Io(_))
        ));
        assert_eq!(&*kept_sealed.open(&keys).unwrap(), b"kept");

        let new_key = dir.path().join("keys-2.key");
        keys.rotate(&new_key).unwrap();
        assert!(!old_key.exists(), "the old key file is deleted");
        assert_eq!(&*kept_sealed.open(&keys).unwrap(), b"kept");
        assert_eq!(keys.shred(gone), Ok(true));
        drop(keys);

        // The live store opens with the new key only.
        let keys = SqliteKeyStore::open(&db, &new_key).unwrap();
        assert_eq!(&*kept_sealed.open(&keys).unwrap(), b"kept");
        assert_eq!(
            gone_sealed.open(&keys),
            Err(SealError::Shredded { record: gone })
        );
        // The backup still holds the shredded key, wrapped under a key that no longer
        // exists: the new key does not open it, and the old one is gone.
        assert_eq!(
            SqliteKeyStore::open(copy.join("keys.db"), &new_key).unwrap_err(),
            KeyError::WrongKey
        );
    }

    /// A key file as a careful operator writes one: readable by its owner alone (a looser
    /// one is refused before it is read).
    fn write_key(path: &std::path::Path, bytes: &[u8]) {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path).unwrap().write_all(bytes).unwrap();
    }

    #[test]
    fn a_wrong_key_a_newer_schema_and_a_damaged_file_are_named_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key_file) = (dir.path().join("keys.db"), dir.path().join("keys.key"));
        drop(SqliteKeyStore::open(&db, &key_file).unwrap());

        let other_key = dir.path().join("other.key");
        write_key(&other_key, &[7_u8; 32]);
        assert!(matches!(
            SqliteKeyStore::open(&db, &other_key),
            Err(KeyError::WrongKey)
        ));
        let short_key = dir.path().join("short.key");
        write_key(&short_key, &[7_u8; 31]);
        assert!(matches!(
            SqliteKeyStore::open(&db, &short_key),
            Err(KeyError::Corrupt(_))
        ));

        // A store written by a newer library.
        let newer = dir.path().join("newer.db");
        {
            let conn = rusqlite::Connection::open(&newer).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let before = std::fs::read(&newer).unwrap();
        assert_eq!(
            SqliteKeyStore::open(&newer, &key_file).unwrap_err(),
            KeyError::NewerSchema {
                found: 99,
                supported: 2
            }
        );
        assert_eq!(std::fs::read(&newer).unwrap(), before);

        // Another program's database: refused, not given our tables.
        let foreign = dir.path().join("foreign.db");
        {
            let conn = rusqlite::Connection::open(&foreign).unwrap();
            conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY);")
                .unwrap();
        }
        let before = std::fs::read(&foreign).unwrap();
        assert!(matches!(
            SqliteKeyStore::open(&foreign, &key_file),
            Err(KeyError::Corrupt(_))
        ));
        assert_eq!(std::fs::read(&foreign).unwrap(), before);

        // Not a database at all.
        let garbage = dir.path().join("garbage.db");
        std::fs::write(
            &garbage,
            b"this is not a SQLite database, whatever its name says",
        )
        .unwrap();
        let before = std::fs::read(&garbage).unwrap();
        assert!(matches!(
            SqliteKeyStore::open(&garbage, &key_file),
            Err(KeyError::Corrupt(_))
        ));
        assert_eq!(std::fs::read(&garbage).unwrap(), before);
    }
}
