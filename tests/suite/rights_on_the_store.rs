//! The subject's rights carried out on what an operator keeps, each answering a request of
//! the register and each holding after a restart: blocking (Tajik law Art. 22.1), erasure
//! on request — refused and blocked where a law keeps the record — and a copy of the
//! subject's own data, once their identity is verified (Art. 25.1).

#![cfg(feature = "sqlite")]

use amanat::category::{IdentityDocument, Phone};
use amanat::data::RecordId;
use amanat::rights::RequestKind;
use amanat::store::{IdentityCheck, Operator};
use amanat::{Clock, DestructionReason, Error, LegalBasis, ManualClock, PersonalData, Purpose};
use amanat::{SubjectId, audit::AuditEvent};

use crate::common::{PHONE, customer, imanum_operator, keep_phone, monday, otp_grant, subject};

const PASSPORT: &str = "AA0000RIGHTS";

/// The customer's phone number as a fresh token of theirs reads it back from `operator`.
fn phone_of(operator: &Operator, record: RecordId) -> Result<String, Error> {
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)?;
    let copy = operator.fetch::<String, Phone>(record, &token)?;
    copy.read(&token).map(|value| value.to_string())
}

fn request(operator: &Operator, who: SubjectId, kind: RequestKind) -> u64 {
    operator
        .requests()
        .receive(who, kind, operator.ledger().clock().now())
}

/// Keeps `value` as `who`'s passport, on their consent to the service.
fn keep_passport(operator: &Operator, who: &SubjectId, value: &str) -> RecordId {
    operator
        .ledger()
        .grant(otp_grant(who, Purpose::SERVICE_PROVISION).category::<IdentityDocument>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(who, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut passport = PersonalData::collect(who, value.to_owned(), &token).unwrap();
    operator.keep(&mut passport, &token).unwrap();
    passport.id()
}

#[test]
fn a_block_holds_for_every_copy_and_after_reopening_art_22_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let before = operator.fetch::<String, Phone>(record, &token).unwrap();
    let asked = request(&operator, customer(), RequestKind::Blocking);
    operator.block(asked, record).unwrap();
    // The copy fetched before the block, and one fetched after, refuse.
    assert!(matches!(before.read(&token), Err(Error::Blocked { .. })));
    assert!(matches!(
        phone_of(&operator, record),
        Err(Error::Blocked { .. })
    ));
    assert!(operator.schedule().records_of(&customer())[0].blocked);
    drop((before, operator));

    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(matches!(
        phone_of(&operator, record),
        Err(Error::Blocked { .. })
    ));
    // Lifted at the subject's request, as it was placed.
    let lifting = request(&operator, customer(), RequestKind::Blocking);
    operator.unblock(lifting, record).unwrap();
    assert_eq!(phone_of(&operator, record).unwrap(), PHONE);
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(phone_of(&operator, record).unwrap(), PHONE);
}

#[test]
fn a_right_answers_its_own_request_and_its_own_subjects_records() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let others = keep_passport(&operator, &subject("cust-2"), "BB0000OTHER");
    let access = request(&operator, customer(), RequestKind::Access);
    let refused = operator.block(access, record).unwrap_err();
    assert_eq!(refused.rule(), "request_not_open");
    let blocking = request(&operator, customer(), RequestKind::Blocking);
    // Another subject's record is unknown to this request, as one never kept.
    assert!(matches!(
        operator.block(blocking, others),
        Err(Error::UnknownRecord { .. })
    ));
    assert!(matches!(
        operator.block(999, record),
        Err(Error::UnknownRequest { .. })
    ));
    operator.requests().complete(blocking, clock.now()).unwrap();
    assert_eq!(
        operator.block(blocking, record).unwrap_err().rule(),
        "request_not_open"
    );
}

#[test]
fn erasure_on_request_destroys_the_record_with_its_reason_art_22_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let asked = request(&operator, customer(), RequestKind::Destruction);
    let report = operator.erase(asked, record).unwrap();
    assert_eq!(report.destroyed.len(), 1);
    assert_eq!(report.destroyed[0].record, record);
    assert_eq!(
        report.destroyed[0].reason,
        DestructionReason::SubjectRequest
    );
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(matches!(
        phone_of(&operator, record),
        Err(Error::RecordDestroyed { .. })
    ));
}

