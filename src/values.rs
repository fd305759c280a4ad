//! Value types for the personal data a fintech holds, validated when parsed.
//!
//! Each type checks its format — a phone number against E.164 and the Uzbek and Tajik
//! numbering plans, a card number against the Luhn check digit — and none repeats the
//! value in its error, its `Debug` output or anywhere else: an invalid card number in a
//! log is still a card number. Parsing untrusted input never panics.
//!
//! They are meant to live inside [`PersonalData`](crate::PersonalData): they zeroize on
//! drop. [`CardVerificationCode`] is the exception on purpose: PCI DSS 3.3.1 forbids
//! storing it after authorisation, even encrypted, so it can be used once and can't be
//! kept in `PersonalData` at all (it does not implement `Zeroize`, which `PersonalData`
//! requires).
//!
//! ```
//! use amanat::values::{CardNumber, PhoneNumber};
//!
//! let phone = PhoneNumber::parse("+998 90 123-45-67")?;
//! assert_eq!(phone.country_code(), Some("998"));
//! assert_eq!(phone.masked(), "+998*******67");
//!
//! let card = CardNumber::parse("8600 1234 5678 9012")?;
//! assert_eq!(card.masked(), "860012******9012");
//! assert!(CardNumber::parse("8600 1234 5678 9013").is_err()); // Luhn
//! # Ok::<(), amanat::values::ValueError>(())
//! ```

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Why a value was refused. It names the rule, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Nothing was given.
    #[error("{kind}: empty")]
    Empty {
        /// What was being parsed.
        kind: &'static str,
    },
    /// A character the format does not allow.
    #[error("{kind}: a character the format does not allow")]
    InvalidCharacter {
        /// What was being parsed.
        kind: &'static str,
    },
    /// Too few or too many characters or digits.
    #[error("{kind}: wrong length, expected {expected}")]
    Length {
        /// What was being parsed.
        kind: &'static str,
        /// The length the format wants.
        expected: &'static str,
    },
    /// The check digit does not match.
    #[error("{kind}: the check digit does not match")]
    CheckDigit {
        /// What was being parsed.
        kind: &'static str,
    },
    /// Not in a format the type accepts.
    #[error("{kind}: {expected}")]
    Format {
        /// What was being parsed.
        kind: &'static str,
        /// What is accepted.
        expected: &'static str,
    },
}

/// Keeps only the characters people put between digits for readability.
fn digits_of(
    text: &str,
    kind: &'static str,
    allowed_separators: &str,
) -> Result<String, ValueError> {
    let mut digits = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !allowed_separators.contains(c) {
            digits.zeroize();
            return Err(ValueError::InvalidCharacter { kind });
        }
    }
    if digits.is_empty() {
        return Err(ValueError::Empty { kind });
    }
    Ok(digits)
}

/// A phone number in E.164 form: `+`, a country code and the national number, at most 15
/// digits. Uzbek (+998) and Tajik (+992) numbers must have nine national digits.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    const KIND: &'static str = "phone number";

    /// Parses a number written with `+`, digits, and any of ` -()` between them.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if it does not start with `+`, has another character, has more than
    /// 15 or fewer than 8 digits, or is an Uzbek or Tajik number without nine national
    /// digits.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let kind = Self::KIND;
        let trimmed = text.trim();
        let Some(rest) = trimmed.strip_prefix('+') else {
            return Err(if trimmed.is_empty() {
                ValueError::Empty { kind }
            } else {
                ValueError::Format {
                    kind,
                    expected: "E.164 starts with + and the country code",
                }
            });
        };
        let mut digits = digits_of(rest, kind, " -()")?;
        let result = match digits.len() {
            n if n > 15 => Err(ValueError::Length {
                kind,
                expected: "at most 15 digits (E.164)",
            }),
            n if n < 8 => Err(ValueError::Length {
                kind,
                expected: "at least 8 digits",
            }),
            n if (digits.starts_with("998") || digits.starts_with("992")) && n != 12 => {
                Err(ValueError::Length {
                    kind,
                    expected: "nine national digits after +998 or +992",
                })
            }
            _ => Ok(()),
        };
        if let Err(err) = result {
            digits.zeroize();
            return Err(err);
        }
        let number = format!("+{digits}");
        digits.zeroize();
        Ok(Self(number))
    }

    /// The country calling code, for the plans the type knows: `998` (Uzbekistan) or
    /// `992` (Tajikistan).
    pub fn country_code(&self) -> Option<&'static str> {
        ["998", "992"]
            .into_iter()
            .find(|code| self.0[1..].starts_with(code))
    }

    /// The number in E.164 form. Handle with care: this is the personal value.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The number with every digit but the country code and the last two hidden.
    pub fn masked(&self) -> String {
        let digits = &self.0[1..];
        let code = self.country_code().map_or(0, str::len);
        let keep_end = 2.min(digits.len() - code);
        let hidden = digits.len() - code - keep_end;
        format!(
            "+{}{}{}",
            &digits[..code],
            "*".repeat(hidden),
            &digits[digits.len() - keep_end..]
        )
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// Whether `digits` (ASCII digits only) pass the Luhn check (ISO/IEC 7812).
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment card number (PAN): 12 to 19 digits whose last is a Luhn check digit
/// (ISO/IEC 7812). The prefix does not decide the network — `UzCard` (8600) and Humo (9860)
/// cards may be co-badged — so the type does not guess it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct CardNumber(String);

impl CardNumber {
    const KIND: &'static str = "card number";

    /// Parses a number written with digits and any spaces or dashes between them.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if it has another character, fewer than 12 or more than 19 digits, or
    /// a wrong check digit.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let kind = Self::KIND;
        let mut digits = digits_of(text.trim(), kind, " -")?;
        let result = if !(12..=19).contains(&digits.len()) {
            Err(ValueError::Length {
                kind,
                expected: "12 to 19 digits",
            })
        } else if !luhn(&digits) {
            Err(ValueError::CheckDigit { kind })
        } else {
            Ok(())
        };
        if let Err(err) = result {
            digits.zeroize();
            return Err(err);
        }
        Ok(Self(digits))
    }

    /// The number as digits. Handle with care: PCI DSS 3.5.1 wants a stored PAN unreadable.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The number as a screen may show it (PCI DSS 3.4.1): the first six digits, the last
    /// four, and `*` between; for a number too short to hide anything that way, only the
    /// last four.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        if n >= 14 {
            format!("{}{}{}", &self.0[..6], "*".repeat(n - 10), &self.0[n - 4..])
        } else {
            format!("{}{}", "*".repeat(n - 4), &self.0[n - 4..])
        }
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

