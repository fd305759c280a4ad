//! Everything DESIGN.md says must be impossible, shown not to compile. Each case is a file
//! in `tests/ui/` named after what it forbids, with the compiler's message beside it.

#[test]
fn misuse_of_personal_data_and_tokens_does_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
