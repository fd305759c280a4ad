//! The id of a category of personal data, as the run time sees it.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{InvalidId, Text};

/// The stable id of a [`Category`](crate::category::Category), for use at run time (in consents, errors and records).
///
/// Two ids are the same when their text is. A category type's id is a constant; an id read
/// back from a store, a proof or a receipt ([`CategoryId::parse`]) is a value of its own,
/// owned by what holds it: reading ids registers nothing in the process, however many a
/// file holds.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(Text);

impl CategoryId {
    /// Makes an id from a static string. Ids are short, lower-case, snake-case names by
    /// convention (`biometric`, `identity_document`).
    pub const fn new(id: &'static str) -> Self {
        Self(Text::Static(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// This category's bit in a consent's category mask (see `vocab::id_bit`).
    pub(crate) fn bit(&self) -> u32 {
        crate::vocab::id_bit(self.as_str())
    }

    /// An id read from input — a store, a proof, a receipt, a policy file: lower-case
    /// ASCII letters, digits and `_`, up to 128 bytes. It equals the category type's id
    /// with the same text.
    ///
    /// # Errors
    ///
    /// [`InvalidId`] if the text is not such an id.
    ///
    /// ```
    /// use amanat::category::{Biometric, Category, CategoryId};
    /// assert_eq!(CategoryId::parse("biometric")?, Biometric::ID);
    /// assert!(CategoryId::parse("Not An Id").is_err());
    /// # Ok::<(), amanat::Error>(())
    /// ```
    pub fn parse(id: &str) -> Result<Self, InvalidId> {
        let invalid = |reason| InvalidId {
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
        Ok(Self(Text::Shared(Arc::from(id))))
    }
}

impl fmt::Display for CategoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CategoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CategoryId({:?})", self.as_str())
    }
}

impl Serialize for CategoryId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CategoryId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::deserialize_id(deserializer, "a category id", Self::parse)
    }
}

impl CategoryId {
    /// The text of an id [`new`](Self::new) made; a `const` reads it.
    pub(crate) const fn static_text(id: CategoryId) -> &'static str {
        let name = match &id.0 {
            Text::Static(name) => *name,
            // A constant can't hold the shared form: `CategoryId::parse` is not `const`.
            Text::Shared(_) => "",
        };
        // Evaluated at compile time, where a destructor can't run; a static id owns nothing.
        std::mem::forget(id);
        name
    }
}