#[test]
fn erasure_is_refused_under_a_statutory_minimum_and_the_record_blocked_art_14_3() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let passport = keep_passport(&operator, &customer(), PASSPORT);
    let asked = request(&operator, customer(), RequestKind::Destruction);
    let refused = operator.erase(asked, passport).unwrap_err();
    match &refused {
        Error::KeptByLaw { record, kept_under } => {
            assert_eq!(*record, passport);
            assert!(kept_under.contains("Recommendation 11"), "{kept_under}");
        }
        other => panic!("refused as {other:?}"),
    }
    assert!(!refused.to_string().contains(PASSPORT));
    drop(operator);

    // Blocked instead, after a reopen too: the consent reads nothing, the law does.
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let consent = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let copy = operator
        .fetch::<String, IdentityDocument>(passport, &consent)
        .unwrap();
    assert!(matches!(copy.read(&consent), Err(Error::Blocked { .. })));
    let law = operator
        .ledger()
        .authorize_with_basis::<IdentityDocument>(
            &customer(),
            &Purpose::LEGAL_OBLIGATION,
            LegalBasis::LegalObligation {
                reference: "AML law".into(),
            },
        )
        .unwrap();
    let copy = operator
        .fetch::<String, IdentityDocument>(passport, &law)
        .unwrap();
    assert_eq!(copy.read(&law).unwrap().as_str(), PASSPORT);
}

#[test]
fn an_export_holds_the_subjects_values_and_no_one_elses_art_25_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let phone = keep_phone(&operator);
    let passport = keep_passport(&operator, &customer(), PASSPORT);
    keep_passport(&operator, &subject("cust-2"), "BB0000OTHER");
    let asked = request(&operator, customer(), RequestKind::Access);

    // Not before the requester's identity is verified and on the record.
    assert!(matches!(
        operator.export(asked),
        Err(Error::IdentityNotVerified { .. })
    ));
    operator
        .verify_identity(
            asked,
            IdentityCheck::new("passport shown at the Tashkent branch", "clerk 17"),
        )
        .unwrap();
    let export = operator.export(asked).unwrap();
    assert_eq!(export.subject(), &customer());
    let mut held: Vec<(RecordId, &[u8])> = export
        .records()
        .iter()
        .map(|r| (r.record, r.value()))
        .collect();
    held.sort();
    let mut expected = vec![(phone, PHONE.as_bytes()), (passport, PASSPORT.as_bytes())];
    expected.sort();
    assert_eq!(held, expected);
    let mut document = Vec::new();
    export.write_json(&mut document).unwrap();
    let document = String::from_utf8(document).unwrap();
    assert!(document.contains(PHONE) && document.contains(PASSPORT));
    assert!(!document.contains("BB0000OTHER"));
    let shown = format!("{export:?}");
    assert!(
        !shown.contains(PHONE) && !shown.contains(PASSPORT),
        "{shown}"
    );
    // Once per request.
    assert!(matches!(
        operator.export(asked),
        Err(Error::AlreadyExported { .. })
    ));
    // On the record: which records, never their values.
    let entries = operator.audit_log().entries().unwrap();
    assert!(entries.iter().any(|e| matches!(
        &e.event,
        AuditEvent::Exported { request, records, .. } if *request == asked && records.len() == 2
    )));
    assert!(entries.iter().any(|e| matches!(
        &e.event,
        AuditEvent::IdentityVerified { request, verified_by, .. }
            if *request == asked && verified_by == "clerk 17"
    )));
    for entry in &entries {
        let json = serde_json::to_string(entry).unwrap();
        assert!(!json.contains(PHONE) && !json.contains(PASSPORT), "{json}");
    }
    drop((export, operator));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert!(matches!(
        operator.export(asked),
        Err(Error::AlreadyExported { .. })
    ));
}

#[test]
fn a_verification_recorded_before_a_restart_opens_the_export_after_it_art_25_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    keep_phone(&operator);
    let asked = request(&operator, customer(), RequestKind::Access);
    operator
        .verify_identity(asked, IdentityCheck::new("one-time password", "the app"))
        .unwrap();
    // Only an access request is verified for an export.
    let blocking = request(&operator, customer(), RequestKind::Blocking);
    assert_eq!(
        operator
            .verify_identity(blocking, IdentityCheck::new("one-time password", "the app"))
            .unwrap_err()
            .rule(),
        "request_not_open"
    );
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(operator.export(asked).unwrap().records().len(), 1);
}

#[test]
fn a_rectified_record_reads_the_corrected_value_and_the_old_is_shredded_art_22_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let old = keep_phone(&operator);
    let asked = request(&operator, customer(), RequestKind::Rectification);
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let before = operator.fetch::<String, Phone>(old, &token).unwrap();
    let new = operator
        .rectify(asked, old, "+998907654321".to_owned(), &token)
        .unwrap();
    assert_ne!(new, old);
    assert_eq!(phone_of(&operator, new).unwrap(), "+998907654321");
    assert!(matches!(
        phone_of(&operator, old),
        Err(Error::RecordDestroyed { .. })
    ));
    // A copy of the wrong value fetched before is gone with it.
    assert!(matches!(
        before.read(&token),
        Err(Error::RecordDestroyed { .. })
    ));
    let entries = operator.audit_log().entries().unwrap();
    assert!(entries.iter().any(|e| matches!(
        &e.event,
        AuditEvent::Destruction { record, reason: DestructionReason::Unlawful, .. } if *record == old
    )));
    drop((before, operator));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(phone_of(&operator, new).unwrap(), "+998907654321");
    assert!(matches!(
        phone_of(&operator, old),
        Err(Error::RecordDestroyed { .. })
    ));
    let records = operator.schedule().records_of(&customer());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].record, new);
}

