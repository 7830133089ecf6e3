//! Host functions beside WASI with `#[lucet_wasi::hostcall]`: a key-value store and a
//! logger that a plugin (any wasm32-wasip1 program) imports.
//!
//! ```text
//! cargo run --example plugin -- PLUGIN.wasm [ARGS...]   # run a plugin
//! cargo run --example plugin -- --bindings DIR          # write DIR/plugin_imports.{h,rs}
//! ```
//!
//! Plugins: `examples/plugin/plugin.c` and `examples/plugin/plugin.rs`, built against
//! the bindings written into `examples/plugin` (C:
//! `clang-19 --target=wasm32-wasi --sysroot=/usr -o plugin.wasm examples/plugin/plugin.c`;
//! Rust: a bin of tests/guests/rust, for wasm32-wasip1).

use lucet_wasi::{hostcall, hostcalls, HostContext, HostcallSet, WasiInstance};
use std::collections::HashMap;

/// The embedder's state, shared by the host functions of one instance.
#[derive(Default)]
struct Kv {
    map: HashMap<String, Vec<u8>>,
    lines: Vec<String>,
}

/// Stores `value` under `key`; returns how many keys there are. Imported as `kv.put`.
#[hostcall(module = "kv")]
fn put(kv: &mut Kv, key: &str, value: &[u8]) -> u32 {
    kv.map.insert(key.to_string(), value.to_vec());
    kv.map.len() as u32
}

/// The value of `key`, if there is one. Imported as `kv.get`.
#[hostcall(module = "kv")]
fn get(kv: &mut Kv, key: &str) -> Option<Vec<u8>> {
    kv.map.get(key).cloned()
}

/// Records a log line. Imported as `env.log`.
#[hostcall]
fn log(cx: &mut HostContext<'_, Kv>, level: u32, msg: &str) {
    cx.data_mut().lines.push(format!("{level}:{msg}"));
}

/// No state at all. Imported as `env.scale`.
#[hostcall]
fn scale(x: f64, factor: f32) -> f64 {
    x * factor as f64
}

fn functions() -> HostcallSet {
    hostcalls![put, get, log, scale]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--bindings") => {
            let dir = args.get(1).map_or(".", String::as_str);
            functions().write_bindings(dir, "plugin_imports")?;
        }
        Some(plugin) => {
            let mut instance = WasiInstance::builder()
                .module_file(plugin)?
                .args(&args[1..])
                .data(Kv::default())
                .hostcall(put)
                .hostcall(get)
                .hostcall(log)
                .hostcall(scale)
                .build()?;
            let exit = instance.run("_start")?;
            let kv: &mut Kv = instance.data_mut::<Kv>().unwrap();
            let mut keys: Vec<_> = kv.map.iter().collect();
            keys.sort();
            for (key, value) in keys {
                println!("host: {key} = {}", String::from_utf8_lossy(value));
            }
            for line in &kv.lines {
                println!("host: log {line}");
            }
            println!("host: plugin exited with {}", exit.code());
        }
        None => {
            eprintln!("usage: plugin PLUGIN.wasm [ARGS...] | --bindings DIR");
            std::process::exit(2);
        }
    }
    Ok(())
}
