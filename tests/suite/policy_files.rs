//! Policies as files: the IMANUM policy and both packs drive decisions as LAW.md says, a
//! broken policy is refused whole with the line and column of what is wrong, and deadlines
//! are counted on the policy's working days.

use crate::common::{
    IMANUM, TAJIK, customer, imanum, imanum_version, otp, otp_grant, written_grant,
};
use amanat::category::{Biometric, Passport, PaymentCard, Phone};
use amanat::consent::ConsentEventKind;
use amanat::policy::{Country, JurisdictionPack, Policy, PolicyErrorKind};
use amanat::rights::RequestKind;
use amanat::vocab::FormKind;
use amanat::{
    ConsentForm, ConsentLedger, Error, Grant, LegalBasis, PersonalData, Purpose, SubjectId,
};
use chrono::NaiveDate;

#[test]
fn the_imanum_policy_loads_from_its_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/imanum.toml");
    let policy = Policy::from_path(path).unwrap();
    assert_eq!(policy.version().as_str(), "imanum-privacy-policy-2");
    assert_eq!(policy.pack().id, "uzbekistan-2019");
    assert_eq!(policy.pack().home, Country::UZ);
    assert_eq!(
        policy.operator().name,
        "«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT"
    );
    let credolab = policy.recipient("credolab").unwrap();
    assert_eq!(credolab.country.as_str(), "SG");
    assert!(policy.allows(&Purpose::IDENTITY_VERIFICATION, "biometric"));
    // ZRU-547 Art. 26: the selfie on the onboarding's one-time password.
    assert_eq!(
        policy.required_form(&Purpose::IDENTITY_VERIFICATION, "biometric"),
        Some(FormKind::Electronic)
    );
    // Art. 24: credit scoring decides automatically, on written consent only.
    assert_eq!(
        policy.required_form(&Purpose::CREDIT_SCORING, "payment_card"),
        Some(FormKind::Written)
    );
    assert_eq!(
        policy.required_form(&Purpose::IDENTITY_VERIFICATION, "phone"),
        Some(FormKind::Electronic)
    );
    assert_eq!(
        policy.required_form(&Purpose::MARKETING_ANALYTICS, "biometric"),
        None
    );
    assert!(policy.purpose(&Purpose::SERVICE_PROVISION).unwrap().service);
}

#[test]
fn a_selfie_opens_on_an_otp_consent_under_uzbek_art_26_but_not_under_tajik_art_17_1() {
    for (text, opens) in [(IMANUM, true), (TAJIK, false)] {
        let ledger = ConsentLedger::with_policy(Policy::from_toml_str(text).unwrap());
        ledger
            .grant(
                otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION)
                    .category::<Phone>()
                    .category::<Biometric>(),
            )
            .unwrap();
        assert!(
            ledger
                .authorize::<Phone>(&customer(), &Purpose::IDENTITY_VERIFICATION)
                .is_ok()
        );
        let selfie = ledger.authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION);
        if opens {
            // ZRU-547 Art. 26: consent, in no particular form; IMANUM's OTP flow (§2.1.3).
            assert!(selfie.is_ok(), "{selfie:?}");
        } else {
            assert!(matches!(
                selfie,
                Err(Error::WrittenConsentRequired {
                    article: "Law No. 1537, Art. 17.1",
                    ..
                })
            ));
        }
    }
}

#[test]
fn marketing_may_not_read_a_passport_art_8_3() {
    let ledger = ConsentLedger::with_policy(imanum());
    // Even a subject who ticked everything: the policy never declared it.
    ledger
        .grant(
            otp_grant(&customer(), Purpose::MARKETING_ANALYTICS)
                .category::<Phone>()
                .category::<Passport>(),
        )
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Passport>(&customer(), &Purpose::MARKETING_ANALYTICS),
        Err(Error::NotDeclared { category, .. }) if category.as_str() == "identity_document"
    ));
    assert!(
        ledger
            .authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS)
            .is_ok()
    );
}

#[test]
fn a_consent_for_an_undeclared_purpose_is_not_recorded_art_8_2() {
    let ledger = ConsentLedger::with_policy(Policy::from_toml_str(TAJIK).unwrap());
    let err = ledger
        .grant(otp_grant(&customer(), Purpose::MARKETING_ANALYTICS).category::<Phone>())
        .unwrap_err();
    assert!(matches!(err, Error::PurposeNotDeclared { .. }), "{err:?}");
    let err = ledger
        .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<PaymentCard>())
        .unwrap_err();
    assert!(matches!(err, Error::CategoryNotDeclared { .. }), "{err:?}");
    assert!(ledger.history(&customer()).is_empty());
}

