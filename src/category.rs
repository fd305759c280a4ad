//! Categories of personal data, as types.
//!
//! A category is a zero-sized marker type that implements [`Category`]. Every
//! [`PersonalData`](crate::PersonalData) and every [`ConsentToken`](crate::ConsentToken)
//! carries its category in its type, so that a token for a phone number can't open a
//! passport: that mistake is a compile error, not a runtime check.
//!
//! The built-in markers are the ones a fintech meets on day one: [`Biometric`] (a selfie, a
//! fingerprint; written consent under Tajik law Art. 17, any provable consent under ZRU-547
//! Art. 26),
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

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::OnceLock;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

pub use crate::vocab::category_id::CategoryId;

/// A kind of personal data, as a marker type.
///
/// See the [module documentation](self) for how to add one. The trait has no methods: the
/// category is only ever a type parameter, so it costs nothing at run time.
pub trait Category: Send + Sync + 'static {
    /// The category's stable id, written into consents and records.
    const ID: CategoryId;
    /// Whether this is a special category whose processing needs **written** consent unless
    /// a statutory exception applies — what the library asks when no policy is in force.
    /// Under a policy its pack decides: biometric data needs written consent under Tajik
    /// law (Art. 17.1), and consent in any provable form under ZRU-547 (Art. 26), whose
    /// written form is for the special data of Art. 25.
    const SPECIAL: bool;
    /// Whether the data is public-access or restricted-access (Tajik law Art. 9).
    const ACCESS: Access;
}

// Defined here rather than beside `CategoryId`, which sits in the vocabulary below the
// trait.
impl CategoryId {
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

/// Which type claims each category id in this process: a category is its type, so two
/// types that claim one id can't both be used. The built-in categories are claimed before
/// anything else, so a type of the program's that reuses `biometric` always loses. Only
/// types are registered, never ids read from input, so it is bounded by the program.
fn claims() -> &'static RwLock<HashMap<&'static str, TypeId>> {
    static CLAIMS: OnceLock<RwLock<HashMap<&'static str, TypeId>>> = OnceLock::new();
    CLAIMS.get_or_init(|| {
        RwLock::new(HashMap::from([
            (Biometric::NAME, TypeId::of::<Biometric>()),
            (IdentityDocument::NAME, TypeId::of::<IdentityDocument>()),
            (PaymentCard::NAME, TypeId::of::<PaymentCard>()),
            (Phone::NAME, TypeId::of::<Phone>()),
        ]))
    })
}

/// Claims `C`'s id for `C` at its first use, and checks it at every later one.
///
/// # Errors
///
/// [`Error::CategoryIdTaken`](crate::Error::CategoryIdTaken) if another type claimed the
/// id first.
pub(crate) fn claim<C: Category>() -> Result<(), crate::Error> {
    let ours = TypeId::of::<C>();
    let name = C::NAME;
    let taken = || crate::Error::CategoryIdTaken { category: C::ID };
    if let Some(&owner) = claims().read().get(name) {
        return if owner == ours { Ok(()) } else { Err(taken()) };
    }
    let mut claims = claims().write();
    match *claims.entry(name).or_insert(ours) {
        owner if owner == ours => Ok(()),
        _ => Err(taken()),
    }
}

/// A category type's id as `&'static str`, for code that needs the text without a
/// [`CategoryId`] (a match arm, a `const`, a map key). Every [`Category`] has it, derived
/// from its `ID`; it can't be implemented otherwise.
///
/// ```
/// use amanat::category::{Named, Phone};
/// assert_eq!(Phone::NAME, "phone");
/// ```
pub trait Named: Category {
    /// The id's text.
    const NAME: &'static str = CategoryId::static_text(Self::ID);
}

impl<C: Category> Named for C {}

/// Whether personal data of a category is public-access or restricted-access (Tajik law
/// Art. 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Made public by the subject or by law (a name in a public register). It does not
    /// by itself exempt a transfer from the subject's notice (Art. 21.3): only a record
    /// stated made public by its subject is
    /// ([`PersonalData::made_public`](crate::PersonalData::made_public)).
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
        let mut names: Vec<_> = ids.iter().map(super::CategoryId::as_str).collect();
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
