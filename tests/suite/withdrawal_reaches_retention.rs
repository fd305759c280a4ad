//! One withdrawal path: however an operator's consent is withdrawn — through the operator,
//! or through the ledger it hands out — the retention schedule hears it in the same change,
//! and the records collected on it fall due (Tajik law Art. 11.1; ZRU-547 Art. 17); and the caller is told when the
//! withdrawal ended the service itself (IMANUM §V).

#![cfg(feature = "sqlite")]

use amanat::category::Phone;
use amanat::{Clock, DestructionReason, ManualClock, Purpose};

use crate::common::{customer, imanum_operator, keep_phone, monday, otp_grant};

#[test]
fn a_withdrawal_through_the_operators_ledger_destroys_on_the_next_sweep_art_11_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let consent = operator.ledger().consents_of(&customer())[0];
    operator.ledger().withdraw(&consent).unwrap();
    let report = operator.sweep(clock.now()).unwrap();
    assert_eq!(report.destroyed.len(), 1, "{report:?}");
    assert_eq!(report.destroyed[0].record, record);
    assert_eq!(
        report.destroyed[0].reason,
        DestructionReason::ConsentWithdrawn
    );
}

#[test]
fn a_withdrawal_through_the_ledger_is_heard_again_after_reopening_art_11_1() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    operator
        .ledger()
        .withdraw_purpose(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(operator.schedule().deadline(record), Some(clock.now()));
    let report = operator.sweep(clock.now()).unwrap();
    assert_eq!(report.destroyed.len(), 1, "{report:?}");
}

#[test]
fn withdrawing_the_service_purpose_ends_the_service_imanum_v() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let ledger = operator.ledger();
    let grant = || otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>();
    let marketing = ledger
        .grant(otp_grant(&customer(), Purpose::MARKETING_ANALYTICS).category::<Phone>())
        .unwrap();
    let (first, second) = (
        ledger.grant(grant()).unwrap(),
        ledger.grant(grant()).unwrap(),
    );
    // Not a purpose of the service's own.
    assert!(!operator.withdraw(&marketing).unwrap().service_ended);
    // Another consent still holds the service's purpose.
    assert!(!operator.withdraw(&first).unwrap().service_ended);
    let last = operator.withdraw(&second).unwrap();
    assert!(last.service_ended, "{last:?}");
}

#[test]
fn withdrawing_the_service_purpose_by_purpose_ends_the_service_imanum_v() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator
        .ledger()
        .grant(
            otp_grant(&customer(), Purpose::SERVICE_PROVISION)
                .purpose(Purpose::MARKETING_ANALYTICS)
                .category::<Phone>(),
        )
        .unwrap();
    let marketing = operator
        .withdraw_purpose(&customer(), &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    assert!(!marketing.service_ended);
    let service = operator
        .withdraw_purpose(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    assert!(service.service_ended);
}
