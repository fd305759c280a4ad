//! The SHA-256 digests events and entries carry.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 digest in an audit entry, written as lower-case hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChainHash(pub(crate) [u8; 32]);

impl ChainHash {
    /// What the first entry of a chain links to.
    pub(crate) const GENESIS: ChainHash = ChainHash([0; 32]);

    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The SHA-256 of `value`'s compact JSON: how consent events and receipts are digested.
    pub(crate) fn of_json(value: &impl Serialize) -> Self {
        let mut hasher = Sha256::new();
        // Writing to a hasher can't fail, and these values always serialize.
        let _ = serde_json::to_writer(&mut hasher, value);
        Self(hasher.finalize().into())
    }
}

impl std::fmt::Display for ChainHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from(*self))
    }
}

impl From<ChainHash> for String {
    fn from(hash: ChainHash) -> Self {
        hex::encode(hash.0)
    }
}

impl TryFrom<String> for ChainHash {
    type Error = String;
    fn try_from(hex: String) -> Result<Self, String> {
        let mut out = [0; 32];
        hex::decode_to_slice(hex, &mut out).map_err(|_| "a chain hash is 64 hex digits")?;
        Ok(ChainHash(out))
    }
}
