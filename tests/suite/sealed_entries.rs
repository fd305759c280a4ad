//! What the operator's log holds about a subject — their id, a legal representative's name
//! and mandate, the references of their holds and requests — is sealed under a key of the
//! subject's own (issue 16, item 5): whoever reads `log.db` sees which entries are about
//! the same subject, what kind they are and when they were written, never who it is. Once
//! the subject's life with the operator is over, `erase_subject` shreds that key: the
//! chain still verifies, and nothing in the data directory names them any more.

#![cfg(feature = "sqlite")]

use std::path::Path;

use amanat::audit::Event;
use amanat::category::Phone;
use amanat::log::{FileAnchor, LogError, Problem};
use amanat::retention::{HoldGround, HoldScope, HoldUntil, LegalHold, Trigger};
use amanat::rights::RequestKind;
use amanat::store::{Operator, SqliteLogStore, StoreError};
use amanat::vocab::GivenBy;
use amanat::{Clock, ManualClock, PersonalData, Purpose};
use chrono::TimeDelta;

use crate::common::{customer, imanum_operator, keep_phone, keys_for, monday, operator_state};
use crate::common::{otp_grant, subject, written_grant};

const SUBJECT: &str = "cust-canary-5Q8Z";
const GUARDIAN: &str = "Guardian Canary-7W2K";
const MANDATE: &str = "guardianship decision Canary-3X9D";

#[test]
fn a_subjects_id_and_representatives_name_are_in_no_log_entry_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let canary = subject(SUBJECT);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let consent = granted_by_the_guardian(operator.ledger());
    drop(
        operator
            .ledger()
            .authorize::<Phone>(&canary, &Purpose::SERVICE_PROVISION)
            .unwrap(),
    );
    operator
        .schedule()
        .place_hold(LegalHold {
            scope: HoldScope::Subject(canary.clone()),
            reason: "aml".into(),
            ground: HoldGround::Statute {
                law: "AML law".into(),
                article: "Art. 12".into(),
            },
            readable_for: vec![Purpose::LEGAL_OBLIGATION],
            until: HoldUntil::Released,
        })
        .unwrap();
    operator.withdraw(&consent).unwrap();
    drop(operator);

    let db = rusqlite::Connection::open(dir.path().join("log.db")).unwrap();
    let payloads: Vec<Vec<u8>> = db
        .prepare("SELECT payload FROM entries")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        payloads.len() >= 5,
        "grant, authorization, reads, hold, withdrawal"
    );
    for canary in [SUBJECT, GUARDIAN, MANDATE] {
        let found = payloads
            .iter()
            .filter(|p| p.windows(canary.len()).any(|w| w == canary.as_bytes()))
            .count();
        assert_eq!(found, 0, "{canary} is in {found} entries in clear");
    }

    // The operator reads them back whole: the trail shows who consented, and for whom.
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let trail = serde_json::to_string(&operator.audit_log().entries().unwrap()).unwrap();
    for canary in [SUBJECT, GUARDIAN, MANDATE] {
        assert!(trail.contains(canary), "{canary} is not in the trail");
    }
    operator.audit_log().verify().unwrap();
    assert_eq!(operator.ledger().history(&subject(SUBJECT)).len(), 2);
}

/// An operator on `dir` that keeps a snapshot at every open with a change after the last.
fn snapshotting(dir: &Path, clock: &ManualClock) -> Operator {
    imanum_operator(dir, clock)
        .snapshot_after(1)
        .open()
        .unwrap()
}

