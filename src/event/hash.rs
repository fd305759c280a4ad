//! The SHA-256 digests events and entries carry.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest in an audit entry, written as lower-case hex (as its 32 bytes in a
/// compact binary format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        hex.parse()
    }
}

impl std::str::FromStr for ChainHash {
    type Err = String;
    fn from_str(hex: &str) -> Result<Self, String> {
        let mut out = [0; 32];
        hex::decode_to_slice(hex, &mut out).map_err(|_| "a chain hash is 64 hex digits")?;
        Ok(ChainHash(out))
    }
}

impl Serialize for ChainHash {
    fn serialize<S: Serializer>(&self, to: S) -> Result<S::Ok, S::Error> {
        if to.is_human_readable() {
            let mut hex = [0_u8; 64];
            // 32 bytes always fill 64 hex digits.
            let _ = hex::encode_to_slice(self.0, &mut hex);
            to.serialize_str(std::str::from_utf8(&hex).unwrap_or_default())
        } else {
            self.0.serialize(to)
        }
    }
}

impl<'de> Deserialize<'de> for ChainHash {
    fn deserialize<D: Deserializer<'de>>(from: D) -> Result<Self, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = ChainHash;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("64 hex digits")
            }
            // Read in place: no string is made for each of an entry's three hashes.
            fn visit_str<E: serde::de::Error>(self, hex: &str) -> Result<ChainHash, E> {
                hex.parse().map_err(E::custom)
            }
        }
        if from.is_human_readable() {
            from.deserialize_str(Hex)
        } else {
            <[u8; 32]>::deserialize(from).map(ChainHash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_hex_in_json_and_bytes_in_postcard() {
        let hash = ChainHash::of(b"entry");
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{hash}\""));
        assert_eq!(serde_json::from_str::<ChainHash>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<ChainHash>("\"00\"").is_err());
        #[cfg(feature = "sqlite")]
        {
            let bytes = postcard::to_stdvec(&hash).unwrap();
            assert_eq!(bytes.len(), 32);
            assert_eq!(postcard::from_bytes::<ChainHash>(&bytes).unwrap(), hash);
        }
    }
}
