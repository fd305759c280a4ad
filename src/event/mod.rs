//! The journal: every change that must outlive the process — consent events, retention
//! deadlines, holds and destructions, transfer notices, subject requests — in the one
//! order they were made.
//!
//! The ledger, the retention schedule and the registers write each change to the journal
//! before they acknowledge it, and an [`Operator`](crate::store::Operator) rebuilds all of
//! them from it at open, with the original ids and times. What widens processing — a
//! grant, a renewal, a record tracked, a hold, a disclosure's notice — is done only if it
//! is kept; what protects the subject — a withdrawal, a trigger, a release, a destruction
//! — takes effect first and is kept after, and if it can't be, the journal stops and
//! every later change is refused until the operator is reopened. One journal rather than
//! one store per kind of change: a change is one row written in one transaction, so it is
//! either wholly there after a crash or not at all, and the replay sees a withdrawal after
//! the grant it ends, whichever component made each.
//!
//! A [`Change`] holds ids, purposes, categories, dates and references — and, where a legal
//! representative consented for the subject, the representative's name and mandate, which
//! the proof of consent needs. Never a value of the subject's personal data: those are
//! sealed in a [`Vault`](crate::store::vault::Vault).

mod change;
mod journal;

pub use change::Change;
pub(crate) use change::{Given, Kind};
pub use journal::{Journal, MemoryJournal};
pub(crate) use journal::{Journaled, append, replay_close, replay_next};
