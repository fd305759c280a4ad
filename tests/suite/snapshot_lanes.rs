//! An open from snapshots replays the consent ledger's changes on two threads, by subject
//! (issue 16, item 6): it must give the state the whole log gives, refuse what the lanes
//! can't replay in order, and pass over a snapshot an earlier version kept. Most of these
//! are attacks an independent review made on the lanes.

#![cfg(feature = "sqlite")]

use std::path::Path;
use std::sync::Arc;

use amanat::category::Phone;
use amanat::log::{LogError, Problem};
use amanat::store::journal::{Change, Journal, MemoryJournal};
use amanat::store::{Operator, StoreError};
use amanat::{Grant, LegalBasis, ManualClock, PersonalData, Purpose, SubjectId};
use chrono::TimeDelta;

use crate::common::{
    OperatorState, customer, imanum, imanum_operator, imanum_version, keys_for, monday,
    operator_state, otp,
};

/// Enough subjects that both lanes hold many.
const SUBJECTS: usize = 24;

/// The policy in force from the third open: it requires consent again.
const REQUIRES_RECONSENT: &str = "imanum-privacy-policy-3";

fn subject(n: usize) -> SubjectId {
    SubjectId::new(format!("cust-{n}")).unwrap()
}

/// What the open rebuilds, for every subject.
fn state(operator: &Operator, clock: &ManualClock) -> OperatorState {
    let subjects: Vec<_> = (0..SUBJECTS).map(subject).collect();
    operator_state(operator, &subjects, amanat::Clock::now(clock))
}

/// The operator in `dir`, keeping a snapshot at every open, under the policy that requires
/// consent again once `reconsent`.
fn open(dir: &Path, clock: &ManualClock, reconsent: bool) -> Operator {
    let builder = if reconsent {
        Operator::builder(dir, imanum_version(REQUIRES_RECONSENT, true), keys_for(dir))
            .clock(clock.clone())
    } else {
        imanum_operator(dir, clock)
    };
    builder.snapshot_after(1).open().unwrap()
}

/// A day's work for every subject: a consent, a phone kept on it, a use of another legal
/// basis, and a withdrawal the schedule hears or a renewal.
fn a_days_work(operator: &Operator, clock: &ManualClock, day: usize) {
    let now = amanat::Clock::now(clock);
    for n in 0..SUBJECTS {
        let who = subject(n);
        let grant = Grant::new(who.clone(), otp())
            .purpose(Purpose::SERVICE_PROVISION)
            .purpose(Purpose::MARKETING_ANALYTICS)
            .category::<Phone>()
            .valid_until(now + TimeDelta::days(90));
        let Ok(consent) = operator.ledger().grant(grant) else {
            continue;
        };
        if let Ok(token) = operator
            .ledger()
            .authorize::<Phone>(&who, &Purpose::MARKETING_ANALYTICS)
        {
            let mut phone =
                PersonalData::collect(&who, format!("+99890123{day}{n:03}"), &token).unwrap();
            operator.keep(&mut phone, &token).unwrap();
        }
        let _ = operator.ledger().authorize_with_basis::<Phone>(
            &who,
            &Purpose::FRAUD_PREVENTION,
            LegalBasis::LegalObligation {
                reference: "AML law Art. 12".into(),
            },
        );
        match (n + day) % 3 {
            0 => drop(operator.withdraw(&consent).unwrap()),
            1 => drop(
                operator
                    .ledger()
                    .renew(&consent, Some(now + TimeDelta::days(200))),
            ),
            _ => {}
        }
    }
    clock.advance(TimeDelta::days(1));
}

fn delete_snapshots(dir: &Path) {
    rusqlite::Connection::open(dir.join("log.db"))
        .unwrap()
        .execute_batch("DELETE FROM snapshots")
        .unwrap();
}

