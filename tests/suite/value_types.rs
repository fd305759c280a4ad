//! The value types against arbitrary input: Luhn-valid card numbers are accepted and any
//! single-digit change refused, masks reveal no more than PCI DSS allows, no parser panics,
//! and no error repeats what it was given.

use amanat::values::{
    CardNumber, CardVerificationCode, FaceImage, PassportCountry, PassportNumber, PhoneNumber,
    Pinfl,
};
use proptest::prelude::*;

fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap()
}

fn card() -> impl Strategy<Value = String> {
    "[0-9]{11,18}".prop_map(|body| {
        let check = luhn_digit(&body);
        format!("{body}{check}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(512), ..ProptestConfig::default() })]

    #[test]
    fn luhn_valid_card_numbers_are_accepted(number in card()) {
        prop_assert!(CardNumber::parse(&number).is_ok());
    }

    #[test]
    fn any_single_digit_change_is_refused(number in card(), at in any::<prop::sample::Index>(), by in 1..10_u8) {
        let mut digits = number.into_bytes();
        let i = at.index(digits.len());
        digits[i] = b'0' + (digits[i] - b'0' + by) % 10;
        let changed = String::from_utf8(digits).unwrap();
        prop_assert!(CardNumber::parse(&changed).is_err());
    }

    #[test]
    fn a_masked_card_shows_at_most_the_first_six_and_last_four(number in card()) {
        let masked = CardNumber::parse(&number).unwrap().masked();
        prop_assert_eq!(masked.len(), number.len());
        let n = number.len();
        for (i, (shown, real)) in masked.chars().zip(number.chars()).enumerate() {
            if i >= 6 && i < n - 4 {
                prop_assert_eq!(shown, '*');
            } else {
                prop_assert!(shown == real || shown == '*');
            }
        }
    }

    #[test]
    fn a_masked_phone_shows_the_country_code_and_two_digits(national in "[0-9]{9}") {
        let phone = PhoneNumber::parse(&format!("+998{national}")).unwrap();
        let masked = phone.masked();
        prop_assert_eq!(masked.matches(|c: char| c.is_ascii_digit()).count(), 5);
        prop_assert!(masked.ends_with(&national[7..]));
        let debug = format!("{phone:?}");
        prop_assert!(!debug.contains(&national));
    }

    #[test]
    fn no_parser_panics_on_any_text(text in "\\PC*") {
        let _ = PhoneNumber::parse(&text);
        let _ = CardNumber::parse(&text);
        let _ = CardVerificationCode::parse(&text);
        let _ = PassportNumber::parse(&text, PassportCountry::Uzbekistan);
        let _ = PassportNumber::parse(&text, PassportCountry::Tajikistan);
        let _ = Pinfl::parse(&text).map(|p| p.check_digit_matches());
        let _ = FaceImage::new(text.into_bytes());
    }

    #[test]
    fn no_parser_panics_on_digit_soup(text in "[+0-9 ()-]{0,40}") {
        let _ = PhoneNumber::parse(&text).map(|p| p.masked());
        let _ = CardNumber::parse(&text).map(|c| c.masked());
        let _ = Pinfl::parse(&text).map(|p| p.check_digit_matches());
    }

    #[test]
    fn no_error_repeats_its_input(digits in "[0-9]{6,30}", noise in "[a-z#]{0,3}") {
        let input = format!("{digits}{noise}");
        let errors = [
            PhoneNumber::parse(&input).err(),
            PhoneNumber::parse(&format!("+{input}")).err(),
            CardNumber::parse(&input).err(),
            CardVerificationCode::parse(&input).err(),
            PassportNumber::parse(&input, PassportCountry::Uzbekistan).err(),
            Pinfl::parse(&input).err(),
        ];
        for err in errors.into_iter().flatten() {
            let (shown, debug) = (err.to_string(), format!("{err:?}"));
            prop_assert!(!shown.contains(&digits));
            prop_assert!(!debug.contains(&digits));
        }
    }
}
