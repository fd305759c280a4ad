//! Who touched this data (Tajik law Art. 25.1): with an audit log, every consent event,
//! authorization (granted or refused, with the rule), use of another basis, policy change,
//! collection, read count, rectification, blocking, disclosure and notice, request, hold
//! and destruction lands in one hash chain — and a proof of consent stands on its own.

use std::sync::Arc;

use std::sync::Mutex;

use crate::common::{customer, friday, imanum, ledger_under, otp, otp_evidence, otp_grant, signed};
use amanat::audit::{Alert, AlertHook, AlertKey, AuditEvent, AuditLog, RefusalMonitor};
use amanat::category::{Passport, Phone};
use amanat::consent::ProofError;
use amanat::disclosure::Disclosures;
use amanat::retention::{HoldGround, HoldScope, HoldUntil, LegalHold, Trigger};
use amanat::rights::{RequestKind, SubjectRequests};
use amanat::{
    Actor, ConsentLedger, DestructionReason, Error, Evidence, Grant, LegalBasis, ManualClock,
    PersonalData, Policy, Purpose, RetentionSchedule, SubjectId,
};
use chrono::TimeDelta;

struct World {
    policy: Arc<Policy>,
    log: Arc<AuditLog>,
    ledger: ConsentLedger,
    clock: ManualClock,
    subject: SubjectId,
}

fn world() -> World {
    let policy = Arc::new(imanum());
    // Friday 13 June 2025, 10:00 in Tashkent.
    let clock = ManualClock::new(friday());
    let log = Arc::new(AuditLog::in_memory());
    World {
        ledger: ledger_under(&policy, &clock)
            .audit(Arc::clone(&log))
            .build(),
        policy,
        log,
        clock,
        subject: customer(),
    }
}

impl World {
    /// The customer consents by one-time password to credit scoring on their passport.
    fn consent_to_scoring(&self) -> amanat::ConsentId {
        self.ledger
            .grant(
                Grant::new(self.subject.clone(), signed())
                    .evidence(confirmed(&self.clock))
                    .purpose(Purpose::CREDIT_SCORING)
                    .category::<Passport>(),
            )
            .unwrap()
    }

    /// A fraud check on the customer's phone under the AML law, without consent.
    fn fraud_check(&self) -> amanat::ConsentToken<Phone> {
        self.ledger
            .authorize_with_basis::<Phone>(
                &self.subject,
                &Purpose::FRAUD_PREVENTION,
                LegalBasis::LegalObligation {
                    reference: "Law No. ZRU-660 on AML, Art. 9".into(),
                },
            )
            .unwrap()
    }
}

/// The SMS gateway's confirmation of a one-time password, now on `clock`.
fn confirmed(clock: &ManualClock) -> Evidence {
    otp_evidence("sms-gw-7781", amanat::Clock::now(clock))
}

/// The events of the log, by their JSON tag, in order.
fn kinds(log: &AuditLog) -> Vec<String> {
    log.entries()
        .unwrap()
        .iter()
        .map(|e| e.event.name().to_owned())
        .collect()
}

