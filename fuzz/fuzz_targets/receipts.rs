//! Consent receipts from elsewhere: a Kantara Consent Receipt v1.1 (`KantaraReceipt::parse`)
//! and a proof of consent (`ConsentProof`, JSON). A proof read is checked on its own and,
//! when it is one of the IMANUM policy, exported as an ISO/IEC TS 27560 record and a
//! Kantara receipt, which must parse back.
#![no_main]

use std::sync::OnceLock;

use amanat::Policy;
use amanat::consent::ConsentProof;
use amanat::receipts::{Iso27560Record, KantaraReceipt};
use libfuzzer_sys::fuzz_target;

/// The IMANUM policy, with the telephone number a Kantara receipt requires.
fn imanum() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let text = include_str!("../../examples/policies/imanum.toml").replacen(
            "policy_url = ",
            "phone = \"+998 71 200 00 00\"\npolicy_url = ",
            1,
        );
        Policy::from_toml_str(&text).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(receipt) = KantaraReceipt::parse(json) {
        let _ = (
            receipt.receipt_id(),
            receipt.consent_time(),
            receipt.sensitive(),
        );
        let _ = receipt.purposes().count();
        let _ = receipt.evidence();
    }

    let Ok(proof) = serde_json::from_str::<ConsentProof>(json) else {
        return;
    };
    let printed = serde_json::to_string(&proof).unwrap();
    assert_eq!(
        serde_json::from_str::<ConsentProof>(&printed).unwrap(),
        proof
    );
    let _ = proof.verify();
    let Ok(record) = Iso27560Record::new(&proof, imanum(), "uz") else {
        return;
    };
    let _ = serde_json::to_string(&record).unwrap();
    if let Ok(kantara) = record.to_kantara(imanum()) {
        // What we export, we import.
        let receipt = KantaraReceipt::parse(&kantara.to_string()).unwrap();
        assert_eq!(receipt.receipt_id(), proof.consent.to_string());
    }
});