#[test]
fn a_passport_the_law_keeps_is_blocked_when_rectified_and_the_correction_used_art_14_3() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let old = keep_passport(&operator, &customer(), PASSPORT);
    let asked = request(&operator, customer(), RequestKind::Rectification);
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let new = operator
        .rectify(asked, old, "AA0000FIXED".to_owned(), &token)
        .unwrap();
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let read = |record| {
        operator
            .fetch::<String, IdentityDocument>(record, &token)
            .and_then(|copy| copy.read(&token).map(|v| v.to_string()))
    };
    assert_eq!(read(new).unwrap(), "AA0000FIXED");
    assert!(matches!(read(old), Err(Error::Blocked { .. })));
    let records = operator.schedule().records_of(&customer());
    assert_eq!(records.len(), 2);
    assert!(records.iter().any(|r| r.record == old && r.blocked));
}

#[test]
fn a_record_its_token_can_not_read_is_not_rectified_through_it() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let blocking = request(&operator, customer(), RequestKind::Blocking);
    operator.block(blocking, record).unwrap();
    let asked = request(&operator, customer(), RequestKind::Rectification);
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    assert!(matches!(
        operator.rectify(asked, record, "+998900000000".to_owned(), &token),
        Err(Error::Blocked { .. })
    ));
    assert_eq!(operator.schedule().records_of(&customer()).len(), 1);
}

#[test]
fn an_export_writes_bytes_that_are_not_text_in_hexadecimal_art_25_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let mut raw =
        PersonalData::collect(&customer(), vec![0xff_u8, 0xfe, 0x00, 0x41], &token).unwrap();
    operator.keep(&mut raw, &token).unwrap();
    let asked = request(&operator, customer(), RequestKind::Access);
    operator
        .verify_identity(asked, IdentityCheck::new("one-time password", "the app"))
        .unwrap();
    let mut document = Vec::new();
    operator
        .export(asked)
        .unwrap()
        .write_json(&mut document)
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&document).unwrap();
    assert_eq!(document["records"][0]["hex"], "fffe0041");
    assert!(document["records"][0].get("text").is_none());
    assert_eq!(document["subject"], customer().as_str());
}

#[test]
fn rights_on_the_store_read_back_the_same_from_a_snapshot_art_25_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let open = || {
        imanum_operator(dir.path(), &clock)
            .snapshot_after(1)
            .open()
            .unwrap()
    };
    let operator = open();
    let phone = keep_phone(&operator);
    let passport = keep_passport(&operator, &customer(), PASSPORT);
    let blocking = request(&operator, customer(), RequestKind::Blocking);
    operator.block(blocking, phone).unwrap();
    let rectifying = request(&operator, customer(), RequestKind::Rectification);
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let corrected = operator
        .rectify(rectifying, passport, "AA0000FIXED".to_owned(), &token)
        .unwrap();
    let access = request(&operator, customer(), RequestKind::Access);
    operator
        .verify_identity(access, IdentityCheck::new("one-time password", "the app"))
        .unwrap();
    drop(operator.export(access).unwrap());
    let before = operator.schedule().records_of(&customer());
    drop(operator);
    // The first reopen replays the log and keeps a snapshot; the second reads it.
    for _ in 0..2 {
        let operator = open();
        assert_eq!(operator.schedule().records_of(&customer()), before);
        assert!(matches!(
            phone_of(&operator, phone),
            Err(Error::Blocked { .. })
        ));
        assert!(matches!(
            operator.export(access),
            Err(Error::AlreadyExported { .. })
        ));
        assert!(before.iter().any(|r| r.record == corrected && !r.blocked));
        assert!(before.iter().any(|r| r.record == passport && r.blocked));
    }
}

/// A hold on every record of the customer's, on the operator's own decision.
fn internal_hold(operator: &Operator) -> amanat::retention::HoldId {
    use amanat::retention::{HoldGround, HoldScope, HoldUntil, LegalHold};
    operator
        .schedule()
        .place_hold(LegalHold {
            scope: HoldScope::Subject(customer()),
            reason: "a dispute".into(),
            ground: HoldGround::Internal {
                reference: "case 1".into(),
            },
            readable_for: Vec::new(),
            until: HoldUntil::Released,
        })
        .unwrap()
}

