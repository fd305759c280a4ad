//! Key stores: where the data keys of sealed records live, apart from the data.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use chacha20poly1305::aead::{KeyInit, OsRng, rand_core::RngCore};
use zeroize::Zeroizing;

use crate::data::RecordId;
use crate::vocab::SubjectId;

pub use crate::key::KeyError;

/// A record's data key: 256 random bits on the heap — moving the key moves a pointer,
/// not a copy of the bits — zeroized when dropped, never printed.
pub struct DataKey(Box<Zeroizing<[u8; 32]>>);

impl DataKey {
    /// A fresh key from the operating system's random source.
    pub fn random() -> Self {
        let mut key = Self::zeroed();
        let bytes: &mut [u8; 32] = &mut key.0;
        OsRng.fill_bytes(bytes);
        key
    }

    fn zeroed() -> Self {
        Self(Box::new(Zeroizing::new([0; 32])))
    }

    /// A key copied from `bytes`, as a key store that keeps keys reads one back; `None`
    /// unless it is 32 bytes. The caller zeroizes its own copy.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 32 {
            return None;
        }
        let mut key = Self::zeroed();
        let into: &mut [u8; 32] = &mut key.0;
        into.copy_from_slice(bytes);
        Some(key)
    }

    /// The key's bytes, for the cipher and for a store that keeps them.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The AEAD keyed with this key.
    pub(crate) fn cipher(&self) -> chacha20poly1305::XChaCha20Poly1305 {
        let bytes: &[u8; 32] = &self.0;
        chacha20poly1305::XChaCha20Poly1305::new(bytes.into())
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

/// Where data keys live: apart from the data they open. Implement it for a KMS or an HSM;
/// [`MemoryKeyStore`] and, with the `sqlite` feature, [`SqliteKeyStore`] come with the
/// library.
///
/// A shred must not be undoable from what the store keeps afterwards: that is what makes a
/// copy of the data unreadable.
pub trait KeyStore: Send + Sync {
    /// Makes a fresh data key for `record` of `subject`, keeps it, and returns it.
    ///
    /// # Errors
    ///
    /// [`KeyError::Exists`] if the record has a key already (it is kept as it was); others
    /// if it can't be kept. No key is returned then.
    fn create(&self, record: RecordId, subject: &SubjectId) -> Result<DataKey, KeyError>;

    /// The data key of `record`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Shredded`] if there is none; others if the store can't be read.
    fn get(&self, record: RecordId) -> Result<DataKey, KeyError>;

    /// Deletes the data key of `record`, and says whether there was one.
    ///
    /// # Errors
    ///
    /// [`KeyError::NotYetErased`] if the key is deleted but its old bytes could not be
    /// erased yet (call again later to finish); others if the store can't be written,
    /// and the key is then still there.
    fn shred(&self, record: RecordId) -> Result<bool, KeyError>;

    /// Deletes every data key of `subject` at once (the account is closed), and says how
    /// many there were.
    ///
    /// # Errors
    ///
    /// [`KeyError::NotYetErased`] as for [`shred`](Self::shred); others if the store can't
    /// be written, and no key is deleted then.
    fn shred_subject(&self, subject: &SubjectId) -> Result<usize, KeyError>;
}

/// Data keys in memory: for tests, and for data that is itself kept only in memory.
#[derive(Default)]
pub struct MemoryKeyStore {
    keys: Mutex<HashMap<RecordId, (SubjectId, DataKey)>>,
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<RecordId, (SubjectId, DataKey)>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryKeyStore")
            .field("keys", &self.keys().len())
            .finish()
    }
}

impl KeyStore for MemoryKeyStore {
    fn create(&self, record: RecordId, subject: &SubjectId) -> Result<DataKey, KeyError> {
        let mut keys = self.keys();
        if keys.contains_key(&record) {
            return Err(KeyError::Exists { record });
        }
        let key = DataKey::random();
        let kept = DataKey::from_slice(&key.expose()[..]).ok_or(KeyError::Exists { record })?;
        keys.insert(record, (subject.clone(), kept));
        Ok(key)
    }

    fn get(&self, record: RecordId) -> Result<DataKey, KeyError> {
        self.keys()
            .get(&record)
            .and_then(|(_, key)| DataKey::from_slice(&key.expose()[..]))
            .ok_or(KeyError::Shredded { record })
    }

    fn shred(&self, record: RecordId) -> Result<bool, KeyError> {
        Ok(self.keys().remove(&record).is_some())
    }

