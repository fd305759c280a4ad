// Art. 16: a permit is for one category; a passport permit can't carry a selfie.
use amanat::category::{Biometric, Passport};
use amanat::disclosure::{Disclosures, TransferPermit};
use amanat::PersonalData;

fn send(d: &Disclosures, selfie: &PersonalData<Vec<u8>, Biometric>, permit: &TransferPermit<Passport>) {
    let _ = d.disclose(selfie, permit, |bytes| bytes.len());
}

fn main() {}
