//! The Uzbek pack as ZRU-547's own text says it, rule by rule, each test named after its
//! article; and no message or report under it cites a Tajik article.

use amanat::category::{Access, Biometric, Category, CategoryId, PaymentCard, Phone};
use amanat::policy::{JurisdictionPack, Policy, PolicyErrorKind};
use amanat::vocab::GivenBy;
use amanat::{ConsentForm, ConsentLedger, Error, Grant, Purpose};

use crate::common::{
    IMANUM, TAJIK, customer, friday, imanum, ledger_under, otp, otp_grant, signed, signed_grant,
    written,
};

/// Health data: special under ZRU-547 Art. 25.
enum Health {}

impl Category for Health {
    const ID: CategoryId = CategoryId::new("health");
    const SPECIAL: bool = true;
    const ACCESS: Access = Access::Restricted;
}

/// IMANUM's policy with health data for an insurance purpose, on consent in `form`.
fn with_health(form: &str) -> String {
    IMANUM.replacen(
        "# ---- Purposes",
        &format!(
            "[[category]]\nid = \"health\"\nspecial = true\n\n[[purpose]]\nid = \"insurance\"\n\
             categories = [\"health\"]\nbasis = \"consent\"\nconsent_form = \"{form}\"\n\n\
             [[retention]]\ncategory = \"health\"\npurpose = \"insurance\"\nafter = \"collection\"\n\
             years = 1\nsource = \"operator\"\n\n# ---- Purposes"
        ),
        1,
    )
}

#[test]
fn uz_art_26_a_selfie_stands_on_consent_in_any_provable_form() {
    let ledger = ConsentLedger::with_policy(imanum());
    ledger
        .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Biometric>())
        .unwrap();
    assert!(
        ledger
            .authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION)
            .is_ok()
    );
}

#[test]
fn uz_art_26_biometric_data_without_consent_only_on_the_laws_own_grounds() {
    // A selfie for the service on a contract: not a ground Art. 26 lists.
    let text = IMANUM.replacen(
        "categories = [\"phone\", \"identity_document\", \"biometric\"]\nbasis = \"consent\"",
        "categories = [\"phone\", \"identity_document\", \"biometric\"]\nbasis = \"contract\"",
        1,
    );
    assert!(text != IMANUM);
    let refused = Policy::from_toml_str(&text).unwrap_err();
    assert!(
        matches!(
            refused.kind(),
            PolicyErrorKind::SpecialCategoryBasis { category, article: "ZRU-547, Art. 26", .. }
                if category == "biometric"
        ),
        "{refused}"
    );
}

#[test]
fn uz_art_25_special_data_needs_written_consent_an_electronic_document_included() {
    // Declared on an electronic consent, the policy is refused.
    let refused = Policy::from_toml_str(&with_health("electronic")).unwrap_err();
    assert!(
        matches!(
            refused.kind(),
            PolicyErrorKind::WeakConsentForm {
                article: "ZRU-547, Art. 25",
                ..
            }
        ),
        "{refused}"
    );
    let policy = Policy::from_toml_str(&with_health("written")).unwrap();
    let insurance = Purpose::new("insurance").unwrap();
    for (form, opens) in [(otp(), false), (signed(), true), (written(), true)] {
        let ledger = ConsentLedger::with_policy(policy.clone());
        ledger
            .grant(
                Grant::new(customer(), form.clone())
                    .purpose(insurance.clone())
                    .category::<Health>(),
            )
            .unwrap();
        let token = ledger.authorize::<Health>(&customer(), &insurance);
        if opens {
            assert!(token.is_ok(), "{form:?}: {token:?}");
        } else {
            assert!(
                matches!(
                    token,
                    Err(Error::WrittenConsentRequired {
                        article: "ZRU-547, Art. 25",
                        ..
                    })
                ),
                "{token:?}"
            );
        }
    }
}

#[test]
fn uz_art_21_a_representatives_consent_is_written_an_electronic_document_included() {
    let guardian = GivenBy::LegalRepresentative {
        name: "A. Karimova".into(),
        basis: "guardianship decision 12/2025".into(),
    };
    let ledger = ConsentLedger::with_policy(imanum());
    let refused = ledger
        .grant(
            otp_grant(&customer(), Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .given_by(guardian.clone()),
        )
        .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::RepresentativeConsentNotWritten {
                article: "ZRU-547, Art. 21",
                ..
            }
        ),
        "{refused}"
    );
    assert!(ledger.history(&customer()).is_empty());
    ledger
        .grant(
            signed_grant(&customer(), Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .given_by(guardian.clone()),
        )
        .unwrap();
    // Tajik law sets no form for a representative's consent (Art. 11.1).
    let tajik = ConsentLedger::with_policy(Policy::from_toml_str(TAJIK).unwrap());
    tajik
        .grant(
            otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION)
                .category::<Phone>()
                .given_by(guardian),
        )
        .unwrap();
}

