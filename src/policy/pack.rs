//! Jurisdiction packs: what each law requires by default, rule by rule, with its article.

use std::fmt;

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::category::CategoryId;

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

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The article (or other provision) that states it.
    pub article: &'static str,
    /// `true` when the rule is taken from a secondary source rather than the text of the
    /// law itself, or could not be confirmed: check it before relying on it.
    pub secondary: bool,
    /// What the provision says, or why the rule is marked secondary.
    pub note: &'static str,
}

/// A category whose processing needs written consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WrittenConsentRule {
    /// The category.
    pub category: CategoryId,
    /// Where the rule comes from.
    pub citation: Citation,
}

/// A deadline counted in working days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// How many working days.
    pub working_days: u32,
    /// Where the rule comes from.
    pub citation: Citation,
}

/// Which categories a localisation rule covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Localised {
    /// All personal data.
    All,
    /// Only these categories.
    Only(&'static [CategoryId]),
}

/// A rule that personal data must be stored in the home country, for some categories, from
/// a date, possibly until a later law narrowed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Localisation {
    /// Which categories.
    pub categories: Localised,
    /// From when it applies.
    pub from: NaiveDate,
    /// Until when (exclusive), if a later rule replaced it.
    pub until: Option<NaiveDate>,
    /// Whether an agreement with the authorised body can lift it (Tajik law Art. 14.2).
    pub waivable_by_agreement: bool,
    /// Where the rule comes from.
    pub citation: Citation,
}

impl Localisation {
    /// Whether the rule requires the category with id `category` to be stored at home on
    /// `date`.
    pub fn applies(&self, category: &str, date: NaiveDate) -> bool {
        let in_time = self.from <= date && self.until.is_none_or(|until| date < until);
        let covered = match self.categories {
            Localised::All => true,
            Localised::Only(categories) => categories.iter().any(|c| c.as_str() == category),
        };
        in_time && covered
    }
}

/// A legal basis the law accepts for processing without consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BasisRule {
    /// The basis, as [`LegalBasis::name`](crate::LegalBasis::name) spells it.
    pub basis: &'static str,
    /// Where the rule comes from.
    pub citation: Citation,
}

/// The defaults a law sets, for a policy to build on.
///
/// Two are built in: [`JurisdictionPack::TAJIKISTAN_2018`] and
/// [`JurisdictionPack::UZBEKISTAN_2019`]. Rules taken from secondary sources say so in their
/// [`Citation`].
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct JurisdictionPack {
    /// The id a policy names it by.
    pub id: &'static str,
    /// The law.
    pub title: &'static str,
    /// The country whose law it is.
    pub home: Country,
    /// Categories that need written consent.
    pub written_consent: &'static [WrittenConsentRule],
    /// How long the operator has to answer a subject's request.
    pub subject_request: Deadline,
    /// How long the operator has to notify a subject of a transfer.
    pub transfer_notice: Deadline,
    /// Where personal data must be stored.
    pub localisation: &'static [Localisation],
    /// The legal bases other than consent the law accepts.
    pub bases_without_consent: &'static [BasisRule],
    /// The weekend days of the working week.
    pub weekend: &'static [Weekday],
    /// Where the weekend rule comes from.
    pub weekend_citation: Citation,
}

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid date in a jurisdiction pack"),
    }
}

const fn law(article: &'static str, note: &'static str) -> Citation {
    Citation {
        article,
        secondary: false,
        note,
    }
}

const fn secondary(article: &'static str, note: &'static str) -> Citation {
    Citation {
        article,
        secondary: true,
        note,
    }
}

const BIOMETRIC: CategoryId = CategoryId::new("biometric");

