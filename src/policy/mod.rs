//! Policy as code: the operator's privacy policy as a file the library enforces.
//!
//! A [`Policy`] says who the operator is, which law it builds on (a [`JurisdictionPack`]),
//! which categories of data it holds, for which purposes and on which legal basis, how long
//! it keeps each, to whom it discloses, where it stores, and which days are working days.
//! Give it to a [`ConsentLedger`](crate::ConsentLedger) and every decision follows it: a
//! purpose the policy does not declare for a category is refused, consents are bound to the
//! policy's version, and a new version that requires re-consent stops the old consents.
//!
//! Policies are TOML files — see the [reference](mod@reference) for every key — or built in code with
//! [`Policy::builder`]. A policy that can't be enforced is refused whole, with the file,
//! line and column of what is wrong.
//!
//! ```
//! use amanat::policy::Policy;
//!
//! let policy = Policy::from_toml_str(r#"
//!     version = "shop-1"
//!     date = 2025-07-01
//!     pack = "tajikistan-2018"
//!
//!     [operator]
//!     name = "Shop LLC"
//!     address = "Dushanbe"
//!     contact = "privacy@shop.tj"
//!     registration = "NCPD-0001"
//!
//!     [[category]]
//!     id = "phone"
//!
//!     [[purpose]]
//!     id = "service_provision"
//!     categories = ["phone"]
//!     basis = "consent"
//!
//!     [[retention]]
//!     category = "phone"
//!     purpose = "service_provision"
//!     after = "relationship_end"
//!     years = 1
//! "#)?;
//! assert_eq!(policy.version().as_str(), "shop-1");
//!
//! let broken = Policy::from_toml_str("version = \"x\"\nvesion = 2\n").unwrap_err();
//! assert_eq!(broken.line(), Some(2));
//! # Ok::<(), amanat::policy::PolicyError>(())
//! ```

mod calendar;
mod pack;
mod raw;
pub mod reference;
mod report;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::error::{PolicyError, PolicyErrorKind};
pub use calendar::WorkingCalendar;
pub use pack::{
    BasisRule, Citation, Country, DayCount, Deadline, JurisdictionPack, Localisation, Localised,
    ParseCountryError, TransferBasis, TransferRule, WrittenConsentRule,
};

use crate::category::Access;
use crate::vocab::{BasisKind, FormKind, PolicyVersion, Purpose};

/// Who processes the data (Tajik law Art. 1, 5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// Legal name.
    pub name: String,
    /// Registered address.
    pub address: String,
    /// Where subjects reach the operator about their data.
    pub contact: String,
    /// The registration or certificate of conformity issued by the authorised state body
    /// (Art. 5.2).
    pub registration: String,
    /// How the data is processed — automated, by hand, compared with which databases — as
    /// a subject's access report tells it (Art. 22.4).
    #[serde(default)]
    pub methods: Vec<String>,
    /// Who has access to the data, by role, as the access report tells it (Art. 22.4).
    #[serde(default)]
    pub access: Vec<String>,
    /// A telephone number for privacy questions; a Kantara receipt requires one.
    #[serde(default)]
    pub phone: Option<String>,
    /// Where the privacy notice is published; a Kantara receipt requires it.
    #[serde(default)]
    pub policy_url: Option<String>,
}

/// A category of data the policy holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CategoryDecl {
    /// The category's id, as its [`Category`](crate::Category) type's `ID`.
    pub id: String,
    /// Whether it is a special category that needs written consent.
    pub special: bool,
    /// Public or restricted access (Art. 9).
    pub access: Access,
    /// What it is, in words for the record of processing.
    pub description: String,
}

/// A declared purpose of processing (Art. 8.2) and what it may use (Art. 8.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurposeDecl {
    /// The purpose.
    pub id: Purpose,
    /// What it is for, in words a subject understands.
    pub description: String,
    /// The categories it may use; anything else is refused.
    pub categories: Vec<String>,
    /// The legal basis it stands on.
    pub basis: BasisKind,
    /// The weakest form of consent it accepts.
    pub consent_form: FormKind,
    /// Categories for which it collects written consent, on top of those the law names.
    pub written_for: Vec<String>,
    /// Whether it accepts only depersonalised data (statistics, research: Art. 19, 21.4).
    pub depersonalised: bool,
    /// Whether it is the service itself: withdrawing consent for it means the subject can
    /// no longer use the service (IMANUM §V).
    pub service: bool,
    /// The form each category needs, worked out once when the policy is loaded.
    #[serde(skip)]
    required: Vec<(String, FormKind)>,
}

