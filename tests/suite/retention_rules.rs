//! Retention as the law sets it: each trigger, logout that is not one, legal holds, and
//! destruction hooks that fail, retry and never complete twice.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{customer, imanum, ledger_under, otp, policy_day};
use amanat::audit::AuditEvent;
use amanat::category::{Biometric, Category, Passport, PaymentCard, Phone};
use amanat::data::RecordId;
use amanat::retention::{
    DestructionHook, DestructionRequest, HoldGround, HoldScope, HoldUntil, HookError, LegalHold,
    RetentionSchedule, Trigger,
};
use amanat::{DestructionReason, Error, Purpose};
use chrono::{TimeDelta, TimeZone, Utc};

/// A hook that records every request and fails the first `failures` of them.
struct Recorder {
    name: &'static str,
    failures: AtomicU32,
    seen: Mutex<Vec<DestructionRequest>>,
}

impl Recorder {
    fn new(name: &'static str, failures: u32) -> Arc<Self> {
        Arc::new(Self {
            name,
            failures: AtomicU32::new(failures),
            seen: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<DestructionRequest> {
        self.seen.lock().unwrap().clone()
    }
}

struct Shared(Arc<Recorder>);

impl DestructionHook for Shared {
    fn name(&self) -> &str {
        self.0.name
    }

    fn destroy(&self, request: &DestructionRequest) -> Result<(), HookError> {
        self.0.seen.lock().unwrap().push(request.clone());
        let left = self.0.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.0.failures.store(left - 1, Ordering::SeqCst);
            return Err(HookError("object storage unavailable".into()));
        }
        Ok(())
    }
}

fn schedule() -> RetentionSchedule {
    RetentionSchedule::new(Arc::new(imanum()))
}

fn track<C: Category>(schedule: &RetentionSchedule, purpose: &Purpose) -> RecordId {
    let record = RecordId::random();
    schedule
        .track_record(record, &customer(), C::ID, purpose, policy_day())
        .unwrap();
    record
}

#[test]
fn a_record_kept_after_collection_is_destroyed_when_its_period_runs_out_art_14_3() {
    let schedule = schedule();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let year = policy_day() + TimeDelta::days(365);
    assert_eq!(schedule.deadline(card), Some(year));
    assert!(
        schedule
            .sweep(year - TimeDelta::seconds(1))
            .destroyed
            .is_empty()
    );
    let report = schedule.sweep(year);
    assert_eq!(report.destroyed.len(), 1);
    let receipt = &report.destroyed[0];
    assert_eq!(receipt.record, card);
    assert_eq!(receipt.reason, DestructionReason::RetentionExpired);
    assert!(receipt.rule.as_deref().unwrap().contains("credit_scoring"));
    assert!(schedule.is_empty());
}

#[test]
fn closing_the_account_ends_the_relationship_art_20() {
    let schedule = schedule();
    let selfie = track::<Biometric>(&schedule, &Purpose::IDENTITY_VERIFICATION);
    assert_eq!(schedule.deadline(selfie), None);
    assert!(
        schedule
            .sweep(policy_day() + TimeDelta::days(3650))
            .destroyed
            .is_empty()
    );
    let closed = policy_day() + TimeDelta::days(100);
    assert_eq!(
        schedule.trigger(&customer(), Trigger::AccountClosed, closed),
        [selfie]
    );
    let report = schedule.sweep(closed);
    assert_eq!(
        report.destroyed[0].reason,
        DestructionReason::RelationshipEnded
    );
}

#[test]
fn closing_the_account_ends_a_period_counted_from_collection_art_20() {
    // Kept a year from collection for scoring and marketing: the closure ends it now.
    let schedule = schedule();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let phone = track::<Phone>(&schedule, &Purpose::MARKETING_ANALYTICS);
    let counted = track::<Phone>(&schedule, &Purpose::STATISTICS);
    let closed = policy_day() + TimeDelta::days(30);
    let moved = schedule.trigger(&customer(), Trigger::AccountClosed, closed);
    assert_eq!(moved.len(), 3, "{moved:?}");
    for record in [card, phone, counted] {
        assert_eq!(schedule.deadline(record), Some(closed));
    }
    let report = schedule.sweep(closed);
    assert_eq!(report.destroyed.len(), 3);
    assert!(
        report
            .destroyed
            .iter()
            .all(|r| r.reason == DestructionReason::RelationshipEnded)
    );
}

#[test]
fn closing_the_account_ends_a_period_counted_from_achieving_the_purpose_art_20() {
    let schedule = schedule();
    let phone = track::<Phone>(&schedule, &Purpose::IDENTITY_VERIFICATION);
    let achieved = policy_day() + TimeDelta::days(1);
    schedule.trigger(
        &customer(),
        Trigger::PurposeAchieved(Purpose::IDENTITY_VERIFICATION),
        achieved,
    );
    assert_eq!(
        schedule.deadline(phone),
        Some(achieved + TimeDelta::days(30))
    );
    let closed = achieved + TimeDelta::days(2);
    schedule.trigger(&customer(), Trigger::AccountClosed, closed);
    assert_eq!(schedule.deadline(phone), Some(closed));
}

#[test]
fn a_period_counted_from_the_closure_runs_from_it_art_20() {
    // The policy cites the law that keeps fraud records five years after the end.
    let schedule = schedule();
    let card = track::<PaymentCard>(&schedule, &Purpose::FRAUD_PREVENTION);
    let closed = policy_day() + TimeDelta::days(30);
    schedule.trigger(&customer(), Trigger::AccountClosed, closed);
    assert_eq!(
        schedule.deadline(card),
        Some(Utc.with_ymd_and_hms(2030, 7, 31, 9, 0, 0).unwrap())
    );
}

/// The passport the customer's consent to the service collected, tracked in memory, and
/// the ledger that issues tokens for it.
fn passport_for_the_service(
    schedule: &RetentionSchedule,
    clock: &amanat::ManualClock,
) -> (
    amanat::ConsentLedger,
    amanat::ConsentToken<Passport>,
    amanat::PersonalData<String, Passport>,
) {
    use amanat::{Grant, PersonalData};
    let ledger = ledger_under(&imanum(), clock).build();
    ledger
        .grant(
            Grant::new(customer(), otp())
                .purpose(Purpose::SERVICE_PROVISION)
                .category::<Passport>(),
        )
        .unwrap();
    let token = ledger
        .authorize::<Passport>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut passport =
        PersonalData::collect(&customer(), String::from("AB1234567"), &token).unwrap();
    schedule.track(&mut passport).unwrap();
    (ledger, token, passport)
}

#[test]
fn an_aml_minimum_outlives_withdrawal_and_closure_and_keeps_the_record_from_other_purposes_art_14_3()
 {
    use amanat::LegalBasis;
    let clock = amanat::ManualClock::new(policy_day());
    let schedule = schedule();
    let (ledger, service, passport) = passport_for_the_service(&schedule, &clock);
    let record = passport.id();
    // Withdrawn: due at once on consent, and kept by the minimum with no end yet.
    let withdrawn = policy_day() + TimeDelta::days(1);
    schedule.trigger(
        &customer(),
        Trigger::ConsentWithdrawn(Purpose::SERVICE_PROVISION),
        withdrawn,
    );
    let report = schedule.sweep(withdrawn);
    assert!(report.destroyed.is_empty());
    assert_eq!(report.postponed, [(record, None)]);
    assert!(schedule.decisions().iter().any(|d| matches!(
        &d.event,
        AuditEvent::Postponed { minimum: Some(law), holds, .. }
            if law.contains("Recommendation 11") && holds.is_empty()
    )));
    // Closed: kept five years from the closure, not a day less.
    let closed = withdrawn + TimeDelta::days(30);
    schedule.trigger(&customer(), Trigger::AccountClosed, closed);
    let five_years = Utc.with_ymd_and_hms(2030, 8, 1, 9, 0, 0).unwrap();
    assert_eq!(
        schedule.sweep(closed).postponed,
        [(record, Some(five_years))]
    );
    // Meanwhile it opens to the legal obligation alone: not to the consent that
    // collected it, not to fraud prevention.
    clock.set(closed);
    let basis = |purpose: &Purpose| {
        ledger
            .authorize_with_basis::<Passport>(
                &customer(),
                purpose,
                LegalBasis::LegalObligation {
                    reference: "AML law".into(),
                },
            )
            .unwrap()
    };
    assert!(matches!(
        passport.read(&service),
        Err(Error::RetentionExpired { .. } | Error::TokenExpired { .. })
    ));
    assert!(matches!(
        passport.read(&basis(&Purpose::FRAUD_PREVENTION)),
        Err(Error::RetentionExpired { .. })
    ));
    assert_eq!(
        passport
            .read(&basis(&Purpose::LEGAL_OBLIGATION))
            .unwrap()
            .as_str(),
        "AB1234567"
    );
    assert!(
        schedule
            .sweep(five_years - TimeDelta::days(1))
            .destroyed
            .is_empty()
    );
    assert_eq!(schedule.sweep(five_years).destroyed[0].record, record);
}

#[test]
fn a_court_order_to_destroy_does_not_outweigh_a_statutory_minimum_art_20() {
    let schedule = schedule();
    let passport = track::<Passport>(&schedule, &Purpose::CREDIT_SCORING);
    let decided = policy_day() + TimeDelta::days(2);
    court_orders_destruction(&schedule, decided);
    let report = schedule.sweep(decided);
    assert!(report.destroyed.is_empty());
    assert_eq!(report.postponed, [(passport, None)]);
}

#[test]
fn a_record_kept_after_the_closure_is_due_at_once_art_20() {
    // Found by a review: one kept after the closure counted from its collection.
    let schedule = schedule();
    let closed = policy_day() + TimeDelta::days(30);
    schedule.trigger(&customer(), Trigger::AccountClosed, closed);
    let later = closed + TimeDelta::minutes(1);
    let phone = RecordId::random();
    schedule
        .track_record(
            phone,
            &customer(),
            Phone::ID,
            &Purpose::MARKETING_ANALYTICS,
            later,
        )
        .unwrap();
    let verified = RecordId::random();
    schedule
        .track_record(
            verified,
            &customer(),
            Phone::ID,
            &Purpose::IDENTITY_VERIFICATION,
            later,
        )
        .unwrap();
    assert_eq!(schedule.deadline(phone), Some(closed));
    assert_eq!(schedule.deadline(verified), Some(closed));
}

#[test]
fn logging_out_is_not_a_trigger_imanum_iv() {
    let schedule = schedule();
    let selfie = track::<Biometric>(&schedule, &Purpose::IDENTITY_VERIFICATION);
    assert!(
        schedule
            .trigger(&customer(), Trigger::Logout, policy_day())
            .is_empty()
    );
    assert_eq!(schedule.deadline(selfie), None);
    assert!(
        schedule
            .sweep(policy_day() + TimeDelta::days(3650))
            .destroyed
            .is_empty()
    );
    assert!(schedule.decisions().iter().any(|d| matches!(
        &d.event,
        AuditEvent::TriggerIgnored { trigger, .. } if trigger == "logout"
    )));
}

#[test]
fn a_court_decision_is_due_at_once_art_20() {
    let schedule = schedule();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let other = track::<Phone>(&schedule, &Purpose::MARKETING_ANALYTICS);
    let decided = policy_day() + TimeDelta::days(10);
    let order = Trigger::CourtDecision {
        reference: "Tashkent city court, case 2-77/25".into(),
        record: Some(card),
    };
    assert_eq!(schedule.trigger(&customer(), order, decided), [card]);
    let report = schedule.sweep(decided);
    assert_eq!(report.destroyed.len(), 1);
    assert!(matches!(
        &report.destroyed[0].reason,
        DestructionReason::CourtDecision { reference } if reference.contains("2-77/25")
    ));
    assert!(schedule.deadline(other).is_some());
}

#[test]
fn withdrawal_destroys_only_where_no_other_basis_holds_art_11_1() {
    let schedule = schedule();
    let marketing = track::<Phone>(&schedule, &Purpose::MARKETING_ANALYTICS);
    let fraud = track::<Phone>(&schedule, &Purpose::FRAUD_PREVENTION);
    let at = policy_day() + TimeDelta::days(1);
    assert_eq!(
        schedule.trigger(
            &customer(),
            Trigger::ConsentWithdrawn(Purpose::MARKETING_ANALYTICS),
            at
        ),
        [marketing]
    );
    assert!(
        schedule
            .trigger(
                &customer(),
                Trigger::ConsentWithdrawn(Purpose::FRAUD_PREVENTION),
                at
            )
            .is_empty()
    );
    let report = schedule.sweep(at);
    assert_eq!(report.destroyed.len(), 1);
    assert_eq!(
        report.destroyed[0].reason,
        DestructionReason::ConsentWithdrawn
    );
    assert_eq!(schedule.deadline(fraud), None);
}

#[test]
fn achieving_the_purpose_starts_its_period_art_14_3() {
    let schedule = schedule();
    let phone = track::<Phone>(&schedule, &Purpose::IDENTITY_VERIFICATION);
    let verified = policy_day() + TimeDelta::hours(1);
    schedule.trigger(
        &customer(),
        Trigger::PurposeAchieved(Purpose::IDENTITY_VERIFICATION),
        verified,
    );
    assert_eq!(
        schedule.deadline(phone),
        Some(verified + TimeDelta::days(30))
    );
}

#[test]
fn an_aml_hold_keeps_the_passport_five_years_after_the_account_closes_fatf_11() {
    let schedule = schedule();
    let selfie = track::<Biometric>(&schedule, &Purpose::IDENTITY_VERIFICATION);
    let passport = track::<Passport>(&schedule, &Purpose::IDENTITY_VERIFICATION);
    schedule
        .place_hold(LegalHold {
            scope: HoldScope::Record(passport),
            reason: "customer due diligence records".into(),
            ground: HoldGround::Statute {
                law: "AML law".into(),
                article: "FATF Recommendation 11".into(),
            },
            readable_for: vec![Purpose::LEGAL_OBLIGATION],
            until: HoldUntil::AfterRelationshipEnd {
                years: 5,
                months: 0,
                days: 0,
            },
        })
        .unwrap();
    let closed = policy_day() + TimeDelta::days(30);
    schedule.trigger(&customer(), Trigger::AccountClosed, closed);
    let report = schedule.sweep(closed);
    assert_eq!(report.destroyed.len(), 1);
    assert_eq!(report.destroyed[0].record, selfie);
    let five_years = Utc.with_ymd_and_hms(2030, 7, 31, 9, 0, 0).unwrap();
    assert_eq!(report.postponed, [(passport, Some(five_years))]);
    assert!(
        schedule
            .sweep(five_years - TimeDelta::days(1))
            .destroyed
            .is_empty()
    );
    let report = schedule.sweep(five_years);
    assert_eq!(report.destroyed[0].record, passport);
}

/// A hold on `ground` over every record of the customer, until released.
fn hold_on(schedule: &RetentionSchedule, ground: HoldGround) -> amanat::retention::HoldId {
    schedule
        .place_hold(LegalHold {
            scope: HoldScope::Subject(customer()),
            reason: "a dispute".into(),
            ground,
            readable_for: Vec::new(),
            until: HoldUntil::Released,
        })
        .unwrap()
}

fn court_orders_destruction(schedule: &RetentionSchedule, at: chrono::DateTime<Utc>) {
    schedule.trigger(
        &customer(),
        Trigger::CourtDecision {
            reference: "Tashkent city court, case 2-77/25".into(),
            record: None,
        },
        at,
    );
}

#[test]
fn a_court_order_to_destroy_outweighs_an_internal_hold_or_an_investigation_art_20() {
    let schedule = schedule();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let internal = hold_on(
        &schedule,
        HoldGround::Internal {
            reference: "internal case 17".into(),
        },
    );
    let inquiry = hold_on(
        &schedule,
        HoldGround::Investigation {
            authority: "financial intelligence unit".into(),
            reference: "request 2025/77".into(),
        },
    );
    let decided = policy_day() + TimeDelta::days(2);
    court_orders_destruction(&schedule, decided);
    let report = schedule.sweep(decided);
    assert_eq!(report.destroyed.len(), 1, "{report:?}");
    let receipt = &report.destroyed[0];
    assert_eq!(receipt.record, card);
    // The receipt, and the trail, say which holds the order outweighed.
    assert_eq!(receipt.holds_overridden, [internal, inquiry]);
    assert!(receipt.to_string().contains("outweighed"));
    assert!(schedule.decisions().iter().any(|d| matches!(
        &d.event,
        AuditEvent::Destruction { overrode, .. } if overrode == &[internal, inquiry]
    )));
}

#[test]
fn a_court_order_to_destroy_yields_to_a_statute_or_another_court_order_art_20() {
    for ground in [
        HoldGround::Statute {
            law: "AML law".into(),
            article: "Art. 12".into(),
        },
        HoldGround::CourtOrder {
            court: "Dushanbe city court".into(),
            case: "2-114/25".into(),
        },
    ] {
        let schedule = schedule();
        let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
        let hold = hold_on(&schedule, ground.clone());
        let decided = policy_day() + TimeDelta::days(2);
        court_orders_destruction(&schedule, decided);
        let report = schedule.sweep(decided);
        assert!(report.destroyed.is_empty(), "{ground:?}");
        assert_eq!(report.postponed, [(card, None)]);
        assert!(schedule.decisions().iter().any(|d| matches!(
            &d.event,
            AuditEvent::Postponed { holds, .. } if holds == &[hold]
        )));
        // Released by a person, the order is carried out.
        schedule.release_hold(hold).unwrap();
        assert!(matches!(
            schedule.release_hold(hold),
            Err(Error::UnknownHold { .. })
        ));
        let report = schedule.sweep(decided);
        assert_eq!(report.destroyed.len(), 1);
        assert!(report.destroyed[0].holds_overridden.is_empty());
    }
}

#[test]
fn a_court_order_reaches_a_record_already_due_and_held_art_20() {
    // Due at its period's end and kept by an internal hold; then a court orders it
    // destroyed: the reason it is due changes, and the hold no longer keeps it.
    let schedule = schedule();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let internal = hold_on(
        &schedule,
        HoldGround::Internal {
            reference: "internal case 18".into(),
        },
    );
    let year = policy_day() + TimeDelta::days(366);
    assert_eq!(schedule.sweep(year).postponed, [(card, None)]);
    court_orders_destruction(&schedule, year + TimeDelta::days(1));
    let report = schedule.sweep(year + TimeDelta::days(1));
    assert_eq!(report.destroyed[0].record, card);
    assert_eq!(report.destroyed[0].holds_overridden, [internal]);
    assert!(matches!(
        report.destroyed[0].reason,
        DestructionReason::CourtDecision { .. }
    ));
}

#[test]
fn a_hold_with_a_blank_ground_is_refused() {
    let schedule = schedule();
    for ground in [
        HoldGround::Statute {
            law: "AML law".into(),
            article: " ".into(),
        },
        HoldGround::CourtOrder {
            court: String::new(),
            case: "2-1/25".into(),
        },
        HoldGround::Internal {
            reference: String::new(),
        },
    ] {
        let refused = schedule.place_hold(LegalHold {
            scope: HoldScope::Subject(customer()),
            reason: "a dispute".into(),
            ground,
            readable_for: Vec::new(),
            until: HoldUntil::Released,
        });
        assert!(
            matches!(refused, Err(Error::MissingReference { .. })),
            "{refused:?}"
        );
    }
}

#[test]
fn a_failing_hook_is_retried_with_one_key_and_never_completes_twice() {
    let storage = Recorder::new("object-storage", 2);
    let rows = Recorder::new("database", 0);
    let schedule = RetentionSchedule::builder(Arc::new(imanum()))
        .hook::<PaymentCard>(Shared(Arc::clone(&storage)))
        .hook::<PaymentCard>(Shared(Arc::clone(&rows)))
        .backoff(Duration::from_secs(60), Duration::from_secs(3600))
        .build();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let due = policy_day() + TimeDelta::days(365);

    let first = schedule.sweep(due);
    assert!(first.destroyed.is_empty());
    assert_eq!(first.retrying, [(card, due + TimeDelta::minutes(1))]);
    // Not before the backoff.
    assert!(
        schedule
            .sweep(due + TimeDelta::seconds(30))
            .retrying
            .is_empty()
    );
    let second = schedule.sweep(due + TimeDelta::minutes(1));
    assert_eq!(second.retrying, [(card, due + TimeDelta::minutes(3))]);
    let third = schedule.sweep(due + TimeDelta::minutes(3));
    assert_eq!(third.destroyed.len(), 1);
    assert_eq!(
        third.destroyed[0].hooks_confirmed,
        ["database", "object-storage"]
    );

    let calls = storage.calls();
    assert_eq!(calls.len(), 3);
    assert!(
        calls
            .iter()
            .all(|c| c.idempotency_key == calls[0].idempotency_key)
    );
    assert_eq!(
        calls.iter().map(|c| c.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // The hook that confirmed at once is not asked again.
    assert_eq!(rows.calls().len(), 1);

    assert!(
        schedule
            .sweep(due + TimeDelta::days(30))
            .destroyed
            .is_empty()
    );
    assert!(matches!(
        schedule.track_record(
            card,
            &customer(),
            PaymentCard::ID,
            &Purpose::CREDIT_SCORING,
            due
        ),
        Err(Error::AlreadyTracked { .. })
    ));
}

#[test]
fn a_destruction_stuck_past_the_limit_is_reported_not_dropped() {
    let storage = Recorder::new("object-storage", u32::MAX);
    let schedule = RetentionSchedule::builder(Arc::new(imanum()))
        .hook::<PaymentCard>(Shared(Arc::clone(&storage)))
        .backoff(Duration::from_secs(60), Duration::from_secs(600))
        .stuck_after(Duration::from_secs(3600))
        .build();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let due = policy_day() + TimeDelta::days(365);
    let mut now = due;
    let mut reported = Vec::new();
    while now < due + TimeDelta::hours(2) {
        reported.extend(schedule.sweep(now).stuck);
        now += TimeDelta::minutes(10);
    }
    assert!(!reported.is_empty());
    assert!(reported.iter().all(|s| s.record == card));
    let stuck = schedule.stuck(now);
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].waiting_for, ["object-storage"]);
    assert_eq!(stuck[0].last_error, "object storage unavailable");
    assert_eq!(schedule.len(), 1);
}

struct Panicking;

impl DestructionHook for Panicking {
    fn name(&self) -> &'static str {
        "panicking"
    }

    fn destroy(&self, _: &DestructionRequest) -> Result<(), HookError> {
        panic!("a bug in the hook");
    }
}

#[test]
fn a_panicking_hook_is_a_failure_to_retry() {
    let schedule = RetentionSchedule::builder(Arc::new(imanum()))
        .hook::<PaymentCard>(Panicking)
        .build();
    let card = track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING);
    let report = schedule.sweep(policy_day() + TimeDelta::days(365));
    assert_eq!(report.retrying.len(), 1);
    assert_eq!(report.retrying[0].0, card);
    assert_eq!(schedule.len(), 1);
}

