//! Key-encryption keys (KEKs): the keys that wrap the data keys in the key store, and where
//! the operator gets them — a [`KeyProvider`], never the data directory.
//!
//! A KEK kept beside the data it protects protects nothing: a copy of the directory taken
//! before a record was shredded would open it again afterwards. So the operator asks a
//! provider for its KEKs, and refuses a key directory inside its data directory.
//!
//! KEKs are separate per [`KeyPurpose`] and numbered by [`KeyVersion`]: rotating the key that
//! wraps data keys makes a new version of that purpose only, so it never orphans the keys of
//! another purpose. A provider declares its [`Capabilities`]: whether it can make a new
//! version (rotate) and destroy an old one irrecoverably. Only where it can do both does the
//! operator rotate (`OperatorBuilder::rotate_keys_every`, with the `sqlite` feature),
//! and only then does a copy of the key store taken before a rotation open nothing after it.
//!
//! - [`KeyDir`]: key files in a directory of their own (0700, files 0600), one per purpose
//!   and version; rotates and destroys.
//! - [`EnvKey`]: one KEK from an environment variable; neither rotates nor destroys.
//! - Your KMS or HSM: implement [`KeyProvider`]. In memory, as a sketch:
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Mutex;
//! use amanat::store::kek::{Capabilities, Kek, KeyProvider, KeyPurpose, KeyVersion};
//! use amanat::store::keys::KeyError;
//!
//! /// Stands in for a KMS: it makes, hands out and destroys keys it never lets go of.
//! #[derive(Default)]
//! struct Kms(Mutex<BTreeMap<(KeyPurpose, KeyVersion), Kek>>);
//!
//! impl KeyProvider for Kms {
//!     fn capabilities(&self) -> Capabilities {
//!         Capabilities { rotate: true, destroy: true }
//!     }
//!     fn versions(&self, purpose: KeyPurpose) -> Result<Vec<KeyVersion>, KeyError> {
//!         let keys = self.0.lock().unwrap();
//!         Ok(keys.keys().filter(|(p, _)| *p == purpose).map(|(_, v)| *v).collect())
//!     }
//!     fn key(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<Kek, KeyError> {
//!         let keys = self.0.lock().unwrap();
//!         let kek = keys.get(&(purpose, version)).ok_or(KeyError::KekMissing { purpose, version })?;
//!         Ok(Kek::from_slice(kek.expose()).expect("32 bytes"))
//!     }
//!     fn create(&self, purpose: KeyPurpose) -> Result<KeyVersion, KeyError> {
//!         let mut keys = self.0.lock().unwrap();
//!         let last = keys.keys().filter(|(p, _)| *p == purpose).map(|(_, v)| v.get()).max();
//!         let version = KeyVersion::new(last.unwrap_or(0) + 1);
//!         keys.insert((purpose, version), Kek::random());
//!         Ok(version)
//!     }
//!     fn destroy(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<(), KeyError> {
//!         self.0.lock().unwrap().remove(&(purpose, version));
//!         Ok(())
//!     }
//! }
//!
//! let kms = Kms::default();
//! let first = kms.create(KeyPurpose::WrapDataKeys)?;
//! let second = kms.create(KeyPurpose::WrapDataKeys)?;
//! kms.destroy(KeyPurpose::WrapDataKeys, first)?;
//! assert_eq!(kms.versions(KeyPurpose::WrapDataKeys)?, [second]);
//! assert!(kms.versions(KeyPurpose::AuthenticateLog)?.is_empty());
//! # Ok::<(), KeyError>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use zeroize::Zeroizing;

mod error;
mod name;

pub use error::KeyError;
pub use name::{KeyPurpose, KeyVersion};

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek([REDACTED])")
    }
}

/// A key-encryption key: 256 bits on the heap, zeroized when dropped, never printed.
pub struct Kek(Box<Zeroizing<[u8; 32]>>);

impl Kek {
    /// A fresh key from the operating system's random source.
    pub fn random() -> Self {
        let mut key = Self(Box::new(Zeroizing::new([0; 32])));
        let bytes: &mut [u8; 32] = &mut key.0;
        OsRng.fill_bytes(bytes);
        key
    }

    /// A key copied from `bytes`; `None` unless it is 32 bytes. The caller zeroizes its own
    /// copy.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; 32] = bytes.try_into().ok()?;
        Some(Self(Box::new(Zeroizing::new(*bytes))))
    }

    /// The key's bytes.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// What a provider can do beyond handing out its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// It can make a new version of a purpose's key ([`KeyProvider::create`]).
    pub rotate: bool,
    /// It can destroy a version irrecoverably ([`KeyProvider::destroy`]).
    pub destroy: bool,
}

