// PCI DSS 3.3.1: a verification code is never stored, not even encrypted.
use amanat::category::PaymentCard;
use amanat::values::CardVerificationCode;
use amanat::{ConsentToken, PersonalData, SubjectId};

fn keep(subject: &SubjectId, cvc: CardVerificationCode, token: &ConsentToken<PaymentCard>) {
    let _ = PersonalData::collect(subject, cvc, token);
}

fn main() {}