fn snapshots_in(dir: &Path) -> i64 {
    rusqlite::Connection::open(dir.join("log.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn an_open_from_snapshots_in_lanes_gives_the_state_the_whole_log_gives() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let mut operator = open(dir.path(), &clock, false);
    for day in 0..4 {
        a_days_work(&operator, &clock, day);
        drop(operator);
        // From the third open the policy requires consent again: invalidations.
        operator = open(dir.path(), &clock, day >= 2);
    }
    let before = state(&operator, &clock);
    let events: Vec<_> = before.histories.iter().flatten().collect();
    for change in ["invalidated", "withdrawn", "legal_basis_used", "renewed"] {
        assert!(events.iter().any(|e| e.change() == change), "no {change}");
    }
    // Withdrawals the schedule heard brought deadlines forward from a year to the day.
    assert!(before.records.iter().flatten().any(|r| {
        r.deadline
            .is_some_and(|d| d < r.collected_at + TimeDelta::days(300))
    }));
    drop(operator);
    assert!(snapshots_in(dir.path()) >= 3);

    let in_lanes = open(dir.path(), &clock, true);
    assert_eq!(state(&in_lanes, &clock), before);
    assert!(in_lanes.verify_full().is_ok());
    drop(in_lanes);
    delete_snapshots(dir.path());
    let whole = Operator::builder(
        dir.path(),
        imanum_version(REQUIRES_RECONSENT, true),
        keys_for(dir.path()),
    )
    .clock(clock.clone())
    .snapshot_after(usize::MAX)
    .open()
    .unwrap();
    assert_eq!(state(&whole, &clock), before);
}

/// A withdrawal is heard for the subject its change names, and replayed in that subject's
/// lane: one that names another subject than its consent's is refused. On a journal of
/// other stores, which has no MAC, an edited withdrawal of cust-1's consent naming cust-2
/// brought cust-2's record forward while cust-2's consent stood (found by a review).
#[test]
fn a_withdrawal_naming_another_subject_than_its_consents_is_refused_at_open() {
    let clock = ManualClock::new(monday());
    let (keys, vault, audit) = (
        Arc::new(amanat::store::keys::MemoryKeyStore::default()),
        Arc::new(amanat::store::vault::MemoryVault::default()),
        Arc::new(amanat::audit::AuditLog::in_memory()),
    );
    let open = |journal: Arc<MemoryJournal>| {
        let stores = amanat::store::Stores::new(
            journal as Arc<dyn Journal>,
            Arc::clone(&keys) as _,
            Arc::clone(&vault) as _,
            Arc::clone(&audit),
        );
        Operator::with_stores(stores, imanum())
            .clock(clock.clone())
            .open()
    };
    let journal = Arc::new(MemoryJournal::new());
    let operator = open(Arc::clone(&journal)).unwrap();
    let mut consents = Vec::new();
    for n in [1, 2] {
        let who = subject(n);
        consents.push(
            operator
                .ledger()
                .grant(
                    Grant::new(who.clone(), otp())
                        .purpose(Purpose::MARKETING_ANALYTICS)
                        .category::<Phone>(),
                )
                .unwrap(),
        );
        let token = operator
            .ledger()
            .authorize::<Phone>(&who, &Purpose::MARKETING_ANALYTICS)
            .unwrap();
        let mut phone = PersonalData::collect(&who, format!("+99890123456{n}"), &token).unwrap();
        operator.keep(&mut phone, &token).unwrap();
    }
    operator.withdraw(&consents[0]).unwrap();
    drop(operator);
    let edited = Arc::new(MemoryJournal::new());
    journal
        .replay(&mut |change| {
            let json = change.to_json().unwrap();
            let json = if change.kind() == "consent_withdrawn" {
                json.replace("\"subject\":\"cust-1\"", "\"subject\":\"cust-2\"")
            } else {
                json
            };
            edited.append(&Change::from_json(&json).unwrap())
        })
        .unwrap();
    assert!(matches!(open(edited), Err(StoreError::Corrupt(_))));
    // The journal as written opens.
    assert!(open(journal).is_ok());
}

/// A snapshot an earlier version kept — its MAC sound, its body in a format this one does
/// not read — is passed over: the open reads the entries it covers, and keeps a snapshot
/// in its place. (The review found such a directory would not open at all.)
#[test]
fn a_snapshot_of_an_earlier_format_is_passed_over_and_replaced() {
    use amanat::log::{Log, LogStore, Seq};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, record) = crate::common::kept_phone(dir.path(), &clock);
    let kept = |operator: &Operator| {
        (
            operator.ledger().history(&customer()),
            operator.schedule().records_of(&customer()),
        )
    };
    let before = kept(&operator);
    assert_eq!(before.1.len(), 1);
    // The body as the first snapshots were: each change's time and event in postcard.
    let mut body = Vec::new();
    for e in operator.audit_log().entries().unwrap() {
        if e.event.is_change() {
            let at = (e.at.timestamp(), e.at.timestamp_subsec_nanos());
            body = postcard::to_extend(&(at.0, at.1, &e.event), body).unwrap();
        }
    }
    drop(operator);
    let store = amanat::store::SqliteLogStore::open(dir.path().join("log.db")).unwrap();
    let to = store.head().unwrap().map(|h| h.seq);
    let log = Log::builder(store).open(&keys_for(dir.path())).unwrap();
    log.put_snapshot(Seq::FIRST, to.unwrap(), body).unwrap();
    drop(log);

    let operator = open(dir.path(), &clock, false);
    assert_eq!(kept(&operator), before);
    assert_eq!(before.1[0].record, record);
    assert!(operator.verify_full().is_ok());
    drop(operator);
    // Replaced by one this version reads, which the next open starts from.
    assert_eq!(snapshots_in(dir.path()), 1);
    let operator = open(dir.path(), &clock, false);
    assert_eq!(kept(&operator), before);
    assert!(operator.verify_full().is_ok());
}

/// A snapshot's body changed to another type, emptied, or replaced by zeros is refused
/// as tampering, where it ends, without a panic.
#[test]
fn a_snapshot_body_of_another_type_or_size_is_refused_as_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = crate::common::kept_phone(dir.path(), &clock);
    drop(operator);
    drop(open(dir.path(), &clock, false));
    let db_path = dir.path().join("log.db");
    let body: Vec<u8> = rusqlite::Connection::open(&db_path)
        .unwrap()
        .query_row("SELECT body FROM snapshots", [], |r| r.get(0))
        .unwrap();
    for edit in [
        "UPDATE snapshots SET body = CAST(body AS TEXT)",
        "UPDATE snapshots SET body = 12345",
        "UPDATE snapshots SET body = 1.5",
        "UPDATE snapshots SET body = zeroblob(1000000)",
        "UPDATE snapshots SET body = x''",
    ] {
        let db = rusqlite::Connection::open(&db_path).unwrap();
        db.execute("UPDATE snapshots SET body = ?1", [&body])
            .unwrap();
        db.execute_batch(edit).unwrap();
        drop(db);
        match imanum_operator(dir.path(), &clock).open() {
            Err(StoreError::Log(log)) => assert!(
                matches!(
                    *log,
                    LogError::Tampered {
                        problem: Problem::SnapshotMismatch,
                        ..
                    }
                ),
                "{edit}: {log}"
            ),
            other => panic!("{edit}: {other:?}"),
        }
    }
}