#[test]
fn uz_art_24_an_automated_credit_decision_opens_only_on_the_form_art_24_asks() {
    let ledger = ConsentLedger::with_policy(imanum());
    ledger
        .grant(otp_grant(&customer(), Purpose::CREDIT_SCORING).category::<PaymentCard>())
        .unwrap();
    assert!(matches!(
        ledger.authorize::<PaymentCard>(&customer(), &Purpose::CREDIT_SCORING),
        Err(Error::WrittenConsentRequired {
            article: "ZRU-547, Art. 24",
            ..
        })
    ));
    // A digitally signed consent is an electronic document: written, as Art. 24 asks.
    ledger
        .grant(signed_grant(&customer(), Purpose::CREDIT_SCORING).category::<PaymentCard>())
        .unwrap();
    assert!(
        ledger
            .authorize::<PaymentCard>(&customer(), &Purpose::CREDIT_SCORING)
            .is_ok()
    );
}

#[test]
fn uz_art_24_an_automated_decision_stands_on_written_consent_a_contract_or_a_law() {
    let weak = IMANUM.replacen(
        "consent_form = \"written\"\n\n[purpose.automated_decision]",
        "consent_form = \"electronic\"\n\n[purpose.automated_decision]",
        1,
    );
    assert!(weak != IMANUM);
    let refused = Policy::from_toml_str(&weak).unwrap_err();
    assert!(
        matches!(
            refused.kind(),
            PolicyErrorKind::AutomatedDecisionForm {
                article: "ZRU-547, Art. 24",
                ..
            }
        ),
        "{refused}"
    );
    let on_rights = IMANUM.replacen(
        "categories = [\"identity_document\", \"payment_card\", \"sms_metadata\"]\nbasis = \"consent\"",
        "categories = [\"identity_document\", \"payment_card\", \"sms_metadata\"]\nbasis = \"protection_of_rights\"",
        1,
    );
    assert!(on_rights != IMANUM);
    let refused = Policy::from_toml_str(&on_rights).unwrap_err();
    assert!(
        matches!(
            refused.kind(),
            PolicyErrorKind::AutomatedDecisionBasis {
                article: "ZRU-547, Art. 24",
                ..
            }
        ),
        "{refused}"
    );
}

#[test]
fn tj_art_17_1_a_digital_signature_is_not_written_consent_under_the_tajik_pack() {
    let signed = ConsentForm::Electronic {
        method: amanat::ElectronicMethod::DigitalSignature,
    };
    assert_eq!(
        JurisdictionPack::TAJIKISTAN_2018.strength(&signed),
        amanat::vocab::FormKind::Electronic
    );
    let ledger = ConsentLedger::with_policy(Policy::from_toml_str(TAJIK).unwrap());
    ledger
        .grant(
            Grant::new(customer(), signed)
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .category::<Biometric>(),
        )
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION),
        Err(Error::WrittenConsentRequired {
            article: "Law No. 1537, Art. 17.1",
            ..
        })
    ));
}

/// Every "Art." in `text` follows the Uzbek law's name; none is the Tajik law's.
fn cites_only_uzbek_law(text: &str) {
    assert!(!text.contains("1537"), "{text}");
    for (at, _) in text.match_indices("Art.") {
        let before = &text[..at];
        assert!(
            before.ends_with("ZRU-547, ")
                || before.ends_with("ZRU-547 ")
                || before.ends_with("Uzbek law "),
            "a bare article at {at}: {}",
            &text[at.saturating_sub(60)..(at + 20).min(text.len())]
        );
    }
}

