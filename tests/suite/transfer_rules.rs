//! Transfers: every branch of Tajik law Art. 18 (abroad) and every exemption of Art. 21
//! (notices), each a test named after its rule.

// Every test writes its consent as a closure over the grant, one-liners included, so they
// read alike.
#![allow(clippy::redundant_closure_for_method_calls)]

use std::sync::Arc;

use crate::common::{IMANUM, customer, friday, ledger_under, written};
use amanat::category::{Access, Biometric, Category, CategoryId, Passport, PaymentCard};
use amanat::data::Source;
use amanat::disclosure::{CrossBorderGround, Disclosures};
use amanat::policy::TransferBasis;
use amanat::{
    ConsentForm, ConsentLedger, Error, Grant, LegalBasis, ManualClock, PersonalData, Policy,
    Purpose, SubjectId,
};
use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};

type Started = Grant<amanat::consent::WithPurpose, amanat::consent::NoCategory>;
type Ready = Grant<amanat::consent::WithPurpose, amanat::consent::WithCategory>;

struct World {
    ledger: ConsentLedger,
    disclosures: Disclosures,
    clock: ManualClock,
    subject: SubjectId,
}

fn world(policy_text: &str) -> World {
    let policy = Arc::new(Policy::from_toml_str(policy_text).unwrap());
    // Friday 13 June 2025, 10:00 in Tashkent.
    let clock = ManualClock::new(friday());
    World {
        ledger: ledger_under(&policy, &clock).build(),
        disclosures: Disclosures::new(policy),
        clock,
        subject: customer(),
    }
}

impl World {
    fn consent(&self, grant: impl FnOnce(Started) -> Ready) {
        // Written: IMANUM's credit scoring is an automated decision (ZRU-547 Art. 24).
        let base = Grant::new(self.subject.clone(), written()).purpose(Purpose::CREDIT_SCORING);
        self.ledger.grant(grant(base)).unwrap();
    }

    fn card(&self) -> PersonalData<String, PaymentCard> {
        let token = self
            .ledger
            .authorize::<PaymentCard>(&self.subject, &Purpose::CREDIT_SCORING)
            .unwrap();
        PersonalData::collect(&self.subject, String::from("8600123456789012"), &token).unwrap()
    }

    fn card_permit(
        &self,
        recipient: &str,
    ) -> Result<amanat::disclosure::TransferPermit<PaymentCard>, Error> {
        let token = self
            .ledger
            .authorize::<PaymentCard>(&self.subject, &Purpose::CREDIT_SCORING)
            .unwrap();
        self.disclosures.permit(token, recipient)
    }
}

#[test]
fn a_recipient_at_home_needs_no_ground_art_18() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>());
    assert_eq!(
        w.card_permit("katm").unwrap().ground(),
        CrossBorderGround::Domestic
    );
}

#[test]
fn an_adequate_country_is_free_to_receive_art_18() {
    let w = world(&IMANUM.replace("adequacy = []", "adequacy = [\"SG\"]"));
    w.consent(|g| g.category::<PaymentCard>());
    assert_eq!(
        w.card_permit("credolab").unwrap().ground(),
        CrossBorderGround::Adequate
    );
}

#[test]
fn abroad_without_consent_or_ground_is_refused_art_18() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>());
    assert!(matches!(
        w.card_permit("credolab"),
        Err(Error::CrossBorderRefused { recipient, .. }) if recipient == "credolab"
    ));
}

#[test]
fn abroad_with_the_subjects_consent_is_allowed_art_18() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>().cross_border());
    assert_eq!(
        w.card_permit("credolab").unwrap().ground(),
        CrossBorderGround::SubjectConsent
    );
}

#[test]
fn abroad_on_a_stated_law_is_allowed_under_tajik_art_18_2() {
    // Tajik law Art. 18.2 accepts a law's requirement; ZRU-547 Art. 15 does not.
    assert!(matches!(
        Policy::from_toml_str(&credolab_on("law")),
        Err(amanat::policy::PolicyError { .. })
    ));
    let w = world(&under_tajik_law(&credolab_on("law")));
    w.consent(|g| g.category::<PaymentCard>());
    assert_eq!(
        w.card_permit("credolab").unwrap().ground(),
        CrossBorderGround::Stated(TransferBasis::Law)
    );
}

#[test]
fn only_declared_recipients_receive_art_16() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>().category::<Passport>());
    assert!(matches!(
        w.card_permit("appmetrica"),
        Err(Error::RecipientNotDeclared { .. })
    ));
    assert!(matches!(
        w.card_permit("nobody"),
        Err(Error::RecipientNotDeclared { .. })
    ));
}

