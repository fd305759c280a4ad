//! The behaviour tests, one binary: each module is a chapter of the compliance matrix, and
//! each test is named after the rule it shows (`uz_art_26_a_selfie_stands_on_consent_in_any_provable_form`).
//! The fixtures they share are in `tests/common`. The crash test (which re-runs its own
//! binary as a child) and the compile-fail runner stand alone beside this one.

#[path = "../common/mod.rs"]
mod common;

mod audit_log;
mod audit_trail;
mod authenticated_log;
mod backups;
mod change_notices;
mod consent_rules;
mod consent_term;
mod crypto_shredding;
mod depersonalisation;
mod event_log_attacks;
mod history_order;
mod hostile_caller;
mod imanum_as_written;
mod layers;
mod ledger_model;
mod no_leaks;
mod notice_attacks;
mod operator_clock;
mod operator_store;
mod pack_citations;
mod policy_files;
mod receipts;
mod restart;
mod retention_model;
mod retention_rules;
mod rights_on_the_store;
mod sealed_entries;
mod sealing;
mod snapshot_lanes;
mod statutory_minimums;
mod store_location;
mod store_model;
mod subject_access;
mod subject_requests;
mod synced_writes;
mod tampering;
mod transfer_rules;
mod uzbek_primary_text;
mod value_types;
mod withdrawal_concurrency;
mod withdrawal_reaches_retention;
