//! The consent rules of the Tajik law and the IMANUM policy, one test per rule. The test
//! names read as the compliance matrix: the rule, then the article.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{customer, otp, otp_grant, policy_day, signed, written, written_grant};
use amanat::category::{Biometric, Category, Passport, PaymentCard, Phone};
use amanat::consent::ConsentEventKind;
use amanat::vocab::BiometricGround;
use amanat::{
    ConsentForm, ConsentId, ConsentLedger, ConsentToken, DestructionReason, Error, Evidence,
    GivenBy, Grant, LegalBasis, ManualClock, PersonalData, PolicyVersion, Purpose, SubjectId,
};
use chrono::TimeDelta;

fn setup() -> (ConsentLedger, ManualClock, SubjectId) {
    let clock = ManualClock::new(policy_day());
    let ledger = ConsentLedger::builder(PolicyVersion::new("imanum-2").unwrap())
        .clock(clock.clone())
        .token_ttl(Duration::from_secs(300))
        .build();
    (ledger, clock, customer())
}

/// Records a consent of `subject` in `form` for `purpose` on `C` alone, and returns its id
/// with a token for it.
fn consent_for<C: Category>(
    ledger: &ConsentLedger,
    subject: &SubjectId,
    form: ConsentForm,
    purpose: &Purpose,
) -> (ConsentId, ConsentToken<C>) {
    let id = ledger
        .grant(
            Grant::new(subject.clone(), form)
                .purpose(purpose.clone())
                .category::<C>(),
        )
        .unwrap();
    (id, ledger.authorize::<C>(subject, purpose).unwrap())
}

#[test]
fn processing_without_consent_is_refused_art_8_1() {
    let (ledger, _, subject) = setup();
    let err = ledger
        .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
        .unwrap_err();
    assert_eq!(
        err,
        Error::NoConsent {
            subject,
            purpose: Purpose::SERVICE_PROVISION,
            category: amanat::category::CategoryId::of::<Phone>(),
        }
    );
}

#[test]
fn a_purpose_the_subject_did_not_agree_to_is_refused_art_8_2() {
    let (ledger, _, subject) = setup();
    ledger
        .grant(otp_grant(&subject, Purpose::IDENTITY_VERIFICATION).category::<Passport>())
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Passport>(&subject, &Purpose::MARKETING_ANALYTICS),
        Err(Error::NoConsent { .. })
    ));
}

#[test]
fn a_category_outside_the_consent_is_refused_art_8_3() {
    let (ledger, _, subject) = setup();
    ledger
        .grant(otp_grant(&subject, Purpose::PAYMENT_PROCESSING).category::<PaymentCard>())
        .unwrap();
    let err = ledger
        .authorize::<Passport>(&subject, &Purpose::PAYMENT_PROCESSING)
        .unwrap_err();
    assert!(matches!(err, Error::CategoryNotCovered { .. }), "{err:?}");
}

#[test]
fn without_a_policy_biometric_needs_written_consent_as_its_type_says_art_17_1() {
    let (ledger, _, subject) = setup();
    let by_otp = ledger
        .grant(
            otp_grant(&subject, Purpose::IDENTITY_VERIFICATION)
                .category::<Biometric>()
                .category::<Phone>(),
        )
        .unwrap();
    let err = ledger
        .authorize::<Biometric>(&subject, &Purpose::IDENTITY_VERIFICATION)
        .unwrap_err();
    assert!(
        matches!(err, Error::WrittenConsentRequired { consent, .. } if consent == by_otp),
        "{err:?}"
    );
    // The same OTP consent is enough for a category that is not special.
    assert!(
        ledger
            .authorize::<Phone>(&subject, &Purpose::IDENTITY_VERIFICATION)
            .is_ok()
    );
    let implied = ledger
        .grant(
            Grant::new(subject.clone(), ConsentForm::Implied)
                .purpose(Purpose::FRAUD_PREVENTION)
                .category::<Biometric>(),
        )
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Biometric>(&subject, &Purpose::FRAUD_PREVENTION),
        Err(Error::WrittenConsentRequired { consent, .. }) if consent == implied
    ));
    let (_, token) = consent_for::<Biometric>(
        &ledger,
        &subject,
        written(),
        &Purpose::IDENTITY_VERIFICATION,
    );
    assert_eq!(token.subject(), &subject);
}