impl JurisdictionPack {
    /// Law of the Republic of Tajikistan "On the Protection of Personal Data", 3 August
    /// 2018, No. 1537.
    pub const TAJIKISTAN_2018: JurisdictionPack = JurisdictionPack {
        id: "tajikistan-2018",
        title: "Law of the Republic of Tajikistan \"On the Protection of Personal Data\", \
                3 August 2018, No. 1537",
        home: Country::TJ,
        written_consent: &[WrittenConsentRule {
            category: BIOMETRIC,
            citation: law(
                "Art. 17.1",
                "biometric data is processed only with the subject's written consent",
            ),
        }],
        subject_request: Deadline {
            working_days: 3,
            citation: law(
                "Art. 22.2-4, 25.1",
                "the operator informs the subject within three working days of the request",
            ),
        },
        transfer_notice: Deadline {
            working_days: 3,
            citation: law(
                "Art. 21",
                "who transfers data to a third party notifies the subject within three working days",
            ),
        },
        localisation: &[Localisation {
            categories: Localised::All,
            from: date(2018, 8, 3),
            until: None,
            waivable_by_agreement: true,
            citation: law(
                "Art. 14.2",
                "the personal database is located in Tajikistan unless agreed with the authorised body",
            ),
        }],
        bases_without_consent: &[
            BasisRule {
                basis: "legal_obligation",
                citation: law(
                    "Art. 11.2",
                    "consent can't be withdrawn where the law itself requires the processing",
                ),
            },
            BasisRule {
                basis: "state_function",
                citation: law("Art. 12", "state bodies performing their legal duties"),
            },
            BasisRule {
                basis: "protection_of_rights",
                citation: law(
                    "Art. 12",
                    "protection of constitutional rights and freedoms",
                ),
            },
            BasisRule {
                basis: "court_order",
                citation: law("Art. 17.2", "court acts and the administration of justice"),
            },
            BasisRule {
                basis: "biometric_exception",
                citation: law(
                    "Art. 17.2",
                    "prosecution, justice, defence, security, counter-terrorism, AML/CFT, \
                     sentences, citizenship, civil service",
                ),
            },
        ],
        weekend: &[Weekday::Sat, Weekday::Sun],
        weekend_citation: secondary(
            "Labour Code of the Republic of Tajikistan",
            "a five-day working week; not stated in Law No. 1537, check the policy's calendar",
        ),
    };

    /// Law of the Republic of Uzbekistan "On Personal Data", 2 July 2019, No. ZRU-547, as
    /// amended (localisation from 2021, narrowed by ZRU-1125 of 26 March 2026).
    pub const UZBEKISTAN_2019: JurisdictionPack = JurisdictionPack {
        id: "uzbekistan-2019",
        title: "Law of the Republic of Uzbekistan \"On Personal Data\", 2 July 2019, No. ZRU-547",
        home: Country::UZ,
        written_consent: &[WrittenConsentRule {
            category: BIOMETRIC,
            citation: secondary(
                "ZRU-547 (special personal data)",
                "the sources at hand do not state the form required for biometric data; \
                 amanat applies the stricter rule of Tajik law Art. 17.1 by default",
            ),
        }],
        subject_request: Deadline {
            working_days: 3,
            citation: secondary(
                "ZRU-547",
                "no deadline to answer a subject's request was found; three working days, as \
                 under the Tajik pack, until one is confirmed",
            ),
        },
        transfer_notice: Deadline {
            working_days: 3,
            citation: secondary(
                "ZRU-547",
                "a three-day notice of transfer to a third party, from a secondary source",
            ),
        },
        localisation: &[
            Localisation {
                categories: Localised::All,
                from: date(2021, 4, 16),
                until: Some(date(2026, 3, 26)),
                waivable_by_agreement: false,
                citation: secondary(
                    "ZRU-547 Art. 27-1",
                    "personal data of Uzbek citizens collected, systematised and stored on \
                     hardware in Uzbekistan, registered in the State register",
                ),
            },
            Localisation {
                categories: Localised::Only(&[
                    BIOMETRIC,
                    CategoryId::new("genetic"),
                    CategoryId::new("telecom_subscriber"),
                ]),
                from: date(2026, 3, 26),
                until: None,
                waivable_by_agreement: false,
                citation: secondary(
                    "ZRU-1125 of 26 March 2026, amending ZRU-547 Art. 27-1",
                    "local storage only for biometric data (facial images included), genetic \
                     data and telecom subscriber data",
                ),
            },
        ],
        bases_without_consent: &[
            BasisRule {
                basis: "contract",
                citation: secondary("ZRU-547", "performance of a contract with the subject"),
            },
            BasisRule {
                basis: "legal_obligation",
                citation: secondary(
                    "ZRU-547 Art. 3",
                    "processing for anti-money-laundering purposes is outside the law's scope",
                ),
            },
            BasisRule {
                basis: "state_function",
                citation: secondary("ZRU-547", "state bodies performing their legal duties"),
            },
            BasisRule {
                basis: "court_order",
                citation: secondary("ZRU-547", "court acts"),
            },
            BasisRule {
                basis: "biometric_exception",
                citation: secondary(
                    "ZRU-547",
                    "the statutory grounds for biometric data without consent, as in Tajik \
                     law Art. 17.2",
                ),
            },
        ],
        weekend: &[Weekday::Sat, Weekday::Sun],
        weekend_citation: secondary(
            "Labour Code of the Republic of Uzbekistan",
            "a five-day working week; check the policy's calendar",
        ),
    };

