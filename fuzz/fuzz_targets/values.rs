//! The value parsers of `amanat::values` and the ids of `amanat::vocab`: any text is a
//! value or a `ValueError`; a value parses back from its own text to itself, and masking
//! it never panics.
#![no_main]

use amanat::policy::Country;
use amanat::values::{
    CardNumber, CardVerificationCode, FaceImage, PassportCountry, PassportNumber, PhoneNumber,
    Pinfl,
};
use amanat::vocab::{PolicyVersion, Purpose, SubjectId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = FaceImage::new(data.to_vec()) {
        assert_eq!(image.bytes(), data);
        let _ = (image.format(), format!("{image:?}"));
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(phone) = PhoneNumber::parse(text) {
        let again = PhoneNumber::parse(phone.as_e164()).unwrap();
        assert!(again == phone);
        let _ = (phone.country_code(), phone.masked(), format!("{phone:?}"));
    }
    if let Ok(card) = CardNumber::parse(text) {
        let again = CardNumber::parse(card.digits()).unwrap();
        assert!(again == card);
        let _ = (card.masked(), format!("{card:?}"));
    }
    if let Ok(code) = CardVerificationCode::parse(text) {
        let _ = format!("{code:?}");
        code.use_once(|digits| assert!(CardVerificationCode::parse(digits).is_ok()));
    }
    for country in [PassportCountry::Uzbekistan, PassportCountry::Tajikistan] {
        if let Ok(passport) = PassportNumber::parse(text, country) {
            let again = PassportNumber::parse(passport.as_str(), country).unwrap();
            assert!(again == passport);
            let _ = (passport.masked(), format!("{passport:?}"));
        }
    }
    if let Ok(pinfl) = Pinfl::parse(text) {
        let again = Pinfl::parse(pinfl.as_str()).unwrap();
        assert!(again == pinfl);
        let _ = (pinfl.check_digit_matches(), format!("{pinfl:?}"));
    }

    if let Ok(country) = text.parse::<Country>() {
        assert_eq!(country.as_str().parse::<Country>().unwrap(), country);
    }
    if let Ok(subject) = SubjectId::new(text) {
        assert_eq!(SubjectId::new(subject.as_str()).unwrap(), subject);
    }
    if let Ok(purpose) = Purpose::new(text) {
        assert_eq!(Purpose::new(purpose.as_str()).unwrap(), purpose);
    }
    if let Ok(version) = PolicyVersion::new(text) {
        assert_eq!(PolicyVersion::new(version.as_str()).unwrap(), version);
    }
});
