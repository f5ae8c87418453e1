//! The `net!` macro's errors as rustc shows them (trybuild `compile_fail`, `tests/ui/`).

#[test]
fn macro_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
