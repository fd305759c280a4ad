//! What can go wrong keeping data: the vault, the journal, the stores under an operator.

use crate::key::KeyError;
use crate::vocab::ids::RecordId;

/// Why a vault could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store was written by a newer version of the library.
    #[error("store schema {found} is newer than this library reads ({supported})")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this library reads.
        supported: i64,
    },
    /// The store's file is damaged: not a database, truncated, or a row that is not what
    /// this library wrote. Nothing was written.
    #[error("store damaged: {0}")]
    Corrupt(String),
    /// The sealed value is of another record than its entry: keeping it would let a
    /// destruction of the entry's record shred the wrong key.
    #[error("the sealed value is of record {sealed}, not of {entry}")]
    WrongRecord {
        /// The entry's record.
        entry: RecordId,
        /// The sealed value's record.
        sealed: RecordId,
    },
    /// A record with this id is already kept.
    #[error("record {record} is already in the vault")]
    Exists {
        /// The record.
        record: RecordId,
    },
    /// The key store could not answer.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The store's location is refused for this policy's data
    /// ([`Error::StorageRefused`](crate::Error::StorageRefused)).
    #[error(transparent)]
    Location(Box<crate::Error>),
    /// The store could not be read or written.
    #[error("store: {0}")]
    Io(String),
    /// An earlier write failed, so the journal refuses every change after it: what was
    /// done in memory and not kept must not be built on. Reopen to go on from what was
    /// kept.
    #[error("the store stopped after a failed write ({0}); reopen it")]
    Stopped(String),
    /// A category the policy names can't be given the shredder that destroys its records:
    /// the operator does not open, rather than report such a record destroyed and keep it.
    #[error("the policy's category {category} can't be given a shredder")]
    NoShredder {
        /// The category as the policy names it.
        category: String,
    },
    /// Key material lies inside the data directory — the provider's key directory, or a
    /// key file (`master.key`, which 0.1 kept there): a copy of the directory would carry
    /// the keys that open it, and shredding would reach no backup. Nothing was written.
    /// Move it to a key directory of its own outside (a 0.1 `master.key` becomes
    /// `wrap-data-keys.1.key` in a [`KeyDir`](crate::store::kek::KeyDir)).
    #[error("key material {} lies inside the data directory: move it to a key directory outside", path.display())]
    KeysInsideData {
        /// The key directory or key file.
        path: std::path::PathBuf,
    },
    /// Another operator has the store open — in another process, or in this one — and
    /// two writing at once would each number changes the other can't see.
    #[error("the store is in use by another operator")]
    InUse,
    /// The audit log kept with the store could not be opened.
    #[error(transparent)]
    Audit(#[from] super::AuditError),
}
