//! Transfers: every branch of the law on transfers abroad (Tajik law Art. 18; ZRU-547
//! Art. 15) and of the notice a transfer owes (Tajik law Art. 21; ZRU-547 Art. 23), each a
//! test named after its rule. Most run under the IMANUM policy, on the Uzbek pack; where the
//! Tajik law differs, the same test runs under both.

// Every test writes its consent as a closure over the grant, one-liners included, so they
// read alike.
#![allow(clippy::redundant_closure_for_method_calls)]

use std::sync::Arc;

use crate::common::{IMANUM, customer, friday, ledger_under, written};
use amanat::audit::{Alert, AlertHook, AlertKey};
use amanat::category::{Access, Biometric, Category, CategoryId, Passport, PaymentCard, Phone};
use amanat::data::{Publication, Source};
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
    disclosures: Arc<Disclosures>,
    clock: ManualClock,
    subject: SubjectId,
}

fn world(policy_text: &str) -> World {
    world_alerting(policy_text, None)
}

fn world_alerting(policy_text: &str, pager: Option<Arc<Pager>>) -> World {
    let policy = Arc::new(Policy::from_toml_str(policy_text).unwrap());
    // Friday 13 June 2025, 10:00 in Tashkent.
    let clock = ManualClock::new(friday());
    let mut disclosures = Disclosures::new(policy.clone());
    if let Some(pager) = pager {
        disclosures = disclosures.alerts(pager);
    }
    World {
        ledger: ledger_under(&policy, &clock).build(),
        disclosures: Arc::new(disclosures),
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

    fn now(&self) -> chrono::DateTime<Utc> {
        amanat::Clock::now(&self.clock)
    }
}

#[test]
fn a_recipient_at_home_needs_no_ground_art_18_uz_art_15() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>());
    assert_eq!(
        w.card_permit("katm").unwrap().ground(),
        CrossBorderGround::Domestic
    );
}

#[test]
fn an_adequate_country_is_free_to_receive_art_18_uz_art_15() {
    let w = world(&IMANUM.replace("adequacy = []", "adequacy = [\"SG\"]"));
    w.consent(|g| g.category::<PaymentCard>());
    assert_eq!(
        w.card_permit("credolab").unwrap().ground(),
        CrossBorderGround::Adequate
    );
}

#[test]
fn abroad_without_consent_or_ground_is_refused_art_18_uz_art_15() {
    let w = world(IMANUM);
    w.consent(|g| g.category::<PaymentCard>());
    assert!(matches!(
        w.card_permit("credolab"),
        Err(Error::CrossBorderRefused { recipient, .. }) if recipient == "credolab"
    ));
}

