//! A customer asks "what do you hold on me?" (ZRU-547 Art. 22): the request is
//! registered with its due date, answered with an access report printed as JSON, and the
//! audit log behind it is verified — then shown failing once one entry is edited.
//!
//! Then the same right on an operator's store: the customer asks for a copy of their data
//! (ZRU-547 Art. 22, 30); their identity is verified and recorded, the export is made once, written
//! as a JSON document for them, and the request answered before its due date.
//!
//! Then the auditor's check of an operator's store: with the public key of its
//! checkpoints and the anchor they were published to — and no secret key — an auditor
//! verifies the log, and finds it cut short once an older copy of it, made before a
//! withdrawal, is put back in its place.
//!
//! Run with `cargo run --example subject_access`.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use amanat::audit::{self, AuditLog};
use amanat::category::Passport;
use amanat::disclosure::Disclosures;
use amanat::key::KeyDir;
use amanat::log::{FileAnchor, verify_against_anchor};
use amanat::rights::{ReportSources, RequestKind, SubjectRequests, access_report};
use amanat::store::{Operator, SqliteLogStore};
use amanat::{
    Clock, ConsentForm, ConsentLedger, ElectronicMethod, Evidence, Grant, ManualClock,
    PersonalData, Policy, Purpose, RetentionSchedule, SubjectId,
};
use chrono::{TimeDelta, TimeZone, Utc};

fn main() -> Result<(), Box<dyn Error>> {
    let policy = Arc::new(Policy::from_toml_str(include_str!("policies/imanum.toml"))?);
    // Thursday 12 June 2025, 14:00 in Tashkent.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap());
    let dir = std::env::temp_dir().join(format!("amanat-subject-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    let log = Arc::new(AuditLog::open(&path, 64)?);
    let ledger = ConsentLedger::builder(policy.version().clone())
        .policy((*policy).clone())
        .clock(clock.clone())
        .audit(Arc::clone(&log))
        .build();
    let schedule = RetentionSchedule::builder(Arc::clone(&policy))
        .audit(Arc::clone(&log))
        .clock(clock.clone())
        .build();
    let disclosures = Disclosures::new(Arc::clone(&policy)).audit(Arc::clone(&log));
    let requests = SubjectRequests::new(Arc::clone(&policy)).audit(Arc::clone(&log));

    // The customer's history so far: consent by one-time password, the passport collected
    // for credit scoring and sent to the credit bureau.
    let subject = SubjectId::new("cust-0001")?;
    ledger.grant(
        Grant::new(
            subject.clone(),
            // Signed: credit scoring decides automatically (ZRU-547 Art. 24).
            ConsentForm::Electronic {
                method: ElectronicMethod::DigitalSignature,
            },
        )
        .evidence(Evidence::External {
            system: "e-signature".into(),
            reference: "sig-5521".into(),
        })
        .purpose(Purpose::CREDIT_SCORING)
        .category::<Passport>(),
    )?;
    let token = ledger.authorize::<Passport>(&subject, &Purpose::CREDIT_SCORING)?;
    let mut passport = PersonalData::collect(&subject, String::from("AA1234567"), &token)?;
    schedule.track(&mut passport)?;
    let permit = disclosures.permit(token, "katm")?;
    disclosures.disclose(&passport, &permit, |_number| { /* the bureau's API call */
    })?;
    drop(permit);

    // The request arrives on a Thursday: three working days make it due on Tuesday.
    clock.advance(TimeDelta::hours(2));
    let request = requests.receive(subject.clone(), RequestKind::Access, clock.now());
    let due = requests.get(request).map(|r| r.due);
    println!("Access request {request} from {subject} received; due {due:?}.");

    let report = access_report(
        &subject,
        ReportSources::new(&policy, &ledger)
            .schedule(&schedule)
            .audit(&log),
        clock.now(),
    )?;
    println!(
        "\nThe answer, as JSON:\n{}",
        serde_json::to_string_pretty(&report)?
    );
    requests.complete(request, clock.now())?;
    println!(
        "Overdue requests now: {}",
        requests.overdue_requests(clock.now()).len()
    );

    // The regulator's question: is the trail behind it intact?
    log.flush()?;
    println!("\nAudit log: {} entries, chain verified.", log.verify()?);

    // Someone edits one line of the file: the disclosure now names another recipient.
    let text = std::fs::read_to_string(&path)?;
    let edited = text.replacen("\"recipient\":\"katm\"", "\"recipient\":\"credolab\"", 1);
    assert_ne!(
        text, edited,
        "the example expects a disclosure to KATM in the log"
    );
    std::fs::write(&path, edited)?;
    match audit::verify(&audit::read_file(&path)?) {
        Ok(n) => return Err(format!("an edited log verified ({n} entries)").into()),
        Err(broken) => println!("After editing one line: {broken}"),
    }
    std::fs::remove_dir_all(&dir)?;
    verified_export()?;
    auditors_check()
}

/// An access request on an operator's store answered with a copy of the customer's own
/// data, once their identity is verified.
fn verified_export() -> Result<(), Box<dyn Error>> {
    use amanat::store::IdentityCheck;
    let root = std::env::temp_dir().join(format!("amanat-export-{}", std::process::id()));
    let policy = Policy::from_toml_str(include_str!("policies/imanum.toml"))?;
    // Thursday 12 June 2025, 14:00 in Tashkent.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 6, 12, 9, 0, 0).unwrap());
    let operator = Operator::builder(root.join("data"), policy, KeyDir::new(root.join("keys"))?)
        .clock(clock.clone())
        .open()?;
    let customer = SubjectId::new("cust-0003")?;
    operator.ledger().grant(
        Grant::new(
            customer.clone(),
            ConsentForm::Electronic {
                method: ElectronicMethod::OneTimePassword,
            },
        )
        .purpose(Purpose::SERVICE_PROVISION)
        .category::<Passport>(),
    )?;
    let token = operator
        .ledger()
        .authorize::<Passport>(&customer, &Purpose::SERVICE_PROVISION)?;
    let mut passport = PersonalData::collect(&customer, String::from("AB7654321"), &token)?;
    operator.keep(&mut passport, &token)?;

    let request = operator
        .requests()
        .receive(customer.clone(), RequestKind::Access, clock.now());
    let due = operator.requests().get(request).map(|r| r.due);
    println!(
        "
A copy of their data asked for (request {request}, due {due:?})."
    );
    match operator.export(request) {
        Ok(_) => return Err("an export went out before the identity was verified".into()),
        Err(refused) => println!("Before their identity is verified: {refused}"),
    }
    clock.advance(TimeDelta::days(1));
    operator.verify_identity(
        request,
        IdentityCheck::new("passport shown at the Tashkent branch", "clerk 17"),
    )?;
    let export = operator.export(request)?;
    let mut document = Vec::new();
    export.write_json(&mut document)?;
    println!(
        "Exported for them alone: {} record(s), a {}-byte JSON document handed to them \
         (the record of it names the records, never the values).",
        export.records().len(),
        document.len()
    );
    drop(export);
    operator.requests().complete(request, clock.now())?;
    let answered = operator.requests().get(request).and_then(|r| r.completed);
    println!("Answered {answered:?}, before its due date.");
    match operator.export(request) {
        Ok(_) => return Err("a request was exported twice".into()),
        Err(refused) => println!("A second export: {refused}"),
    }
    drop(operator);
    std::fs::remove_dir_all(&root)?;
    Ok(())
}

/// The files of a SQLite database: the file, and its write-ahead log while it has one.
const LOG_FILES: [&str; 3] = ["log.db", "log.db-wal", "log.db-shm"];

fn copy_log(from: &Path, to: &Path) -> Result<(), Box<dyn Error>> {
    for name in LOG_FILES {
        let _ = std::fs::remove_file(to.join(name));
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name))?;
        }
    }
    Ok(())
}