impl PurposeDecl {
    /// Declares a purpose on `basis` using `categories`, accepting electronic consent,
    /// not depersonalised and not the service itself.
    pub fn new(
        id: Purpose,
        basis: BasisKind,
        categories: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            id,
            description: String::new(),
            categories: categories.into_iter().map(Into::into).collect(),
            basis,
            consent_form: FormKind::Electronic,
            written_for: Vec::new(),
            depersonalised: false,
            service: false,
            required: Vec::new(),
        }
    }
}

/// From when a retention period runs (Art. 14.3, 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionStart {
    /// From collection.
    Collection,
    /// From when the purpose is achieved.
    PurposeAchieved,
    /// From the end of the legal relationship: the account is closed (a logout is not).
    RelationshipEnd,
}

/// How long one category is kept for one purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionRule {
    /// The category.
    pub category: String,
    /// The purpose.
    pub purpose: Purpose,
    /// From when the period runs.
    pub after: RetentionStart,
    /// Years, months and days, added in that order.
    pub years: u32,
    /// See `years`.
    pub months: u32,
    /// See `years`.
    pub days: u32,
    /// The law or reason behind the period.
    pub reference: String,
}

impl RetentionRule {
    pub(crate) fn describe(&self) -> String {
        let rule = self;
        let start = match rule.after {
            RetentionStart::Collection => "collection",
            RetentionStart::PurposeAchieved => "the purpose was achieved",
            RetentionStart::RelationshipEnd => "the relationship ended",
        };
        let period: Vec<String> = [
            (rule.years, "year"),
            (rule.months, "month"),
            (rule.days, "day"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
        .collect();
        let when = if period.is_empty() {
            format!("once {start}")
        } else {
            format!("{} after {start}", period.join(" "))
        };
        let mut text = format!("rule: {} for {}, {when}", rule.category, rule.purpose);
        if !rule.reference.is_empty() {
            text.push_str("; ");
            text.push_str(&rule.reference);
        }
        text
    }
}

/// Who a recipient is to the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// Processes on the operator's behalf.
    Processor,
    /// Processes for its own purposes.
    ThirdParty,
    /// A state body.
    StateBody,
}

/// Someone the operator discloses data to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// The policy's id for it.
    pub id: String,
    /// Its name, as in a transfer notice (Art. 21).
    pub name: String,
    /// Its address, as in a transfer notice.
    pub address: String,
    /// Processor, third party or state body.
    pub role: RecipientRole,
    /// Where it is.
    pub country: Country,
    /// The purposes it receives data for.
    pub purposes: Vec<Purpose>,
    /// The categories it receives.
    pub categories: Vec<String>,
    /// The ground for a transfer abroad to a country that is not adequate.
    pub transfer_basis: Option<TransferBasis>,
}

/// Where some (or all) categories are stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StorageLocation {
    /// The country.
    pub country: Country,
    /// The categories kept there; empty for all.
    pub categories: Vec<String>,
    /// The authorised body's agreement to store abroad (Tajik law Art. 14.2), if any.
    pub agreement: Option<String>,
}

/// The first category stored at `location` (all `categories` when it names none) that a
/// localisation rule applying on `date` or later keeps at home, with the rule — unless the
/// rule yields to the authority's agreement and the location records one. The one test
/// behind loading a policy and opening a store abroad.
fn kept_at_home<'a>(
    pack: &'static JurisdictionPack,
    location: &'a StorageLocation,
    categories: &'a [CategoryDecl],
    date: NaiveDate,
) -> Option<(&'a str, &'static Localisation)> {
    let stored: Vec<&str> = if location.categories.is_empty() {
        categories.iter().map(|c| c.id.as_str()).collect()
    } else {
        location.categories.iter().map(String::as_str).collect()
    };
    stored.into_iter().find_map(|category| {
        // Every rule that applies, a later one starting too (data stored there now is still
        // there then); one the agreement lifts does not hide one it can't.
        pack.localisation
            .iter()
            .filter(|rule| rule.applies(category, date))
            .find(|rule| !(rule.waivable_by_agreement && location.agreement.is_some()))
            .map(|rule| (category, rule))
    })
}

/// A privacy policy the library enforces. See the [module documentation](self).
#[derive(Clone, Debug, Serialize)]
pub struct Policy {
    version: PolicyVersion,
    date: NaiveDate,
    #[serde(serialize_with = "pack_id")]
    pack: &'static JurisdictionPack,
    requires_reconsent: bool,
    operator: Operator,
    categories: Vec<CategoryDecl>,
    purposes: Vec<PurposeDecl>,
    retention: Vec<RetentionRule>,
    recipients: Vec<Recipient>,
    adequacy: Vec<Country>,
    storage: Vec<StorageLocation>,
    calendar: WorkingCalendar,
    #[serde(skip)]
    purpose_index: HashMap<Purpose, usize, foldhash::fast::RandomState>,
}