/// The canary subject's consent to the service, given by their guardian.
fn granted_by_the_guardian(ledger: &amanat::ConsentLedger) -> amanat::ConsentId {
    ledger
        .grant(
            // A guardian consents in writing (ZRU-547 Art. 21).
            written_grant(&subject(SUBJECT), Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .given_by(GivenBy::LegalRepresentative {
                    name: GUARDIAN.into(),
                    basis: MANDATE.into(),
                }),
        )
        .unwrap()
}

/// The canary subject's whole life with the operator, through a legal representative: a
/// consent, a phone number kept, a request answered, a hold placed and released, the
/// consent withdrawn, the account closed and the number destroyed. Another customer stays.
fn a_life_over(operator: &Operator, clock: &ManualClock) {
    let canary = subject(SUBJECT);
    let consent = granted_by_the_guardian(operator.ledger());
    let token = operator
        .ledger()
        .authorize::<Phone>(&canary, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone = PersonalData::collect(&canary, "+998907770011".to_owned(), &token).unwrap();
    operator.keep(&mut phone, &token).unwrap();
    drop((phone, token));
    let request = operator
        .requests()
        .receive(canary.clone(), RequestKind::Access, clock.now());
    operator.requests().complete(request, clock.now()).unwrap();
    let hold = operator
        .schedule()
        .place_hold(LegalHold {
            scope: HoldScope::Subject(canary.clone()),
            reason: "aml".into(),
            ground: HoldGround::Statute {
                law: "AML law".into(),
                article: "Art. 12".into(),
            },
            readable_for: vec![Purpose::LEGAL_OBLIGATION],
            until: HoldUntil::Released,
        })
        .unwrap();
    operator.schedule().release_hold(hold).unwrap();
    operator.withdraw(&consent).unwrap();
    operator
        .trigger(&canary, Trigger::AccountClosed, clock.now())
        .unwrap();
    clock.advance(TimeDelta::days(1));
    let swept = operator.sweep_now().unwrap();
    assert_eq!(swept.destroyed.len(), 1);
    // The destruction is told to the subject (Uzbek law Art. 31), and then it is over.
    notices_sent(operator, clock);
}

/// Marks every notice of a change the operator owes as sent.
fn notices_sent(operator: &Operator, clock: &ManualClock) {
    let notices = operator.change_notices();
    for notice in notices
        .pending(clock.now())
        .into_iter()
        .chain(notices.overdue(clock.now()))
    {
        notices.mark_sent(notice.id, clock.now()).unwrap();
    }
}

/// How many files of `dir` hold each canary, anywhere in their bytes (free pages and
/// write-ahead logs included).
fn canaries_in(dir: &Path) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for canary in [SUBJECT, GUARDIAN, MANDATE] {
            if bytes.windows(canary.len()).any(|w| w == canary.as_bytes()) {
                found.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    canary,
                ));
            }
        }
    }
    found
}

#[test]
fn an_erased_subject_leaves_their_id_and_representative_in_no_file_art_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = snapshotting(dir.path(), &clock);
    keep_phone(&operator);
    a_life_over(&operator, &clock);
    drop(operator);
    // Reopened, the operator keeps a snapshot of the replay's state, sealed under a key
    // derived from the log's: a copy of the files made now (a backup) names no one in it,
    // nor anywhere else, without the keys.
    let operator = snapshotting(dir.path(), &clock);
    drop(operator);
    let snapshots: i64 = rusqlite::Connection::open(dir.path().join("log.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM snapshots", [], |row| row.get(0))
        .unwrap();
    assert!(snapshots > 0);
    assert_eq!(canaries_in(dir.path()), []);

    let operator = snapshotting(dir.path(), &clock);
    operator.erase_subject(&subject(SUBJECT)).unwrap();
    assert!(operator.ledger().history(&subject(SUBJECT)).is_empty());
    drop(operator);
    assert_eq!(canaries_in(dir.path()), []);
}

