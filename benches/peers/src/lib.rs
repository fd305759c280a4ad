//! The same consent decision made three ways — amanat's `authorize`, a Cedar policy over
//! entities, and a Rego rule over a JSON document — on the same customers, so that the
//! answer to "why not write this rule in Cedar or Rego?" is a measurement.
//!
//! [`Dataset`] says which consents each customer gave; [`Amanat`], [`Cedar`] and [`Rego`]
//! each load it their own way, and [`agreement`] checks that all three decide every query
//! alike before anything is timed. The rule they all carry is amanat's: a consent in force
//! (neither withdrawn nor past its end) must name the purpose and the category, and a
//! special category (the selfie's biometrics) needs a written one (Tajik law Art. 17.1).
//!
//! ```
//! use amanat_peers::{agreement, Amanat, Cedar, Dataset, Rego};
//!
//! let data = Dataset::new(50);
//! let amanat = Amanat::load(&data);
//! let expected = amanat.decide_all(&data, 300);
//! agreement("cedar", &expected, &Cedar::load(&data).decide_all(&data, 300))?;
//! agreement("rego", &expected, &Rego::load(&data).decide_all(&data, 300))?;
//! # Ok::<(), amanat_peers::Disagreement>(())
//! ```

#![deny(missing_docs)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use amanat::category::{Biometric, Category, Named, Passport, Phone};
use amanat::{
    ConsentForm, ConsentLedger, DocumentHash, ElectronicMethod, Grant, ManualClock, PolicyVersion,
    Purpose, SubjectId,
};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use chrono::{DateTime, TimeDelta, Utc};

/// The categories the queries ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cat {
    /// A phone number.
    Phone,
    /// A passport (an identity document).
    Passport,
    /// A selfie's biometrics: special, so only written consent covers it.
    Biometric,
}

impl Cat {
    /// amanat's name for the category, which the peers use too.
    pub fn name(self) -> &'static str {
        match self {
            Cat::Phone => Phone::NAME,
            Cat::Passport => Passport::NAME,
            Cat::Biometric => Biometric::NAME,
        }
    }

    /// Whether only written consent covers it.
    pub fn special(self) -> bool {
        match self {
            Cat::Phone => Phone::SPECIAL,
            Cat::Passport => Passport::SPECIAL,
            Cat::Biometric => Biometric::SPECIAL,
        }
    }
}

/// Every purpose a consent or a query names.
pub static PURPOSES: [Purpose; 4] = [
    Purpose::IDENTITY_VERIFICATION,
    Purpose::SERVICE_PROVISION,
    Purpose::MARKETING_ANALYTICS,
    Purpose::CREDIT_SCORING,
];

/// One consent as every engine must see it.
#[derive(Debug, Clone)]
pub struct Consent {
    /// What it is for.
    pub purposes: Vec<Purpose>,
    /// What it covers.
    pub categories: Vec<Cat>,
    /// Written (signed form) rather than a one-time password.
    pub written: bool,
    /// The end of validity, in Unix milliseconds.
    pub valid_until: i64,
    /// Withdrawn for every purpose it names.
    pub withdrawn: bool,
}

/// One question: may `purpose` use `category` of subject number `subject`?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// The subject's number in the dataset.
    pub subject: usize,
    /// The purpose asking.
    pub purpose: &'static Purpose,
    /// The category asked for.
    pub category: Cat,
}

/// The questions each subject is asked in turn: granted for most subjects, refused for
/// some, and refused for all, for each reason amanat knows.
const KINDS: [(usize, Cat); 6] = [
    (0, Cat::Biometric), // identity verification reads the selfie: expired for 1 in 7
    (2, Cat::Phone),     // marketing texts the phone: withdrawn for 1 in 10
    (1, Cat::Passport),  // service provision reads the passport: granted
    (2, Cat::Biometric), // marketing wants the selfie: category not covered
    (1, Cat::Biometric), // service provision wants the selfie: written for 1 in 10, too weak for 1 in 10
    (3, Cat::Phone),     // credit scoring: no consent
];

/// Who consented to what: `subjects` customers, each with three or four consents of
/// different purposes, categories, forms and ends, some withdrawn and some expired at
/// [`now`](Dataset::now).
#[derive(Debug, Clone)]
pub struct Dataset {
    subjects: usize,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
}

