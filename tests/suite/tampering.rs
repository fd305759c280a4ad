//! The operator's record of consent, retention and holds can't be rewritten by whoever can
//! edit its data directory (Tajik law Art. 25.1: the operator proves consent; a record its
//! own DBA can rewrite unnoticed proves nothing). Each test is the attack, made with SQL on
//! `log.db` as `sqlite3` would make it, without the keys (which live in another
//! directory): the next open refuses with a typed error naming the first bad entry, and
//! changes nothing in either directory.

#![cfg(feature = "sqlite")]

use std::path::Path;

use amanat::audit::AuditError;
use amanat::category::Phone;
use amanat::consent::{ConsentProof, ProofError};
use amanat::log::CheckpointKey;
use amanat::log::{Entry, LogError, Problem, Seq};
use amanat::retention::{HoldGround, HoldScope, HoldUntil, LegalHold};
use amanat::store::StoreError;
use amanat::{ManualClock, Purpose};
use rusqlite::{Connection, params};

use crate::common::{customer, fingerprints, imanum_operator, is_change, kept_phone, keys_for};
use crate::common::{monday, subject};

/// An operator's directory after a day's work: the customer consented, their phone number
/// was kept, a hold was placed on it, and the consent was withdrawn.
fn a_days_work(dir: &Path, clock: &ManualClock) {
    let (operator, record) = kept_phone(dir, clock);
    hold(&operator, record);
    let consent = operator.ledger().consents_of(&customer())[0];
    operator.withdraw(&consent).unwrap();
}

/// Places an anti-money-laundering hold on `record`.
fn hold(operator: &amanat::store::Operator, record: amanat::data::RecordId) {
    operator
        .schedule()
        .place_hold(LegalHold {
            scope: HoldScope::Record(record),
            reason: "aml".into(),
            ground: HoldGround::Statute {
                law: "AML law".into(),
                article: "Art. 12".into(),
            },
            readable_for: vec![Purpose::LEGAL_OBLIGATION],
            until: HoldUntil::Released,
        })
        .unwrap();
}

