//! [`Sealable`]: what a vault can hold.

use zeroize::{Zeroize, Zeroizing};

/// A value that can be sealed in a vault and read back: its bytes, and the value again
/// from them.
pub trait Sealable: Zeroize + Sized {
    /// The value as bytes, zeroized when dropped.
    fn to_sealed_bytes(&self) -> Zeroizing<Vec<u8>>;

    /// The value from what [`to_sealed_bytes`](Self::to_sealed_bytes) gave, or `None` if
    /// they are not such a value.
    fn from_sealed_bytes(bytes: &[u8]) -> Option<Self>;
}

impl Sealable for Vec<u8> {
    fn to_sealed_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.clone())
    }

    fn from_sealed_bytes(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

impl Sealable for String {
    fn to_sealed_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.as_bytes().to_vec())
    }

    fn from_sealed_bytes(bytes: &[u8]) -> Option<Self> {
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }
}