#[test]
fn every_action_on_a_customers_data_leaves_an_entry_in_one_verified_chain() {
    let w = world();
    let consent = w.consent_to_scoring();
    // A refusal, with the rule that refused.
    let refused = w
        .ledger
        .authorize::<Phone>(&w.subject, &Purpose::MARKETING_ANALYTICS)
        .unwrap_err();
    assert_eq!(refused.rule(), "no_consent");

    let schedule = RetentionSchedule::builder(Arc::clone(&w.policy))
        .audit(Arc::clone(&w.log))
        .clock(w.clock.clone())
        .build();
    let disclosures = Disclosures::new(Arc::clone(&w.policy)).audit(Arc::clone(&w.log));
    let requests = SubjectRequests::new(Arc::clone(&w.policy)).audit(Arc::clone(&w.log));
    let request = requests.receive(
        w.subject.clone(),
        RequestKind::Access,
        amanat::Clock::now(&w.clock),
    );

    let record = {
        let token = w
            .ledger
            .authorize_as::<Passport>(&scoring(), &w.subject, &Purpose::CREDIT_SCORING)
            .unwrap();
        let mut passport =
            PersonalData::collect(&w.subject, String::from("AA1234567"), &token).unwrap();
        for _ in 0..3 {
            assert_eq!(passport.read(&token).unwrap().len(), 9);
        }
        passport.rectify(String::from("AB7654321"), &token).unwrap();
        passport.block();
        passport.unblock().unwrap();
        schedule.track(&mut passport).unwrap();
        let id = passport.id();
        let permit = disclosures.permit(token, "katm").unwrap();
        let (sent, receipt) = disclosures
            .disclose(&passport, &permit, String::len)
            .unwrap();
        assert_eq!(sent, 9);
        let notice = receipt
            .notice
            .expect("KATM was not named in the consent: a notice is owed");
        disclosures
            .mark_sent(notice, amanat::Clock::now(&w.clock))
            .unwrap();
        drop(permit);
        // The record stays alive, tracked, until the schedule destroys it.
        (id, passport)
    };
    let (record_id, _passport) = record;

    drop(w.fraud_check());
    let hold = schedule
        .place_hold(LegalHold {
            scope: HoldScope::Subject(w.subject.clone()),
            reason: "AML record keeping".into(),
            ground: HoldGround::Statute {
                law: "AML law".into(),
                article: "FATF Recommendation 11".into(),
            },
            readable_for: vec![Purpose::LEGAL_OBLIGATION],
            until: HoldUntil::Released,
        })
        .unwrap();
    schedule.release_hold(hold).unwrap();
    w.ledger.withdraw(&consent).unwrap();
    schedule.trigger(
        &w.subject,
        Trigger::ConsentWithdrawn(Purpose::CREDIT_SCORING),
        amanat::Clock::now(&w.clock),
    );
    w.clock.advance(TimeDelta::minutes(1));
    // The passport is a customer-due-diligence record: the policy's statutory minimum
    // keeps it until five years after the relationship ends.
    let swept = schedule.sweep(amanat::Clock::now(&w.clock));
    assert_eq!(swept.postponed, [(record_id, None)]);
    schedule.trigger(
        &w.subject,
        Trigger::AccountClosed,
        amanat::Clock::now(&w.clock),
    );
    w.clock.advance(TimeDelta::days(5 * 366));
    let swept = schedule.sweep(amanat::Clock::now(&w.clock));
    assert_eq!(swept.destroyed.len(), 1);
    assert_eq!(swept.destroyed[0].record, record_id);
    requests
        .complete(request, amanat::Clock::now(&w.clock))
        .unwrap();

    let kinds = kinds(&w.log);
    for expected in [
        "consent_given",
        "consent_withdrawn",
        "authorization",
        "request_received",
        "request_completed",
        "collection",
        "change",
        "disclosure",
        "notice_sent",
        "reads",
        "legal_basis_used",
        "hold_placed",
        "hold_released",
        "deadline",
        "postponed",
        "destruction",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "no {expected} entry in {kinds:?}"
        );
    }
    let entries = w.log.entries().unwrap();
    // Reads are counted per token: three reads and one disclosure under the same token.
    let reads: Vec<u64> = entries
        .iter()
        .filter_map(|e| match &e.event {
            AuditEvent::Reads { count, .. } => Some(*count),
            _ => None,
        })
        .collect();
    assert_eq!(reads, [4]);
    assert!(entries.iter().any(|e| matches!(
        &e.event,
        AuditEvent::Authorization { granted: false, rule: Some(rule), .. } if rule == "no_consent"
    )));
    assert!(entries.iter().any(|e| matches!(
        &e.event,
        AuditEvent::Destruction { record, reason: DestructionReason::ConsentWithdrawn, .. }
            if *record == record_id
    )));
    assert!(entries.iter().any(|e| matches!(
        &e.event,
        AuditEvent::LegalBasisUsed { basis, .. }
            if basis.reference().is_some_and(|r| r.contains("ZRU-660"))
    )));
    // Everything the scoring service's token led to names the scoring service.
    let by_scoring: Vec<&str> = entries
        .iter()
        .filter_map(|e| {
            let json = serde_json::to_value(&e.event).unwrap();
            (json[e.event.name()]["actor"] == "svc:credit-scoring").then_some(match &e.event {
                AuditEvent::Authorization { .. } => "authorization",
                AuditEvent::Collection { .. } => "collection",
                AuditEvent::Change { .. } => "rectified",
                AuditEvent::Disclosure { .. } => "disclosure",
                AuditEvent::Reads { .. } => "reads",
                _ => "other",
            })
        })
        .collect();
    assert_eq!(
        by_scoring,
        [
            "authorization",
            "collection",
            "rectified",
            "disclosure",
            "reads"
        ]
    );
    assert_eq!(w.log.verify(), Ok(entries.len() as u64));
}

