//! A crash loses nothing that was acknowledged. A writer runs in a child process —
//! granting, keeping sealed records, withdrawing, closing accounts and sweeping — and
//! prints each change once the operator has acknowledged it; the test kills it with
//! SIGKILL at a random moment, reopens the directory, and checks every acknowledged change
//! is there, nothing is half-applied, the audit chain and the authenticated log (its
//! checkpoints too) verify, and destructions a kill
//! interrupted resume and complete exactly once.
//!
//! Kills land on one directory ten at a time, so that a store is reopened after a crash
//! that followed other crashes, and then the test starts over on a new directory: each
//! kill costs the same as the first, instead of reopening an ever larger store. It makes
//! `AMANAT_CRASH_KILLS` kills: 100 under CI (`CI` set), 10 otherwise.

#![cfg(all(feature = "sqlite", unix))]

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amanat::audit::AuditEvent;
use amanat::category::Phone;
use amanat::consent::ConsentEventKind;
use amanat::data::RecordId;
use amanat::retention::{HoldGround, HoldScope, HoldUntil, LegalHold, Trigger};
use amanat::store::Operator;
use amanat::store::kek::KeyDir;
use amanat::store::keys::{KeyError, KeyStore, SqliteKeyStore};
use amanat::store::vault::{SqliteVault, Vault};
use amanat::{ConsentId, PersonalData, Purpose, SubjectId};

#[allow(
    dead_code,
    reason = "the crash test needs a few of the shared fixtures"
)]
mod common;

use common::{full_size, imanum, otp_grant};

const DIR: &str = "AMANAT_CRASH_DIR";
const ROUND: &str = "AMANAT_CRASH_ROUND";
/// The key directory, apart from the data directory, as the child must find it.
const KEYS: &str = "AMANAT_CRASH_KEYS";
/// Kills on one directory before the test starts over on a new one.
const KILLS_PER_STORE: u32 = 10;

/// The writer the parent kills; it runs only as the parent's child (`--ignored`).
#[test]
#[ignore = "run by every_acknowledged_change_survives_sigkill in a child process"]
fn crash_writer() {
    let dir = std::env::var(DIR).expect("run by the crash test");
    let round = std::env::var(ROUND).expect("run by the crash test");
    let keys = KeyDir::new(std::env::var(KEYS).expect("run by the crash test")).unwrap();
    let operator = Operator::open(&dir, imanum(), keys).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0_u32.. {
        let subject = SubjectId::new(format!("r{round}-s{i}")).unwrap();
        let consent = operator
            .ledger()
            .grant(otp_grant(&subject, Purpose::SERVICE_PROVISION).category::<Phone>())
            .unwrap();
        writeln!(out, "ack granted {subject} {consent}").unwrap();
        let token = operator
            .ledger()
            .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
            .unwrap();
        let mut phone = PersonalData::collect(&subject, format!("+99890{i:07}"), &token).unwrap();
        operator.keep(&mut phone, &token).unwrap();
        writeln!(out, "ack kept {subject} {}", phone.id()).unwrap();
        let request = operator.requests().receive(
            subject.clone(),
            amanat::rights::RequestKind::Access,
            chrono::Utc::now(),
        );
        // A request is registered whatever happens; it is acknowledged once kept.
        operator.check_kept().unwrap();
        writeln!(out, "ack request {subject} {request}").unwrap();
        if i % 3 == 0 {
            // The withdrawal and the schedule's hearing of it: one change.
            operator.withdraw(&consent).unwrap();
            writeln!(out, "ack withdrawn {subject} {consent}").unwrap();
        }
        if i % 4 == 0 {
            operator
                .schedule()
                .place_hold(LegalHold {
                    scope: HoldScope::Subject(subject.clone()),
                    reason: "customer due diligence".into(),
                    ground: HoldGround::Statute {
                        law: "AML law".into(),
                        article: "FATF Recommendation 11".into(),
                    },
                    readable_for: vec![Purpose::LEGAL_OBLIGATION],
                    until: HoldUntil::Released,
                })
                .unwrap();
            writeln!(out, "ack held {subject}").unwrap();
        }
        if i % 2 == 0 {
            // Announced first: a kill between the trigger and its acknowledgement may
            // leave the account closed or not, and the check accepts either.
            writeln!(out, "ack closing {subject}").unwrap();
            operator
                .trigger(&subject, Trigger::AccountClosed, chrono::Utc::now())
                .unwrap();
            writeln!(out, "ack closed {subject}").unwrap();
        }
        for receipt in operator.sweep(chrono::Utc::now()).unwrap().destroyed {
            writeln!(out, "ack destroyed {}", receipt.record).unwrap();
        }
    }
}