#[test]
fn a_transfer_owes_a_notice_with_its_due_date_art_21() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>());
    let card = w.card();
    let permit = w.card_permit("katm").unwrap();
    assert!(permit.notice_owed());
    let (len, receipt) = w.disclosures.disclose(&card, &permit, String::len).unwrap();
    assert_eq!(len, 16);
    let notice = &w.disclosures.pending_notices(amanat::Clock::now(&w.clock))[0];
    assert_eq!(Some(notice.id), receipt.notice);
    assert_eq!(notice.holder, "Credit Information Analytical Centre (KATM)");
    assert_eq!(notice.address, "Tashkent, Republic of Uzbekistan");
    assert_eq!(notice.purpose, Purpose::CREDIT_SCORING);
    assert_eq!(notice.source, Source::Subject);
    // Three days from Friday 13 June (ZRU-547 Art. 23: days, not working days): Monday 16.
    assert_eq!(notice.due, NaiveDate::from_ymd_opt(2025, 6, 16).unwrap());
    assert!(
        w.disclosures
            .overdue_notices(amanat::Clock::now(&w.clock))
            .is_empty()
    );
    w.clock.advance(TimeDelta::days(6));
    assert_eq!(
        w.disclosures
            .overdue_notices(amanat::Clock::now(&w.clock))
            .len(),
        1
    );
    w.disclosures
        .mark_sent(notice.id, amanat::Clock::now(&w.clock))
        .unwrap();
    assert!(
        w.disclosures
            .pending_notices(amanat::Clock::now(&w.clock))
            .is_empty()
    );
    assert!(matches!(
        w.disclosures.mark_sent(99, amanat::Clock::now(&w.clock)),
        Err(Error::UnknownNotice { notice: 99 })
    ));
}

#[test]
fn no_notice_when_the_subject_consented_to_this_recipient_art_21() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>().to_recipient("katm"));
    let card = w.card();
    let permit = w.card_permit("katm").unwrap();
    assert!(!permit.notice_owed());
    let ((), receipt) = w.disclosures.disclose(&card, &permit, |_| ()).unwrap();
    assert_eq!(receipt.notice, None);
    assert!(
        w.disclosures
            .pending_notices(amanat::Clock::now(&w.clock))
            .is_empty()
    );
}

#[test]
fn no_notice_for_a_state_body_performing_its_duties_art_21() {
    let w = world(IMANUM);
    w.ledger
        .grant(
            Grant::new(
                w.subject.clone(),
                ConsentForm::Written {
                    document_sha256: amanat::DocumentHash::of(b"form"),
                },
            )
            .purpose(Purpose::IDENTITY_VERIFICATION)
            .category::<Biometric>(),
        )
        .unwrap();
    let token = w
        .ledger
        .authorize::<Biometric>(&w.subject, &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let permit = w
        .disclosures
        .permit(token, "state_identity_databases")
        .unwrap();
    assert!(!permit.notice_owed());
    // A lawful request answered under a state body's function, with its reference.
    let request = w
        .ledger
        .authorize_with_basis::<PaymentCard>(
            &w.subject,
            &Purpose::new("state_requests").unwrap(),
            LegalBasis::StateFunction {
                authority: "Prosecutor's office".into(),
                reference: "request 12/2025".into(),
            },
        )
        .unwrap();
    let permit = w.disclosures.permit(request, "law_enforcement").unwrap();
    assert!(!permit.notice_owed());
}

/// A name published in a public register.
enum PublicName {}

impl Category for PublicName {
    const ID: CategoryId = CategoryId::new("public_name");
    const SPECIAL: bool = false;
    const ACCESS: Access = Access::Public;
}

#[test]
fn no_notice_for_data_the_subject_made_public_art_21() {
    let policy = r#"version = "p1"
date = 2025-07-01
pack = "tajikistan-2018"
[operator]
name = "Registry LLC"
address = "Dushanbe"
contact = "r@example.tj"
registration = "1"
[[category]]
id = "public_name"
access = "public"
[[purpose]]
id = "credit_scoring"
categories = ["public_name"]
basis = "consent"
[[retention]]
category = "public_name"
purpose = "credit_scoring"
after = "collection"
years = 1
[[recipient]]
id = "bureau"
name = "Bureau"
address = "Dushanbe"
role = "third_party"
country = "TJ"
purposes = ["credit_scoring"]
categories = ["public_name"]
"#;
    let w = world(policy);
    w.consent(|g| g.category::<PublicName>());
    let token = w
        .ledger
        .authorize::<PublicName>(&w.subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    assert!(!w.disclosures.permit(token, "bureau").unwrap().notice_owed());
}

#[test]
fn data_collected_from_a_third_party_owes_its_own_notice_art_21() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>());
    let token = w
        .ledger
        .authorize::<PaymentCard>(&w.subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    let from_bureau = PersonalData::collect_from(
        &w.subject,
        String::from("8600123456789012"),
        Source::ThirdParty {
            name: "KATM".into(),
        },
        &token,
    )
    .unwrap();
    let id = w
        .disclosures
        .collected_from_third_party(&from_bureau)
        .unwrap();
    let notice = &w.disclosures.pending_notices(amanat::Clock::now(&w.clock))[0];
    assert_eq!(notice.id, id);
    assert_eq!(
        notice.holder,
        "«IMAN HALAL INVESTMENTS KOMMANDITNOE TOVARISHESTVO» KT"
    );
    assert!(matches!(&notice.source, Source::ThirdParty { name } if &**name == "KATM"));
    let own = w.card();
    assert_eq!(w.disclosures.collected_from_third_party(&own), None);
}

#[test]
fn a_withdrawal_fails_a_permit_already_issued_art_11_2() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>());
    let card = w.card();
    let permit = w.card_permit("katm").unwrap();
    w.ledger
        .withdraw_purpose(&w.subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    assert!(matches!(
        w.disclosures.disclose(&card, &permit, |_| ()),
        Err(Error::ConsentWithdrawn { .. })
    ));
}