#[test]
fn a_record_without_a_retention_rule_is_refused() {
    let schedule = schedule();
    let err = schedule
        .track_record(
            RecordId::random(),
            &customer(),
            PaymentCard::ID,
            &Purpose::MARKETING_ANALYTICS,
            policy_day(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NoRetentionRule { .. }));
}

#[test]
fn data_in_memory_past_its_deadline_opens_only_to_the_basis_that_holds_it() {
    use amanat::{Grant, LegalBasis, ManualClock, PersonalData};
    let policy = Arc::new(imanum());
    let clock = ManualClock::new(policy_day());
    let ledger = ledger_under(&policy, &clock).build();
    let schedule = RetentionSchedule::new(Arc::clone(&policy));
    ledger
        .grant(
            Grant::new(customer(), otp())
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .purpose(Purpose::SERVICE_PROVISION)
                .category::<Passport>()
                .category::<Phone>(),
        )
        .unwrap();
    let token = ledger
        .authorize::<Passport>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let mut passport =
        PersonalData::collect(&customer(), String::from("AB1234567"), &token).unwrap();
    let phone_token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone =
        PersonalData::collect(&customer(), String::from("+998901234567"), &phone_token).unwrap();
    schedule.track(&mut passport).unwrap();
    schedule.track(&mut phone).unwrap();
    assert!(matches!(
        schedule.track(&mut passport),
        Err(Error::AlreadyTracked { .. })
    ));
    schedule
        .place_hold(LegalHold {
            scope: HoldScope::Record(passport.id()),
            reason: "customer due diligence".into(),
            ground: HoldGround::Statute {
                law: "AML law".into(),
                article: "Art. 12".into(),
            },
            readable_for: vec![Purpose::LEGAL_OBLIGATION],
            until: HoldUntil::AfterRelationshipEnd {
                years: 5,
                months: 0,
                days: 0,
            },
        })
        .unwrap();

    schedule.trigger(&customer(), Trigger::AccountClosed, policy_day());
    let report = schedule.sweep(policy_day());
    assert_eq!(report.destroyed.len(), 1);
    // The destroyed phone's copy refuses everything.
    assert!(matches!(
        phone.read(&phone_token),
        Err(Error::RecordDestroyed { .. })
    ));
    // The held passport refuses consent, and opens to the basis that keeps it.
    assert!(matches!(
        passport.read(&token),
        Err(Error::RetentionExpired { .. })
    ));
    let aml = ledger
        .authorize_with_basis::<Passport>(
            &customer(),
            &Purpose::LEGAL_OBLIGATION,
            LegalBasis::LegalObligation {
                reference: "FIU request 2030/1".into(),
            },
        )
        .unwrap();
    assert_eq!(passport.read(&aml).unwrap().as_str(), "AB1234567");
}