/// What the children were told was done, over every round.
#[derive(Default)]
struct Acknowledged {
    granted: HashMap<SubjectId, ConsentId>,
    kept: HashMap<RecordId, SubjectId>,
    withdrawn: HashSet<ConsentId>,
    closed: HashSet<SubjectId>,
    /// Accounts whose closing was started, acknowledged or not.
    closing: HashSet<SubjectId>,
    held: HashSet<SubjectId>,
    destroyed: HashSet<RecordId>,
    requests: HashMap<u64, SubjectId>,
}

impl Acknowledged {
    /// Takes in the complete lines of a child's output; a line cut by the kill is not an
    /// acknowledgement.
    fn read(&mut self, output: &str) {
        let complete = output.rfind('\n').map_or("", |end| &output[..end]);
        // The test harness prints to the same stream, its "test crash_writer ... " on the
        // line the writer's first acknowledgement goes on; the writer's start with "ack".
        for line in complete
            .lines()
            .filter_map(|l| l.split_once("ack ").map(|(_, a)| a))
        {
            let words: Vec<&str> = line.split(' ').collect();
            let subject = || SubjectId::new(words[1]).unwrap();
            match words[0] {
                "granted" => {
                    self.granted.insert(subject(), words[2].parse().unwrap());
                }
                "kept" => {
                    self.kept.insert(words[2].parse().unwrap(), subject());
                }
                "withdrawn" => {
                    self.withdrawn.insert(words[2].parse().unwrap());
                }
                "closed" => {
                    self.closed.insert(subject());
                }
                "closing" => {
                    self.closing.insert(subject());
                }
                "held" => {
                    self.held.insert(subject());
                }
                "request" => {
                    self.requests.insert(words[2].parse().unwrap(), subject());
                }
                "destroyed" => {
                    self.destroyed.insert(words[1].parse().unwrap());
                }
                other => panic!("the writer printed {other:?}"),
            }
        }
    }
}

/// Runs the ignored test `writer` of this binary as a child on `dir`, kills it after
/// `after`, and returns what it printed.
fn killed(writer: &str, dir: &Path, key_dir: &Path, round: &str, after: Duration) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            writer,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR, dir)
        .env(KEYS, key_dir)
        .env(ROUND, round)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    child.kill().unwrap();
    let mut output = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    child.wait().unwrap();
    output
}

