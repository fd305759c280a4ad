//! An operator's state survives close and reopen unchanged: after any sequence of grants,
//! withdrawals, renewals, records kept, triggers, holds, sweeps, notices owed and sent,
//! and requests received and answered, the reopened operator shows the same histories,
//! consents, records, deadlines, holds, notices, requests and decisions of `authorize` as
//! before it closed, and the same audit trail, entry for entry.

#![cfg(feature = "sqlite")]

use std::path::Path;

use crate::common::{OperatorState, imanum, imanum_operator, monday, operator_state, otp};
use amanat::category::{IdentityDocument, Phone};
use amanat::data::Source;
use amanat::retention::{HoldGround, HoldScope, HoldUntil, LegalHold, Trigger};
use amanat::rights::RequestKind;
use amanat::store::Operator;
use amanat::{ConsentId, Grant, ManualClock, PersonalData, Purpose, SubjectId};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

// Enough that both of the replay's lanes hold several.
const SUBJECTS: u8 = 6;

#[derive(Clone, Debug)]
enum Op {
    Grant(u8, bool),
    Withdraw(prop::sample::Index),
    Renew(prop::sample::Index, u16),
    Keep(u8),
    FromThirdParty(u8),
    Close(u8),
    Hold(u8),
    Release(prop::sample::Index),
    Request(u8),
    Answer(prop::sample::Index),
    MarkSent(prop::sample::Index),
    Advance(u16),
    Sweep,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..SUBJECTS;
    prop_oneof![
        4 => (s.clone(), any::<bool>()).prop_map(|(n, both)| Op::Grant(n, both)),
        2 => any::<prop::sample::Index>().prop_map(Op::Withdraw),
        1 => (any::<prop::sample::Index>(), 1..400_u16).prop_map(|(i, d)| Op::Renew(i, d)),
        3 => s.clone().prop_map(Op::Keep),
        1 => s.clone().prop_map(Op::FromThirdParty),
        1 => s.clone().prop_map(Op::Close),
        1 => s.clone().prop_map(Op::Hold),
        1 => any::<prop::sample::Index>().prop_map(Op::Release),
        1 => s.prop_map(Op::Request),
        1 => any::<prop::sample::Index>().prop_map(Op::Answer),
        1 => any::<prop::sample::Index>().prop_map(Op::MarkSent),
        2 => (1..120_u16).prop_map(Op::Advance),
        1 => Just(Op::Sweep),
        1 => Just(Op::Reopen),
    ]
}

fn subject(n: u8) -> SubjectId {
    SubjectId::new(format!("cust-{n}")).unwrap()
}

/// What the operator shows of its subjects' state.
fn state(operator: &Operator, now: DateTime<Utc>) -> OperatorState {
    operator_state(
        operator,
        &(0..SUBJECTS).map(subject).collect::<Vec<_>>(),
        now,
    )
}

/// Opens with a snapshot kept at every open that read a change from the log: each reopen
/// after the first starts from snapshots.
fn open(dir: &Path, clock: &ManualClock) -> Operator {
    imanum_operator(dir, clock)
        .snapshot_after(1)
        .open()
        .unwrap()
}

