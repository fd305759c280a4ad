//! Importing Kantara Consent Receipts v1.1 (Tajik law Art. 25.1: proof of consent given
//! elsewhere): the published example is accepted as it is, and each missing or malformed
//! required field is named.

use amanat::Evidence;
use amanat::receipts::{KantaraReceipt, ReceiptError};
use serde_json::Value;

const EXAMPLE: &str = include_str!("../data/kantara-cr-v1.1-example.json");

#[test]
fn the_published_example_is_accepted_as_it_is() {
    let receipt = KantaraReceipt::parse(EXAMPLE).unwrap();
    assert_eq!(receipt.version(), "KI-CR-v1.1.0");
    assert_eq!(receipt.jurisdiction(), "DW");
    assert_eq!(receipt.consent_time().timestamp(), 1_510_592_400);
    assert_eq!(receipt.controllers(), ["Ankh-Morpork Times"]);
    let purposes: Vec<_> = receipt.purposes().collect();
    assert_eq!(purposes.len(), 4);
    assert_eq!(
        purposes[0].third_party.as_deref(),
        Some("The Ankh-morpork Deadbeat Debt Collectors Society")
    );
    // Disclosure false: a third party named anyway is not one the data goes to.
    assert_eq!(purposes[2].third_party, None);
    assert_eq!(purposes[3].consent_type, "N/A");
    assert!(receipt.sensitive().0);
    assert_eq!(receipt.sensitive().1, ["1 - Biographical", "7 - Financial"]);
    assert!(matches!(
        receipt.evidence(),
        Evidence::External { reference, .. } if reference == "c1befd3e-b7e5-4ea6-8688-e9a565aade21"
    ));
}

#[test]
fn the_copy_matches_the_shared_interop_file() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/interop/kantara-cr-v1.1-example.json");
    if let Ok(original) = std::fs::read_to_string(shared) {
        assert_eq!(original, EXAMPLE);
    }
}

fn without(path: &[&str]) -> String {
    let mut doc: Value = serde_json::from_str(EXAMPLE).unwrap();
    let (last, parents) = path.split_last().unwrap();
    let mut node = &mut doc;
    for key in parents {
        node = match key.parse::<usize>() {
            Ok(i) => &mut node[i],
            Err(_) => &mut node[*key],
        };
    }
    node.as_object_mut().unwrap().remove(*last);
    doc.to_string()
}

fn with(path: &[&str], value: Value) -> String {
    let mut doc: Value = serde_json::from_str(EXAMPLE).unwrap();
    let mut node = &mut doc;
    for key in path {
        node = match key.parse::<usize>() {
            Ok(i) => &mut node[i],
            Err(_) => &mut node[*key],
        };
    }
    *node = value;
    doc.to_string()
}

#[test]
fn each_missing_required_field_is_named() {
    let required: &[&[&str]] = &[
        &["version"],
        &["jurisdiction"],
        &["consentTimestamp"],
        &["collectionMethod"],
        &["consentReceiptID"],
        &["piiPrincipalId"],
        &["piiControllers"],
        &["piiControllers", "0", "piiController"],
        &["piiControllers", "0", "contact"],
        &["piiControllers", "0", "address"],
        &["piiControllers", "0", "email"],
        &["piiControllers", "0", "phone"],
        &["policyUrl"],
        &["services"],
        &["services", "0", "service"],
        &["services", "0", "purposes"],
        &["services", "0", "purposes", "1", "consentType"],
        &["services", "0", "purposes", "1", "purposeCategory"],
        &["services", "0", "purposes", "1", "piiCategory"],
        &["services", "0", "purposes", "1", "termination"],
        &["services", "0", "purposes", "1", "thirdPartyDisclosure"],
        &["services", "0", "purposes", "0", "thirdPartyName"],
        &["sensitive"],
        &["spiCat"],
    ];
    for path in required {
        let expected = path
            .iter()
            .enumerate()
            .map(|(i, key)| match key.parse::<usize>() {
                Ok(n) => format!("[{n}]"),
                Err(_) if i == 0 => (*key).to_owned(),
                Err(_) => format!(".{key}"),
            })
            .collect::<String>();
        let err = KantaraReceipt::parse(&without(path)).unwrap_err();
        assert_eq!(
            err,
            ReceiptError::Missing {
                field: expected.clone()
            },
            "{expected}"
        );
    }
}

#[test]
fn malformed_fields_are_named() {
    let cases: &[(&[&str], Value, &str)] = &[
        (
            &["consentTimestamp"],
            Value::from("2017-11-13"),
            "consentTimestamp",
        ),
        (&["consentTimestamp"], Value::from(1.5), "consentTimestamp"),
        (&["sensitive"], Value::from("yes"), "sensitive"),
        (&["spiCat", "0"], Value::from(7), "spiCat[0]"),
        (
            &["services", "0", "purposes"],
            Value::from("all"),
            "services[0].purposes",
        ),
        (
            &["services", "0", "purposes", "2", "thirdPartyDisclosure"],
            Value::from(1),
            "services[0].purposes[2].thirdPartyDisclosure",
        ),
    ];
    for (path, value, field) in cases {
        match KantaraReceipt::parse(&with(path, value.clone())).unwrap_err() {
            ReceiptError::Malformed { field: got, .. } => assert_eq!(got, *field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        KantaraReceipt::parse("not json"),
        Err(ReceiptError::NotJson(_))
    ));
    assert!(matches!(
        KantaraReceipt::parse("[]"),
        Err(ReceiptError::Malformed { .. })
    ));
}
