// Destruction consumes the record: nothing can read it afterwards.
use amanat::category::Biometric;
use amanat::{ConsentToken, DestructionReason, PersonalData};

fn reuse(selfie: PersonalData<Vec<u8>, Biometric>, token: &ConsentToken<Biometric>) {
    let _receipt = selfie.destroy(DestructionReason::SubjectRequest);
    let _ = selfie.read(token);
}

fn main() {}