/// Each row of the log: its position and payload.
fn rows(db: &Connection) -> Vec<(i64, Vec<u8>)> {
    let mut query = db
        .prepare("SELECT seq, payload FROM entries ORDER BY seq")
        .unwrap();
    query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The position of the first change of `kind`.
fn position_of(db: &Connection, kind: &str) -> i64 {
    rows(db)
        .into_iter()
        .find(|(_, payload)| is_change(payload, kind))
        .unwrap_or_else(|| panic!("no {kind} in the log"))
        .0
}

/// Makes the day's work, lets `attack` loose on `log.db`, and opens again: the open is
/// refused as tampering, where `problem` says, and neither directory changes.
fn caught(attack: impl FnOnce(&Connection), problem: impl FnOnce(u64, Problem) -> bool) {
    caught_after(a_days_work, attack, problem);
}

/// [`caught`], with the directory made by `work` instead of the day's work.
fn caught_after(
    work: impl FnOnce(&Path, &ManualClock),
    attack: impl FnOnce(&Connection),
    problem: impl FnOnce(u64, Problem) -> bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    work(dir.path(), &clock);
    let db = Connection::open(dir.path().join("log.db")).unwrap();
    attack(&db);
    drop(db);

    let keys = keys_for(dir.path());
    let (data_before, keys_before) = (fingerprints(dir.path()), fingerprints(keys.path()));
    let opened = imanum_operator(dir.path(), &clock).open();
    match &opened {
        Err(StoreError::Log(log)) => match **log {
            LogError::Tampered {
                position,
                problem: p,
            } => assert!(
                problem(position.get(), p),
                "caught at {position} as {p:?}, not where the attack was"
            ),
            ref other => panic!("not reported as tampering: {other}"),
        },
        other => panic!("the tampered log was not refused: {other:?}"),
    }
    assert_eq!(
        fingerprints(dir.path()),
        data_before,
        "a refused open wrote"
    );
    assert_eq!(
        fingerprints(keys.path()),
        keys_before,
        "a refused open wrote"
    );
}

/// Deletes the first change of `kind`: refused as missing, at its position.
fn deleting_is_caught(kind: &str) {
    let at = std::cell::Cell::new(0);
    caught(
        |db| {
            at.set(position_of(db, kind));
            db.execute("DELETE FROM entries WHERE seq = ?1", [at.get()])
                .unwrap();
        },
        |position, problem| i64::try_from(position) == Ok(at.get()) && problem == Problem::Missing,
    );
}

#[test]
fn deleting_a_withdrawal_does_not_bring_the_consent_back_art_11_1() {
    deleting_is_caught("consent_withdrawn");
}

#[test]
fn a_consent_inserted_into_the_log_is_refused_art_8_1() {
    caught(
        |db| {
            // The grant is sealed under its subject's key: no one without it can name
            // another subject in it. What is left is to insert a copy of it.
            let given = position_of(db, "consent_given");
            let (_, forged) = rows(db).into_iter().find(|(s, _)| *s == given).unwrap();
            // Appended at the end, linked and hashed as the library would; only the MAC
            // can't be made without the log's key, so one is copied from a real entry.
            let (last, prev, mac): (i64, Vec<u8>, Vec<u8>) = db
                .query_row(
                    "SELECT seq, hash, mac FROM entries ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            let seq = Seq::new(u64::try_from(last + 1).unwrap());
            let prev: [u8; 32] = prev.try_into().unwrap();
            let hash = Entry::compute_hash(seq, 0, &prev, &forged);
            db.execute(
                "INSERT INTO entries (seq, at, prev, hash, mac, payload) VALUES (?1, 0, ?2, ?3, ?4, ?5)",
                params![last + 1, prev.to_vec(), hash.to_vec(), mac, forged],
            )
            .unwrap();
        },
        |_, problem| problem == Problem::BadMac,
    );
}

#[test]
fn moving_a_records_collection_seventy_years_ahead_is_refused_art_20() {
    let at = std::cell::Cell::new(0);
    caught(
        |db| {
            at.set(position_of(db, "tracked"));
            let (_, mut moved) = rows(db).into_iter().find(|(s, _)| *s == at.get()).unwrap();
            // Sealed under the customer's key, the entry shows its time in clear: after the
            // tag, the key's handle and the audit position, in milliseconds, big-endian.
            let later = (monday() + chrono::TimeDelta::days(70 * 365)).timestamp_millis();
            moved[25..33].copy_from_slice(&later.to_be_bytes());
            db.execute(
                "UPDATE entries SET payload = ?1 WHERE seq = ?2",
                params![moved, at.get()],
            )
            .unwrap();
        },
        |position, problem| {
            i64::try_from(position) == Ok(at.get()) && problem == Problem::HashMismatch
        },
    );
}

#[test]
fn deleting_a_legal_hold_does_not_lift_it() {
    deleting_is_caught("hold_placed");
}

#[test]
fn reordering_two_entries_is_refused() {
    let at = std::cell::Cell::new(0);
    caught(
        |db| {
            at.set(position_of(db, "consent_withdrawn"));
            db.execute_batch(&format!(
                "UPDATE entries SET seq = -1 WHERE seq = {at};
                 UPDATE entries SET seq = {at} WHERE seq = {prev};
                 UPDATE entries SET seq = {prev} WHERE seq = -1;",
                at = at.get(),
                prev = at.get() - 1
            ))
            .unwrap();
        },
        |position, _| i64::try_from(position) == Ok(at.get() - 1),
    );
}

#[test]
fn cutting_off_the_tail_is_refused_against_the_anchor() {
    caught(
        |db| {
            let withdrawn = position_of(db, "consent_withdrawn");
            db.execute("DELETE FROM entries WHERE seq >= ?1", [withdrawn])
                .unwrap();
            db.execute("DELETE FROM checkpoints", []).unwrap();
        },
        |_, problem| problem == Problem::Truncated,
    );
}

#[test]
fn emptying_the_log_is_refused_against_the_anchor() {
    caught(
        |db| {
            db.execute_batch("DELETE FROM entries; DELETE FROM checkpoints;")
                .unwrap();
        },
        |position, problem| position == 1 && problem == Problem::Truncated,
    );
}

/// Every entry without the withdrawal, numbered, linked and hashed afresh from the first:
/// the whole log rewritten as the library would write it, but for the MACs, which can't be
/// made without the log's key.
fn rewritten_without_the_withdrawal(db: &Connection) {
    let kept: Vec<(i64, Vec<u8>, Vec<u8>)> = {
        let mut query = db
            .prepare("SELECT at, mac, payload FROM entries ORDER BY seq")
            .unwrap();
        query
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            // The change, which is its own audit entry.
            .filter(|(_, _, payload)| !is_change(payload, "consent_withdrawn"))
            .collect()
    };
    assert_eq!(rows(db).len() - kept.len(), 1, "the withdrawal is erased");
    db.execute_batch("DELETE FROM entries; DELETE FROM checkpoints;")
        .unwrap();
    let mut prev = [0_u8; 32];
    for (n, (at, mac, payload)) in (1_i64..).zip(kept) {
        let seq = Seq::new(n.unsigned_abs());
        let hash = Entry::compute_hash(seq, at, &prev, &payload);
        db.execute(
            "INSERT INTO entries (seq, at, prev, hash, mac, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![n, at, prev.to_vec(), hash.to_vec(), mac, payload],
        )
        .unwrap();
        prev = hash;
    }
}

#[test]
fn a_withdrawal_erased_from_the_whole_log_with_a_fresh_chain_is_refused() {
    caught(rewritten_without_the_withdrawal, |_, problem| {
        matches!(
            problem,
            // Shorter than the anchored count, or as long with other hashes, or MACs
            // that don't verify: whichever the open meets first.
            Problem::Truncated | Problem::BadMac | Problem::CheckpointMismatch
        )
    });
}

#[test]
fn an_edit_before_the_last_checkpoint_is_refused_at_open_too() {
    caught(
        |db| {
            // The first entry lies before every checkpoint: the operator's close signed
            // one of the whole day.
            let checkpoints: i64 = db
                .query_row("SELECT count(*) FROM checkpoints", [], |r| r.get(0))
                .unwrap();
            assert!(checkpoints >= 1);
            db.execute(
                "UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), 'imanum', 'other') AS BLOB) WHERE seq = 1",
                [],
            )
            .unwrap();
        },
        |position, problem| position == 1 && problem == Problem::HashMismatch,
    );
}

#[test]
fn the_withdrawal_reopens_as_it_was_when_nothing_was_touched() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    a_days_work(dir.path(), &clock);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(
        operator
            .ledger()
            .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
            .is_err()
    );
    let verified = operator.verify_full().unwrap().unwrap();
    assert!(verified.checkpoint.is_some());
}

#[test]
fn a_directory_written_by_0_1_is_refused_naming_its_format_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    std::fs::write(dir.path().join("journal.db"), b"").unwrap();
    std::fs::write(dir.path().join("audit.jsonl"), b"").unwrap();
    let before = fingerprints(dir.path());
    let refused = imanum_operator(dir.path(), &clock).open();
    assert!(
        matches!(refused, Err(StoreError::OldFormat { version: 1 })),
        "{:?}",
        refused.err()
    );
    assert_eq!(fingerprints(dir.path()), before);
}

