//! What can go wrong with keys: the key store's data keys and the provider's KEKs.

use crate::vocab::ids::RecordId;

/// Why a key store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// There is no key for the record: it was shredded (destroyed), or never sealed here.
    #[error("no data key for record {record}: destroyed, or sealed elsewhere")]
    Shredded {
        /// The record.
        record: RecordId,
    },
    /// The record already has a key: a record is sealed once.
    #[error("record {record} already has a data key")]
    Exists {
        /// The record.
        record: RecordId,
    },
    /// The deletion is committed — the store no longer gives the key out — but a reader
    /// kept the write-ahead log from being emptied, so the key's old bytes are still on
    /// disk there until the next checkpoint.
    #[error("the key is deleted, but its old bytes wait for a checkpoint of the key store's log")]
    NotYetErased {
        /// The record, or `None` for a subject's keys.
        record: Option<RecordId>,
    },
    /// The key store's own key does not open what it holds: another key file was given.
    #[error("the key store's key does not open its keys: wrong key file")]
    WrongKey,
    /// The key store was written by a newer version of the library.
    #[error("key store schema {found} is newer than this library reads ({supported})")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this library reads.
        supported: i64,
    },
    /// The key store's files are damaged: not a database, truncated, or a key file of the
    /// wrong size. Nothing was written.
    #[error("key store damaged: {0}")]
    Corrupt(String),
    /// The key file gives group or others access: it is refused, not used. Make it the
    /// owner's alone (`chmod 600`) once you are sure no one else copied it; otherwise
    /// rotate the key.
    #[error("key file {} is readable by others (mode {mode:o}): make it 0600", file.display())]
    ReadableByOthers {
        /// The key file.
        file: std::path::PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key directory or key file that isn't this process's alone: a symbolic link, one
    /// another user owns, or a directory group or others can enter. Someone else could
    /// have planted the key in it, or could read it: it is refused, not used.
    #[error("key path {} can't be trusted: it {reason}", path.display())]
    Untrusted {
        /// The directory or file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The key provider has no key-encryption key of this purpose and version: it was
    /// destroyed (by a rotation, or by hand), or never made there. A key store wrapped
    /// under it opens nothing.
    #[error("no key-encryption key {purpose} {version}: destroyed, or never made here")]
    KekMissing {
        /// What the key is for.
        purpose: super::name::KeyPurpose,
        /// Its version.
        version: super::name::KeyVersion,
    },
    /// The key provider can't do what was asked (rotate, or destroy a key).
    #[error("the key provider can't {what}")]
    Unsupported {
        /// What it was asked.
        what: &'static str,
    },
    /// The key store could not be read or written.
    #[error("key store: {0}")]
    Io(String),
}
