//! Greets its arguments, `hello, ARGS!`, as examples/hello.wat and the wasm32-wasip1 greet
//! guest do: the component for instance-per-request figures (examples/per_request.rs).
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let who = if args.is_empty() { "world".to_string() } else { args.join(" ") };
    println!("hello, {who}!");
}