    /// The built-in packs.
    pub const ALL: [&'static JurisdictionPack; 2] =
        [&Self::TAJIKISTAN_2018, &Self::UZBEKISTAN_2019];

    /// The built-in pack with this id.
    pub fn by_id(id: &str) -> Option<&'static JurisdictionPack> {
        Self::ALL.into_iter().find(|pack| pack.id == id)
    }

    /// The rule that requires written consent for `category`, if any.
    pub fn written_consent_for(&self, category: CategoryId) -> Option<&WrittenConsentRule> {
        self.written_consent
            .iter()
            .find(|rule| rule.category == category)
    }

    /// The localisation rule that requires `category` to stay at home on `date`, if any.
    pub fn localisation_of(&self, category: &str, date: NaiveDate) -> Option<&Localisation> {
        self.localisation
            .iter()
            .find(|rule| rule.applies(category, date))
    }

    /// The rule that accepts `basis` (by name) without consent, if any.
    pub fn accepts_basis(&self, basis: &str) -> Option<&BasisRule> {
        self.bases_without_consent
            .iter()
            .find(|rule| rule.basis == basis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uzbek_localisation_narrowed_in_2026_to_biometric_genetic_and_telecom() {
        let uz = &JurisdictionPack::UZBEKISTAN_2019;
        let card = "payment_card";
        let biometric = BIOMETRIC.as_str();
        assert!(uz.localisation_of(card, date(2021, 4, 15)).is_none());
        assert!(uz.localisation_of(card, date(2021, 4, 16)).is_some());
        assert!(uz.localisation_of(card, date(2026, 3, 26)).is_none());
        assert!(uz.localisation_of(biometric, date(2026, 3, 26)).is_some());
        assert!(uz.localisation_of(biometric, date(2030, 1, 1)).is_some());
    }

    #[test]
    fn every_pack_rule_names_its_source() {
        for pack in JurisdictionPack::ALL {
            let citations = pack
                .written_consent
                .iter()
                .map(|r| r.citation)
                .chain(pack.localisation.iter().map(|r| r.citation))
                .chain(pack.bases_without_consent.iter().map(|r| r.citation))
                .chain([
                    pack.subject_request.citation,
                    pack.transfer_notice.citation,
                    pack.weekend_citation,
                ]);
            for citation in citations {
                assert!(!citation.article.is_empty() && !citation.note.is_empty());
            }
            assert_eq!(JurisdictionPack::by_id(pack.id), Some(pack));
        }
    }

    #[test]
    fn country_codes_are_two_capitals() {
        assert!("TJ".parse::<Country>().is_ok());
        for bad in ["", "T", "TJK", "tj", "T1", "ТЖ"] {
            assert!(bad.parse::<Country>().is_err(), "{bad}");
        }
    }
}