#[test]
fn withdrawal_fails_tokens_already_issued_art_11_1() {
    let (ledger, _, subject) = setup();
    let (consent, token) = consent_for::<Biometric>(
        &ledger,
        &subject,
        written(),
        &Purpose::IDENTITY_VERIFICATION,
    );
    let selfie = PersonalData::collect(&subject, vec![1_u8, 2, 3], &token).unwrap();
    assert_eq!(*selfie.read(&token).unwrap(), [1, 2, 3]);

    let withdrawal = ledger.withdraw(&consent).unwrap();
    assert_eq!(
        withdrawal.withdrawn,
        [(consent, vec![Purpose::IDENTITY_VERIFICATION])]
    );
    assert!(matches!(
        selfie.read(&token),
        Err(Error::ConsentWithdrawn { consent: c, .. }) if c == consent
    ));
    assert!(matches!(
        selfie.with(&token, |_| unreachable!("closure must not run")),
        Err(Error::ConsentWithdrawn { .. })
    ));
    assert!(matches!(
        ledger.authorize::<Biometric>(&subject, &Purpose::IDENTITY_VERIFICATION),
        Err(Error::ConsentWithdrawn { .. })
    ));
    assert_eq!(
        ledger.withdraw(&consent).unwrap_err(),
        Error::AlreadyWithdrawn { consent }
    );
}

#[test]
fn withdrawing_one_purpose_keeps_the_others_art_11_1() {
    let (ledger, _, subject) = setup();
    let consent = ledger
        .grant(
            otp_grant(&subject, Purpose::SERVICE_PROVISION)
                .purpose(Purpose::MARKETING_ANALYTICS)
                .category::<Phone>(),
        )
        .unwrap();
    let marketing = ledger
        .authorize::<Phone>(&subject, &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    let service = ledger
        .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = PersonalData::collect(&subject, String::from("+992900000000"), &service).unwrap();

    let withdrawal = ledger
        .withdraw_purpose(&subject, &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    assert_eq!(
        withdrawal.withdrawn,
        [(consent, vec![Purpose::MARKETING_ANALYTICS])]
    );
    assert!(phone.read(&marketing).is_err());
    assert!(phone.read(&service).is_ok());
    assert!(matches!(
        ledger.withdraw_purpose(&subject, &Purpose::MARKETING_ANALYTICS),
        Err(Error::NothingToWithdraw { .. })
    ));
}

#[test]
fn withdrawal_never_touches_another_legal_basis_art_11_1_and_12() {
    let (ledger, _, subject) = setup();
    let (consent, by_consent) =
        consent_for::<Passport>(&ledger, &subject, otp(), &Purpose::LEGAL_OBLIGATION);
    let passport = PersonalData::collect(&subject, String::from("AB1234567"), &by_consent).unwrap();
    let by_law = ledger
        .authorize_with_basis::<Passport>(
            &subject,
            &Purpose::LEGAL_OBLIGATION,
            LegalBasis::LegalObligation {
                reference: "AML law, Art. 9 (customer due diligence records)".into(),
            },
        )
        .unwrap();
    ledger.withdraw(&consent).unwrap();
    assert!(passport.read(&by_consent).is_err());
    assert_eq!(passport.read(&by_law).unwrap().as_str(), "AB1234567");
    assert_eq!(by_law.consent(), None);
    assert_eq!(
        by_law.legal_basis().reference(),
        Some("AML law, Art. 9 (customer due diligence records)")
    );
}

#[test]
fn another_basis_must_name_its_reference_art_12() {
    let (ledger, _, subject) = setup();
    for basis in [
        LegalBasis::CourtOrder {
            reference: "  ".into(),
        },
        LegalBasis::StateFunction {
            authority: String::new(),
            reference: "request 17/2025".into(),
        },
        LegalBasis::Contract {
            reference: String::new(),
        },
    ] {
        let name = basis.name();
        assert_eq!(
            ledger
                .authorize_with_basis::<Phone>(&subject, &Purpose::LEGAL_OBLIGATION, basis)
                .unwrap_err(),
            Error::MissingReference { basis: name }
        );
    }
}

#[test]
fn biometric_without_consent_only_on_the_grounds_of_art_17_2() {
    let (ledger, _, subject) = setup();
    let state = LegalBasis::StateFunction {
        authority: "Tax Committee".into(),
        reference: "request 4411".into(),
    };
    assert!(matches!(
        ledger.authorize_with_basis::<Biometric>(
            &subject,
            &Purpose::LEGAL_OBLIGATION,
            state.clone()
        ),
        Err(Error::BasisNotAllowed {
            basis: "state_function",
            ..
        })
    ));
    // The same basis is fine for data that is not special.
    assert!(
        ledger
            .authorize_with_basis::<Passport>(&subject, &Purpose::LEGAL_OBLIGATION, state)
            .is_ok()
    );
    let aml = LegalBasis::BiometricException {
        ground: BiometricGround::AntiMoneyLaundering,
        reference: "FIU request 2025/77".into(),
    };
    let token = ledger
        .authorize_with_basis::<Biometric>(&subject, &Purpose::LEGAL_OBLIGATION, aml.clone())
        .unwrap();
    assert_eq!(token.legal_basis(), &aml);
}

#[test]
fn uses_of_another_basis_are_kept_with_their_reference_art_12() {
    let (ledger, _, subject) = setup();
    let court = LegalBasis::CourtOrder {
        reference: "Dushanbe city court, case 2-114/25".into(),
    };
    let _token = ledger
        .authorize_with_basis::<Biometric>(&subject, &Purpose::LEGAL_OBLIGATION, court.clone())
        .unwrap();
    let history = ledger.history(&subject);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].consent, None);
    assert_eq!(
        history[0].kind,
        ConsentEventKind::LegalBasisUsed {
            purpose: Purpose::LEGAL_OBLIGATION,
            category: amanat::category::CategoryId::of::<Biometric>(),
            basis: court,
        }
    );
}