fn scoring() -> Actor {
    Actor::new("svc:credit-scoring").unwrap()
}

struct Pager(Arc<Mutex<Vec<Alert>>>);

impl AlertHook for Pager {
    fn alert(&self, alert: &Alert) {
        self.0.lock().unwrap().push(alert.clone());
    }
}

#[test]
fn data_from_a_third_party_leaves_the_notice_it_owes_in_the_log_art_21() {
    let w = world();
    w.consent_to_scoring();
    let token = w
        .ledger
        .authorize::<Passport>(&w.subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    let from_bureau = PersonalData::collect_from(
        &w.subject,
        String::from("AA7654321"),
        amanat::data::Source::ThirdParty {
            name: "KATM".into(),
        },
        &token,
    )
    .unwrap();
    // The register has no log of its own: the ledger's, through the data, records it.
    let disclosures = Disclosures::new(Arc::clone(&w.policy));
    let notice = disclosures
        .collected_from_third_party(&from_bureau)
        .unwrap();
    assert!(w.log.entries().unwrap().iter().any(|e| matches!(
        &e.event,
        AuditEvent::NoticeOwed { notice: n, .. } if n.id == notice && n.record == from_bureau.id()
    )));
}

#[test]
fn a_consent_recorded_without_an_audit_log_has_no_proof() {
    let ledger = ConsentLedger::new(amanat::PolicyVersion::new("v1").unwrap());
    let subject = customer();
    let consent = ledger
        .grant(otp_grant(&subject, Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let proof = ledger.proof_of_consent(&consent).unwrap();
    assert!(proof.entries.is_empty());
    assert_eq!(
        proof.verify(),
        Err(ProofError::Unrecorded {
            consent,
            change: "given"
        })
    );
}

#[test]
fn refusals_reach_the_monitor_per_actor_and_per_subject_and_alert_once_art_25_2() {
    let paged = Arc::new(Mutex::new(Vec::new()));
    let monitor = Arc::new(RefusalMonitor::new(
        std::time::Duration::from_secs(60),
        3,
        Pager(Arc::clone(&paged)),
    ));
    let policy = imanum();
    let clock = ManualClock::new(friday());
    let ledger = ledger_under(&policy, &clock).monitor(monitor).build();
    let prober = Actor::new("api-key:7f3a").unwrap();
    for n in 0..5 {
        let subject = SubjectId::new(format!("cust-{n}")).unwrap();
        assert!(
            ledger
                .authorize_as::<Passport>(&prober, &subject, &Purpose::CREDIT_SCORING)
                .is_err()
        );
        clock.advance(TimeDelta::seconds(1));
    }
    // Five refusals to one actor about five subjects: one alert, for the actor.
    let alerts = paged.lock().unwrap().clone();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].key, AlertKey::Actor("api-key:7f3a".into()));
    assert_eq!(alerts[0].refusals, 3);

    // Unnamed callers count for the subject.
    let target = SubjectId::new("cust-0").unwrap();
    for _ in 0..2 {
        assert!(
            ledger
                .authorize::<Passport>(&target, &Purpose::CREDIT_SCORING)
                .is_err()
        );
    }
    let alerts = paged.lock().unwrap().clone();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[1].key, AlertKey::Subject(target));
}

