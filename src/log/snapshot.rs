//! Snapshots: what the log's owner keeps of the entries up to a position, in a form of its
//! own, so that an open can start there rather than at the first entry. Each carries a MAC under
//! the log's key and is bound to the hash of the entry it ends at: only the key's holder can
//! make one, and one that does not fit the entries the store holds is refused.
//!
//! A snapshot's body holds in clear what the entries it covers hold sealed under their
//! subjects' keys, so the store keeps it sealed too (XChaCha20-Poly1305, under a key derived
//! from the log's): a copy of the store read without the keys shows no subject in it. It is
//! sealed in chunks of a mebibyte as the STREAM construction does (the `aead` crate's
//! `StreamBE32`: each chunk's nonce carries its position and whether it is the last), so that
//! an open decrypts them on two threads, and a chunk moved, dropped, or cut from the end
//! does not open. The MAC covers the positions, the head, the nonce prefix and every chunk's
//! tag, which authenticate the ciphertext; the body is not hashed again. A body sealed whole
//! by an earlier version, and one kept in clear, its MAC over the body's SHA-256, are still
//! read.

use std::fmt;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::{AeadInPlace, Buffer, KeyInit, OsRng};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::entry::{Hash, MacKey, derive};
use crate::error::LogError;
use crate::key::Kek;
use crate::vocab::ids::Seq;

/// What a body sealed whole by an earlier version starts with; one kept in clear never
/// starts with a zero byte.
const SEALED: &[u8; 4] = b"\0sn1";

/// What a body sealed in chunks starts with.
const CHUNKED: &[u8; 4] = b"\0sn2";

/// The length of the nonce after [`SEALED`], and of a tag.
const NONCE: usize = 24;
const TAG: usize = 16;

/// The length of the nonce prefix after [`CHUNKED`]: the nonce less STREAM's 32-bit
/// position and its last-chunk flag.
const PREFIX: usize = NONCE - 5;

/// How much of the body each chunk seals: a hundred and fifty chunks for a million consents,
/// so that two threads share them evenly and the tags are noise.
const CHUNK: usize = 1 << 20;

/// The STREAM the chunks of a body sealed under `key` with `prefix` are sealed in.
type Chunks = StreamBE32<XChaCha20Poly1305>;

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
    /// (prefix) and every tag (of the body's SHA-256, for one an earlier version kept in
    /// clear).
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

    /// The bytes the MAC covers: the place, then the seal's marker, nonce (prefix) and every
    /// tag, or, for a body kept in clear, its SHA-256.
    fn message(from: Seq, to: Seq, head: &Hash, body: &[u8]) -> Vec<u8> {
        let mut message = Self::place(from, to, head);
        if let Some((prefix, chunks)) = chunked_parts(body) {
            message.extend_from_slice(CHUNKED);
            message.extend_from_slice(prefix);
            for chunk in chunks.chunks(CHUNK + TAG) {
                // A chunk shorter than a tag opens as nothing: the MAC still covers it.
                message.extend_from_slice(&chunk[chunk.len().saturating_sub(TAG)..]);
            }
            return message;
        }
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

    /// The snapshot of `body` as the store keeps it: sealed in chunks, in place, then
    /// authenticated.
    pub(crate) fn seal(
        mac: &MacKey,
        key: &SnapshotKey,
        from: Seq,
        to: Seq,
        head: Hash,
        body: Vec<u8>,
    ) -> Result<Self, LogError> {
        let too_long = || LogError::Stopped(format!("the snapshot to entry {to} is too long"));
        // In clear it is personal data: zeroed if sealing stops half-way.
        let mut body = Zeroizing::new(body);
        let length = body.len();
        let count = length.div_ceil(CHUNK).max(1);
        u32::try_from(count - 1).map_err(|_| too_long())?;
        let place = Self::place(from, to, &head);
        let mut prefix = [0; PREFIX];
        OsRng.fill_bytes(&mut prefix);
        let chunks = Chunks::from_aead(key.0.clone(), &prefix.into());
        let header = CHUNKED.len() + PREFIX;
        body.resize(header + length + count * TAG, 0);
        // From the last chunk back, each moved right to its place and sealed there, over
        // the room of those after it, which are sealed in theirs already.
        for n in (0..count).rev() {
            let plain = n * CHUNK..length.min((n + 1) * CHUNK);
            let (place_at, len) = (header + n * (CHUNK + TAG), plain.len());
            body.copy_within(plain, place_at);
            chunks
                .encrypt_in_place(
                    u32::try_from(n).map_err(|_| too_long())?,
                    n + 1 == count,
                    &place,
                    &mut InPlace::new(&mut body[place_at..place_at + len + TAG], len),
                )
                .map_err(|_| too_long())?;
        }
        body[..CHUNKED.len()].copy_from_slice(CHUNKED);
        body[CHUNKED.len()..header].copy_from_slice(&prefix);
        let sealed = std::mem::take(&mut *body);
        let tag = mac.tag_snapshot(&Self::message(from, to, &head, &sealed));
        Ok(Self {
            from,
            to,
            head,
            body: sealed,
            mac: tag,
        })
    }

    /// The snapshot of `body` as an earlier version sealed it: whole, under one nonce.
    #[cfg(test)]
    pub(crate) fn seal_whole(
        mac: &MacKey,
        key: &SnapshotKey,
        from: Seq,
        to: Seq,
        head: Hash,
        mut body: Vec<u8>,
    ) -> Self {
        use chacha20poly1305::aead::AeadCore;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let tag = key
            .0
            .encrypt_in_place_detached(&nonce, &Self::place(from, to, &head), &mut body)
            .expect("a test body seals");
        body.splice(0..0, SEALED.iter().chain(nonce.iter()).copied());
        body.extend_from_slice(&tag);
        let tag = mac.tag_snapshot(&Self::message(from, to, &head, &body));
        Self {
            from,
            to,
            head,
            body,
            mac: tag,
        }
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
        let place = Self::place(self.from, self.to, &self.head);
        if let Some((prefix, _)) = chunked_parts(&self.body) {
            let prefix: [u8; PREFIX] = prefix.try_into().ok()?;
            let chunks = Chunks::from_aead(key.0.clone(), &prefix.into());
            let Some(length) =
                open_chunks(&chunks, &place, &mut self.body[CHUNKED.len() + PREFIX..])
            else {
                // The chunks that did open are in clear: gone before the memory is.
                self.body.zeroize();
                return None;
            };
            compact(&mut self.body, length);
            return Some(self);
        }
        let Some((nonce, _, tag)) = sealed_parts(&self.body) else {
            // Kept in clear by an earlier version, and its MAC sound.
            return Some(self);
        };
        let (nonce, tag) = (*XNonce::from_slice(nonce), *Tag::from_slice(tag));
        let end = self.body.len() - TAG;
        let start = SEALED.len() + NONCE;
        key.0
            .decrypt_in_place_detached(&nonce, &place, &mut self.body[start..end], &tag)
            .ok()?;
        self.body.truncate(end);
        self.body.drain(..start);
        Some(self)
    }
}