// serde hands a `&&JurisdictionPack` to `serialize_with`; the signature is its, not ours.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn pack_id<S: serde::Serializer>(pack: &&JurisdictionPack, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(pack.id)
}

impl Policy {
    /// Loads a policy from TOML text.
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] with the line and column of the first thing that is wrong:
    /// broken TOML, an unknown key, a missing one, or a policy that can't be enforced (see
    /// [`PolicyErrorKind`]).
    pub fn from_toml_str(text: &str) -> Result<Policy, PolicyError> {
        raw::parse(text).map_err(|e| e.locate(text, None))
    }

    /// Loads a policy from a TOML file.
    ///
    /// # Errors
    ///
    /// As [`from_toml_str`](Self::from_toml_str), naming the file; or
    /// [`PolicyErrorKind::Unreadable`] if the file can't be read.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            PolicyError::new(PolicyErrorKind::Unreadable {
                reason: e.to_string(),
            })
            .locate("", Some(path))
        })?;
        raw::parse(&text).map_err(|e| e.locate(&text, Some(path)))
    }

    /// Starts a policy in code.
    ///
    /// ```
    /// use amanat::policy::{JurisdictionPack, Operator, Policy, PurposeDecl, RetentionRule,
    ///                      RetentionStart};
    /// use amanat::{PolicyVersion, Purpose};
    /// use amanat::vocab::BasisKind;
    /// use chrono::NaiveDate;
    ///
    /// let operator = Operator {
    ///     name: "Shop LLC".into(),
    ///     address: "Dushanbe".into(),
    ///     contact: "privacy@shop.tj".into(),
    ///     registration: "NCPD-0001".into(),
    ///     methods: vec!["automated, in the shop's app".into()],
    ///     access: vec!["the shop's order desk".into()],
    ///     phone: None,
    ///     policy_url: Some("https://shop.tj/privacy".into()),
    /// };
    /// let policy = Policy::builder(
    ///         PolicyVersion::new("shop-1")?,
    ///         NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
    ///         &JurisdictionPack::TAJIKISTAN_2018,
    ///         operator,
    ///     )
    ///     .category("phone")
    ///     .purpose(PurposeDecl::new(Purpose::SERVICE_PROVISION, BasisKind::Consent, ["phone"]))
    ///     .retention(RetentionRule {
    ///         category: "phone".into(),
    ///         purpose: Purpose::SERVICE_PROVISION,
    ///         after: RetentionStart::RelationshipEnd,
    ///         years: 1,
    ///         months: 0,
    ///         days: 0,
    ///         reference: String::new(),
    ///     })
    ///     .build()?;
    /// assert!(policy.allows(&Purpose::SERVICE_PROVISION, "phone"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(
        version: PolicyVersion,
        date: NaiveDate,
        pack: &'static JurisdictionPack,
        operator: Operator,
    ) -> PolicyBuilder {
        PolicyBuilder {
            draft: Draft {
                version,
                date,
                pack,
                requires_reconsent: false,
                operator,
                categories: Vec::new(),
                purposes: Vec::new(),
                retention: Vec::new(),
                recipients: Vec::new(),
                adequacy: Vec::new(),
                storage: Vec::new(),
                calendar: None,
            },
        }
    }

    /// The policy's version; consents given under it are bound to it.
    pub fn version(&self) -> &PolicyVersion {
        &self.version
    }

    /// When it takes effect.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The law it builds on.
    pub fn pack(&self) -> &'static JurisdictionPack {
        self.pack
    }

    /// Whether adopting it requires every subject to consent again (IMANUM §6).
    pub fn requires_reconsent(&self) -> bool {
        self.requires_reconsent
    }

    /// The operator.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    /// The categories it holds.
    pub fn categories(&self) -> &[CategoryDecl] {
        &self.categories
    }

    /// The declared category with this id.
    pub fn category(&self, id: &str) -> Option<&CategoryDecl> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// The declared purposes.
    pub fn purposes(&self) -> &[PurposeDecl] {
        &self.purposes
    }

    /// The declared purpose with this id.
    pub fn purpose(&self, purpose: &Purpose) -> Option<&PurposeDecl> {
        self.purpose_index.get(purpose).map(|&i| &self.purposes[i])
    }

    /// Whether the policy declares `purpose` for `category`.
    pub fn allows(&self, purpose: &Purpose, category: &str) -> bool {
        self.required_form(purpose, category).is_some()
    }

    /// The weakest consent form `purpose` accepts for `category` — written for a special
    /// category or one the purpose lists in `written_for` — or `None` when the policy does
    /// not declare `purpose` for `category`.
    pub fn required_form(&self, purpose: &Purpose, category: &str) -> Option<FormKind> {
        self.purpose(purpose)?
            .required
            .iter()
            .find(|(id, _)| id == category)
            .map(|&(_, form)| form)
    }

    /// The retention rules.
    pub fn retention(&self) -> &[RetentionRule] {
        &self.retention
    }

    /// The retention rule for `category` used for `purpose`.
    pub fn retention_for(&self, category: &str, purpose: &Purpose) -> Option<&RetentionRule> {
        self.retention_index(category, purpose)
            .map(|i| &self.retention[i])
    }

    /// The place in [`Policy::retention`] of the rule for `category` used for `purpose`.
    pub(crate) fn retention_index(&self, category: &str, purpose: &Purpose) -> Option<usize> {
        self.retention
            .iter()
            .position(|r| r.category == category && &r.purpose == purpose)
    }

    /// The recipients.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// The recipients declared for at least one (purpose, category) pair that `uses`
    /// accepts: what a report or a receipt names for the data it is about.
    pub(crate) fn recipients_for<'a>(
        &'a self,
        uses: impl Fn(&Purpose, &str) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Recipient> + 'a {
        self.recipients().iter().filter(move |r| {
            r.purposes
                .iter()
                .any(|p| r.categories.iter().any(|c| uses(p, c)))
        })
    }

    /// The retention rules, in words, for the (purpose, category) pairs `uses` accepts.
    pub(crate) fn retention_texts_for(&self, uses: impl Fn(&Purpose, &str) -> bool) -> Vec<String> {
        self.retention()
            .iter()
            .filter(|rule| uses(&rule.purpose, &rule.category))
            .map(RetentionRule::describe)
            .collect()
    }

    /// The recipient with this id.
    pub fn recipient(&self, id: &str) -> Option<&Recipient> {
        self.recipients.iter().find(|r| r.id == id)
    }

    /// Countries that protect personal data adequately (Art. 18).
    pub fn adequacy(&self) -> &[Country] {
        &self.adequacy
    }

    /// Where the data is stored.
    pub fn storage(&self) -> &[StorageLocation] {
        &self.storage
    }

    /// Checks that a store in `country` may hold this policy's data on `date` (Tajik law
    /// Art. 14.2; ZRU-547 Art. 27-1): the home country always; another only if the policy
    /// declares storage there, and only for categories no localisation rule in force on
    /// `date` or later keeps at home — unless the rule yields to the authority's agreement and the
    /// policy records one for that country.
    ///
    /// # Errors
    ///
    /// [`Error::StorageRefused`](crate::Error::StorageRefused) naming the country, the
    /// first category refused (or none when the policy declares no storage there) and the
    /// rule.
    ///
    /// ```
    /// use amanat::{Error, Policy};
    /// use amanat::policy::Country;
    /// use chrono::NaiveDate;
    ///
    /// let policy = Policy::from_toml_str(include_str!("../../examples/policies/imanum.toml"))?;
    /// let day = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    /// assert!(policy.check_store_location("UZ".parse()?, day).is_ok());
    /// assert!(matches!(
    ///     policy.check_store_location("DE".parse()?, day),
    ///     Err(Error::StorageRefused { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_store_location(
        &self,
        country: Country,
        date: NaiveDate,
    ) -> Result<(), crate::Error> {
        let pack = self.pack();
        if country == pack.home {
            return Ok(());
        }
        let mut there = self
            .storage
            .iter()
            .filter(|s| s.country == country)
            .peekable();
        if there.peek().is_none() {
            return Err(crate::Error::StorageRefused {
                country: country.to_string(),
                category: None,
                rule: "the policy declares no storage in this country (Art. 14.2)",
            });
        }
        // Every entry for the country: each names what it keeps there and on what agreement.
        for location in there {
            if let Some((category, rule)) = kept_at_home(pack, location, &self.categories, date) {
                return Err(crate::Error::StorageRefused {
                    country: country.to_string(),
                    category: Some(category.to_owned()),
                    rule: rule.citation.article,
                });
            }
        }
        Ok(())
    }

    /// The working-day calendar every deadline is counted on.
    pub fn calendar(&self) -> &WorkingCalendar {
        &self.calendar
    }

    /// When the answer to a subject's request received on `received` is due (Tajik law
    /// Art. 22; the pack's deadline on this policy's calendar).
    pub fn subject_request_due(&self, received: NaiveDate) -> Option<NaiveDate> {
        self.pack.subject_request.due(received, &self.calendar)
    }

    /// When the notice of a transfer made on `transferred` is due (Tajik law Art. 21).
    pub fn transfer_notice_due(&self, transferred: NaiveDate) -> Option<NaiveDate> {
        self.pack.transfer_notice.due(transferred, &self.calendar)
    }
}

