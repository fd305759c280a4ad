//! The end of the term a consent set ends the processing it allowed (ZRU-547 Art. 17,
//! 3rd indent; Art. 19): an operator's sweep finds it and destroys the records collected
//! for its purposes — unless another consent still holds them — once, even across reopens.

#![cfg(feature = "sqlite")]

use amanat::category::{IdentityDocument, Phone};
use amanat::{Clock, DestructionReason, ManualClock, PersonalData, Purpose};
use chrono::TimeDelta;

use crate::common::{PHONE, change_kinds, customer, imanum_operator, monday, otp_grant};

/// Keeps the customer's phone for the service on a consent that ends after a day, and
/// returns the record's id and the consent's.
fn kept_for_a_day(
    operator: &amanat::store::Operator,
    clock: &ManualClock,
) -> (amanat::data::RecordId, amanat::ConsentId) {
    let consent = operator
        .ledger()
        .grant(
            otp_grant(&customer(), Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .valid_until(clock.now() + TimeDelta::days(1)),
        )
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), PHONE.to_owned(), &token).unwrap();
    operator.keep(&mut phone, &token).unwrap();
    (phone.id(), consent)
}

#[test]
fn a_record_on_a_consent_whose_term_ended_is_destroyed_at_the_next_sweep_uz_art_17() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let (record, _) = kept_for_a_day(&operator, &clock);
    // Before the term ends, nothing is due.
    clock.advance(TimeDelta::hours(23));
    assert!(operator.sweep_now().unwrap().destroyed.is_empty());
    clock.advance(TimeDelta::hours(2));
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed.len(), 1, "{report:?}");
    assert_eq!(report.destroyed[0].record, record);
    assert_eq!(
        report.destroyed[0].reason,
        DestructionReason::ConsentTermEnded
    );
}

#[test]
fn another_consent_in_force_for_the_purpose_keeps_the_record_uz_art_17() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let (record, _) = kept_for_a_day(&operator, &clock);
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    clock.advance(TimeDelta::days(2));
    assert!(operator.sweep_now().unwrap().destroyed.is_empty());
    assert!(operator.schedule().deadline(record).is_none());
}

#[test]
fn a_consent_renewed_before_its_term_ended_keeps_the_record_uz_art_17() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let (record, consent) = kept_for_a_day(&operator, &clock);
    clock.advance(TimeDelta::hours(12));
    operator
        .ledger()
        .renew(&consent, Some(clock.now() + TimeDelta::days(30)))
        .unwrap();
    clock.advance(TimeDelta::days(2));
    assert!(operator.sweep_now().unwrap().destroyed.is_empty());
    assert!(operator.schedule().deadline(record).is_none());
    // The renewed term ends too.
    clock.advance(TimeDelta::days(30));
    assert_eq!(operator.sweep_now().unwrap().destroyed.len(), 1);
}

#[test]
fn a_term_that_ended_while_the_operator_was_closed_is_found_after_the_reopen_and_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let (record, _) = kept_for_a_day(&operator, &clock);
    drop(operator);
    clock.advance(TimeDelta::days(3));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed.len(), 1, "{report:?}");
    assert_eq!(report.destroyed[0].record, record);
    drop(operator);
    let triggered = |kinds: &[String]| kinds.iter().filter(|k| *k == "triggered").count();
    let before = triggered(&change_kinds(dir.path()));
    assert_eq!(before, 1);
    // Every later open finds the same ended term; it changes nothing, so nothing is kept.
    for _ in 0..2 {
        clock.advance(TimeDelta::hours(1));
        let operator = imanum_operator(dir.path(), &clock).open().unwrap();
        assert!(operator.sweep_now().unwrap().destroyed.is_empty());
    }
    assert_eq!(triggered(&change_kinds(dir.path())), before);
}

#[test]
fn a_term_ends_for_the_categories_no_other_consent_holds_uz_art_17() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let (record, _) = kept_for_a_day(&operator, &clock);
    // Another consent for the service, on the passport only: it does not hold the phone.
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<IdentityDocument>())
        .unwrap();
    clock.advance(TimeDelta::days(2));
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed.len(), 1, "{report:?}");
    assert_eq!(report.destroyed[0].record, record);
}

/// The sweep looks at subjects only after it has let go of the consents: `grant` locks a
/// subject, then its consent, and the other order deadlocked (found by a review). Each
/// round, a sweep that finds ended terms runs while another thread grants; it must end.
#[test]
fn a_sweep_finding_ended_terms_while_consents_are_granted_ends() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let operator = Arc::new(imanum_operator(dir.path(), &clock).open().unwrap());
    let subjects: Vec<_> = (0..64)
        .map(|n| amanat::SubjectId::new(format!("s{n}")).unwrap())
        .collect();
    for round in 0..8 {
        for n in 0..200 {
            operator
                .ledger()
                .grant(
                    otp_grant(&subjects[n % 64], Purpose::SERVICE_PROVISION)
                        .category::<Phone>()
                        .valid_until(clock.now() + TimeDelta::seconds(1)),
                )
                .unwrap();
        }
        clock.advance(TimeDelta::seconds(2));
        let stop = Arc::new(AtomicBool::new(false));
        let granter = {
            let (operator, stop, subjects, clock) = (
                Arc::clone(&operator),
                Arc::clone(&stop),
                subjects.clone(),
                clock.clone(),
            );
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let _ = operator.ledger().grant(
                        otp_grant(&subjects[n % 64], Purpose::MARKETING_ANALYTICS)
                            .category::<Phone>()
                            .valid_until(clock.now() + TimeDelta::days(3650)),
                    );
                    n += 1;
                }
            })
        };
        let (done, finished) = std::sync::mpsc::channel();
        let sweeper = {
            let operator = Arc::clone(&operator);
            std::thread::spawn(move || {
                let swept = operator.sweep_now().map(|_| ());
                let _ = done.send(swept);
            })
        };
        // A liveness bound, not a measure of speed: a deadlocked sweep never answers.
        let swept = finished.recv_timeout(std::time::Duration::from_secs(120));
        stop.store(true, Ordering::Relaxed);
        assert!(
            matches!(swept, Ok(Ok(()))),
            "round {round}: the sweep never ended"
        );
        granter.join().unwrap();
        sweeper.join().unwrap();
    }
}
