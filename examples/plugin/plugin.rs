//! The Rust plugin of examples/plugin.rs: the same program as examples/plugin/plugin.c,
//! calling its imports through the safe functions `plugin --bindings examples/plugin`
//! writes (plugin_imports.rs). Built for wasm32-wasip1 as a bin of tests/guests/rust.

include!("plugin_imports.rs");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks_exact(2) {
        let n = kv::put(&pair[0], pair[1].as_bytes());
        println!("plugin: put {}, now {n} keys", pair[0]);
    }
    match kv::get("colour") {
        Some(colour) => println!("plugin: colour is {}", String::from_utf8_lossy(&colour)),
        None => println!("plugin: no colour"),
    }
    env::log(1, "hello from Rust");
    println!("plugin: scale(1.5, 4) = {}", env::scale(1.5, 4.0));
}
