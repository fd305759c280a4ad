//! The keyring: a key for each name (an operator's subject) that seals the personal data of
//! that name's entries, kept by the store beside the entries and shredded to erase what it
//! sealed. The chain covers the ciphertext, so a shredded key leaves every hash, link and
//! MAC as it was: the log still verifies, and no one can read what was erased.

#![cfg_attr(
    not(feature = "sqlite"),
    allow(dead_code, reason = "only an operator's own log seals entries")
)]

use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::entry::derive;
use crate::error::LogError;
use crate::key::{Kek, KeyError};

/// A key's handle: when it was made, then chance, so that it says nothing of the name it
/// seals for.
pub type Handle = [u8; 16];

/// One key of the keyring, as the store keeps it. Every field is public so that a store
/// can build one from its rows; nothing in it is trusted until the log has checked its MAC.
///
/// A live row holds its name's tag and its wrapped key; a shredded row holds neither, and
/// its MAC says it was shredded by the log's key holder, so a row deleted or emptied by
/// anyone else is told apart from an erasure.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// The key's handle, which sealed entries name.
    pub handle: Handle,
    /// HMAC-SHA-256 of the name under a key derived from the log's: finds a name's key
    /// without the name being stored. `None` once shredded.
    pub tag: Option<[u8; 32]>,
    /// The key, wrapped under a key derived from the log's. `None` once shredded.
    pub wrapped: Option<[u8; 32]>,
    /// HMAC-SHA-256 under a key derived from the log's of the rest: a row can't be made,
    /// edited, given another handle or marked shredded without it.
    pub mac: [u8; 32],
}

/// A key is never printed, nor a name's tag.
impl fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRow")
            .field("handle", &hex::encode(self.handle))
            .field("shredded", &self.is_shredded())
            .finish_non_exhaustive()
    }
}

impl KeyRow {
    /// Whether the key was shredded: what it sealed can't be read any more.
    pub fn is_shredded(&self) -> bool {
        self.wrapped.is_none()
    }
}

/// Separates each use of the log's key in the keyring from the others.
const TAG_LABEL: &[u8] = b"amanat/log/keyring/tag/v1";
const WRAP_LABEL: &[u8] = b"amanat/log/keyring/wrap/v1";
const ROW_LABEL: &[u8] = b"amanat/log/keyring/row/v1";

/// The keys the keyring is made with, each derived from the log's.
#[derive(Clone)]
pub(crate) struct Keyring {
    tag: Hmac<Sha256>,
    wrap: Hmac<Sha256>,
    row: Hmac<Sha256>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyring")
    }
}

fn keyed(kek: &Kek, label: &[u8]) -> Result<Hmac<Sha256>, LogError> {
    let derived = Zeroizing::new(derive(kek, label)?);
    <Hmac<Sha256> as Mac>::new_from_slice(derived.as_slice())
        .map_err(|_| LogError::Key(KeyError::Corrupt("log key size".into())))
}

fn fed(key: &Hmac<Sha256>, parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = key.clone();
    for part in parts {
        // Each part prefixed with its length, so no two rows MAC the same bytes.
        mac.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
        mac.update(part);
    }
    mac
}

fn tag_of(key: &Hmac<Sha256>, parts: &[&[u8]]) -> [u8; 32] {
    fed(key, parts).finalize().into_bytes().into()
}

impl Keyring {
    pub(crate) fn new(kek: &Kek) -> Result<Self, LogError> {
        Ok(Self {
            tag: keyed(kek, TAG_LABEL)?,
            wrap: keyed(kek, WRAP_LABEL)?,
            row: keyed(kek, ROW_LABEL)?,
        })
    }

    /// The tag a name's rows carry.
    pub(crate) fn tag(&self, name: &[u8]) -> [u8; 32] {
        tag_of(&self.tag, &[name])
    }

    fn row_mac(
        &self,
        handle: &Handle,
        tag: Option<&[u8; 32]>,
        wrapped: Option<&[u8; 32]>,
    ) -> Hmac<Sha256> {
        match (tag, wrapped) {
            (Some(tag), Some(wrapped)) => fed(&self.row, &[b"live", handle, tag, wrapped]),
            _ => fed(&self.row, &[b"shredded", handle]),
        }
    }

