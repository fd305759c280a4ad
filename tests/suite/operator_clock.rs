//! An operator's sweeps and triggers run on its clock: a time ahead of it, or before the
//! last change on record, is refused and changes nothing. A sweep dated ten years ahead
//! destroyed a record at once that its rule keeps a year (Art. 14.3, 20).

#![cfg(feature = "sqlite")]

use amanat::category::Phone;
use amanat::retention::Trigger;
use amanat::store::Operator;
use amanat::{Clock, Error, ManualClock, PersonalData, Purpose};
use chrono::TimeDelta;

use crate::common::{PHONE, customer, imanum_operator, monday, otp_grant};

/// An operator on `clock` keeping the customer's phone number for marketing, which the
/// policy keeps a year after collection; and the record.
fn marketing_phone(
    dir: &std::path::Path,
    clock: &ManualClock,
) -> (Operator, amanat::data::RecordId) {
    let operator = imanum_operator(dir, clock).open().unwrap();
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::MARKETING_ANALYTICS).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), PHONE.to_owned(), &token).unwrap();
    operator.keep(&mut phone, &token).unwrap();
    let record = phone.id();
    (operator, record)
}

#[test]
fn a_sweep_dated_ahead_of_the_operators_clock_is_refused_art_14_3() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let (operator, record) = marketing_phone(dir.path(), &clock);
    let due = operator.schedule().deadline(record).unwrap();
    let refused = operator.sweep(clock.now() + TimeDelta::days(3650));
    assert!(
        matches!(refused, Err(Error::TimeAhead { .. })),
        "{refused:?}"
    );
    assert_eq!(refused.unwrap_err().rule(), "time_ahead");
    assert_eq!(operator.schedule().deadline(record), Some(due));
    assert!(operator.sweep_now().unwrap().destroyed.is_empty());
    // On the operator's clock, a year on, it falls due.
    clock.set(due);
    assert_eq!(operator.sweep_now().unwrap().destroyed[0].record, record);
}

#[test]
fn a_closure_dated_ahead_of_the_operators_clock_is_refused_art_20() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let (operator, record) = marketing_phone(dir.path(), &clock);
    let due = operator.schedule().deadline(record);
    let refused = operator.trigger(
        &customer(),
        Trigger::AccountClosed,
        clock.now() + TimeDelta::days(30),
    );
    assert!(
        matches!(refused, Err(Error::TimeAhead { .. })),
        "{refused:?}"
    );
    assert_eq!(operator.schedule().deadline(record), due);
}

#[test]
fn a_sweep_or_closure_dated_before_the_last_change_is_refused_art_20() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let (operator, record) = marketing_phone(dir.path(), &clock);
    let due = operator.schedule().deadline(record);
    let before = clock.now() - TimeDelta::days(1);
    let refused = operator.trigger(&customer(), Trigger::AccountClosed, before);
    assert!(
        matches!(refused, Err(Error::BeforeLastChange { .. })),
        "{refused:?}"
    );
    assert_eq!(refused.unwrap_err().rule(), "before_last_change");
    assert_eq!(operator.schedule().deadline(record), due);
    let refused = operator.sweep(before);
    assert!(
        matches!(refused, Err(Error::BeforeLastChange { .. })),
        "{refused:?}"
    );
    // After a reopen too: the last change on record is read back.
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(matches!(
        operator.sweep(before),
        Err(Error::BeforeLastChange { .. })
    ));
}

#[test]
fn a_caller_reading_a_finer_clock_than_the_operators_is_not_refused() {
    // The system clock is read coarsely; `Utc::now()` is often a few milliseconds ahead.
    let dir = tempfile::tempdir().unwrap();
    let keys = crate::common::keys_for(dir.path());
    let operator = Operator::open(dir.path(), crate::common::imanum(), keys).unwrap();
    operator.sweep(chrono::Utc::now()).unwrap();
    operator
        .trigger(&customer(), Trigger::Logout, chrono::Utc::now())
        .unwrap();
}

#[test]
fn records_kept_elsewhere_are_not_counted_from_the_future_art_14_3() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let refused = operator.schedule().track_record(
        amanat::data::RecordId::random(),
        &customer(),
        <Phone as amanat::Category>::ID,
        &Purpose::MARKETING_ANALYTICS,
        clock.now() + TimeDelta::days(3650),
    );
    assert!(
        matches!(refused, Err(Error::TimeAhead { .. })),
        "{refused:?}"
    );
    assert!(operator.schedule().is_empty());
}

#[test]
fn a_request_dated_ahead_of_the_clock_does_not_stop_the_sweeps_art_20() {
    // Found by a review: the guard took a request's date, chosen by its caller, for the
    // last change on record, and refused every sweep for ten years.
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let (operator, record) = marketing_phone(dir.path(), &clock);
    let due = operator.schedule().deadline(record).unwrap();
    operator.requests().receive(
        crate::common::subject("anyone"),
        amanat::rights::RequestKind::Access,
        clock.now() + TimeDelta::days(3650),
    );
    clock.set(due + TimeDelta::days(1));
    assert_eq!(operator.sweep_now().unwrap().destroyed.len(), 1);
    // And the same after a reopen.
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator.sweep_now().unwrap();
}

#[test]
fn the_operators_own_sweeps_pass_while_other_threads_write() {
    // Found by a review: a write between reading the clock and the last entry refused it.
    let dir = tempfile::tempdir().unwrap();
    let keys = crate::common::keys_for(dir.path());
    let operator = Operator::open(dir.path(), crate::common::imanum(), keys).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let refused = std::thread::scope(|s| {
        s.spawn(|| {
            let mut n = 0_u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let who = crate::common::subject(format!("busy-{n}"));
                let _ = operator
                    .ledger()
                    .grant(otp_grant(&who, Purpose::SERVICE_PROVISION).category::<Phone>());
            }
        });
        let refused = (0..2_000).filter(|_| operator.sweep_now().is_err()).count();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        refused
    });
    assert_eq!(refused, 0);
}

#[test]
fn a_record_collected_ahead_of_the_clock_is_not_tracked_art_14_3() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let ahead = ManualClock::new(monday() + TimeDelta::days(3650));
    let private = crate::common::ledger_under(&crate::common::imanum(), &ahead).build();
    private
        .grant(otp_grant(&customer(), Purpose::MARKETING_ANALYTICS).category::<Phone>())
        .unwrap();
    let token = private
        .authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), PHONE.to_owned(), &token).unwrap();
    assert!(matches!(
        operator.schedule().track(&mut phone),
        Err(Error::TimeAhead { .. })
    ));
}

#[test]
fn an_entry_dated_back_by_its_caller_lets_no_closure_dated_back_through_art_20() {
    // Found by a second review: a request dated ten years back moved "the last entry on
    // record" with it, and a closure dated as far back destroyed an AML record the day it
    // was kept.
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let (operator, record) = marketing_phone(dir.path(), &clock);
    let back = clock.now() - TimeDelta::days(3650);
    operator.requests().receive(
        crate::common::subject("anyone"),
        amanat::rights::RequestKind::Access,
        back,
    );
    let refused = operator.trigger(&customer(), Trigger::AccountClosed, back);
    assert!(
        matches!(refused, Err(Error::BeforeLastChange { .. })),
        "{refused:?}"
    );
    assert!(operator.sweep_now().unwrap().destroyed.is_empty());
    assert!(operator.schedule().deadline(record) > Some(clock.now()));
}
