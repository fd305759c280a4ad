//! The IMANUM policy as its text says it (issue 18, item 4): the operator named as the
//! policy names it, no contact it does not publish, every retention figure marked as the
//! operator's choice where the policy is silent, the categories of §2.1.2 and §2.1.4, and a
//! registration it does not give loaded with a warning — or refused, when strict.

use std::sync::Arc;

use crate::common::{IMANUM, TAJIK, customer, ledger_under, otp_grant, policy_day, signed_grant};
use amanat::category::{Access, Category, CategoryId, PaymentCard, Phone};
use amanat::data::Source;
use amanat::disclosure::Disclosures;
use amanat::notices::{ChangeNotices, RecordChange};
use amanat::policy::{
    JurisdictionPack, NOT_PUBLISHED, Operator, Policy, PolicyErrorKind, RetentionSource,
};
use amanat::receipts::{Iso27560Record, KantaraReceipt};
use amanat::rights::{ReportSources, access_report};
use amanat::{ConsentLedger, ManualClock, PersonalData, PolicyVersion, Purpose};
use chrono::NaiveDate;

/// The operator, as the policy's preamble writes it: a kommanditnoe tovarishestvo (KT), a
/// limited partnership.
const OPERATOR: &str = "«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT";

/// What the policy file once made up, and what nothing may carry again.
const INVENTED: [&str; 3] = ["IMANUM LLC", "support@imanum", "@imanum.uz"];

/// Data on the customer's financial operations on the platform (IMANUM §2.1.2).
enum FinancialOperations {}

impl Category for FinancialOperations {
    const ID: CategoryId = CategoryId::new("financial_operations");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Restricted;
}

/// Device data the app asks for to provide the service (IMANUM §2.1.4).
enum DeviceData {}

impl Category for DeviceData {
    const ID: CategoryId = CategoryId::new("device_data");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Restricted;
}

fn imanum() -> Policy {
    Policy::from_toml_str(IMANUM).unwrap()
}

/// IMANUM with a telephone number, which a Kantara receipt requires and the policy does not
/// publish: only to get a Kantara document to look into.
fn imanum_with_phone() -> Policy {
    let text = IMANUM.replacen(
        "policy_url = ",
        "phone = \"+998 71 000 00 00\"\npolicy_url = ",
        1,
    );
    Policy::from_toml_str(&text).unwrap()
}

/// Fails naming the output that carries a contact or name the policy never gave.
fn assert_nothing_invented(what: &str, text: &str) {
    for invented in INVENTED {
        assert!(!text.contains(invented), "{what} carries {invented}");
    }
}

/// The IMANUM policy with its registration replaced by `registration`.
fn with_registration(registration: &str) -> String {
    IMANUM.replace(
        "registration = \"State register of personal databases: entry to be confirmed\"",
        &format!("registration = {}", toml_string(registration)),
    )
}

fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The line of IMANUM's registration, counted from 1.
fn registration_line() -> usize {
    IMANUM
        .lines()
        .position(|l| l.starts_with("registration ="))
        .unwrap()
        + 1
}

#[test]
fn the_operator_is_named_as_the_policy_writes_it_a_limited_partnership() {
    let policy = imanum();
    let operator = policy.operator();
    assert_eq!(operator.name, OPERATOR);
    assert!(operator.name.ends_with("KOMMANDITNOE TOVARISHESTVO» KT"));
    // The policy publishes neither an e-mail nor a telephone number.
    assert_eq!(operator.contact, None);
    assert_eq!(operator.phone, None);
    assert!(operator.access.iter().any(|a| a.starts_with(OPERATOR)));
    assert_nothing_invented("the policy file", IMANUM);
    assert!(
        policy
            .to_markdown()
            .contains(&format!("| name | {OPERATOR} |"))
    );
}

