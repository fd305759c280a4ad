// A phone token must not open a passport: the category is part of both types.
use amanat::category::{Passport, Phone};
use amanat::{ConsentLedger, PersonalData, PolicyVersion, Purpose, SubjectId};

fn main() {
    let ledger = ConsentLedger::new(PolicyVersion::new("1").unwrap());
    let subject = SubjectId::new("cust-1").unwrap();
    let passport_token = ledger
        .authorize::<Passport>(&subject, &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let passport = PersonalData::collect(&subject, String::from("AA1234567"), &passport_token).unwrap();
    let phone_token = ledger
        .authorize::<Phone>(&subject, &Purpose::IDENTITY_VERIFICATION)
        .unwrap();
    let _ = passport.read(&phone_token);
}
