//! Jurisdiction packs: what each law requires by default, rule by rule, with its article.
//!
//! Each pack cites its own law by name in every citation (`Law No. 1537, Art. 17.1`,
//! `ZRU-547, Art. 26`), so a message shown under one pack never cites the other's article.
//! Beside each pack is a table of every citation it can produce, with the words of the
//! original text each one rests on; a test walks both tables against the texts.

use chrono::{NaiveDate, Weekday};
use serde::Serialize;

use super::calendar::WorkingCalendar;
use crate::category::CategoryId;
pub use crate::vocab::border::{Country, ParseCountryError, TransferBasis};
use crate::vocab::register::RequestKind;
use crate::vocab::{ConsentForm, ElectronicMethod, FormKind};

mod tajikistan;
mod uzbekistan;

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The article (or other provision) that states it, with the act's name:
    /// `"ZRU-547, Art. 23"`.
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

/// A category the law lets be processed without consent only on some grounds, though it
/// asks no written form for it (ZRU-547 Art. 26: biometric and genetic data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestrictedCategory {
    /// The category.
    pub category: CategoryId,
    /// The bases other than consent that reach it, as [`LegalBasis::name`](crate::LegalBasis::name) spells them.
    pub bases: &'static [&'static str],
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

/// The article each message and report section cites, under one pack: what an error, the
/// record of processing or an audit entry names when it says which rule applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Articles {
    /// The operator's registration or certificate.
    pub registration: Citation,
    /// Written consent for a category that needs it.
    pub written_consent: Citation,
    /// The grounds that reach a special or biometric category without consent.
    pub special_bases: Citation,
    /// Statistics and research on depersonalised data only.
    pub depersonalised: Citation,
    /// Processing on a basis other than consent, which a withdrawal does not end.
    pub other_bases: Citation,
    /// How long data is kept, and when it must be destroyed.
    pub retention: Citation,
    /// Where the personal database must be.
    pub storage: Citation,
    /// Transfers abroad.
    pub transfers_abroad: Citation,
    /// What the subject is told of the processing of their data.
    pub access: Citation,
    /// The operator's duty to prove consent.
    pub proof_of_consent: Citation,
}

/// A rule that a decision with legal effect made solely by automated processing needs
/// consent in a stronger form, a contract, or a law, an explanation, and an answer to the
/// subject's objection (ZRU-547 Art. 24).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AutomatedDecisionRule {
    /// The weakest consent form that allows it; a form the pack counts as an electronic
    /// document ([`JurisdictionPack::electronic_document`]) counts as written.
    pub consent_form: FormKind,
    /// How long the operator has to answer an objection.
    pub objection: Deadline,
    /// Where the rule comes from.
    pub citation: Citation,
}

/// When a transfer owes the subject no notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NoticeExemptions {
    /// The subject consented to the transfer to this recipient.
    pub consent: bool,
    /// A state body receives the data for its duties.
    pub state_body: bool,
    /// The subject made the data public, or had it made public
    /// ([`PersonalData::made_public`](crate::PersonalData::made_public)).
    pub made_public: bool,
    /// Where the exemptions come from.
    pub citation: Citation,
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
    /// The law's short name, as every citation of the pack begins.
    pub law: &'static str,
    /// The country whose law it is.
    pub home: Country,
    /// The day the law applies from.
    pub in_force: NaiveDate,
    /// Where that date comes from.
    pub in_force_citation: Citation,
    /// Categories that need written consent, by id.
    pub written_consent: &'static [WrittenConsentRule],
    /// Categories processed without consent only on the grounds the law lists, beyond
    /// those that need written consent.
    pub restricted: &'static [RestrictedCategory],
    /// The rule that a category the policy declares special needs written consent, or
    /// `None` where the law names no special categories (a policy may still declare one,
    /// and is then held to written consent as its own choice).
    pub special_written: Option<Citation>,
    /// The rule that a legal representative's consent (for a minor, an incapable subject)
    /// must be written, or `None` where the law sets no form for it.
    pub representative_written: Option<Citation>,
    /// The electronic methods whose consent counts as an electronic document, and so as
    /// written where the law lets an electronic document stand for writing.
    pub electronic_document: &'static [ElectronicMethod],
    /// Where that setting comes from.
    pub electronic_document_citation: Citation,
    /// The rule that processing is entrusted to a processor only on written consent (an
    /// electronic document included), a contract or a law, where the law has one.
    pub processor_written: Option<Citation>,
    /// The rule for decisions made solely by automated processing, where the law has one.
    pub automated_decisions: Option<AutomatedDecisionRule>,
    /// The article each message and report section cites.
    pub articles: Articles,
    /// How long the operator has to answer a subject's access request (and any other
    /// kind [`request_deadlines`](Self::request_deadlines) does not name).
    pub subject_request: Deadline,
    /// How long the operator has to answer each other kind of subject request, with the
    /// article that sets it — or, where the law sets none, says so.
    pub request_deadlines: &'static [(RequestKind, Deadline)],
    /// How long the operator has to notify a subject of a transfer.
    pub transfer_notice: Deadline,
    /// When a transfer owes no notice.
    pub notice_exemptions: NoticeExemptions,
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

/// A rule the law's own text states.
const fn law(article: &'static str, note: &'static str) -> Citation {
    Citation {
        article,
        secondary: false,
        note,
    }
}

/// A rule from a secondary source, or amanat's reading where the text is silent.
const fn secondary(article: &'static str, note: &'static str) -> Citation {
    Citation {
        article,
        secondary: true,
        note,
    }
}

const BIOMETRIC: CategoryId = CategoryId::new("biometric");

