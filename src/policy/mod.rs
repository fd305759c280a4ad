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
//! A policy can be enforced and still not be finished: its registration (Art. 5.2) may
//! read "to be confirmed". Loaded as usual it loads, and [`Policy::warnings`] says so;
//! loaded strictly ([`Policy::from_toml_str_strict`], [`Policy::from_path_strict`],
//! [`PolicyBuilder::strict`]) it is refused. The library prints nothing: what to do with a
//! warning is the caller's call.
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
//! "#)?;
//! assert_eq!(policy.version().as_str(), "shop-1");
//!
//! let broken = Policy::from_toml_str("version = \"x\"\nvesion = 2\n").unwrap_err();
//! assert_eq!(broken.line(), Some(2));
//! assert!(policy.warnings().is_empty());
//!
//! // IMANUM's policy publishes no registration: a warning, or a refusal when strict.
//! let imanum = include_str!("../../examples/policies/imanum.toml");
//! let policy = Policy::from_toml_str(imanum)?;
//! assert!(matches!(
//!     policy.warnings()[0].kind(),
//!     PolicyErrorKind::Placeholder { field: "operator.registration" }
//! ));
//! let refused = Policy::from_toml_str_strict(imanum).unwrap_err();
//! assert_eq!(refused.kind(), policy.warnings()[0].kind());
//! assert_eq!(refused.line(), policy.warnings()[0].line());
//! # use amanat::policy::PolicyErrorKind;
//! # Ok::<(), amanat::policy::PolicyError>(())
//! ```

mod builder;
mod calendar;
mod decl;
mod pack;
mod raw;
pub mod reference;
mod report;
mod validate;

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

pub use crate::error::{PolicyError, PolicyErrorKind};
pub use builder::PolicyBuilder;
pub use calendar::WorkingCalendar;
use decl::kept_at_home;
pub use decl::{
    AutomatedDecision, CategoryDecl, Operator, PurposeDecl, Recipient, RecipientRole,
    RetentionRule, RetentionSource, RetentionStart, StatutoryMinimum, StorageLocation,
};
pub use pack::{
    Articles, AutomatedDecisionRule, BasisRule, Citation, Country, DayCount, Deadline,
    JurisdictionPack, Localisation, Localised, NoticeExemptions, ParseCountryError,
    RestrictedCategory, TransferBasis, TransferRule, WrittenConsentRule,
};
use validate::{Draft, Located};

use crate::vocab::{FormKind, PolicyVersion, Purpose};

