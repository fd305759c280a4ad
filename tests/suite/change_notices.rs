//! Where the law asks it (Uzbek law Art. 31), the subject and the other participants in the
//! processing of a record are told in writing when it is corrected, blocked or destroyed:
//! the operator owes the notices as it carries out the right, keeps them in its log, and
//! says which are overdue.

#![cfg(feature = "sqlite")]

use amanat::category::{IdentityDocument, Phone};
use amanat::notices::{Addressee, RecordChange};
use amanat::rights::RequestKind;
use amanat::store::Operator;
use amanat::{Clock, ManualClock, PersonalData, Purpose};
use chrono::TimeDelta;

use crate::common::{customer, imanum_operator, keep_phone, monday, otp_grant, signed_grant};

/// The customer's passport, kept on their consent to credit scoring: a purpose the policy
/// shares with two credit bureaus.
fn scored_passport(operator: &Operator) -> amanat::data::RecordId {
    operator
        .ledger()
        .grant(signed_grant(&customer(), Purpose::CREDIT_SCORING).category::<IdentityDocument>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::CREDIT_SCORING)
        .unwrap();
    let mut passport =
        PersonalData::collect(&customer(), "AA0000NOTICE".to_owned(), &token).unwrap();
    operator.keep(&mut passport, &token).unwrap();
    passport.id()
}

#[test]
fn a_block_is_told_to_the_subject_and_the_other_participants_uz_art_31() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let passport = scored_passport(&operator);
    let asked = operator
        .requests()
        .receive(customer(), RequestKind::Blocking, clock.now());
    operator.block(asked, passport).unwrap();
    let owed = operator.change_notices().pending(clock.now());
    assert_eq!(owed.len(), 3, "{owed:?}");
    assert!(
        owed.iter()
            .all(|n| n.record == passport && n.change == RecordChange::Blocked)
    );
    assert!(owed.iter().any(|n| n.to == Addressee::Subject));
    let bureaus: Vec<&str> = owed
        .iter()
        .filter_map(|n| match &n.to {
            Addressee::Participant { recipient, .. } => Some(recipient.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(bureaus, ["credolab", "katm"]);
    // Sent or not, they hold after a reopen; unsent past their day, they are overdue.
    operator
        .change_notices()
        .mark_sent(owed[0].id, clock.now())
        .unwrap();
    drop(operator);
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    assert_eq!(operator.change_notices().pending(clock.now()).len(), 2);
    assert!(
        operator
            .change_notices()
            .overdue(clock.now() + TimeDelta::days(10))
            .iter()
            .all(|n| n.id != owed[0].id)
    );
    assert_eq!(
        operator
            .change_notices()
            .overdue(clock.now() + TimeDelta::days(10))
            .len(),
        2
    );
    // The subject can't be erased while a notice about them is unsent.
    assert_eq!(
        operator.erase_subject(&customer()).unwrap_err().rule(),
        "not_erasable"
    );
}

#[test]
fn an_erasure_and_a_correction_are_told_too_uz_art_31() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let phone = keep_phone(&operator);
    let erasing = operator
        .requests()
        .receive(customer(), RequestKind::Destruction, clock.now());
    operator.erase(erasing, phone).unwrap();
    let passport = scored_passport(&operator);
    let fixing = operator
        .requests()
        .receive(customer(), RequestKind::Rectification, clock.now());
    let token = operator
        .ledger()
        .authorize::<IdentityDocument>(&customer(), &Purpose::CREDIT_SCORING)
        .unwrap();
    operator
        .rectify(fixing, passport, "AA0000FIXED".to_owned(), &token)
        .unwrap();
    let owed = operator.change_notices().pending(clock.now());
    // The phone kept for the service goes to no recipient: its subject alone is told.
    assert!(owed.iter().any(|n| n.record == phone
        && n.change == RecordChange::Destroyed
        && n.to == Addressee::Subject));
    assert_eq!(
        owed.iter()
            .filter(|n| n.record == passport && n.change == RecordChange::Rectified)
            .count(),
        3
    );
}

#[test]
fn where_the_law_asks_no_notice_none_is_owed() {
    // The Tajik pack asks a notice of a transfer only (Art. 21).
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let policy = amanat::Policy::from_toml_str(crate::common::TAJIK).unwrap();
    let operator = Operator::builder(dir.path(), policy, crate::common::keys_for(dir.path()))
        .clock(clock.clone())
        .open()
        .unwrap();
    operator
        .ledger()
        .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Phone>())
        .unwrap();
    let token = operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let mut phone = PersonalData::collect(&customer(), "+992900000000".to_owned(), &token).unwrap();
    operator.keep(&mut phone, &token).unwrap();
    let asked = operator
        .requests()
        .receive(customer(), RequestKind::Blocking, clock.now());
    operator.block(asked, phone.id()).unwrap();
    assert!(operator.change_notices().pending(clock.now()).is_empty());
}

#[test]
fn a_destruction_carried_out_after_a_hold_is_told_too_uz_art_31() {
    // Found by a second review: only the erasure's own sweep owed the notice.
    use amanat::retention::{HoldGround, HoldScope, HoldUntil, LegalHold};
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let hold = operator
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
        .unwrap();
    let asked = operator
        .requests()
        .receive(customer(), RequestKind::Destruction, clock.now());
    assert!(operator.erase(asked, record).is_err());
    // Asked again while the hold stands: blocked already, nothing more is owed.
    assert!(operator.erase(asked, record).is_err());
    let blocked = operator.change_notices().pending(clock.now());
    assert_eq!(blocked.len(), 1, "{blocked:?}");
    operator.schedule().release_hold(hold).unwrap();
    clock.advance(TimeDelta::minutes(1));
    assert_eq!(operator.sweep_now().unwrap().destroyed.len(), 1);
    let owed = operator.change_notices().pending(clock.now());
    assert_eq!(
        owed.iter()
            .filter(|n| n.record == record && n.change == RecordChange::Destroyed)
            .count(),
        1
    );
}

#[test]
fn blocking_a_blocked_record_again_owes_nothing_more_uz_art_31() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(monday()));
    let operator = imanum_operator(dir.path(), &clock).open().unwrap();
    let record = keep_phone(&operator);
    let asked = operator
        .requests()
        .receive(customer(), RequestKind::Blocking, clock.now());
    operator.block(asked, record).unwrap();
    operator.block(asked, record).unwrap();
    assert_eq!(operator.change_notices().pending(clock.now()).len(), 1);
    let entries = operator.audit_log().entries().unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| matches!(e.event, amanat::audit::AuditEvent::Blocked { .. }))
            .count(),
        1
    );
}
