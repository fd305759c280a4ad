//! Jurisdiction packs: what each law requires by default, rule by rule, with its article.

use chrono::{NaiveDate, Weekday};
use serde::Serialize;

use super::calendar::WorkingCalendar;
use crate::category::CategoryId;
use crate::vocab::FormKind;
pub use crate::vocab::border::{Country, ParseCountryError, TransferBasis};
use crate::vocab::register::RequestKind;

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WrittenConsentRule {
    /// The category.
    pub category: CategoryId,
    /// Where the rule comes from.
    pub citation: Citation,
}

/// How a deadline counts its days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Working days on the policy's calendar.
    Working,
    /// Calendar days, weekends and holidays included.
    Calendar,
}

/// A deadline the law sets, counted from the day something happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// How many days.
    pub days: u32,
    /// Working or calendar days.
    pub counted_in: DayCount,
    /// Where the rule comes from.
    pub citation: Citation,
}

impl Deadline {
    /// The day the deadline falls due when it starts on `from`, counted on `calendar`.
    /// `None` only past the end of the calendar.
    ///
    /// ```
    /// use amanat::policy::{JurisdictionPack, WorkingCalendar};
    /// use chrono::{NaiveDate, Weekday};
    ///
    /// let calendar = WorkingCalendar::new([Weekday::Sat, Weekday::Sun]);
    /// let friday = NaiveDate::from_ymd_opt(2025, 6, 13).unwrap();
    /// let notice = JurisdictionPack::TAJIKISTAN_2018.transfer_notice;
    /// assert_eq!(notice.due(friday, &calendar), NaiveDate::from_ymd_opt(2025, 6, 18));
    /// ```
    pub fn due(&self, from: NaiveDate, calendar: &WorkingCalendar) -> Option<NaiveDate> {
        match self.counted_in {
            DayCount::Working => calendar.add_working_days(from, self.days),
            DayCount::Calendar => from.checked_add_days(chrono::Days::new(self.days.into())),
        }
    }
}

/// A ground the law accepts for a transfer abroad, from a date, possibly until a later law
/// replaced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TransferRule {
    /// The ground.
    pub basis: TransferBasis,
    /// From when it is accepted.
    pub from: NaiveDate,
    /// Until when (exclusive), if a later law dropped it.
    pub until: Option<NaiveDate>,
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
    /// Whether it also forbids sending the data to a recipient abroad, not only storing
    /// it there.
    pub covers_transfers: bool,
    /// Where the rule comes from.
    pub citation: Citation,
}

impl Localisation {
    /// Whether the rule requires the category with id `category` to be stored at home on
    /// `date` or on any day after it — data stored abroad today is still there when a rule
    /// starts.
    pub fn applies(&self, category: &str, date: NaiveDate) -> bool {
        let in_time = self.until.is_none_or(|until| date < until);
        let covered = match self.categories {
            Localised::All => true,
            Localised::Only(categories) => categories.iter().any(|c| c.as_str() == category),
        };
        in_time && covered
    }

