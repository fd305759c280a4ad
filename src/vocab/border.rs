//! Borders: countries by their ISO code (where a store stands, where a transfer goes) and
//! the grounds on which data may cross them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 3166-1 alpha-2 country code: `TJ`, `UZ`, `SG`.
///
/// ```
/// use amanat::policy::Country;
/// let sg: Country = "SG".parse()?;
/// assert_eq!(sg.as_str(), "SG");
/// assert!("sg".parse::<Country>().is_err());
/// # Ok::<(), amanat::policy::ParseCountryError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country([u8; 2]);

impl Country {
    /// Tajikistan.
    pub const TJ: Country = Country(*b"TJ");
    /// Uzbekistan.
    pub const UZ: Country = Country(*b"UZ");

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only two ASCII capitals ever get in (see `FromStr`).
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// The text was not two upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a country code: expected two upper-case letters (ISO 3166-1 alpha-2)")]
pub struct ParseCountryError;

impl std::str::FromStr for Country {
    type Err = ParseCountryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Self([a, b])),
            _ => Err(ParseCountryError),
        }
    }
}

impl TryFrom<String> for Country {
    type Error = ParseCountryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Country> for String {
    fn from(country: Country) -> Self {
        country.as_str().to_owned()
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.as_str())
    }
}

/// The ground for sending data to a country that is neither home nor on the adequacy list
/// (Tajik law Art. 18; Uzbek ZRU-547 as amended in 2026).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferBasis {
    /// The subject consents to the cross-border transfer.
    Consent,
    /// An international treaty.
    Treaty,
    /// A law requires it.
    Law,
    /// To protect the subject's rights when consent can't be had.
    ProtectionOfRights,
    /// Standard contract clauses or binding corporate rules approved by the authority.
    StandardClauses,
    /// International standards approved by the authority.
    InternationalStandards,
}

impl TransferBasis {
    /// The name used in policies and reports.
    pub const fn name(self) -> &'static str {
        match self {
            TransferBasis::Consent => "consent",
            TransferBasis::Treaty => "treaty",
            TransferBasis::Law => "law",
            TransferBasis::ProtectionOfRights => "protection_of_rights",
            TransferBasis::StandardClauses => "standard_clauses",
            TransferBasis::InternationalStandards => "international_standards",
        }
    }
}
