//! The TOML form of a policy, with the position of every value that validation may
//! complain about.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{NaiveDate, Weekday};
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::{
    AutomatedDecision, Country, Draft, JurisdictionPack, Located, Operator, Policy, PolicyError,
    PolicyErrorKind, PurposeDecl, Recipient, RecipientRole, RetentionRule, RetentionSource,
    RetentionStart, StatutoryMinimum, StorageLocation, TransferBasis, WorkingCalendar,
};
use crate::category::Access;
use crate::vocab::{BasisKind, FormKind, PolicyVersion, Purpose};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Spanned<String>,
    date: Spanned<Datetime>,
    pack: Spanned<String>,
    #[serde(default)]
    requires_reconsent: bool,
    operator: RawOperator,
    #[serde(default, rename = "category")]
    categories: Vec<RawCategoryToml>,
    #[serde(default, rename = "purpose")]
    purposes: Vec<RawPurpose>,
    #[serde(default)]
    retention: Vec<RawRetention>,
    #[serde(default, rename = "minimum")]
    minimums: Vec<RawMinimum>,
    #[serde(default, rename = "recipient")]
    recipients: Vec<RawRecipient>,
    #[serde(default)]
    adequacy: Vec<Spanned<String>>,
    #[serde(default)]
    storage: Vec<RawStorage>,
    calendar: Option<Spanned<RawCalendar>>,
}

/// The operator, as written: [`Operator`] with the place of the registration, which a
/// placeholder warning points at.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperator {
    name: String,
    address: String,
    contact: Option<Spanned<String>>,
    registration: Spanned<String>,
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    access: Vec<String>,
    phone: Option<Spanned<String>>,
    policy_url: Option<String>,
}