#[test]
fn a_held_record_opens_only_to_the_purposes_its_hold_names_art_20() {
    use amanat::{Grant, LegalBasis, ManualClock, PersonalData};
    let policy = Arc::new(imanum());
    let clock = ManualClock::new(policy_day());
    let ledger = ledger_under(&policy, &clock).build();
    let schedule = RetentionSchedule::new(Arc::clone(&policy));
    ledger
        .grant(
            Grant::new(customer(), otp())
                .purpose(Purpose::SERVICE_PROVISION)
                .purpose(Purpose::MARKETING_ANALYTICS)
                .category::<Phone>(),
        )
        .unwrap();
    let service = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut phone =
        PersonalData::collect(&customer(), String::from("+998901234567"), &service).unwrap();
    schedule.track(&mut phone).unwrap();
    schedule
        .place_hold(LegalHold {
            scope: HoldScope::Record(phone.id()),
            reason: "a fraud investigation".into(),
            ground: HoldGround::Investigation {
                authority: "financial intelligence unit".into(),
                reference: "request 2025/77".into(),
            },
            readable_for: vec![Purpose::FRAUD_PREVENTION],
            until: HoldUntil::Released,
        })
        .unwrap();
    schedule.trigger(&customer(), Trigger::AccountClosed, policy_day());
    assert_eq!(schedule.sweep(policy_day()).postponed.len(), 1);

    let marketing = ledger
        .authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    let basis = |purpose: &Purpose, basis| {
        ledger
            .authorize_with_basis::<Phone>(&customer(), purpose, basis)
            .unwrap()
    };
    let court = basis(
        &Purpose::new("state_requests").unwrap(),
        LegalBasis::StateFunction {
            authority: "prosecutor's office".into(),
            reference: "request 12".into(),
        },
    );
    let fraud = basis(
        &Purpose::FRAUD_PREVENTION,
        LegalBasis::LegalObligation {
            reference: "request 2025/77".into(),
        },
    );
    for refused in [&service, &marketing, &court] {
        assert!(
            matches!(phone.read(refused), Err(Error::RetentionExpired { .. })),
            "read for {}",
            refused.purpose()
        );
    }
    assert_eq!(phone.read(&fraud).unwrap().as_str(), "+998901234567");
}