    fn shred_subject(&self, subject: &SubjectId) -> Result<usize, KeyError> {
        let mut keys = self.keys();
        let before = keys.len();
        keys.retain(|_, (whose, _)| whose != subject);
        Ok(before - keys.len())
    }
}

#[cfg(feature = "sqlite")]
pub use sqlite::{RotationStep, SqliteKeyStore};

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::fmt;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, PoisonError};

    use chacha20poly1305::XNonce;
    use chacha20poly1305::aead::{Aead, AeadCore, OsRng, Payload};
    use rusqlite::{Connection, OptionalExtension, params};
    use zeroize::Zeroizing;

    use super::{DataKey, KeyError, KeyStore};
    use crate::data::RecordId;
    use crate::key::{Kek, KeyProvider, KeyPurpose, KeyVersion};
    use crate::store::sqlite::Opening;
    use crate::vocab::SubjectId;

    /// The schema, one migration per version.
    const MIGRATIONS: &[&str] = &[
        "CREATE TABLE data_keys (
             record  TEXT PRIMARY KEY,
             subject TEXT NOT NULL,
             nonce   BLOB NOT NULL,
             wrapped BLOB NOT NULL
         );
         CREATE INDEX data_keys_subject ON data_keys (subject);
         CREATE TABLE meta (check_nonce BLOB NOT NULL, check_sealed BLOB NOT NULL);",
        // The version of the provider's key that wraps the keys (a store of 0.1 was wrapped
        // by its one key file: version 1), and when it was last rotated (Unix seconds).
        "ALTER TABLE meta ADD COLUMN kek_version INTEGER NOT NULL DEFAULT 1;
         ALTER TABLE meta ADD COLUMN rotated_at INTEGER;",
    ];
    /// What the store's key must decrypt for the key to be the right one.
    const CHECK: &[u8] = b"amanat key store";

    /// Data keys in a SQLite file of their own, each wrapped (XChaCha20-Poly1305, the
    /// record id as associated data) by the store's key, kept in a second file.
    ///
    /// A shred deletes the row with SQLite's `secure_delete` on and checkpoints the
    /// write-ahead log, so the wrapped key is overwritten in the database and emptied from
    /// the log ([`KeyError::NotYetErased`] when a reader holds the log). Keep both files
    /// apart from the data they open, on another volume.
    ///
    /// What shredding alone can't reach: a copy of *this* store taken before a shred opens
    /// the shredded key again with the same key file. [`rotate`](Self::rotate) the store's
    /// key as often as your erasure deadline requires: it re-wraps every live key under a
    /// new key file and deletes the old one, after which no earlier copy of the store opens
    /// anything. Or give the store's key to a KMS by implementing [`KeyStore`] yourself.
    pub struct SqliteKeyStore {
        inner: Mutex<Inner>,
        path: PathBuf,
    }

    /// The connection and the store's key, changed together by a rotation.
    struct Inner {
        db: Connection,
        master: DataKey,
        /// The key file of a store opened with [`SqliteKeyStore::open`]; `None` under a
        /// provider.
        key_file: Option<PathBuf>,
        /// The provider's version of `master`; `None` under a key file.
        version: Option<KeyVersion>,
    }

    /// What the store's key-encryption key is for, at the provider.
    const PURPOSE: KeyPurpose = KeyPurpose::WrapDataKeys;

    /// How far a rotation goes before it stops: the steps a crash can fall between.
    #[doc(hidden)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub enum RotationStep {
        /// The provider made the new version; the store is still wrapped under the old.
        NewVersionMade,
        /// The store is re-wrapped under the new version; the old one is not destroyed.
        Rewrapped,
        /// The old version is destroyed: the rotation is done.
        OldDestroyed,
    }

    impl fmt::Debug for SqliteKeyStore {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SqliteKeyStore")
                .field("path", &self.path)
                .finish_non_exhaustive()
        }
    }

    fn corrupt(e: &rusqlite::Error) -> KeyError {
        if crate::store::sqlite::is_corrupt(e) {
            KeyError::Corrupt(e.to_string())
        } else {
            KeyError::Io(e.to_string())
        }
    }

    impl From<Opening> for KeyError {
        fn from(opening: Opening) -> Self {
            match opening {
                Opening::Newer { found, supported } => KeyError::NewerSchema { found, supported },
                Opening::Corrupt(why) => KeyError::Corrupt(why),
                Opening::Io(why) => KeyError::Io(why),
            }
        }
    }

    impl SqliteKeyStore {
        /// Opens the key store at `path`, with the store's key in `key_file`; both are
        /// created when neither exists.
        ///
        /// # Errors
        ///
        /// [`KeyError::WrongKey`] if `key_file` is not the key the store was made with;
        /// [`KeyError::NewerSchema`] if a newer library wrote it; [`KeyError::Corrupt`] if a
        /// file is damaged (nothing is written then); [`KeyError::Io`] otherwise.
        pub fn open(path: impl AsRef<Path>, key_file: impl AsRef<Path>) -> Result<Self, KeyError> {
            let path = path.as_ref().to_path_buf();
            let key_file = key_file.as_ref();
            let fresh = !path.exists();
            let master = if fresh && !key_file.exists() {
                write_key_file(key_file)?
            } else {
                read_key_file(key_file)?
            };
            let db = crate::store::sqlite::open(&path, MIGRATIONS)?;
            let store = Self {
                inner: Mutex::new(Inner {
                    db,
                    master,
                    key_file: Some(key_file.to_path_buf()),
                    version: None,
                }),
                path,
            };
            store.check_key()?;
            Ok(store)
        }

        /// Opens the key store at `path` (created if missing) under the key `provider`
        /// gives for [`KeyPurpose::WrapDataKeys`]: the version the store records, or for a
        /// new store the provider's newest (made if it has none).
        ///
        /// A rotation a crash interrupted is settled first, once the recorded version has
        /// opened the store: where the provider can destroy, every other version of the
        /// purpose is destroyed — a newer one wrapped nothing that was committed (rolled
        /// back), an older one is what the rotation was to destroy (finished).
        ///
        /// # Errors
        ///
        /// [`KeyError::KekMissing`] if the provider no longer has the version the store was
        /// wrapped under (a copy of the store from before a rotation);
        /// [`KeyError::WrongKey`] if its key does not open the store; the provider's own
        /// errors ([`KeyError::ReadableByOthers`] among them); as [`open`](Self::open)
        /// otherwise. Nothing is written to the store or the provider then.
        pub fn open_with(
            path: impl AsRef<Path>,
            provider: &dyn KeyProvider,
        ) -> Result<Self, KeyError> {
            let store = Self::open_unsettled(path, provider)?;
            store.settle(provider)?;
            Ok(store)
        }

        /// [`open_with`](Self::open_with), leaving an interrupted rotation as it is: an
        /// operator settles it with [`settle`](Self::settle) once its log has been read
        /// and checked, so that an open refused for tampering destroys no key version a
        /// backup may still need.
        ///
        /// # Errors
        ///
        /// As [`open_with`](Self::open_with).
        pub(crate) fn open_unsettled(
            path: impl AsRef<Path>,
            provider: &dyn KeyProvider,
        ) -> Result<Self, KeyError> {
            let path = path.as_ref().to_path_buf();
            let db = crate::store::sqlite::open(&path, MIGRATIONS)?;
            let recorded: Option<i64> = db
                .query_row("SELECT kek_version FROM meta", [], |row| row.get(0))
                .optional()
                .map_err(|e| corrupt(&e))?;
            let version =
                match recorded {
                    Some(n) => KeyVersion::new(u32::try_from(n).map_err(|_| {
                        KeyError::Corrupt(format!("key-encryption key version {n}"))
                    })?),
                    None => match provider.versions(PURPOSE)?.last() {
                        Some(newest) => *newest,
                        None => provider.create(PURPOSE)?,
                    },
                };
            let kek = provider.key(PURPOSE, version)?;
            let store = Self {
                inner: Mutex::new(Inner {
                    db,
                    master: data_key(&kek)?,
                    key_file: None,
                    version: Some(version),
                }),
                path,
            };
            store.check_key()?;
            Ok(store)
        }

        /// Settles a rotation a crash interrupted: destroys, where the provider can, every
        /// version of the key-encryption key but the one the store is wrapped under.
        ///
        /// # Errors
        ///
        /// The provider's error if a version can't be listed or destroyed.
        pub(crate) fn settle(&self, provider: &dyn KeyProvider) -> Result<(), KeyError> {
            let Some(version) = self.kek_version() else {
                return Ok(());
            };
            if provider.capabilities().destroy {
                for other in provider.versions(PURPOSE)? {
                    if other != version {
                        provider.destroy(PURPOSE, other)?;
                    }
                }
            }
            Ok(())
        }

        /// The provider's version of the key that wraps the store's keys; `None` for a
        /// store opened with a key file.
        pub fn kek_version(&self) -> Option<KeyVersion> {
            self.inner().version
        }

        /// When the store's key was last rotated under a provider (Unix seconds), if ever
        /// noted.
        ///
        /// # Errors
        ///
        /// [`KeyError::Io`] or [`KeyError::Corrupt`] if the store can't be read.
        pub fn rotated_at(&self) -> Result<Option<i64>, KeyError> {
            self.inner()
                .db
                .query_row("SELECT rotated_at FROM meta", [], |row| row.get(0))
                .optional()
                .map(Option::flatten)
                .map_err(|e| corrupt(&e))
        }

        /// Notes `at` (Unix seconds) as the time of the last rotation.
        pub(crate) fn note_rotated(&self, at: i64) -> Result<(), KeyError> {
            self.inner()
                .db
                .execute("UPDATE meta SET rotated_at = ?1", params![at])
                .map(drop)
                .map_err(|e| corrupt(&e))
        }

        /// Rotates the key that wraps the store's keys under `provider`: has it make a new
        /// version, re-wraps every live data key under that version in one transaction
        /// that also records the version and `at` (Unix seconds), then has the provider
        /// destroy the old version. After that no copy of the store taken before opens
        /// anything, whoever holds the provider.
        ///
        /// A crash between the steps is settled at the next [`open_with`](Self::open_with).
        ///
        /// # Errors
        ///
        /// [`KeyError::Unsupported`] if the provider can't both rotate and destroy (nothing
        /// is done); the provider's errors; as [`rotate`](Self::rotate) for the store. If
        /// the re-wrap fails the new version is destroyed and the store keeps the old.
        pub fn rotate_with(&self, provider: &dyn KeyProvider, at: i64) -> Result<(), KeyError> {
            self.rotate_until(provider, at, RotationStep::OldDestroyed)
        }

        /// [`rotate_with`](Self::rotate_with), stopping after `last`: the state a crash
        /// there leaves, for tests.
        #[doc(hidden)]
        pub fn rotate_until(
            &self,
            provider: &dyn KeyProvider,
            at: i64,
            last: RotationStep,
        ) -> Result<(), KeyError> {
            let capabilities = provider.capabilities();
            if !(capabilities.rotate && capabilities.destroy) {
                return Err(KeyError::Unsupported {
                    what: "rotate and destroy",
                });
            }
            let mut inner = self.inner();
            let Some(old) = inner.version else {
                return Err(KeyError::Unsupported {
                    what: "rotate a store opened with a key file",
                });
            };
            let version = provider.create(PURPOSE)?;
            if last == RotationStep::NewVersionMade {
                return Ok(());
            }
            let fresh = match provider
                .key(PURPOSE, version)
                .and_then(|kek| data_key(&kek))
            {
                Ok(fresh) => fresh,
                Err(failed) => {
                    let _ = provider.destroy(PURPOSE, version);
                    return Err(failed);
                }
            };
            let Inner { db, master, .. } = &mut *inner;
            if let Err(failed) = rewrap(db, master, &fresh, Some((version, at))) {
                let _ = provider.destroy(PURPOSE, version);
                return Err(failed);
            }
            let _ = Self::checkpoint(db);
            inner.master = fresh;
            inner.version = Some(version);
            if last == RotationStep::Rewrapped {
                return Ok(());
            }
            provider.destroy(PURPOSE, old)
        }

        fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
            self.inner.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// Replaces the store's key: writes a new key file at `new_key_file`, re-wraps every
        /// live data key under it in one transaction, then deletes the old key file. From
        /// then on the store opens only with the new file, and no copy of the store taken
        /// before — with the keys shredded since — can be opened by anyone.
        ///
        /// # Errors
        ///
        /// [`KeyError::Io`] if the new key file can't be written (one that exists is never
        /// replaced) or the store can't be written — the store keeps its old key then, and
        /// a new key file written is removed; [`KeyError::Corrupt`] if a live key can't be
        /// unwrapped. If only removing the old key file fails, the rotation is done and the
        /// error says to remove that file by hand.
        pub fn rotate(&self, new_key_file: impl AsRef<Path>) -> Result<(), KeyError> {
            let new_key_file = new_key_file.as_ref();
            let mut inner = self.inner();
            let Some(old) = inner.key_file.clone() else {
                return Err(KeyError::Unsupported {
                    what: "rotate a key file of a store opened under a key provider",
                });
            };
            let fresh = write_key_file(new_key_file)?;
            let Inner { db, master, .. } = &mut *inner;
            if let Err(failed) = rewrap(db, master, &fresh, None) {
                let _ = std::fs::remove_file(new_key_file);
                return Err(failed);
            }
            // The old wrapped keys go from the log too; if a reader holds it they stay there
            // a while, under a key about to be deleted.
            let _ = Self::checkpoint(db);
            inner.key_file = Some(new_key_file.to_path_buf());
            inner.master = fresh;
            remove_key_file(&old).map_err(|e| {
                KeyError::Io(format!(
                    "rotated, but the old key file {} could not be removed ({e}): remove it",
                    old.display()
                ))
            })
        }

        /// Checks the store's key against what the store was made with — or, on a new
        /// store, records what it must open from now on.
        fn check_key(&self) -> Result<(), KeyError> {
            let inner = self.inner();
            let (db, master) = (&inner.db, &inner.master);
            let version = i64::from(inner.version.map_or(1, KeyVersion::get));
            let check: Option<(Vec<u8>, Vec<u8>)> = db
                .query_row("SELECT check_nonce, check_sealed FROM meta", [], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
                .map_err(|e| corrupt(&e))?;
            let Some((nonce, sealed)) = check else {
                // Only a store that never held a key may take the key it is given.
                let keys: i64 = db
                    .query_row("SELECT count(*) FROM data_keys", [], |row| row.get(0))
                    .map_err(|e| corrupt(&e))?;
                if keys > 0 {
                    return Err(KeyError::Corrupt(
                        "keys without the check of the key that wrapped them".into(),
                    ));
                }
                let (nonce, sealed) = wrap(master, b"check", CHECK)?;
                db.execute(
                    "INSERT INTO meta (check_nonce, check_sealed, kek_version) VALUES (?1, ?2, ?3)",
                    params![nonce.as_slice(), sealed, version],
                )
                .map_err(|e| corrupt(&e))?;
                return Ok(());
            };
            match unwrap(master, b"check", &nonce, &sealed) {
                Ok(opened) if opened.as_slice() == CHECK => Ok(()),
                Err(damaged @ KeyError::Corrupt(_)) => Err(damaged),
                _ => Err(KeyError::WrongKey),
            }
        }

        /// Pushes the write-ahead log into the database and empties it, so a deleted key
        /// lives on in neither; says whether it could (a reader may hold the log).
        fn checkpoint(db: &Connection) -> Result<bool, KeyError> {
            let (busy, log, done): (i64, i64, i64) = db
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .map_err(|e| corrupt(&e))?;
            Ok(busy == 0 && log == done)
        }
    }

    /// Writes a fresh key file whole or not at all: a temporary file of its own (0600,
    /// never an existing file or link), synced, renamed into place, the directory synced.
    fn write_key_file(path: &Path) -> Result<DataKey, KeyError> {
        let key = DataKey::random();
        crate::files::write_key(path, &key.expose()[..])
            .map_err(|e| KeyError::Io(e.to_string()))?;
        Ok(key)
    }

    /// Re-wraps every data key and the key check from `old` to `new` in one transaction.
    fn rewrap(
        db: &mut Connection,
        old: &DataKey,
        new: &DataKey,
        version: Option<(KeyVersion, i64)>,
    ) -> Result<(), KeyError> {
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| corrupt(&e))?;
        let rows: Vec<(String, Vec<u8>, Vec<u8>)> = {
            let mut query = tx
                .prepare("SELECT record, nonce, wrapped FROM data_keys")
                .map_err(|e| corrupt(&e))?;
            query
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .map_err(|e| corrupt(&e))?
                .collect::<Result<_, _>>()
                .map_err(|e| corrupt(&e))?
        };
        {
            // Prepared once: parsing the statement again for each key costs more than the
            // cryptography.
            let mut update = tx
                .prepare("UPDATE data_keys SET nonce = ?1, wrapped = ?2 WHERE record = ?3")
                .map_err(|e| corrupt(&e))?;
            for (record, nonce, wrapped) in rows {
                let key = unwrap(old, record.as_bytes(), &nonce, &wrapped)
                    .map_err(|_| KeyError::Corrupt(format!("the data key of record {record}")))?;
                let (nonce, wrapped) = wrap(new, record.as_bytes(), &key)?;
                update
                    .execute(params![nonce.as_slice(), wrapped, record])
                    .map_err(|e| corrupt(&e))?;
            }
        }
        let (nonce, sealed) = wrap(new, b"check", CHECK)?;
        tx.execute(
            "UPDATE meta SET check_nonce = ?1, check_sealed = ?2",
            params![nonce.as_slice(), sealed],
        )
        .map_err(|e| corrupt(&e))?;
        if let Some((version, at)) = version {
            tx.execute(
                "UPDATE meta SET kek_version = ?1, rotated_at = ?2",
                params![i64::from(version.get()), at],
            )
            .map_err(|e| corrupt(&e))?;
        }
        tx.commit().map_err(|e| corrupt(&e))
    }

    /// The KEK as the cipher key it is used as.
    fn data_key(kek: &Kek) -> Result<DataKey, KeyError> {
        DataKey::from_slice(&kek.expose()[..])
            .ok_or_else(|| KeyError::Corrupt("key-encryption key size".into()))
    }

    /// Deletes a key file and makes the deletion durable.
    fn remove_key_file(path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    fn read_key_file(path: &Path) -> Result<DataKey, KeyError> {
        // A key others can read is a key others may have copied: refuse it rather than
        // use it, and say which file to fix.
        if let Some(mode) = crate::files::loose_bits(path) {
            return Err(KeyError::ReadableByOthers {
                file: path.to_path_buf(),
                mode,
            });
        }
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::Io(e.to_string()))?);
        DataKey::from_slice(&bytes).ok_or_else(|| {
            KeyError::Corrupt(format!("key file holds {} bytes, not 32", bytes.len()))
        })
    }

    fn wrap(key: &DataKey, aad: &[u8], plain: &[u8]) -> Result<(XNonce, Vec<u8>), KeyError> {
        let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = key
            .cipher()
            .encrypt(&nonce, Payload { msg: plain, aad })
            .map_err(|_| KeyError::Io("sealing failed".into()))?;
        Ok((nonce, sealed))
    }

    fn unwrap(
        key: &DataKey,
        aad: &[u8],
        nonce: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if nonce.len() != 24 {
            return Err(KeyError::Corrupt("a nonce is not 24 bytes".into()));
        }
        key.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map(Zeroizing::new)
            .map_err(|_| KeyError::WrongKey)
    }

    impl KeyStore for SqliteKeyStore {
        fn create(&self, record: RecordId, subject: &SubjectId) -> Result<DataKey, KeyError> {
            let key = DataKey::random();
            let id = record.to_string();
            let inner = self.inner();
            let (nonce, wrapped) = wrap(&inner.master, id.as_bytes(), &key.expose()[..])?;
            let inserted = inner
                .db
                .execute(
                    "INSERT OR IGNORE INTO data_keys (record, subject, nonce, wrapped)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, subject.as_str(), nonce.as_slice(), wrapped],
                )
                .map_err(|e| corrupt(&e))?;
            if inserted == 0 {
                return Err(KeyError::Exists { record });
            }
            Ok(key)
        }

        fn get(&self, record: RecordId) -> Result<DataKey, KeyError> {
            let id = record.to_string();
            let inner = self.inner();
            let row: Option<(Vec<u8>, Vec<u8>)> = inner
                .db
                .query_row(
                    "SELECT nonce, wrapped FROM data_keys WHERE record = ?1",
                    params![id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(|e| corrupt(&e))?;
            let (nonce, wrapped) = row.ok_or(KeyError::Shredded { record })?;
            // The store's key passed its check at open: a row it can't open was damaged.
            let damaged = || KeyError::Corrupt(format!("the data key of record {record}"));
            let bytes =
                unwrap(&inner.master, id.as_bytes(), &nonce, &wrapped).map_err(|_| damaged())?;
            DataKey::from_slice(&bytes).ok_or_else(damaged)
        }

        fn shred(&self, record: RecordId) -> Result<bool, KeyError> {
            let inner = self.inner();
            let db = &inner.db;
            let deleted = db
                .execute(
                    "DELETE FROM data_keys WHERE record = ?1",
                    params![record.to_string()],
                )
                .map_err(|e| corrupt(&e))?;
            if !Self::checkpoint(db)? {
                return Err(KeyError::NotYetErased {
                    record: Some(record),
                });
            }
            Ok(deleted > 0)
        }

        fn shred_subject(&self, subject: &SubjectId) -> Result<usize, KeyError> {
            let inner = self.inner();
            let db = &inner.db;
            let deleted = db
                .execute(
                    "DELETE FROM data_keys WHERE subject = ?1",
                    params![subject.as_str()],
                )
                .map_err(|e| corrupt(&e))?;
            if !Self::checkpoint(db)? {
                return Err(KeyError::NotYetErased { record: None });
            }
            Ok(deleted)
        }
    }
}
