//! Snapshots: what the log's owner keeps of the entries up to a position, in a form of its
//! own, so that an open can start there rather than at the first entry. Each carries a MAC under
//! the log's key and is bound to the hash of the entry it ends at: only the key's holder can
//! make one, and one that does not fit the entries the store holds is refused.
//!
//! A snapshot's body holds in clear what the entries it covers hold sealed under their
//! subjects' keys, so the store keeps it sealed too (XChaCha20-Poly1305, under a key derived
//! from the log's): a copy of the store read without the keys shows no subject in it. The
//! MAC covers the positions, the head, and the seal's nonce and tag, which authenticate the
//! ciphertext; the body is not hashed again. One kept in clear by an earlier version, its
//! MAC over the body's SHA-256, is still read.

use std::fmt;

use chacha20poly1305::aead::{AeadCore, AeadInPlace, KeyInit, OsRng};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::entry::{Hash, MacKey, derive};
use crate::error::LogError;
use crate::key::Kek;
use crate::vocab::ids::Seq;

/// What a sealed body starts with; one kept in clear never starts with a zero byte.
const SEALED: &[u8; 4] = b"\0sn1";

/// The length of the nonce after it, and of the tag at the end.
const NONCE: usize = 24;
const TAG: usize = 16;

/// The key snapshots' bodies are sealed under, derived from the log's key.
pub(crate) struct SnapshotKey(XChaCha20Poly1305);

impl SnapshotKey {
    pub(crate) fn new(kek: &Kek) -> Result<Self, LogError> {
        let derived = Zeroizing::new(derive(kek, b"amanat/log/snapshot-key/v1")?);
        Ok(Self(XChaCha20Poly1305::new(derived.as_slice().into())))
    }
}

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
    /// What the owner keeps: personal data, or may be, and never printed. Sealed as the
    /// store keeps it; opened in a snapshot [`Log::snapshots`](super::Log::snapshots)
    /// returns.
    pub body: Vec<u8>,
    /// HMAC-SHA-256 under the log's key of the positions, the head, and the seal's nonce
    /// and tag (of the body's SHA-256, for one an earlier version kept in clear).
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
    /// The positions and the head, of fixed length: what the MAC covers first, and what the
    /// seal binds to its ciphertext.
    fn place(from: Seq, to: Seq, head: &Hash) -> Vec<u8> {
        let mut place = Vec::with_capacity(16 + 32 + SEALED.len() + NONCE + TAG);
        place.extend_from_slice(&from.get().to_be_bytes());
        place.extend_from_slice(&to.get().to_be_bytes());
        place.extend_from_slice(head);
        place
    }

    /// The bytes the MAC covers: the place, then the seal's marker, nonce and tag, or, for a
    /// body kept in clear, its SHA-256.
    fn message(from: Seq, to: Seq, head: &Hash, body: &[u8]) -> Vec<u8> {
        let mut message = Self::place(from, to, head);
        match sealed_parts(body) {
            Some((nonce, _, tag)) => {
                message.extend_from_slice(SEALED);
                message.extend_from_slice(nonce);
                message.extend_from_slice(tag);
            }
            None => message.extend_from_slice(&Sha256::digest(body)),
        }
        message
    }

    /// The snapshot of `body` as the store keeps it: sealed, then authenticated.
    pub(crate) fn seal(
        mac: &MacKey,
        key: &SnapshotKey,
        from: Seq,
        to: Seq,
        head: Hash,
        mut body: Vec<u8>,
    ) -> Result<Self, LogError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let tag = key
            .0
            .encrypt_in_place_detached(&nonce, &Self::place(from, to, &head), &mut body)
            .map_err(|_| LogError::Stopped(format!("the snapshot to entry {to} is too long")))?;
        body.reserve_exact(SEALED.len() + NONCE + TAG);
        body.splice(0..0, SEALED.iter().chain(nonce.iter()).copied());
        body.extend_from_slice(&tag);
        let tag = mac.tag_snapshot(&Self::message(from, to, &head, &body));
        Ok(Self {
            from,
            to,
            head,
            body,
            mac: tag,
        })
    }

    /// A snapshot as an earlier version kept it: in clear, its MAC over its body's SHA-256.
    #[cfg(test)]
    pub(crate) fn in_clear(mac: &MacKey, from: Seq, to: Seq, head: Hash, body: Vec<u8>) -> Self {
        let tag = mac.tag_snapshot(&Self::message(from, to, &head, &body));
        Self {
            from,
            to,
            head,
            body,
            mac: tag,
        }
    }

    /// This snapshot with its body opened, if its MAC and its seal verify.
    pub(crate) fn open(mut self, mac: &MacKey, key: &SnapshotKey) -> Option<Self> {
        if !mac.verify_snapshot(
            &Self::message(self.from, self.to, &self.head, &self.body),
            &self.mac,
        ) {
            return None;
        }
        let Some((nonce, _, tag)) = sealed_parts(&self.body) else {
            // Kept in clear by an earlier version, and its MAC sound.
            return Some(self);
        };
        let (nonce, tag) = (*XNonce::from_slice(nonce), *Tag::from_slice(tag));
        let end = self.body.len() - TAG;
        let start = SEALED.len() + NONCE;
        key.0
            .decrypt_in_place_detached(
                &nonce,
                &Self::place(self.from, self.to, &self.head),
                &mut self.body[start..end],
                &tag,
            )
            .ok()?;
        self.body.truncate(end);
        self.body.drain(..start);
        Some(self)
    }
}

/// A sealed body's nonce, ciphertext and tag; `None` for a body kept in clear.
fn sealed_parts(body: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let rest = body.strip_prefix(SEALED)?;
    let (nonce, rest) = rest.split_at_checked(NONCE)?;
    let (ciphertext, tag) = rest.split_at_checked(rest.len().checked_sub(TAG)?)?;
    Some((nonce, ciphertext, tag))
}
