//! "What do you hold on me?" (Tajik law Art. 22.2-22.4) and "prove this customer
//! consented" (Art. 25.1): the access report, the ISO/IEC TS 27560 and Kantara v1.1
//! receipts, and a leak test over everything they and the audit file contain.

use std::sync::Arc;

use crate::common::{IMANUM, customer, friday, ledger_under, signed};
use amanat::audit::AuditLog;
use amanat::category::Passport;
use amanat::disclosure::Disclosures;
use amanat::receipts::{Iso27560Record, KantaraReceipt, ReceiptError};
use amanat::rights::RequestKind;
use amanat::rights::{ReportSources, access_report};
use amanat::{
    Clock, ConsentId, ConsentLedger, Evidence, Grant, ManualClock, PersonalData, Policy, Purpose,
    RetentionSchedule, SubjectId,
};
use serde_json::Value;

/// A value no output may contain.
const CANARY: &str = "AA0000CANARY";

struct World {
    policy: Arc<Policy>,
    log: Arc<AuditLog>,
    ledger: ConsentLedger,
    schedule: RetentionSchedule,
    clock: ManualClock,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn world(policy_text: &str) -> World {
    let policy = Arc::new(Policy::from_toml_str(policy_text).unwrap());
    let clock = ManualClock::new(friday());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = Arc::new(AuditLog::open(&path, 8).unwrap());
    World {
        ledger: ledger_under(&policy, &clock)
            .audit(Arc::clone(&log))
            .build(),
        schedule: RetentionSchedule::builder(Arc::clone(&policy))
            .audit(Arc::clone(&log))
            .clock(clock.clone())
            .build(),
        policy,
        log,
        clock,
        _dir: dir,
        path,
    }
}

impl World {
    /// `subject` consents to credit scoring on their passport, which is collected,
    /// tracked and sent to KATM; returns the consent.
    fn customer(&self, subject: &SubjectId, passport: &str) -> ConsentId {
        let consent = self
            .ledger
            .grant(
                // Signed: credit scoring decides automatically (ZRU-547 Art. 24).
                Grant::new(subject.clone(), signed())
                    .evidence(Evidence::OneTimePassword {
                        challenge_id: format!("otp-{subject}"),
                        confirmed_at: self.clock.now(),
                    })
                    .purpose(Purpose::CREDIT_SCORING)
                    .category::<Passport>(),
            )
            .unwrap();
        let token = self
            .ledger
            .authorize::<Passport>(subject, &Purpose::CREDIT_SCORING)
            .unwrap();
        let mut data = PersonalData::collect(subject, passport.to_owned(), &token).unwrap();
        self.schedule.track(&mut data).unwrap();
        let disclosures = Disclosures::new(Arc::clone(&self.policy));
        let permit = disclosures.permit(token, "katm").unwrap();
        disclosures.disclose(&data, &permit, |_| ()).unwrap();
        consent
    }

