//! A canary value stored as a selfie, a passport and a phone number never shows up in any
//! `Debug` output, error message, consent history entry, receipt or token — the only way
//! to it is a token's `read` or `with`.

use std::time::Duration;

use crate::common::{imanum, ledger_under, otp_grant, signed_grant};
use amanat::Clock as _;
use amanat::category::{Biometric, Passport, Phone};
use amanat::{
    ConsentForm, ConsentLedger, ConsentToken, DestructionReason, DocumentHash, Error, Grant,
    LegalBasis, ManualClock, PersonalData, PolicyVersion, Purpose, SubjectId,
};
use chrono::{DateTime, TimeDelta};

const CANARY: &str = "CANARY-7f3a9c1e-do-not-print";

struct Seen(Vec<String>);

impl Seen {
    fn debug(&mut self, value: &impl std::fmt::Debug) {
        self.0.push(format!("{value:?}"));
        self.0.push(format!("{value:#?}"));
    }

    fn error<T>(&mut self, result: Result<T, Error>) {
        let err = result.err().expect("the step was meant to be refused");
        self.0.push(err.to_string());
        self.debug(&err);
    }

    fn assert_clean(&self) {
        assert!(
            self.0.len() > 40,
            "too little was checked: {}",
            self.0.len()
        );
        for text in &self.0 {
            assert!(!text.contains(CANARY), "leaked in: {text}");
            assert!(!text.contains("7f3a9c1e"), "partly leaked in: {text}");
        }
    }
}