    /// Whether the rule keeps the category with id `category` at home on `date` itself —
    /// what a transfer made that day must respect.
    pub fn in_force_on(&self, category: &str, date: NaiveDate) -> bool {
        self.from <= date && self.applies(category, date)
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
    /// How long the operator has to answer a subject's access request (and any other
    /// kind [`request_deadlines`](Self::request_deadlines) does not name).
    pub subject_request: Deadline,
    /// How long the operator has to answer each other kind of subject request, with the
    /// article that sets it — or, where the law sets none, says so.
    pub request_deadlines: &'static [(RequestKind, Deadline)],
    /// How long the operator has to notify a subject of a transfer.
    pub transfer_notice: Deadline,
    /// Whether the subject and the other participants in processing must be told in writing
    /// when a record is corrected, blocked or destroyed, and by when; `None` where the law
    /// asks no such notice.
    pub change_notice: Option<Deadline>,
    /// Where personal data must be stored.
    pub localisation: &'static [Localisation],
    /// The grounds for a transfer abroad to a country that is not adequate.
    pub transfer_bases: &'static [TransferRule],
    /// The weakest form of consent the law accepts for any category.
    pub weakest_consent: FormKind,
    /// Where that rule comes from.
    pub weakest_consent_citation: Citation,
    /// The legal bases other than consent the law accepts.
    pub bases_without_consent: &'static [BasisRule],
    /// The weekend days of the working week.
    pub weekend: &'static [Weekday],
    /// Where the weekend rule comes from.
    pub weekend_citation: Citation,
}

// Only the packs' `const` items call this, so a bad date fails the build, never a caller.
#[expect(
    clippy::panic,
    reason = "evaluated at compile time: a bad date in a pack fails the build"
)]
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
    /// The deadline for `kind` of subject request, and the article behind it.
    pub fn request_deadline(&self, kind: RequestKind) -> &Deadline {
        self.request_deadlines
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&self.subject_request, |(_, deadline)| deadline)
    }

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
            days: 3,
            counted_in: DayCount::Working,
            citation: law(
                "Art. 22.2-4, 25.1",
                "the operator informs the subject within three working days of the request",
            ),
        },
        request_deadlines: &[
            (
                RequestKind::Rectification,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary(
                        "Art. 15, 22.1",
                        "the law sets no time to correct data on request; answered within \
                         Art. 25.1's three working days",
                    ),
                },
            ),
            (
                RequestKind::Blocking,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary(
                        "Art. 22.1",
                        "the law sets no time to block data on request; answered within \
                         Art. 25.1's three working days",
                    ),
                },
            ),
            (
                RequestKind::Destruction,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary(
                        "Art. 20, 22.1",
                        "the law sets no time to destroy data on request; answered within \
                         Art. 25.1's three working days",
                    ),
                },
            ),
            (
                RequestKind::Withdrawal,
                Deadline {
                    days: 0,
                    counted_in: DayCount::Calendar,
                    citation: law(
                        "Art. 11",
                        "a withdrawal takes effect when it is made: the same day",
                    ),
                },
            ),
        ],
        transfer_notice: Deadline {
            days: 3,
            counted_in: DayCount::Working,
            citation: law(
                "Art. 21",
                "who transfers data to a third party notifies the subject within three working days",
            ),
        },
        // Art. 21 asks a notice of a transfer only.
        change_notice: None,
        localisation: &[Localisation {
            categories: Localised::All,
            from: date(2018, 8, 3),
            until: None,
            waivable_by_agreement: true,
            // Art. 14.2 places the database; transfers abroad are Art. 18's.
            covers_transfers: false,
            citation: law(
                "Art. 14.2",
                "the personal database is located in Tajikistan unless agreed with the authorised body",
            ),
        }],
        transfer_bases: &[
            TransferRule {
                basis: TransferBasis::Consent,
                from: date(2018, 8, 3),
                until: None,
                citation: law(
                    "Art. 18",
                    "the subject's consent to the cross-border transfer",
                ),
            },
            TransferRule {
                basis: TransferBasis::Treaty,
                from: date(2018, 8, 3),
                until: None,
                citation: law("Art. 18", "an international treaty of Tajikistan"),
            },
            TransferRule {
                basis: TransferBasis::Law,
                from: date(2018, 8, 3),
                until: None,
                citation: law("Art. 18", "where the law requires it"),
            },
            TransferRule {
                basis: TransferBasis::ProtectionOfRights,
                from: date(2018, 8, 3),
                until: None,
                citation: law(
                    "Art. 18",
                    "to protect the subject's rights when consent can't be had",
                ),
            },
        ],
        weakest_consent: FormKind::Implied,
        weakest_consent_citation: secondary(
            "Art. 8.1, 11.1",
            "the law asks for consent without prescribing its form, except for biometric \
             data (Art. 17.1)",
        ),
        bases_without_consent: &[
            BasisRule {
                basis: "legal_obligation",
                citation: secondary(
                    "Art. 11.2",
                    "consent can't be withdrawn where the law itself requires the processing; \
                     read here as a ground for processing the law requires",
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
                citation: secondary(
                    "Art. 12, 17.2",
                    "a court is a state body performing its legal duties (Art. 12); court acts \
                     are an Art. 17.2 ground for biometric data",
                ),
            },
            BasisRule {
                basis: "biometric_exception",
                citation: law(
                    "Art. 17.2",
                    "for biometric data only: prosecution, justice, defence, security, \
                     counter-terrorism, AML/CFT, sentences, citizenship, civil service",
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
            days: 3,
            counted_in: DayCount::Working,
            citation: secondary(
                "ZRU-547",
                "no deadline to answer a subject's request was found; three working days, as \
                 under the Tajik pack, until one is confirmed",
            ),
        },
        request_deadlines: &[
            (
                RequestKind::Rectification,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary(
                        "ZRU-547 Art. 30, 31",
                        "the law sets no time to correct data on request; three working \
                         days, as for access, until one is confirmed",
                    ),
                },
            ),
            (
                RequestKind::Blocking,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary(
                        "ZRU-547 Art. 30, 31",
                        "the law sets no time to suspend processing on request; three \
                         working days, as for access, until one is confirmed",
                    ),
                },
            ),
            (
                RequestKind::Destruction,
                Deadline {
                    days: 3,
                    counted_in: DayCount::Working,
                    citation: secondary(
                        "ZRU-547 Art. 17, 31",
                        "the law sets no time to destroy data on request; three working \
                         days, as for access, until one is confirmed",
                    ),
                },
            ),
            (
                RequestKind::Withdrawal,
                Deadline {
                    days: 0,
                    counted_in: DayCount::Calendar,
                    citation: secondary(
                        "ZRU-547 Art. 30",
                        "a withdrawal takes effect when it is made: the same day",
                    ),
                },
            ),
        ],
        transfer_notice: Deadline {
            days: 3,
            counted_in: DayCount::Working,
            citation: secondary(
                "ZRU-547",
                "a three-day notice of transfer to a third party, from a secondary source that \
                 does not say whether the days are working days; counted as working days, as \
                 Tajik law Art. 21 counts them",
            ),
        },
        change_notice: Some(Deadline {
            days: 3,
            counted_in: DayCount::Working,
            citation: law(
                "ZRU-547 Art. 31",
                "the subject and the other participants in processing are told in writing \
                 when data is changed, destroyed or its use restricted; the law sets no \
                 time: three working days, as for a transfer notice",
            ),
        }),
        localisation: &[
            Localisation {
                categories: Localised::All,
                from: date(2021, 4, 16),
                until: Some(date(2026, 3, 26)),
                waivable_by_agreement: false,
                covers_transfers: false,
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
                // A selfie must stay onshore; phone, card and passport data may go abroad on
                // a transfer ground (LAW.md section 7).
                covers_transfers: true,
                citation: secondary(
                    "ZRU-1125 of 26 March 2026, amending ZRU-547 Art. 27-1",
                    "local storage only for biometric data (facial images included), genetic \
                     data and telecom subscriber data",
                ),
            },
        ],
        transfer_bases: &[
            TransferRule {
                basis: TransferBasis::Consent,
                from: date(2019, 10, 1),
                until: Some(date(2026, 3, 26)),
                citation: secondary(
                    "ZRU-547 (before ZRU-1125)",
                    "transfer abroad with the subject's consent; the article was not confirmed",
                ),
            },
            TransferRule {
                basis: TransferBasis::Law,
                from: date(2019, 10, 1),
                until: Some(date(2026, 3, 26)),
                citation: secondary(
                    "ZRU-547 (before ZRU-1125)",
                    "transfer abroad where a law requires it; the article was not confirmed",
                ),
            },
            TransferRule {
                basis: TransferBasis::StandardClauses,
                from: date(2026, 3, 26),
                until: None,
                citation: secondary(
                    "ZRU-547 as amended by ZRU-1125",
                    "standard contract clauses or binding corporate rules approved by the authority",
                ),
            },
            TransferRule {
                basis: TransferBasis::InternationalStandards,
                from: date(2026, 3, 26),
                until: None,
                citation: secondary(
                    "ZRU-547 as amended by ZRU-1125",
                    "international standards approved by the authority",
                ),
            },
        ],
        weakest_consent: FormKind::Electronic,
        weakest_consent_citation: secondary(
            "Ministry of Justice order No. 3478 (2023)",
            "consent is written or an electronic document; accepting a public offer that \
             states the purposes counts",
        ),
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
    pub fn written_consent_for(&self, category: &CategoryId) -> Option<&WrittenConsentRule> {
        self.written_consent
            .iter()
            .find(|rule| rule.category == *category)
    }

    /// The localisation rule that requires `category` to stay at home on `date`, if any.
    pub fn localisation_of(&self, category: &str, date: NaiveDate) -> Option<&Localisation> {
        self.localisation
            .iter()
            .find(|rule| rule.applies(category, date))
    }

    /// The rule that accepts `basis` for a transfer abroad on `date`, if any.
    pub fn accepts_transfer(&self, basis: TransferBasis, date: NaiveDate) -> Option<&TransferRule> {
        self.transfer_bases.iter().find(|rule| {
            rule.basis == basis && rule.from <= date && rule.until.is_none_or(|until| date < until)
        })
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
        let biometric = "biometric";
        // A policy dated the day before the 2021 rule still meets it the next day.
        assert!(uz.localisation_of(card, date(2021, 4, 15)).is_some());
        assert!(uz.localisation_of(card, date(2021, 4, 16)).is_some());
        assert!(uz.localisation_of(card, date(2026, 3, 26)).is_none());
        assert!(uz.localisation_of(biometric, date(2026, 3, 26)).is_some());
        assert!(uz.localisation_of(biometric, date(2030, 1, 1)).is_some());
    }

    #[test]
    fn a_localisation_rule_binds_a_transfer_only_from_its_first_day() {
        let rule = &JurisdictionPack::UZBEKISTAN_2019.localisation[1];
        let biometric = "biometric";
        // Stored data must meet the rule before it starts; a transfer only once it has.
        assert!(rule.applies(biometric, date(2026, 3, 25)));
        assert!(!rule.in_force_on(biometric, date(2026, 3, 25)));
        assert!(rule.in_force_on(biometric, date(2026, 3, 26)));
        assert!(!rule.in_force_on("payment_card", date(2026, 3, 26)));
        let earlier = &JurisdictionPack::UZBEKISTAN_2019.localisation[0];
        assert!(!earlier.in_force_on("payment_card", date(2026, 3, 26)));
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
                .chain(pack.transfer_bases.iter().map(|r| r.citation))
                .chain(pack.request_deadlines.iter().map(|(_, d)| d.citation))
                .chain(pack.change_notice.iter().map(|d| d.citation))
                .chain([
                    pack.subject_request.citation,
                    pack.transfer_notice.citation,
                    pack.weekend_citation,
                    pack.weakest_consent_citation,
                ]);
            for citation in citations {
                assert!(!citation.article.is_empty() && !citation.note.is_empty());
                // A rule drawn from the law's text names its article.
                assert!(
                    citation.secondary || citation.article.contains("Art."),
                    "{citation:?}"
                );
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