impl Dataset {
    /// Customers numbered `0..subjects`, consenting at 2026-01-01 and asked two days
    /// later.
    ///
    /// # Panics
    ///
    /// If `subjects` is zero or a multiple of 7919, the stride of [`query`](Self::query).
    pub fn new(subjects: usize) -> Self {
        assert!(
            subjects > 0 && !subjects.is_multiple_of(7919),
            "a dataset needs a number of subjects the query stride visits in full"
        );
        let start = DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01 is a valid time");
        Self {
            subjects,
            start,
            now: start + TimeDelta::days(2),
        }
    }

    /// How many customers.
    pub fn subjects(&self) -> usize {
        self.subjects
    }

    /// The time every decision is made at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Subject number `n`'s id, as every engine names it.
    pub fn subject_id(n: usize) -> String {
        format!("cust-{n:08}")
    }

    /// The consents subject `n` gave, oldest first. No two name the same purpose and
    /// category, so a peer can key one consent's state by (item, purpose).
    pub fn consents(&self, n: usize) -> Vec<Consent> {
        let at = |days: i64| (self.start + TimeDelta::days(days)).timestamp_millis();
        let mut consents = vec![
            Consent {
                purposes: vec![Purpose::IDENTITY_VERIFICATION, Purpose::SERVICE_PROVISION],
                categories: vec![Cat::Phone, Cat::Passport],
                written: false,
                valid_until: at(365),
                withdrawn: false,
            },
            Consent {
                purposes: vec![Purpose::IDENTITY_VERIFICATION],
                categories: vec![Cat::Biometric],
                written: true,
                valid_until: if n.is_multiple_of(7) {
                    at(1)
                } else {
                    at(90 + i64::try_from(n % 30).unwrap_or_default())
                },
                withdrawn: false,
            },
            Consent {
                purposes: vec![Purpose::MARKETING_ANALYTICS],
                categories: vec![Cat::Phone],
                written: false,
                valid_until: at(180),
                withdrawn: n.is_multiple_of(10),
            },
        ];
        if n.is_multiple_of(5) {
            consents.push(Consent {
                purposes: vec![Purpose::SERVICE_PROVISION],
                categories: vec![Cat::Biometric],
                written: n.is_multiple_of(10),
                valid_until: at(365),
                withdrawn: false,
            });
        }
        consents
    }

    /// The `i`th query of the sequence every engine answers and every bench walks: a
    /// fixed stride through the subjects, so that consecutive queries land on different,
    /// cold customers, as requests from many customers do.
    pub fn query(&self, i: usize) -> Query {
        // Round `i / subjects` asks each subject once, the kinds rotating by one a round,
        // so that a full round asks every subject every kind of question.
        let (round, j) = (i / self.subjects, i % self.subjects);
        let (purpose, category) = KINDS[(j + round) % KINDS.len()];
        Query {
            subject: j.wrapping_mul(7919) % self.subjects,
            purpose: &PURPOSES[purpose],
            category,
        }
    }

    /// The number of queries that asks every subject every kind of question once.
    pub fn full_round(&self) -> usize {
        // 7919 is prime: a round visits every subject unless it divides their number.
        self.subjects * KINDS.len()
    }
}

/// amanat's ledger, on a clock showing the dataset's `now`.
pub struct Amanat {
    ledger: ConsentLedger,
}

/// A query as a service holding amanat would have it: the subject id parsed from the
/// request, a purpose constant and the category's type.
pub struct AmanatQuery {
    subject: SubjectId,
    purpose: Purpose,
    category: Cat,
}