/// Where an operator gets its key-encryption keys: a directory of key files ([`KeyDir`]),
/// an environment variable ([`EnvKey`]), or your KMS through this trait.
///
/// The operator rotates and destroys only through a provider whose [`capabilities`]
/// say it can both; with any other, destruction reaches only the live key store, and a
/// copy of the key store taken before a shred opens the shredded record's key again with
/// the same KEK.
///
/// Give each key store a provider (or a KMS key ring) of its own: at open, the operator
/// destroys every version of [`KeyPurpose::WrapDataKeys`] but the one its key store is
/// wrapped under, to settle a rotation a crash interrupted.
///
/// [`capabilities`]: Self::capabilities
pub trait KeyProvider: Send + Sync {
    /// Whether it can rotate and destroy.
    fn capabilities(&self) -> Capabilities;

    /// The versions of `purpose` it holds, oldest first; empty if none was made yet.
    ///
    /// # Errors
    ///
    /// [`KeyError::Io`] if they can't be listed.
    fn versions(&self, purpose: KeyPurpose) -> Result<Vec<KeyVersion>, KeyError>;

    /// The key of `purpose` at `version`.
    ///
    /// # Errors
    ///
    /// [`KeyError::KekMissing`] if it has no such key (destroyed, or never made);
    /// [`KeyError::ReadableByOthers`] for a key file others could have copied; others if it
    /// can't be read.
    fn key(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<Kek, KeyError>;

    /// Makes a new version of `purpose`'s key, one above the newest, and returns it.
    ///
    /// # Errors
    ///
    /// [`KeyError::Unsupported`] if it can't rotate (the default); others if the key can't
    /// be kept, and no version is made then.
    fn create(&self, purpose: KeyPurpose) -> Result<KeyVersion, KeyError> {
        let _ = purpose;
        Err(KeyError::Unsupported { what: "rotate" })
    }

    /// Destroys `purpose`'s key at `version` irrecoverably; destroying one that is gone
    /// already succeeds.
    ///
    /// # Errors
    ///
    /// [`KeyError::Unsupported`] if it can't destroy (the default); others if the key may
    /// still be there.
    fn destroy(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<(), KeyError> {
        let _ = (purpose, version);
        Err(KeyError::Unsupported { what: "destroy" })
    }

    /// The directory its keys are kept in, if it keeps them in one on this machine: the
    /// operator refuses to open when it lies inside its data directory.
    fn directory(&self) -> Option<&Path> {
        None
    }
}

/// A shared provider: the operator's, and the one you keep a handle on.
impl<P: KeyProvider + ?Sized> KeyProvider for std::sync::Arc<P> {
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    fn versions(&self, purpose: KeyPurpose) -> Result<Vec<KeyVersion>, KeyError> {
        (**self).versions(purpose)
    }
    fn key(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<Kek, KeyError> {
        (**self).key(purpose, version)
    }
    fn create(&self, purpose: KeyPurpose) -> Result<KeyVersion, KeyError> {
        (**self).create(purpose)
    }
    fn destroy(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<(), KeyError> {
        (**self).destroy(purpose, version)
    }
    fn directory(&self) -> Option<&Path> {
        (**self).directory()
    }
}

/// Key files in a directory of their own, one per purpose and version
/// (`wrap-data-keys.1.key`, `wrap-data-keys.2.key` …). The directory is created 0700 and
/// each file 0600 on Unix; a file group or others can read is refused
/// ([`KeyError::ReadableByOthers`]). It rotates, and destroys a version by deleting its
/// file and syncing the directory.
///
/// Keep it out of the data directory (the operator refuses it there) and out of the data
/// directory's backups, and give each operator a directory of its own: opening destroys
/// every version of a purpose but the one its key store was wrapped with.
///
/// What deleting a file can't reach: copies of the directory made before (a backup of the
/// key directory, a snapshot of the volume). Back the key directory up apart from the data,
/// or not at all.
pub struct KeyDir {
    dir: PathBuf,
}

impl fmt::Debug for KeyDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyDir").field("dir", &self.dir).finish()
    }
}

impl KeyDir {
    /// The key directory `dir`, created (0700) if missing.
    ///
    /// # Errors
    ///
    /// [`KeyError::Io`] if it can't be created.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, KeyError> {
        let dir = dir.as_ref().to_path_buf();
        let io = |e: std::io::Error| KeyError::Io(e.to_string());
        crate::files::create_dir(&dir).map_err(io)?;
        // One made before us must be ours alone, or whoever else can write it chooses our key.
        if let Some(reason) = crate::files::not_ours(&dir, true).map_err(io)? {
            return Err(KeyError::Untrusted { path: dir, reason });
        }
        Ok(Self { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The file of `purpose`'s key at `version`.
    pub fn file(&self, purpose: KeyPurpose, version: KeyVersion) -> PathBuf {
        self.dir
            .join(format!("{}.{}.key", purpose.as_str(), version.get()))
    }
}

impl KeyProvider for KeyDir {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            rotate: true,
            destroy: true,
        }
    }

    fn versions(&self, purpose: KeyPurpose) -> Result<Vec<KeyVersion>, KeyError> {
        let io = |e: std::io::Error| KeyError::Io(e.to_string());
        let prefix = format!("{}.", purpose.as_str());
        let mut versions = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            let version = name
                .to_str()
                .and_then(|n| n.strip_prefix(&prefix))
                .and_then(|n| n.strip_suffix(".key"))
                // Only the number as `file` writes it: `01` or `+1` would be a second file
                // of one version, which destroying that version would leave behind.
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0'))
                .and_then(|n| n.parse::<u32>().ok());
            versions.extend(version.map(KeyVersion));
        }
        versions.sort_unstable();
        Ok(versions)
    }

    fn key(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<Kek, KeyError> {
        let file = self.file(purpose, version);
        if std::fs::symlink_metadata(&file).is_err() {
            return Err(KeyError::KekMissing { purpose, version });
        }
        // Not followed through a link, nor taken from another user: either could hand us a
        // key someone else holds.
        if let Some(reason) =
            crate::files::not_ours(&file, false).map_err(|e| KeyError::Io(e.to_string()))?
        {
            return Err(KeyError::Untrusted { path: file, reason });
        }
        // A key others can read is a key others may have copied: refuse it rather than
        // use it, and say which file to fix.
        if let Some(mode) = crate::files::loose_bits(&file) {
            return Err(KeyError::ReadableByOthers { file, mode });
        }
        let bytes = Zeroizing::new(std::fs::read(&file).map_err(|e| KeyError::Io(e.to_string()))?);
        Kek::from_slice(&bytes).ok_or_else(|| {
            KeyError::Corrupt(format!(
                "key file {} holds {} bytes, not 32",
                file.display(),
                bytes.len()
            ))
        })
    }

    fn create(&self, purpose: KeyPurpose) -> Result<KeyVersion, KeyError> {
        let next = self
            .versions(purpose)?
            .last()
            .map_or(1, |v| v.get().saturating_add(1));
        let version = KeyVersion(next);
        crate::files::write_key(&self.file(purpose, version), Kek::random().expose())
            .map_err(|e| KeyError::Io(e.to_string()))?;
        Ok(version)
    }

    fn destroy(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<(), KeyError> {
        let file = self.file(purpose, version);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(KeyError::Io(e.to_string())),
        }
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| KeyError::Io(e.to_string()))
    }

    fn directory(&self) -> Option<&Path> {
        Some(&self.dir)
    }
}

/// One KEK from an environment variable, 32 bytes in hex (64 digits) or base64 (44
/// characters), read once when made. Each purpose gets a key of its own derived from it
/// (HMAC-SHA-256 of the purpose's name), always version 1.
///
/// It can neither rotate nor destroy: the operator never rotates under it. Destruction then
/// reaches only the live key store — a shredded record's data key is deleted from it — and
/// a copy of the key store taken before a shred still opens that record's key with this
/// variable's value. The embedded key store (`keys.db`) is in the data directory, so every
/// backup of the data directory is such a copy: whoever holds one and the value reads
/// every record it held, shredded since or not. Use it where the data directory is not
/// backed up, or prefer [`KeyDir`] or a KMS. The value also stays in the process's
/// environment, where this crate can't zeroize it.
pub struct EnvKey {
    var: String,
    kek: Kek,
}

impl fmt::Debug for EnvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvKey")
            .field("var", &self.var)
            .finish_non_exhaustive()
    }
}

