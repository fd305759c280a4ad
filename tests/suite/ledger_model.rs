//! The ledger against a reference model small enough to be obviously right: random sequences
//! of grants, renewals, withdrawals, authorizations, collections, reads, blocks and clock
//! advances over several subjects, purposes and categories. A read succeeds exactly when
//! the model says a consent covering it is in force, and every refusal is the one the model
//! predicts.

use std::time::Duration;

use crate::common::otp;
use amanat::category::{Biometric, Category, Passport, Phone};
use amanat::consent::WithCategory;
use amanat::{
    ConsentForm, ConsentId, ConsentLedger, ConsentToken, DocumentHash, Error, Grant, LegalBasis,
    ManualClock, PersonalData, PolicyVersion, Purpose, SubjectId,
};
use chrono::{DateTime, TimeDelta};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const SUBJECTS: usize = 3;
const TTL_MINUTES: i64 = 5;
const PURPOSES: [Purpose; 3] = [
    Purpose::IDENTITY_VERIFICATION,
    Purpose::CREDIT_SCORING,
    Purpose::MARKETING_ANALYTICS,
];
/// Category 0 is special (biometric): it needs written consent.
const CATEGORIES: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Grant {
        subject: usize,
        purposes: Vec<usize>,
        categories: Vec<usize>,
        written: bool,
        valid_for: Option<i64>,
    },
    Withdraw {
        pick: usize,
    },
    Renew {
        pick: usize,
        valid_for: Option<i64>,
    },
    Block {
        data_of: usize,
        category: usize,
        blocked: bool,
    },
    Collect {
        pick: usize,
    },
    WithdrawPurpose {
        subject: usize,
        purpose: usize,
    },
    Authorize {
        subject: usize,
        purpose: usize,
        category: usize,
    },
    Read {
        pick: usize,
        data_of: usize,
    },
    Advance {
        minutes: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let index_set = |n: usize| proptest::sample::subsequence((0..n).collect::<Vec<_>>(), 1..=n);
    prop_oneof![
        3 => (0..SUBJECTS, index_set(PURPOSES.len()), index_set(CATEGORIES), any::<bool>(),
              proptest::option::of(1..120_i64))
            .prop_map(|(subject, purposes, categories, written, valid_for)| Op::Grant {
                subject, purposes, categories, written, valid_for,
            }),
        1 => any::<usize>().prop_map(|pick| Op::Withdraw { pick }),
        1 => (any::<usize>(), proptest::option::of(1..120_i64))
            .prop_map(|(pick, valid_for)| Op::Renew { pick, valid_for }),
        1 => (0..SUBJECTS, 0..CATEGORIES, any::<bool>())
            .prop_map(|(data_of, category, blocked)| Op::Block { data_of, category, blocked }),
        2 => any::<usize>().prop_map(|pick| Op::Collect { pick }),
        1 => (0..SUBJECTS, 0..PURPOSES.len())
            .prop_map(|(subject, purpose)| Op::WithdrawPurpose { subject, purpose }),
        4 => (0..SUBJECTS, 0..PURPOSES.len(), 0..CATEGORIES)
            .prop_map(|(subject, purpose, category)| Op::Authorize { subject, purpose, category }),
        5 => (any::<usize>(), 0..SUBJECTS).prop_map(|(pick, data_of)| Op::Read { pick, data_of }),
        2 => prop_oneof![0..4_i64, 0..200_i64].prop_map(|minutes| Op::Advance { minutes }),
    ]
}

struct ModelConsent {
    subject: usize,
    purposes: Vec<(usize, bool)>,
    categories: Vec<usize>,
    written: bool,
    valid_until: i64,
}

struct ModelToken {
    subject: usize,
    category: usize,
    consent: usize,
    purpose: usize,
    expires_at: i64,
}

#[derive(Default)]
struct Model {
    now: i64,
    consents: Vec<ModelConsent>,
    blocked: [[bool; CATEGORIES]; SUBJECTS],
}