/// Builds a [`Policy`] in code; see [`Policy::builder`].
#[derive(Debug)]
#[must_use = "call build() to get the policy"]
pub struct PolicyBuilder {
    draft: Draft,
}

impl PolicyBuilder {
    /// Declares a category; special and access come from the law's defaults.
    pub fn category(mut self, id: impl Into<String>) -> Self {
        self.draft.categories.push(Located::new(raw::RawCategory {
            id: id.into(),
            special: None,
            access: None,
            description: String::new(),
        }));
        self
    }

    /// Declares a category with everything spelt out: whether it is special (it can't be
    /// weaker than the law), its access and its description.
    pub fn category_decl(mut self, decl: CategoryDecl) -> Self {
        self.draft.categories.push(Located::new(raw::RawCategory {
            id: decl.id,
            special: Some(decl.special),
            access: Some(decl.access),
            description: decl.description,
        }));
        self
    }

    /// Declares a purpose.
    pub fn purpose(mut self, purpose: PurposeDecl) -> Self {
        self.draft.purposes.push(Located::new(purpose));
        self
    }

    /// Adds a retention rule.
    pub fn retention(mut self, rule: RetentionRule) -> Self {
        self.draft.retention.push(Located::new(rule));
        self
    }

    /// Declares a recipient.
    pub fn recipient(mut self, recipient: Recipient) -> Self {
        self.draft.recipients.push(Located::new(recipient));
        self
    }