#[test]
fn a_consent_ends_at_its_validity() {
    let (ledger, clock, subject) = setup();
    let consent = ledger
        .grant(
            otp_grant(&subject, Purpose::CREDIT_SCORING)
                .category::<Passport>()
                .valid_until(policy_day() + TimeDelta::days(30)),
        )
        .unwrap();
    clock.advance(TimeDelta::days(30) - TimeDelta::minutes(2));
    let token = ledger
        .authorize::<Passport>(&subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    // The token may not outlive its consent, however long the TTL.
    assert_eq!(token.expires_at(), policy_day() + TimeDelta::days(30));
    let passport = PersonalData::collect(&subject, String::from("AB1234567"), &token).unwrap();
    clock.advance(TimeDelta::minutes(2));
    assert!(matches!(
        passport.read(&token),
        Err(Error::TokenExpired { .. } | Error::ConsentExpired { .. })
    ));
    assert!(matches!(
        ledger.authorize::<Passport>(&subject, &Purpose::CREDIT_SCORING),
        Err(Error::ConsentExpired { consent: c, .. }) if c == consent
    ));
    let history = ledger.history(&subject);
    assert_eq!(history.last().unwrap().kind, ConsentEventKind::Expired);
    assert_eq!(
        history.last().unwrap().at,
        policy_day() + TimeDelta::days(30)
    );
    // An expired consent is neither renewed nor withdrawn; the subject grants again.
    let ended = Error::ConsentNotInForce {
        consent,
        expired_at: policy_day() + TimeDelta::days(30),
    };
    assert_eq!(ledger.renew(&consent, None).unwrap_err(), ended);
    assert_eq!(ledger.withdraw(&consent).unwrap_err(), ended);
}

#[test]
fn renewal_extends_a_consent_in_force() {
    let (ledger, clock, subject) = setup();
    let consent = ledger
        .grant(
            otp_grant(&subject, Purpose::CREDIT_SCORING)
                .category::<Passport>()
                .valid_until(policy_day() + TimeDelta::days(30)),
        )
        .unwrap();
    clock.advance(TimeDelta::days(29));
    ledger
        .renew(&consent, Some(policy_day() + TimeDelta::days(395)))
        .unwrap();
    clock.advance(TimeDelta::days(2));
    assert!(
        ledger
            .authorize::<Passport>(&subject, &Purpose::CREDIT_SCORING)
            .is_ok()
    );
    let kinds: Vec<_> = ledger
        .history(&subject)
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        matches!(kinds[1], ConsentEventKind::Renewed { valid_until: Some(t) } if t == policy_day() + TimeDelta::days(395))
    );
    assert_eq!(kinds.len(), 2);
}

#[test]
fn a_grant_that_has_already_ended_is_refused() {
    let (ledger, _, subject) = setup();
    let err = ledger
        .grant(
            otp_grant(&subject, Purpose::CREDIT_SCORING)
                .category::<Passport>()
                .valid_until(policy_day()),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::ValidityNotInFuture {
            subject: subject.clone(),
            valid_until: policy_day()
        }
    );
    assert!(ledger.history(&subject).is_empty());
}

