//! What must outlive a process. The embedded default is [`Operator::open`]: one directory
//! with SQLite bundled, from which the ledger, the retention schedule and the registers of
//! notices and requests are rebuilt at every open ([`journal`]), the audit log — both as
//! entries of one [authenticated log](crate::log) — and the personal data itself, sealed with a key per record ([`seal`], [`vault`], [`keys`]).
//! [`Operator::with_stores`] runs the same on your own database's implementations of the
//! traits.
//!
//! Each sealed record is encrypted with its own data key (XChaCha20-Poly1305, the record's
//! id and the format version bound in as associated data). Data keys live in a
//! [`KeyStore`](keys::KeyStore): destroying a record deletes its key, and closing a
//! subject's account deletes all of theirs, so a copy of the sealed values alone, without
//! the key store, opens nothing (crypto-shredding, Art. 1: data destroyed can't be
//! restored). The embedded key store (`keys.db`) sits in the data directory, each data key
//! wrapped by a key-encryption key (KEK) the operator takes from a
//! [`KeyProvider`](kek::KeyProvider) and never from the data directory; a copy of the key
//! store taken before a shred opens nothing once the provider has destroyed the KEK that
//! wrapped it, which the operator has it do at the rotation after every sweep that
//! destroyed something. See [Operations](#operations) for what that means for backups.
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
//!
//! # Operations
//!
//! ## The files
//!
//! [`Operator::open`]`(dir, policy, keys)` writes these in the data directory `dir`
//! (directories 0700, files 0600, whatever the umask):
//!
//! | file | holds | in the clear |
//! |---|---|---|
//! | `log.db` (`-wal`, `-shm`) | the authenticated log: every change to consents, deadlines, holds, destructions, notices and requests (replayed at open), the audit entries, the signed checkpoints, and snapshots of the changes (read at open instead of the entries they cover) | subject ids, purposes, categories, decisions, consent evidence, representatives' names, dates; never a value |
//! | `vault.db` (`-wal`, `-shm`) | the sealed personal values | record and subject ids, category, purpose, collection time; the values only as ciphertext |
//! | `keys.db` (`-wal`, `-shm`) | each record's data key, wrapped by the KEK; the version of the KEK that wrapped them and when it was last rotated | record and subject ids |
//! | `lock` | nothing: held while an operator has the directory open | — |
//!
//! The KEKs live with the provider. A [`KeyDir`](kek::KeyDir) is a directory of its own
//! (0700) holding one 32-byte file (0600) per purpose and version:
//! `wrap-data-keys.<n>.key`, `authenticate-log.<n>.key`, `sign-checkpoints.<n>.key`.
//! After an open or a rotation it holds one version of each purpose in use. By default it
//! also holds `anchors/checkpoints`, the log's signed checkpoints, one line each: public,
//! and the witness that the log was not cut short
//! ([`OperatorBuilder::anchor`] puts them elsewhere). [`Operator::open`] refuses a key directory inside the data directory
//! (or holding it), a key file group or others can read, a KEK that does not open
//! `keys.db`, and the `master.key` amanat 0.1 kept in the data directory
//! ([`StoreError::KeysInsideData`]) — each without changing a file.
//!
//! ## What a write costs
//!
//! Each change — a grant, a withdrawal, a hold, a notice — is one synced transaction of
//! `log.db`, shared with whatever other threads wrote meanwhile; audit-only entries ride
//! along. The vault, the key store and the log are three databases (so that a copy of one
//! opens nothing of another), so keeping and destroying a record are several
//! transactions, in an order that leaves nothing unaccounted after a crash:
//!
//! - [`Operator::keep`]: four — `log.db` (the record announced), `keys.db` (its data key),
//!   `vault.db` (the sealed value), `log.db` (tracked, the step that acknowledges). A crash
//!   before the last leaves a sealed copy that was announced and never tracked: the next
//!   open shreds it.
//! - A destruction: three — `keys.db` (the key deleted, and the database checkpointed so
//!   its bytes leave the write-ahead log: three fsyncs), `vault.db` (the sealed value),
//!   `log.db` (the destruction). A crash before the last leaves the record tracked and due:
//!   the next sweep destroys it again and records it once. A sweep that destroyed
//!   anything then rotates the KEK, once for the sweep (about seven fsyncs, whatever the
//!   number of records).
//!
//! (`tests/suite/synced_writes.rs` pins the order; BENCHMARKS.md has the `strace`.)
//!
//! ## Backups
//!
//! - **Back up the data directory**, whole, while no operator has it open (or as one
//!   snapshot of the volume): the four stores belong together.
//! - **Never back up the key directory together with the data directory**, nor into the
//!   same place, by the same job, or to people who can read the other. Best not at all:
//!   losing it loses the sealed values (the journal and the audit log still open), and that
//!   is the price of destruction reaching the backups. If you must, keep the copy apart,
//!   and know that it keeps every KEK version it holds alive for as long as it exists.
//! - A restored data directory opens only with the provider's current KEK version; one
//!   taken before a rotation is refused ([`KeyError::KekMissing`](keys::KeyError::KekMissing)).
//! - A restored data directory whose log is older than the last checkpoint in the anchor
//!   is refused as a log cut short ([`StoreError::Log`], `Problem::Truncated`): to the
//!   anchor, a restore and a truncation look the same. Open it with
//!   [`OperatorBuilder::restore`] and a reason: the log is verified from its first entry
//!   under the keys, the restore is recorded in it with how many entries it holds and how
//!   many the anchor had signed, and a new checkpoint is anchored. What was written after
//!   the backup is lost with it — withdrawals, holds and destructions among the rest:
//!   apply them again. The anchor keeps every earlier checkpoint, the record of what the
//!   log held.
//! - A directory of amanat 0.1 (`journal.db`, `audit.jsonl`) is refused
//!   ([`StoreError::OldFormat`]): its journal was never authenticated, and is not carried
//!   into a log that is.
//!
//! ## Keys and their rotation
//!
//! KEKs are separate per [`KeyPurpose`](kek::KeyPurpose): wrapping data keys (used now),
//! authenticating the log and signing its checkpoints (made when the log is first written,
//! never rotated yet: the log's entries don't name the key version that authenticated them);
//! rotating one never touches another. Where the provider can rotate and destroy (a [`KeyDir`](kek::KeyDir),
//! or your KMS), the operator rotates the data-key-wrapping KEK after every
//! [`sweep`](Operator::sweep) that destroyed something and at least daily (checked at
//! `sweep`, on the operator's clock; [`OperatorBuilder::rotate_keys_every`]): a new version,
//! every live data key re-wrapped under it in one transaction that also records it, then
//! the old version destroyed. A crash between those steps is settled at the next open:
//! the store opens with the old key or the new one, and the other is destroyed. Under an
//! [`EnvKey`](kek::EnvKey), which can do neither, the operator never rotates.
//!
//! ## What a thief of each copy recovers
//!
//! | stolen | recovers |
//! |---|---|
//! | the data directory alone (taken at any time) | the log: who consented to what, when, and every decision; no sealed value |
//! | the key directory alone | KEKs, and nothing they open |
//! | a data directory copy and the provider's current KEK | the sealed values live at the copy's time and not shredded since, if no rotation happened since the copy; none once one has (at the latest a day, or the first sweep that destroyed something) |
//! | a data directory copy and the KEK version it was wrapped under (a key directory taken at the same time, or an [`EnvKey`](kek::EnvKey), which never rotates) | every sealed value live at the copy's time, shredded since or not |
//! | the live data directory and the live key directory | every value not yet shredded: that is the running system |

#[cfg(feature = "sqlite")]
mod audit_store;
#[cfg(feature = "sqlite")]
mod event_log;
pub mod journal;
pub mod keys;
#[cfg(feature = "sqlite")]
mod log;
mod operator;
mod replay;
pub mod seal;
#[cfg(feature = "sqlite")]
mod sealed_entry;
#[cfg(feature = "sqlite")]
mod snapshot_body;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod vault;

#[cfg(feature = "sqlite")]
pub use audit_store::SqliteAuditStore;
#[cfg(feature = "sqlite")]
pub use log::SqliteLogStore;
#[cfg(feature = "sqlite")]
pub use operator::{DEFAULT_AUDIT_SYNC_WITHIN, DEFAULT_SNAPSHOT_AFTER};
pub use operator::{
    Export, ExportedRecord, IdentityCheck, Operator, OperatorBuilder, OperatorSchedule, Sealable,
    Stores,
};
pub use vault::StoreError;

/// Key-encryption keys and where they come from: the items of [`crate::key`], under the
/// path 0.1 gave them.
pub mod kek {
    pub use crate::key::*;
}