    /// The pad a key is wrapped with: a PRF of its handle, which is random and used once.
    fn pad(&self, handle: &Handle) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(tag_of(&self.wrap, &[handle]))
    }

    /// A fresh key for `name`, with the row that keeps it.
    pub(crate) fn create(&self, name: &[u8]) -> (KeyRow, SealKey) {
        // The time first, then chance: handles made one after the other sort one after the
        // other, so the store's index on them grows at its end rather than at random
        // pages: a page written per batch, not one per new subject. The time says no more
        // than the position of the first entry sealed under the key already does.
        let mut handle = [0; 16];
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        handle[..8].copy_from_slice(&micros.to_be_bytes());
        OsRng.fill_bytes(&mut handle[8..]);
        let mut key = Zeroizing::new([0_u8; 32]);
        OsRng.fill_bytes(key.as_mut_slice());
        let pad = self.pad(&handle);
        let mut wrapped = [0; 32];
        for ((out, k), p) in wrapped.iter_mut().zip(key.iter()).zip(pad.iter()) {
            *out = k ^ p;
        }
        let tag = self.tag(name);
        let row = KeyRow {
            handle,
            tag: Some(tag),
            wrapped: Some(wrapped),
            mac: self
                .row_mac(&handle, Some(&tag), Some(&wrapped))
                .finalize()
                .into_bytes()
                .into(),
        };
        (row, SealKey::new(handle, &key))
    }

    /// The row that marks `handle`'s key shredded.
    pub(crate) fn shredded(&self, handle: Handle) -> KeyRow {
        KeyRow {
            handle,
            tag: None,
            wrapped: None,
            mac: self
                .row_mac(&handle, None, None)
                .finalize()
                .into_bytes()
                .into(),
        }
    }

    /// The key a row keeps: `Ok(None)` if it was shredded, [`BadRow`] if the row does not
    /// verify (made, edited or emptied without the log's key).
    pub(crate) fn open(&self, row: &KeyRow) -> Result<Option<SealKey>, BadRow> {
        // Compared in constant time: a timing difference would tell how much of a forged
        // MAC was right.
        let sound = self
            .row_mac(&row.handle, row.tag.as_ref(), row.wrapped.as_ref())
            .verify_slice(&row.mac)
            .is_ok();
        if !sound || row.tag.is_some() != row.wrapped.is_some() {
            return Err(BadRow);
        }
        Ok(row.wrapped.map(|wrapped| {
            let pad = self.pad(&row.handle);
            let mut key = Zeroizing::new([0_u8; 32]);
            for ((out, w), p) in key.iter_mut().zip(wrapped.iter()).zip(pad.iter()) {
                *out = w ^ p;
            }
            SealKey::new(row.handle, &key)
        }))
    }
}

/// A key row that does not verify under the log's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadRow;

/// One name's key, unwrapped: seals and opens that name's payloads.
#[derive(Clone)]
pub(crate) struct SealKey {
    handle: Handle,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKey")
            .field("handle", &hex::encode(self.handle))
            .finish_non_exhaustive()
    }
}

/// The nonce's length, which a sealed payload starts with.
const NONCE: usize = 24;

/// A nonce for one [`SealKey::seal_with`]: random, never used twice.
pub(crate) struct Nonce(XNonce);

impl Nonce {
    /// A fresh one.
    pub(crate) fn random() -> Self {
        Self(XChaCha20Poly1305::generate_nonce(&mut OsRng))
    }
}

impl SealKey {
    fn new(handle: Handle, key: &[u8; 32]) -> Self {
        Self {
            handle,
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The key's handle.
    pub(crate) fn handle(&self) -> Handle {
        self.handle
    }

    /// `plain` encrypted, `aad` bound in: the nonce, drawn beforehand (out of a lock, say),
    /// then the ciphertext.
    pub(crate) fn seal_with(&self, nonce: &Nonce, aad: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
        let nonce = &nonce.0;
        let sealed = self
            .cipher
            .encrypt(nonce, Payload { msg: plain, aad })
            .ok()?;
        let mut out = Vec::with_capacity(NONCE + sealed.len());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// What [`seal_with`](Self::seal_with) sealed with the same `aad`, or `None` if it does not
    /// authenticate. The plaintext is zeroized when dropped.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE)?;
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_opens_under_its_keyring_only_and_not_once_edited() {
        let keyring = Keyring::new(&Kek::random()).unwrap();
        let other = Keyring::new(&Kek::random()).unwrap();
        let (row, key) = keyring.create(b"cust-1");
        let sealed = key
            .seal_with(&Nonce::random(), b"aad", b"AA1234567")
            .unwrap();
        let opened = keyring.open(&row).unwrap().unwrap();
        assert_eq!(
            opened.open(b"aad", &sealed).unwrap().as_slice(),
            b"AA1234567"
        );
        assert!(opened.open(b"other", &sealed).is_none());
        assert_eq!(other.open(&row).err(), Some(BadRow));

        let mut edited = row.clone();
        edited.wrapped.as_mut().unwrap()[0] ^= 1;
        assert_eq!(keyring.open(&edited).err(), Some(BadRow));
        let mut moved = row.clone();
        moved.handle[0] ^= 1;
        assert_eq!(keyring.open(&moved).err(), Some(BadRow));
        // Emptied by someone without the key: not an erasure.
        let emptied = KeyRow {
            tag: None,
            wrapped: None,
            ..row.clone()
        };
        assert_eq!(keyring.open(&emptied).err(), Some(BadRow));
        assert!(
            keyring
                .open(&keyring.shredded(row.handle))
                .unwrap()
                .is_none()
        );
        assert_eq!(row.tag, Some(keyring.tag(b"cust-1")));
        assert!(!format!("{row:?}{opened:?}").contains("cust-1"));
    }
}
