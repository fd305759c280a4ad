//! A subject's history, in the order it was made, the same live and after a reopen: from
//! the log and from a snapshot, with many events in one millisecond (the order can't come
//! from the times), and for a subject erased who consents again. The ledger keeps a grant
//! as its record only, and each other event with how many grants came before it.

#![cfg(feature = "sqlite")]

use std::path::Path;

use crate::common::{imanum_operator, imanum_version, monday, otp, otp_evidence, subject};
use amanat::category::{IdentityDocument, Phone};
use amanat::consent::{ConsentEvent, ConsentEventKind};
use amanat::store::Operator;
use amanat::{
    ConsentForm, ConsentId, DocumentHash, GivenBy, Grant, LegalBasis, ManualClock, Purpose,
};
use chrono::TimeDelta;

fn open(dir: &Path, clock: &ManualClock) -> Operator {
    imanum_operator(dir, clock)
        .snapshot_after(1)
        .open()
        .unwrap()
}

fn seen(history: &[ConsentEvent], ids: &[ConsentId]) -> Vec<(Option<usize>, &'static str)> {
    history
        .iter()
        .map(|e| {
            (
                e.consent.map(|c| ids.iter().position(|i| *i == c).unwrap()),
                e.change(),
            )
        })
        .collect()
}

/// A use of another legal basis by `subject`, which their history records.
fn use_basis(ledger: &amanat::ConsentLedger, subject: &amanat::SubjectId) {
    let _token = ledger
        .authorize_with_basis::<Phone>(subject, &Purpose::FRAUD_PREVENTION, basis())
        .unwrap();
}

fn basis() -> LegalBasis {
    LegalBasis::LegalObligation {
        reference: "Law No. ZRU-660 on AML, Art. 9".into(),
    }
}

/// Everything at one instant: the history must come back in the order it was made, live,
/// after a reopen from the log, and after a reopen from a snapshot.
#[test]
fn a_history_made_in_one_instant_reads_the_same_live_after_a_reopen_and_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let now = monday();
    let s = subject("cust-review");
    let mut ids = Vec::new();
    let mut expected: Vec<(Option<usize>, &'static str)> = Vec::new();
    let before;
    {
        let op = open(dir.path(), &clock);
        let l = op.ledger();
        use_basis(l, &s);
        expected.push((None, "legal_basis_used"));
        ids.push(
            l.grant(
                Grant::new(s.clone(), otp())
                    .evidence(otp_evidence("sms-1", now))
                    .purpose(Purpose::SERVICE_PROVISION)
                    .purpose(Purpose::IDENTITY_VERIFICATION)
                    .category::<Phone>()
                    .valid_until(now + TimeDelta::days(1)),
            )
            .unwrap(),
        );
        expected.push((Some(0), "given"));
        l.withdraw_purpose(&s, &Purpose::IDENTITY_VERIFICATION)
            .unwrap();
        expected.push((Some(0), "withdrawn"));
        ids.push(
            l.grant(
                Grant::new(
                    s.clone(),
                    ConsentForm::Written {
                        document_sha256: DocumentHash::of(b"doc"),
                    },
                )
                .given_by(GivenBy::LegalRepresentative {
                    name: "Guardian".into(),
                    basis: "decision 12".into(),
                })
                .to_recipient("KATM")
                .cross_border()
                .purpose(Purpose::CREDIT_SCORING)
                .category::<IdentityDocument>(),
            )
            .unwrap(),
        );
        expected.push((Some(1), "given"));
        l.renew(&ids[0], Some(now + TimeDelta::days(2))).unwrap();
        expected.push((Some(0), "renewed"));
        use_basis(l, &s);
        expected.push((None, "legal_basis_used"));
        ids.push(
            l.grant(
                Grant::new(s.clone(), ConsentForm::Implied)
                    .purpose(Purpose::MARKETING_ANALYTICS)
                    .category::<Phone>(),
            )
            .unwrap(),
        );
        expected.push((Some(2), "given"));
        let adoption = l.adopt(imanum_version("v-re", true)).unwrap();
        assert_eq!(adoption.invalidated, ids);
        for n in 0..3 {
            expected.push((Some(n), "invalidated"));
        }
        ids.push(
            l.grant(
                Grant::new(s.clone(), otp())
                    .purpose(Purpose::SERVICE_PROVISION)
                    .category::<Phone>()
                    .valid_until(now + TimeDelta::days(3)),
            )
            .unwrap(),
        );
        expected.push((Some(3), "given"));
        use_basis(l, &s);
        expected.push((None, "legal_basis_used"));
        ids.push(
            l.grant(
                Grant::new(s.clone(), otp())
                    .purpose(Purpose::MARKETING_ANALYTICS)
                    .category::<Phone>(),
            )
            .unwrap(),
        );
        expected.push((Some(4), "given"));
        op.withdraw(&ids[4]).unwrap();
        expected.push((Some(4), "withdrawn"));
        before = l.history(&s);
        assert_eq!(seen(&before, &ids), expected, "live");
        for id in &ids {
            let proof = l.proof_of_consent(id).unwrap();
            proof.verify().unwrap();
            proof.verify_against(op.audit_log()).unwrap();
        }
    }
    // From the log, then (snapshot_after(1)) from the snapshot the first reopen kept.
    for round in 0..2 {
        let op = open(dir.path(), &clock);
        let after = op.ledger().history(&s);
        assert_eq!(after, before, "reopen {round}");
        assert_eq!(op.ledger().consents_of(&s), ids);
        for id in &ids {
            let proof = op.ledger().proof_of_consent(id).unwrap();
            proof.verify().unwrap();
            proof.verify_against(op.audit_log()).unwrap();
        }
    }
    // Four days on, the consent 3 expired (its only purpose still held).
    clock.advance(TimeDelta::days(4));
    let op = open(dir.path(), &clock);
    let later = op.ledger().history(&s);
    let mut with_expiry = expected.clone();
    with_expiry.push((Some(3), "expired"));
    assert_eq!(seen(&later, &ids), with_expiry);
    assert!(matches!(
        &later[3].kind,
        ConsentEventKind::Given { given_by: GivenBy::LegalRepresentative { .. }, recipients, cross_border: true, .. } if recipients == &["KATM".to_owned()]
    ));
}

/// An erased subject who comes back: the history after the erasure, live and reopened.
#[test]
fn an_erased_subject_who_consents_again_has_the_same_history_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(monday());
    let s = subject("cust-erased");
    let before;
    {
        let op = open(dir.path(), &clock);
        let l = op.ledger();
        let c = l
            .grant(
                Grant::new(s.clone(), otp())
                    .purpose(Purpose::SERVICE_PROVISION)
                    .category::<Phone>(),
            )
            .unwrap();
        use_basis(l, &s);
        op.withdraw(&c).unwrap();
        op.erase_subject(&s).unwrap();
        assert!(l.history(&s).is_empty());
        use_basis(l, &s);
        let c2 = l
            .grant(
                Grant::new(s.clone(), otp())
                    .purpose(Purpose::SERVICE_PROVISION)
                    .category::<Phone>(),
            )
            .unwrap();
        l.withdraw_purpose(&s, &Purpose::SERVICE_PROVISION).unwrap();
        use_basis(l, &s);
        before = l.history(&s);
        assert_eq!(
            seen(&before, &[c2]),
            [
                (None, "legal_basis_used"),
                (Some(0), "given"),
                (Some(0), "withdrawn"),
                (None, "legal_basis_used")
            ]
        );
    }
    for round in 0..2 {
        let op = open(dir.path(), &clock);
        assert_eq!(op.ledger().history(&s), before, "reopen {round}");
    }
}