#[test]
fn tokens_are_short_lived() {
    let (ledger, clock, subject) = setup();
    let (_, token) = consent_for::<Phone>(&ledger, &subject, otp(), &Purpose::SERVICE_PROVISION);
    assert_eq!(token.expires_at(), policy_day() + TimeDelta::minutes(5));
    let phone = PersonalData::collect(&subject, String::from("+998901234567"), &token).unwrap();
    clock.advance(TimeDelta::minutes(5));
    assert!(matches!(
        phone.read(&token),
        Err(Error::TokenExpired { .. })
    ));
    let fresh = ledger
        .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
        .unwrap();
    assert!(phone.read(&fresh).is_ok());
}

#[test]
fn a_token_opens_only_its_own_subjects_data() {
    let (ledger, _, alice) = setup();
    let bob = SubjectId::new("cust-2").unwrap();
    let (_, alices) = consent_for::<Phone>(&ledger, &alice, otp(), &Purpose::SERVICE_PROVISION);
    let (_, bobs) = consent_for::<Phone>(&ledger, &bob, otp(), &Purpose::SERVICE_PROVISION);
    let phone = PersonalData::collect(&alice, String::from("+998901234567"), &alices).unwrap();
    assert!(matches!(
        phone.read(&bobs),
        Err(Error::SubjectMismatch { token_subject, data_subject, .. })
            if token_subject == bob && data_subject == alice
    ));
    // Nor can Bob's token collect Alice's data.
    assert!(matches!(
        PersonalData::collect(&alice, String::from("+998901234568"), &bobs),
        Err(Error::SubjectMismatch { .. })
    ));
}

#[test]
fn blocked_data_is_kept_but_not_processed_art_22_1() {
    let (ledger, _, subject) = setup();
    let (_, token) = consent_for::<Phone>(&ledger, &subject, otp(), &Purpose::SERVICE_PROVISION);
    let mut phone = PersonalData::collect(&subject, String::from("+998901234567"), &token).unwrap();
    phone.block();
    assert!(phone.is_blocked());
    assert!(matches!(
        phone.read(&token),
        Err(Error::Blocked { record, .. }) if record == phone.id()
    ));
    assert!(matches!(
        phone.rectify(String::from("+998901111111"), &token),
        Err(Error::Blocked { .. })
    ));
    phone.unblock().expect("no audit log to fail");
    assert_eq!(phone.read(&token).unwrap().as_str(), "+998901234567");
}

#[test]
fn the_subject_may_correct_their_data_art_22_1() {
    let (ledger, _, subject) = setup();
    let (_, token) = consent_for::<Phone>(&ledger, &subject, otp(), &Purpose::SERVICE_PROVISION);
    let mut phone = PersonalData::collect(&subject, String::from("+998901234567"), &token).unwrap();
    phone
        .rectify(String::from("+998907654321"), &token)
        .unwrap();
    assert_eq!(phone.read(&token).unwrap().as_str(), "+998907654321");
}

#[test]
fn destruction_leaves_a_receipt_and_no_value_art_20() {
    let (ledger, clock, subject) = setup();
    let (_, token) = consent_for::<Biometric>(
        &ledger,
        &subject,
        written(),
        &Purpose::IDENTITY_VERIFICATION,
    );
    let selfie = PersonalData::collect(&subject, vec![0xFF_u8, 0xD8], &token).unwrap();
    let id = selfie.id();
    clock.advance(TimeDelta::hours(1));
    let receipt = selfie.destroy(DestructionReason::SubjectRequest);
    assert_eq!(receipt.record, id);
    assert_eq!(receipt.subject, subject);
    assert_eq!(receipt.category.as_str(), "biometric");
    assert_eq!(receipt.collected_at, policy_day());
    assert_eq!(receipt.destroyed_at, policy_day() + TimeDelta::hours(1));
    assert_eq!(receipt.reason, DestructionReason::SubjectRequest);
}