#[test]
fn a_canary_never_appears_outside_read_and_with() {
    let clock = ManualClock::new(DateTime::UNIX_EPOCH);
    let ledger = ConsentLedger::builder(PolicyVersion::new("v1").unwrap())
        .clock(clock.clone())
        .token_ttl(Duration::from_secs(60))
        .build();
    let alice = SubjectId::new("cust-alice").unwrap();
    let bob = SubjectId::new("cust-bob").unwrap();
    let mut seen = Seen(Vec::new());

    let written = ledger
        .grant(
            Grant::new(
                alice.clone(),
                ConsentForm::Written {
                    document_sha256: DocumentHash::of(b"form"),
                },
            )
            .purpose(Purpose::IDENTITY_VERIFICATION)
            .category::<Biometric>(),
        )
        .unwrap();
    let otp = ledger
        .grant(
            otp_grant(&alice, Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .category::<Passport>()
                .category::<Biometric>(),
        )
        .unwrap();
    ledger
        .grant(otp_grant(&bob, Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();

    let selfie_token = ledger
        .authorize::<Biometric>(&alice, &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let passport_token = ledger
        .authorize::<Passport>(&alice, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone_token = ledger
        .authorize::<Phone>(&alice, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let bobs_token = ledger
        .authorize::<Phone>(&bob, &Purpose::SERVICE_PROVISION)
        .unwrap();

    let mut selfie =
        PersonalData::collect(&alice, CANARY.as_bytes().to_vec(), &selfie_token).unwrap();
    let mut passport = PersonalData::collect(&alice, CANARY.to_owned(), &passport_token).unwrap();
    let mut phone = PersonalData::collect(&alice, CANARY.to_owned(), &phone_token).unwrap();

    // The doors do open, so the canary really is inside.
    assert_eq!(*selfie.read(&selfie_token).unwrap(), CANARY.as_bytes());
    assert_eq!(
        passport.with(&passport_token, Clone::clone).unwrap(),
        CANARY
    );

    for value in [
        format!("{selfie:?}"),
        format!("{passport:?}"),
        format!("{phone:?}"),
    ] {
        seen.0.push(value);
    }
    seen.debug(&selfie.read(&selfie_token).unwrap());
    seen.debug(&phone.read(&phone_token).unwrap());
    seen.debug(&selfie_token);
    seen.debug(&passport_token);
    seen.debug(&ledger);

    // Every refusal a holder of the canary can meet.
    seen.error(phone.read(&bobs_token));
    seen.error(PersonalData::collect(&bob, CANARY.to_owned(), &phone_token));
    seen.error(PersonalData::collect(
        &alice,
        CANARY.to_owned(),
        &bobs_token,
    ));
    phone.block();
    seen.error(phone.read(&phone_token));
    seen.error(phone.rectify(CANARY.to_owned(), &phone_token));
    phone.unblock().expect("no audit log to fail");
    seen.error(ledger.authorize::<Biometric>(&alice, &Purpose::SERVICE_PROVISION));
    seen.error(ledger.authorize::<Passport>(&alice, &Purpose::MARKETING_ANALYTICS));
    seen.error(ledger.authorize_with_basis::<Biometric>(
        &alice,
        &Purpose::LEGAL_OBLIGATION,
        LegalBasis::Contract {
            reference: "contract 1".into(),
        },
    ));
    ledger.withdraw(&written).unwrap();
    seen.error(selfie.read(&selfie_token));
    seen.error(selfie.rectify(CANARY.as_bytes().to_vec(), &selfie_token));
    seen.error(ledger.withdraw(&written));
    clock.advance(TimeDelta::minutes(2));
    seen.error(passport.read(&passport_token));
    seen.error(passport.rectify(CANARY.to_owned(), &passport_token));
    ledger.withdraw(&otp).unwrap();

    seen.debug(&selfie);
    seen.debug(&passport);
    for subject in [&alice, &bob] {
        let history = ledger.history(subject);
        seen.debug(&history);
        seen.0.push(serde_json::to_string(&history).unwrap());
    }
    for receipt in [
        selfie.destroy(DestructionReason::ConsentWithdrawn),
        passport.destroy(DestructionReason::SubjectRequest),
        phone.destroy(DestructionReason::RelationshipEnded),
    ] {
        seen.debug(&receipt);
        seen.0.push(receipt.to_string());
        seen.0.push(serde_json::to_string(&receipt).unwrap());
    }
    seen.assert_clean();
}

/// Alice, who consented in writing to identity verification with her selfie and passport,
/// and both records holding the canary.
struct Alice {
    id: SubjectId,
    selfie_token: ConsentToken<Biometric>,
    passport_token: ConsentToken<Passport>,
    selfie: PersonalData<Vec<u8>, Biometric>,
    passport: PersonalData<String, Passport>,
}

impl Alice {
    fn collected(ledger: &ConsentLedger) -> Self {
        let id = SubjectId::new("cust-alice").unwrap();
        ledger
            .grant(
                Grant::new(
                    id.clone(),
                    ConsentForm::Written {
                        document_sha256: DocumentHash::of(b"form"),
                    },
                )
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .category::<Biometric>()
                .category::<Passport>(),
            )
            .unwrap();
        let selfie_token = ledger
            .authorize::<Biometric>(&id, &Purpose::IDENTITY_VERIFICATION)
            .unwrap();
        let passport_token = ledger
            .authorize::<Passport>(&id, &Purpose::IDENTITY_VERIFICATION)
            .unwrap();
        let selfie = PersonalData::collect(&id, CANARY.as_bytes().to_vec(), &selfie_token).unwrap();
        let passport = PersonalData::collect(&id, CANARY.to_owned(), &passport_token).unwrap();
        Self {
            id,
            selfie_token,
            passport_token,
            selfie,
            passport,
        }
    }
}

#[test]
fn a_canary_never_reaches_the_retention_schedule() {
    use std::sync::Arc;

    use amanat::retention::{
        HoldGround, HoldScope, HoldUntil, LegalHold, RetentionSchedule, Trigger,
    };

    let policy = Arc::new(imanum());
    let clock = ManualClock::new(DateTime::UNIX_EPOCH + TimeDelta::days(20_000));
    let ledger = ledger_under(&policy, &clock).build();
    let Alice {
        id: alice,
        selfie_token,
        passport_token,
        mut selfie,
        mut passport,
    } = Alice::collected(&ledger);
    let schedule = RetentionSchedule::new(policy);
    schedule.track(&mut selfie).unwrap();
    schedule.track(&mut passport).unwrap();
    schedule
        .place_hold(LegalHold {
            scope: HoldScope::Record(passport.id()),
            reason: "aml".into(),
            ground: HoldGround::Statute {
                law: "AML law".into(),
                article: "Art. 12".into(),
            },
            readable_for: vec![Purpose::LEGAL_OBLIGATION],
            until: HoldUntil::Released,
        })
        .unwrap();
    schedule.trigger(&alice, Trigger::AccountClosed, clock.now());
    let report = schedule.sweep(clock.now());
    let mut seen = Seen(Vec::new());
    seen.debug(&report);
    seen.0.push(serde_json::to_string(&report).unwrap());
    for receipt in &report.destroyed {
        seen.0.push(receipt.to_string());
    }
    seen.debug(&schedule.decisions());
    seen.0
        .push(serde_json::to_string(&schedule.decisions()).unwrap());
    seen.debug(&schedule);
    seen.error(selfie.read(&selfie_token));
    seen.error(passport.read(&passport_token));
    for text in &seen.0 {
        assert!(!text.contains(CANARY), "leaked in: {text}");
    }
    assert_eq!(report.destroyed.len(), 1);
}

#[test]
fn a_canary_never_reaches_permits_notices_or_transfer_errors() {
    use std::sync::Arc;

    use amanat::category::PaymentCard;
    use amanat::disclosure::Disclosures;

    let policy = Arc::new(imanum());
    let ledger = ConsentLedger::with_policy((*policy).clone());
    let disclosures = Disclosures::new(Arc::clone(&policy));
    let alice = SubjectId::new("cust-alice").unwrap();
    ledger
        .grant(signed_grant(&alice, Purpose::CREDIT_SCORING).category::<PaymentCard>())
        .unwrap();
    let token = || {
        ledger
            .authorize::<PaymentCard>(&alice, &Purpose::CREDIT_SCORING)
            .unwrap()
    };
    let card = PersonalData::collect(&alice, CANARY.to_owned(), &token()).unwrap();
    let mut seen = Seen(Vec::new());
    seen.error(disclosures.permit(token(), "credolab"));
    seen.error(disclosures.permit(token(), "appmetrica"));
    let permit = disclosures.permit(token(), "katm").unwrap();
    seen.debug(&permit);
    let (len, receipt) = disclosures.disclose(&card, &permit, String::len).unwrap();
    assert_eq!(len, CANARY.len());
    seen.debug(&receipt);
    seen.0.push(serde_json::to_string(&receipt).unwrap());
    let notices = disclosures.pending_notices(chrono::Utc::now());
    assert_eq!(notices.len(), 1);
    seen.debug(&notices);
    seen.0.push(serde_json::to_string(&notices).unwrap());
    for text in &seen.0 {
        assert!(!text.contains(CANARY), "leaked in: {text}");
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn a_canary_never_reaches_the_operators_journal_reports_or_errors() {
    use amanat::retention::Trigger;
    use amanat::store::Operator;

    let dir = tempfile::tempdir().unwrap();
    let policy = imanum();
    let clock = ManualClock::new(DateTime::UNIX_EPOCH + TimeDelta::days(20_000));
    let operator = Operator::builder(
        dir.path(),
        policy.clone(),
        crate::common::keys_for(dir.path()),
    )
    .clock(clock.clone())
    .open()
    .unwrap();
    let Alice {
        id: alice,
        selfie_token,
        passport_token,
        mut selfie,
        mut passport,
    } = Alice::collected(operator.ledger());
    operator.keep(&mut selfie, &selfie_token).unwrap();
    operator.keep(&mut passport, &passport_token).unwrap();

    let mut seen = Seen(Vec::new());
    seen.debug(&operator);
    // A record never kept, one kept twice, one of another category: refused, never shown.
    seen.error(
        operator.fetch::<Vec<u8>, Biometric>(amanat::data::RecordId::random(), &selfie_token),
    );
    seen.error(operator.keep(&mut passport, &passport_token));
    seen.error(operator.fetch::<String, Passport>(selfie.id(), &passport_token));
    let report = operator.access_report(&alice, clock.now()).unwrap();
    seen.debug(&report);
    seen.0.push(serde_json::to_string(&report).unwrap());
    operator
        .trigger(&alice, Trigger::AccountClosed, clock.now())
        .unwrap();
    let swept = operator.sweep(clock.now()).unwrap();
    seen.debug(&swept);
    // The passport outlives the closure under the policy's statutory minimum, kept from
    // the consent it was collected on; the selfie is gone.
    seen.error(
        operator
            .fetch::<String, Passport>(passport.id(), &passport_token)
            .and_then(|copy| copy.read(&passport_token).map(|value| value.len())),
    );
    seen.error(operator.fetch::<Vec<u8>, Biometric>(selfie.id(), &selfie_token));
    for entry in operator.audit_log().entries().unwrap() {
        seen.0.push(serde_json::to_string(&entry).unwrap());
    }
    drop(operator);
    for payload in crate::common::log_payloads(dir.path()) {
        seen.0.push(String::from_utf8_lossy(&payload).into_owned());
    }
    seen.assert_clean();
}