impl Amanat {
    /// Grants every consent of `data`, withdraws the withdrawn ones, then moves the clock
    /// to `data.now()`.
    ///
    /// # Panics
    ///
    /// If the ledger refuses a grant or a withdrawal: the dataset is valid by construction.
    pub fn load(data: &Dataset) -> Self {
        let clock = ManualClock::new(data.start);
        let ledger = ConsentLedger::builder(PolicyVersion::new("peers").expect("a valid version"))
            .clock(clock.clone())
            .build();
        let otp = ConsentForm::Electronic {
            method: ElectronicMethod::OneTimePassword,
        };
        let written = ConsentForm::Written {
            document_sha256: DocumentHash::of(b"signed consent form"),
        };
        for n in 0..data.subjects {
            let subject = SubjectId::new(Dataset::subject_id(n)).expect("a valid subject id");
            for consent in data.consents(n) {
                let form = if consent.written { &written } else { &otp };
                let mut purposes = consent.purposes.iter();
                let first = purposes.next().expect("every consent names a purpose");
                let mut grant = Grant::new(subject.clone(), form.clone()).purpose(first.clone());
                for purpose in purposes {
                    grant = grant.purpose(purpose.clone());
                }
                let mut categories = consent.categories.iter();
                let mut grant = match categories.next().expect("every consent names a category") {
                    Cat::Phone => grant.category::<Phone>(),
                    Cat::Passport => grant.category::<Passport>(),
                    Cat::Biometric => grant.category::<Biometric>(),
                };
                for category in categories {
                    grant = match category {
                        Cat::Phone => grant.category::<Phone>(),
                        Cat::Passport => grant.category::<Passport>(),
                        Cat::Biometric => grant.category::<Biometric>(),
                    };
                }
                let until =
                    DateTime::from_timestamp_millis(consent.valid_until).expect("a valid end");
                let id = ledger
                    .grant(grant.valid_until(until))
                    .expect("the dataset's consents are valid");
                if consent.withdrawn {
                    ledger
                        .withdraw(&id)
                        .expect("a consent just granted can be withdrawn");
                }
            }
        }
        clock.set(data.now);
        Self { ledger }
    }

    /// The query as the service would receive it: a fresh subject id, as parsed from a
    /// request, not the ledger's own copy.
    ///
    /// # Panics
    ///
    /// Never for a query of the dataset.
    pub fn query(query: &Query) -> AmanatQuery {
        AmanatQuery {
            subject: SubjectId::new(Dataset::subject_id(query.subject)).expect("a valid id"),
            purpose: query.purpose.clone(),
            category: query.category,
        }
    }

    /// Whether `authorize` issues a token.
    #[inline]
    pub fn decide(&self, query: &AmanatQuery) -> bool {
        let (subject, purpose) = (&query.subject, &query.purpose);
        match query.category {
            Cat::Phone => self.ledger.authorize::<Phone>(subject, purpose).is_ok(),
            Cat::Passport => self.ledger.authorize::<Passport>(subject, purpose).is_ok(),
            Cat::Biometric => self.ledger.authorize::<Biometric>(subject, purpose).is_ok(),
        }
    }

    /// The decisions on the first `count` queries of `data`.
    pub fn decide_all(&self, data: &Dataset, count: usize) -> Vec<bool> {
        (0..count)
            .map(|i| self.decide(&Self::query(&data.query(i))))
            .collect()
    }

    /// The ledger, for benches that go on to use the token.
    pub fn ledger(&self) -> &ConsentLedger {
        &self.ledger
    }
}

/// Cedar: one entity per subject's data item (`DataItem::"<subject>/<category>"`) with
/// its category and, per purpose a consent covers it for, `<purpose>_until`,
/// `<purpose>_withdrawn` and `<purpose>_written`; one `permit` per purpose, the purpose
/// being the principal; the time in the context.
///
/// The flat shape is the one that fits a million subjects in memory: a consent as an
/// entity of its own, or in tags, takes several times as much.
pub struct Cedar {
    policies: PolicySet,
    entities: Entities,
    authorizer: Authorizer,
}

impl Cedar {
    /// The policy text: one `permit` per purpose.
    pub fn policy_text() -> String {
        use std::fmt::Write as _;
        PURPOSES.iter().fold(String::new(), |mut text, p| {
            let p = p.as_str();
            writeln!(
                text,
                "@id(\"{p}\")\npermit(principal == Purpose::\"{p}\", action == Action::\"read\", resource is DataItem)\n\
                 when {{ resource has {p}_until && !resource.{p}_withdrawn && resource.{p}_until > context.now\n\
                 && (!resource.special || resource.{p}_written) }};"
            )
            .expect("writing to a String can't fail");
            text
        })
    }

