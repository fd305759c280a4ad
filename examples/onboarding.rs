//! A narrated KYC onboarding of one customer of a fintech app, as the IMANUM privacy policy
//! describes it: registration confirmed by a one-time password, a passport and a selfie
//! collected and checked, a refusal, a withdrawal, and a destruction with its receipt.
//!
//! Everything the operator must keep — consents, deadlines, holds, the sealed data and the
//! audit log — lives in one directory opened by [`Operator`]; the story restarts the
//! process halfway through and carries on from what was kept.
//!
//! Run it with `cargo run --example onboarding`.

use std::error::Error as StdError;
use std::path::Path;

use amanat::category::{Biometric, Passport, Phone};
use amanat::consent::ConsentEventKind;
use amanat::retention::{DestructionHook, DestructionRequest, HookError, Trigger};
use amanat::store::Operator;
use amanat::store::kek::KeyDir;
use amanat::store::vault::StoreError;
use amanat::{
    ConsentForm, ElectronicMethod, Error, Evidence, Grant, LegalBasis, ManualClock, PersonalData,
    Policy, Purpose, SubjectId,
};
use chrono::{TimeDelta, TimeZone, Utc};

fn step(n: u32, title: &str) {
    println!("\n── Step {n}. {title}");
}

fn say(line: impl AsRef<str>) {
    println!("   {}", line.as_ref());
}

