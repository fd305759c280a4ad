//! What must outlive a process. The embedded default is [`Operator::open`]: one directory
//! with SQLite bundled, from which the ledger, the retention schedule and the registers of
//! notices and requests are rebuilt at every open ([`journal`]), the audit log, and the
//! personal data itself, sealed with a key per record ([`seal`], [`vault`], [`keys`]).
//! [`Operator::with_stores`] runs the same on your own database's implementations of the
//! traits.
//!
//! Each sealed record is encrypted with its own data key (XChaCha20-Poly1305, the record's
//! id and the format version bound in as associated data). Data keys live in a
//! [`KeyStore`](keys::KeyStore), kept apart from the data: destroying a record deletes its key, and closing a subject's
//! account deletes all of theirs, so every copy of the ciphertext — a backup, a replica,
//! a file copied off a disk — becomes unreadable at once (crypto-shredding, Art. 1: data
//! destroyed can't be restored).
//!
//! ```
//! use amanat::data::RecordId;
//! use amanat::store::keys::{KeyStore, MemoryKeyStore};
//! use amanat::store::seal::{Sealed, SealError};
//! use amanat::SubjectId;
//!
//! let keys = MemoryKeyStore::new();
//! let subject = SubjectId::new("cust-1")?;
//! let record = RecordId::random();
//! let sealed = Sealed::seal(&keys, record, &subject, b"AA1234567")?;
//! assert_eq!(&*sealed.open(&keys)?, b"AA1234567");
//!
//! let backup = sealed.to_bytes();
//! keys.shred(record)?;
//! let copy = Sealed::from_bytes(&backup)?;
//! assert!(matches!(copy.open(&keys), Err(SealError::Shredded { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//!
//! [`Vault`](vault::Vault)s keep the sealed records with their ids; [`shred`](vault::shred)
//! destroys one, key first.

#[cfg(feature = "sqlite")]
mod audit_store;
pub mod journal;
pub mod kek;
pub mod keys;
mod operator;
pub mod seal;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod vault;

#[cfg(feature = "sqlite")]
pub use audit_store::SqliteAuditStore;
pub use operator::{Operator, OperatorBuilder, Sealable, Stores};
pub use vault::StoreError;