/// What a report, a receipt or a notice says in place of a contact the policy does not
/// publish ([`Operator::contact`]).
pub const NOT_PUBLISHED: &str = "not published";

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
    minimums: Vec<StatutoryMinimum>,
    recipients: Vec<Recipient>,
    adequacy: Vec<Country>,
    storage: Vec<StorageLocation>,
    calendar: WorkingCalendar,
    #[serde(skip)]
    purpose_index: HashMap<Purpose, usize, foldhash::fast::RandomState>,
    /// What strict loading would have refused, located in the text it came from.
    #[serde(skip)]
    warnings: Vec<PolicyError>,
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
        Self::load(text, None, false)
    }

    /// Loads a policy from TOML text strictly: as [`from_toml_str`](Self::from_toml_str),
    /// and a placeholder where the law wants a value — a registration that is blank or
    /// reads "to be confirmed", "TBC", "not published" — is refused rather than a warning.
    ///
    /// # Errors
    ///
    /// As [`from_toml_str`](Self::from_toml_str); and
    /// [`PolicyErrorKind::Placeholder`] naming the field, with its line and column.
    pub fn from_toml_str_strict(text: &str) -> Result<Policy, PolicyError> {
        Self::load(text, None, true)
    }

    /// Loads a policy from a TOML file.
    ///
    /// # Errors
    ///
    /// As [`from_toml_str`](Self::from_toml_str), naming the file; or
    /// [`PolicyErrorKind::Unreadable`] if the file can't be read.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        Self::load_path(path.as_ref(), false)
    }

    /// Loads a policy from a TOML file strictly, as
    /// [`from_toml_str_strict`](Self::from_toml_str_strict).
    ///
    /// # Errors
    ///
    /// As [`from_path`](Self::from_path); and [`PolicyErrorKind::Placeholder`] naming the
    /// field, with the file, line and column.
    pub fn from_path_strict(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        Self::load_path(path.as_ref(), true)
    }

    fn load_path(path: &Path, strict: bool) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            PolicyError::new(PolicyErrorKind::Unreadable {
                reason: e.to_string(),
            })
            .locate("", Some(path))
        })?;
        Self::load(&text, Some(path), strict)
    }

    fn load(text: &str, path: Option<&Path>, strict: bool) -> Result<Policy, PolicyError> {
        let mut policy = raw::parse(text, strict).map_err(|e| e.locate(text, path))?;
        policy.warnings = std::mem::take(&mut policy.warnings)
            .into_iter()
            .map(|w| w.locate(text, path))
            .collect();
        Ok(policy)
    }

    /// What strict loading would have refused in this policy, each with the file, line and
    /// column it came from (none for a policy built in code): a placeholder registration
    /// ([`PolicyErrorKind::Placeholder`]). Empty for a policy loaded strictly.
    pub fn warnings(&self) -> &[PolicyError] {
        &self.warnings
    }

    /// Starts a policy in code.
    ///
    /// ```
    /// use amanat::policy::{JurisdictionPack, Operator, Policy, PurposeDecl, RetentionRule,
    ///                      RetentionSource, RetentionStart};
    /// use amanat::{PolicyVersion, Purpose};
    /// use amanat::vocab::BasisKind;
    /// use chrono::NaiveDate;
    ///
    /// let operator = Operator {
    ///     name: "Shop LLC".into(),
    ///     address: "Dushanbe".into(),
    ///     contact: Some("privacy@shop.tj".into()),
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
    ///         years: 0,
    ///         months: 0,
    ///         days: 0,
    ///         reference: String::new(),
    ///         source: Some(RetentionSource::Operator),
    ///         note: "the shop's own choice: no law sets a period".into(),
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
                operator: Located::new(operator),
                categories: Vec::new(),
                purposes: Vec::new(),
                retention: Vec::new(),
                minimums: Vec::new(),
                recipients: Vec::new(),
                adequacy: Vec::new(),
                storage: Vec::new(),
                calendar: None,
                strict: false,
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

    /// What makes `purpose` need written consent for `category`, as the pack cites it: the
    /// law's rule for the category, the law's rule for automated decisions, or — where the
    /// law asks nothing — the policy's own `written_for`.
    pub fn written_article(&self, purpose: &Purpose, category: &str) -> &'static str {
        let special = self.category(category).is_some_and(|c| c.special);
        if special {
            return self.pack.written_article(category, true);
        }
        let decl = self.purpose(purpose);
        if let (Some(_), Some(rule)) = (
            decl.and_then(|d| d.automated_decision.as_ref()),
            self.pack.automated_decisions,
        ) {
            return rule.citation.article;
        }
        self.pack.written_article(category, false)
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

    /// The statutory minimums: periods a law keeps a category for, whatever purpose
    /// collected it.
    pub fn minimums(&self) -> &[StatutoryMinimum] {
        &self.minimums
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

    /// The retention rules, in words, for the (purpose, category) pairs `uses` accepts, and
    /// the statutory minimums of their categories.
    pub(crate) fn retention_texts_for(&self, uses: impl Fn(&Purpose, &str) -> bool) -> Vec<String> {
        let rules: Vec<&RetentionRule> = self
            .retention()
            .iter()
            .filter(|rule| uses(&rule.purpose, &rule.category))
            .collect();
        let minimums = self
            .minimums()
            .iter()
            .filter(|m| rules.iter().any(|r| r.category == m.category))
            .map(StatutoryMinimum::describe);
        rules
            .iter()
            .map(|rule| rule.describe())
            .chain(minimums)
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
                rule: pack.articles.storage.article,
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

    /// When the answer to a subject's access request received on `received` is due: the
    /// pack's deadline (Tajik law Art. 25.1, three working days; ZRU-547 Art. 22, ten days)
    /// on this policy's calendar.
    pub fn subject_request_due(&self, received: NaiveDate) -> Option<NaiveDate> {
        self.pack.subject_request.due(received, &self.calendar)
    }

    /// When a subject's request of `kind` received on `received` is due, on the pack's
    /// deadline for that kind ([`JurisdictionPack::request_deadline`], which names the
    /// article) and the policy's calendar. `None` only past the end of the calendar.
    pub fn request_due(
        &self,
        kind: crate::vocab::register::RequestKind,
        received: NaiveDate,
    ) -> Option<NaiveDate> {
        self.pack
            .request_deadline(kind)
            .due(received, &self.calendar)
    }

    /// When the notice of a transfer made on `transferred` is due (Tajik law Art. 21.1;
    /// ZRU-547 Art. 23).
    pub fn transfer_notice_due(&self, transferred: NaiveDate) -> Option<NaiveDate> {
        self.pack.transfer_notice.due(transferred, &self.calendar)
    }
}