/// The audit log is public to append to: an entry claiming a destruction is refused, and
/// a record a sweep would have kept is there at the next open (a found attack: a held
/// record was shredded, when such an entry was taken).
#[test]
fn a_destruction_written_into_the_audit_log_does_not_destroy_a_held_record_at_open() {
    use amanat::audit::AuditEvent;
    use amanat::data::DestructionReason;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, record) = kept_phone(dir.path(), &clock);
    hold(&operator, record);
    let forged = operator.audit_log().append(
        amanat::Clock::now(&clock),
        AuditEvent::Destruction {
            record,
            reason: DestructionReason::RetentionExpired,
            rule: Some("forged".into()),
            overrode: Vec::new(),
        },
    );
    assert!(matches!(forged, Err(AuditError::NotAppendable { .. })));
    drop(operator);

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = operator.fetch::<String, Phone>(record, &token).unwrap();
    assert_eq!(phone.read(&token).unwrap().as_str(), crate::common::PHONE);
}

/// A consent given handed to the public audit log is refused: only the ledger records one,
/// and the replay applies only what the operator wrote as a change.
#[test]
fn a_consent_appended_to_the_audit_log_is_not_given_at_open_art_8_1() {
    use amanat::audit::AuditEvent;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = kept_phone(dir.path(), &clock);
    let real = operator
        .audit_log()
        .entries()
        .unwrap()
        .into_iter()
        .find(|e| matches!(e.event, AuditEvent::ConsentGiven { .. }))
        .unwrap();
    // Anyone can build one: the event's JSON is public.
    let forged: AuditEvent = serde_json::from_str(
        &serde_json::to_string(&real.event)
            .unwrap()
            .replace(customer().as_str(), "cust-never-asked"),
    )
    .unwrap();
    assert!(matches!(
        operator
            .audit_log()
            .append(amanat::Clock::now(&clock), forged),
        Err(AuditError::NotAppendable { .. })
    ));
    drop(operator);

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let stranger = subject("cust-never-asked");
    assert!(operator.ledger().consents_of(&stranger).is_empty());
    assert!(
        operator
            .ledger()
            .authorize::<Phone>(&stranger, &Purpose::SERVICE_PROVISION)
            .is_err()
    );
}