fn credolab_on(basis: &str) -> String {
    let text = IMANUM.replacen(
        "# Before ZRU-1125 (2026) the subject's consent is the ground; from 2026 it would have to be\n# approved standard clauses or international standards.\ntransfer_basis = \"consent\"",
        &format!("transfer_basis = \"{basis}\""),
        1,
    );
    assert_ne!(text, IMANUM);
    text
}

/// The IMANUM policy moved under the Tajik pack: its AML purposes on a state body's duty
/// (Art. 12's closed list has no private operator's legal obligation), its selfie on
/// written consent (Art. 17.1).
fn under_tajik_law(text: &str) -> String {
    let moved = text
        .replace("pack = \"uzbekistan-2019\"", "pack = \"tajikistan-2018\"")
        .replace("country = \"UZ\"", "country = \"TJ\"")
        .replace("basis = \"legal_obligation\"", "basis = \"state_function\"")
        .replace(
            "# The selfie is confirmed by the same one-time password",
            "written_for = [\"biometric\"]\n# The selfie is confirmed by the same one-time password",
        );
    assert_ne!(moved, text);
    moved
}

#[test]
fn abroad_under_a_treaty_is_allowed_under_either_pack_art_18_2_uz_art_15() {
    for text in [
        credolab_on("treaty"),
        under_tajik_law(&credolab_on("treaty")),
    ] {
        let w = world(&text);
        w.consent(|g| g.category::<PaymentCard>());
        assert_eq!(
            w.card_permit("credolab").unwrap().ground(),
            CrossBorderGround::Stated(TransferBasis::Treaty)
        );
    }
}

#[test]
fn protection_of_rights_abroad_needs_processing_on_that_basis_art_18_2_uz_art_15() {
    for text in [
        credolab_on("protection_of_rights"),
        under_tajik_law(&credolab_on("protection_of_rights")),
    ] {
        let w = world(&text);
        w.consent(|g| g.category::<PaymentCard>());
        // A consent-based scoring request can't ride on it.
        assert!(matches!(
            w.card_permit("credolab"),
            Err(Error::CrossBorderRefused { .. })
        ));
    }
}

#[test]
fn a_token_on_another_basis_does_not_ride_on_the_subjects_consent_abroad_art_18() {
    // CredoLab also declared for fraud prevention, which stands on a legal obligation.
    let text = IMANUM.replacen(
        "purposes = [\"credit_scoring\"]\n# IMANUM §2.2",
        "purposes = [\"credit_scoring\", \"fraud_prevention\"]\n# IMANUM §2.2",
        1,
    );
    assert_ne!(text, IMANUM);
    let w = world(&text);
    // The subject did consent to transfers abroad — for credit scoring.
    w.consent(|g| g.category::<PaymentCard>().cross_border());
    let by_law = w
        .ledger
        .authorize_with_basis::<PaymentCard>(
            &w.subject,
            &Purpose::FRAUD_PREVENTION,
            LegalBasis::LegalObligation {
                reference: "AML law".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        w.disclosures.permit(by_law, "credolab"),
        Err(Error::CrossBorderRefused { .. })
    ));
}

#[test]
fn grounds_are_those_of_the_law_on_the_day_of_the_transfer_zru_1125() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>().cross_border());
    assert!(w.card_permit("credolab").is_ok());
    // From 26 March 2026 the Uzbek law no longer lists consent as a ground abroad.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 4, 1, 5, 0, 0).unwrap());
    w.consent(|g| g.category::<PaymentCard>().cross_border());
    assert!(matches!(
        w.card_permit("credolab"),
        Err(Error::CrossBorderRefused { .. })
    ));
}

#[test]
fn a_notice_names_the_purpose_of_the_transfer_not_of_the_collection_art_21() {
    let w = world(IMANUM);
    w.ledger
        .grant(
            Grant::new(w.subject.clone(), written())
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .purpose(Purpose::CREDIT_SCORING)
                .category::<Passport>(),
        )
        .unwrap();
    let collecting = w
        .ledger
        .authorize::<Passport>(&w.subject, &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let passport =
        PersonalData::collect(&w.subject, String::from("AB1234567"), &collecting).unwrap();
    let scoring = w
        .ledger
        .authorize::<Passport>(&w.subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    let permit = w.disclosures.permit(scoring, "katm").unwrap();
    w.disclosures.disclose(&passport, &permit, |_| ()).unwrap();
    let notices = w.disclosures.pending_notices(amanat::Clock::now(&w.clock));
    assert_eq!(notices[0].purpose, Purpose::CREDIT_SCORING);
}
