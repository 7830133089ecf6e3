//! Size, duration, `--wasm` switch and trace-filter texts, parsed and given to the
//! builder, which builds (and for a duration runs) a small guest with them: an error or
//! a result, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lucet_wasi::{Bytes, Engine, EngineConfig, Module, TraceFilter, WasiInstance, WasmFeatures};
use std::sync::OnceLock;

fn module() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| {
        let engine = Engine::shared(&EngineConfig::default()).expect("engine");
        let wat = r#"(module
            (import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))
            (memory (export "memory") 1)
            (func (export "_start") (drop (call $y))))"#;
        Module::from_bytes(&engine, wat).expect("guest")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let builder = || WasiInstance::builder().module(module());
    if let Ok(size) = text.parse::<Bytes>() {
        let _ = size.to_string();
        let _ = builder()
            .max_heap(size)
            .build()
            .map(|mut i| i.run("_start"));
        let _ = builder().stack(size).build();
        let _ = builder().heap_address_space(size).build();
    }
    if let Ok(after) = humantime::parse_duration(text) {
        let _ = builder().timeout(after).run("_start");
    }
    if let Ok(features) = WasmFeatures::default().switch(text) {
        let _ = builder().wasm_features(features).run("_start");
    }
    if let Ok(filter) = text.parse::<TraceFilter>() {
        let _ = builder()
            .trace(std::io::sink())
            .trace_filter(filter)
            .run("_start");
    }
});
