//! The retention schedule against a reference model: random records, rules, holds,
//! triggers, hook failures and clock advances. Every record is destroyed exactly once, never
//! before its deadline, never while held, and by the first sweep after it falls due with its
//! hooks healthy.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use amanat::category::{Category, Phone};
use amanat::data::RecordId;
use amanat::retention::{
    DestructionHook, DestructionRequest, HoldGround, HoldId, HoldScope, HoldUntil, HookError,
    LegalHold, RetentionSchedule, Trigger,
};
use amanat::{Policy, Purpose, SubjectId};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

/// Three purposes, one per way a period can start: collection (1 day), the relationship's
/// end (2 days), the purpose achieved (1 day).
const POLICY: &str = r#"version = "model"
date = 2025-01-01
pack = "tajikistan-2018"
[operator]
name = "Model LLC"
address = "Dushanbe"
contact = "model@example.tj"
registration = "0"
[[category]]
id = "phone"
[[purpose]]
id = "a_collection"
categories = ["phone"]
basis = "consent"
[[purpose]]
id = "b_relationship"
categories = ["phone"]
basis = "consent"
[[purpose]]
id = "c_achieved"
categories = ["phone"]
basis = "consent"
[[retention]]
category = "phone"
purpose = "a_collection"
after = "collection"
days = 1
[[retention]]
category = "phone"
purpose = "b_relationship"
after = "relationship_end"
days = 2
reference = "a law of the model's"
[[retention]]
category = "phone"
purpose = "c_achieved"
after = "purpose_achieved"
days = 1
"#;

const SUBJECTS: usize = 2;
const RECORDS: usize = 6;
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

#[derive(Debug, Clone)]
enum Op {
    Advance(i64),
    Sweep,
    Close(usize),
    Achieved(usize),
    Court(usize),
    Hold {
        record: Option<usize>,
        subject: usize,
        until: Until,
        /// On a statute, which a court's order does not outweigh; otherwise internal.
        statute: bool,
    },
    Release(usize),
    Healthy(bool),
}

#[derive(Debug, Clone, Copy)]
enum Until {
    Minutes(i64),
    AfterCloseDays(u32),
    Released,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1..3 * 24 * 60_i64).prop_map(Op::Advance),
        4 => Just(Op::Sweep),
        1 => (0..SUBJECTS).prop_map(Op::Close),
        1 => (0..SUBJECTS).prop_map(Op::Achieved),
        1 => (0..RECORDS).prop_map(Op::Court),
        1 => (proptest::option::of(0..RECORDS), 0..SUBJECTS, prop_oneof![
                (1..4 * 24 * 60_i64).prop_map(Until::Minutes),
                (0..3_u32).prop_map(Until::AfterCloseDays),
                Just(Until::Released),
            ], any::<bool>())
            .prop_map(|(record, subject, until, statute)| Op::Hold { record, subject, until, statute }),
        1 => any::<usize>().prop_map(Op::Release),
        1 => any::<bool>().prop_map(Op::Healthy),
    ]
}

struct Hook(Arc<AtomicBool>);

impl DestructionHook for Hook {
    fn name(&self) -> &'static str {
        "model"
    }

    fn destroy(&self, _: &DestructionRequest) -> Result<(), HookError> {
        if self.0.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(HookError("down".into()))
        }
    }
}

#[derive(Clone, Copy)]
enum Rule {
    Collection,
    Relationship,
    Achieved,
}

struct ModelRecord {
    subject: usize,
    rule: Rule,
    deadline: Option<i64>,
    /// After a failed attempt, when the retry is due.
    retry_at: Option<i64>,
    /// A court ordered it destroyed: only holds on a statute keep it.
    court: bool,
}

struct ModelHold {
    id: HoldId,
    record: Option<usize>,
    subject: usize,
    until: Until,
    placed_at: i64,
    statute: bool,
}

#[derive(Default)]
struct Model {
    records: Vec<ModelRecord>,
    closed: HashMap<usize, i64>,
    holds: Vec<ModelHold>,
}

