// Art. 5.3: no copying of personal data.
use amanat::category::Biometric;
use amanat::PersonalData;

fn copy(selfie: &PersonalData<Vec<u8>, Biometric>) -> PersonalData<Vec<u8>, Biometric> {
    selfie.clone()
}

fn main() {}