    fn report(&self, subject: &SubjectId) -> amanat::rights::AccessReport {
        access_report(
            subject,
            ReportSources::new(&self.policy, &self.ledger)
                .schedule(&self.schedule)
                .audit(&self.log),
            self.clock.now(),
        )
        .unwrap()
    }
}

#[test]
fn the_access_report_answers_every_item_of_art_22_4_for_this_subject_alone() {
    let w = world(IMANUM);
    let alice = SubjectId::new("cust-alice").unwrap();
    let bob = SubjectId::new("cust-bob").unwrap();
    let alice_consent = w.customer(&alice, "AA1111111");
    let bob_consent = w.customer(&bob, "AA2222222");

    let report = w.report(&alice);
    assert!(report.processed);
    assert_eq!(
        report.operator.name,
        "«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT"
    );
    assert_eq!(report.grounds.len(), 1);
    assert_eq!(report.grounds[0].consent, Some(alice_consent));
    assert_eq!(report.grounds[0].basis, "consent");
    assert_eq!(report.grounds[0].state, "in_force");
    assert!(!report.methods.is_empty() && !report.access.is_empty());
    let recipients: Vec<&str> = report.recipients.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(recipients, ["credolab", "katm"]);
    // CredoLab is in Singapore: a transfer abroad the policy plans.
    assert_eq!(report.transfers_planned.len(), 1);
    assert_eq!(report.transfers_planned[0].id, "credolab");
    assert_eq!(report.transfers_made.len(), 1);
    assert_eq!(report.transfers_made[0].country, "UZ");
    assert_eq!(report.records.len(), 1);
    assert!(report.records[0].deadline.is_some());
    // The rule for the passport, and the statutory minimum that outlives it.
    assert_eq!(report.retention.len(), 2);
    assert!(report.retention[1].contains("Recommendation 11"));
    // ZRU-547 Art. 22: a refusal in ten days, and the answer by then.
    assert_eq!(report.rights.answer_within.days, 10);
    // Art. 24: the credit score is decided automatically; the report says how, and how to
    // object, answered in writing within ten days.
    assert_eq!(report.automated_decisions.len(), 1);
    let decision = &report.automated_decisions[0];
    assert_eq!(decision.purpose, Purpose::CREDIT_SCORING);
    assert!(decision.logic.contains("CredoLab"));
    assert_eq!(decision.object_by, RequestKind::Objection);
    assert_eq!(decision.answered_within.days, 10);
    assert_eq!(
        decision.answered_within.citation.article,
        "ZRU-547, Art. 24"
    );
    assert!(report.rights.requests.contains(&RequestKind::Objection));

    let json: Value = serde_json::to_value(&report).unwrap();
    for item in [
        "processed",
        "grounds",
        "methods",
        "operator",
        "recipients",
        "access",
        "retention",
        "records",
        "rights",
        "transfers_made",
        "transfers_planned",
    ] {
        assert!(json.get(item).is_some(), "no {item} in the report");
    }
    let text = json.to_string();
    assert!(!text.contains("cust-bob"));
    assert!(!text.contains(&bob_consent.to_string()));

    // A stranger is told that nothing is processed.
    let stranger = w.report(&SubjectId::new("cust-nobody").unwrap());
    assert!(!stranger.processed);
    assert!(stranger.grounds.is_empty() && stranger.transfers_made.is_empty());
}

#[test]
fn the_iso_27560_record_carries_every_field_of_the_consent() {
    let w = world(IMANUM);
    let subject = customer();
    let consent = w.customer(&subject, "AA1111111");
    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &w.policy, "uz").unwrap();
    let json = serde_json::to_value(&record).unwrap();

    assert_eq!(json["schema_version"], "ISO/IEC TS 27560:2023");
    assert_eq!(json["record_id"], consent.to_string());
    assert_eq!(json["pii_principal_id"], "cust-1");
    assert_eq!(
        json["privacy_notice"]["version"],
        w.policy.version().as_str()
    );
    assert_eq!(json["privacy_notice"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(json["privacy_notice"]["url"], "https://www.imanum.app");
    assert_eq!(json["language"], "uz");
    assert_eq!(json["purposes"][0]["purpose"], "credit_scoring");
    assert_eq!(
        json["purposes"][0]["pii_information"][0],
        "identity_document"
    );
    assert!(
        json["lawful_basis"]
            .as_str()
            .unwrap()
            .starts_with("consent")
    );
    assert_eq!(
        json["pii_information"],
        serde_json::json!(["identity_document"])
    );
    assert_eq!(
        json["pii_controllers"][0]["name"],
        "«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT"
    );
    assert_eq!(json["storage_locations"], serde_json::json!(["UZ"]));
    assert_eq!(json["retention_period"].as_array().unwrap().len(), 2);
    assert_eq!(json["jurisdiction"], "UZ");
    let recipients: Vec<&str> = json["recipient_third_parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(recipients.len(), 2);
    // The policy publishes no contact: withdrawal goes to the registered address.
    assert!(
        json["withdrawal_method"]
            .as_str()
            .unwrap()
            .contains("registered address: Tashkent")
    );
    assert_eq!(json["event_time"], json["events"][0]["event_time"]);
    assert_eq!(json["validity_duration"], Value::Null);
    assert_eq!(
        json["entity_id"],
        "«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT"
    );
    assert_eq!(json["event_type"], "given");
    assert_eq!(json["event_state"], "dpv:ConsentGiven");

    w.ledger.withdraw(&consent).unwrap();
    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    let withdrawn = Iso27560Record::new(&proof, &w.policy, "uz").unwrap();
    assert_eq!(withdrawn.event_type, "withdrawn");
    assert_eq!(withdrawn.event_state, "dpv:ConsentWithdrawn");
    assert_eq!(withdrawn.events.len(), 2);
}

#[test]
fn the_kantara_export_is_a_receipt_the_importer_accepts_or_names_what_the_policy_lacks() {
    // IMANUM publishes no telephone number and no contact: the export says so rather than
    // invent one, and the importer reads it.
    let w = world(IMANUM);
    let subject = customer();
    let consent = w.customer(&subject, "AA1111111");
    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &w.policy, "uz").unwrap();
    let kantara = record.to_kantara(&w.policy).unwrap();
    let controller = &kantara["piiControllers"][0];
    for key in ["phone", "contact", "email"] {
        assert_eq!(controller[key], amanat::policy::NOT_PUBLISHED, "{key}");
    }
    KantaraReceipt::parse(&kantara.to_string()).unwrap();
    // A policy without a notice address has no URL to give: named, not made up.
    let no_url = IMANUM.replacen("policy_url = \"https://www.imanum.app\"\n", "", 1);
    assert!(no_url != IMANUM);
    let w = world(&no_url);
    let consent = w.customer(&subject, "AA1111111");
    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &w.policy, "uz").unwrap();
    assert_eq!(
        record.to_kantara(&w.policy),
        Err(ReceiptError::Missing {
            field: "policyUrl".into()
        })
    );

    let w = world(&with_phone());
    let consent = w.customer(&subject, "AA1111111");
    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &w.policy, "uz").unwrap();
    let kantara = record.to_kantara(&w.policy).unwrap();
    let receipt = KantaraReceipt::parse(&kantara.to_string()).unwrap();
    assert_eq!(receipt.receipt_id(), consent.to_string());
    assert_eq!(receipt.version(), "KI-CR-v1.1.0");
    assert_eq!(receipt.jurisdiction(), "UZ");
    assert_eq!(receipt.principal(), "cust-1");
    assert_eq!(
        receipt.controllers(),
        ["«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT"]
    );
    assert_eq!(receipt.collection_method(), "electronic: digital_signature");
    assert_eq!(
        receipt.consent_time().timestamp(),
        proof.events[0].at.timestamp()
    );
    let purposes: Vec<_> = receipt.purposes().collect();
    assert_eq!(purposes.len(), 1);
    assert_eq!(purposes[0].consent_type, "EXPLICIT");
    assert_eq!(purposes[0].pii_categories, ["identity_document"]);
    assert!(purposes[0].third_party.as_deref().unwrap().contains("KATM"));
    assert_eq!(receipt.sensitive(), (false, &[][..]));
    assert_eq!(purposes[0].termination, "until withdrawn");

