//! How a key-encryption key is named: its purpose and its version.

use std::fmt;

/// What a KEK is for. Each purpose has keys of its own, rotated on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// Wraps the per-record data keys in the key store.
    WrapDataKeys,
    /// Authenticates the event log (reserved for the authenticated log).
    AuthenticateLog,
    /// Signs the event log's checkpoints (reserved for the authenticated log).
    SignCheckpoints,
}

impl KeyPurpose {
    /// Every purpose.
    pub const ALL: [KeyPurpose; 3] = [
        KeyPurpose::WrapDataKeys,
        KeyPurpose::AuthenticateLog,
        KeyPurpose::SignCheckpoints,
    ];

    /// The purpose's name, as [`KeyDir`](super::KeyDir) names its files: `wrap-data-keys`,
    /// `authenticate-log`, `sign-checkpoints`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::WrapDataKeys => "wrap-data-keys",
            KeyPurpose::AuthenticateLog => "authenticate-log",
            KeyPurpose::SignCheckpoints => "sign-checkpoints",
        }
    }
}

impl fmt::Display for KeyPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A KEK's version within its purpose: 1 for the first, one more at each rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyVersion(pub(super) u32);

impl KeyVersion {
    /// Version `n`.
    pub const fn new(n: u32) -> Self {
        Self(n)
    }

    /// Its number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}