/// A declared category, as written.
#[derive(Debug)]
pub(crate) struct RawCategory {
    pub(crate) id: String,
    pub(crate) special: Option<bool>,
    pub(crate) access: Option<Access>,
    pub(crate) description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategoryToml {
    id: Spanned<String>,
    special: Option<Spanned<bool>>,
    access: Option<Access>,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPurpose {
    id: Spanned<String>,
    #[serde(default)]
    description: String,
    categories: Vec<Spanned<String>>,
    basis: Spanned<BasisKind>,
    consent_form: Option<Spanned<FormKind>>,
    #[serde(default)]
    written_for: Vec<Spanned<String>>,
    #[serde(default)]
    depersonalised: bool,
    #[serde(default)]
    service: bool,
    automated_decision: Option<RawAutomatedDecision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAutomatedDecision {
    logic: String,
    effects: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    category: Spanned<String>,
    purpose: Spanned<String>,
    after: RetentionStart,
    #[serde(default)]
    years: u32,
    #[serde(default)]
    months: u32,
    #[serde(default)]
    days: u32,
    #[serde(default)]
    reference: String,
    source: Option<RetentionSource>,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinimum {
    category: Spanned<String>,
    after: RetentionStart,
    #[serde(default)]
    years: u32,
    #[serde(default)]
    months: u32,
    #[serde(default)]
    days: u32,
    law: String,
    article: String,
    purpose: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipient {
    id: Spanned<String>,
    name: String,
    address: String,
    role: RecipientRole,
    country: Spanned<String>,
    purposes: Vec<Spanned<String>>,
    categories: Vec<Spanned<String>>,
    transfer_basis: Option<Spanned<TransferBasis>>,
    #[serde(default)]
    hold_until_notified: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    country: Spanned<String>,
    #[serde(default)]
    categories: Vec<Spanned<String>>,
    agreement: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    weekend: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
    #[serde(default)]
    days_off: Vec<Spanned<Datetime>>,
}

fn invalid(field: &'static str, reason: &'static str, span: Range<usize>) -> PolicyError {
    PolicyError::new(PolicyErrorKind::InvalidValue { field, reason }).at(Some(span))
}

fn purpose(id: &Spanned<String>, field: &'static str) -> Result<Purpose, PolicyError> {
    Purpose::new(id.get_ref()).map_err(|_| {
        invalid(
            field,
            "a purpose id is lower-case letters, digits and `_`, at most 128 bytes",
            id.span(),
        )
    })
}

fn country(code: &Spanned<String>, field: &'static str) -> Result<Country, PolicyError> {
    code.get_ref().parse().map_err(|_| {
        invalid(
            field,
            "a country is two upper-case letters (ISO 3166-1 alpha-2)",
            code.span(),
        )
    })
}

fn date(value: &Spanned<Datetime>, field: &'static str) -> Result<NaiveDate, PolicyError> {
    let datetime = value.get_ref();
    datetime
        .date
        .filter(|_| datetime.time.is_none() && datetime.offset.is_none())
        .and_then(|d| NaiveDate::from_ymd_opt(i32::from(d.year), d.month.into(), d.day.into()))
        .ok_or_else(|| {
            invalid(
                field,
                "a date is written 2025-07-01, without a time",
                value.span(),
            )
        })
}

/// Records the span of each element of a list under `field.N`.
fn list(
    spans: &mut HashMap<String, Range<usize>>,
    field: &str,
    items: &[Spanned<String>],
) -> Vec<String> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            spans.insert(format!("{field}.{i}"), item.span());
            item.get_ref().clone()
        })
        .collect()
}

fn located<T>(value: T, spans: HashMap<String, Range<usize>>) -> Located<T> {
    Located { value, spans }
}

/// Parses and checks a policy, `strict`ly or not (see [`Draft::strict`]). Errors and
/// warnings carry byte spans; the caller turns them into lines and columns.
pub(super) fn parse(text: &str, strict: bool) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let message = e.message().to_owned();
        let kind = if message.starts_with("unknown field") {
            PolicyErrorKind::UnknownKey { message }
        } else {
            PolicyErrorKind::Syntax { message }
        };
        PolicyError::new(kind).at(e.span())
    })?;

    let version = PolicyVersion::new(raw.version.get_ref()).map_err(|_| {
        invalid(
            "version",
            "a version is printable ASCII without spaces, at most 128 bytes",
            raw.version.span(),
        )
    })?;
    let date = date(&raw.date, "date")?;
    let pack = JurisdictionPack::by_id(raw.pack.get_ref()).ok_or_else(|| {
        PolicyError::new(PolicyErrorKind::UnknownPack {
            pack: raw.pack.get_ref().clone(),
        })
        .at(Some(raw.pack.span()))
    })?;

    let categories = raw
        .categories
        .into_iter()
        .map(|c| {
            let mut spans = HashMap::from([("id".to_owned(), c.id.span())]);
            if let Some(special) = &c.special {
                spans.insert("special".to_owned(), special.span());
            }
            located(
                RawCategory {
                    id: c.id.into_inner(),
                    special: c.special.map(Spanned::into_inner),
                    access: c.access,
                    description: c.description,
                },
                spans,
            )
        })
        .collect();

    let mut purposes = Vec::with_capacity(raw.purposes.len());
    for p in raw.purposes {
        let mut spans = HashMap::from([
            ("id".to_owned(), p.id.span()),
            ("basis".to_owned(), p.basis.span()),
        ]);
        if let Some(form) = &p.consent_form {
            spans.insert("consent_form".to_owned(), form.span());
        }
        let mut decl = PurposeDecl::new(
            purpose(&p.id, "purpose.id")?,
            *p.basis.get_ref(),
            list(&mut spans, "categories", &p.categories),
        );
        decl.description = p.description;
        decl.consent_form = p
            .consent_form
            .map_or(FormKind::Electronic, Spanned::into_inner);
        decl.written_for = list(&mut spans, "written_for", &p.written_for);
        decl.depersonalised = p.depersonalised;
        decl.service = p.service;
        decl.automated_decision = p.automated_decision.map(|a| AutomatedDecision {
            logic: a.logic,
            effects: a.effects,
        });
        purposes.push(located(decl, spans));
    }

    let mut retention = Vec::with_capacity(raw.retention.len());
    for r in raw.retention {
        let spans = HashMap::from([
            ("category".to_owned(), r.category.span()),
            ("purpose".to_owned(), r.purpose.span()),
        ]);
        let rule = RetentionRule {
            purpose: purpose(&r.purpose, "retention.purpose")?,
            category: r.category.into_inner(),
            after: r.after,
            years: r.years,
            months: r.months,
            days: r.days,
            reference: r.reference,
            source: r.source,
            note: r.note,
        };
        retention.push(located(rule, spans));
    }

    let mut minimums = Vec::with_capacity(raw.minimums.len());
    for m in raw.minimums {
        let spans = HashMap::from([
            ("category".to_owned(), m.category.span()),
            ("purpose".to_owned(), m.purpose.span()),
        ]);
        let minimum = StatutoryMinimum {
            readable_for: purpose(&m.purpose, "minimum.purpose")?,
            category: m.category.into_inner(),
            after: m.after,
            years: m.years,
            months: m.months,
            days: m.days,
            law: m.law,
            article: m.article,
        };
        minimums.push(located(minimum, spans));
    }

    let mut recipients = Vec::with_capacity(raw.recipients.len());
    for r in raw.recipients {
        let mut spans = HashMap::from([
            ("id".to_owned(), r.id.span()),
            ("country".to_owned(), r.country.span()),
        ]);
        if let Some(basis) = &r.transfer_basis {
            spans.insert("transfer_basis".to_owned(), basis.span());
        }
        let mut purposes = Vec::with_capacity(r.purposes.len());
        for (i, p) in r.purposes.iter().enumerate() {
            spans.insert(format!("purposes.{i}"), p.span());
            purposes.push(purpose(p, "recipient.purposes")?);
        }
        let recipient = Recipient {
            country: country(&r.country, "recipient.country")?,
            categories: list(&mut spans, "categories", &r.categories),
            id: r.id.into_inner(),
            name: r.name,
            address: r.address,
            role: r.role,
            purposes,
            transfer_basis: r.transfer_basis.map(Spanned::into_inner),
            hold_until_notified: r.hold_until_notified,
        };
        recipients.push(located(recipient, spans));
    }

    let mut adequacy = Vec::with_capacity(raw.adequacy.len());
    for code in &raw.adequacy {
        let spans = HashMap::from([("value".to_owned(), code.span())]);
        adequacy.push(located(country(code, "adequacy")?, spans));
    }

    let mut storage = Vec::with_capacity(raw.storage.len());
    for s in raw.storage {
        let mut spans = HashMap::from([("country".to_owned(), s.country.span())]);
        let location = StorageLocation {
            country: country(&s.country, "storage.country")?,
            categories: list(&mut spans, "categories", &s.categories),
            agreement: s.agreement,
        };
        storage.push(located(location, spans));
    }

    let calendar = raw.calendar.map(|c| calendar(c, pack)).transpose()?;

    let op = raw.operator;
    let mut spans = HashMap::from([("registration".to_owned(), op.registration.span())]);
    // Where each is, for a warning that a blank or placeholder one is none.
    let mut optional = |key: &str, value: Option<Spanned<String>>| {
        let value = value?;
        spans.insert(key.to_owned(), value.span());
        Some(value.into_inner())
    };
    let contact = optional("contact", op.contact);
    let phone = optional("phone", op.phone);
    let operator = located(
        Operator {
            name: op.name,
            address: op.address,
            contact,
            registration: op.registration.get_ref().clone(),
            methods: op.methods,
            access: op.access,
            phone,
            policy_url: op.policy_url,
        },
        spans,
    );

    Draft {
        version,
        date,
        pack,
        requires_reconsent: raw.requires_reconsent,
        operator,
        categories,
        purposes,
        retention,
        minimums,
        recipients,
        adequacy,
        storage,
        calendar,
        strict,
    }
    .validate()
}