#[test]
fn no_report_receipt_or_notice_carries_a_contact_the_policy_does_not_publish() {
    let policy = Arc::new(imanum_with_phone());
    let ledger = ledger_under(&policy, &ManualClock::new(policy_day())).build();
    let subject = customer();
    let consent = ledger
        .grant(signed_grant(&subject, Purpose::CREDIT_SCORING).category::<PaymentCard>())
        .unwrap();
    let token = ledger
        .authorize::<PaymentCard>(&subject, &Purpose::CREDIT_SCORING)
        .unwrap();

    // The record of processing.
    let record_of_processing = policy.to_markdown();
    assert!(record_of_processing.contains(OPERATOR));
    assert_nothing_invented("the record of processing", &record_of_processing);

    // The subject's access report.
    let report =
        access_report(&subject, ReportSources::new(&policy, &ledger), policy_day()).unwrap();
    assert_eq!(report.operator.name, OPERATOR);
    let report = serde_json::to_string(&report).unwrap();
    assert_nothing_invented("the access report", &report);

    // The ISO/IEC TS 27560 record and the Kantara receipt.
    let proof = ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &policy, "uz").unwrap();
    assert_eq!(record.entity_id, OPERATOR);
    let iso = serde_json::to_string(&record).unwrap();
    assert_nothing_invented("the ISO 27560 record", &iso);
    let kantara = record.to_kantara(&policy).unwrap().to_string();
    assert_eq!(
        KantaraReceipt::parse(&kantara).unwrap().controllers(),
        [OPERATOR]
    );
    assert_nothing_invented("the Kantara receipt", &kantara);

    // A transfer notice for a card from the credit bureau, held by the operator; and the
    // notices of its correction, to the subject and to the recipients.
    let disclosures = Disclosures::new(Arc::clone(&policy));
    let card = PersonalData::collect_from(
        &subject,
        String::from("8600123456789012"),
        Source::ThirdParty {
            name: "KATM".into(),
        },
        &token,
    )
    .unwrap();
    disclosures.collected_from_third_party(&card).unwrap();
    let transfer = &disclosures.pending_notices(policy_day())[0];
    assert_eq!(transfer.holder, OPERATOR);
    let changes = ChangeNotices::new(Arc::clone(&policy));
    let owed = changes.owe(
        &subject,
        card.id(),
        &PaymentCard::ID,
        &Purpose::CREDIT_SCORING,
        RecordChange::Rectified,
        policy_day(),
    );
    assert!(!owed.is_empty());
    let notices = format!(
        "{}{}",
        serde_json::to_string(transfer).unwrap(),
        serde_json::to_string(&owed).unwrap()
    );
    assert_nothing_invented("the notices", &notices);
}

#[test]
fn a_contact_the_policy_does_not_publish_reads_not_published() {
    let policy = imanum_with_phone();
    let ledger = ConsentLedger::with_policy(policy.clone());
    let subject = customer();
    let consent = ledger
        .grant(otp_grant(&subject, Purpose::SERVICE_PROVISION).category::<Phone>())
        .unwrap();

    assert!(
        policy
            .to_markdown()
            .contains(&format!("| contact | {NOT_PUBLISHED} |"))
    );
    assert_eq!(policy.operator().contact_or_not_published(), NOT_PUBLISHED);

    // The access report: no contact in the operator, and where to write instead.
    let report =
        access_report(&subject, ReportSources::new(&policy, &ledger), policy_day()).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["operator"]["contact"].is_null());
    assert_eq!(
        report.rights.contact,
        "not published; write to the registered address: Tashkent, Republic of Uzbekistan"
    );
    assert!(report.rights.withdrawal.contains("registered address"));

    // The receipts: the ISO record's controller has none; the Kantara receipt, whose
    // contact and e-mail are required strings, says so in both, and parses.
    let proof = ledger.proof_of_consent(&consent).unwrap();
    let record = Iso27560Record::new(&proof, &policy, "uz").unwrap();
    assert_eq!(record.pii_controllers[0].contact, None);
    let kantara = record.to_kantara(&policy).unwrap();
    assert_eq!(kantara["piiControllers"][0]["contact"], NOT_PUBLISHED);
    assert_eq!(kantara["piiControllers"][0]["email"], NOT_PUBLISHED);
    KantaraReceipt::parse(&kantara.to_string()).unwrap();

    // A contact the policy does publish is printed as it gives it.
    let tajik = Policy::from_toml_str(TAJIK).unwrap();
    assert_eq!(tajik.operator().contact.as_deref(), Some("privacy@pay.tj"));
    assert!(tajik.to_markdown().contains("| contact | privacy@pay.tj |"));
}