    /// Parses the policies and builds the entities of `data`.
    ///
    /// # Panics
    ///
    /// If Cedar rejects the policy text or an entity: both are valid by construction.
    pub fn load(data: &Dataset) -> Self {
        let policies = PolicySet::from_str(&Self::policy_text()).expect("the policies parse");
        let item_type = EntityTypeName::from_str("DataItem").expect("a valid type name");
        let mut entities = Vec::with_capacity(data.subjects * 3);
        for n in 0..data.subjects {
            let mut items: HashMap<Cat, HashMap<String, RestrictedExpression>> = HashMap::new();
            for consent in data.consents(n) {
                for &category in &consent.categories {
                    let attrs = items.entry(category).or_insert_with(|| {
                        HashMap::from([
                            (
                                "category".to_owned(),
                                RestrictedExpression::new_string(category.name().to_owned()),
                            ),
                            (
                                "special".to_owned(),
                                RestrictedExpression::new_bool(category.special()),
                            ),
                        ])
                    });
                    for purpose in &consent.purposes {
                        let p = purpose.as_str();
                        let until = format!("{p}_until");
                        assert!(
                            !attrs.contains_key(&until),
                            "one consent per item and purpose"
                        );
                        attrs.insert(until, RestrictedExpression::new_long(consent.valid_until));
                        attrs.insert(
                            format!("{p}_withdrawn"),
                            RestrictedExpression::new_bool(consent.withdrawn),
                        );
                        attrs.insert(
                            format!("{p}_written"),
                            RestrictedExpression::new_bool(consent.written),
                        );
                    }
                }
            }
            for (category, attrs) in items {
                let uid = EntityUid::from_type_name_and_id(
                    item_type.clone(),
                    EntityId::new(Self::item(n, category)),
                );
                entities.push(Entity::new(uid, attrs, HashSet::new()).expect("valid attributes"));
            }
        }
        let entities = Entities::from_entities(entities, None).expect("unique entities");
        Self {
            policies,
            entities,
            authorizer: Authorizer::new(),
        }
    }

    fn item(n: usize, category: Cat) -> String {
        format!("{}/{}", Dataset::subject_id(n), category.name())
    }

    /// The query as a Cedar request.
    ///
    /// # Panics
    ///
    /// Never for a query of the dataset.
    pub fn request(data: &Dataset, query: &Query) -> Request {
        let uid = |ty: &str, id: &str| {
            EntityUid::from_type_name_and_id(
                EntityTypeName::from_str(ty).expect("a valid type"),
                EntityId::new(id),
            )
        };
        let context = Context::from_pairs([(
            "now".to_owned(),
            RestrictedExpression::new_long(data.now.timestamp_millis()),
        )])
        .expect("a valid context");
        Request::new(
            uid("Purpose", query.purpose.as_str()),
            uid("Action", "read"),
            uid("DataItem", &Self::item(query.subject, query.category)),
            context,
            None,
        )
        .expect("a valid request")
    }

    /// Whether Cedar allows the request.
    #[inline]
    pub fn decide(&self, request: &Request) -> bool {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }

    /// The decisions on the first `count` queries of `data`.
    pub fn decide_all(&self, data: &Dataset, count: usize) -> Vec<bool> {
        (0..count)
            .map(|i| self.decide(&Self::request(data, &data.query(i))))
            .collect()
    }
}

/// Rego (regorus): the consents as one JSON-like document under
/// `data.subjects[<id>].consents`, the rule in [`Rego::POLICY`], the query as `input`.
pub struct Rego {
    engine: regorus::Engine,
}

impl Rego {
    /// The rule.
    pub const POLICY: &'static str = r"package amanat

default allow := false

allow if {
    some c in data.subjects[input.subject].consents
    input.purpose in c.purposes
    input.category in c.categories
    not input.purpose in c.withdrawn_for
    c.valid_until > input.now
    form_ok(c)
}

form_ok(c) if not input.special

form_ok(c) if c.written
";

