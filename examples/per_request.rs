//! A fresh sandbox per request: compile once, instantiate for each request, in parallel.
//!
//! `cargo run --release --example per_request [threads] [requests] [on-demand|pooled] [module]`
//!
//! The engine pre-allocates instance slots (`EngineConfig::default().pooling(Some(n))`):
//! a request reuses a slot whose memory stays mapped, instead of mapping and unmapping
//! its own; and with `pool_per_thread` each thread has its own slots and its own copy
//! of the code, so threads share nothing and throughput grows with them. Pass
//! `on-demand` as the third argument to compare with the default engine. The module is
//! `examples/hello.wat` unless a fourth argument names another that greets its arguments
//! the same way (`hello, ARGS!`), such as a default-built Rust guest
//! (`tests/guests/rust/src/bin/greet.rs`): between instances the pool resets only the
//! pages a guest touched (Linux 6.7+), so its 1 MiB stack costs little. A WASI 0.2
//! component that greets the same way runs unchanged (`tests/guests/p2/src/greet.rs`,
//! built for wasm32-wasip2): each request instantiates the component, linked once.

use lucet_wasi::{Capture, Engine, EngineConfig, Input, Module, Output, WasiInstance};
use std::time::Instant;

fn main() -> Result<(), lucet_wasi::Error> {
    let on_demand = std::env::args().nth(3).is_some_and(|a| a == "on-demand");
    // Slots per thread: one per instance a thread holds at once is enough.
    let config = EngineConfig::default()
        .pooling((!on_demand).then_some(16))
        .pool_per_thread(!on_demand);
    let engine = Engine::shared(&config)?;
    let path = std::env::args().nth(4).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hello.wat").to_string()
    });
    let module = Module::from_file(&engine, path)?;

    let mut args = std::env::args()
        .skip(1)
        .take(2)
        .map(|a| a.parse::<usize>().expect("a number"));
    let threads = args.next().unwrap_or(4).max(1);
    let requests = args.next().unwrap_or(1000);
    let start = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..threads {
            let module = &module;
            s.spawn(move || {
                for i in (worker..requests).step_by(threads) {
                    let out = Capture::new();
                    WasiInstance::builder()
                        .module(module)
                        .arg(format!("request {i}"))
                        .stdin(Input::null())
                        .stdout(Output::capture(&out))
                        .run("_start")
                        .expect("guest failed");
                    assert_eq!(out.text(), format!("hello, request {i}!\n"));
                }
            });
        }
    });
    let elapsed = start.elapsed();
    println!(
        "{requests} isolated instances in {elapsed:?} ({:?} each, {threads} threads, {})",
        elapsed / requests.max(1) as u32,
        if on_demand { "on-demand" } else { "pooled" }
    );
    Ok(())
}