impl EnvKey {
    /// The KEK in the environment variable `var`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Corrupt`] if it is unset, or not 32 bytes in hex or base64 (the error
    /// names the variable, never its value).
    pub fn from_env(var: impl Into<String>) -> Result<Self, KeyError> {
        let var = var.into();
        let bad = || {
            KeyError::Corrupt(format!(
                "environment variable {var} is not set to a 32-byte key in hex or base64"
            ))
        };
        let value = Zeroizing::new(std::env::var(&var).map_err(|_| bad())?);
        Self::from_text(var.clone(), &value).ok_or_else(bad)
    }

    /// The KEK in `text`, as the variable `var` would hold it.
    fn from_text(var: String, text: &str) -> Option<Self> {
        let bytes = decode(text.trim())?;
        let kek = Kek::from_slice(&bytes)?;
        Some(Self { var, kek })
    }
}

/// Hex, or standard base64 with or without padding.
fn decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    if text.len() == 64
        && let Ok(bytes) = hex::decode(text)
    {
        return Some(Zeroizing::new(bytes));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() * 3 / 4));
    let (mut acc, mut bits) = (0_u32, 0_u32);
    for c in text.trim_end_matches('=').bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

impl KeyProvider for EnvKey {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            rotate: false,
            destroy: false,
        }
    }

    fn versions(&self, _purpose: KeyPurpose) -> Result<Vec<KeyVersion>, KeyError> {
        Ok(vec![KeyVersion(1)])
    }

    fn key(&self, purpose: KeyPurpose, version: KeyVersion) -> Result<Kek, KeyError> {
        use hmac::{Hmac, Mac};
        if version != KeyVersion(1) {
            return Err(KeyError::KekMissing { purpose, version });
        }
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.kek.expose())
            .map_err(|_| KeyError::Corrupt("the key can't key HMAC".into()))?;
        mac.update(b"amanat kek ");
        mac.update(purpose.as_str().as_bytes());
        let mut derived = mac.finalize().into_bytes();
        let kek = Kek::from_slice(&derived);
        zeroize::Zeroize::zeroize(derived.as_mut_slice());
        kek.ok_or_else(|| KeyError::Corrupt("derived key size".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex_decode_to_the_same_key() {
        let key = [0xab_u8; 32];
        let hexed = hex::encode(key);
        assert_eq!(decode(&hexed).unwrap().as_slice(), key);
        // 0xab * 32 in base64.
        let b64 = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
        assert_eq!(decode(b64).unwrap().as_slice(), key);
        assert!(decode("not a key!").is_none());
    }

    #[test]
    fn an_environment_key_gives_each_purpose_a_key_of_its_own_and_prints_none() {
        let text = hex::encode([0x5a_u8; 32]);
        let env = EnvKey::from_text("AMANAT_KEK".into(), &text).unwrap();
        let one = KeyVersion::new(1);
        let wrap = env.key(KeyPurpose::WrapDataKeys, one).unwrap();
        let log = env.key(KeyPurpose::AuthenticateLog, one).unwrap();
        assert_ne!(wrap.expose(), log.expose());
        assert_ne!(wrap.expose(), &[0x5a; 32]);
        assert!(matches!(
            env.key(KeyPurpose::WrapDataKeys, KeyVersion::new(2)),
            Err(KeyError::KekMissing { .. })
        ));
        assert!(matches!(
            env.create(KeyPurpose::WrapDataKeys),
            Err(KeyError::Unsupported { .. })
        ));
        let shown = format!("{env:?} {wrap:?}");
        assert!(!shown.contains(&text) && !shown.contains("5a5a") && shown.contains("AMANAT_KEK"));
        assert!(EnvKey::from_text("AMANAT_KEK".into(), "too short").is_none());
        let unset = EnvKey::from_env("AMANAT_TEST_SURELY_UNSET_KEK").unwrap_err();
        assert!(unset.to_string().contains("AMANAT_TEST_SURELY_UNSET_KEK"));
    }

    #[test]
    fn a_key_directory_makes_numbered_private_files_and_destroys_them() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path().join("keys")).unwrap();
        let first = keys.create(KeyPurpose::WrapDataKeys).unwrap();
        let second = keys.create(KeyPurpose::WrapDataKeys).unwrap();
        assert_eq!((first.get(), second.get()), (1, 2));
        assert!(
            keys.versions(KeyPurpose::SignCheckpoints)
                .unwrap()
                .is_empty()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(keys.path()), 0o700);
            assert_eq!(mode(&keys.file(KeyPurpose::WrapDataKeys, first)), 0o600);
        }
        let kek = keys.key(KeyPurpose::WrapDataKeys, first).unwrap();
        assert_eq!(format!("{kek:?}"), "Kek([REDACTED])");
        keys.destroy(KeyPurpose::WrapDataKeys, first).unwrap();
        keys.destroy(KeyPurpose::WrapDataKeys, first).unwrap();
        assert_eq!(keys.versions(KeyPurpose::WrapDataKeys).unwrap(), [second]);
        assert!(matches!(
            keys.key(KeyPurpose::WrapDataKeys, first),
            Err(KeyError::KekMissing { .. })
        ));
    }
}
