//! A hostile caller: code in the same process, with safe Rust and the public API only,
//! trying to open what its tokens don't entitle it to. Each test is the attack, written as
//! the attacker would, and the refusal it must meet (issue 15; SECURITY.md).

use std::sync::Arc;
use std::time::Duration;

use amanat::category::{Access, Biometric, Category, CategoryId, Phone};
use amanat::retention::{RetentionSchedule, Trigger};
use amanat::{
    ConsentLedger, DestructionReason, Error, LegalBasis, ManualClock, PersonalData, PolicyVersion,
    Purpose,
};
use chrono::TimeDelta;

use crate::common::{customer, imanum, ledger_under, otp_grant, policy_day, written_grant};

/// A ledger the attacker makes for themselves: no policy, no log.
fn private_ledger() -> ConsentLedger {
    ConsentLedger::new(PolicyVersion::new("mine").unwrap())
}

/// The operator's ledger, with the customer's selfie collected on written consent.
fn selfie_of_customer() -> (ConsentLedger, PersonalData<Vec<u8>, Biometric>) {
    let ledger = ConsentLedger::new(PolicyVersion::new("v1").unwrap());
    ledger
        .grant(written_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Biometric>())
        .unwrap();
    let token = ledger
        .authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let selfie = PersonalData::collect(&customer(), b"selfie".to_vec(), &token).unwrap();
    (ledger, selfie)
}

#[test]
fn a_consent_token_of_another_ledger_opens_no_record() {
    let (_, selfie) = selfie_of_customer();
    let mine = private_ledger();
    mine.grant(
        written_grant(&customer(), Purpose::new("anything").unwrap()).category::<Biometric>(),
    )
    .unwrap();
    let forged = mine
        .authorize::<Biometric>(&customer(), &Purpose::new("anything").unwrap())
        .unwrap();
    assert!(matches!(
        selfie.read(&forged),
        Err(Error::ForeignToken { .. })
    ));
    assert!(matches!(
        selfie.with(&forged, Vec::len),
        Err(Error::ForeignToken { .. })
    ));
}

#[test]
fn a_basis_token_of_another_ledger_opens_no_record() {
    let ledger = ConsentLedger::new(PolicyVersion::new("v1").unwrap());
    ledger
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = PersonalData::collect(&customer(), "+998901234567".to_owned(), &token).unwrap();
    let mine = private_ledger();
    let forged = mine
        .authorize_with_basis::<Phone>(
            &customer(),
            &Purpose::FRAUD_PREVENTION,
            LegalBasis::LegalObligation {
                reference: "whatever".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        phone.read(&forged),
        Err(Error::ForeignToken { .. })
    ));
}

/// A user type that claims the id of the built-in biometric category, without its rule.
enum NotBiometric {}

impl Category for NotBiometric {
    const ID: CategoryId = CategoryId::new("biometric");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Restricted;
}

#[test]
fn a_type_reusing_a_built_in_category_id_is_refused_at_first_use() {
    let ledger = ConsentLedger::new(PolicyVersion::new("v1").unwrap());
    // Biometric is always registered first, so the impostor always loses.
    assert!(matches!(
        ledger.grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<NotBiometric>()),
        Err(Error::CategoryIdTaken { .. })
    ));
    let token = ledger
        .authorize_with_basis::<NotBiometric>(
            &customer(),
            &Purpose::FRAUD_PREVENTION,
            LegalBasis::LegalObligation {
                reference: "AML law".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        PersonalData::collect(&customer(), b"x".to_vec(), &token),
        Err(Error::CategoryIdTaken { .. })
    ));
}

#[test]
fn past_its_deadline_a_record_opens_to_no_token_without_a_hold_art_20() {
    let policy = Arc::new(imanum());
    let clock = ManualClock::new(policy_day());
    let ledger = ledger_under(&policy, &clock).build();
    let schedule = RetentionSchedule::builder(Arc::clone(&policy))
        .clock(clock.clone())
        .build();
    ledger
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), "+998901234567".to_owned(), &token).unwrap();
    schedule.track(&mut phone).unwrap();
    schedule.trigger(&customer(), Trigger::AccountClosed, policy_day());
    clock.advance(TimeDelta::minutes(1));
    let basis = ledger
        .authorize_with_basis::<Phone>(
            &customer(),
            &Purpose::FRAUD_PREVENTION,
            LegalBasis::LegalObligation {
                reference: "AML law".into(),
            },
        )
        .unwrap();
    // No hold anywhere: the deadline binds the basis token as it binds consent.
    assert!(matches!(
        phone.read(&basis),
        Err(Error::RetentionExpired { .. })
    ));
}

#[test]
fn a_forgotten_exposed_value_does_not_stop_its_destruction() {
    let policy = Arc::new(imanum());
    let clock = ManualClock::new(policy_day());
    let ledger = ledger_under(&policy, &clock).build();
    let schedule = RetentionSchedule::builder(Arc::clone(&policy))
        .clock(clock.clone())
        .build();
    ledger
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), "+998901234567".to_owned(), &token).unwrap();
    schedule.track(&mut phone).unwrap();
    std::mem::forget(phone.read(&token).unwrap());
    schedule.trigger(&customer(), Trigger::AccountClosed, policy_day());
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let report = schedule.sweep(policy_day() + TimeDelta::days(1));
        let _ = done.send(report);
    });
    let report = finished
        .recv_timeout(Duration::from_secs(5))
        .expect("a forgotten reader deadlocked the destruction");
    assert_eq!(report.destroyed.len(), 1);
    assert!(phone.read(&token).is_err());
    drop(phone.destroy(DestructionReason::RetentionExpired));
}