#[test]
fn after_an_erasure_the_log_verifies_and_the_trail_shows_what_was_erased() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = snapshotting(dir.path(), &clock);
    a_life_over(&operator, &clock);
    let before = operator.audit_log().entries().unwrap();
    operator.erase_subject(&subject(SUBJECT)).unwrap();
    let public = operator.checkpoint_key().unwrap();
    let after = operator.audit_log().entries().unwrap();
    operator.audit_log().verify().unwrap();
    operator.verify_full().unwrap();
    drop(operator);

    // Every entry about the subject is shown erased, at its place, with its hash.
    assert_eq!(after.len(), before.len() + 1);
    let mut erased = 0;
    for (was, is) in before.iter().zip(&after) {
        assert_eq!((was.seq, was.hash), (is.seq, is.hash));
        match &is.event {
            Event::Erased { was: kind, .. } => {
                assert_eq!(kind, was.event.name());
                erased += 1;
            }
            other => assert_eq!(other, &was.event),
        }
    }
    assert!(erased >= 8, "only {erased} entries erased");
    assert!(matches!(
        after.last().unwrap().event,
        Event::SubjectErased { .. }
    ));
    let trail = serde_json::to_string(&after).unwrap();
    for canary in [SUBJECT, GUARDIAN, MANDATE] {
        assert!(!trail.contains(canary), "{canary} is in the trail");
    }
    // An auditor with the public key and the anchor: the log is whole.
    let store = SqliteLogStore::open(dir.path().join("log.db")).unwrap();
    let anchor = FileAnchor::new(keys_for(dir.path()).path().join("anchors"), dir.path()).unwrap();
    amanat::log::verify_against_anchor(&store, &public, &anchor).unwrap();
}

#[test]
fn an_erased_subject_stays_erased_after_a_reopen_and_the_rest_is_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = snapshotting(dir.path(), &clock);
    keep_phone(&operator);
    operator
        .requests()
        .receive(customer(), RequestKind::Access, clock.now());
    a_life_over(&operator, &clock);
    operator
        .requests()
        .receive(customer(), RequestKind::Rectification, clock.now());
    drop(operator);
    // Reopened, it keeps a snapshot that names the subject; the erasure must not leave it.
    let operator = snapshotting(dir.path(), &clock);
    operator.erase_subject(&subject(SUBJECT)).unwrap();
    let subjects = [subject(SUBJECT), customer()];
    let before = operator_state(&operator, &subjects, clock.now());
    drop(operator);

    for _ in 0..2 {
        // From the log, then from the snapshot the first reopen kept.
        let operator = snapshotting(dir.path(), &clock);
        assert_eq!(operator_state(&operator, &subjects, clock.now()), before);
        // The erased request's number stays taken.
        assert!(operator.requests().get(2).is_none());
        assert_eq!(operator.requests().get(3).unwrap().subject, customer());
    }
    let operator = snapshotting(dir.path(), &clock);
    let next = operator
        .requests()
        .receive(customer(), RequestKind::Access, clock.now());
    assert_eq!(next, 4);
}

#[test]
fn erasure_is_refused_while_anything_of_the_subject_is_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let refused = |operator: &Operator| {
        let entries = operator.audit_log().entries().unwrap().len();
        let refusal = operator.erase_subject(&customer()).unwrap_err();
        assert_eq!(operator.audit_log().entries().unwrap().len(), entries);
        assert!(!operator.ledger().history(&customer()).is_empty() || entries == 0);
        match refusal {
            amanat::Error::NotErasable { reason } => reason,
            other => panic!("refused as {other}"),
        }
    };
    let record = keep_phone(&operator);
    assert_eq!(refused(&operator), "a record of theirs is kept");
    operator
        .trigger(&customer(), Trigger::AccountClosed, clock.now())
        .unwrap();
    clock.advance(TimeDelta::days(1));
    let swept = operator.sweep_now().unwrap();
    assert_eq!(swept.destroyed[0].record, record);
    assert_eq!(refused(&operator), "a consent of theirs is still in force");
    let consent = operator.ledger().consents_of(&customer())[0];
    operator.withdraw(&consent).unwrap();
    let request = operator
        .requests()
        .receive(customer(), RequestKind::Destruction, clock.now());
    assert_eq!(
        refused(&operator),
        "a request of theirs is not answered yet"
    );
    operator.requests().complete(request, clock.now()).unwrap();
    let hold = operator
        .schedule()
        .place_hold(LegalHold {
            scope: HoldScope::Subject(customer()),
            reason: "court".into(),
            ground: HoldGround::Internal {
                reference: "case 12/2026".into(),
            },
            readable_for: Vec::new(),
            until: HoldUntil::Released,
        })
        .unwrap();
    assert_eq!(refused(&operator), "a legal hold covers them");
    operator.schedule().release_hold(hold).unwrap();
    assert_eq!(
        refused(&operator),
        "a notice of a change to their data is not sent yet"
    );
    notices_sent(&operator, &clock);
    operator.erase_subject(&customer()).unwrap();
}