#[test]
fn abroad_with_the_subjects_consent_is_allowed_art_18_uz_art_15() {
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
fn a_transfer_owes_a_notice_with_its_due_date_art_21_uz_art_23() {
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
fn no_notice_when_the_subject_consented_to_this_recipient_under_tajik_art_21_3_but_uz_art_23_has_no_such_exemption()
 {
    for (text, owed) in [(under_tajik_law(IMANUM), false), (IMANUM.to_owned(), true)] {
        let w = world(&text);
        w.consent(|g| g.category::<PaymentCard>().to_recipient("katm"));
        let card = w.card();
        let permit = w.card_permit("katm").unwrap();
        assert_eq!(permit.notice_owed(), owed);
        let ((), receipt) = w.disclosures.disclose(&card, &permit, |_| ()).unwrap();
        assert_eq!(receipt.notice.is_some(), owed);
        assert_eq!(
            w.disclosures
                .pending_notices(amanat::Clock::now(&w.clock))
                .len(),
            usize::from(owed)
        );
    }
}

#[test]
fn no_notice_for_a_state_body_performing_its_duties_art_21_3_uz_art_23() {
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

/// A small policy under the Tajik pack: a public-access name and a phone, sent to a bureau
/// that waits for its overdue notices and to a registry that does not.
const TAJIK_TRANSFERS: &str = r#"version = "tj-transfers"
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
[[category]]
id = "phone"
[[purpose]]
id = "credit_scoring"
categories = ["public_name", "phone"]
basis = "consent"
[[retention]]
category = "public_name"
purpose = "credit_scoring"
after = "collection"
years = 1
[[retention]]
category = "phone"
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
categories = ["public_name", "phone"]
hold_until_notified = true
[[recipient]]
id = "registry"
name = "Registry"
address = "Khujand"
role = "third_party"
country = "TJ"
purposes = ["credit_scoring"]
categories = ["public_name", "phone"]
"#;

impl World {
    fn name(&self) -> PersonalData<String, PublicName> {
        let token = self
            .ledger
            .authorize::<PublicName>(&self.subject, &Purpose::CREDIT_SCORING)
            .unwrap();
        PersonalData::collect(&self.subject, String::from("Rustam Nazarov"), &token).unwrap()
    }

    fn name_token(&self) -> amanat::ConsentToken<PublicName> {
        self.ledger
            .authorize::<PublicName>(&self.subject, &Purpose::CREDIT_SCORING)
            .unwrap()
    }

    /// Discloses `name` to `recipient` and returns the notice it owed.
    fn send_name(&self, name: &PersonalData<String, PublicName>, recipient: &str) -> Option<u64> {
        let permit = self
            .disclosures
            .permit(self.name_token(), recipient)
            .unwrap();
        self.disclosures
            .disclose(name, &permit, |_| ())
            .unwrap()
            .1
            .notice
    }
}

#[test]
fn art_21_3_only_data_the_subject_made_public_is_exempt() {
    let w = world(TAJIK_TRANSFERS);
    w.consent(|g| g.category::<PublicName>());
    // A category declared public-access says nothing of who published this value.
    let unstated = w.name();
    assert!(w.send_name(&unstated, "registry").is_some());

    let mut published = w.name();
    let before = w.now() - TimeDelta::days(30);
    published
        .made_public(
            Publication::by_subject("the subject's own page, example.tj/rustam", before),
            &w.name_token(),
        )
        .unwrap();
    assert_eq!(w.send_name(&published, "registry"), None);

    // Published at the subject's wish counts the same; published only after the transfer
    // does not yet.
    let mut announced = w.name();
    announced
        .made_public(
            Publication::at_subjects_wish("gazette no. 12", w.now() + TimeDelta::days(1)),
            &w.name_token(),
        )
        .unwrap();
    assert!(w.send_name(&announced, "registry").is_some());

    // A statement that names no place is refused, and the record stays unstated.
    let mut blank = w.name();
    assert!(matches!(
        blank.made_public(Publication::by_subject("  ", before), &w.name_token()),
        Err(Error::BlankPublication { record }) if record == blank.id()
    ));
    assert_eq!(blank.publication(), None);
}

#[test]
fn data_collected_from_a_third_party_owes_its_own_notice_art_21_uz_art_23() {
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
fn a_withdrawal_fails_a_permit_already_issued_art_11_1() {
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
fn a_token_on_another_basis_does_not_ride_on_the_subjects_consent_abroad_art_18_uz_art_15() {
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
fn a_notice_names_the_purpose_of_the_transfer_not_of_the_collection_art_21_uz_art_23() {
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

#[test]
fn art_21_1_data_from_a_third_party_owes_its_notice_as_it_is_collected() {
    let w = world(TAJIK_TRANSFERS);
    assert!(w.disclosures.hear_collections(&w.ledger));
    // A ledger owes its collections' notices in one register.
    let other = Arc::new(Disclosures::new(Arc::new(
        Policy::from_toml_str(TAJIK_TRANSFERS).unwrap(),
    )));
    assert!(!other.hear_collections(&w.ledger));
    w.consent(|g| g.category::<Phone>());
    let token = w
        .ledger
        .authorize::<Phone>(&w.subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    let from_bureau = PersonalData::collect_from(
        &w.subject,
        String::from("+992900000001"),
        Source::ThirdParty {
            name: "Bureau".into(),
        },
        &token,
    )
    .unwrap();
    // Owed with no second call: the operator, now holding it, tells the subject.
    let owed = w.disclosures.pending_notices(w.now());
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].record, from_bureau.id());
    assert_eq!(owed[0].holder, "Registry LLC");
    assert_eq!(owed[0].recipient, None);
    // A caller who still asks gets the same notice, not a second one.
    assert_eq!(
        w.disclosures.collected_from_third_party(&from_bureau),
        Some(owed[0].id)
    );
    assert!(other.pending_notices(w.now()).is_empty());
    // Data the subject gave owes nothing.
    PersonalData::collect(&w.subject, String::from("+992900000002"), &token).unwrap();
    assert_eq!(w.disclosures.pending_notices(w.now()).len(), 1);
}

#[test]
fn art_21_1_a_third_partys_data_disclosed_before_a_register_heard_of_it_owes_its_notice() {
    let w = world(TAJIK_TRANSFERS);
    w.consent(|g| g.category::<Phone>().to_recipient("registry"));
    let token = w
        .ledger
        .authorize::<Phone>(&w.subject, &Purpose::CREDIT_SCORING)
        .unwrap();
    let from_bureau = PersonalData::collect_from(
        &w.subject,
        String::from("+992900000001"),
        Source::ThirdParty {
            name: "Bureau".into(),
        },
        &token,
    )
    .unwrap();
    assert!(w.disclosures.pending_notices(w.now()).is_empty());
    // Consented to the registry: the transfer owes nothing, but holding the bureau's data
    // does.
    let permit = w.disclosures.permit(token, "registry").unwrap();
    let ((), receipt) = w
        .disclosures
        .disclose(&from_bureau, &permit, |_| ())
        .unwrap();
    assert_eq!(receipt.notice, None);
    let owed = w.disclosures.pending_notices(w.now());
    assert_eq!(owed.len(), 1);
    assert_eq!(
        (owed[0].record, &*owed[0].holder),
        (from_bureau.id(), "Registry LLC")
    );
}

/// Keeps every alert it hears.
#[derive(Default)]
struct Pager(std::sync::Mutex<Vec<Alert>>);

impl AlertHook for Pager {
    fn alert(&self, alert: &Alert) {
        self.0.lock().unwrap().push(alert.clone());
    }
}

#[test]
fn art_21_1_an_overdue_notice_raises_the_alert_once() {
    let pager = Arc::new(Pager::default());
    let w = world_alerting(TAJIK_TRANSFERS, Some(Arc::clone(&pager)));
    w.consent(|g| g.category::<PublicName>());
    let notice = w.send_name(&w.name(), "registry").unwrap();
    // Due Wednesday 18 June: not overdue on the day itself.
    w.clock.advance(TimeDelta::days(5));
    assert!(w.disclosures.check_overdue(w.now()).is_empty());
    w.clock.advance(TimeDelta::days(1));
    let fired = w.disclosures.check_overdue(w.now());
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].key,
        AlertKey::OverdueNotice {
            notice,
            recipient: Some("registry".into()),
            due: NaiveDate::from_ymd_opt(2025, 6, 18).unwrap(),
        }
    );
    // Checked again, and the day after: still overdue, not raised again.
    assert!(w.disclosures.check_overdue(w.now()).is_empty());
    w.clock.advance(TimeDelta::days(1));
    assert!(w.disclosures.check_overdue(w.now()).is_empty());
    let heard = pager.0.lock().unwrap().clone();
    assert_eq!(heard, fired);
    // It names the notice, never the subject or the data.
    let json = serde_json::to_string(&heard[0]).unwrap();
    assert!(
        !json.contains(w.subject.as_str()) && !json.contains("Rustam"),
        "{json}"
    );
}

#[test]
fn art_21_1_transfers_to_a_recipient_wait_for_its_overdue_notice() {
    let w = world(TAJIK_TRANSFERS);
    w.consent(|g| g.category::<PublicName>());
    let name = w.name();
    let to_bureau = w.send_name(&name, "bureau").unwrap();
    w.send_name(&name, "registry").unwrap();
    // Not yet overdue: the bureau still receives.
    let again = w.send_name(&name, "bureau").unwrap();
    w.clock.advance(TimeDelta::days(6));
    match w.disclosures.permit(w.name_token(), "bureau") {
        Err(Error::TransferHeld {
            recipient,
            notice,
            article,
        }) => {
            assert_eq!((recipient.as_str(), notice), ("bureau", to_bureau));
            // The deadline's article, as the pack in force cites it.
            let pack = Policy::from_toml_str(TAJIK_TRANSFERS).unwrap().pack();
            assert_eq!(article, pack.transfer_notice.citation.article);
        }
        other => panic!("expected the transfer held, got {other:?}"),
    }
    // A recipient the policy does not hold receives with its own notice overdue.
    w.disclosures.permit(w.name_token(), "registry").unwrap();
    // The oldest overdue notice sent, the next one holds the bureau still; once that is
    // sent too, the hold lifts.
    w.disclosures.mark_sent(to_bureau, w.now()).unwrap();
    assert!(matches!(
        w.disclosures.permit(w.name_token(), "bureau"),
        Err(Error::TransferHeld { notice, .. }) if notice == again
    ));
    w.disclosures.mark_sent(again, w.now()).unwrap();
    w.disclosures.permit(w.name_token(), "bureau").unwrap();
}

/// The Tajik policy of the common fixtures, with a bureau that receives phones for
/// identity verification.
#[cfg(feature = "sqlite")]
fn tajik_with_bureau() -> Policy {
    let text = format!(
        "{}{}",
        crate::common::TAJIK,
        r#"
[[recipient]]
id = "bureau"
name = "Bureau"
address = "Dushanbe"
role = "third_party"
country = "TJ"
purposes = ["identity_verification"]
categories = ["phone"]
"#
    );
    Policy::from_toml_str(&text).unwrap()
}

/// An operator on `dir` under [`tajik_with_bureau`], on `clock`, alerting `pager`.
#[cfg(feature = "sqlite")]
fn tajik_operator(
    dir: &std::path::Path,
    clock: &ManualClock,
    pager: &Arc<Pager>,
) -> amanat::store::Operator {
    amanat::store::Operator::builder(dir, tajik_with_bureau(), crate::common::keys_for(dir))
        .clock(clock.clone())
        .alerts(Arc::clone(pager) as Arc<dyn AlertHook>)
        .open()
        .unwrap()
}

#[cfg(feature = "sqlite")]
fn phone_token(operator: &amanat::store::Operator) -> amanat::ConsentToken<Phone> {
    operator
        .ledger()
        .authorize::<Phone>(&customer(), &Purpose::IDENTITY_VERIFICATION)
        .unwrap()
}

#[test]
#[cfg(feature = "sqlite")]
fn art_21_3_an_operator_keeps_that_the_subject_made_a_record_public() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(crate::common::monday());
    let pager = Arc::new(Pager::default());
    let (stated_first, stated_later, unstated) = {
        let operator = tajik_operator(dir.path(), &clock, &pager);
        operator
            .ledger()
            .grant(
                crate::common::otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION)
                    .category::<Phone>(),
            )
            .unwrap();
        let token = phone_token(&operator);
        let published = crate::common::monday() - TimeDelta::days(90);
        let collect = |stated: Option<&str>| {
            let mut phone =
                PersonalData::collect(&customer(), String::from("+992900000003"), &token).unwrap();
            if let Some(place) = stated {
                phone
                    .made_public(Publication::by_subject(place, published), &token)
                    .unwrap();
            }
            operator.keep(&mut phone, &token).unwrap();
            phone.id()
        };
        let stated_first = collect(Some("the subject's shop sign, listed at example.tj/shop"));
        let stated_later = collect(None);
        let unstated = collect(None);
        operator
            .made_public(
                stated_later,
                Publication::at_subjects_wish("directory of merchants, 2025 edition", published),
                &token,
            )
            .unwrap();
        // A record the token's subject does not have is unknown.
        assert!(matches!(
            operator.made_public(
                amanat::data::RecordId::random(),
                Publication::by_subject("x", published),
                &token
            ),
            Err(Error::UnknownRecord { .. })
        ));
        (stated_first, stated_later, unstated)
    };

    // Reopened: what was stated is read back from the journal.
    let operator = tajik_operator(dir.path(), &clock, &pager);
    let send = |record| {
        let token = phone_token(&operator);
        let phone = operator.fetch::<String, Phone>(record, &token).unwrap();
        let permit = operator.disclosures().permit(token, "bureau").unwrap();
        let notice = operator
            .disclosures()
            .disclose(&phone, &permit, |_| ())
            .unwrap()
            .1
            .notice;
        (phone.publication().map(|p| p.by), notice)
    };
    assert_eq!(
        send(stated_first),
        (Some(amanat::data::PublishedBy::Subject), None)
    );
    assert_eq!(
        send(stated_later),
        (Some(amanat::data::PublishedBy::AtSubjectsWish), None)
    );
    let (by, notice) = send(unstated);
    assert_eq!(by, None);
    assert!(notice.is_some());
}

#[test]
#[cfg(feature = "sqlite")]
fn art_21_1_an_operator_owes_a_third_partys_notice_unasked_and_its_sweep_alerts_once() {
    let dir = tempfile::tempdir().unwrap();
    // Friday 13 June 2025: the notice is due on Wednesday 18 June.
    let clock = ManualClock::new(friday());
    let pager = Arc::new(Pager::default());
    let operator = tajik_operator(dir.path(), &clock, &pager);
    operator
        .ledger()
        .grant(
            crate::common::otp_grant(&customer(), Purpose::IDENTITY_VERIFICATION)
                .category::<Phone>(),
        )
        .unwrap();
    let token = phone_token(&operator);
    let mut from_bureau = PersonalData::collect_from(
        &customer(),
        String::from("+992900000004"),
        Source::ThirdParty {
            name: "Bureau".into(),
        },
        &token,
    )
    .unwrap();
    operator.keep(&mut from_bureau, &token).unwrap();
    let owed = operator
        .disclosures()
        .pending_notices(amanat::Clock::now(&clock));
    assert_eq!(owed.len(), 1);
    assert_eq!(
        (owed[0].record, owed[0].holder.as_str()),
        (from_bureau.id(), "Dushanbe Pay LLC")
    );
    drop(operator);

    // Reopened: the notice is still owed, once; a week on, the sweep raises it, once.
    let operator = tajik_operator(dir.path(), &clock, &pager);
    assert_eq!(
        operator
            .disclosures()
            .pending_notices(amanat::Clock::now(&clock)),
        owed
    );
    clock.advance(TimeDelta::days(7));
    operator.sweep_now().unwrap();
    operator.sweep_now().unwrap();
    let heard = pager.0.lock().unwrap().clone();
    assert_eq!(heard.len(), 1);
    assert_eq!(
        heard[0].key,
        AlertKey::OverdueNotice {
            notice: owed[0].id,
            recipient: None,
            due: owed[0].due,
        }
    );
}
