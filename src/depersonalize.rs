//! Depersonalisation: data that can no longer be tied to its subject without extra
//! information (Tajik law Art. 1), the only kind statistics may use (Tajik law Art. 19; ZRU-547 Art. 16).
//!
//! Two ways there: a **mask** that keeps what a screen or a report needs (the card's first
//! six and last four digits), and a keyed **pseudonym** — HMAC-SHA-256 under a secret the
//! operator keeps apart from the data — so that the same person maps to the same pseudonym
//! and can be counted, joined and deduplicated without being revealed. Both need a token:
//! depersonalising is processing too.
//!
//! ```
//! use amanat::depersonalize::{PseudonymKey, Statistics};
//! use amanat::values::PhoneNumber;
//! use amanat::{category::Phone, ConsentForm, ConsentLedger, ElectronicMethod, Grant,
//!              PersonalData, PolicyVersion, Purpose, SubjectId};
//!
//! let ledger = ConsentLedger::new(PolicyVersion::new("v1")?);
//! let subject = SubjectId::new("cust-1")?;
//! ledger.grant(Grant::new(subject.clone(), ConsentForm::Electronic {
//!     method: ElectronicMethod::OneTimePassword })
//!     .purpose(Purpose::SERVICE_PROVISION).category::<Phone>())?;
//! let token = ledger.authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)?;
//! let phone = PersonalData::collect(&subject, PhoneNumber::parse("+998901234567")?, &token)?;
//!
//! let key = PseudonymKey::from_bytes([7; 32]);
//! let mut stats = Statistics::new(Purpose::STATISTICS);
//! stats.record(phone.pseudonymize(&token, &key)?);
//! assert_eq!(stats.len(), 1);
//! # Ok::<(), amanat::Error>(())
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Serialize, Serializer};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::values::{CardNumber, FaceImage, PassportNumber, PhoneNumber, Pinfl};
use crate::vocab::Purpose;

/// A value that can no longer be tied to its subject without extra information. Unlike
/// [`PersonalData`](crate::PersonalData) it may be copied, printed and serialized: that
/// is what depersonalising is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Depersonalized<T>(T);

impl<T> Depersonalized<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(value)
    }

    /// The depersonalised value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// Takes the value out.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A keyed pseudonym: HMAC-SHA-256 of a value's canonical form under a [`PseudonymKey`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pseudonym([u8; 32]);

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::vocab::write_hex(&self.0, f)
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({self})")
    }
}

impl Serialize for Pseudonym {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The operator's secret for pseudonyms. Keep it apart from the data: whoever holds both
/// can test guesses against the pseudonyms. Zeroized on drop; its `Debug` shows nothing.
pub struct PseudonymKey(SecretBox<[u8; 32]>);

impl PseudonymKey {
    /// A key from 32 secret bytes (from your key store; generate them with a CSPRNG).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// The pseudonym of `value` under this key.
    pub fn pseudonym(&self, value: &impl Depersonalize) -> Pseudonym {
        Pseudonym(hmac_sha256(
            self.0.expose_secret(),
            &value.canonical_bytes(),
        ))
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey([REDACTED])")
    }
}

#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length, so `new_from_slice` can't fail"
)]
fn hmac_sha256(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The value's bytes behind a tag naming its type, so that a PINFL and a card number with
/// the same digits don't share a pseudonym.
fn tagged(tag: &[u8], value: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(tag.len() + value.len()));
    bytes.extend_from_slice(tag);
    bytes.extend_from_slice(value);
    bytes
}

/// What depersonalising a value type needs: the canonical form its pseudonym is computed
/// from (so `+998 90 123-45-67` and `+998901234567` map to one pseudonym), and its mask.
pub trait Depersonalize {
    /// The bytes the pseudonym is computed from, zeroized after use.
    fn canonical_bytes(&self) -> Zeroizing<Vec<u8>>;

    /// The value with everything hidden that does not have to be shown.
    fn mask(&self) -> String;
}

impl Depersonalize for PhoneNumber {
    fn canonical_bytes(&self) -> Zeroizing<Vec<u8>> {
        tagged(b"phone:", self.as_e164().as_bytes())
    }

    fn mask(&self) -> String {
        self.masked()
    }
}

impl Depersonalize for CardNumber {
    fn canonical_bytes(&self) -> Zeroizing<Vec<u8>> {
        tagged(b"card:", self.digits().as_bytes())
    }

    fn mask(&self) -> String {
        self.masked()
    }
}

impl Depersonalize for PassportNumber {
    fn canonical_bytes(&self) -> Zeroizing<Vec<u8>> {
        tagged(b"passport:", self.as_str().as_bytes())
    }

    fn mask(&self) -> String {
        self.masked()
    }
}

impl Depersonalize for Pinfl {
    fn canonical_bytes(&self) -> Zeroizing<Vec<u8>> {
        tagged(b"pinfl:", self.as_str().as_bytes())
    }

    /// Nothing of a PINFL is shown: its digits encode sex and birth date.
    fn mask(&self) -> String {
        "*".repeat(14)
    }
}

impl Depersonalize for FaceImage {
    fn canonical_bytes(&self) -> Zeroizing<Vec<u8>> {
        tagged(b"face:", self.bytes())
    }

    /// Nothing of a face is shown: only that there is one, and its format.
    fn mask(&self) -> String {
        format!("[{:?} face image]", self.format())
    }
}

/// Where statistical, social or scientific processing gathers its rows (Tajik law Art. 19; ZRU-547 Art. 16): it
/// takes [`Depersonalized`] values only, so handing it [`PersonalData`](crate::PersonalData)
/// does not compile.
///
/// ```compile_fail
/// # use amanat::{category::Phone, depersonalize::Statistics, PersonalData, Purpose};
/// fn count(stats: &mut Statistics<String>, phone: PersonalData<String, Phone>) {
///     stats.record(phone);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Statistics<T> {
    purpose: Purpose,
    rows: Vec<Depersonalized<T>>,
}

impl<T> Statistics<T> {
    /// An empty set of rows for `purpose`.
    pub fn new(purpose: Purpose) -> Self {
        Self {
            purpose,
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn record(&mut self, row: Depersonalized<T>) {
        self.rows.push(row);
    }

    /// The purpose the rows serve.
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }

    /// The rows.
    pub fn rows(&self) -> &[Depersonalized<T>] {
        &self.rows
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