/// What an auditor holds: the log's file, the public checkpoint key and the anchor.
struct Auditor {
    store: amanat::store::SqliteLogStore,
    key: amanat::log::CheckpointKey,
    anchor: amanat::log::FileAnchor,
}

impl Auditor {
    fn of(dir: &Path, key: amanat::log::CheckpointKey) -> Self {
        Self {
            store: amanat::store::SqliteLogStore::open(dir.join("log.db")).unwrap(),
            key,
            anchor: amanat::log::FileAnchor::new(keys_for(dir).path().join("anchors"), dir)
                .unwrap(),
        }
    }

    fn check(&self, proof: &amanat::consent::ConsentProof) -> Result<usize, ProofError> {
        proof.verify_against_anchor(&self.store, &self.key, &self.anchor)
    }
}

/// A day's work, and the proof of the customer's consent as the operator gives it after
/// the withdrawal and before it.
fn proofs(dir: &Path, clock: &ManualClock) -> (ConsentProof, ConsentProof, CheckpointKey) {
    let (operator, _) = kept_phone(dir, clock);
    let consent = operator.ledger().consents_of(&customer())[0];
    let before = operator.ledger().proof_of_consent(&consent).unwrap();
    operator.withdraw(&consent).unwrap();
    let after = operator.ledger().proof_of_consent(&consent).unwrap();
    let key = operator.checkpoint_key().unwrap();
    (after, before, key)
}

#[test]
fn a_proof_of_consent_verifies_against_the_anchor_with_the_public_key_alone_art_25_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (proof, _, key) = proofs(dir.path(), &clock);
    assert_eq!(Auditor::of(dir.path(), key).check(&proof), Ok(2));
}

#[test]
fn a_proof_that_leaves_out_the_withdrawal_does_not_verify_against_the_log_art_11_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (after, before, key) = proofs(dir.path(), &clock);
    // The proof as it stood before the withdrawal verifies on its own, and is not the
    // consent's whole story.
    assert_eq!(before.verify(), Ok(1));
    let withdrawal = after.entries[1].seq;
    assert_eq!(
        Auditor::of(dir.path(), key).check(&before),
        Err(ProofError::Omitted { seq: withdrawal })
    );
}