#[test]
fn a_legal_representative_can_give_consent_art_11_1() {
    let (ledger, _, subject) = setup();
    let guardian = GivenBy::LegalRepresentative {
        name: "Guardian of record".into(),
        basis: "guardianship decision 12/2025".into(),
    };
    ledger
        .grant(
            written_grant(&subject, Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .given_by(guardian.clone()),
        )
        .unwrap();
    match &ledger.history(&subject)[0].kind {
        ConsentEventKind::Given { given_by, .. } => assert_eq!(given_by, &guardian),
        other => panic!("expected a given event, got {other:?}"),
    }
}

#[test]
fn history_proves_what_was_agreed_and_when_art_25_1() {
    let (ledger, clock, subject) = setup();
    let evidence = Evidence::OneTimePassword {
        challenge_id: "sms-1".into(),
        confirmed_at: policy_day(),
    };
    let consent = ledger
        .grant(
            otp_grant(&subject, Purpose::SERVICE_PROVISION)
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .category::<Phone>()
                .category::<Passport>()
                .evidence(evidence.clone()),
        )
        .unwrap();
    clock.advance(TimeDelta::days(3));
    ledger.withdraw(&consent).unwrap();
    let history = ledger.history(&subject);
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].at, policy_day());
    assert_eq!(history[0].consent, Some(consent));
    assert_eq!(
        history[0].kind,
        ConsentEventKind::Given {
            purposes: vec![Purpose::SERVICE_PROVISION, Purpose::IDENTITY_VERIFICATION],
            categories: vec![
                amanat::category::CategoryId::of::<Phone>(),
                amanat::category::CategoryId::of::<Passport>()
            ],
            form: otp(),
            given_by: GivenBy::Subject,
            policy_version: PolicyVersion::new("imanum-2").unwrap(),
            evidence: Some(evidence),
            valid_until: None,
            recipients: Vec::new(),
            cross_border: false,
        }
    );
    assert_eq!(history[1].at, policy_day() + TimeDelta::days(3));
    assert_eq!(
        history[1].kind,
        ConsentEventKind::Withdrawn {
            purposes: vec![Purpose::SERVICE_PROVISION, Purpose::IDENTITY_VERIFICATION]
        }
    );
    // The history is plain data: it serializes for an export to the regulator.
    let json = serde_json::to_string(&history).unwrap();
    assert!(json.contains("\"event\":\"given\""));
    assert_eq!(ledger.consents_of(&subject), [consent]);
}

#[test]
fn tokens_carry_the_policy_version_of_the_consent() {
    let (ledger, _, subject) = setup();
    let (_, token) = consent_for::<Phone>(&ledger, &subject, otp(), &Purpose::SERVICE_PROVISION);
    assert_eq!(token.policy_version().as_str(), "imanum-2");
    assert_eq!(token.purpose(), &Purpose::SERVICE_PROVISION);
}

#[test]
fn unknown_consents_are_reported() {
    let (ledger, _, _) = setup();
    let id: amanat::ConsentId = "0b6f3c5e-1d2a-4f4e-9c1b-6a0f3c2d1e5f".parse().unwrap();
    assert_eq!(
        ledger.withdraw(&id).unwrap_err(),
        Error::UnknownConsent { consent: id }
    );
    assert_eq!(
        ledger.renew(&id, None).unwrap_err(),
        Error::UnknownConsent { consent: id }
    );
}

#[test]
fn the_ledger_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ConsentLedger>();
    assert_send_sync::<amanat::ConsentToken<Biometric>>();
    assert_send_sync::<PersonalData<Vec<u8>, Biometric>>();

    let (ledger, _, _) = setup();
    let ledger = Arc::new(ledger);
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                let subject = SubjectId::new(format!("cust-{n}")).unwrap();
                ledger
                    .grant(otp_grant(&subject, Purpose::SERVICE_PROVISION).category::<Phone>())
                    .unwrap();
                ledger
                    .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
                    .is_ok()
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.join().unwrap());
    }
}

#[test]
fn a_consent_keeps_the_policy_version_it_was_given_under_imanum_6() {
    let (ledger, _, subject) = setup();
    let earlier = PolicyVersion::new("imanum-1").unwrap();
    ledger
        .grant(
            written_grant(&subject, Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .policy_version(earlier.clone()),
        )
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
        .unwrap();
    assert_eq!(token.policy_version(), &earlier);
    assert_ne!(ledger.policy_version(), earlier);
}

#[test]
fn data_from_a_third_party_keeps_its_source_art_21() {
    let (ledger, _, subject) = setup();
    let (_, token) = consent_for::<Passport>(&ledger, &subject, signed(), &Purpose::CREDIT_SCORING);
    let bureau = amanat::data::Source::ThirdParty {
        name: "KATM credit bureau".into(),
    };
    let passport =
        PersonalData::collect_from(&subject, String::from("AB1234567"), bureau.clone(), &token)
            .unwrap();
    assert_eq!(passport.source(), &bureau);
    assert_eq!(passport.purpose(), &Purpose::CREDIT_SCORING);
    assert_eq!(passport.subject(), &subject);
    assert_eq!(passport.category().as_str(), "identity_document");
    let own = PersonalData::collect(&subject, String::from("AB1234567"), &token).unwrap();
    assert_eq!(own.source(), &amanat::data::Source::Subject);
    assert_ne!(own.id(), passport.id());
}