    /// Adds a country to the adequacy list.
    pub fn adequate(mut self, country: Country) -> Self {
        self.draft.adequacy.push(Located::new(country));
        self
    }

    /// Adds a storage location.
    pub fn storage(mut self, location: StorageLocation) -> Self {
        self.draft.storage.push(Located::new(location));
        self
    }

    /// Sets the working-day calendar. Default: the pack's weekend, no holidays.
    pub fn calendar(mut self, calendar: WorkingCalendar) -> Self {
        self.draft.calendar = Some(Located::new(calendar));
        self
    }

    /// Makes adopting this policy require every subject to consent again.
    pub fn requires_reconsent(mut self, yes: bool) -> Self {
        self.draft.requires_reconsent = yes;
        self
    }

    /// Checks the policy and builds it.
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] (without a position) naming the first thing that makes the policy
    /// unenforceable.
    pub fn build(self) -> Result<Policy, PolicyError> {
        self.draft.validate()
    }
}

/// The article that makes `category` need written consent under `pack`, or, for a
/// category only the policy makes special, a note saying so.
fn written_rule(pack: &JurisdictionPack, category: &str) -> &'static str {
    pack.written_consent
        .iter()
        .find(|r| r.category.as_str() == category)
        .map_or("declared special in the policy", |r| r.citation.article)
}

fn is_recipient_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn is_category_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether a built-in category with this id is special, so a policy can't declare it
/// otherwise.
fn built_in_special(id: &str) -> bool {
    use crate::category::{Biometric, Category};
    id == Biometric::ID.as_str() && Biometric::SPECIAL
}

/// The hasher of the maps built while a policy is checked (keys are the policy's own ids).
type Fast = foldhash::fast::RandomState;

/// A value with the positions of its fields in the source, when it came from one.
#[derive(Debug)]
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) spans: HashMap<String, Range<usize>>,
}

impl<T> Located<T> {
    fn new(value: T) -> Self {
        Self {
            value,
            spans: HashMap::new(),
        }
    }

    fn at(&self, field: &str) -> Option<Range<usize>> {
        self.spans.get(field).cloned()
    }
}

/// A policy as written, before it is checked: what both the TOML loader and the builder
/// produce, so one validation serves both.
#[derive(Debug)]
pub(crate) struct Draft {
    pub(crate) version: PolicyVersion,
    pub(crate) date: NaiveDate,
    pub(crate) pack: &'static JurisdictionPack,
    pub(crate) requires_reconsent: bool,
    pub(crate) operator: Operator,
    pub(crate) categories: Vec<Located<raw::RawCategory>>,
    pub(crate) purposes: Vec<Located<PurposeDecl>>,
    pub(crate) retention: Vec<Located<RetentionRule>>,
    pub(crate) recipients: Vec<Located<Recipient>>,
    pub(crate) adequacy: Vec<Located<Country>>,
    pub(crate) storage: Vec<Located<StorageLocation>>,
    pub(crate) calendar: Option<Located<WorkingCalendar>>,
}