    // After a withdrawal the receipt says the consent ended, and when.
    w.ledger.withdraw(&consent).unwrap();
    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &w.policy, "uz").unwrap();
    let receipt =
        KantaraReceipt::parse(&record.to_kantara(&w.policy).unwrap().to_string()).unwrap();
    let termination = &receipt.purposes().next().unwrap().termination;
    assert!(
        termination.starts_with("ended: withdrawn at "),
        "{termination}"
    );

    // A receipt names the notice the consent was given under, and no other.
    let amended = Policy::from_toml_str(&with_phone().replace(
        "version = \"imanum-privacy-policy-2\"",
        "version = \"imanum-privacy-policy-3\"",
    ))
    .unwrap();
    assert_eq!(
        Iso27560Record::new(&proof, &amended, "uz"),
        Err(ReceiptError::OtherPolicy {
            given: "imanum-privacy-policy-2".into(),
            passed: "imanum-privacy-policy-3".into(),
        })
    );
}

/// IMANUM's policy with a telephone number, which a Kantara receipt requires.
fn with_phone() -> String {
    IMANUM.replace(
        "policy_url = \"https://www.imanum.app\"",
        "policy_url = \"https://www.imanum.app\"\nphone = \"+998 71 000 00 00\"",
    )
}

#[test]
fn no_canary_in_the_audit_file_the_report_the_receipts_or_the_proof() {
    let w = world(&with_phone());
    let subject = customer();
    let consent = w.customer(&subject, CANARY);
    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &w.policy, "uz").unwrap();
    w.ledger.withdraw(&consent).unwrap();
    w.log.flush().unwrap();

    let outputs = [
        ("audit file", std::fs::read_to_string(&w.path).unwrap()),
        (
            "report",
            serde_json::to_string(&w.report(&subject)).unwrap(),
        ),
        ("report Debug", format!("{:?}", w.report(&subject))),
        ("ISO 27560 record", serde_json::to_string(&record).unwrap()),
        (
            "Kantara receipt",
            record.to_kantara(&w.policy).unwrap().to_string(),
        ),
        ("proof", serde_json::to_string(&proof).unwrap()),
        ("proof Debug", format!("{proof:?}")),
        (
            "decisions",
            serde_json::to_string(&w.schedule.decisions()).unwrap(),
        ),
    ];
    assert!(
        outputs[0].1.lines().count() >= 6,
        "the file holds the trail"
    );
    for (what, text) in outputs {
        assert!(!text.contains(CANARY), "the {what} leaks the value");
    }
}
