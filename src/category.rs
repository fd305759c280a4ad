//! Categories of personal data, as types.
//!
//! A category is a zero-sized marker type that implements [`Category`]. Every
//! [`PersonalData`](crate::PersonalData) and every [`ConsentToken`](crate::ConsentToken)
//! carries its category in its type, so that a token for a phone number can't open a
//! passport: that mistake is a compile error, not a runtime check.
//!
//! The built-in markers are the ones a fintech meets on day one: [`Biometric`] (a selfie, a
//! fingerprint; a special category that needs written consent, Tajik law Art. 17),
//! [`IdentityDocument`] (passport, ID card, PINFL; also spelled [`Passport`]),
//! [`PaymentCard`] and [`Phone`].
//!
//! # Adding a category of your own
//!
//! Declare an uninhabited enum (so nobody can build a value of it by mistake) and implement
//! [`Category`] for it. The id must be stable — it is written into consents, audit records
//! and stores — and unique among the categories your program uses.
//!
//! ```
//! use amanat::category::{Access, Category, CategoryId};
//!
//! /// A customer's home address.
//! pub enum Address {}
//!
//! impl Category for Address {
//!     const ID: CategoryId = CategoryId::new("address");
//!     const SPECIAL: bool = false;
//!     const ACCESS: Access = Access::Restricted;
//! }
//!
//! assert_eq!(Address::ID.as_str(), "address");
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A kind of personal data, as a marker type.
///
/// See the [module documentation](self) for how to add one. The trait has no methods: the
/// category is only ever a type parameter, so it costs nothing at run time.
pub trait Category: Send + Sync + 'static {
    /// The category's stable id, written into consents and records.
    const ID: CategoryId;
    /// Whether this is a special category whose processing needs **written** consent unless
    /// a statutory exception applies (Tajik law Art. 17 for biometric data).
    const SPECIAL: bool;
    /// Whether the data is public-access or restricted-access (Tajik law Art. 9).
    const ACCESS: Access;
}

/// The stable id of a [`Category`], for use at run time (in consents, errors and records).
///
/// Two categories are the same when their ids are equal.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CategoryId(&'static str);

impl CategoryId {
    /// Makes an id from a static string. Ids are short, lower-case, snake-case names by
    /// convention (`biometric`, `identity_document`).
    pub const fn new(id: &'static str) -> Self {
        Self(id)
    }

    /// The id as text.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// This category's bit in a consent's category mask (see `vocab::id_bit`).
    pub(crate) const fn bit(self) -> u32 {
        crate::vocab::id_bit(self.0)
    }

    /// The id of the category `C`.
    ///
    /// ```
    /// use amanat::category::{Biometric, CategoryId};
    /// assert_eq!(CategoryId::of::<Biometric>().as_str(), "biometric");
    /// ```
    pub const fn of<C: Category>() -> Self {
        C::ID
    }
}

impl fmt::Display for CategoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for CategoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CategoryId({:?})", self.0)
    }
}

impl Serialize for CategoryId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// How many distinct category ids a process may read back: an id is kept for the life of
/// the process once read, so a damaged or hostile file can't make the registry grow
/// without bound.
const MAX_CATEGORIES: usize = 4096;

impl CategoryId {
    /// The id with this text, as it is read back from a store, a proof or a file: the
    /// same id as the category type's, so the two compare equal. Lower-case ASCII letters,
    /// digits and `_`, up to 128 bytes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidId`](crate::Error::InvalidId) if the text is not such an id, or if
    /// the process has already read 4096 distinct ones.
    ///
    /// ```
    /// use amanat::category::{Biometric, Category, CategoryId};
    /// assert_eq!(CategoryId::intern("biometric")?, Biometric::ID);
    /// assert!(CategoryId::intern("Not An Id").is_err());
    /// # Ok::<(), amanat::Error>(())
    /// ```
    pub fn intern(id: &str) -> Result<Self, crate::Error> {
        use std::collections::HashSet;
        use std::sync::{Mutex, OnceLock, PoisonError};
        static KNOWN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
        let invalid = |reason| crate::Error::InvalidId {
            kind: "category",
            reason,
        };
        if id.is_empty() || id.len() > 128 {
            return Err(invalid("it is empty or longer than 128 bytes"));
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid("it has a character outside a-z, 0-9 and _"));
        }
        let mut known = KNOWN
            .get_or_init(|| {
                Mutex::new(
                    [
                        Biometric::ID,
                        IdentityDocument::ID,
                        PaymentCard::ID,
                        Phone::ID,
                    ]
                    .into_iter()
                    .map(Self::as_str)
                    .collect(),
                )
            })
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(&kept) = known.get(id) {
            return Ok(Self(kept));
        }
        if known.len() >= MAX_CATEGORIES {
            return Err(invalid(
                "too many distinct category ids read in this process",
            ));
        }
        // Kept for the life of the process: ids are few, and a `CategoryId` is `Copy`.
        let kept: &'static str = Box::leak(id.to_owned().into_boxed_str());
        known.insert(kept);
        Ok(Self(kept))
    }
}

impl<'de> Deserialize<'de> for CategoryId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Self::intern(&id).map_err(serde::de::Error::custom)
    }
}

/// Whether personal data of a category is public-access or restricted-access (Tajik law
/// Art. 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Made public by the subject or by law (a name in a public register).
    Public,
    /// Everything else: access only under the confidentiality regime.
    Restricted,
}

/// Biometric data: a selfie, a face image, a fingerprint (Tajik law Art. 1, 17).
///
/// A special category: only **written** consent allows processing it, except on the
/// statutory grounds of Art. 17.2 (see [`LegalBasis::BiometricException`](crate::LegalBasis)).
#[derive(Debug)]
pub enum Biometric {}

impl Category for Biometric {
    const ID: CategoryId = CategoryId::new("biometric");
    const SPECIAL: bool = true;
    const ACCESS: Access = Access::Restricted;
}

/// An identity document: passport, ID card, the personal identification number (PINFL).
#[derive(Debug)]
pub enum IdentityDocument {}

impl Category for IdentityDocument {
    const ID: CategoryId = CategoryId::new("identity_document");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Restricted;
}

/// Another name for [`IdentityDocument`], for code that reads better with it.
pub type Passport = IdentityDocument;

/// A payment card: its number (PAN), expiry and holder name. Sensitive authentication data
/// (CVV/CVC, PIN) never belongs here: PCI DSS forbids storing it at all.
#[derive(Debug)]
pub enum PaymentCard {}

impl Category for PaymentCard {
    const ID: CategoryId = CategoryId::new("payment_card");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Restricted;
}

/// A phone number.
#[derive(Debug)]
pub enum Phone {}

impl Category for Phone {
    const ID: CategoryId = CategoryId::new("phone");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Restricted;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_ids_are_distinct_and_stable() {
        let ids = [
            Biometric::ID,
            IdentityDocument::ID,
            PaymentCard::ID,
            Phone::ID,
        ];
        let mut names: Vec<_> = ids.iter().map(|id| id.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ids.len());
        assert_eq!(Passport::ID, IdentityDocument::ID);
    }

    #[test]
    fn only_biometric_is_special() {
        let special: Vec<_> = [
            (Biometric::ID, Biometric::SPECIAL),
            (IdentityDocument::ID, IdentityDocument::SPECIAL),
            (PaymentCard::ID, PaymentCard::SPECIAL),
            (Phone::ID, Phone::SPECIAL),
        ]
        .into_iter()
        .filter_map(|(id, special)| special.then_some(id))
        .collect();
        assert_eq!(special, [Biometric::ID]);
    }
}
