//! Events: the one vocabulary of what happened, and the journal that keeps the changes
//! among them — consent events, retention deadlines, holds and destructions, transfer
//! notices, subject requests — in the one order they were made.
//!
//! The ledger, the retention schedule and the registers describe everything they do as an
//! [`Event`]. The audit trail shows every event; a journal keeps the changes, and an
//! [`Operator`](crate::store::Operator) rebuilds all of them from it at open, with the
//! original ids and times. An operator writes each event once, as one entry of its log:
//! the change and its audit entry are one and the same, durable together or not at all.
//!
//! What widens processing — a grant, a renewal, a record tracked, a hold, a disclosure's
//! notice — is done only if it is kept; what protects the subject — a withdrawal, a
//! trigger, a release, a destruction — takes effect first and is kept after, and if it
//! can't be, the journal stops and every later change is refused until the operator is
//! reopened.
//!
//! An event holds ids, purposes, categories, dates and references — and, where a legal
//! representative consented for the subject, the representative's name and mandate, which
//! the proof of consent needs. Never a value of the subject's personal data: those are
//! sealed in a [`Vault`](crate::store::vault::Vault).

mod change;
#[cfg(feature = "sqlite")]
mod given_ref;
mod hash;
mod journal;
mod vocabulary;

pub use change::Change;
#[cfg(feature = "sqlite")]
pub(crate) use given_ref::{GivenRef, given_in};
pub use hash::ChainHash;
#[cfg(feature = "sqlite")]
pub(crate) use journal::erase_from;
pub use journal::{Journal, MemoryJournal};
pub(crate) use journal::{Journaled, replay_close, replay_next};
pub use vocabulary::{Event, Given, Reference};
