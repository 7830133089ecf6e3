//! Greets its arguments, as examples/hello.wat does: `hello, ARGS!`. A default Rust
//! guest (std, 1 MiB stack) for instance-per-request figures.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let who = if args.is_empty() { "world".to_string() } else { args.join(" ") };
    println!("hello, {who}!");
}
