//! A fresh sandbox per request: compile once, instantiate for each request, in parallel.
//!
//! `cargo run --release --example per_request`

use lucet_wasi::{Capture, Engine, EngineConfig, Input, Module, Output, WasiInstance};
use std::time::Instant;

fn main() -> Result<(), lucet_wasi::Error> {
    let engine = Engine::shared(&EngineConfig::default())?;
    let module = Module::from_file(
        &engine,
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hello.wat"),
    )?;

    let requests = 1000;
    let start = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..4 {
            let module = &module;
            s.spawn(move || {
                for i in (worker..requests).step_by(4) {
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
        "{requests} isolated instances in {elapsed:?} ({:?} each, 4 threads)",
        elapsed / requests as u32
    );
    Ok(())
}