fn main() -> Result<(), Box<dyn StdError>> {
    println!("amanat — onboarding one customer (IMANUM privacy policy No. 2, Uzbekistan)");

    // The privacy policy, as a file a compliance officer can read; it decides what follows.
    let policy = Policy::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/imanum.toml"
    ))?;
    say(format!(
        "Policy {} of {} ({}), on the pack {}: {} purposes, {} recipients.",
        policy.version(),
        policy.operator().name,
        policy.date(),
        policy.pack().id,
        policy.purposes().len(),
        policy.recipients().len()
    ));
    // A manual clock so that the story can move time forward; a service uses SystemClock.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 7, 1, 9, 0, 0).unwrap());
    // The operator's directory: the journal every change is written to before it takes
    // effect, the vault of sealed data and its keys, and one hash-chained audit log where
    // every decision below goes (ZRU-547 Art. 27, 31). A temporary one here; a service keeps its own.
    let dir = tempfile::tempdir()?;
    let operator = open_operator(dir.path(), &policy, &clock)?;
    let ledger = operator.ledger();
    say("The operator's store is opened in a fresh directory.");
    let customer = SubjectId::new("cust-000123")?;
    say(format!(
        "Customer {customer} opens the app on {}.",
        clock_now(&clock)
    ));

    step(
        1,
        "Registration: the public offer and privacy policy, confirmed by a one-time password",
    );
    say("The app sends a 6-digit code by SMS; the customer types it back (IMANUM §2.1.3).");
    let otp_consent = ledger.grant(
        Grant::new(
            customer.clone(),
            ConsentForm::Electronic {
                method: ElectronicMethod::OneTimePassword,
            },
        )
        .purpose(Purpose::SERVICE_PROVISION)
        .purpose(Purpose::IDENTITY_VERIFICATION)
        .category::<Phone>()
        .category::<Passport>()
        .category::<Biometric>()
        .evidence(Evidence::OneTimePassword {
            challenge_id: "sms-gw-5521907".into(),
            confirmed_at: clock_now(&clock),
        }),
    )?;
    say(format!(
        "Consent {otp_consent} recorded: service provision and identity verification, \
         on phone, passport and biometric data, by OTP."
    ));

    let token = ledger.authorize::<Phone>(&customer, &Purpose::SERVICE_PROVISION)?;
    let mut phone = PersonalData::collect(&customer, String::from("+998901234567"), &token)?;
    say(format!(
        "Phone number collected as {phone:?}: its Debug never shows the value."
    ));

    step(
        2,
        "The passport is collected and read for identity verification",
    );
    let passport_token =
        ledger.authorize::<Passport>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    let mut passport =
        PersonalData::collect(&customer, String::from("AB1234567"), &passport_token)?;
    let masked = passport.with(&passport_token, |number| {
        format!("{}*****{}", &number[..2], &number[number.len() - 2..])
    })?;
    say(format!(
        "Token for {} on {} until {}.",
        passport_token.purpose(),
        passport_token.subject(),
        passport_token.expires_at()
    ));
    say(format!(
        "Passport read through the token; the operator's screen shows {masked}."
    ));

    step(
        3,
        "The selfie: the registration's one-time password covers it (ZRU-547 Art. 26)",
    );
    say(
        "Uzbek law asks the subject's consent for biometric data, in no particular form; the \
         written form is for special data (Art. 25). Under the Tajik pack the same selfie \
         would need a signed, written consent (Law No. 1537 Art. 17.1): the pack decides.",
    );
    clock.advance(TimeDelta::minutes(2));
    let selfie_token = ledger.authorize::<Biometric>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    // A stand-in for the camera's JPEG: the start-of-image marker and some bytes.
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x5A; 2048]].concat();
    let mut selfie = PersonalData::collect(&customer, jpeg, &selfie_token)?;
    let (is_jpeg, size) = selfie.with(&selfie_token, |image| {
        (image.starts_with(&[0xFF, 0xD8, 0xFF]), image.len())
    })?;
    say(format!(
        "Selfie collected ({selfie:?}) and read through the token to send to the state \
         database for comparison (simulated here): {}, {size} bytes.",
        if is_jpeg { "a JPEG" } else { "not a JPEG" }
    ));

    step(4, "Marketing asks for the selfie");
    say("Marketing tries to read the selfie; it needs a token, and asks the ledger for one.");
    say("The policy never declared marketing for biometric data, whatever anyone ticked:");
    match ledger.authorize::<Biometric>(&customer, &Purpose::MARKETING_ANALYTICS) {
        Ok(_) => say("unexpected: marketing got a biometric token"),
        Err(refusal) => say(format!("Refused: {refusal}")),
    }

    step(5, "Tokens are short-lived");
    clock.advance(TimeDelta::minutes(6));
    match passport.read(&passport_token) {
        Ok(_) => say("unexpected: an old token still opens the passport"),
        Err(refusal) => say(format!(
            "Six minutes later the old token is refused: {refusal}"
        )),
    }
    let passport_token =
        ledger.authorize::<Passport>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    say(format!(
        "A fresh token opens it again: {} characters.",
        passport.read(&passport_token)?.len()
    ));

    step(
        6,
        "Retention: every record is kept sealed, with the deadline the policy sets; the AML \
         law keeps the passport",
    );
    say("Sealing a record reads it, so each takes a live token; the registration's have expired.");
    let phone_token = ledger.authorize::<Phone>(&customer, &Purpose::SERVICE_PROVISION)?;
    operator.keep(&mut phone, &phone_token)?;
    operator.keep(&mut passport, &passport_token)?;
    let selfie_token = ledger.authorize::<Biometric>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    operator.keep(&mut selfie, &selfie_token)?;
    let minimum = operator
        .schedule()
        .records_of(&customer)
        .into_iter()
        .find_map(|r| r.statutory_minimum)
        .unwrap_or_default();
    say(format!(
        "Phone, passport and selfie sealed in the vault, each under a key of its own, and \
         tracked. The policy's statutory minimum keeps identity documents five years after \
         the account is closed, whatever purpose collected them, and no hold is placed by \
         hand: {minimum}."
    ));

    step(
        7,
        "The process restarts: everything is rebuilt from the operator's directory",
    );
    let (passport_id, selfie_id) = (passport.id(), selfie.id());
    // Nothing survives in memory: the operator, its ledger and the copies it tracked go.
    drop((phone, passport, selfie));
    drop(operator);
    let operator = open_operator(dir.path(), &policy, &clock)?;
    let ledger = operator.ledger();
    let records = operator.schedule().records_of(&customer);
    say(format!(
        "Reopened: {} consent events in the history, {} records tracked, {} of them kept by \
         a law past the account's closure.",
        ledger.history(&customer).len(),
        records.len(),
        records
            .iter()
            .filter(|r| r.statutory_minimum.is_some())
            .count()
    ));
    let passport_token =
        ledger.authorize::<Passport>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    let passport = operator.fetch::<String, Passport>(passport_id, &passport_token)?;
    let masked = passport.with(&passport_token, |number| {
        format!("{}*****{}", &number[..2], &number[number.len() - 2..])
    })?;
    say(format!(
        "The registration consent still authorizes identity verification, and the passport \
         is read back from the vault: {masked}."
    ));
    let selfie_token = ledger.authorize::<Biometric>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    let selfie = operator.fetch::<Vec<u8>, Biometric>(selfie_id, &selfie_token)?;
    say(format!(
        "So is the selfie, under the same consent: {} bytes.",
        selfie.read(&selfie_token)?.len()
    ));

    step(8, "Logging out is not leaving (IMANUM §IV)");
    clock.advance(TimeDelta::days(30));
    operator.trigger_now(&customer, Trigger::Logout)?;
    let report = operator.sweep_now()?;
    say(format!(
        "The customer logs out; the sweep destroys {} records: the data is kept.",
        report.destroyed.len()
    ));

    step(
        9,
        "The customer closes the account: the sweep destroys what has no reason to stay",
    );
    clock.advance(TimeDelta::days(60));
    operator.trigger_now(&customer, Trigger::AccountClosed)?;
    let report = operator.sweep_now()?;
    for receipt in &report.destroyed {
        say(format!("Receipt: {receipt}"));
    }
    for (record, until) in &report.postponed {
        let until = until.map_or_else(|| "release".to_owned(), |t| t.to_string());
        say(format!(
            "Record {record} kept under the statutory minimum until {until}, open only to the \
             legal obligation."
        ));
    }
    let notices = operator.change_notices().pending(clock_now(&clock));
    say(format!(
        "{} written notices of the destructions owed to the customer and the recipients of \
         their data, due {} (ZRU-547 Art. 31).",
        notices.len(),
        notices
            .first()
            .map_or_else(|| "never".to_owned(), |n| n.due.to_string())
    ));
    for notice in &notices {
        operator
            .change_notices()
            .mark_sent(notice.id, clock_now(&clock))?;
    }
    // The written consent still holds, so a token can be had; the record is gone.
    let selfie_token = ledger.authorize::<Biometric>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    match selfie.read(&selfie_token) {
        Ok(_) => say("unexpected: the destroyed selfie opened"),
        Err(refusal) => say(format!("The selfie's copy in memory refuses: {refusal}")),
    }

    step(10, "The vault's sealed copy is gone too");
    say(
        "Its data key was shredded first: no copy of the vault file, a backup among them, opens it.",
    );
    match operator.fetch::<Vec<u8>, Biometric>(selfie_id, &selfie_token) {
        Ok(_) => say("unexpected: the vault still gave the destroyed selfie"),
        Err(refusal @ Error::RecordDestroyed { .. }) => say(format!(
            "Fetching the selfie answers {}: {refusal}",
            refusal.rule()
        )),
        Err(other) => return Err(other.into()),
    }

    step(
        11,
        "The customer withdraws consent; the AML basis still holds (ZRU-547 Art. 18)",
    );
    let passport_token = ledger.authorize_with_basis::<Passport>(
        &customer,
        &Purpose::LEGAL_OBLIGATION,
        LegalBasis::LegalObligation {
            reference: "AML law: customer due diligence records".into(),
        },
    )?;
    let consent_token = ledger.authorize::<Passport>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    // Through the operator, the withdrawal and the retention schedule's hearing of it are
    // one change: a crash keeps both or neither.
    let withdrawal = operator.withdraw(&otp_consent)?;
    for (consent, purposes) in &withdrawal.withdrawn {
        let purposes: Vec<_> = purposes.iter().map(ToString::to_string).collect();
        say(format!(
            "Consent {consent} withdrawn at {} for {}.",
            withdrawal.at,
            purposes.join(", ")
        ));
    }
    say(
        "The schedule hears of it in the same change: what was collected on that consent \
         falls due at once (the passport already was, and the statutory minimum keeps it).",
    );
    match passport.read(&consent_token) {
        Ok(_) => say("unexpected: a token on the withdrawn consent opened the passport"),
        Err(refusal) => say(format!(
            "The next read on that consent is refused: {refusal}"
        )),
    }
    say(format!(
        "A financial-intelligence request under the AML law still reads the passport: {} \
         characters.",
        passport.read(&passport_token)?.len()
    ));

    step(
        12,
        "The consent history: what the operator can prove (ZRU-547 Art. 31)",
    );
    for event in ledger.history(&customer) {
        let what = match &event.kind {
            ConsentEventKind::Given {
                form,
                policy_version,
                ..
            } => {
                format!("given ({}) under {policy_version}", form_name(form))
            }
            ConsentEventKind::Renewed { .. } => "renewed".into(),
            ConsentEventKind::Withdrawn { purposes } => format!(
                "withdrawn for {}",
                purposes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ConsentEventKind::Expired => "expired".into(),
            ConsentEventKind::LegalBasisUsed { basis, .. } => {
                format!("used without consent: {}", basis.name())
            }
            _ => "other".into(),
        };
        let id = event.consent.map(|id| id.to_string()).unwrap_or_default();
        say(format!(
            "{}  {id}  {what}",
            event.at.format("%Y-%m-%d %H:%M")
        ));
    }

    step(
        13,
        "Five years on, the minimum ends and the passport is destroyed",
    );
    clock.advance(TimeDelta::days(5 * 365 + 2));
    let report = operator.sweep_now()?;
    for receipt in &report.destroyed {
        say(format!("Receipt: {receipt}"));
    }
    say(format!(
        "Records still tracked: {}.",
        operator.schedule().len()
    ));

    step(
        14,
        "The record: who touched the data, and the proof of consent",
    );
    let proof = ledger.proof_of_consent(&otp_consent)?;
    say(format!(
        "The registration consent: {} events, carried by audit entries {:?}; the proof holds \
         against the log: {} events.",
        proof.events.len(),
        proof.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        proof.verify_against(operator.audit_log())?
    ));
    say(format!(
        "The audit log: {} entries, the hash chain verified.",
        operator.audit_log().verify()?
    ));

    println!("\nDone.");
    Ok(())
}