impl Draft {
    #[allow(clippy::too_many_lines)]
    fn validate(self) -> Result<Policy, PolicyError> {
        use PolicyErrorKind as K;
        let fail = |kind: K, span: Option<Range<usize>>| PolicyError::new(kind).at(span);
        let pack = self.pack;

        // Every lookup below goes through a hash map or set: a policy is checked in time
        // linear in its size (issue 15: 40 k categories took 7.6 s with linear scans).
        // Errors and their order are the scans' own: only membership is asked of them.

        // Categories: unique, well-formed, never weaker than the law.
        let mut categories = Vec::with_capacity(self.categories.len());
        let mut category_index: HashMap<String, usize, Fast> = HashMap::default();
        for c in &self.categories {
            let id = &c.value.id;
            if !is_category_id(id) {
                return Err(fail(
                    K::InvalidValue {
                        field: "category.id",
                        reason: "a category id is lower-case letters, digits and `_`",
                    },
                    c.at("id"),
                ));
            }
            if category_index.contains_key(id) {
                return Err(fail(
                    K::DuplicateId {
                        kind: "category",
                        id: id.clone(),
                    },
                    c.at("id"),
                ));
            }
            let by_law = pack
                .written_consent
                .iter()
                .any(|r| r.category.as_str() == id)
                || built_in_special(id);
            if c.value.special == Some(false) && by_law {
                return Err(fail(
                    K::WeakerThanLaw {
                        what: format!("category {id} declared not special"),
                        article: written_rule(pack, id),
                    },
                    c.at("special"),
                ));
            }
            category_index.insert(id.clone(), categories.len());
            categories.push(CategoryDecl {
                id: id.clone(),
                special: c.value.special.unwrap_or(by_law),
                access: c.value.access.unwrap_or(Access::Restricted),
                description: c.value.description.clone(),
            });
        }
        let declared = |id: &str| category_index.get(id).map(|&i| &categories[i]);

        // Purposes: unique, using declared categories, on a basis the law accepts, asking
        // for the form of consent the law requires.
        let mut purposes = Vec::with_capacity(self.purposes.len());
        let mut purpose_spans = Vec::with_capacity(self.purposes.len());
        let mut purpose_index = HashMap::default();
        for (n, p) in self.purposes.into_iter().enumerate() {
            purpose_spans.push(p.spans.get("id").cloned());
            let mut decl = p.value;
            if purpose_index.insert(decl.id.clone(), n).is_some() {
                return Err(fail(
                    K::DuplicateId {
                        kind: "purpose",
                        id: decl.id.to_string(),
                    },
                    p.spans.get("id").cloned(),
                ));
            }
            let mut used: HashSet<&String, Fast> = HashSet::default();
            for (i, category) in decl.categories.iter().enumerate() {
                let span = p.spans.get(&format!("categories.{i}")).cloned();
                if declared(category).is_none() {
                    return Err(fail(
                        K::UndeclaredCategory {
                            category: category.clone(),
                            used_by: format!("purpose {}", decl.id),
                        },
                        span,
                    ));
                }
                if !used.insert(category) {
                    return Err(fail(
                        K::DuplicateId {
                            kind: "category of a purpose",
                            id: category.clone(),
                        },
                        span,
                    ));
                }
            }
            for (i, category) in decl.written_for.iter().enumerate() {
                if !used.contains(category) {
                    return Err(fail(
                        K::UndeclaredCategory {
                            category: category.clone(),
                            used_by: format!("written_for of purpose {}", decl.id),
                        },
                        p.spans.get(&format!("written_for.{i}")).cloned(),
                    ));
                }
            }
            if decl.basis != BasisKind::Consent && pack.accepts_basis(decl.basis.name()).is_none() {
                return Err(fail(
                    K::BasisNotInPack {
                        purpose: decl.id.to_string(),
                        basis: decl.basis,
                        pack: pack.id,
                    },
                    p.spans.get("basis").cloned(),
                ));
            }
            if decl.basis == BasisKind::Consent && decl.consent_form < pack.weakest_consent {
                return Err(fail(
                    K::ConsentFormBelowLaw {
                        purpose: decl.id.to_string(),
                        declared: decl.consent_form,
                        required: pack.weakest_consent,
                        article: pack.weakest_consent_citation.article,
                    },
                    p.spans
                        .get("consent_form")
                        .or_else(|| p.spans.get("id"))
                        .cloned(),
                ));
            }
            let written_for: HashSet<&String, Fast> = decl.written_for.iter().collect();
            let mut required = Vec::with_capacity(decl.categories.len());
            for category in &decl.categories {
                let special = declared(category).is_some_and(|c| c.special);
                let written = special || written_for.contains(category);
                let form = if written {
                    FormKind::Written
                } else {
                    decl.consent_form
                };
                if special
                    && !matches!(
                        decl.basis,
                        BasisKind::Consent | BasisKind::BiometricException | BasisKind::CourtOrder
                    )
                {
                    return Err(fail(
                        K::SpecialCategoryBasis {
                            purpose: decl.id.to_string(),
                            category: category.clone(),
                            basis: decl.basis,
                        },
                        p.spans.get("basis").cloned(),
                    ));
                }
                if decl.basis == BasisKind::Consent
                    && special
                    && decl.consent_form < FormKind::Written
                    && !written_for.contains(category)
                {
                    let article = written_rule(pack, category);
                    return Err(fail(
                        K::WeakConsentForm {
                            purpose: decl.id.to_string(),
                            category: category.clone(),
                            declared: decl.consent_form,
                            article,
                        },
                        p.spans
                            .get("consent_form")
                            .or_else(|| p.spans.get("id"))
                            .cloned(),
                    ));
                }
                required.push((category.clone(), form));
            }
            decl.required = required;
            purposes.push(decl);
        }
        let purpose_of = |id: &Purpose| purpose_index.get(id).map(|&i| &purposes[i]);
        // Every (category, purpose) pair a purpose declares.
        let declared_pairs: HashSet<(&str, &Purpose), Fast> = purposes
            .iter()
            .flat_map(|p| p.categories.iter().map(move |c| (c.as_str(), &p.id)))
            .collect();

        // Retention: one rule for each (category, purpose) a purpose uses, and no other.
        let mut retention = Vec::with_capacity(self.retention.len());
        let mut covered = HashSet::new();
        for r in self.retention {
            let rule = r.value;
            let Some(purpose) = purpose_of(&rule.purpose) else {
                return Err(fail(
                    K::UndeclaredPurpose {
                        purpose: rule.purpose.to_string(),
                        used_by: "a retention rule".into(),
                    },
                    r.spans.get("purpose").cloned(),
                ));
            };
            if !declared_pairs.contains(&(rule.category.as_str(), &purpose.id)) {
                return Err(fail(
                    K::UndeclaredCategory {
                        category: rule.category.clone(),
                        used_by: format!("the retention rule for purpose {}", rule.purpose),
                    },
                    r.spans.get("category").cloned(),
                ));
            }
            if !covered.insert((rule.category.clone(), rule.purpose.clone())) {
                return Err(fail(
                    K::DuplicateId {
                        kind: "retention rule",
                        id: format!("{} for {}", rule.category, rule.purpose),
                    },
                    r.spans.get("category").cloned(),
                ));
            }
            retention.push(rule);
        }
        for (n, purpose) in purposes.iter().enumerate() {
            for category in &purpose.categories {
                if !covered.contains(&(category.clone(), purpose.id.clone())) {
                    return Err(fail(
                        K::MissingRetention {
                            category: category.clone(),
                            purpose: purpose.id.to_string(),
                        },
                        purpose_spans[n].clone(),
                    ));
                }
            }
        }

        // Adequacy list.
        let mut adequacy = Vec::with_capacity(self.adequacy.len());
        let mut adequate: HashSet<Country, Fast> = HashSet::default();
        for c in &self.adequacy {
            if !adequate.insert(c.value) {
                return Err(fail(
                    K::DuplicateId {
                        kind: "adequate country",
                        id: c.value.to_string(),
                    },
                    c.at("value"),
                ));
            }
            adequacy.push(c.value);
        }

        // Recipients: declared purposes and categories; abroad only on a ground (Art. 18).
        let mut recipients: Vec<Recipient> = Vec::with_capacity(self.recipients.len());
        let mut recipient_ids: HashSet<String, Fast> = HashSet::default();
        for r in self.recipients {
            let recipient = r.value;
            if !is_recipient_id(&recipient.id) {
                return Err(fail(
                    K::InvalidValue {
                        field: "recipient.id",
                        reason: "a recipient id is lower-case letters, digits, `_` and `-`",
                    },
                    r.spans.get("id").cloned(),
                ));
            }
            if !recipient_ids.insert(recipient.id.clone()) {
                return Err(fail(
                    K::DuplicateId {
                        kind: "recipient",
                        id: recipient.id.clone(),
                    },
                    r.spans.get("id").cloned(),
                ));
            }
            for (i, purpose) in recipient.purposes.iter().enumerate() {
                if purpose_of(purpose).is_none() {
                    return Err(fail(
                        K::UndeclaredPurpose {
                            purpose: purpose.to_string(),
                            used_by: format!("recipient {}", recipient.id),
                        },
                        r.spans.get(&format!("purposes.{i}")).cloned(),
                    ));
                }
            }
            // A recipient names a few purposes: a lookup for each, per category.
            for (i, category) in recipient.categories.iter().enumerate() {
                let used = recipient
                    .purposes
                    .iter()
                    .any(|p| declared_pairs.contains(&(category.as_str(), p)));
                if !used {
                    return Err(fail(
                        K::UndeclaredCategory {
                            category: category.clone(),
                            used_by: format!("recipient {} (for its purposes)", recipient.id),
                        },
                        r.spans.get(&format!("categories.{i}")).cloned(),
                    ));
                }
            }
            let abroad = recipient.country != pack.home;
            if abroad && !adequate.contains(&recipient.country) {
                let Some(basis) = recipient.transfer_basis else {
                    return Err(fail(
                        K::TransferNotAllowed {
                            recipient: recipient.id.clone(),
                            country: recipient.country,
                        },
                        r.spans.get("country").cloned(),
                    ));
                };
                if pack.accepts_transfer(basis, self.date).is_none() {
                    return Err(fail(
                        K::TransferBasisNotInPack {
                            recipient: recipient.id.clone(),
                            basis,
                            pack: pack.id,
                        },
                        r.spans.get("transfer_basis").cloned(),
                    ));
                }
            }
            if abroad {
                for (i, category) in recipient.categories.iter().enumerate() {
                    if let Some(rule) = pack
                        .localisation
                        .iter()
                        .find(|rule| rule.covers_transfers && rule.applies(category, self.date))
                    {
                        return Err(fail(
                            K::LocalisedTransfer {
                                recipient: recipient.id.clone(),
                                category: category.clone(),
                                country: recipient.country,
                                article: rule.citation.article,
                            },
                            r.spans.get(&format!("categories.{i}")).cloned(),
                        ));
                    }
                }
            }
            recipients.push(recipient);
        }

        // Storage: localised categories stay at home (Tajik law Art. 14.2, ZRU-547 Art. 27-1).
        let mut storage = Vec::with_capacity(self.storage.len());
        // A location abroad that names no categories stores them all: what it keeps at home
        // depends only on whether it records an agreement, so it is worked out once for each.
        let mut all_at_home: [Option<Option<(String, &'static Localisation)>>; 2] = [None, None];
        for s in self.storage {
            let location = s.value;
            for (i, category) in location.categories.iter().enumerate() {
                if declared(category).is_none() {
                    return Err(fail(
                        K::UndeclaredCategory {
                            category: category.clone(),
                            used_by: format!("storage in {}", location.country),
                        },
                        s.spans.get(&format!("categories.{i}")).cloned(),
                    ));
                }
            }
            if location.country != pack.home
                && let Some((category, rule)) = if location.categories.is_empty() {
                    all_at_home[usize::from(location.agreement.is_some())]
                        .get_or_insert_with(|| {
                            kept_at_home(pack, &location, &categories, self.date)
                                .map(|(category, rule)| (category.to_owned(), rule))
                        })
                        .clone()
                } else {
                    kept_at_home(pack, &location, &categories, self.date)
                        .map(|(category, rule)| (category.to_owned(), rule))
                }
            {
                return Err(fail(
                    K::StorageNotAllowed {
                        category,
                        country: location.country,
                        article: rule.citation.article,
                    },
                    s.spans.get("country").cloned(),
                ));
            }
            storage.push(location);
        }

        let calendar = match self.calendar {
            Some(c) if !c.value.has_working_day() => {
                return Err(fail(K::NoWorkingDay, c.at("weekend")));
            }
            Some(c) => c.value,
            None => WorkingCalendar::new(pack.weekend.iter().copied()),
        };

        Ok(Policy {
            version: self.version,
            date: self.date,
            pack,
            requires_reconsent: self.requires_reconsent,
            operator: self.operator,
            categories,
            purposes,
            retention,
            recipients,
            adequacy,
            storage,
            calendar,
            purpose_index,
        })
    }
}
