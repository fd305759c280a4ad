//! What a policy declares: its operator, categories, purposes, retention rules,
//! recipients and storage locations.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::category::Access;
use crate::vocab::{BasisKind, FormKind, Purpose};

use super::{Country, JurisdictionPack, Localisation, TransferBasis};

/// Who processes the data (Tajik law Art. 1, 5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// Legal name.
    pub name: String,
    /// Registered address.
    pub address: String,
    /// Where subjects reach the operator about their data; `None` when the policy
    /// publishes none. Nothing the library writes makes one up: a report or a receipt
    /// says [`NOT_PUBLISHED`](super::NOT_PUBLISHED) instead (see
    /// [`Operator::contact_or_not_published`]).
    #[serde(default)]
    pub contact: Option<String>,
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

impl Operator {
    /// The contact, or [`NOT_PUBLISHED`](super::NOT_PUBLISHED) when the policy publishes
    /// none: what a report or a receipt prints.
    pub fn contact_or_not_published(&self) -> &str {
        self.contact.as_deref().unwrap_or(super::NOT_PUBLISHED)
    }
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
    /// Whether it accepts only depersonalised data (statistics, research: Tajik law Art. 19; ZRU-547 Art. 16).
    pub depersonalised: bool,
    /// Whether it is the service itself: withdrawing consent for it means the subject can
    /// no longer use the service (IMANUM §V).
    pub service: bool,
    /// Set when the purpose makes decisions with legal effect solely by automated
    /// processing (a credit score): what the subject is told of it (ZRU-547 Art. 24).
    pub automated_decision: Option<AutomatedDecision>,
    /// The form each category needs, worked out once when the policy is loaded.
    #[serde(skip)]
    pub(super) required: Vec<(String, FormKind)>,
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
            automated_decision: None,
            required: Vec::new(),
        }
    }
}

/// A purpose's decisions made solely by automated processing, as the subject is told of
/// them: how they are made and what they may lead to (ZRU-547 Art. 24, part 3). Under a
/// pack with an automated-decision rule, the purpose stands only on consent in the form
/// the rule asks, a contract, or a law.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AutomatedDecision {
    /// How the decision is made, in words a subject understands.
    pub logic: String,
    /// Its possible legal consequences for the subject.
    pub effects: String,
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
    /// Who set the period: a law, the published policy, or the operator where both are
    /// silent; `None` when the policy does not say. A reader tells a figure a law sets
    /// from one the operator chose by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<RetentionSource>,
    /// Why the period is what it is, in words: for the operator's choice, what the law and
    /// the published policy leave open.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Who set a retention period: what a record of processing shows beside it, so a figure
/// a law or the published policy sets is told from one the operator chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionSource {
    /// A law sets it; the rule's `reference` cites the law.
    Law,
    /// The published privacy policy states it.
    Policy,
    /// The operator chose it: neither a law nor the published policy sets it.
    Operator,
}

impl RetentionSource {
    /// In words, as the record of processing and the reports print it.
    pub fn describe(self) -> &'static str {
        match self {
            RetentionSource::Law => "set by law",
            RetentionSource::Policy => "set by the published policy",
            RetentionSource::Operator => "the operator's choice",
        }
    }
}

/// A period a law keeps a category for, whatever purpose collected it: identity documents
/// kept five years after the relationship ends under the anti-money-laundering law.
/// Withdrawal and closure destroy none of the category's records before it ends; past a
/// record's own deadline it is readable only for `readable_for`, on a legal basis other
/// than consent, and kept from every other purpose (Tajik law Art. 14.3: data is kept
/// longer where a law says so).
///
/// The laws that set such periods are not among those the library carries, so a minimum
/// is configuration, and it must cite its law and article.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatutoryMinimum {
    /// The category.
    pub category: String,
    /// From when the period runs: [`RetentionStart::RelationshipEnd`] or
    /// [`RetentionStart::Collection`] (a minimum across purposes can't count from one
    /// purpose's achievement).
    pub after: RetentionStart,
    /// Years, months and days, added in that order.
    pub years: u32,
    /// See `years`.
    pub months: u32,
    /// See `years`.
    pub days: u32,
    /// The law that sets it.
    pub law: String,
    /// Its article.
    pub article: String,
    /// The purpose that may still read the records it keeps: one the policy declares on a
    /// legal basis other than consent.
    pub readable_for: Purpose,
}

impl StatutoryMinimum {
    /// The law and article, as a record of processing and a postponement cite them.
    pub fn citation(&self) -> String {
        format!("{}, {}", self.law, self.article)
    }

    pub(crate) fn describe(&self) -> String {
        let start = match self.after {
            RetentionStart::Collection => "collection",
            RetentionStart::PurposeAchieved => "the purpose was achieved",
            RetentionStart::RelationshipEnd => "the relationship ended",
        };
        format!(
            "statutory minimum: {} kept {} after {start}, whatever purpose collected it ({}); \
             meanwhile readable only for {}",
            self.category,
            period_text(self.years, self.months, self.days),
            self.citation(),
            self.readable_for
        )
    }
}

/// `years`, `months` and `days` in words: "5 years", "1 year 6 months"; "no time" if all
/// are zero.
pub(crate) fn period_text(years: u32, months: u32, days: u32) -> String {
    let parts: Vec<String> = [(years, "year"), (months, "month"), (days, "day")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
        .collect();
    if parts.is_empty() {
        "no time".to_owned()
    } else {
        parts.join(" ")
    }
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
        if let Some(source) = rule.source {
            text.push_str("; ");
            text.push_str(source.describe());
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
    /// Whether transfers to it are held while the notice of an earlier one to it is
    /// overdue, until that notice is recorded sent
    /// ([`Disclosures::permit`](crate::disclosure::Disclosures::permit)).
    pub hold_until_notified: bool,
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
pub(super) fn kept_at_home<'a>(
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
