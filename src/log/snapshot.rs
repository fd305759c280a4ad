//! Snapshots: what the log's owner keeps of the entries up to a position, in a form of its
//! own, so that an open can start there rather than at the first entry. Each carries a MAC under
//! the log's key and is bound to the hash of the entry it ends at: only the key's holder can
//! make one, and one that does not fit the entries the store holds is refused.

use std::fmt;

use sha2::{Digest, Sha256};

use super::entry::{Hash, MacKey};
use crate::vocab::ids::Seq;

/// What a log's owner keeps of the entries from [`from`](Self::from) to
/// [`to`](Self::to): opaque to the log, which keeps it beside the entries and vouches for
/// it with its MAC.
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The first position it covers.
    pub from: Seq,
    /// The last position it covers.
    pub to: Seq,
    /// The hash of the entry at `to`, which the snapshot is bound to.
    pub head: Hash,
    /// What the owner keeps: personal data, or may be, and never printed.
    pub body: Vec<u8>,
    /// HMAC-SHA-256 under the log's key of the positions, the head and the body's SHA-256.
    pub mac: [u8; 32],
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// The bytes the MAC covers: positions and head of fixed length, then the body's digest.
    fn message(from: Seq, to: Seq, head: &Hash, body: &[u8]) -> Vec<u8> {
        let mut message = Vec::with_capacity(16 + 64);
        message.extend_from_slice(&from.get().to_be_bytes());
        message.extend_from_slice(&to.get().to_be_bytes());
        message.extend_from_slice(head);
        message.extend_from_slice(&Sha256::digest(body));
        message
    }

    pub(crate) fn seal(mac: &MacKey, from: Seq, to: Seq, head: Hash, body: Vec<u8>) -> Self {
        let tag = mac.tag_snapshot(&Self::message(from, to, &head, &body));
        Self {
            from,
            to,
            head,
            body,
            mac: tag,
        }
    }

    pub(crate) fn is_sound(&self, mac: &MacKey) -> bool {
        mac.verify_snapshot(
            &Self::message(self.from, self.to, &self.head, &self.body),
            &self.mac,
        )
    }
}
