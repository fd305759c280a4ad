//! Everything DESIGN.md says must be impossible, shown not to compile. Each case is a file
//! in `tests/ui/` named after what it forbids, with the compiler's message beside it.
//!
//! The messages were recorded with Rust 1.95, the toolchain CI runs. Compilers word their
//! messages differently from release to release: on another version, run
//! `TRYBUILD=overwrite cargo test --test compile_fail` and check in the diff only when each
//! case still fails for the reason its file names.

#[test]
fn misuse_of_personal_data_and_tokens_does_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
