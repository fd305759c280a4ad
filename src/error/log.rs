//! What can go wrong with the log. No message carries a payload's bytes: a payload may be
//! personal data, and errors end up in other people's logs.

use std::fmt;
use std::path::PathBuf;

use super::StoreError;
use crate::key::KeyError;
use crate::vocab::ids::Seq;

/// What is wrong at the position a [`LogError::Tampered`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The entry at this position is missing: the next one the store holds comes later
    /// (an entry was deleted, or entries were renumbered).
    Missing,
    /// The store gave an entry of an earlier position here: entries repeated or out of
    /// order.
    OutOfOrder,
    /// The entry's hash is not what its fields hash to: it was edited.
    HashMismatch,
    /// The entry's `prev` is not the hash of the entry before it: an entry was inserted,
    /// removed or moved here.
    BrokenLink,
    /// The entry's MAC does not verify under the log's key: someone without the key wrote
    /// it (an insertion, an edit with its hash recomputed, or a whole chain made afresh).
    BadMac,
    /// The checkpoint of this count names another head hash than the entry at this position
    /// has: the prefix it signed was rewritten.
    CheckpointMismatch,
    /// The checkpoint of this count does not carry a valid signature under the log's
    /// checkpoint key.
    BadSignature,
    /// A checkpoint covers this position, and the log ends before it: its tail was cut off.
    Truncated,
    /// The store holds something at this position that is not an entry (a field of the
    /// wrong size).
    Malformed,
    /// A snapshot that ends at this position does not verify under the log's key, does not
    /// follow the one before it, or names another head hash than the entry here has.
    SnapshotMismatch,
    /// The entry at this position is sealed under a key the store holds no row for, or
    /// whose row does not verify under the log's key: deleted, edited, or marked shredded
    /// by someone without it.
    KeyRow,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::Missing => "the entry is missing (deleted, or entries renumbered)",
            Problem::OutOfOrder => {
                "an entry of an earlier position is here (repeated or reordered)"
            }
            Problem::HashMismatch => "the entry's hash does not match its contents (edited)",
            Problem::BrokenLink => {
                "the entry does not link to the one before it (inserted, removed or moved)"
            }
            Problem::BadMac => "the entry's MAC does not verify (written without the log's key)",
            Problem::CheckpointMismatch => {
                "the signed checkpoint names another head hash (the prefix was rewritten)"
            }
            Problem::BadSignature => "the checkpoint's signature does not verify",
            Problem::Truncated => {
                "a signed checkpoint covers this entry but the log ends before it (tail cut off)"
            }
            Problem::Malformed => "the stored entry is malformed",
            Problem::KeyRow => {
                "the entry's key row is missing or does not verify (deleted, edited, or \
                 marked shredded without the log's key)"
            }
            Problem::SnapshotMismatch => {
                "a snapshot ending here does not verify, does not follow the one before, or \
                 names another head hash (written without the log's key, or moved)"
            }
        })
    }
}

/// Why the log could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The log is not what the log wrote: `position` is the first entry found wrong (or,
    /// for a checkpoint, its count), and `problem` says how. Nothing was written.
    #[error("the log was tampered with at entry {position}: {problem}")]
    Tampered {
        /// The first bad position.
        position: Seq,
        /// What is wrong there.
        problem: Problem,
    },
    /// The store's head is not where the log expected: another writer appended, or the
    /// store changed under the log. Nothing of the batch was kept.
    #[error(
        "the store's next entry is {found}, not {expected}: another writer, or a changed store"
    )]
    Conflict {
        /// The position the log was appending.
        expected: Seq,
        /// The position the store expected next.
        found: Seq,
    },
    /// The anchor directory lies inside the data directory (or holds it): a copy of the
    /// data would carry its own witness, and whoever rewrites one rewrites the other.
    /// Nothing was written.
    #[error("anchor directory {} lies inside the data directory: give it one outside", path.display())]
    AnchorInsideData {
        /// The anchor directory.
        path: PathBuf,
    },
    /// The anchor could not publish or read a checkpoint.
    #[error("anchor: {0}")]
    Anchor(String),
    /// The key provider could not give the log's keys.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An earlier write failed, so the log refuses every append after it: whether that
    /// batch reached the disk is unknown, and the entries queued behind it were chained to
    /// it. Reopen to go on from what was kept.
    #[error("the log stopped after a failed write ({0}); reopen it")]
    Stopped(String),
}