/// A key row put back from a copy made before the erasure is the log's own, MAC and all:
/// the open finds it against the erasure, and refuses.
#[test]
fn a_shredded_key_put_back_from_an_older_copy_is_refused() {
    put_back_after_an_erasure(false);
}

/// Erases the subject, with a snapshot kept after the erasure if `snapshot`, puts their
/// keys' rows back as they were before, and opens: refused, as `Problem::KeyRow`.
fn put_back_after_an_erasure(snapshot: bool) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = snapshotting(dir.path(), &clock);
    a_life_over(&operator, &clock);
    operator.audit_log().flush().unwrap();
    let kept = crate::common::keyring_rows(dir.path());
    operator.erase_subject(&subject(SUBJECT)).unwrap();
    keep_phone(&operator);
    drop(operator);
    let live = |row: &crate::common::KeyringRow| row.2.is_some();
    assert_eq!(
        crate::common::keyring_rows(dir.path())
            .iter()
            .filter(|row| live(row))
            .count(),
        1,
        "every key of the subject is shredded, the customer's is not"
    );
    if snapshot {
        // Reopened, it keeps a snapshot that covers the erasure.
        drop(snapshotting(dir.path(), &clock));
    }
    crate::common::put_keyring_rows(dir.path(), &kept);
    let reopened = imanum_operator(dir.path(), &clock).open();
    assert!(
        matches!(
            &reopened,
            Err(StoreError::Log(e)) if matches!(**e, LogError::Tampered { problem: Problem::KeyRow, .. })
        ),
        "{reopened:?}"
    );
}

/// A row of the snapshots' table: its last and first positions, head, MAC and body.
type SnapshotRow = (i64, i64, Vec<u8>, Vec<u8>, Vec<u8>);

/// The snapshots, as the store keeps them.
fn snapshot_rows(dir: &Path) -> Vec<SnapshotRow> {
    let db = rusqlite::Connection::open(dir.join("log.db")).unwrap();
    let mut rows = db
        .prepare("SELECT last, first, head, mac, body FROM snapshots ORDER BY last")
        .unwrap();
    rows.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// A snapshot from a copy made before an erasure, put back after it, is the log's own,
/// MAC and all, and holds the erased subject's consent: the open would bring the consent
/// back, in force, though it was withdrawn and its subject erased. The erasure deleted
/// every snapshot, so one ending before it was put back: refused (found by a review).
#[test]
fn a_snapshot_from_before_an_erasure_put_back_after_it_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let erased = subject(SUBJECT);
    let operator = snapshotting(dir.path(), &clock);
    let consent = operator
        .ledger()
        .grant(otp_grant(&erased, Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    drop(operator);
    drop(snapshotting(dir.path(), &clock));
    let copy = snapshot_rows(dir.path());
    assert_eq!(copy.len(), 1);

    let operator = snapshotting(dir.path(), &clock);
    operator.withdraw(&consent).unwrap();
    operator.erase_subject(&erased).unwrap();
    drop(operator);
    assert_eq!(snapshot_rows(dir.path()), []);
    let db = rusqlite::Connection::open(dir.path().join("log.db")).unwrap();
    for (last, first, head, mac, body) in &copy {
        db.execute(
            "INSERT INTO snapshots (last, first, head, mac, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![last, first, head, mac, body],
        )
        .unwrap();
    }
    drop(db);

    let reopened = imanum_operator(dir.path(), &clock).open();
    assert!(
        matches!(
            &reopened,
            Err(StoreError::Log(e))
                if matches!(**e, LogError::Tampered { problem: Problem::SnapshotMismatch, .. })
        ),
        "{:?}",
        reopened.map(|o| o.ledger().history(&erased).len())
    );
}

/// Another connection reading `log.db` keeps SQLite from truncating its write-ahead log,
/// which still holds the deleted snapshot's pages: the erasure says so rather than `Ok`,
/// and wipes them when asked again, once the reader lets go (found by a review).
#[test]
fn an_erasure_a_reader_keeps_from_the_files_says_so_and_finishes_when_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = snapshotting(dir.path(), &clock);
    keep_phone(&operator);
    a_life_over(&operator, &clock);
    drop(operator);
    let operator = snapshotting(dir.path(), &clock);
    let reader = rusqlite::Connection::open(dir.path().join("log.db")).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    let erased = operator.erase_subject(&subject(SUBJECT));
    assert!(
        matches!(erased, Err(amanat::Error::StillInFiles(_))),
        "{erased:?}"
    );
    assert!(operator.ledger().history(&subject(SUBJECT)).is_empty());
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    operator.erase_subject(&subject(SUBJECT)).unwrap();
    assert_eq!(canaries_in(dir.path()), []);
}

/// An erasure leaves every other subject's proof of consent whole against the operator's
/// own trail (found by a review: the check refused the erased entries).
#[test]
fn another_subjects_proof_verifies_against_the_trail_after_an_erasure_art_25_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let consent = operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    a_life_over(&operator, &clock);
    operator.erase_subject(&subject(SUBJECT)).unwrap();
    let proof = operator.ledger().proof_of_consent(&consent).unwrap();
    assert_eq!(proof.verify_against(operator.audit_log()), Ok(1));
}

