//! A store declares where it is, and a location the policy or the law does not allow is
//! refused at open (Tajik law Art. 14.2; ZRU-547 Art. 27-1) — unless the policy records the
//! authority's agreement where the law lets one lift the rule.

#![cfg(feature = "sqlite")]

use crate::common::{TAJIK, imanum};
use amanat::policy::Country;
use amanat::store::vault::{SqliteVault, StoreError};
use amanat::{Error, Policy};
use chrono::NaiveDate;

/// The small Tajik policy with a copy of the data in Kazakhstan.
fn tajik(agreement: Option<&str>) -> String {
    let agreement = agreement.map_or(String::new(), |a| format!("agreement = \"{a}\"\n"));
    format!("{TAJIK}\n[[storage]]\ncountry = \"TJ\"\n\n[[storage]]\ncountry = \"KZ\"\n{agreement}")
}

fn country(code: &str) -> Country {
    code.parse().unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
}

#[test]
fn a_store_abroad_is_refused_at_open_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let policy = imanum();
    let abroad = dir.path().join("frankfurt.db");
    match SqliteVault::open_in(&abroad, country("DE"), &policy, day()) {
        Err(StoreError::Location(refused)) => {
            assert!(
                matches!(*refused, Error::StorageRefused { ref country, .. } if country == "DE")
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!abroad.exists());
    let home = dir.path().join("tashkent.db");
    SqliteVault::open_in(&home, country("UZ"), &policy, day()).unwrap();
    assert!(home.exists());
}

#[test]
fn the_authoritys_agreement_recorded_in_the_policy_lets_a_store_abroad_open_art_14_2() {
    let dir = tempfile::tempdir().unwrap();
    let agreed = Policy::from_toml_str(&tajik(Some("NCPD letter No. 12/345, 2025-06-20"))).unwrap();
    SqliteVault::open_in(dir.path().join("almaty.db"), country("KZ"), &agreed, day()).unwrap();
    // Without the agreement the policy itself does not load: the rule is checked there too.
    assert!(Policy::from_toml_str(&tajik(None)).is_err());
    // A country the policy never names is refused whatever the law says.
    assert!(matches!(
        SqliteVault::open_in(dir.path().join("x.db"), country("RU"), &agreed, day()),
        Err(StoreError::Location(_))
    ));
}
