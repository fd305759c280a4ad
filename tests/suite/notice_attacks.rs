//! Attacks on the notices of transfers and on the operator's contact, from a review of
//! issue 18, kept as the tests that show each is refused (Tajik law Art. 21; ZRU-547
//! Art. 23): a permit taken before a notice fell overdue, a notice marked sent before it
//! was owed, a third party's record fetched back, a statement made on a fetched copy, a
//! blocked record stated public, and placeholders in the operator's fields.

use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "sqlite")]
use crate::common::keys_for;
use crate::common::{customer, otp_grant};
use amanat::category::Phone;
#[cfg(feature = "sqlite")]
use amanat::data::{Publication, Source};
use amanat::disclosure::Disclosures;
use amanat::policy::PolicyErrorKind;
use amanat::{Clock, ConsentLedger, Error, ManualClock, PersonalData, Policy, Purpose};
use chrono::{TimeDelta, TimeZone, Utc};

const POLICY: &str = r#"version = "tj-notices"
date = 2025-07-01
pack = "tajikistan-2018"
[operator]
name = "Registry LLC"
address = "Dushanbe"
contact = "r@example.tj"
registration = "NCPD-1"
[[category]]
id = "phone"
[[purpose]]
id = "identity_verification"
categories = ["phone"]
basis = "consent"
[[purpose]]
id = "service_provision"
categories = ["phone"]
basis = "consent"
[[retention]]
category = "phone"
purpose = "identity_verification"
after = "collection"
years = 1
[[retention]]
category = "phone"
purpose = "service_provision"
after = "collection"
years = 1
[[recipient]]
id = "bureau"
name = "Bureau"
address = "Dushanbe"
role = "third_party"
country = "TJ"
purposes = ["identity_verification", "service_provision"]
categories = ["phone"]
hold_until_notified = true
"#;

fn policy() -> Arc<Policy> {
    Arc::new(Policy::from_toml_str(POLICY).unwrap())
}

fn ledger(clock: &ManualClock, ttl: Duration) -> ConsentLedger {
    let p = policy();
    crate::common::ledger_under(&p, clock)
        .token_ttl(ttl)
        .build()
}

fn grant(ledger: &ConsentLedger) {
    ledger
        .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Phone>())
        .unwrap();
}

fn tok(ledger: &ConsentLedger) -> amanat::ConsentToken<Phone> {
    ledger
        .authorize::<Phone>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap()
}

// ---- The hold ----

/// The customer's phone, collected on `clock` with tokens living `ttl`, and sent to the
/// bureau once: the ledger, the register, the record and the number of the notice owed.
fn transferred(
    clock: &ManualClock,
    ttl: Duration,
) -> (ConsentLedger, Disclosures, PersonalData<String, Phone>, u64) {
    let ledger_ = ledger(clock, ttl);
    let register = Disclosures::new(policy());
    grant(&ledger_);
    let phone =
        PersonalData::collect(&customer(), "+992900000001".to_owned(), &tok(&ledger_)).unwrap();
    let permit = register.permit(tok(&ledger_), "bureau").unwrap();
    let notice = register
        .disclose(&phone, &permit, |_| ())
        .unwrap()
        .1
        .notice
        .unwrap();
    (ledger_, register, phone, notice)
}

/// A permit issued on the notice's due day is held the day after, when the notice is
/// overdue: `disclose` checks the hold again.
#[test]
fn art_21_1_a_permit_taken_before_a_notice_fell_overdue_is_held_at_the_transfer() {
    // Friday 13 June 2025 05:00 UTC.
    let clock = ManualClock::new(crate::common::friday());
    let (ledger_, register, phone, first) = transferred(&clock, Duration::from_secs(3 * 24 * 3600));
    let due = register.pending_notices(clock.now())[0].due;
    // Last minute of the due day: permit issued (not held yet).
    let last = Utc.from_utc_datetime(&due.and_hms_opt(23, 59, 0).unwrap());
    clock.set(last);
    let early = register.permit(tok(&ledger_), "bureau").unwrap();
    // The day after: the notice is overdue and a fresh permit is held...
    clock.advance(TimeDelta::minutes(2));
    assert_eq!(register.overdue_notices(clock.now()).len(), 1);
    assert!(matches!(
        register.permit(tok(&ledger_), "bureau"),
        Err(Error::TransferHeld { .. })
    ));
    // ...but the early permit still sends.
    let res = register.disclose(&phone, &early, |_| ());
    assert!(
        matches!(res, Err(Error::TransferHeld { .. })),
        "transfer under a pre-overdue permit went through while notice {first} is overdue: {res:?}"
    );
}

