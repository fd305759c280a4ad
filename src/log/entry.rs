//! One entry of the log, and how its hash and its MAC are made.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::LogError;
use crate::key::Kek;
use crate::vocab::ids::Seq;

/// A SHA-256 digest: an entry's hash, or a chain's head.
pub type Hash = [u8; 32];

/// The `prev` of the first entry: a fixed constant, so the chain has one known start and a
/// log can't be made to begin in the middle of another.
pub const GENESIS: Hash = [0; 32];

/// Separates an entry's hash from every other SHA-256 this crate computes.
const ENTRY_DOMAIN: &[u8] = b"amanat/log/entry/v1";
/// Separates an entry's MAC from every other HMAC under the same key.
const MAC_DOMAIN: &[u8] = b"amanat/log/mac/v1";
/// What a snapshot's MAC is separated from an entry's by.
const SNAPSHOT_DOMAIN: &[u8] = b"amanat/log/snapshot/v1";

/// One entry as the store keeps it. Every field is public so that a store can build one
/// from its rows; nothing in it is trusted until the log has checked it.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its position.
    pub seq: Seq,
    /// When it was appended, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The previous entry's [`hash`](Self::hash), or [`GENESIS`] for the first.
    pub prev: Hash,
    /// The opaque payload.
    pub payload: Vec<u8>,
    /// SHA-256 over the position, the time, `prev` and the payload (see [`Entry::compute_hash`]).
    pub hash: Hash,
    /// HMAC-SHA-256 of `hash` under the log's key: only the key's holder can make one.
    pub mac: [u8; 32],
}

/// The payload is personal data, or may be: never printed.
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("seq", &self.seq)
            .field("at_ms", &self.at_ms)
            .field("payload", &format_args!("[{} bytes]", self.payload.len()))
            .field("hash", &hex::encode(self.hash))
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The hash an entry with these fields must carry: SHA-256 over a domain tag, the
    /// position, the time, `prev` and the payload, each of fixed length or prefixed with
    /// its length, so no two different entries are hashed from the same bytes.
    pub fn compute_hash(seq: Seq, at_ms: i64, prev: &Hash, payload: &[u8]) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(length(ENTRY_DOMAIN.len()));
        hasher.update(ENTRY_DOMAIN);
        hasher.update(seq.get().to_be_bytes());
        hasher.update(at_ms.to_be_bytes());
        hasher.update(prev);
        hasher.update(length(payload.len()));
        hasher.update(payload);
        hasher.finalize().into()
    }

    /// Whether `hash` is what the other fields hash to.
    pub fn hash_is_sound(&self) -> bool {
        Self::compute_hash(self.seq, self.at_ms, &self.prev, &self.payload) == self.hash
    }

    /// A new entry, hashed, with its MAC.
    pub(crate) fn seal(seq: Seq, at_ms: i64, prev: Hash, payload: Vec<u8>, key: &MacKey) -> Self {
        let hash = Self::compute_hash(seq, at_ms, &prev, &payload);
        let mac = key.tag(&hash);
        Self {
            seq,
            at_ms,
            prev,
            payload,
            hash,
            mac,
        }
    }
}

fn length(n: usize) -> [u8; 8] {
    u64::try_from(n).unwrap_or(u64::MAX).to_be_bytes()
}

/// The log's MAC key: HMAC-SHA-256 keyed once, cloned for each tag.
#[derive(Clone)]
pub(crate) struct MacKey(Hmac<Sha256>);

impl MacKey {
    pub(crate) fn new(kek: &Kek) -> Result<Self, LogError> {
        // Derived, not used as is: the KEK's bytes never key anything but this derivation.
        let derived = Zeroizing::new(derive(kek, b"amanat/log/mac-key/v1")?);
        <Hmac<Sha256> as Mac>::new_from_slice(derived.as_slice())
            .map(Self)
            .map_err(|_| LogError::Key(crate::key::KeyError::Corrupt("log key size".into())))
    }

    pub(crate) fn tag(&self, hash: &Hash) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(MAC_DOMAIN);
        mac.update(hash);
        mac.finalize().into_bytes().into()
    }

    pub(crate) fn tag_snapshot(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(SNAPSHOT_DOMAIN);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// In constant time, as [`verify`](Self::verify).
    pub(crate) fn verify_snapshot(&self, message: &[u8], tag: &[u8; 32]) -> bool {
        let mut mac = self.0.clone();
        mac.update(SNAPSHOT_DOMAIN);
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }

    /// Compares in constant time: a timing difference would tell an attacker how much of a
    /// forged tag was right.
    pub(crate) fn verify(&self, hash: &Hash, tag: &[u8; 32]) -> bool {
        let mut mac = self.0.clone();
        mac.update(MAC_DOMAIN);
        mac.update(hash);
        mac.verify_slice(tag).is_ok()
    }
}

/// HMAC-SHA-256 of `label` under the KEK: a key of its own for each use of one KEK.
pub(crate) fn derive(kek: &Kek, label: &[u8]) -> Result<[u8; 32], LogError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(kek.expose())
        .map_err(|_| LogError::Key(crate::key::KeyError::Corrupt("key size".into())))?;
    mac.update(label);
    Ok(mac.finalize().into_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_hash_and_lengths_keep_fields_apart() {
        let base = Entry::compute_hash(Seq::new(1), 5, &GENESIS, b"ab");
        assert_ne!(base, Entry::compute_hash(Seq::new(2), 5, &GENESIS, b"ab"));
        assert_ne!(base, Entry::compute_hash(Seq::new(1), 6, &GENESIS, b"ab"));
        assert_ne!(base, Entry::compute_hash(Seq::new(1), 5, &[1; 32], b"ab"));
        assert_ne!(base, Entry::compute_hash(Seq::new(1), 5, &GENESIS, b"abc"));
        assert_ne!(
            Entry::compute_hash(Seq::new(1), 5, &GENESIS, b""),
            Entry::compute_hash(Seq::new(1), 5, &GENESIS, &[0; 8])
        );
    }

    #[test]
    fn a_tag_verifies_under_its_key_only_and_debug_hides_the_payload() {
        let key = MacKey::new(&Kek::random()).unwrap();
        let other = MacKey::new(&Kek::random()).unwrap();
        let entry = Entry::seal(Seq::new(1), 0, GENESIS, b"AA1234567".to_vec(), &key);
        assert!(entry.hash_is_sound());
        assert!(key.verify(&entry.hash, &entry.mac));
        assert!(!other.verify(&entry.hash, &entry.mac));
        assert!(!format!("{entry:?}").contains("AA1234567"));
    }
}