    /// Loads the rule and the document of `data`.
    ///
    /// # Panics
    ///
    /// If regorus rejects the rule or the document: both are valid by construction.
    pub fn load(data: &Dataset) -> Self {
        use regorus::Value;
        let strings = |names: &mut dyn Iterator<Item = &str>| {
            Value::from(names.map(Value::from).collect::<Vec<_>>())
        };
        let mut subjects = BTreeMap::new();
        for n in 0..data.subjects {
            let consents: Vec<Value> = data
                .consents(n)
                .iter()
                .map(|c| {
                    let withdrawn: Vec<&str> = if c.withdrawn {
                        c.purposes.iter().map(Purpose::as_str).collect()
                    } else {
                        Vec::new()
                    };
                    Value::from(BTreeMap::from([
                        (
                            Value::from("purposes"),
                            strings(&mut c.purposes.iter().map(Purpose::as_str)),
                        ),
                        (
                            Value::from("categories"),
                            strings(&mut c.categories.iter().map(|c| c.name())),
                        ),
                        (Value::from("written"), Value::from(c.written)),
                        (Value::from("valid_until"), Value::from(c.valid_until)),
                        (
                            Value::from("withdrawn_for"),
                            strings(&mut withdrawn.into_iter()),
                        ),
                    ]))
                })
                .collect();
            subjects.insert(
                Value::from(Dataset::subject_id(n)),
                Value::from(BTreeMap::from([(
                    Value::from("consents"),
                    Value::from(consents),
                )])),
            );
        }
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("amanat.rego".to_owned(), Self::POLICY.to_owned())
            .expect("the rule parses");
        engine
            .add_data(Value::from(BTreeMap::from([(
                Value::from("subjects"),
                Value::from(subjects),
            )])))
            .expect("the document loads");
        Self { engine }
    }

    /// The query as Rego input.
    pub fn input(data: &Dataset, query: &Query) -> regorus::Value {
        use regorus::Value;
        Value::from(BTreeMap::from([
            (
                Value::from("subject"),
                Value::from(Dataset::subject_id(query.subject)),
            ),
            (Value::from("purpose"), Value::from(query.purpose.as_str())),
            (Value::from("category"), Value::from(query.category.name())),
            (
                Value::from("special"),
                Value::from(query.category.special()),
            ),
            (Value::from("now"), Value::from(data.now.timestamp_millis())),
        ]))
    }

    /// Whether the rule allows `input`.
    ///
    /// # Panics
    ///
    /// If regorus fails to evaluate the rule, which has a default and so always has a
    /// value.
    #[inline]
    pub fn decide(&mut self, input: regorus::Value) -> bool {
        self.engine.set_input(input);
        self.engine
            .eval_rule("data.amanat.allow".to_owned())
            .expect("the rule evaluates")
            == regorus::Value::from(true)
    }

    /// The decisions on the first `count` queries of `data`.
    pub fn decide_all(&mut self, data: &Dataset, count: usize) -> Vec<bool> {
        (0..count)
            .map(|i| {
                let input = Self::input(data, &data.query(i));
                self.decide(input)
            })
            .collect()
    }
}

/// A peer decided some query differently from amanat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// Which peer.
    pub peer: &'static str,
    /// The first query decided differently, by number in the sequence.
    pub query: usize,
    /// amanat's decision on it.
    pub amanat: bool,
    /// How many of the queries compared differ.
    pub differing: usize,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} decides {} of the queries differently from amanat, first query {} (amanat: {})",
            self.peer,
            self.differing,
            self.query,
            if self.amanat { "allow" } else { "deny" },
        )
    }
}

impl std::error::Error for Disagreement {}

/// Compares `peer`'s decisions with amanat's, query by query.
///
/// # Errors
///
/// [`Disagreement`] naming the first query decided differently, or the first missing or
/// extra one if the lengths differ.
pub fn agreement(
    peer: &'static str,
    amanat: &[bool],
    decided: &[bool],
) -> Result<(), Disagreement> {
    let differing = amanat.iter().zip(decided).filter(|(a, b)| a != b).count()
        + amanat.len().abs_diff(decided.len());
    match amanat.iter().zip(decided).position(|(a, b)| a != b) {
        None if differing == 0 => Ok(()),
        first => {
            let query = first.unwrap_or(amanat.len().min(decided.len()));
            Err(Disagreement {
                peer,
                query,
                amanat: amanat.get(query).copied().unwrap_or(false),
                differing,
            })
        }
    }
}