/// `mark_sent` refuses a time before the notice was owed, and the hold stays.
#[test]
fn art_21_1_a_notice_marked_sent_before_it_was_owed_is_refused_and_the_hold_stays() {
    let clock = ManualClock::new(crate::common::friday());
    let (ledger_, register, _, notice) = transferred(&clock, Duration::from_secs(300));
    clock.advance(TimeDelta::days(10));
    assert!(matches!(
        register.permit(tok(&ledger_), "bureau"),
        Err(Error::TransferHeld { .. })
    ));
    let epoch = Utc.timestamp_opt(0, 0).unwrap();
    let result = register.mark_sent(notice, epoch);
    assert!(
        matches!(result, Err(Error::SentBeforeOwed { notice: refused, .. }) if refused == notice),
        "{result:?}"
    );
    assert!(matches!(
        register.permit(tok(&ledger_), "bureau"),
        Err(Error::TransferHeld { .. })
    ));
}

// ---- The operator's fields ----

fn with_registration(reg: &str) -> String {
    POLICY.replace(
        "registration = \"NCPD-1\"",
        &format!("registration = {reg:?}"),
    )
}

#[test]
fn a_placeholder_registration_in_any_common_spelling_is_refused_when_strict() {
    let mut slipped = Vec::new();
    for permit in [
        "T.B.C.",
        "t b c",
        "ＴＢＣ",
        "T\u{200B}BC",
        "not available",
        "awaiting registration",
        "in progress",
        "XXX-XXXX",
        "<registration number>",
        "[registration]",
        "нет",
        "будет указано позже",
        "0",
        "000000",
        "TBC",
    ] {
        if Policy::from_toml_str_strict(&with_registration(permit)).is_ok() {
            slipped.push(permit);
        }
    }
    assert!(slipped.is_empty(), "strict loading accepted: {slipped:?}");
}

#[test]
fn a_blank_or_placeholder_contact_is_not_published_and_refused_when_strict() {
    for contact in ["", "   ", "TBC"] {
        let text = POLICY.replace(
            "contact = \"r@example.tj\"",
            &format!("contact = {contact:?}"),
        );
        assert!(
            matches!(
                Policy::from_toml_str_strict(&text).map_err(|e| e.kind().clone()),
                Err(PolicyErrorKind::Placeholder {
                    field: "operator.contact"
                })
            ),
            "contact {contact:?} loaded strictly"
        );
        // Loaded as usual: a warning, and the policy publishes no contact.
        let policy = Policy::from_toml_str(&text).unwrap();
        assert_eq!(policy.warnings().len(), 1);
        assert_eq!(policy.operator().contact, None);
        assert!(policy.to_markdown().contains("| contact | not published |"));
    }
}

// ---- On an operator ----

#[cfg(feature = "sqlite")]
fn operator(dir: &std::path::Path, clock: &ManualClock) -> amanat::store::Operator {
    amanat::store::Operator::builder(dir, (*policy()).clone(), keys_for(dir))
        .clock(clock.clone())
        .open()
        .unwrap()
}

#[cfg(feature = "sqlite")]
fn op_tok(store: &amanat::store::Operator, purpose: &Purpose) -> amanat::ConsentToken<Phone> {
    store
        .ledger()
        .authorize::<Phone>(&customer(), purpose)
        .unwrap()
}