impl JurisdictionPack {
    /// The strength the law gives `form`: an electronic consent confirmed by a method the
    /// pack counts as an electronic document counts as written, where the law lets an
    /// electronic document stand for writing (ZRU-547 Art. 21, 24, 25).
    ///
    /// ```
    /// use amanat::policy::JurisdictionPack;
    /// use amanat::vocab::{ConsentForm, ElectronicMethod, FormKind};
    ///
    /// let signed = ConsentForm::Electronic { method: ElectronicMethod::DigitalSignature };
    /// let otp = ConsentForm::Electronic { method: ElectronicMethod::OneTimePassword };
    /// assert_eq!(JurisdictionPack::UZBEKISTAN_2019.strength(&signed), FormKind::Written);
    /// assert_eq!(JurisdictionPack::UZBEKISTAN_2019.strength(&otp), FormKind::Electronic);
    /// assert_eq!(JurisdictionPack::TAJIKISTAN_2018.strength(&signed), FormKind::Electronic);
    /// ```
    pub fn strength(&self, form: &ConsentForm) -> FormKind {
        match form {
            ConsentForm::Electronic { method } if self.is_electronic_document(*method) => {
                FormKind::Written
            }
            other => other.kind(),
        }
    }

    /// Whether a consent confirmed by `method` is an electronic document under this pack,
    /// and so written where the law lets an electronic document stand for writing.
    pub fn is_electronic_document(&self, method: ElectronicMethod) -> bool {
        self.electronic_document.contains(&method)
    }

    /// Every citation the pack can produce, each with where it is used: the rules, the
    /// deadlines, and the articles its messages and reports cite. The table beside each
    /// pack lists the same, with the words of the original text behind each.
    pub fn citations(&self) -> Vec<(String, Citation)> {
        let mut all = vec![
            ("in_force".to_owned(), self.in_force_citation),
            ("subject_request".to_owned(), self.subject_request.citation),
            ("transfer_notice".to_owned(), self.transfer_notice.citation),
            (
                "notice_exemptions".to_owned(),
                self.notice_exemptions.citation,
            ),
            ("weakest_consent".to_owned(), self.weakest_consent_citation),
            (
                "electronic_document".to_owned(),
                self.electronic_document_citation,
            ),
            ("weekend".to_owned(), self.weekend_citation),
        ];
        let a = &self.articles;
        all.extend([
            ("articles.registration".to_owned(), a.registration),
            ("articles.written_consent".to_owned(), a.written_consent),
            ("articles.special_bases".to_owned(), a.special_bases),
            ("articles.depersonalised".to_owned(), a.depersonalised),
            ("articles.other_bases".to_owned(), a.other_bases),
            ("articles.retention".to_owned(), a.retention),
            ("articles.storage".to_owned(), a.storage),
            ("articles.transfers_abroad".to_owned(), a.transfers_abroad),
            ("articles.access".to_owned(), a.access),
            ("articles.proof_of_consent".to_owned(), a.proof_of_consent),
        ]);
        all.extend(
            self.written_consent
                .iter()
                .map(|r| (format!("written_consent.{}", r.category), r.citation)),
        );
        all.extend(
            self.special_written
                .map(|c| ("special_written".to_owned(), c)),
        );
        all.extend(
            self.restricted
                .iter()
                .map(|r| (format!("restricted.{}", r.category), r.citation)),
        );
        all.extend(
            self.representative_written
                .map(|c| ("representative_written".to_owned(), c)),
        );
        all.extend(
            self.processor_written
                .map(|c| ("processor_written".to_owned(), c)),
        );
        all.extend(
            self.automated_decisions
                .map(|r| ("automated_decisions".to_owned(), r.citation)),
        );
        all.extend(
            self.request_deadlines
                .iter()
                .map(|(kind, d)| (format!("request_deadlines.{}", kind.name()), d.citation)),
        );
        all.extend(
            self.change_notice
                .map(|d| ("change_notice".to_owned(), d.citation)),
        );
        all.extend(
            self.localisation
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("localisation.{i}"), r.citation)),
        );
        all.extend(self.transfer_bases.iter().map(|r| {
            (
                format!("transfer_bases.{}.{}", r.basis.name(), r.from),
                r.citation,
            )
        }));
        all.extend(
            self.bases_without_consent
                .iter()
                .map(|r| (format!("bases_without_consent.{}", r.basis), r.citation)),
        );
        all
    }

    /// The article that makes `category` need written consent under this pack, for a
    /// category the policy declares `special` or not.
    pub fn written_article(&self, category: &str, special: bool) -> &'static str {
        self.written_consent
            .iter()
            .find(|r| r.category.as_str() == category)
            .map(|r| r.citation.article)
            .or_else(|| special.then_some(self.special_written?.article))
            .unwrap_or("the policy's own declaration")
    }

    /// The deadline for `kind` of subject request, and the article behind it.
    pub fn request_deadline(&self, kind: RequestKind) -> &Deadline {
        self.request_deadlines
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&self.subject_request, |(_, deadline)| deadline)
    }

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

    /// The rule that limits the bases other than consent for `category`, if any.
    pub fn restriction_of(&self, category: &str) -> Option<&RestrictedCategory> {
        self.restricted
            .iter()
            .find(|r| r.category.as_str() == category)
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
            for (place, citation) in pack.citations() {
                assert!(!citation.article.is_empty() && !citation.note.is_empty());
                // A rule drawn from the law's text names its article.
                assert!(
                    citation.secondary || citation.article.contains("Art."),
                    "{place}: {citation:?}"
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