/// A small xorshift: the kill moments need no more, and the seed is printed to replay.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn check(dir: &Path, key_dir: &Path, seen: &Acknowledged, round: u32) {
    let operator = Operator::open(dir, imanum(), KeyDir::new(key_dir).unwrap()).unwrap();
    let ledger = operator.ledger();
    for (subject, consent) in &seen.granted {
        // One grant per subject: a consent given twice would be a change applied twice.
        assert_eq!(
            ledger.consents_of(subject),
            vec![*consent],
            "round {round}: consent of {subject}"
        );
    }
    for consent in &seen.withdrawn {
        let subject = seen
            .granted
            .iter()
            .find_map(|(s, c)| (c == consent).then_some(s))
            .unwrap();
        assert!(
            ledger
                .history(subject)
                .iter()
                .any(|e| matches!(e.kind, ConsentEventKind::Withdrawn { .. })),
            "round {round}: withdrawal of {consent} lost"
        );
        assert!(
            ledger
                .authorize::<Phone>(subject, &Purpose::SERVICE_PROVISION)
                .is_err(),
            "round {round}: {consent} still authorizes after its withdrawal"
        );
    }
    for (request, subject) in &seen.requests {
        let found = operator.requests().get(*request);
        assert_eq!(
            found.map(|r| r.subject),
            Some(subject.clone()),
            "round {round}: request {request} lost or renumbered"
        );
    }
    operator
        .audit_log()
        .verify()
        .unwrap_or_else(|e| panic!("round {round}: audit chain: {e}"));
    // A change and its audit entry are one entry of the log: kept together or not at all.
    // The trail records no consent the ledger lacks, and each acknowledged grant once.
    let mut given: HashMap<ConsentId, usize> = HashMap::new();
    for entry in operator.audit_log().entries().unwrap() {
        if let Some((subject, consent, _)) = entry.event.consent_event() {
            assert!(
                ledger.consents_of(subject).contains(&consent),
                "round {round}: the trail records {consent}, which the ledger does not hold"
            );
            if matches!(entry.event, AuditEvent::ConsentGiven { .. }) {
                *given.entry(consent).or_default() += 1;
            }
        }
    }
    for consent in seen.granted.values() {
        assert_eq!(
            given.get(consent),
            Some(&1),
            "round {round}: the grant of {consent} is not recorded exactly once"
        );
    }
    // The log the kills interrupted is sound from its first entry, and its checkpoints
    // (those the store holds, and the anchor's) sign prefixes it still holds.
    let verified = operator
        .verify_full()
        .unwrap_or_else(|e| panic!("round {round}: log: {e}"))
        .expect("an operator in a directory keeps the authenticated log");
    if let Some(checkpoint) = verified.checkpoint {
        assert!(
            Some(checkpoint.count) <= verified.head.map(|h| h.seq),
            "round {round}: a checkpoint past the log's end"
        );
    }

    // Destructions a kill interrupted resume: every record of a closed account is due,
    // and the sweep destroys each one that is still tracked.
    operator.sweep(chrono::Utc::now()).unwrap();
    for subject in &seen.closed {
        let left = operator.schedule().records_of(subject);
        if seen.held.contains(subject) {
            // A legal hold keeps them, closed account or not.
            assert!(
                left.iter().all(|r| r.held),
                "round {round}: {subject}'s hold was lost"
            );
        } else {
            assert!(
                left.is_empty(),
                "round {round}: {subject}'s records survived the closing of the account"
            );
        }
    }
    // Every record acknowledged as kept is tracked, or destroyed; never lost halfway.
    let mut destructions: HashMap<RecordId, usize> = HashMap::new();
    for entry in operator.audit_log().entries().unwrap() {
        if let AuditEvent::Destruction { record, .. } = entry.event {
            *destructions.entry(record).or_default() += 1;
        }
    }
    for (record, times) in &destructions {
        assert_eq!(
            *times, 1,
            "round {round}: record {record} destroyed {times} times"
        );
    }
    for (record, subject) in &seen.kept {
        let tracked = operator
            .schedule()
            .records_of(subject)
            .iter()
            .any(|r| r.record == *record);
        assert!(
            tracked != destructions.contains_key(record),
            "round {round}: record {record} is neither tracked nor destroyed, or both"
        );
    }
    for record in &seen.destroyed {
        assert!(
            destructions.contains_key(record),
            "round {round}: destruction of {record} lost"
        );
    }
    // What is kept reads back as it was written, where a consent still opens it.
    for (record, subject) in &seen.kept {
        let Ok(token) = operator
            .ledger()
            .authorize::<Phone>(subject, &Purpose::SERVICE_PROVISION)
        else {
            continue;
        };
        if destructions.contains_key(record) {
            continue;
        }
        let phone = operator
            .fetch::<String, Phone>(*record, &token)
            .unwrap_or_else(|e| panic!("round {round}: record {record}: {e}"));
        let read = phone.read(&token);
        if seen.closed.contains(subject) {
            // Past its deadline: kept only for the hold's basis, not read on consent.
            assert!(
                matches!(read, Err(amanat::Error::RetentionExpired { .. })),
                "round {round}: record {record} of a closed account read on consent"
            );
            continue;
        }
        if seen.closing.contains(subject)
            && matches!(read, Err(amanat::Error::RetentionExpired { .. }))
        {
            // Closed by a trigger the kill cut off before it was acknowledged.
            continue;
        }
        let i: u32 = subject
            .as_str()
            .rsplit_once("-s")
            .unwrap()
            .1
            .parse()
            .unwrap();
        assert_eq!(
            read.unwrap().as_str(),
            format!("+99890{i:07}"),
            "round {round}: record {record} reads back otherwise"
        );
    }
    let tracked: HashSet<RecordId> = seen
        .granted
        .keys()
        .flat_map(|s| operator.schedule().records_of(s))
        .map(|r| r.record)
        .collect();
    drop(operator);

    // No sealed copy is left that the schedule does not track: none would ever fall due.
    let vault = SqliteVault::open(dir.join("vault.db")).unwrap();
    for record in vault.records().unwrap() {
        assert!(
            tracked.contains(&record),
            "round {round}: the vault keeps {record}, which nothing tracks"
        );
    }
    drop(vault);

    // Destroyed means its key is gone from the key store; tracked means it still opens.
    let keys =
        SqliteKeyStore::open_with(dir.join("keys.db"), &KeyDir::new(key_dir).unwrap()).unwrap();
    for record in seen.kept.keys() {
        let key = keys.get(*record);
        if destructions.contains_key(record) {
            assert!(
                matches!(key, Err(KeyError::Shredded { .. })),
                "round {round}: the key of destroyed record {record} is still there"
            );
        } else {
            assert!(
                key.is_ok(),
                "round {round}: kept record {record} lost its key"
            );
        }
    }
}