/// The refusal kinds, ranked as the ledger ranks them: the reason closest to success wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Ok,
    NoConsent,
    CategoryNotCovered,
    ConsentExpired,
    ConsentWithdrawn,
    WrittenConsentRequired,
    TokenExpired,
    SubjectMismatch,
    Blocked,
    AlreadyWithdrawn,
    ConsentNotInForce,
}

fn kind<T>(result: &Result<T, Error>) -> Kind {
    match result {
        Ok(_) => Kind::Ok,
        Err(Error::NoConsent { .. }) => Kind::NoConsent,
        Err(Error::CategoryNotCovered { .. }) => Kind::CategoryNotCovered,
        Err(Error::ConsentExpired { .. }) => Kind::ConsentExpired,
        Err(Error::ConsentWithdrawn { .. }) => Kind::ConsentWithdrawn,
        Err(Error::WrittenConsentRequired { .. }) => Kind::WrittenConsentRequired,
        Err(Error::TokenExpired { .. }) => Kind::TokenExpired,
        Err(Error::SubjectMismatch { .. }) => Kind::SubjectMismatch,
        Err(Error::Blocked { .. }) => Kind::Blocked,
        Err(Error::AlreadyWithdrawn { .. }) => Kind::AlreadyWithdrawn,
        Err(Error::ConsentNotInForce { .. }) => Kind::ConsentNotInForce,
        Err(other) => panic!("unexpected refusal {other:?}"),
    }
}

impl Model {
    /// The consent a token would stand on (the one valid longest, the later on a tie), or
    /// the refusal.
    fn authorize(&self, subject: usize, purpose: usize, category: usize) -> Result<usize, Kind> {
        let mut best: Option<usize> = None;
        let mut miss = Kind::NoConsent;
        for (n, c) in self.consents.iter().enumerate() {
            if c.subject != subject {
                continue;
            }
            let Some(&(_, withdrawn)) = c.purposes.iter().find(|(p, _)| *p == purpose) else {
                continue;
            };
            let found = if !c.categories.contains(&category) {
                Kind::CategoryNotCovered
            } else if withdrawn {
                Kind::ConsentWithdrawn
            } else if self.now >= c.valid_until {
                Kind::ConsentExpired
            } else if category == 0 && !c.written {
                Kind::WrittenConsentRequired
            } else {
                if best.is_none_or(|b| c.valid_until >= self.consents[b].valid_until) {
                    best = Some(n);
                }
                continue;
            };
            miss = miss.max(found);
        }
        best.ok_or(miss)
    }

    /// What a withdrawal or renewal of consent `n` meets before it changes anything.
    fn change(&self, n: usize) -> Kind {
        let consent = &self.consents[n];
        if consent.purposes.iter().all(|&(_, withdrawn)| withdrawn) {
            Kind::AlreadyWithdrawn
        } else if self.now >= consent.valid_until {
            Kind::ConsentNotInForce
        } else {
            Kind::Ok
        }
    }

    /// A read of `data_of`'s record of the token's category.
    fn read(&self, token: &ModelToken, data_of: usize) -> Kind {
        self.open(token, data_of, self.blocked[data_of][token.category])
    }

    /// A collection: the same checks, on the token's own subject, on a new record.
    fn collect(&self, token: &ModelToken) -> Kind {
        self.open(token, token.subject, false)
    }

    fn open(&self, token: &ModelToken, data_of: usize, blocked: bool) -> Kind {
        let consent = &self.consents[token.consent];
        let withdrawn = consent
            .purposes
            .iter()
            .any(|&(p, w)| p == token.purpose && w);
        if self.now >= token.expires_at {
            Kind::TokenExpired
        } else if withdrawn {
            Kind::ConsentWithdrawn
        } else if self.now >= consent.valid_until {
            Kind::ConsentExpired
        } else if token.subject != data_of {
            Kind::SubjectMismatch
        } else if blocked {
            Kind::Blocked
        } else {
            Kind::Ok
        }
    }
}

enum AnyToken {
    Biometric(ConsentToken<Biometric>),
    Passport(ConsentToken<Passport>),
    Phone(ConsentToken<Phone>),
}

struct Records {
    selfie: PersonalData<Vec<u8>, Biometric>,
    passport: PersonalData<String, Passport>,
    phone: PersonalData<String, Phone>,
}