/// Opens each chunk of `sealed` in place, on two threads when the system gives a second;
/// returns the length of the body they hold, or `None` if one does not open.
fn open_chunks(chunks: &Chunks, place: &[u8], sealed: &mut [u8]) -> Option<usize> {
    let count = sealed.len().div_ceil(CHUNK + TAG).max(1);
    let mut pieces: Vec<(usize, &mut [u8])> = sealed.chunks_mut(CHUNK + TAG).enumerate().collect();
    if pieces.is_empty() {
        return None;
    }
    let open = |pieces: &mut [(usize, &mut [u8])]| {
        pieces.iter_mut().all(|(n, piece)| {
            let Ok(position) = u32::try_from(*n) else {
                return false;
            };
            let length = piece.len();
            chunks
                .decrypt_in_place(
                    position,
                    *n + 1 == count,
                    place,
                    &mut InPlace::new(piece, length),
                )
                .is_ok()
        })
    };
    // Alternate chunks to each thread, so that each has half of every part of the body.
    let (mut ours, theirs): (Vec<_>, Vec<_>) = pieces.drain(..).partition(|(n, _)| n % 2 == 0);
    // Behind a lock only so that this thread can take them if no other is given.
    let theirs = parking_lot::Mutex::new(theirs);
    let opened = std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("amanat-snapshot".into())
            .spawn_scoped(scope, || open(&mut theirs.lock()));
        let mine = open(&mut ours);
        let others = match other {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No second thread: this one opens them too.
            Err(_) => open(&mut theirs.lock()),
        };
        mine && others
    });
    opened.then(|| sealed.len() - count * TAG)
}

/// Moves the opened chunks of a chunked body together at its front, zeroes what is left
/// of them behind, and cuts the body to the `length` they hold.
fn compact(body: &mut Vec<u8>, length: usize) {
    let start = CHUNKED.len() + PREFIX;
    let mut to = 0;
    while to < length {
        let n = to / CHUNK;
        let from = start + n * (CHUNK + TAG);
        let take = CHUNK.min(length - to);
        body.copy_within(from..from + take, to);
        to += take;
    }
    body[length..].fill(0);
    body.truncate(length);
}

/// A chunk's bytes as the STREAM seals and opens it in place: the first `len` of them are
/// the message, and the tag is written after or read from its end.
struct InPlace<'a> {
    bytes: &'a mut [u8],
    len: usize,
}

impl<'a> InPlace<'a> {
    fn new(bytes: &'a mut [u8], len: usize) -> Self {
        Self { bytes, len }
    }
}

impl AsRef<[u8]> for InPlace<'_> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl AsMut<[u8]> for InPlace<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }
}