/// A card's verification code (CVV/CVC): three or four digits that may be used once, for
/// one authorisation, and never stored — not even encrypted (PCI DSS 3.3.1).
///
/// It can't be cloned, serialized or printed, and can't be kept in
/// [`PersonalData`](crate::PersonalData): it does not implement `Zeroize` (it zeroizes
/// itself when dropped or used).
///
/// ```
/// use amanat::values::CardVerificationCode;
/// let cvc = CardVerificationCode::parse("123")?;
/// let sent = cvc.use_once(|code| code.len()); // hand it to the acquirer here
/// assert_eq!(sent, 3);
/// # Ok::<(), amanat::values::ValueError>(())
/// ```
///
/// ```compile_fail
/// # use amanat::{category::PaymentCard, values::CardVerificationCode, ConsentToken, PersonalData, SubjectId};
/// fn keep(s: &SubjectId, cvc: CardVerificationCode, t: &ConsentToken<PaymentCard>) {
///     let _ = PersonalData::collect(s, cvc, t);
/// }
/// ```
pub struct CardVerificationCode(String);

impl CardVerificationCode {
    const KIND: &'static str = "card verification code";

    /// Parses three or four digits.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if it is anything else.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let kind = Self::KIND;
        let mut digits = digits_of(text.trim(), kind, "")?;
        if !(3..=4).contains(&digits.len()) {
            digits.zeroize();
            return Err(ValueError::Length {
                kind,
                expected: "3 or 4 digits",
            });
        }
        Ok(Self(digits))
    }

    /// Hands the code to `f` once, then zeroizes it.
    pub fn use_once<R>(mut self, f: impl FnOnce(&str) -> R) -> R {
        let result = f(&self.0);
        self.0.zeroize();
        result
    }
}

impl Drop for CardVerificationCode {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for CardVerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardVerificationCode([REDACTED])")
    }
}

/// The country whose passport format to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PassportCountry {
    /// Uzbekistan: two letters and seven digits, `AB1234567` (*secondary source*).
    Uzbekistan,
    /// Tajikistan: no published format was found; the nine-character document-number
    /// field of the machine-readable zone (ICAO Doc 9303, part 4) is checked: nine
    /// upper-case letters or digits.
    Tajikistan,
}

/// A passport number.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PassportNumber(String);

impl PassportNumber {
    const KIND: &'static str = "passport number";

    /// Parses a passport number of `country`, ignoring surrounding spaces.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if it does not have the country's format.
    pub fn parse(text: &str, country: PassportCountry) -> Result<Self, ValueError> {
        let kind = Self::KIND;
        let text = text.trim();
        if text.is_empty() {
            return Err(ValueError::Empty { kind });
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(ValueError::InvalidCharacter { kind });
        }
        let ok = match country {
            PassportCountry::Uzbekistan => {
                text.len() == 9
                    && text[..2].bytes().all(|b| b.is_ascii_uppercase())
                    && text[2..].bytes().all(|b| b.is_ascii_digit())
            }
            PassportCountry::Tajikistan => text.len() == 9,
        };
        if !ok {
            return Err(ValueError::Format {
                kind,
                expected: match country {
                    PassportCountry::Uzbekistan => "two letters and seven digits",
                    PassportCountry::Tajikistan => "nine upper-case letters or digits",
                },
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// The number. Handle with care: this is the personal value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but its first two and last two characters hidden.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}{}", &self.0[..2], "*".repeat(n - 4), &self.0[n - 2..])
    }
}

impl fmt::Debug for PassportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PassportNumber({})", self.masked())
    }
}

/// An Uzbek personal identification number (PINFL, JShShIR): 14 digits.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Pinfl(String);

impl Pinfl {
    const KIND: &'static str = "PINFL";

