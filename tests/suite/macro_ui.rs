//! Every misuse of `#[hostcall]`, `#[derive(GuestType)]` and `hostcalls!` is a compile
//! error on the offending tokens, with a message that reads on its own (tests/ui/*.stderr).

#[test]
fn misuses_are_spanned_compile_errors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui");
    trybuild::TestCases::new().compile_fail(root.join("*.rs"));
}