#[test]
fn every_imanum_retention_figure_is_marked_the_operators_choice_and_the_policys_silence_noted() {
    let policy = imanum();
    assert!(!policy.retention().is_empty());
    for rule in policy.retention() {
        assert_eq!(
            rule.source,
            Some(RetentionSource::Operator),
            "{} for {}",
            rule.category,
            rule.purpose
        );
        assert!(
            rule.note.contains("the policy states no period"),
            "{} for {}",
            rule.category,
            rule.purpose
        );
    }
    // A rule that cites a law keeps its reference beside the mark.
    let fraud = policy
        .retention_for("payment_card", &Purpose::FRAUD_PREVENTION)
        .unwrap();
    assert!(fraud.reference.starts_with("AML law"));

    // The record of processing shows who set each period.
    let markdown = policy.to_markdown();
    assert!(markdown.contains("| category | purpose | kept | set by | reference |"));
    assert!(markdown.contains(
        "| `sms_metadata` | `credit_scoring` | 6 months after collection | the operator's \
         choice: the policy states no period (§IV) |  |"
    ));
    let retention = markdown
        .split_once("## Retention")
        .unwrap()
        .1
        .split("\n### ")
        .next()
        .unwrap();
    let rows = retention.lines().filter(|l| l.starts_with("| `")).count();
    let chosen = retention
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains("| the operator's choice: "))
        .count();
    assert_eq!((rows, chosen), (policy.retention().len(), rows));

    // A policy that does not say who set a period is shown so.
    let tajik = Policy::from_toml_str(TAJIK).unwrap();
    assert_eq!(tajik.retention()[0].source, None);
    assert!(tajik.to_markdown().contains("| not stated |"));
}

#[test]
fn a_period_said_to_be_set_by_law_must_cite_the_law() {
    let text = TAJIK.replacen(
        "after = \"relationship_end\"",
        "after = \"relationship_end\"\nsource = \"law\"",
        1,
    );
    let err = Policy::from_toml_str(&text).unwrap_err();
    assert!(
        matches!(err.kind(), PolicyErrorKind::InvalidValue { field, .. } if *field == "retention.reference"),
        "{err}"
    );
    let cited = text.replacen(
        "source = \"law\"",
        "source = \"law\"\nreference = \"Labour Code, Art. 1\"",
        1,
    );
    let policy = Policy::from_toml_str(&cited).unwrap();
    assert_eq!(policy.retention()[0].source, Some(RetentionSource::Law));

    // The marks are the format's: anything else is refused where it stands.
    let unknown = TAJIK.replacen(
        "after = \"relationship_end\"",
        "after = \"relationship_end\"\nsource = \"guess\"",
        1,
    );
    let err = Policy::from_toml_str(&unknown).unwrap_err();
    let line = unknown.lines().position(|l| l.contains("guess")).unwrap() + 1;
    assert_eq!(err.line(), Some(line), "{err}");
}

#[test]
fn financial_operations_and_device_data_are_declared_and_used_where_the_policy_ties_them() {
    let policy = imanum();
    for id in ["financial_operations", "device_data"] {
        let category = policy.category(id).unwrap();
        assert!(!category.special, "{id}");
        assert!(!category.description.is_empty(), "{id}");
    }
    assert!(
        policy
            .category("financial_operations")
            .unwrap()
            .description
            .contains("§2.1.2")
    );
    assert!(
        policy
            .category("device_data")
            .unwrap()
            .description
            .contains("§2.1.4")
    );

    // §2.1.4: device data only for the service itself.
    let users = |category: &str| -> Vec<&str> {
        policy
            .purposes()
            .iter()
            .filter(|p| p.categories.iter().any(|c| c == category))
            .map(|p| p.id.as_str())
            .collect()
    };
    assert_eq!(users("device_data"), ["service_provision"]);
    assert_eq!(
        users("financial_operations"),
        ["service_provision", "fraud_prevention", "state_requests"]
    );
    // Each use has its retention rule, marked like every other.
    for (category, purpose) in [
        ("device_data", Purpose::SERVICE_PROVISION),
        ("financial_operations", Purpose::SERVICE_PROVISION),
        ("financial_operations", Purpose::FRAUD_PREVENTION),
        (
            "financial_operations",
            Purpose::new("state_requests").unwrap(),
        ),
    ] {
        let rule = policy.retention_for(category, &purpose).unwrap();
        assert_eq!(rule.source, Some(RetentionSource::Operator));
    }
    // Courts and law enforcement may ask for the operations (§VI 4.1.2).
    let law_enforcement = policy.recipient("law_enforcement").unwrap();
    assert!(
        law_enforcement
            .categories
            .iter()
            .any(|c| c == "financial_operations")
    );

    // On the customer's consent to the service, both are authorised for it and for
    // nothing else.
    let ledger = ConsentLedger::with_policy(policy.clone());
    let subject = customer();
    ledger
        .grant(
            otp_grant(&subject, Purpose::SERVICE_PROVISION)
                .category::<FinancialOperations>()
                .category::<DeviceData>(),
        )
        .unwrap();
    assert!(
        ledger
            .authorize::<FinancialOperations>(&subject, &Purpose::SERVICE_PROVISION)
            .is_ok()
    );
    assert!(
        ledger
            .authorize::<DeviceData>(&subject, &Purpose::SERVICE_PROVISION)
            .is_ok()
    );
    assert!(
        ledger
            .authorize::<DeviceData>(&subject, &Purpose::MARKETING_ANALYTICS)
            .is_err()
    );
}