impl Model {
    fn lower(&mut self, n: usize, due: i64) {
        let deadline = &mut self.records[n].deadline;
        *deadline = Some(deadline.map_or(due, |d| d.min(due)));
    }

    fn held(&self, n: usize, now: i64) -> bool {
        let record = &self.records[n];
        self.holds.iter().any(|h| {
            let covers = h.record.map_or(h.subject == record.subject, |r| r == n);
            let end = match h.until {
                Until::Minutes(m) => h.placed_at + m * MINUTE,
                Until::AfterCloseDays(d) => self
                    .closed
                    .get(&record.subject)
                    .map_or(i64::MAX, |c| c + i64::from(d) * DAY),
                Until::Released => i64::MAX,
            };
            covers && end > now && (h.statute || !record.court)
        })
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let healthy = Arc::new(AtomicBool::new(true));
    let schedule = RetentionSchedule::builder(Arc::new(Policy::from_toml_str(POLICY).unwrap()))
        .hook::<Phone>(Hook(Arc::clone(&healthy)))
        // Retries are due by the next sweep, which is at least a minute later.
        .backoff(Duration::from_millis(1), Duration::from_millis(1))
        .build();
    let start = DateTime::<Utc>::from_timestamp_millis(1_735_689_600_000).unwrap();
    let at = |ms: i64| start + TimeDelta::milliseconds(ms);
    let subjects: Vec<_> = (0..SUBJECTS)
        .map(|n| SubjectId::new(format!("s{n}")).unwrap())
        .collect();
    let purposes = [
        Purpose::new("a_collection").unwrap(),
        Purpose::new("b_relationship").unwrap(),
        Purpose::new("c_achieved").unwrap(),
    ];
    let mut model = Model::default();
    let mut ids = Vec::new();
    for n in 0..RECORDS {
        let (subject, kind) = (n % SUBJECTS, n % 3);
        let id = RecordId::random();
        schedule
            .track_record(id, &subjects[subject], Phone::ID, &purposes[kind], start)
            .unwrap();
        ids.push(id);
        let rule = [Rule::Collection, Rule::Relationship, Rule::Achieved][kind];
        model.records.push(ModelRecord {
            subject,
            rule,
            deadline: matches!(rule, Rule::Collection).then_some(DAY),
            retry_at: None,
            court: false,
        });
    }
    let index: HashMap<RecordId, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
    let mut destroyed: HashSet<usize> = HashSet::new();
    let mut now = 0_i64;

    for op in ops {
        match op {
            Op::Advance(minutes) => now += minutes * MINUTE,
            Op::Close(s) => {
                schedule.trigger(&subjects[s], Trigger::AccountClosed, at(now));
                let closed = *model.closed.entry(s).or_insert(now);
                for n in 0..RECORDS {
                    let r = &model.records[n];
                    if r.subject != s {
                        continue;
                    }
                    match r.rule {
                        Rule::Relationship => model.lower(n, closed + 2 * DAY),
                        // Every other period ends with the relationship (Art. 20).
                        Rule::Collection | Rule::Achieved => model.lower(n, closed),
                    }
                }
            }
            Op::Achieved(s) => {
                schedule.trigger(
                    &subjects[s],
                    Trigger::PurposeAchieved(purposes[2].clone()),
                    at(now),
                );
                for n in 0..RECORDS {
                    let r = &model.records[n];
                    if r.subject == s && matches!(r.rule, Rule::Achieved) {
                        model.lower(n, now + DAY);
                    }
                }
            }
            Op::Court(n) => {
                let trigger = Trigger::CourtDecision {
                    reference: "case".into(),
                    record: Some(ids[n]),
                };
                schedule.trigger(&subjects[model.records[n].subject], trigger, at(now));
                if !destroyed.contains(&n) {
                    model.lower(n, now);
                    model.records[n].court = true;
                }
            }
            Op::Hold {
                record,
                subject,
                until,
                statute,
            } => {
                let subject = record.map_or(subject, |n| model.records[n].subject);
                let placed = schedule.place_hold(LegalHold {
                    scope: match record {
                        Some(n) => HoldScope::Record(ids[n]),
                        None => HoldScope::Subject(subjects[subject].clone()),
                    },
                    reason: "model".into(),
                    ground: if statute {
                        HoldGround::Statute {
                            law: "the model's law".into(),
                            article: "Art. 1".into(),
                        }
                    } else {
                        HoldGround::Internal {
                            reference: "model".into(),
                        }
                    },
                    readable_for: Vec::new(),
                    until: match until {
                        Until::Minutes(m) => HoldUntil::Date(at(now + m * MINUTE)),
                        Until::AfterCloseDays(days) => HoldUntil::AfterRelationshipEnd {
                            years: 0,
                            months: 0,
                            days,
                        },
                        Until::Released => HoldUntil::Released,
                    },
                });
                // A destroyed record can't be held: the schedule says so.
                let gone = record.is_some_and(|n| destroyed.contains(&n));
                prop_assert_eq!(placed.is_err(), gone);
                if let Ok(id) = placed {
                    model.holds.push(ModelHold {
                        id,
                        record,
                        subject,
                        until,
                        placed_at: now,
                        statute,
                    });
                }
            }
            Op::Release(k) => {
                if model.holds.is_empty() {
                    continue;
                }
                let hold = model.holds.remove(k % model.holds.len());
                prop_assert!(schedule.release_hold(hold.id).is_ok());
            }
            Op::Healthy(up) => healthy.store(up, Ordering::SeqCst),
            Op::Sweep => {
                let report = schedule.sweep(at(now));
                let mut got = HashSet::new();
                for receipt in &report.destroyed {
                    let n = index[&receipt.record];
                    prop_assert!(got.insert(n), "destroyed twice in one sweep");
                    prop_assert!(destroyed.insert(n), "destroyed twice");
                    let deadline = model.records[n].deadline;
                    prop_assert!(
                        deadline.is_some_and(|d| d <= now),
                        "destroyed before its deadline"
                    );
                    prop_assert!(!model.held(n, now), "destroyed while held");
                }
                let up = healthy.load(Ordering::SeqCst);
                if !up {
                    prop_assert!(got.is_empty(), "destroyed while the hook was down");
                }
                for n in 0..RECORDS {
                    let due = model.records[n].deadline.is_some_and(|d| d <= now);
                    if !due || (destroyed.contains(&n) && !got.contains(&n)) {
                        continue;
                    }
                    if model.records[n].retry_at.is_some_and(|r| r > now) {
                        // Waiting for its retry, one millisecond after the failure: not
                        // looked at before then.
                    } else if model.held(n, now) {
                        // Postponed: a destruction that had not begun starts over.
                        model.records[n].retry_at = None;
                    } else if up {
                        prop_assert!(destroyed.contains(&n), "record {} due and free but kept", n);
                    } else {
                        model.records[n].retry_at = Some(now + 1);
                    }
                }
                // Holds on records now destroyed end with them.
                model
                    .holds
                    .retain(|h| h.record.is_none_or(|n| !destroyed.contains(&n)));
            }
        }
    }
    prop_assert_eq!(schedule.len(), RECORDS - destroyed.len());

    // Nothing is lost: once every hold is released, every account closed and the hook
    // healthy, the next sweeps destroy every record left, each exactly once.
    for hold in &model.holds {
        let _ = schedule.release_hold(hold.id);
    }
    healthy.store(true, Ordering::SeqCst);
    now += 10 * DAY;
    for subject in &subjects {
        schedule.trigger(subject, Trigger::AccountClosed, at(now));
    }
    // Past every period the rules count from the account's closure.
    now += 3 * DAY;
    for _ in 0..2 {
        for receipt in schedule.sweep(at(now)).destroyed {
            prop_assert!(destroyed.insert(index[&receipt.record]), "destroyed twice");
        }
        now += MINUTE;
    }
    prop_assert_eq!(destroyed.len(), RECORDS, "records lost");
    prop_assert!(schedule.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(256), ..ProptestConfig::default() })]

    #[test]
    fn every_record_is_destroyed_once_never_early_never_while_held(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        run(ops)?;
    }
}