/// A grant for the subject made while the erasure runs waits for it, and is kept after
/// it: what the operator shows of them is what a reopen shows (found by a review: a grant
/// landing mid-erasure was forgotten live and back after a reopen).
#[test]
fn a_grant_racing_an_erasure_is_the_same_live_and_after_a_reopen() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let rounds = if crate::common::full_size() { 40 } else { 10 };
    for _ in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(monday());
        let canary = subject(SUBJECT);
        let operator = imanum_operator(dir.path(), &clock).open().unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let until = clock.now() + TimeDelta::milliseconds(1);
                    let _ = operator.ledger().grant(
                        otp_grant(&canary, Purpose::SERVICE_PROVISION)
                            .category::<Phone>()
                            .valid_until(until),
                    );
                }
            });
            loop {
                clock.advance(TimeDelta::seconds(1));
                match operator.erase_subject(&canary) {
                    Ok(()) => break,
                    Err(amanat::Error::NotErasable { .. }) => {}
                    Err(other) => panic!("{other}"),
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        let live = operator.ledger().history(&canary);
        drop(operator);
        let reopened = imanum_operator(dir.path(), &clock).open().unwrap();
        assert_eq!(reopened.ledger().history(&canary), live);
    }
}

/// A token on the subject's consent, alive through the erasure, reports its reads when it
/// is dropped: they are reported before the erasure and erased with the rest, and the trail
/// names the subject no more (found by a review).
#[test]
fn a_token_alive_through_the_erasure_names_the_subject_nowhere_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let canary = subject(SUBJECT);
    let consent = operator
        .ledger()
        .grant(otp_grant(&canary, Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&canary, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = PersonalData::collect(&canary, "+998907770011".to_owned(), &token).unwrap();
    drop(phone.read(&token).unwrap());
    drop(phone);
    operator.withdraw(&consent).unwrap();
    operator.erase_subject(&canary).unwrap();
    drop(token);
    operator.audit_log().flush().unwrap();
    let trail = serde_json::to_string(&operator.audit_log().entries().unwrap()).unwrap();
    assert!(
        !trail.contains(SUBJECT),
        "the trail names the erased subject"
    );
    assert!(
        trail.contains("\"was\":\"reads\""),
        "the reads were reported, and erased"
    );
}

/// The same, once a snapshot covers the erasure: the open replays the erasure from the
/// snapshot and checks its keys there too (found by a review: only the trail caught it).
#[test]
fn a_shredded_key_put_back_under_a_snapshot_is_refused_at_open() {
    put_back_after_an_erasure(true);
}