#[test]
fn a_consent_weaker_than_the_policy_requires_is_refused() {
    let ledger = ConsentLedger::with_policy(imanum());
    ledger
        .grant(
            Grant::new(customer(), ConsentForm::Implied)
                .purpose(Purpose::MARKETING_ANALYTICS)
                .category::<Phone>(),
        )
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS),
        Err(Error::FormTooWeak {
            required: FormKind::Electronic,
            ..
        })
    ));
}

#[test]
fn processing_without_consent_only_on_the_basis_the_policy_declares_art_12() {
    let ledger = ConsentLedger::with_policy(imanum());
    let aml = LegalBasis::LegalObligation {
        reference: "AML law, customer due diligence".into(),
    };
    assert!(
        ledger
            .authorize_with_basis::<Passport>(&customer(), &Purpose::LEGAL_OBLIGATION, aml.clone())
            .is_ok()
    );
    // Identity verification stands on consent in the policy, not on the AML law.
    assert!(matches!(
        ledger.authorize_with_basis::<Passport>(&customer(), &Purpose::IDENTITY_VERIFICATION, aml),
        Err(Error::BasisNotDeclared {
            declared: "consent",
            ..
        })
    ));
}

#[test]
fn a_policy_that_requires_reconsent_stops_older_consents_until_granted_again_imanum_6() {
    let ledger = ConsentLedger::with_policy(imanum());
    let consent = ledger
        .grant(written_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Biometric>())
        .unwrap();
    let token = ledger
        .authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let selfie = PersonalData::collect(&customer(), vec![0xFF_u8, 0xD8], &token).unwrap();

    // A new version that does not require re-consent leaves consents as they are.
    let quiet = ledger
        .adopt(imanum_version("imanum-privacy-policy-3", false))
        .unwrap();
    assert!(quiet.invalidated.is_empty());
    assert!(selfie.read(&token).is_ok());
    assert_eq!(token.policy_version().as_str(), "imanum-privacy-policy-2");

    let strict = ledger
        .adopt(imanum_version("imanum-privacy-policy-4", true))
        .unwrap();
    assert_eq!(strict.invalidated, [consent]);
    assert!(matches!(
        selfie.read(&token),
        Err(Error::ReconsentRequired { policy_version, .. })
            if policy_version.as_str() == "imanum-privacy-policy-4"
    ));
    assert!(matches!(
        ledger.authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION),
        Err(Error::ReconsentRequired { consent: c, .. }) if c == consent
    ));
    assert!(matches!(
        ledger.withdraw(&consent),
        Err(Error::ConsentInvalidated { .. })
    ));
    assert!(matches!(
        ledger.history(&customer()).last().unwrap().kind,
        ConsentEventKind::Invalidated { .. }
    ));

    // The subject consents again, under the new version.
    ledger
        .grant(written_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Biometric>())
        .unwrap();
    let fresh = ledger
        .authorize::<Biometric>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    assert_eq!(fresh.policy_version().as_str(), "imanum-privacy-policy-4");
    assert!(selfie.read(&fresh).is_ok());
    assert!(matches!(
        ledger.adopt(imanum_version("imanum-privacy-policy-4", true)),
        Err(Error::SamePolicyVersion { .. })
    ));
}

/// One broken policy, where the error must point, and what it must say.
struct Broken {
    name: &'static str,
    text: String,
    line: usize,
    column: usize,
    kind: fn(&PolicyErrorKind) -> bool,
}

fn broken(
    name: &'static str,
    from: &str,
    to: &str,
    line: usize,
    column: usize,
    kind: fn(&PolicyErrorKind) -> bool,
) -> Broken {
    assert!(
        TAJIK.contains(from),
        "{name}: the base policy has no {from:?}"
    );
    Broken {
        name,
        text: TAJIK.replacen(from, to, 1),
        line,
        column,
        kind,
    }
}