#[test]
fn a_placeholder_registration_is_a_warning_when_loaded_and_an_error_when_strict() {
    // Loaded as usual, IMANUM's unpublished registration is a warning, located.
    let policy = imanum();
    assert_eq!(policy.warnings().len(), 1);
    let warning = &policy.warnings()[0];
    assert_eq!(
        warning.kind(),
        &PolicyErrorKind::Placeholder {
            field: "operator.registration"
        }
    );
    assert_eq!(warning.line(), Some(registration_line()));
    assert_eq!(warning.column(), Some(16));

    // Loaded strictly, it is refused there, naming the field and not the value.
    let err = Policy::from_toml_str_strict(IMANUM).unwrap_err();
    assert_eq!(err.kind(), warning.kind());
    assert_eq!(
        (err.line(), err.column()),
        (warning.line(), warning.column())
    );
    let message = err.to_string();
    assert!(message.contains("operator.registration"), "{message}");
    assert!(!message.contains("to be confirmed"), "{message}");
    assert!(!message.contains("State register"), "{message}");

    // From the file, the same, with the file named.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/imanum.toml");
    assert_eq!(Policy::from_path(path).unwrap().warnings().len(), 1);
    let err = Policy::from_path_strict(path).unwrap_err();
    assert!(err.to_string().starts_with(path), "{err}");

    // A real entry loads strictly, with no warning.
    let registered = with_registration("State register of personal databases, No. 1234");
    let policy = Policy::from_toml_str_strict(&registered).unwrap();
    assert!(policy.warnings().is_empty());
    assert!(
        Policy::from_toml_str_strict(TAJIK)
            .unwrap()
            .warnings()
            .is_empty()
    );
}

#[test]
fn every_common_placeholder_is_refused_when_strict_and_a_real_entry_is_not() {
    for placeholder in [
        "",
        "   ",
        "-",
        "?",
        "TBC",
        "tbd",
        "N/A",
        "none",
        "To be confirmed",
        "Registration: TBD",
        "pending",
        "not published",
        "TODO",
        "уточняется",
    ] {
        let text = with_registration(placeholder);
        let err = Policy::from_toml_str_strict(&text).unwrap_err();
        assert!(
            matches!(err.kind(), PolicyErrorKind::Placeholder { .. }),
            "{placeholder:?}: {err}"
        );
        assert_eq!(
            Policy::from_toml_str(&text).unwrap().warnings().len(),
            1,
            "{placeholder:?}"
        );
    }
    for entry in [
        "NCPD-0042",
        "TBCX-17",
        "Certificate No. 0042 of 2024-05-01",
        "Noneshire register, entry 5",
    ] {
        let policy = Policy::from_toml_str_strict(&with_registration(entry)).unwrap();
        assert!(policy.warnings().is_empty(), "{entry:?}");
    }
}

#[test]
fn a_policy_built_in_code_is_strict_only_when_asked() {
    let operator = Operator {
        name: "Shop LLC".into(),
        address: "Dushanbe".into(),
        contact: None,
        registration: "to be confirmed".into(),
        methods: Vec::new(),
        access: Vec::new(),
        phone: None,
        policy_url: None,
    };
    let build = |strict: bool| {
        Policy::builder(
            PolicyVersion::new("shop-1").unwrap(),
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
            &JurisdictionPack::TAJIKISTAN_2018,
            operator.clone(),
        )
        .strict(strict)
        .build()
    };
    let policy = build(false).unwrap();
    assert_eq!(policy.warnings().len(), 1);
    // Built in code: no line to point at.
    assert_eq!(policy.warnings()[0].line(), None);
    assert!(matches!(
        build(true).unwrap_err().kind(),
        PolicyErrorKind::Placeholder {
            field: "operator.registration"
        }
    ));
}