/// Opens the operator's data directory (`dir/data`) on the story's clock, its key
/// directory beside it (`dir/keys`, never inside the data: a backup of the data alone
/// opens nothing shredded), with the hooks that delete the copies kept outside it; the
/// operator shreds its own sealed copy by itself.
fn open_operator(dir: &Path, policy: &Policy, clock: &ManualClock) -> Result<Operator, StoreError> {
    let keys = KeyDir::new(dir.join("keys"))?;
    Operator::builder(dir.join("data"), policy.clone(), keys)
        .clock(clock.clone())
        .hook::<Biometric>(ObjectStorage)
        .hook::<Passport>(ObjectStorage)
        .hook::<Phone>(ObjectStorage)
        .open()
}

/// Stands in for the code that deletes the copies kept outside the library.
struct ObjectStorage;

impl DestructionHook for ObjectStorage {
    fn name(&self) -> &'static str {
        "object-storage"
    }

    fn destroy(&self, request: &DestructionRequest) -> Result<(), HookError> {
        say(format!(
            "  [object-storage] deleting every copy of record {} (key {})",
            request.record, request.idempotency_key
        ));
        Ok(())
    }
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<Utc> {
    amanat::Clock::now(clock)
}

fn form_name(form: &ConsentForm) -> &'static str {
    match form {
        ConsentForm::Written { .. } => "written",
        ConsentForm::Electronic {
            method: ElectronicMethod::OneTimePassword,
        } => "one-time password",
        ConsentForm::Electronic { .. } => "electronic",
        ConsentForm::Implied => "implied",
    }
}