#[test]
fn broken_policies_are_refused_at_the_line_and_column_of_the_problem() {
    let cases = [
        broken("an unknown key", "contact = ", "contakt = ", 8, 1, |k| {
            matches!(k, PolicyErrorKind::UnknownKey { .. })
        }),
        broken(
            "a purpose naming an undeclared category",
            "categories = [\"phone\", \"biometric\"]",
            "categories = [\"phone\", \"biometric\", \"income\"]",
            19,
            37,
            |k| matches!(k, PolicyErrorKind::UndeclaredCategory { category, .. } if category == "income"),
        ),
        broken(
            "a category and purpose with no retention rule",
            "[[retention]]\ncategory = \"phone\"\npurpose = \"identity_verification\"\nafter = \"relationship_end\"\n",
            "",
            18,
            6,
            |k| matches!(k, PolicyErrorKind::MissingRetention { category, .. } if category == "phone"),
        ),
        broken(
            "a biometric purpose with a consent weaker than written",
            "written_for = [\"biometric\"]",
            "consent_form = \"electronic\"",
            21,
            16,
            |k| matches!(k, PolicyErrorKind::WeakConsentForm { category, .. } if category == "biometric"),
        ),
        broken(
            "a duplicate category",
            "[[category]]\nid = \"biometric\"",
            "[[category]]\nid = \"phone\"",
            15,
            6,
            |k| {
                matches!(
                    k,
                    PolicyErrorKind::DuplicateId {
                        kind: "category",
                        ..
                    }
                )
            },
        ),
        broken(
            "an unknown pack",
            "pack = \"tajikistan-2018\"",
            "pack = \"kazakhstan-2013\"",
            3,
            8,
            |k| matches!(k, PolicyErrorKind::UnknownPack { .. }),
        ),
        broken(
            "a basis the law does not accept",
            "basis = \"consent\"",
            "basis = \"contract\"",
            20,
            9,
            |k| matches!(k, PolicyErrorKind::BasisNotInPack { .. }),
        ),
        broken(
            "biometric data declared not special",
            "[[category]]\nid = \"biometric\"",
            "[[category]]\nid = \"biometric\"\nspecial = false",
            16,
            11,
            |k| matches!(k, PolicyErrorKind::WeakerThanLaw { .. }),
        ),
        broken(
            "a misspelt value",
            "after = \"relationship_end\"",
            "after = \"relationship_ends\"",
            26,
            9,
            |k| matches!(k, PolicyErrorKind::Syntax { .. }),
        ),
        broken("broken TOML", "[operator]", "[operator", 5, 10, |k| {
            matches!(k, PolicyErrorKind::Syntax { .. })
        }),
        broken(
            "a date with a time",
            "date = 2025-07-01",
            "date = 2025-07-01T10:00:00",
            2,
            8,
            |k| matches!(k, PolicyErrorKind::InvalidValue { field: "date", .. }),
        ),
        broken(
            "a recipient abroad with no ground for the transfer",
            "[[retention]]",
            "[[recipient]]\nid = \"scorer\"\nname = \"Scorer Ltd\"\naddress = \"London\"\nrole = \"processor\"\ncountry = \"GB\"\npurposes = [\"identity_verification\"]\ncategories = [\"phone\"]\n\n[[retention]]",
            28,
            11,
            |k| matches!(k, PolicyErrorKind::TransferNotAllowed { country, .. } if country.as_str() == "GB"),
        ),
        broken(
            "a lower-case country",
            "[[retention]]",
            "[[storage]]\ncountry = \"tj\"\n\n[[retention]]",
            24,
            11,
            |k| {
                matches!(
                    k,
                    PolicyErrorKind::InvalidValue {
                        field: "storage.country",
                        ..
                    }
                )
            },
        ),
        broken(
            "data stored abroad that the law keeps at home",
            "[[retention]]",
            "[[storage]]\ncountry = \"DE\"\n\n[[retention]]",
            24,
            11,
            |k| matches!(k, PolicyErrorKind::StorageNotAllowed { country, .. } if country.as_str() == "DE"),
        ),
        broken(
            "a calendar with no working day",
            "[[retention]]",
            "[calendar]\nweekend = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\n[[retention]]",
            24,
            11,
            |k| matches!(k, PolicyErrorKind::NoWorkingDay),
        ),
        broken(
            "a holiday that does not exist",
            "[[retention]]",
            "[calendar]\nholidays = [\"02-30\"]\n\n[[retention]]",
            24,
            13,
            |k| {
                matches!(
                    k,
                    PolicyErrorKind::InvalidValue {
                        field: "calendar.holidays",
                        ..
                    }
                )
            },
        ),
    ];
    Policy::from_toml_str(TAJIK).expect("the base policy is valid");
    for case in cases {
        let err = Policy::from_toml_str(&case.text)
            .err()
            .unwrap_or_else(|| panic!("{}: accepted", case.name));
        assert!((case.kind)(err.kind()), "{}: {err}", case.name);
        assert_eq!(
            (err.line(), err.column()),
            (Some(case.line), Some(case.column)),
            "{}: {err}",
            case.name
        );
    }
}