#[test]
fn every_acknowledged_change_survives_sigkill() {
    let kills: u32 = std::env::var("AMANAT_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(if full_size() { 100 } else { 10 });
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let start = (now.as_secs() ^ (u64::from(now.subsec_nanos()) << 20)) | 1;
    println!("kill moments seeded with {start}");
    let mut moments = Moments(start);
    let mut totals = (0, 0, 0);
    let mut changes_seen = 0;
    let mut round = 0;
    while round < kills {
        let dir = tempfile::tempdir().unwrap();
        // A directory the key provider makes itself, the owner's alone.
        let key_root = tempfile::tempdir().unwrap();
        let key_dir = key_root.path().join("keys");
        let mut seen = Acknowledged::default();
        for _ in 0..KILLS_PER_STORE.min(kills - round) {
            // Kill anywhere from before the first change to well into the writing.
            let output = killed(
                "crash_writer",
                dir.path(),
                &key_dir,
                &round.to_string(),
                Duration::from_millis(20 + moments.next_ms(250)),
            );
            changes_seen += output.matches("ack ").count();
            seen.read(&output);
            check(dir.path(), &key_dir, &seen, round);
            round += 1;
        }
        totals.0 += seen.granted.len();
        totals.1 += seen.kept.len();
        totals.2 += seen.destroyed.len();
    }
    // Kills that all fell before the first change would show nothing.
    assert!(changes_seen > 0, "no child acknowledged any change");
    println!(
        "{kills} kills; {} consents, {} records kept, {} destroyed acknowledged",
        totals.0, totals.1, totals.2
    );
}

/// Many threads grant, authorize (audit-only entries) and withdraw while the flusher runs
/// every 2 ms; the parent kills it (found by a review of the one-entry-per-change log).
#[test]
#[ignore = "run by racing_threads_keep_every_acknowledged_change_through_sigkill"]
fn racing_writer() {
    let dir = std::env::var(DIR).expect("run by the crash test");
    let round = std::env::var(ROUND).expect("run by the crash test");
    let keys = KeyDir::new(std::env::var(KEYS).expect("run by the crash test")).unwrap();
    let operator = Operator::builder(&dir, imanum(), keys)
        .audit_sync_within(Duration::from_millis(2))
        .open()
        .unwrap();
    let out = std::sync::Mutex::new(std::io::stdout());
    std::thread::scope(|s| {
        for t in 0..8 {
            let (operator, out, round) = (&operator, &out, &round);
            s.spawn(move || {
                for i in 0_u32.. {
                    let subject = SubjectId::new(format!("r{round}-t{t}-s{i}")).unwrap();
                    let consent = operator
                        .ledger()
                        .grant(otp_grant(&subject, Purpose::SERVICE_PROVISION).category::<Phone>())
                        .unwrap();
                    writeln!(out.lock().unwrap(), "ack granted {subject} {consent}").unwrap();
                    let token = operator
                        .ledger()
                        .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
                        .unwrap();
                    drop(token);
                    if i % 3 == 0 {
                        operator.withdraw(&consent).unwrap();
                        writeln!(out.lock().unwrap(), "ack withdrawn {subject} {consent}").unwrap();
                    }
                }
            });
        }
    });
}

/// Killed at random while eight threads race, the reopened store holds every acknowledged
/// grant and withdrawal, its audit chain and log verify, and the trail names no consent the
/// ledger lacks.
#[test]
fn racing_threads_keep_every_acknowledged_change_through_sigkill() {
    let mut moments = Moments(0x9e37_79b9_7f4a_7c15);
    let mut acked = 0;
    let mut checked = 0_u32;
    let rounds = if full_size() { 30 } else { 4 };
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let key_root = tempfile::tempdir().unwrap();
        let key_dir = key_root.path().join("keys");
        let mut seen = Acknowledged::default();
        for kill in 0..3 {
            let output = killed(
                "racing_writer",
                dir.path(),
                &key_dir,
                &format!("{round}k{kill}"),
                Duration::from_millis(30 + moments.next_ms(200)),
            );
            seen.read(&output);
            check(dir.path(), &key_dir, &seen, checked);
            checked += 1;
            acked += seen.granted.len();
        }
    }
    assert!(acked > 0, "no grant was acknowledged before a kill");
}
