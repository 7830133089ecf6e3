//! Exits with the status given as its first argument.
fn main() {
    let status: i32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("usage: exit <status>");
    std::process::exit(status);
}