#[test]
fn an_error_in_a_file_names_the_file() {
    let dir = std::env::temp_dir().join(format!("amanat-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        TAJIK.replace("basis = \"consent\"", "basis = \"whim\""),
    )
    .unwrap();
    let err = Policy::from_path(&path).unwrap_err();
    assert_eq!(err.file(), Some(path.as_path()));
    assert!(
        err.to_string()
            .starts_with(&format!("{}:20:9: ", path.display()))
    );
    let missing = Policy::from_path(dir.join("missing.toml")).unwrap_err();
    assert!(matches!(missing.kind(), PolicyErrorKind::Unreadable { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn tajik_deadlines_count_working_days_art_21_1_25_1() {
    // No calendar of its own: the pack's weekend.
    let policy = Policy::from_toml_str(TAJIK).unwrap();
    assert_eq!(policy.pack().subject_request.days, 3);
    // Thursday 12 June 2025: Friday, Monday, Tuesday — for the data (Art. 25.1) and for
    // a transfer's notice (Art. 21.1) alike.
    assert_eq!(
        policy.subject_request_due(day(2025, 6, 12)),
        Some(day(2025, 6, 17))
    );
    assert_eq!(
        policy.transfer_notice_due(day(2025, 6, 12)),
        Some(day(2025, 6, 17))
    );
}

#[test]
fn uzbek_deadlines_count_days_as_the_text_does_art_11_22_23_24() {
    let policy = imanum();
    let pack = policy.pack();
    let received = day(2025, 6, 12);
    // Art. 22: a refusal in ten days, and the answer by then; Art. 23: a transfer's notice
    // in three days; Art. 11: a correction in three; Art. 24: an objection answered in ten.
    // Days, not working days: the text says "kun".
    assert_eq!(policy.subject_request_due(received), Some(day(2025, 6, 22)));
    assert_eq!(policy.transfer_notice_due(received), Some(day(2025, 6, 15)));
    assert_eq!(
        policy.request_due(RequestKind::Rectification, received),
        Some(day(2025, 6, 15))
    );
    assert_eq!(
        policy.request_due(RequestKind::Objection, received),
        Some(day(2025, 6, 22))
    );
    // The text's own times, and the one amanat reads into it, marked secondary: Art. 22
    // sets ten days for a refusal only.
    for (kind, article, secondary) in [
        (RequestKind::Access, "ZRU-547, Art. 22", true),
        (RequestKind::Rectification, "ZRU-547, Art. 11", false),
        (RequestKind::Objection, "ZRU-547, Art. 24", false),
    ] {
        let citation = pack.request_deadline(kind).citation;
        assert_eq!((citation.article, citation.secondary), (article, secondary));
    }
    assert_eq!(pack.transfer_notice.citation.article, "ZRU-547, Art. 23");
}

#[test]
fn working_days_skip_weekends_and_holidays() {
    let policy = imanum();
    let calendar = policy.calendar();
    let days = 3;
    // Thursday: Friday, Monday, Tuesday.
    assert_eq!(
        calendar.add_working_days(day(2025, 6, 12), days),
        Some(day(2025, 6, 17))
    );
    // Wednesday 4 June: Thursday, Friday 6 June is Kurban Hayit, then Monday, Tuesday.
    assert_eq!(
        calendar.add_working_days(day(2025, 6, 4), days),
        Some(day(2025, 6, 10))
    );
    // Navruz (21 March) fixed every year, and Ramadan Hayit (31 March 2025) once.
    assert!(!calendar.is_working_day(day(2031, 3, 21)));
    assert!(!calendar.is_working_day(day(2025, 3, 31)));
    assert!(calendar.is_working_day(day(2026, 3, 31)));
}

#[test]
fn a_deadline_crosses_the_year_end() {
    let policy = imanum();
    let calendar = policy.calendar();
    // Tuesday 30 December 2025: Wednesday 31, New Year's Day off, Friday 2 January,
    // the weekend, Monday 5 January.
    let received = day(2025, 12, 30);
    let due = calendar.add_working_days(received, 3).unwrap();
    assert_eq!(due, day(2026, 1, 5));
    assert_eq!(calendar.working_days_between(received, due), 3);
    assert_eq!(calendar.working_days_between(received, day(2026, 1, 1)), 1);
}

#[test]
fn both_packs_are_built_in() {
    for pack in JurisdictionPack::ALL {
        // Tajik law names biometric data (Art. 17.1); Uzbek law special data (Art. 25).
        assert!(!pack.written_consent.is_empty() || pack.special_written.is_some());
        assert_eq!(pack.transfer_notice.days, 3);
    }
    assert_eq!(
        JurisdictionPack::by_id("tajikistan-2018").unwrap().home,
        Country::TJ
    );
}

mod arbitrary_text {
    use proptest::prelude::*;

    use super::{IMANUM, Policy};

    proptest! {
        #![proptest_config(ProptestConfig { cases: crate::common::cases(512), ..ProptestConfig::default() })]

        #[test]
        fn the_loader_never_panics_on_any_text(text in "\\PC*") {
            let _ = Policy::from_toml_str(&text);
        }

        #[test]
        fn the_loader_never_panics_on_a_damaged_policy(
            cut in 0..IMANUM.len(),
            len in 0..64_usize,
            insert in "[\\[\\]\"=#\\n a-z0-9._-]{0,8}",
        ) {
            let boundary = |mut i: usize| {
                while !IMANUM.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let start = boundary(cut);
            let end = boundary((cut + len).min(IMANUM.len())).max(start);
            let damaged = format!("{}{}{}", &IMANUM[..start], insert, &IMANUM[end..]);
            if let Err(err) = Policy::from_toml_str(&damaged) {
                // Every refusal of a text points into it.
                prop_assert!(err.line().is_some() && err.column().is_some(), "{}", err);
            }
        }
    }
}

#[test]
fn the_record_of_processing_names_every_recipient_and_marks_transfers_abroad() {
    let policy = imanum();
    let report = policy.to_markdown();
    for recipient in policy.recipients() {
        assert!(report.contains(&recipient.name), "{}", recipient.name);
    }
    for purpose in policy.purposes() {
        assert!(report.contains(&format!("`{}`", purpose.id)));
    }
    assert!(report.contains("| CredoLab Pte Ltd | SG | consent |"));
    assert!(report.contains("| AppMetrica | RU | consent |"));
    assert!(report.contains("5 years after the account is closed"));
    let diagram = policy.to_mermaid();
    assert!(diagram.contains("c_biometric --> p_identity_verification"));
    assert!(diagram.contains("p_identity_verification --> r_state__identity__databases"));
    assert!(diagram.contains("p_credit_scoring -. \"abroad: SG, consent\" .-> r_credolab"));
    assert!(!diagram.contains("p_credit_scoring --> r_credolab"));
    assert!(report.contains(&diagram));
}

#[test]
fn a_policy_built_in_code_is_checked_the_same_way() {
    use amanat::policy::{Operator, PurposeDecl};
    use amanat::vocab::BasisKind;
    let operator = Operator {
        name: "Shop LLC".into(),
        address: "Dushanbe".into(),
        contact: Some("privacy@shop.tj".into()),
        registration: "NCPD-1".into(),
        methods: Vec::new(),
        access: Vec::new(),
        phone: None,
        policy_url: None,
    };
    let err = Policy::builder(
        amanat::PolicyVersion::new("shop-1").unwrap(),
        day(2025, 7, 1),
        &JurisdictionPack::TAJIKISTAN_2018,
        operator,
    )
    .category("phone")
    .category("biometric")
    .purpose(PurposeDecl::new(
        Purpose::IDENTITY_VERIFICATION,
        BasisKind::Consent,
        ["phone", "biometric"],
    ))
    .build()
    .unwrap_err();
    // The first problem met: a biometric purpose accepting electronic consent. Built in
    // code, it has no line to point at.
    assert!(matches!(
        err.kind(),
        PolicyErrorKind::WeakConsentForm { category, .. } if category == "biometric"
    ));
    assert_eq!(err.line(), None);
}

#[test]
fn while_a_policy_is_enforced_consents_take_its_version_imanum_6() {
    let ledger = ConsentLedger::with_policy(imanum());
    let err = ledger
        .grant(
            otp_grant(&customer(), Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .policy_version(amanat::PolicyVersion::new("imanum-privacy-policy-1").unwrap()),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::PolicyVersionMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn a_purpose_the_subject_withdrew_stays_withdrawn_after_a_reconsent_policy() {
    let ledger = ConsentLedger::with_policy(imanum());
    ledger
        .grant(
            otp_grant(&customer(), Purpose::SERVICE_PROVISION)
                .purpose(Purpose::MARKETING_ANALYTICS)
                .category::<Phone>(),
        )
        .unwrap();
    ledger
        .withdraw_purpose(&customer(), &Purpose::MARKETING_ANALYTICS)
        .unwrap();
    ledger
        .adopt(imanum_version("imanum-privacy-policy-3", true))
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Phone>(&customer(), &Purpose::MARKETING_ANALYTICS),
        Err(Error::ConsentWithdrawn { .. })
    ));
    assert!(matches!(
        ledger.authorize::<Phone>(&customer(), &Purpose::SERVICE_PROVISION),
        Err(Error::ReconsentRequired { .. })
    ));
}

#[test]
fn a_ledger_without_a_policy_can_adopt_one_of_its_own_version() {
    let ledger = ConsentLedger::new(amanat::PolicyVersion::new("imanum-privacy-policy-2").unwrap());
    assert!(ledger.policy().is_none());
    ledger.adopt(imanum()).unwrap();
    assert!(ledger.policy().is_some());
    assert!(matches!(
        ledger.adopt(imanum()),
        Err(Error::SamePolicyVersion { .. })
    ));
}

/// A category the policy, not the type, declares special.
enum Income {}

impl amanat::Category for Income {
    const ID: amanat::category::CategoryId = amanat::category::CategoryId::new("income");
    const SPECIAL: bool = false;
    const ACCESS: amanat::category::Access = amanat::category::Access::Restricted;
}

#[test]
fn a_category_the_policy_declares_special_needs_written_consent_or_an_art_17_2_ground() {
    let text = TAJIK
        .replace(
            "[[category]]\nid = \"phone\"",
            "[[category]]\nid = \"phone\"\n\n[[category]]\nid = \"income\"\nspecial = true",
        )
        .replacen(
            "[[retention]]",
            "[[purpose]]\nid = \"state_requests\"\ncategories = [\"income\"]\nbasis = \"state_function\"\n\n[[retention]]\ncategory = \"income\"\npurpose = \"state_requests\"\nafter = \"purpose_achieved\"\n\n[[retention]]",
            1,
        );
    let err = Policy::from_toml_str(&text).unwrap_err();
    assert!(
        matches!(err.kind(), PolicyErrorKind::SpecialCategoryBasis { category, .. } if category == "income"),
        "{err}"
    );
    // Declared on consent, the policy loads, and the ledger wants written consent.
    let text = text.replace(
        "basis = \"state_function\"",
        "basis = \"consent\"\nconsent_form = \"written\"",
    );
    let ledger = ConsentLedger::with_policy(Policy::from_toml_str(&text).unwrap());
    let state = Purpose::new("state_requests").unwrap();
    ledger
        .grant(
            Grant::new(customer(), otp())
                .purpose(state.clone())
                .category::<Income>(),
        )
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Income>(&customer(), &state),
        Err(Error::WrittenConsentRequired { .. })
    ));
    assert!(matches!(
        ledger.authorize_with_basis::<Income>(
            &customer(),
            &state,
            LegalBasis::StateFunction {
                authority: "Tax Committee".into(),
                reference: "request 1".into()
            }
        ),
        Err(Error::BasisNotAllowed { .. })
    ));
}

/// The IMANUM policy moved to `date`, with every transfer abroad on standard clauses (the
/// ground the Uzbek law accepts from 2026) and `storage` added.
fn imanum_on(date: &str, storage: &str) -> String {
    IMANUM
        .replace("date = 2025-07-01", &format!("date = {date}"))
        .replace(
            "transfer_basis = \"consent\"",
            "transfer_basis = \"standard_clauses\"",
        )
        .replace(
            "[[storage]]\ncountry = \"UZ\"",
            &format!("[[storage]]\ncountry = \"UZ\"\n\n{storage}"),
        )
}

#[test]
fn uzbek_localisation_covers_all_data_until_2026_then_biometric_only_zru_547_art_27_1() {
    let cards_abroad = "[[storage]]\ncountry = \"DE\"\ncategories = [\"payment_card\"]";
    let selfies_abroad = "[[storage]]\ncountry = \"DE\"\ncategories = [\"biometric\"]";
    // In 2025 every category stays onshore (the 2021 rule).
    let before = IMANUM.replace(
        "[[storage]]\ncountry = \"UZ\"",
        &format!("[[storage]]\ncountry = \"UZ\"\n\n{cards_abroad}"),
    );
    let err = Policy::from_toml_str(&before).unwrap_err();
    assert!(
        matches!(err.kind(), PolicyErrorKind::StorageNotAllowed { category, .. } if category == "payment_card"),
        "{err}"
    );
    assert!(Policy::from_toml_str(&imanum_on("2026-04-01", cards_abroad)).is_ok());
    let err = Policy::from_toml_str(&imanum_on("2026-04-01", selfies_abroad)).unwrap_err();
    assert!(
        matches!(err.kind(), PolicyErrorKind::StorageNotAllowed { category, .. } if category == "biometric"),
        "{err}"
    );
    // A selfie must not go to a recipient abroad either, whatever the ground.
    let abroad = imanum_on("2026-04-01", "").replacen(
        "role = \"state_body\"\ncountry = \"UZ\"",
        "role = \"state_body\"\ncountry = \"SG\"\ntransfer_basis = \"standard_clauses\"",
        1,
    );
    let err = Policy::from_toml_str(&abroad).unwrap_err();
    assert!(
        matches!(err.kind(), PolicyErrorKind::LocalisedTransfer { category, .. } if category == "biometric"),
        "{err}"
    );
}

#[test]
fn a_transfer_ground_must_be_one_the_law_accepts_on_the_policy_date_art_18() {
    // Consent stopped being a ground for Uzbek transfers abroad with ZRU-1125.
    let late = IMANUM.replace("date = 2025-07-01", "date = 2026-04-01");
    let err = Policy::from_toml_str(&late).unwrap_err();
    assert!(
        matches!(err.kind(), PolicyErrorKind::TransferBasisNotInPack { recipient, .. } if recipient == "credolab"),
        "{err}"
    );
    assert_eq!(
        err.line(),
        Some(
            late.lines()
                .position(|l| l.starts_with("transfer_basis"))
                .unwrap()
                + 1
        )
    );
}

#[test]
fn uzbek_consent_is_at_least_an_electronic_document_moj_order_3478() {
    // Marketing analytics is the first purpose with `categories = ["phone"]`.
    let implied = IMANUM.replacen(
        "categories = [\"phone\"]\nbasis = \"consent\"",
        "categories = [\"phone\"]\nbasis = \"consent\"\nconsent_form = \"implied\"",
        1,
    );
    let err = Policy::from_toml_str(&implied).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            PolicyErrorKind::ConsentFormBelowLaw {
                required: FormKind::Electronic,
                ..
            }
        ),
        "{err}"
    );
    // The Tajik law names no form but for biometric data: implied consent loads there.
    let tajik = TAJIK.replace(
        "written_for = [\"biometric\"]",
        "written_for = [\"biometric\"]\nconsent_form = \"implied\"",
    );
    assert!(Policy::from_toml_str(&tajik).is_ok());
}

#[test]
fn a_recipient_is_declared_once() {
    let twice = IMANUM.replacen("id = \"katm\"", "id = \"credolab\"", 1);
    let err = Policy::from_toml_str(&twice).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            PolicyErrorKind::DuplicateId {
                kind: "recipient",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn no_consent_escapes_a_reconsent_policy_adopted_while_grants_run() {
    use std::sync::Arc;
    let ledger = Arc::new(ConsentLedger::with_policy(imanum()));
    let subjects: Vec<Vec<SubjectId>> = (0..2)
        .map(|t| {
            (0..200)
                .map(|n| SubjectId::new(format!("t{t}-{n}")).unwrap())
                .collect()
        })
        .collect();
    std::thread::scope(|scope| {
        for batch in &subjects {
            let ledger = Arc::clone(&ledger);
            scope.spawn(move || {
                for subject in batch {
                    ledger
                        .grant(otp_grant(subject, Purpose::SERVICE_PROVISION).category::<Phone>())
                        .unwrap();
                }
            });
        }
        ledger
            .adopt(imanum_version("imanum-privacy-policy-3", true))
            .unwrap();
    });
    // Every consent was either given under the new version or ended by it.
    for subject in subjects.iter().flatten() {
        match ledger.authorize::<Phone>(subject, &Purpose::SERVICE_PROVISION) {
            Ok(token) => assert_eq!(token.policy_version().as_str(), "imanum-privacy-policy-3"),
            Err(Error::ReconsentRequired { .. }) => {}
            Err(other) => panic!("{subject}: {other}"),
        }
    }
}

/// A valid policy under the Tajik pack with `n` categories, one purpose using (and asking
/// written consent for) all of them, a retention rule for each, `n` recipients of one
/// category each, and one storage location naming every category: each list that loading
/// checks against another is `n` long.
fn policy_of_size(n: usize) -> String {
    use std::fmt::Write;
    let all = (0..n)
        .map(|i| format!("\"c{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = String::from(
        "version = \"size-1\"\ndate = 2025-07-01\npack = \"tajikistan-2018\"\n\n\
         [operator]\nname = \"Size LLC\"\naddress = \"Dushanbe\"\n\
         contact = \"privacy@size.tj\"\nregistration = \"NCPD-0001\"\n\n",
    );
    for i in 0..n {
        writeln!(text, "[[category]]\nid = \"c{i}\"\n").unwrap();
    }
    writeln!(
        text,
        "[[purpose]]\nid = \"service_provision\"\ncategories = [{all}]\n\
         written_for = [{all}]\nbasis = \"consent\"\n"
    )
    .unwrap();
    for i in 0..n {
        writeln!(
            text,
            "[[retention]]\ncategory = \"c{i}\"\npurpose = \"service_provision\"\n\
             after = \"relationship_end\"\n"
        )
        .unwrap();
    }
    for i in 0..n {
        writeln!(
            text,
            "[[recipient]]\nid = \"r{i}\"\nname = \"Recipient {i}\"\naddress = \"Dushanbe\"\n\
             role = \"processor\"\ncountry = \"TJ\"\npurposes = [\"service_provision\"]\n\
             categories = [\"c{i}\"]\n"
        )
        .unwrap();
    }
    writeln!(text, "[[storage]]\ncountry = \"TJ\"\ncategories = [{all}]").unwrap();
    text
}

/// The shortest of `runs` loads of `text`, the least disturbed by whatever else the
/// machine runs meanwhile, and the policy loaded.
fn fastest_load(text: &str, runs: usize) -> (std::time::Duration, Policy) {
    let mut fastest = None;
    let mut policy = None;
    for _ in 0..runs {
        let start = std::time::Instant::now();
        let loaded = Policy::from_toml_str(text).unwrap();
        let took = start.elapsed();
        fastest = Some(fastest.map_or(took, |f: std::time::Duration| f.min(took)));
        policy = Some(loaded);
    }
    (fastest.unwrap(), policy.unwrap())
}

#[test]
fn loading_a_policy_takes_time_linear_in_its_categories_and_recipients() {
    // A size test, not a timed one: no absolute figure, only how the time grows. Ten times
    // the categories and recipients take about ten times as long when every check is a
    // hash lookup (a little more: the larger text no longer fits in the caches), and about
    // a hundred times when a check scans a list (issue 15: 40 k categories took 7.6 s).
    // Each size's fastest run is compared, so a run slowed by the machine does not count.
    // 40 k under CI, as the issue asks; a local run compares 1.5 k with 15 k, still large
    // enough for a quadratic loader to show (about 70x).
    let small = if crate::common::full_size() {
        4_000
    } else {
        1_500
    };
    let (small_time, _) = fastest_load(&policy_of_size(small), 5);
    let (large_time, large) = fastest_load(&policy_of_size(small * 10), 2);
    assert_eq!(large.categories().len(), small * 10);
    assert_eq!(large.recipients().len(), small * 10);
    assert_eq!(large.retention().len(), small * 10);
    let ratio = large_time.as_secs_f64() / small_time.as_secs_f64();
    assert!(
        ratio < 20.0,
        "10x the policy took {ratio:.1}x the time ({small_time:?} for {small}, {large_time:?} for {})",
        small * 10
    );
}

/// The IMANUM policy with `from` replaced by `to` in its statutory minimum.
fn with_minimum(from: &str, to: &str) -> Result<Policy, amanat::policy::PolicyError> {
    let (before, minimum) = IMANUM.split_once("[[minimum]]").unwrap();
    assert!(minimum.contains(from), "the minimum has no {from:?}");
    Policy::from_toml_str(&format!(
        "{before}[[minimum]]{}",
        minimum.replacen(from, to, 1)
    ))
}

#[test]
fn a_statutory_minimum_cites_its_law_and_opens_to_a_purpose_on_another_basis_art_14_3() {
    let invalid = |result: Result<Policy, amanat::policy::PolicyError>, field: &str| {
        let error = result.expect_err("refused");
        assert!(
            matches!(error.kind(), PolicyErrorKind::InvalidValue { field: f, .. } if *f == field),
            "{error}"
        );
        assert!(error.line().is_some(), "{error}");
    };
    invalid(
        with_minimum("article = \"Recommendation", "article = \" \"\n#"),
        "minimum.law",
    );
    invalid(with_minimum("law = \"FATF", "law = \"\"\n#"), "minimum.law");
    invalid(
        with_minimum(
            "purpose = \"legal_obligation\"",
            "purpose = \"service_provision\"",
        ),
        "minimum.purpose",
    );
    invalid(
        with_minimum(
            "after = \"relationship_end\"",
            "after = \"purpose_achieved\"",
        ),
        "minimum.after",
    );
    let undeclared = with_minimum("purpose = \"legal_obligation\"", "purpose = \"lending\"")
        .expect_err("refused");
    assert!(matches!(
        undeclared.kind(),
        PolicyErrorKind::UndeclaredPurpose { .. }
    ));
    let undeclared = with_minimum(
        "category = \"identity_document\"",
        "category = \"transaction_record\"",
    )
    .expect_err("refused");
    assert!(matches!(
        undeclared.kind(),
        PolicyErrorKind::UndeclaredCategory { .. }
    ));
    let policy = imanum();
    assert_eq!(policy.minimums().len(), 1);
    assert_eq!(policy.minimums()[0].readable_for, Purpose::LEGAL_OBLIGATION);
}

#[test]
fn a_period_after_the_relationship_ends_must_cite_its_law_art_14_3() {
    let uncited = IMANUM.replacen(
        "reference = \"AML law: records kept five years after the relationship ends\"",
        "",
        1,
    );
    let error = Policy::from_toml_str(&uncited).expect_err("refused");
    assert!(
        matches!(error.kind(), PolicyErrorKind::InvalidValue { field, .. } if *field == "retention.reference"),
        "{error}"
    );
}

#[test]
fn the_record_of_processing_says_what_outlives_the_closure_and_why_art_20() {
    let report = imanum().to_markdown();
    let (_, closure) = report
        .split_once("What outlives the account's closure")
        .expect("a section on the closure");
    let closure = closure.split("\n## ").next().unwrap();
    // The periods the policy counts from the closure, each with its law, and the minimum.
    assert!(closure.contains("`payment_card` collected for `fraud_prevention`: 5 years"));
    assert!(
        closure.contains("`identity_document`, whatever purpose collected it: at least 5 years")
    );
    assert!(closure.contains("Recommendation 11"));
    assert!(closure.contains("readable only for `legal_obligation`"));
    // Nothing counted from collection outlives it.
    assert!(!closure.contains("credit_scoring"), "{closure}");
}