fn apply(
    operator: &mut Operator,
    dir: &Path,
    clock: &ManualClock,
    op: &Op,
    consents: &mut Vec<ConsentId>,
    holds: &mut Vec<amanat::retention::HoldId>,
) {
    let now = amanat::Clock::now(clock);
    match *op {
        Op::Grant(n, both) => {
            let mut grant = Grant::new(subject(n), otp()).purpose(Purpose::SERVICE_PROVISION);
            if both {
                grant = grant.purpose(Purpose::IDENTITY_VERIFICATION);
            }
            let grant = grant
                .category::<Phone>()
                .category::<IdentityDocument>()
                .valid_until(now + TimeDelta::days(90));
            consents.push(operator.ledger().grant(grant).unwrap());
        }
        Op::Withdraw(i) if !consents.is_empty() => {
            let consent = &consents[i.index(consents.len())];
            // Half through the operator, whose schedule hears it (and the replay with it).
            if i.index(2) == 0 {
                let _ = operator.withdraw(consent);
            } else {
                let _ = operator.ledger().withdraw(consent);
            }
        }
        Op::Renew(i, days) if !consents.is_empty() => {
            let _ = operator.ledger().renew(
                &consents[i.index(consents.len())],
                Some(now + TimeDelta::days(i64::from(days))),
            );
        }
        Op::Keep(n) => {
            let s = subject(n);
            if let Ok(token) = operator
                .ledger()
                .authorize::<Phone>(&s, &Purpose::SERVICE_PROVISION)
            {
                let mut phone =
                    PersonalData::collect(&s, format!("+99890123456{n}"), &token).unwrap();
                operator.keep(&mut phone, &token).unwrap();
            }
        }
        Op::FromThirdParty(n) => {
            let s = subject(n);
            if let Ok(token) = operator
                .ledger()
                .authorize::<Phone>(&s, &Purpose::SERVICE_PROVISION)
            {
                let bureau = Source::ThirdParty {
                    name: "Credit bureau".into(),
                };
                let phone =
                    PersonalData::collect_from(&s, String::from("+998907654321"), bureau, &token)
                        .unwrap();
                operator.disclosures().collected_from_third_party(&phone);
            }
        }
        Op::Close(n) => {
            operator
                .trigger(&subject(n), Trigger::AccountClosed, now)
                .unwrap();
        }
        Op::Hold(n) => {
            holds.push(
                operator
                    .schedule()
                    .place_hold(LegalHold {
                        scope: HoldScope::Subject(subject(n)),
                        reason: "customer due diligence".into(),
                        ground: HoldGround::Statute {
                            law: "AML law".into(),
                            article: "FATF Recommendation 11".into(),
                        },
                        readable_for: vec![Purpose::LEGAL_OBLIGATION],
                        until: HoldUntil::Released,
                    })
                    .unwrap(),
            );
        }
        Op::Release(i) if !holds.is_empty() => {
            let _ = operator
                .schedule()
                .release_hold(holds[i.index(holds.len())]);
        }
        Op::Request(n) => {
            operator
                .requests()
                .receive(subject(n), RequestKind::Access, now);
        }
        Op::Answer(i) => {
            let open = operator.requests().open_requests();
            if !open.is_empty() {
                let id = open[i.index(open.len())].id;
                operator.requests().complete(id, now).unwrap();
            }
        }
        Op::MarkSent(i) => {
            let pending = operator.disclosures().pending_notices(now);
            if !pending.is_empty() {
                let id = pending[i.index(pending.len())].id;
                operator.disclosures().mark_sent(id, now).unwrap();
            }
        }
        Op::Advance(days) => clock.advance(TimeDelta::days(i64::from(days))),
        Op::Sweep => {
            operator.sweep(now).unwrap();
        }
        Op::Reopen => {
            let before = state(operator, now);
            // Closed before it is opened again: one operator per directory.
            let stand_in = Operator::with_stores(amanat::store::Stores::in_memory(), imanum())
                .open()
                .unwrap();
            drop(std::mem::replace(operator, stand_in));
            *operator = open(dir, clock);
            assert_eq!(before, state(operator, now));
        }
        Op::Withdraw(_) | Op::Renew(..) | Op::Release(_) => {}
    }
    operator.check_kept().unwrap();
}

proptest! {
    // Every change is a synced transaction: few cases, enough operations in each.
    #![proptest_config(ProptestConfig { cases: crate::common::cases(16), ..ProptestConfig::default() })]

    #[test]
    fn the_state_after_reopening_is_the_state_before_closing(
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(monday());
        let mut operator = open(dir.path(), &clock);
        let (mut consents, mut holds) = (Vec::new(), Vec::new());
        for op in ops {
            apply(&mut operator, dir.path(), &clock, &op, &mut consents, &mut holds);
        }
        let now = amanat::Clock::now(&clock);
        // The audit trail first: the snapshot's own authorizations are audited too.
        let trail = operator.audit_log().entries().unwrap();
        let before = state(&operator, now);
        let trail_with_snapshot = operator.audit_log().entries().unwrap();
        drop(operator);
        let reopened = open(dir.path(), &clock);
        prop_assert_eq!(&trail_with_snapshot, &reopened.audit_log().entries().unwrap());
        prop_assert!(trail_with_snapshot.starts_with(&trail));
        prop_assert_eq!(&before, &state(&reopened, now));
        // Each snapshot holds what the entries it covers say.
        prop_assert!(reopened.verify_full().is_ok());
        drop(reopened);
        // The snapshots gone, the whole log is replayed: to the same state.
        rusqlite::Connection::open(dir.path().join("log.db"))
            .unwrap()
            .execute_batch("DELETE FROM snapshots")
            .unwrap();
        let replayed = imanum_operator(dir.path(), &clock).open().unwrap();
        prop_assert!(replayed.audit_log().entries().unwrap().starts_with(&trail_with_snapshot));
        prop_assert_eq!(before, state(&replayed, now));
    }
}