#[test]
fn a_proof_against_a_log_rewritten_without_the_withdrawal_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (_, before, key) = proofs(dir.path(), &clock);
    rewritten_without_the_withdrawal(&Connection::open(dir.path().join("log.db")).unwrap());
    assert!(matches!(
        Auditor::of(dir.path(), key).check(&before),
        Err(ProofError::Anchored(LogError::Tampered { .. }))
    ));
}

#[test]
fn a_proof_against_an_older_copy_of_the_log_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = kept_phone(dir.path(), &clock);
    let consent = operator.ledger().consents_of(&customer())[0];
    let before = operator.ledger().proof_of_consent(&consent).unwrap();
    let key = operator.checkpoint_key().unwrap();
    drop(operator);
    let copy = tempfile::tempdir().unwrap();
    for name in ["log.db", "log.db-wal", "log.db-shm"] {
        let _ = std::fs::copy(dir.path().join(name), copy.path().join(name));
    }
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator.withdraw(&consent).unwrap();
    drop(operator);
    // The copy taken before the withdrawal, put back: it ends before the anchored count.
    for name in ["log.db", "log.db-wal", "log.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(name));
        let _ = std::fs::copy(copy.path().join(name), dir.path().join(name));
    }
    assert!(matches!(
        Auditor::of(dir.path(), key).check(&before),
        Err(ProofError::Anchored(LogError::Tampered {
            problem: Problem::Truncated,
            ..
        }))
    ));
}