fn collect_by_court_order<T: zeroize::Zeroize, C: Category>(
    ledger: &ConsentLedger,
    subject: &SubjectId,
    value: T,
) -> PersonalData<T, C> {
    let basis = LegalBasis::CourtOrder {
        reference: "test fixture".into(),
    };
    let token = ledger
        .authorize_with_basis::<C>(subject, &Purpose::LEGAL_OBLIGATION, basis)
        .unwrap();
    PersonalData::collect(subject, value, &token).unwrap()
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(DateTime::UNIX_EPOCH);
    let ledger = ConsentLedger::builder(PolicyVersion::new("model").unwrap())
        .clock(clock.clone())
        .token_ttl(Duration::from_secs(60 * TTL_MINUTES as u64))
        .build();
    let subjects: Vec<_> = (0..SUBJECTS)
        .map(|n| SubjectId::new(format!("subject-{n}")).unwrap())
        .collect();
    let records: Vec<Records> = subjects
        .iter()
        .map(|s| Records {
            selfie: collect_by_court_order(&ledger, s, vec![7_u8; 8]),
            passport: collect_by_court_order(&ledger, s, String::from("AB1234567")),
            phone: collect_by_court_order(&ledger, s, String::from("+998901234567")),
        })
        .collect();

    let mut model = Model::default();
    let mut ids: Vec<ConsentId> = Vec::new();
    let mut tokens: Vec<(AnyToken, ModelToken)> = Vec::new();

    for op in ops {
        match op {
            Op::Grant {
                subject,
                purposes,
                categories,
                written,
                valid_for,
            } => {
                let form = if written {
                    ConsentForm::Written {
                        document_sha256: DocumentHash::of(b"form"),
                    }
                } else {
                    otp()
                };
                let mut grant = Grant::new(subjects[subject].clone(), form)
                    .purpose(PURPOSES[purposes[0]].clone());
                for &p in &purposes[1..] {
                    grant = grant.purpose(PURPOSES[p].clone());
                }
                let mut grant = add_category(grant, categories[0]);
                for &c in &categories[1..] {
                    grant = add_category(grant, c);
                }
                if let Some(minutes) = valid_for {
                    grant = grant.valid_until(
                        DateTime::UNIX_EPOCH + TimeDelta::minutes(model.now + minutes),
                    );
                }
                ids.push(ledger.grant(grant).unwrap());
                model.consents.push(ModelConsent {
                    subject,
                    purposes: purposes.iter().map(|&p| (p, false)).collect(),
                    categories,
                    written,
                    valid_until: valid_for.map_or(i64::MAX, |m| model.now + m),
                });
            }
            Op::Withdraw { pick } => {
                if ids.is_empty() {
                    continue;
                }
                let n = pick % ids.len();
                let expected = model.change(n);
                prop_assert_eq!(kind(&ledger.withdraw(&ids[n])), expected);
                if expected == Kind::Ok {
                    for purpose in &mut model.consents[n].purposes {
                        purpose.1 = true;
                    }
                }
            }
            Op::Renew { pick, valid_for } => {
                if ids.is_empty() {
                    continue;
                }
                let n = pick % ids.len();
                let until = valid_for.map(|m| model.now + m);
                let result = ledger.renew(
                    &ids[n],
                    until.map(|m| DateTime::UNIX_EPOCH + TimeDelta::minutes(m)),
                );
                let expected = model.change(n);
                prop_assert_eq!(kind(&result), expected);
                if expected == Kind::Ok {
                    model.consents[n].valid_until = until.unwrap_or(i64::MAX);
                }
            }
            Op::Block {
                data_of,
                category,
                blocked,
            } => {
                let records = &records[data_of];
                match (category, blocked) {
                    (0, true) => records.selfie.block(),
                    (0, false) => records.selfie.unblock().unwrap(),
                    (1, true) => records.passport.block(),
                    (1, false) => records.passport.unblock().unwrap(),
                    (_, true) => records.phone.block(),
                    (_, false) => records.phone.unblock().unwrap(),
                }
                model.blocked[data_of][category] = blocked;
            }
            Op::Collect { pick } => {
                if tokens.is_empty() {
                    continue;
                }
                let (token, expected) = &tokens[pick % tokens.len()];
                let subject = &subjects[expected.subject];
                let got = match token {
                    AnyToken::Biometric(t) => kind(&PersonalData::collect(subject, vec![1_u8], t)),
                    AnyToken::Passport(t) => {
                        kind(&PersonalData::collect(subject, String::new(), t))
                    }
                    AnyToken::Phone(t) => kind(&PersonalData::collect(subject, String::new(), t)),
                };
                prop_assert_eq!(got, model.collect(expected));
            }
            Op::WithdrawPurpose { subject, purpose } => {
                let result = ledger.withdraw_purpose(&subjects[subject], &PURPOSES[purpose]);
                let now = model.now;
                let mut touched = Vec::new();
                for (n, c) in model.consents.iter_mut().enumerate() {
                    if c.subject != subject || now >= c.valid_until {
                        continue;
                    }
                    for p in &mut c.purposes {
                        if p.0 == purpose && !p.1 {
                            p.1 = true;
                            touched.push(ids[n]);
                        }
                    }
                }
                match result {
                    Ok(withdrawal) => {
                        let got: Vec<_> = withdrawal.withdrawn.iter().map(|(id, _)| *id).collect();
                        prop_assert_eq!(got, touched);
                    }
                    Err(Error::NothingToWithdraw { .. }) => prop_assert!(touched.is_empty()),
                    Err(other) => prop_assert!(false, "unexpected {:?}", other),
                }
            }
            Op::Authorize {
                subject,
                purpose,
                category,
            } => {
                let (s, p) = (&subjects[subject], &PURPOSES[purpose]);
                let (got, token) = match category {
                    0 => {
                        let r = ledger.authorize::<Biometric>(s, p);
                        (kind(&r), r.ok().map(AnyToken::Biometric))
                    }
                    1 => {
                        let r = ledger.authorize::<Passport>(s, p);
                        (kind(&r), r.ok().map(AnyToken::Passport))
                    }
                    _ => {
                        let r = ledger.authorize::<Phone>(s, p);
                        (kind(&r), r.ok().map(AnyToken::Phone))
                    }
                };
                let expected = model.authorize(subject, purpose, category);
                prop_assert_eq!(got, expected.map_or_else(|k| k, |_| Kind::Ok));
                if let (Some(token), Ok(consent)) = (token, expected) {
                    let expires_at =
                        (model.now + TTL_MINUTES).min(model.consents[consent].valid_until);
                    let consent_id = match &token {
                        AnyToken::Biometric(t) => t.consent(),
                        AnyToken::Passport(t) => t.consent(),
                        AnyToken::Phone(t) => t.consent(),
                    };
                    prop_assert_eq!(consent_id, Some(ids[consent]));
                    tokens.push((
                        token,
                        ModelToken {
                            subject,
                            category,
                            consent,
                            purpose,
                            expires_at,
                        },
                    ));
                }
            }
            Op::Read { pick, data_of } => {
                if tokens.is_empty() {
                    continue;
                }
                let (token, expected) = &tokens[pick % tokens.len()];
                let records = &records[data_of];
                let got = match token {
                    AnyToken::Biometric(t) => kind(&records.selfie.read(t).map(|v| v.len())),
                    AnyToken::Passport(t) => kind(&records.passport.read(t).map(|v| v.len())),
                    AnyToken::Phone(t) => kind(&records.phone.with(t, String::len)),
                };
                prop_assert_eq!(got, model.read(expected, data_of));
            }
            Op::Advance { minutes } => {
                clock.advance(TimeDelta::minutes(minutes));
                model.now += minutes;
            }
        }
    }
    Ok(())
}

fn add_category<P, K>(grant: Grant<P, K>, category: usize) -> Grant<P, WithCategory> {
    match category {
        0 => grant.category::<Biometric>(),
        1 => grant.category::<Passport>(),
        _ => grant.category::<Phone>(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::common::cases(256),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/suite/ledger_model.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn reads_succeed_exactly_when_a_covering_consent_is_in_force(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        run(ops)?;
    }
}