/// A third party's record fetched back from the store still says where it came from, and
/// so does the notice of its transfer.
#[test]
#[cfg(feature = "sqlite")]
fn art_21_1_a_third_partys_record_fetched_back_keeps_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::friday());
    let store = operator(dir.path(), &clock);
    store
        .ledger()
        .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Phone>())
        .unwrap();
    let token = op_tok(&store, &Purpose::IDENTITY_VERIFICATION);
    let mut phone = PersonalData::collect_from(
        &customer(),
        "+992900000009".to_owned(),
        Source::ThirdParty {
            name: "KATM".into(),
        },
        &token,
    )
    .unwrap();
    store.keep(&mut phone, &token).unwrap();
    let token = op_tok(&store, &Purpose::IDENTITY_VERIFICATION);
    let copy = store.fetch::<String, Phone>(phone.id(), &token).unwrap();
    let permit = store
        .disclosures()
        .permit(op_tok(&store, &Purpose::IDENTITY_VERIFICATION), "bureau")
        .unwrap();
    let notice = store
        .disclosures()
        .disclose(&copy, &permit, |_| ())
        .unwrap()
        .1
        .notice
        .unwrap();
    let notice = store
        .disclosures()
        .pending_notices(clock.now())
        .into_iter()
        .find(|x| x.id == notice)
        .unwrap();
    assert!(
        matches!(copy.source(), Source::ThirdParty { .. }),
        "fetched copy's source: {:?}",
        copy.source()
    );
    assert!(
        matches!(&notice.source, Source::ThirdParty { .. }),
        "the transfer notice tells the subject the data came from them: {:?}",
        notice.source
    );
}

/// `Operator::made_public` refuses a blocked record, as `PersonalData::made_public` does.
#[test]
#[cfg(feature = "sqlite")]
fn art_22_1_a_blocked_record_is_not_stated_made_public() {
    use amanat::rights::RequestKind;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::friday());
    let store = operator(dir.path(), &clock);
    store
        .ledger()
        .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Phone>())
        .unwrap();
    let token = op_tok(&store, &Purpose::IDENTITY_VERIFICATION);
    let mut phone = PersonalData::collect(&customer(), "+992900000009".to_owned(), &token).unwrap();
    store.keep(&mut phone, &token).unwrap();
    let req = store
        .requests()
        .receive(customer(), RequestKind::Blocking, clock.now());
    store.block(req, phone.id()).unwrap();
    let result = store.made_public(
        phone.id(),
        Publication::by_subject("x", clock.now()),
        &token,
    );
    assert!(matches!(result, Err(Error::Blocked { .. })), "{result:?}");
}

/// `PersonalData::made_public` on a fetched copy is the operator's record of it: later
/// copies, and copies after a reopen, are public too.
#[test]
#[cfg(feature = "sqlite")]
fn art_21_3_a_statement_made_on_a_fetched_copy_is_kept_with_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::friday());
    let id;
    {
        let store = operator(dir.path(), &clock);
        store
            .ledger()
            .grant(otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION).category::<Phone>())
            .unwrap();
        let token = op_tok(&store, &Purpose::IDENTITY_VERIFICATION);
        let mut phone =
            PersonalData::collect(&customer(), "+992900000009".to_owned(), &token).unwrap();
        store.keep(&mut phone, &token).unwrap();
        id = phone.id();
        let mut copy = store.fetch::<String, Phone>(id, &token).unwrap();
        copy.made_public(
            Publication::by_subject("sign", clock.now() - TimeDelta::days(1)),
            &token,
        )
        .unwrap();
        let permit = store
            .disclosures()
            .permit(op_tok(&store, &Purpose::IDENTITY_VERIFICATION), "bureau")
            .unwrap();
        let notice = store
            .disclosures()
            .disclose(&copy, &permit, |_| ())
            .unwrap()
            .1
            .notice;
        assert_eq!(notice, None, "exempt on the copy");
        let again = store.fetch::<String, Phone>(id, &token).unwrap();
        assert!(again.publication().is_some());
        drop(again);
        drop(copy);
        drop(token);
        drop(store);
        let store = operator(dir.path(), &clock);
        let token = op_tok(&store, &Purpose::IDENTITY_VERIFICATION);
        let again = store.fetch::<String, Phone>(id, &token).unwrap();
        assert!(
            again.publication().is_some(),
            "the operator does not know the record it just sent without notice is public"
        );
    }
}