#[test]
fn a_proof_of_consent_verifies_alone_and_fails_when_an_event_or_entry_is_altered() {
    let w = world();
    let evidence = confirmed(&w.clock);
    let consent = w
        .ledger
        .grant(
            Grant::new(w.subject.clone(), otp())
                .evidence(evidence.clone())
                .purpose(Purpose::CREDIT_SCORING)
                .category::<Passport>()
                .valid_until(amanat::Clock::now(&w.clock) + TimeDelta::days(365)),
        )
        .unwrap();
    w.clock.advance(TimeDelta::days(30));
    w.ledger
        .renew(
            &consent,
            Some(amanat::Clock::now(&w.clock) + TimeDelta::days(400)),
        )
        .unwrap();
    w.ledger.withdraw(&consent).unwrap();

    let proof = w.ledger.proof_of_consent(&consent).unwrap();
    assert_eq!(proof.evidence, Some(evidence));
    assert_eq!(&proof.policy_version, w.policy.version());
    assert_eq!(proof.entries.len(), 3);
    assert_eq!(proof.verify(), Ok(3));

    let mut forged = proof.clone();
    forged.events[0].at += TimeDelta::days(1);
    assert_eq!(
        forged.verify(),
        Err(ProofError::Unrecorded {
            consent,
            change: "given"
        })
    );
    let mut edited = proof.clone();
    edited.entries[1].at += TimeDelta::seconds(1);
    assert_eq!(
        edited.verify(),
        Err(ProofError::EntryEdited {
            seq: edited.entries[1].seq
        })
    );
    let mut reordered = proof.clone();
    reordered.entries.swap(0, 2);
    assert!(matches!(
        reordered.verify(),
        Err(ProofError::OutOfOrder { .. })
    ));
    // Leaving the withdrawal out is caught by the entry that recorded it.
    let mut hidden = proof.clone();
    hidden.events.pop();
    assert_eq!(
        hidden.verify(),
        Err(ProofError::Foreign {
            seq: proof.entries[2].seq
        })
    );
    let mut relabelled = proof.clone();
    relabelled.policy_version = amanat::PolicyVersion::new("another").unwrap();
    assert_eq!(
        relabelled.verify(),
        Err(ProofError::Mismatch {
            field: "policy_version"
        })
    );

    // Sent as JSON, it verifies on the other side just the same: the events read back are
    // the events that were digested.
    let sent = serde_json::to_string(&proof).unwrap();
    let received: amanat::consent::ConsentProof = serde_json::from_str(&sent).unwrap();
    assert_eq!(received, proof);
    assert_eq!(received.verify_against(&w.log), Ok(3));

    // Anchored in the log: the genuine proof holds; one rebuilt with consistent but made-up
    // entries does not, since the log holds other entries at those places.
    assert_eq!(proof.verify_against(&w.log), Ok(3));
    let other = AuditLog::in_memory();
    for entry in &proof.entries {
        // Same events, at other times: a consistent chain of its own.
        other
            .append(entry.at + TimeDelta::seconds(1), entry.event.clone())
            .unwrap();
    }
    let mut rebuilt = proof.clone();
    rebuilt.entries = other.entries().unwrap();
    assert_eq!(rebuilt.verify(), Ok(3));
    assert!(matches!(
        rebuilt.verify_against(&w.log),
        Err(ProofError::NotInLog { .. })
    ));

    assert!(matches!(
        w.ledger
            .proof_of_consent(&"0b6f3c5e-1d2a-4f4e-9c1b-6a0f3c2d1e5f".parse().unwrap()),
        Err(Error::UnknownConsent { .. })
    ));
}

#[test]
fn a_subjects_history_reads_back_from_json_with_the_same_digests() {
    let w = world();
    let consent = w.consent_to_scoring();
    let _fraud_check = w.fraud_check();
    w.ledger.withdraw(&consent).unwrap();
    let history = w.ledger.history(&w.subject);
    let text = serde_json::to_string(&history).unwrap();
    let back: Vec<amanat::consent::ConsentEvent> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, history);
    let digests = |events: &[amanat::consent::ConsentEvent]| {
        events
            .iter()
            .map(amanat::consent::ConsentEvent::digest)
            .collect::<Vec<_>>()
    };
    assert_eq!(digests(&back), digests(&history));
    // A damaged category id or document hash is refused, not read as something else.
    let damaged = text.replace("identity_document", "Identity Document");
    assert!(serde_json::from_str::<Vec<amanat::consent::ConsentEvent>>(&damaged).is_err());
}
