//! What a law keeps outlives withdrawal and closure on the store, and across restarts: the
//! policy's statutory minimum keeps customer-due-diligence records five years after the
//! relationship ends, whatever purpose collected them, open only to the legal obligation
//! meanwhile (Tajik law Art. 14.3, 20).

#![cfg(feature = "sqlite")]

use amanat::category::IdentityDocument;
use amanat::retention::Trigger;
use amanat::store::Operator;
use amanat::{Clock, Error, LegalBasis, ManualClock, PersonalData, Purpose};
use chrono::TimeDelta;

use crate::common::{customer, imanum_operator, monday, otp_grant};

const PASSPORT: &str = "AA0000MINIMUM";

/// The customer's passport, read through `operator` for `purpose` on the legal obligation.
fn read_on_the_law(
    operator: &Operator,
    record: amanat::data::RecordId,
    purpose: &Purpose,
) -> Result<String, Error> {
    let token = operator.ledger().authorize_with_basis::<IdentityDocument>(
        &customer(),
        purpose,
        LegalBasis::LegalObligation {
            reference: "AML law".into(),
        },
    )?;
    let copy = operator.fetch::<String, IdentityDocument>(record, &token)?;
    copy.read(&token).map(|value| value.to_string())
}

#[test]
fn an_aml_minimum_outlives_withdrawal_closure_and_reopening_art_14_3() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let consent = operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<IdentityDocument>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut passport = PersonalData::collect(&customer(), PASSPORT.to_owned(), &token).unwrap();
    operator.keep(&mut passport, &token).unwrap();
    let record = passport.id();

    operator.withdraw(&consent).unwrap();
    clock.advance(TimeDelta::days(1));
    operator
        .trigger_now(&customer(), Trigger::AccountClosed)
        .unwrap();
    let report = operator.sweep_now().unwrap();
    assert!(report.destroyed.is_empty(), "{report:?}");
    let until = clock
        .now()
        .checked_add_months(chrono::Months::new(60))
        .unwrap();
    assert_eq!(report.postponed, [(record, Some(until))]);
    drop(operator);

    // After a restart: still kept, open to the legal obligation and to nothing else.
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(operator.sweep_now().unwrap().destroyed.is_empty());
    assert_eq!(
        read_on_the_law(&operator, record, &Purpose::LEGAL_OBLIGATION).unwrap(),
        PASSPORT
    );
    assert!(matches!(
        read_on_the_law(&operator, record, &Purpose::FRAUD_PREVENTION),
        Err(Error::RetentionExpired { .. })
    ));
    let records = operator.schedule().records_of(&customer());
    assert_eq!(records.len(), 1);
    assert!(
        records[0]
            .statutory_minimum
            .as_deref()
            .is_some_and(|law| law.contains("Recommendation 11")),
        "{records:?}"
    );

    clock.set(until);
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed[0].record, record);
}