fn auditors_check() -> Result<(), Box<dyn Error>> {
    let root = std::env::temp_dir().join(format!("amanat-auditor-{}", std::process::id()));
    let (data, keys, copy) = (root.join("data"), root.join("keys"), root.join("copy"));
    std::fs::create_dir_all(&copy)?;
    let policy = || Policy::from_toml_str(include_str!("policies/imanum.toml"));

    // The operator's day: a consent given; a copy of the log taken; the consent withdrawn.
    let customer = SubjectId::new("cust-0002")?;
    let operator = Operator::open(&data, policy()?, KeyDir::new(&keys)?)?;
    let consent = operator.ledger().grant(
        Grant::new(
            customer.clone(),
            ConsentForm::Electronic {
                method: ElectronicMethod::DigitalSignature,
            },
        )
        .purpose(Purpose::CREDIT_SCORING)
        .category::<Passport>(),
    )?;
    let public_key = operator
        .checkpoint_key()
        .ok_or("the operator keeps a log")?;
    // The proof the operator could show while the consent stood.
    let stale = operator.ledger().proof_of_consent(&consent)?;
    drop(operator);
    copy_log(&data, &copy)?;
    let operator = Operator::open(&data, policy()?, KeyDir::new(&keys)?)?;
    operator.withdraw(&consent)?;
    let proof = operator.ledger().proof_of_consent(&consent)?;
    drop(operator);

    // The auditor holds the public key and reads the anchor: no secret key.
    let anchor = FileAnchor::new(keys.join("anchors"), &data)?;
    let verified = verify_against_anchor(
        &SqliteLogStore::open(data.join("log.db"))?,
        &public_key,
        &anchor,
    )?;
    println!(
        "\nThe auditor's check: {} entries, anchored up to {}.",
        verified.head.map_or(0, |h| h.seq.get()),
        verified.checkpoint.map_or(0, |c| c.count.get()),
    );
    // A proof of consent checked against the same log: the whole story, or refused.
    let store = SqliteLogStore::open(data.join("log.db"))?;
    let events = proof.verify_against_anchor(&store, &public_key, &anchor)?;
    println!("The proof of consent, against the anchored log: {events} events, all recorded.");
    match stale.verify_against_anchor(&store, &public_key, &anchor) {
        Ok(_) => return Err("a proof without the withdrawal passed".into()),
        Err(left_out) => println!("The proof made before the withdrawal: {left_out}"),
    }
    drop(store);

    // The older copy put back: the withdrawal is gone from the log, and the auditor sees it.
    copy_log(&copy, &data)?;
    match verify_against_anchor(
        &SqliteLogStore::open(data.join("log.db"))?,
        &public_key,
        &anchor,
    ) {
        Ok(_) => return Err("a log cut short passed the auditor's check".into()),
        Err(cut) => println!("After the older copy is put back: {cut}"),
    }
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
