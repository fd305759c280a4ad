//! The ids of what the library records: consents, records, holds, and entries of the log.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The id of one consent in the ledger.
///
/// ```
/// use amanat::ConsentId;
/// let id: ConsentId = "0b6f3c5e-1d2a-4f4e-9c1b-6a0f3c2d1e5f".parse()?;
/// assert_eq!(id.to_string(), "0b6f3c5e-1d2a-4f4e-9c1b-6a0f3c2d1e5f");
/// # Ok::<(), amanat::consent::ParseIdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConsentId(Uuid);

impl ConsentId {
    pub(crate) fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id's sixteen bytes.
    #[cfg_attr(
        not(feature = "sqlite"),
        allow(dead_code, reason = "only an operator's own log seals entries")
    )]
    pub(crate) fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// The id of these sixteen bytes.
    pub(crate) fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes))
    }
}

impl fmt::Display for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsentId({self})")
    }
}

/// The text was not a [`ConsentId`] or [`RecordId`](crate::data::RecordId): they are
/// UUIDs, written hyphenated, simple, braced or as a URN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an id: expected a UUID")]
pub struct ParseIdError;

impl FromStr for ConsentId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(s).map(Self).map_err(|_| ParseIdError)
    }
}

/// The id of one [`PersonalData`](crate::PersonalData) record: what receipts, audit records and stores name
/// instead of the value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(Uuid);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl RecordId {
    /// A new id, for a record the library tracks but does not hold — a database row, a file
    /// in object storage.
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id's 16 bytes, as sealed records bind it.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// An id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes))
    }
}

impl FromStr for RecordId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(s).map(Self).map_err(|_| ParseIdError)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

/// The id of a placed hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HoldId(pub(crate) u64);

impl fmt::Display for HoldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hold-{}", self.0)
    }
}

/// An entry's position in the log: 1 for the first, one more for each after it. The store
/// assigns it; a gap or a repeat is tampering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(u64);

impl Seq {
    /// The first entry's position.
    pub const FIRST: Seq = Seq(1);

    /// Position `n`.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// Its number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The position after it.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
