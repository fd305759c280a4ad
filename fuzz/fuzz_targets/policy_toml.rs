//! The TOML policy loader: any text is a policy or a `PolicyError` with a position inside
//! the text — never a panic. A policy that loads answers every question about itself and
//! prints its reports.
#![no_main]

use amanat::policy::Policy;
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::from_toml_str(text) {
        Err(error) => {
            // The position is a real one: a line of the text, a column within it.
            let _ = error.to_string();
            if let Some(line) = error.line() {
                assert!(line >= 1 && line <= text.split('\n').count(), "{error}");
            }
            if let Some(column) = error.column() {
                assert!(column >= 1, "{error}");
            }
        }
        Ok(policy) => {
            for purpose in policy.purposes() {
                for category in policy.categories() {
                    let form = policy.required_form(&purpose.id, &category.id);
                    assert_eq!(form.is_some(), purpose.categories.contains(&category.id));
                    if form.is_some() {
                        assert!(policy.retention_for(&category.id, &purpose.id).is_some());
                    }
                }
            }
            for recipient in policy.recipients() {
                assert!(policy.recipient(&recipient.id).is_some());
            }
            for location in policy.storage() {
                let _ = policy.check_store_location(location.country, policy.date());
            }
            let _ = policy.subject_request_due(policy.date());
            let _ = policy.transfer_notice_due(NaiveDate::MAX);
            let _ = policy.to_markdown();
            let _ = policy.to_mermaid();
        }
    }
});
