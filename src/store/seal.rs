//! Sealed records: a value encrypted under its record's data key.

use std::fmt;

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, AeadCore, OsRng, Payload};
use zeroize::Zeroizing;

use super::keys::{KeyError, KeyStore};
use crate::data::RecordId;
use crate::vocab::SubjectId;

/// Why a record could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The record's key is not in this key store: the record was destroyed, and no copy of
    /// it can be opened any more — or it was sealed with another key store.
    #[error("record {record} has no key here: destroyed, or sealed with another key store")]
    Shredded {
        /// The record.
        record: RecordId,
    },
    /// The ciphertext does not authenticate under the record's key: it was altered, cut,
    /// or moved from another record. Nothing was decrypted.
    #[error("sealed record {record} was tampered with: refused")]
    Tampered {
        /// The record it claims to be.
        record: RecordId,
    },
    /// Bytes that are not a sealed record.
    #[error("not a sealed record: {0}")]
    Malformed(&'static str),
    /// The key store could not answer.
    #[error(transparent)]
    Keys(KeyError),
}

impl From<KeyError> for SealError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Shredded { record } => SealError::Shredded { record },
            other => SealError::Keys(other),
        }
    }
}

/// A record's value encrypted with XChaCha20-Poly1305 under its own data key, the record's
/// id and the format version bound in as associated data. It holds the id, a random nonce
/// and the ciphertext — nothing that opens it without the key store.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    record: RecordId,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("record", &self.record)
            .field("bytes", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Layout of [`Sealed::to_bytes`]: version, record id, nonce, then the ciphertext.
const VERSION: u8 = 1;
const HEADER: usize = 1 + 16 + 24;

/// What the cipher authenticates beside the value: the format version and the record id,
/// so that neither can be rewritten in a copy without the value being refused.
fn associated(record: RecordId) -> [u8; 17] {
    let mut data = [0; 17];
    data[0] = VERSION;
    data[1..].copy_from_slice(record.as_bytes());
    data
}

impl Sealed {
    /// Seals `plain` as record `record` of `subject` under a fresh data key kept in `keys`.
    ///
    /// # Errors
    ///
    /// [`SealError::Keys`] if the key store can't keep the key, or already has one for the
    /// record ([`KeyError::Exists`]); nothing is sealed then.
    pub fn seal(
        keys: &dyn KeyStore,
        record: RecordId,
        subject: &SubjectId,
        plain: &[u8],
    ) -> Result<Self, SealError> {
        let key = keys.create(record, subject)?;
        let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = key.cipher().encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: &associated(record),
            },
        );
        let Ok(ciphertext) = sealed else {
            // No key without a sealed value to open.
            let _ = keys.shred(record);
            return Err(SealError::Malformed("the value is too long to seal"));
        };
        Ok(Self {
            record,
            nonce: nonce.into(),
            ciphertext,
        })
    }

    /// Opens the record with its key from `keys`. The plaintext is zeroized when dropped.
    ///
    /// # Errors
    ///
    /// [`SealError::Shredded`] if its key was deleted; [`SealError::Tampered`] if the
    /// ciphertext does not authenticate; [`SealError::Keys`] if the store can't answer.
    pub fn open(&self, keys: &dyn KeyStore) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let key = keys.get(self.record)?;
        key.cipher()
            .decrypt(
                XNonce::from_slice(&self.nonce),
                Payload {
                    msg: &self.ciphertext,
                    aad: &associated(self.record),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Tampered {
                record: self.record,
            })
    }

    /// The record it seals.
    pub fn record(&self) -> RecordId {
        self.record
    }

    /// The bytes to store: a version, the record id, the nonce and the ciphertext.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(self.record.as_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote. Whether it was altered shows when it
    /// is opened.
    ///
    /// # Errors
    ///
    /// [`SealError::Malformed`] if the bytes are too short or of an unknown version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() < HEADER + 16 {
            return Err(SealError::Malformed("too short"));
        }
        if bytes[0] != VERSION {
            return Err(SealError::Malformed("unknown version"));
        }
        let mut id = [0; 16];
        id.copy_from_slice(&bytes[1..17]);
        let mut nonce = [0; 24];
        nonce.copy_from_slice(&bytes[17..HEADER]);
        Ok(Self {
            record: RecordId::from_bytes(id),
            nonce,
            ciphertext: bytes[HEADER..].to_vec(),
        })
    }
}