fn calendar(
    raw: Spanned<RawCalendar>,
    pack: &'static JurisdictionPack,
) -> Result<Located<WorkingCalendar>, PolicyError> {
    let mut spans = HashMap::from([("weekend".to_owned(), raw.span())]);
    let raw = raw.into_inner();
    let weekend = match &raw.weekend {
        None => pack.weekend.to_vec(),
        Some(days) => {
            spans.insert("weekend".to_owned(), days.span());
            days.get_ref()
                .iter()
                .map(|day| {
                    day.get_ref().parse::<Weekday>().map_err(|_| {
                        invalid(
                            "calendar.weekend",
                            "a weekend day is a day of the week in English: saturday, sunday",
                            day.span(),
                        )
                    })
                })
                .collect::<Result<_, _>>()?
        }
    };
    let mut calendar = WorkingCalendar::new(weekend);
    for holiday in &raw.holidays {
        let (month, day) = month_day(holiday.get_ref()).ok_or_else(|| {
            invalid(
                "calendar.holidays",
                "a yearly holiday is written MM-DD, such as 03-21",
                holiday.span(),
            )
        })?;
        calendar = calendar.with_fixed_holiday(month, day);
    }
    for day in &raw.days_off {
        calendar = calendar.with_day_off(date(day, "calendar.days_off")?);
    }
    Ok(located(calendar, spans))
}

/// `MM-DD`, valid in a leap year.
fn month_day(text: &str) -> Option<(u32, u32)> {
    let (month, day) = text.split_once('-')?;
    if month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (month, day) = (month.parse().ok()?, day.parse().ok()?);
    NaiveDate::from_ymd_opt(2024, month, day).map(|_| (month, day))
}
