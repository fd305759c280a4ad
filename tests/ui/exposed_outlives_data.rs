// An exposed value borrows its record: it can't be kept once the record is gone.
use amanat::category::Phone;
use amanat::{ConsentToken, PersonalData, SubjectId};

fn leak(subject: &SubjectId, token: &ConsentToken<Phone>) {
    let exposed = {
        let phone = PersonalData::collect(subject, String::from("+998901234567"), token).unwrap();
        phone.read(token).unwrap()
    };
    let _ = exposed.len();
}

fn main() {}