#[test]
fn an_erasure_refused_under_a_hold_is_carried_out_once_the_hold_ends_art_22_1() {
    // Found by a review: the refused erasure only blocked, and was forgotten.
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let hold = internal_hold(&operator);
    let asked = request(&operator, customer(), RequestKind::Destruction);
    assert!(matches!(
        operator.erase(asked, record),
        Err(Error::KeptByLaw { .. })
    ));
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    operator.schedule().release_hold(hold).unwrap();
    clock.advance(chrono::TimeDelta::minutes(1));
    let report = operator.sweep_now().unwrap();
    assert_eq!(report.destroyed.len(), 1, "{report:?}");
    assert_eq!(
        report.destroyed[0].reason,
        DestructionReason::SubjectRequest
    );
}

#[test]
fn a_record_the_subject_asked_erased_reads_on_no_consent_once_unblocked_art_22_1() {
    // Found by a review: lifting the block that stood for a refused erasure reopened it.
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let passport = keep_passport(&operator, &customer(), PASSPORT);
    let asked = request(&operator, customer(), RequestKind::Destruction);
    assert!(matches!(
        operator.erase(asked, passport),
        Err(Error::KeptByLaw { .. })
    ));
    // Only a blocking request lifts a block.
    assert_eq!(
        operator.unblock(asked, passport).unwrap_err().rule(),
        "request_not_open"
    );
    let lifting = request(&operator, customer(), RequestKind::Blocking);
    operator.unblock(lifting, passport).unwrap();
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let copy = operator
        .fetch::<String, IdentityDocument>(passport, &token)
        .unwrap();
    assert!(matches!(
        copy.read(&token),
        Err(Error::RetentionExpired { .. })
    ));
}

#[test]
fn the_correction_of_a_blocked_record_is_blocked_too_art_22_1() {
    // Found by a review: a basis token the law admits rectified a blocked passport, and the
    // correction opened to consent.
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let old = keep_passport(&operator, &customer(), PASSPORT);
    let blocking = request(&operator, customer(), RequestKind::Blocking);
    operator.block(blocking, old).unwrap();
    let law = operator
        .ledger()
        .authorize_with_basis::<IdentityDocument>(
            &customer(),
            &Purpose::LEGAL_OBLIGATION,
            LegalBasis::LegalObligation {
                reference: "AML law".into(),
            },
        )
        .unwrap();
    let fixing = request(&operator, customer(), RequestKind::Rectification);
    let new = operator
        .rectify(fixing, old, "AA0000FIXED".to_owned(), &law)
        .unwrap();
    let consent = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::SERVICE_PROVISION)
        .unwrap();
    let copy = operator
        .fetch::<String, IdentityDocument>(new, &consent)
        .unwrap();
    assert!(copy.is_blocked());
    assert!(matches!(copy.read(&consent), Err(Error::Blocked { .. })));
}

#[test]
fn a_record_a_cited_law_keeps_for_a_legal_obligation_is_not_erased_on_request_art_22_1() {
    // Kept for fraud prevention five years after the relationship, under the AML law the
    // policy's rule cites: blocked, not destroyed.
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let token = operator
        .ledger()
        .authorize_with_basis::<Phone>(
            &customer(),
            &Purpose::FRAUD_PREVENTION,
            LegalBasis::LegalObligation {
                reference: "AML law".into(),
            },
        )
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), PHONE.to_owned(), &token).unwrap();
    operator.keep(&mut phone, &token).unwrap();
    let asked = request(&operator, customer(), RequestKind::Destruction);
    match operator.erase(asked, phone.id()) {
        Err(Error::KeptByLaw { kept_under, .. }) => assert!(kept_under.contains("AML")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_blank_verification_opens_no_export_art_25_1() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    keep_phone(&operator);
    let asked = request(&operator, customer(), RequestKind::Access);
    assert!(matches!(
        operator.verify_identity(asked, IdentityCheck::new("", " ")),
        Err(Error::BlankVerification { .. })
    ));
    assert!(matches!(
        operator.export(asked),
        Err(Error::IdentityNotVerified { .. })
    ));
}

#[test]
fn a_destruction_at_the_subjects_request_names_an_open_request_of_theirs() {
    use amanat::retention::Trigger;
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let others = request(&operator, subject("cust-2"), RequestKind::Destruction);
    for request in [999, others] {
        assert!(
            operator
                .trigger_now(&customer(), Trigger::ErasureRequested { record, request },)
                .is_err()
        );
    }
    assert_eq!(operator.schedule().deadline(record), None);
}