/// A day's work, opened once more so that the open keeps a snapshot of it (every change
/// the log held), and closed.
fn snapshotted(dir: &Path, clock: &ManualClock) {
    a_days_work(dir, clock);
    drop(
        imanum_operator(dir, clock)
            .snapshot_after(1)
            .open()
            .unwrap(),
    );
    let kept: i64 = Connection::open(dir.join("log.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1, "the open kept a snapshot");
}

/// Opens `dir` and says how it was refused.
fn refused(dir: &Path, clock: &ManualClock) -> (u64, Problem) {
    match imanum_operator(dir, clock).open() {
        Err(StoreError::Log(log)) => match *log {
            LogError::Tampered { position, problem } => (position.get(), problem),
            other => panic!("not reported as tampering: {other}"),
        },
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn a_snapshot_edited_or_moved_in_the_store_is_refused_at_open_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    snapshotted(dir.path(), &clock);
    let db = Connection::open(dir.path().join("log.db")).unwrap();
    let (last, body): (i64, Vec<u8>) = db
        .query_row("SELECT last, body FROM snapshots", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    // A withdrawal taken out of it: its bytes cut short, the MAC left as it was.
    db.execute(
        "UPDATE snapshots SET body = ?1",
        params![body[..body.len() / 2].to_vec()],
    )
    .unwrap();
    drop(db);
    let before = fingerprints(dir.path());
    assert_eq!(
        refused(dir.path(), &clock),
        (last.unsigned_abs(), Problem::SnapshotMismatch)
    );
    assert_eq!(fingerprints(dir.path()), before, "a refused open wrote");
    // Whole again, but said to end one entry earlier.
    let db = Connection::open(dir.path().join("log.db")).unwrap();
    db.execute(
        "UPDATE snapshots SET body = ?1, last = last - 1",
        params![body],
    )
    .unwrap();
    assert_eq!(
        refused(dir.path(), &clock),
        (last.unsigned_abs() - 1, Problem::SnapshotMismatch)
    );
}

/// What a snapshot covers the open does not read again: a withdrawal deleted from the log
/// before it does not bring the consent back at open, and `verify_full` finds the gap.
#[test]
fn an_edit_before_the_snapshot_changes_nothing_at_open_and_verify_full_finds_it_art_11_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    snapshotted(dir.path(), &clock);
    let db = Connection::open(dir.path().join("log.db")).unwrap();
    let withdrawn = position_of(&db, "consent_withdrawn");
    db.execute("DELETE FROM entries WHERE seq = ?1", params![withdrawn])
        .unwrap();
    drop(db);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(
        operator
            .ledger()
            .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
            .is_err(),
        "the withdrawal still stands"
    );
    match operator.verify_full() {
        Err(StoreError::Log(log)) => assert!(
            matches!(*log, LogError::Tampered { position, problem: Problem::Missing }
                if position.get() == withdrawn.unsigned_abs()),
            "{log}"
        ),
        other => panic!("verify_full missed the deleted entry: {other:?}"),
    }
}

/// A consent given that the ledger never recorded can't be appended to the operator's
/// audit log, and a proof resting on an entry of another chain does not verify against
/// the operator's log (found by a review: one appended there did).
#[test]
fn a_proof_resting_on_an_appended_audit_entry_does_not_verify_against_the_log_art_25_1() {
    use amanat::audit::AuditEvent;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = kept_phone(dir.path(), &clock);
    let consent = operator.ledger().consents_of(&customer())[0];
    let real = operator.ledger().proof_of_consent(&consent).unwrap();
    let (victim, fresh): (_, amanat::ConsentId) = (
        subject("victim"),
        "11111111-1111-4111-8111-111111111111".parse().unwrap(),
    );
    let mut event = real.events[0].clone();
    event.consent = Some(fresh);
    let AuditEvent::ConsentGiven { given, .. } = &real.entries[0].event else {
        panic!("the proof's first entry is not the grant");
    };
    let mut given = (**given).clone();
    given.consent = fresh;
    given.subject = victim.clone();
    let grant = AuditEvent::ConsentGiven {
        given: Box::new(given),
        digest: event.digest(),
    };
    assert!(matches!(
        operator.audit_log().append(monday(), grant.clone()),
        Err(AuditError::NotAppendable { .. })
    ));
    // Planted in a chain of its own instead, at the place the operator's log gives its
    // entry after the last.
    let elsewhere = amanat::audit::AuditLog::in_memory();
    for _ in 0..operator.audit_log().entries().unwrap().len() {
        elsewhere.append(monday(), grant.clone()).unwrap();
    }
    elsewhere.append(monday(), grant).unwrap();
    let planted = elsewhere.entries().unwrap().last().unwrap().clone();
    let mut forged = real.clone();
    forged.consent = fresh;
    forged.subject = victim.clone();
    forged.events = vec![event];
    forged.entries = vec![planted.clone()];
    // It holds together on its own; the ledger never had it.
    assert_eq!(forged.verify(), Ok(1));
    assert!(operator.ledger().consents_of(&victim).is_empty());
    let key = operator.checkpoint_key().unwrap();
    drop(operator);
    assert_eq!(
        Auditor::of(dir.path(), key).check(&forged),
        Err(ProofError::NotInLog { seq: planted.seq })
    );
}

/// Whoever holds the log's key can make a snapshot that verifies and says less than the
/// entries it covers — here, one without the withdrawal. The open trusts it; `verify_full`
/// reads the entries again and finds it does not match them (found by a review).
#[test]
fn a_snapshot_made_with_the_key_that_leaves_out_a_withdrawal_is_found_by_verify_full() {
    use amanat::log::Log;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let (operator, _) = kept_phone(dir.path(), &clock);
    drop(operator);
    let snapshotting = || {
        imanum_operator(dir.path(), &clock)
            .snapshot_after(1)
            .open()
            .unwrap()
    };
    // A first snapshot, before the withdrawal; a second, after it.
    let operator = snapshotting();
    let consent = operator.ledger().consents_of(&customer())[0];
    operator.withdraw(&consent).unwrap();
    drop(operator);
    drop(snapshotting());
    let store = amanat::store::SqliteLogStore::open(dir.path().join("log.db")).unwrap();
    let log = Log::builder(store).open(&keys_for(dir.path())).unwrap();
    let kept = log.snapshots().unwrap();
    assert_eq!(kept.len(), 2);
    // One snapshot of everything, holding only what the first held.
    Connection::open(dir.path().join("log.db"))
        .unwrap()
        .execute_batch("DELETE FROM snapshots")
        .unwrap();
    log.put_snapshot(Seq::FIRST, kept[1].to, kept[0].body.clone())
        .unwrap();
    drop(log);

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(
        operator
            .ledger()
            .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
            .is_ok(),
        "the open trusts the snapshot's MAC"
    );
    match operator.verify_full() {
        Err(StoreError::Log(log)) => assert!(
            matches!(*log, LogError::Tampered { position, problem: Problem::SnapshotMismatch }
                if position == kept[1].to),
            "{log}"
        ),
        other => panic!("verify_full missed the forged snapshot: {other:?}"),
    }
}

/// A rotation of the key-encryption key that a crash interrupted is settled only by an open
/// that has read and checked the log: one refused for tampering destroys no version of the
/// key, which a backup of the key store from before the rotation still needs.
#[test]
fn an_open_refused_for_tampering_leaves_an_interrupted_key_rotation_as_it_was() {
    use amanat::store::keys::RotationStep;
    let at = std::cell::Cell::new(0);
    caught_after(
        |dir, clock| {
            a_days_work(dir, clock);
            let operator = imanum_operator(dir, clock).open().unwrap();
            // Stopped there, as a kill would leave it: both versions of the key are there.
            assert!(operator.rotate_keys_until(RotationStep::Rewrapped).unwrap());
        },
        |db| {
            at.set(position_of(db, "consent_withdrawn"));
            db.execute("DELETE FROM entries WHERE seq = ?1", [at.get()])
                .unwrap();
        },
        |position, problem| i64::try_from(position) == Ok(at.get()) && problem == Problem::Missing,
    );
}

/// The position of the first entry sealed under a subject's key.
fn first_sealed(db: &Connection) -> i64 {
    rows(db)
        .into_iter()
        .find(|(_, payload)| matches!(payload.first(), Some(b'C' | b'A')))
        .expect("an entry about the customer")
        .0
}

/// Each attack on the keyring, refused at the first entry sealed under the key.
fn keyring_attack_is_caught(sql: &str) {
    let at = std::cell::Cell::new(0);
    caught(
        |db| {
            at.set(first_sealed(db));
            db.execute_batch(sql).unwrap();
        },
        |position, problem| i64::try_from(position) == Ok(at.get()) && problem == Problem::KeyRow,
    );
}

/// Without its key, a subject's entries can't be read: a deleted key is no erasure — only
/// the log's key holder can shred one, on the record (issue 16, item 5).
#[test]
fn deleting_a_subjects_key_is_refused_at_open() {
    keyring_attack_is_caught("DELETE FROM keyring");
}

#[test]
fn a_subjects_key_marked_shredded_without_the_log_key_is_refused() {
    keyring_attack_is_caught("UPDATE keyring SET tag = NULL, wrapped = NULL");
}

#[test]
fn a_subjects_key_replaced_is_refused() {
    keyring_attack_is_caught("UPDATE keyring SET wrapped = randomblob(32)");
}

/// With the key store and the vault gone from beside a log that kept records, the open
/// refuses before it creates them afresh — empty, they would make every record unreadable,
/// and an open refused later must have written nothing (found by a review: they were
/// created before the log was read).
#[test]
fn a_log_without_its_key_store_or_vault_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    a_days_work(dir.path(), &clock);
    for file in ["keys.db", "vault.db"] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("{file}{suffix}")));
        }
    }
    let before = fingerprints(dir.path());
    let opened = imanum_operator(dir.path(), &clock).open();
    assert!(matches!(opened, Err(StoreError::Corrupt(_))), "{opened:?}");
    assert_eq!(fingerprints(dir.path()), before, "a refused open wrote");
    assert!(!dir.path().join("keys.db").exists() && !dir.path().join("vault.db").exists());
}