    /// Parses 14 digits.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if it is anything else.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let kind = Self::KIND;
        let mut digits = digits_of(text.trim(), kind, "")?;
        if digits.len() != 14 {
            digits.zeroize();
            return Err(ValueError::Length {
                kind,
                expected: "14 digits",
            });
        }
        Ok(Self(digits))
    }

    /// Whether the last digit matches the check digit computed with weights 7, 3, 1 over
    /// the first thirteen (the ICAO 9303 scheme). *Secondary source*: the scheme could not
    /// be confirmed for PINFL, so [`parse`](Self::parse) does not refuse a mismatch.
    pub fn check_digit_matches(&self) -> bool {
        let bytes = self.0.as_bytes();
        let sum: u32 = bytes[..13]
            .iter()
            .zip([7, 3, 1].into_iter().cycle())
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        u32::from(bytes[13] - b'0') == sum % 10
    }

    /// The number. Handle with care: this is the personal value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pinfl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pinfl([REDACTED])")
    }
}

/// The image formats a [`FaceImage`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG (starts `FF D8 FF`).
    Jpeg,
    /// PNG (starts with the eight-byte PNG signature).
    Png,
}

/// A facial image — a selfie — as JPEG or PNG bytes.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct FaceImage(Vec<u8>);

impl FaceImage {
    const KIND: &'static str = "face image";
    const PNG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// Takes image bytes, recognising the format from its signature.
    ///
    /// # Errors
    ///
    /// [`ValueError`] if the bytes are neither JPEG nor PNG. The bytes are zeroized then.
    pub fn new(mut bytes: Vec<u8>) -> Result<Self, ValueError> {
        if bytes.is_empty() {
            return Err(ValueError::Empty { kind: Self::KIND });
        }
        if Self::format_of(&bytes).is_none() {
            bytes.zeroize();
            return Err(ValueError::Format {
                kind: Self::KIND,
                expected: "a JPEG or PNG image",
            });
        }
        Ok(Self(bytes))
    }

    fn format_of(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(&Self::PNG) {
            Some(ImageFormat::Png)
        } else {
            None
        }
    }

    /// The image's format.
    pub fn format(&self) -> ImageFormat {
        Self::format_of(&self.0).unwrap_or(ImageFormat::Jpeg)
    }

    /// The bytes. Handle with care: this is the personal value.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaceImage({:?}, {} bytes)", self.format(), self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uzbek_and_tajik_numbers_have_nine_national_digits() {
        assert!(PhoneNumber::parse("+998901234567").is_ok());
        assert!(PhoneNumber::parse("+992 93 123 4567").is_ok());
        assert!(PhoneNumber::parse("+99890123456").is_err());
        assert!(PhoneNumber::parse("+9929312345678").is_err());
        assert!(PhoneNumber::parse("998901234567").is_err());
        assert!(PhoneNumber::parse("+1234567890123456").is_err());
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958")
                .unwrap()
                .country_code(),
            None
        );
    }

    #[test]
    fn passports_follow_their_country() {
        use PassportCountry::{Tajikistan, Uzbekistan};
        assert!(PassportNumber::parse("AB1234567", Uzbekistan).is_ok());
        assert!(PassportNumber::parse("A12345678", Uzbekistan).is_err());
        assert!(PassportNumber::parse("ab1234567", Uzbekistan).is_err());
        assert!(PassportNumber::parse("400123456", Tajikistan).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                PassportNumber::parse("AB1234567", Uzbekistan).unwrap()
            ),
            "PassportNumber(AB*****67)"
        );
    }

    #[test]
    fn pinfl_is_fourteen_digits_and_its_check_digit_is_computed() {
        // 3 0 1 0 1 9 5 0 1 2 3 4 5 with weights 7 3 1: the check digit is 2.
        let pinfl = Pinfl::parse("30101950123452").unwrap();
        assert!(pinfl.check_digit_matches());
        assert!(
            !Pinfl::parse("30101950123453")
                .unwrap()
                .check_digit_matches()
        );
        assert!(Pinfl::parse("3010195012345").is_err());
    }

    #[test]
    fn face_images_are_jpeg_or_png() {
        assert_eq!(
            FaceImage::new(vec![0xFF, 0xD8, 0xFF, 0xE0])
                .unwrap()
                .format(),
            ImageFormat::Jpeg
        );
        let png = [&FaceImage::PNG[..], &[0, 0]].concat();
        assert_eq!(FaceImage::new(png).unwrap().format(), ImageFormat::Png);
        assert!(FaceImage::new(b"GIF89a".to_vec()).is_err());
        assert!(FaceImage::new(Vec::new()).is_err());
    }

    #[test]
    fn a_verification_code_is_three_or_four_digits() {
        assert!(CardVerificationCode::parse("12").is_err());
        assert!(CardVerificationCode::parse("12345").is_err());
        assert_eq!(
            format!("{:?}", CardVerificationCode::parse("1234").unwrap()),
            "CardVerificationCode([REDACTED])"
        );
    }
}