#[test]
fn under_the_uzbek_pack_no_message_or_report_cites_a_tajik_article() {
    let policy = imanum();
    cites_only_uzbek_law(&policy.to_markdown());
    let ledger = ConsentLedger::with_policy(policy.clone());
    ledger
        .grant(otp_grant(&customer(), Purpose::CREDIT_SCORING).category::<PaymentCard>())
        .unwrap();
    let refusals = [
        ledger
            .authorize::<PaymentCard>(&customer(), &Purpose::CREDIT_SCORING)
            .unwrap_err(),
        ledger
            .authorize::<Phone>(&customer(), &Purpose::STATISTICS)
            .unwrap_err(),
        ledger
            .grant(
                otp_grant(&customer(), Purpose::SERVICE_PROVISION)
                    .category::<Phone>()
                    .given_by(GivenBy::LegalRepresentative {
                        name: "A. Karimova".into(),
                        basis: "decision 12".into(),
                    }),
            )
            .unwrap_err(),
        policy
            .check_store_location("DE".parse().unwrap(), chrono::NaiveDate::MAX)
            .unwrap_err(),
    ];
    for refusal in refusals {
        cites_only_uzbek_law(&refusal.to_string());
    }
    for broken in [
        with_health("electronic"),
        IMANUM.replacen(
            "transfer_basis = \"consent\"",
            "transfer_basis = \"law\"",
            1,
        ),
        IMANUM.replacen(
            "[[retention]]\ncategory = \"phone\"\npurpose = \"service_provision\"",
            "[[retention]]\ncategory = \"phone\"\npurpose = \"statistics\"",
            1,
        ),
    ] {
        let refused = Policy::from_toml_str(&broken).unwrap_err();
        cites_only_uzbek_law(&refused.to_string());
    }
}

/// What the law in force counts as written is decided when a token is asked, not when the
/// consent was given: adopting a policy under another pack changes it at once (found by a
/// review: a signed consent kept the Uzbek pack's strength under the Tajik one).
#[test]
fn a_consents_strength_is_the_pack_in_forces_after_adopting_another_tj_art_17_1() {
    let ledger = ConsentLedger::with_policy(imanum());
    ledger
        .grant(
            Grant::new(customer(), signed())
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .category::<Biometric>(),
        )
        .unwrap();
    ledger.adopt(Policy::from_toml_str(TAJIK).unwrap()).unwrap();
    assert!(matches!(
        ledger.authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION),
        Err(Error::WrittenConsentRequired {
            article: "Law No. 1537, Art. 17.1",
            ..
        })
    ));
}

/// A representative's consent in a form weaker than writing opens nothing under the Uzbek
/// pack, however it was recorded: under another pack, or with no policy, before the
/// Uzbek one was adopted (found by a review).
#[test]
fn a_representatives_otp_consent_opens_nothing_once_the_uzbek_pack_is_adopted_uz_art_21() {
    let guardian = GivenBy::LegalRepresentative {
        name: "A. Karimova".into(),
        basis: "guardianship 12/2025".into(),
    };
    let under_tajik = ConsentLedger::with_policy(Policy::from_toml_str(TAJIK).unwrap());
    let no_policy = ConsentLedger::new(imanum().version().clone());
    for ledger in [under_tajik, no_policy] {
        ledger
            .grant(
                otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION)
                    .category::<Phone>()
                    .given_by(guardian.clone()),
            )
            .unwrap();
        ledger.adopt(imanum()).unwrap();
        let token = ledger.authorize::<Phone>(&customer(), &Purpose::IDENTITY_VERIFICATION);
        assert!(
            matches!(
                token,
                Err(Error::RepresentativeConsentNotWritten {
                    article: "ZRU-547, Art. 21",
                    ..
                })
            ),
            "{token:?}"
        );
    }
}

#[test]
fn uz_art_31_a_processor_is_entrusted_with_data_only_on_written_consent() {
    use amanat::disclosure::Disclosures;
    use std::sync::Arc;
    let policy = Arc::new(imanum());
    let disclosures = Disclosures::new(Arc::clone(&policy));
    // In June 2025, when the subject's consent was still a ground for a transfer abroad.
    let clock = amanat::ManualClock::new(friday());
    let ledger = ledger_under(&policy, &clock).build();
    // AppMetrica is a processor abroad: the subject agrees to transfers abroad either way.
    ledger
        .grant(
            otp_grant(&customer(), Purpose::MARKETING_ANALYTICS)
                .category::<Phone>()
                .cross_border(),
        )
        .unwrap();
    let token = ledger
        .authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    assert!(matches!(
        disclosures.permit(token, "appmetrica"),
        Err(Error::WrittenConsentRequired {
            article: "ZRU-547, Art. 31",
            ..
        })
    ));
    let signed_ledger = ledger_under(&policy, &clock).build();
    signed_ledger
        .grant(
            signed_grant(&customer(), Purpose::MARKETING_ANALYTICS)
                .category::<Phone>()
                .cross_border(),
        )
        .unwrap();
    let token = signed_ledger
        .authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    let permit = disclosures.permit(token, "appmetrica");
    assert!(permit.is_ok(), "{:?}", permit.err());
}
