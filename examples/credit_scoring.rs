//! Transfers as the IMANUM policy makes them: the selfie to the state identity databases,
//! the PINFL and the card to `CredoLab` in Singapore, a lawful request from a state body, a
//! transfer that owes the customer a notice, and statistics on pseudonyms.
//!
//! Run it with `cargo run --example credit_scoring`.

use std::error::Error as StdError;
use std::sync::Arc;

use amanat::category::{Biometric, Passport, PaymentCard, Phone};
use amanat::consent::ConsentEventKind;
use amanat::depersonalize::{PseudonymKey, Statistics};
use amanat::disclosure::Disclosures;
use amanat::values::{CardNumber, FaceImage, PhoneNumber, Pinfl};
use amanat::{
    Clock, ConsentForm, ConsentLedger, ElectronicMethod, Grant, LegalBasis, ManualClock,
    PersonalData, Policy, Purpose, SubjectId,
};
use chrono::{TimeZone, Utc};

fn step(n: u32, title: &str) {
    println!("\n── {n}. {title}");
}

fn say(line: impl AsRef<str>) {
    println!("   {}", line.as_ref());
}

fn main() -> Result<(), Box<dyn StdError>> {
    let policy = Arc::new(Policy::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/imanum.toml"
    ))?);
    // Friday 13 June 2025, 10:00 in Tashkent.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 6, 13, 5, 0, 0).unwrap());
    let ledger = ConsentLedger::builder(policy.version().clone())
        .policy((*policy).clone())
        .clock(clock.clone())
        .build();
    let disclosures = Disclosures::new(Arc::clone(&policy));
    let customer = SubjectId::new("cust-000123")?;
    println!(
        "amanat — transfers of one customer's data under {}",
        policy.version()
    );

    let otp = ConsentForm::Electronic {
        method: ElectronicMethod::OneTimePassword,
    };
    // The onboarding's one-time password covers the service and the selfie: ZRU-547
    // Art. 26 asks consent for biometric data in no particular form.
    ledger.grant(
        Grant::new(customer.clone(), otp.clone())
            .purpose(Purpose::SERVICE_PROVISION)
            .purpose(Purpose::IDENTITY_VERIFICATION)
            .category::<Phone>()
            .category::<Biometric>(),
    )?;
    ledger.grant(
        Grant::new(customer.clone(), otp.clone())
            .purpose(Purpose::CREDIT_SCORING)
            .category::<Passport>(),
    )?;
    match ledger.authorize::<Passport>(&customer, &Purpose::CREDIT_SCORING) {
        Ok(_) => say("unexpected: an automated credit decision on a one-time password"),
        Err(refusal) => say(format!("A one-time password is not enough: {refusal}")),
    }
    // Art. 24: a decision made solely by automated processing stands on written consent,
    // an electronic document included: the customer signs one in the app.
    let signed = ConsentForm::Electronic {
        method: ElectronicMethod::DigitalSignature,
    };
    ledger.grant(
        Grant::new(customer.clone(), signed.clone())
            .purpose(Purpose::CREDIT_SCORING)
            .category::<Passport>()
            .category::<PaymentCard>(),
    )?;
    say("The customer signs the credit-scoring consent with an electronic digital signature.");

    step(1, "The selfie goes to the state identity databases");
    let token = ledger.authorize::<Biometric>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x11; 1024]].concat();
    let selfie = PersonalData::collect(&customer, FaceImage::new(jpeg)?, &token)?;
    let permit = disclosures.permit(token, "state_identity_databases")?;
    let (sent, receipt) = disclosures.disclose(&selfie, &permit, |image| image.bytes().len())?;
    say(format!(
        "{sent} bytes sent to {} ({:?}); notice owed: {} — a state body performing its \
         duties (ZRU-547 Art. 23).",
        receipt.recipient,
        receipt.ground,
        receipt.notice.is_some()
    ));

    step(2, "The PINFL and the card to CredoLab in Singapore");
    let passport_token = ledger.authorize::<Passport>(&customer, &Purpose::CREDIT_SCORING)?;
    let pinfl = PersonalData::collect(&customer, Pinfl::parse("30101950123452")?, &passport_token)?;
    match disclosures.permit(passport_token, "credolab") {
        Ok(_) => say("unexpected: a transfer abroad without a ground"),
        Err(refusal) => say(format!("Refused: {refusal}")),
    }
    say("The customer agrees, in the app, to CredoLab and to transfers abroad (ZRU-547 Art. 15).");
    ledger.grant(
        Grant::new(customer.clone(), signed.clone())
            .purpose(Purpose::CREDIT_SCORING)
            .category::<Passport>()
            .category::<PaymentCard>()
            .cross_border()
            .to_recipient("credolab"),
    )?;
    let passport_token = ledger.authorize::<Passport>(&customer, &Purpose::CREDIT_SCORING)?;
    let permit = disclosures.permit(passport_token, "credolab")?;
    let (_, receipt) = disclosures.disclose(&pinfl, &permit, |pinfl| pinfl.as_str().len())?;
    say(format!(
        "PINFL sent to {} in {} ({:?}); notice owed: {}.",
        receipt.recipient,
        receipt.country,
        receipt.ground,
        receipt.notice.is_some()
    ));
    let card_token = ledger.authorize::<PaymentCard>(&customer, &Purpose::CREDIT_SCORING)?;
    let card = PersonalData::collect(
        &customer,
        CardNumber::parse("8600 1234 5678 9012")?,
        &card_token,
    )?;
    let masked = card.masked(&card_token)?;
    let permit = disclosures.permit(card_token, "credolab")?;
    disclosures.disclose(&card, &permit, |card| card.digits().len())?;
    say(format!(
        "Card {} sent to CredoLab the same way.",
        masked.get()
    ));

    step(3, "A lawful request from a state body");
    let request = ledger.authorize_with_basis::<PaymentCard>(
        &customer,
        &Purpose::new("state_requests")?,
        LegalBasis::StateFunction {
            authority: "General Prosecutor's Office".into(),
            reference: "request No. 17-04/2025".into(),
        },
    )?;
    let permit = disclosures.permit(request, "law_enforcement")?;
    let (_, receipt) = disclosures.disclose(&card, &permit, CardNumber::masked)?;
    say(format!(
        "Answered on the basis {} ({}) — no notice owed (a state body's duty).",
        receipt.basis.name(),
        receipt.basis.reference().unwrap_or_default()
    ));
    for event in ledger.history(&customer) {
        if let ConsentEventKind::LegalBasisUsed { basis, .. } = &event.kind {
            say(format!(
                "Recorded: {} at {}, reference {}.",
                basis.name(),
                event.at,
                basis.reference().unwrap_or_default()
            ));
        }
    }

    step(4, "A transfer that owes the customer a notice");
    let katm_token = ledger.authorize::<PaymentCard>(&customer, &Purpose::CREDIT_SCORING)?;
    let permit = disclosures.permit(katm_token, "katm")?;
    let (_, receipt) = disclosures.disclose(&card, &permit, |card| card.digits().len())?;
    let notice = disclosures
        .pending_notices(clock.now())
        .into_iter()
        .find(|n| Some(n.id) == receipt.notice)
        .ok_or("the notice was recorded")?;
    say(format!(
        "Card sent to {} on Friday {}; the customer must hear of it by {} ({}): \
         three days (ZRU-547 Art. 23).",
        notice.holder,
        notice.at.date_naive(),
        notice.due,
        notice.due.format("%A")
    ));

    step(5, "Statistics run on pseudonyms only (ZRU-547 Art. 16)");
    let phone_token = ledger.authorize::<Phone>(&customer, &Purpose::SERVICE_PROVISION)?;
    let phone = PersonalData::collect(
        &customer,
        PhoneNumber::parse("+998 90 123 45 67")?,
        &phone_token,
    )?;
    match ledger.authorize::<Phone>(&customer, &Purpose::STATISTICS) {
        Ok(_) => say("unexpected: statistics got a token for personal data"),
        Err(refusal) => say(format!("Statistics ask for the phone: {refusal}")),
    }
    let key = PseudonymKey::from_bytes([42; 32]);
    let mut stats = Statistics::new(Purpose::STATISTICS);
    stats.record(phone.pseudonymize(&phone_token, &key)?);
    say(format!(
        "Statistics hold {} row: pseudonym {}.",
        stats.len(),
        stats.rows()[0].get()
    ));
    say(format!("Done at {}.", clock.now()));
    Ok(())
}
