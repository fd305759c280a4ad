//! Depersonalisation (Tajik law Art. 1, 19; ZRU-547 Art. 16): pseudonyms are stable under one key and
//! differ under two, masks hide what they must, and a purpose the policy marks as
//! statistics gets no token for personal data at all.

use crate::common::{customer, imanum, otp_grant};
use amanat::category::Phone;
use amanat::depersonalize::{Depersonalize, PseudonymKey, Statistics};
use amanat::values::{CardNumber, PhoneNumber};
use amanat::{ConsentLedger, Error, PersonalData, Purpose};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(256), ..ProptestConfig::default() })]

    #[test]
    fn pseudonyms_are_stable_under_one_key_and_differ_under_two(
        national in "[0-9]{9}",
        a in any::<[u8; 32]>(),
        b in any::<[u8; 32]>(),
    ) {
        prop_assume!(a != b);
        let phone = PhoneNumber::parse(&format!("+998{national}")).unwrap();
        let spaced = PhoneNumber::parse(&format!(
            "+998 {} {}-{}-{}",
            &national[..2], &national[2..5], &national[5..7], &national[7..]
        )).unwrap();
        let (ka, kb) = (PseudonymKey::from_bytes(a), PseudonymKey::from_bytes(b));
        prop_assert_eq!(ka.pseudonym(&phone), ka.pseudonym(&spaced));
        prop_assert_ne!(ka.pseudonym(&phone), kb.pseudonym(&phone));
        let shown = ka.pseudonym(&phone).to_string();
        prop_assert!(!shown.contains(&national));
    }

    #[test]
    fn different_people_get_different_pseudonyms(x in "[0-9]{9}", y in "[0-9]{9}") {
        prop_assume!(x != y);
        let key = PseudonymKey::from_bytes([1; 32]);
        let px = key.pseudonym(&PhoneNumber::parse(&format!("+992{x}")).unwrap());
        let py = key.pseudonym(&PhoneNumber::parse(&format!("+992{y}")).unwrap());
        prop_assert_ne!(px, py);
    }
}

#[test]
fn a_masked_card_keeps_the_bin_and_last_four_pci_dss_3_4_1() {
    let card = CardNumber::parse("8600 1234 5678 9012").unwrap();
    assert_eq!(card.mask(), "860012******9012");
}

#[test]
fn statistics_get_no_token_for_personal_data_art_19() {
    let policy = imanum();
    let ledger = ConsentLedger::with_policy(policy);
    let subject = customer();
    ledger
        .grant(
            otp_grant(&subject, Purpose::SERVICE_PROVISION)
                .purpose(Purpose::STATISTICS)
                .category::<Phone>(),
        )
        .unwrap();
    assert!(matches!(
        ledger.authorize::<Phone>(&subject, &Purpose::STATISTICS),
        Err(Error::DepersonalisedOnly { .. })
    ));
    // The service purpose depersonalises; statistics receive the result.
    let token = ledger
        .authorize::<Phone>(&subject, &Purpose::SERVICE_PROVISION)
        .unwrap();
    let phone = PersonalData::collect(
        &subject,
        PhoneNumber::parse("+998901234567").unwrap(),
        &token,
    )
    .unwrap();
    let key = PseudonymKey::from_bytes([9; 32]);
    let mut stats = Statistics::new(Purpose::STATISTICS);
    stats.record(phone.pseudonymize(&token, &key).unwrap());
    stats.record(phone.pseudonymize(&token, &key).unwrap());
    assert_eq!(stats.rows()[0], stats.rows()[1]);
    let masked = phone.masked(&token).unwrap();
    assert_eq!(masked.get(), "+998*******67");
    let json = serde_json::to_string(stats.rows()).unwrap();
    assert!(!json.contains("901234567"));
}
