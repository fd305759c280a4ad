//! A policy read or built, checked whole before it exists: every id, reference and
//! rule, each error located in the text it came from.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use chrono::NaiveDate;

use crate::category::Access;
use crate::vocab::{BasisKind, FormKind, PolicyVersion, Purpose};

use super::{
    CategoryDecl, Country, JurisdictionPack, Localisation, Operator, Policy, PolicyError,
    PolicyErrorKind, PurposeDecl, Recipient, RetentionRule, RetentionSource, RetentionStart,
    StatutoryMinimum, StorageLocation, WorkingCalendar, decl::kept_at_home, raw,
};

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

/// Whether `text` stands in for a value not yet known rather than being one: blank or
/// punctuation only, a lone "none", "unknown", "N/A", or words such as "to be confirmed",
/// "TBC", "not published" anywhere in it. Matched on whole words, so a register entry
/// that merely contains the letters ("TBCX-17") is not one.
fn is_placeholder(text: &str) -> bool {
    // Letters spelled one by one are joined first: "N/A" is read as "na".
    const ALONE: &[&[&str]] = &[
        &["none"],
        &["unknown"],
        &["na"],
        &["nil"],
        &["null"],
        &["xxx"],
    ];
    const ANYWHERE: &[&[&str]] = &[
        &["tbc"],
        &["tbd"],
        &["tba"],
        &["todo"],
        &["fixme"],
        &["placeholder"],
        &["pending"],
        &["unpublished"],
        &["not", "published"],
        &["not", "yet"],
        &["to", "be", "confirmed"],
        &["to", "be", "determined"],
        &["to", "be", "announced"],
        &["to", "be", "added"],
        &["to", "be", "provided"],
        &["to", "be", "assigned"],
        &["not", "available"],
        &["awaiting"],
        &["in", "progress"],
        // Drafts in Russian and Uzbek: "being clarified", "will be determined", "none",
        // "will be entered".
        &["уточняется"],
        &["будет"],
        &["нет"],
        &["aniqlanadi"],
        &["kiritiladi"],
        &["yo", "q"],
    ];
    let trimmed = text.trim();
    // A template's slot: "<registration number>", "[registration]".
    if (trimmed.starts_with('<') && trimmed.ends_with('>'))
        || (trimmed.starts_with('[') && trimmed.ends_with(']'))
    {
        return true;
    }
    // Full-width letters read as their ASCII selves; invisible joiners and soft hyphens
    // are not there.
    let lower: String = text
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}'
            )
        })
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect::<String>()
        .to_lowercase();
    let split: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // Letters spelled one by one ("T.B.C.", "t b c") are read as the word they spell.
    let mut words: Vec<String> = Vec::with_capacity(split.len());
    let mut letters = String::new();
    for word in split {
        if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
            letters.push_str(word);
            continue;
        }
        if !letters.is_empty() {
            words.push(std::mem::take(&mut letters));
        }
        words.push(word.to_owned());
    }
    if !letters.is_empty() {
        words.push(letters);
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // Only zeros or x's: a number not yet given ("000000", "XXX-XXXX").
    let filler = !words.is_empty()
        && words
            .iter()
            .all(|w| w.chars().all(|c| c == '0' || c == 'x' || c == 'х'));
    words.is_empty()
        || filler
        || ALONE.contains(&words.as_slice())
        || ANYWHERE
            .iter()
            .any(|phrase| words.windows(phrase.len()).any(|w| w == *phrase))
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
    pub(super) fn new(value: T) -> Self {
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
    pub(crate) operator: Located<Operator>,
    pub(crate) categories: Vec<Located<raw::RawCategory>>,
    pub(crate) purposes: Vec<Located<PurposeDecl>>,
    pub(crate) retention: Vec<Located<RetentionRule>>,
    pub(crate) minimums: Vec<Located<StatutoryMinimum>>,
    pub(crate) recipients: Vec<Located<Recipient>>,
    pub(crate) adequacy: Vec<Located<Country>>,
    pub(crate) storage: Vec<Located<StorageLocation>>,
    pub(crate) calendar: Option<Located<WorkingCalendar>>,
    /// Whether a placeholder where the law wants a value (the registration, Art. 5.2) is
    /// refused; otherwise it is a warning the policy carries.
    pub(crate) strict: bool,
}

impl Draft {
    #[allow(clippy::too_many_lines)]
    pub(super) fn validate(self) -> Result<Policy, PolicyError> {
        use PolicyErrorKind as K;
        let fail = |kind: K, span: Option<Range<usize>>| PolicyError::new(kind).at(span);
        let pack = self.pack;

        // The registration (Art. 5.2): a placeholder is no registration. A draft policy
        // still loads, with a warning its caller reads; strict loading refuses it.
        let mut warnings = Vec::new();
        if is_placeholder(&self.operator.value.registration) {
            let placeholder = fail(
                K::Placeholder {
                    field: "operator.registration",
                },
                self.operator.at("registration"),
            );
            if self.strict {
                return Err(placeholder);
            }
            warnings.push(placeholder);
        }
        // A contact or telephone that stands in for one is none: reports and receipts say
        // "not published" rather than print the placeholder as if it reached someone.
        let mut operator = self.operator;
        for (field, key) in [("operator.contact", "contact"), ("operator.phone", "phone")] {
            let value = if key == "contact" {
                &mut operator.value.contact
            } else {
                &mut operator.value.phone
            };
            if value.as_deref().is_some_and(is_placeholder) {
                let placeholder = fail(K::Placeholder { field }, operator.spans.get(key).cloned());
                if self.strict {
                    return Err(placeholder);
                }
                warnings.push(placeholder);
                *value = None;
            }
        }

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
            // The pack decides: biometric data is special under Tajik law (Art. 17.1), not
            // under Uzbek law, which asks consent for it in no particular form (Art. 26).
            let by_law = pack
                .written_consent
                .iter()
                .any(|r| r.category.as_str() == id);
            if c.value.special == Some(false) && by_law {
                return Err(fail(
                    K::WeakerThanLaw {
                        what: format!("category {id} declared not special"),
                        article: pack.written_article(id, true),
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
            // Art. 24: a decision with legal effect made solely by automated processing
            // stands on consent in the rule's form, a contract, or a law.
            let automated = match (&decl.automated_decision, pack.automated_decisions) {
                (Some(_), Some(rule)) => Some(rule),
                _ => None,
            };
            if let Some(rule) = automated {
                let article = rule.citation.article;
                if !matches!(
                    decl.basis,
                    BasisKind::Consent | BasisKind::Contract | BasisKind::LegalObligation
                ) {
                    return Err(fail(
                        K::AutomatedDecisionBasis {
                            purpose: decl.id.to_string(),
                            basis: decl.basis,
                            article,
                        },
                        p.spans.get("basis").cloned(),
                    ));
                }
                if decl.basis == BasisKind::Consent && decl.consent_form < rule.consent_form {
                    return Err(fail(
                        K::AutomatedDecisionForm {
                            purpose: decl.id.to_string(),
                            declared: decl.consent_form,
                            required: rule.consent_form,
                            article,
                        },
                        p.spans
                            .get("consent_form")
                            .or_else(|| p.spans.get("id"))
                            .cloned(),
                    ));
                }
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
                            article: pack.articles.special_bases.article,
                        },
                        p.spans.get("basis").cloned(),
                    ));
                }
                if let Some(rule) = pack.restriction_of(category)
                    && decl.basis != BasisKind::Consent
                    && !rule.bases.contains(&decl.basis.name())
                {
                    return Err(fail(
                        K::SpecialCategoryBasis {
                            purpose: decl.id.to_string(),
                            category: category.clone(),
                            basis: decl.basis,
                            article: rule.citation.article,
                        },
                        p.spans.get("basis").cloned(),
                    ));
                }
                if decl.basis == BasisKind::Consent
                    && special
                    && decl.consent_form < FormKind::Written
                    && !written_for.contains(category)
                {
                    let article = pack.written_article(category, true);
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
            // Kept past the relationship's end only where a law says so (Tajik law Art. 14.3,
            // 20; under ZRU-547 a legal duty, Art. 18).
            if rule.after == RetentionStart::RelationshipEnd
                && (rule.years, rule.months, rule.days) != (0, 0, 0)
                && rule.reference.trim().is_empty()
            {
                return Err(fail(
                    K::InvalidValue {
                        field: "retention.reference",
                        reason: "a period after the relationship ends must cite the law that \
                                 sets it",
                    },
                    r.spans.get("category").cloned(),
                ));
            }
            if rule.source == Some(RetentionSource::Law) && rule.reference.trim().is_empty() {
                return Err(fail(
                    K::InvalidValue {
                        field: "retention.reference",
                        reason: "a period set by law cites the law that sets it",
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
                            article: pack.articles.retention.article,
                        },
                        purpose_spans[n].clone(),
                    ));
                }
            }
        }

        // Statutory minimums: a declared category, a cited law, and a purpose on another
        // basis than consent that may read what they keep.
        let mut minimums = Vec::with_capacity(self.minimums.len());
        for m in self.minimums {
            let minimum = m.value;
            if !category_index.contains_key(&minimum.category) {
                return Err(fail(
                    K::UndeclaredCategory {
                        category: minimum.category.clone(),
                        used_by: "a statutory minimum".into(),
                    },
                    m.spans.get("category").cloned(),
                ));
            }
            if minimum.law.trim().is_empty() || minimum.article.trim().is_empty() {
                return Err(fail(
                    K::InvalidValue {
                        field: "minimum.law",
                        reason: "a statutory minimum cites its law and article",
                    },
                    m.spans.get("category").cloned(),
                ));
            }
            if minimum.after == RetentionStart::PurposeAchieved {
                return Err(fail(
                    K::InvalidValue {
                        field: "minimum.after",
                        reason: "a minimum across purposes counts from collection or from the \
                                 relationship's end, not from one purpose's achievement",
                    },
                    m.spans.get("category").cloned(),
                ));
            }
            match purpose_of(&minimum.readable_for) {
                None => {
                    return Err(fail(
                        K::UndeclaredPurpose {
                            purpose: minimum.readable_for.to_string(),
                            used_by: "a statutory minimum".into(),
                        },
                        m.spans.get("purpose").cloned(),
                    ));
                }
                Some(purpose) if purpose.basis == crate::vocab::BasisKind::Consent => {
                    return Err(fail(
                        K::InvalidValue {
                            field: "minimum.purpose",
                            reason: "what a statutory minimum keeps is read on the law's \
                                     basis, not on consent: name a purpose declared on \
                                     another basis",
                        },
                        m.spans.get("purpose").cloned(),
                    ));
                }
                Some(_) => {}
            }
            minimums.push(minimum);
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
                            article: pack.articles.transfers_abroad.article,
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
            operator: operator.value,
            categories,
            purposes,
            retention,
            minimums,
            recipients,
            adequacy,
            storage,
            calendar,
            purpose_index,
            warnings,
        })
    }
}