/// A value that says when it was zeroized.
struct Watched {
    text: String,
    wiped: Arc<std::sync::atomic::AtomicBool>,
}

impl zeroize::Zeroize for Watched {
    fn zeroize(&mut self) {
        self.text.zeroize();
        self.wiped.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_record_held_in_memory_is_zeroized_in_place_when_destroyed_art_1() {
    use amanat::{Grant, ManualClock, PersonalData};
    let policy = Arc::new(imanum());
    let clock = ManualClock::new(policy_day());
    let ledger = ledger_under(&policy, &clock).build();
    let schedule = RetentionSchedule::new(Arc::clone(&policy));
    ledger
        .grant(
            Grant::new(customer(), otp())
                .purpose(Purpose::SERVICE_PROVISION)
                .category::<Phone>(),
        )
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let collect = |text: &str| {
        let wiped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let value = Watched {
            text: text.into(),
            wiped: Arc::clone(&wiped),
        };
        (
            PersonalData::collect(&customer(), value, &token).unwrap(),
            wiped,
        )
    };
    let (mut phone, phone_wiped) = collect("+998901234567");
    let (mut second, second_wiped) = collect("+998907654321");
    schedule.track(&mut phone).unwrap();
    schedule.track(&mut second).unwrap();
    assert_eq!(phone.read(&token).unwrap().text, "+998901234567");

    // A read in progress keeps its value until it ends; the next sweep wipes it then.
    let reading = second.read(&token).unwrap();
    schedule.trigger(&customer(), Trigger::AccountClosed, policy_day());
    assert_eq!(schedule.sweep(policy_day()).destroyed.len(), 2);
    assert!(
        phone_wiped.load(Ordering::SeqCst),
        "destroyed but not zeroized"
    );
    assert!(!second_wiped.load(Ordering::SeqCst));
    assert_eq!(reading.text, "+998907654321");
    drop(reading);
    schedule.sweep(policy_day());
    assert!(second_wiped.load(Ordering::SeqCst));

    // Both records are still owned here, and both refuse every door.
    assert!(matches!(
        phone.read(&token),
        Err(Error::RecordDestroyed { .. })
    ));
    assert!(matches!(
        phone.with(&token, |v| v.text.len()),
        Err(Error::RecordDestroyed { .. })
    ));
    let wiped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let replacement = Watched {
        text: "+998900000000".into(),
        wiped: Arc::clone(&wiped),
    };
    assert!(matches!(
        second.rectify(replacement, &token),
        Err(Error::RecordDestroyed { .. })
    ));
    assert!(
        wiped.load(Ordering::SeqCst),
        "a refused value is zeroized too"
    );
}

/// A hook slow enough that two sweeps overlap while it runs.
struct Slow(Arc<Mutex<Vec<RecordId>>>);

impl DestructionHook for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }

    fn destroy(&self, request: &DestructionRequest) -> Result<(), HookError> {
        std::thread::sleep(Duration::from_millis(1));
        self.0.lock().unwrap().push(request.record);
        Ok(())
    }
}

#[test]
fn sweeps_running_at_once_destroy_each_record_once() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let schedule = RetentionSchedule::builder(Arc::new(imanum()))
        .hook::<PaymentCard>(Slow(Arc::clone(&calls)))
        .build();
    let records: Vec<RecordId> = (0..40)
        .map(|_| track::<PaymentCard>(&schedule, &Purpose::CREDIT_SCORING))
        .collect();
    let due = policy_day() + TimeDelta::days(365);
    let receipts: Vec<RecordId> = std::thread::scope(|scope| {
        let sweeps: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| schedule.sweep(due).destroyed))
            .collect();
        sweeps
            .into_iter()
            .flat_map(|sweep| sweep.join().unwrap())
            .map(|receipt| receipt.record)
            .collect()
    });
    let mut unique = receipts.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), receipts.len(), "a record was destroyed twice");
    assert_eq!(unique.len(), records.len());
    let mut asked = calls.lock().unwrap().clone();
    asked.sort_unstable();
    asked.dedup();
    assert_eq!(
        asked.len(),
        calls.lock().unwrap().len(),
        "a hook was asked twice"
    );
    assert!(schedule.is_empty());
}