impl Buffer for InPlace<'_> {
    fn extend_from_slice(&mut self, other: &[u8]) -> chacha20poly1305::aead::Result<()> {
        let end = self.len + other.len();
        let room = self
            .bytes
            .get_mut(self.len..end)
            .ok_or(chacha20poly1305::aead::Error)?;
        room.copy_from_slice(other);
        self.len = end;
        Ok(())
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

/// A chunked body's nonce prefix and its chunks; `None` for any other body.
fn chunked_parts(body: &[u8]) -> Option<(&[u8], &[u8])> {
    body.strip_prefix(CHUNKED)?.split_at_checked(PREFIX)
}

/// A sealed body's nonce, ciphertext and tag; `None` for a body kept in clear.
fn sealed_parts(body: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let rest = body.strip_prefix(SEALED)?;
    let (nonce, rest) = rest.split_at_checked(NONCE)?;
    let (ciphertext, tag) = rest.split_at_checked(rest.len().checked_sub(TAG)?)?;
    Some((nonce, ciphertext, tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Kek;

    struct Keys {
        mac: MacKey,
        key: SnapshotKey,
    }

    fn keys() -> Keys {
        let kek = Kek::random();
        Keys {
            mac: MacKey::new(&kek).unwrap(),
            key: SnapshotKey::new(&kek).unwrap(),
        }
    }

    fn seq(n: u64) -> Seq {
        Seq::new(n)
    }

    /// A body of `length` bytes no two chunks of which are alike.
    fn body(length: usize) -> Vec<u8> {
        (0..length)
            .map(|n| u8::try_from((n % 251) ^ (n / CHUNK % 256)).unwrap())
            .collect()
    }

    /// `snapshot` with its first two chunks in each other's place.
    fn first_two_swapped(snapshot: &Snapshot) -> Snapshot {
        let (start, piece) = (CHUNKED.len() + PREFIX, CHUNK + TAG);
        let mut swapped = snapshot.clone();
        swapped.body[start..start + 2 * piece].rotate_left(piece);
        swapped
    }

    fn sealed(keys: &Keys, body: Vec<u8>) -> Snapshot {
        Snapshot::seal(&keys.mac, &keys.key, seq(1), seq(9), [7; 32], body).unwrap()
    }

    #[test]
    fn a_body_sealed_in_chunks_opens_to_itself_at_every_length() {
        let keys = keys();
        for length in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17] {
            let snapshot = sealed(&keys, body(length));
            assert!(snapshot.body.starts_with(CHUNKED));
            assert_eq!(
                snapshot.body.len(),
                CHUNKED.len() + PREFIX + length + length.div_ceil(CHUNK).max(1) * TAG
            );
            let opened = snapshot.open(&keys.mac, &keys.key).unwrap();
            assert_eq!(opened.body, body(length), "{length} bytes");
        }
    }

    #[test]
    fn a_body_sealed_whole_by_an_earlier_version_still_opens() {
        let keys = keys();
        let old = Snapshot::seal_whole(&keys.mac, &keys.key, seq(1), seq(9), [7; 32], body(5000));
        assert!(old.body.starts_with(SEALED));
        assert_eq!(old.open(&keys.mac, &keys.key).unwrap().body, body(5000));
    }

    /// What a holder of the store, without the keys, can do to the chunks: each is refused,
    /// by the MAC over the tags or by a chunk's own tag, its position or its last flag.
    #[test]
    fn a_chunk_altered_moved_dropped_or_cut_does_not_open() {
        let keys = keys();
        let snapshot = sealed(&keys, body(3 * CHUNK + 100));
        let start = CHUNKED.len() + PREFIX;
        let piece = CHUNK + TAG;
        let mut altered = snapshot.clone();
        altered.body[start + piece + 5] ^= 1;
        let swapped = first_two_swapped(&snapshot);
        let mut dropped = snapshot.clone();
        dropped.body.drain(start + piece..start + 2 * piece);
        let mut cut = snapshot.clone();
        cut.body.truncate(start + 3 * piece);
        let mut prefix = snapshot.clone();
        prefix.body[CHUNKED.len()] ^= 1;
        for (what, case) in [
            ("altered", altered),
            ("swapped", swapped),
            ("dropped", dropped),
            ("cut after a whole chunk", cut),
            ("another prefix", prefix),
        ] {
            assert!(case.open(&keys.mac, &keys.key).is_none(), "{what}");
        }
    }

    /// With the MAC made again over what was changed — as only the log key's holder can —
    /// each chunk still answers for itself: its tag, its position and its last flag.
    #[test]
    fn a_chunk_moved_or_cut_is_refused_by_the_stream_even_under_a_fresh_mac() {
        let keys = keys();
        let snapshot = sealed(&keys, body(2 * CHUNK + 100));
        let start = CHUNKED.len() + PREFIX;
        let piece = CHUNK + TAG;
        let remac = |mut case: Snapshot| {
            case.mac = keys.mac.tag_snapshot(&Snapshot::message(
                case.from, case.to, &case.head, &case.body,
            ));
            case
        };
        let swapped = first_two_swapped(&snapshot);
        let mut cut = snapshot.clone();
        cut.body.truncate(start + 2 * piece);
        let mut elsewhere = snapshot.clone();
        elsewhere.to = seq(10);
        for (what, case) in [
            ("swapped", swapped),
            ("cut after a whole chunk", cut),
            ("bound to another place", elsewhere),
        ] {
            assert!(remac(case).open(&keys.mac, &keys.key).is_none(), "{what}");
        }
        assert!(remac(snapshot).open(&keys.mac, &keys.key).is_some());
    }
}
