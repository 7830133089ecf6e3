//! `#[hostcall]` costs, lucet-wasi against what a Wasmtime user writes by hand.
//!
//! * `hostcall_call/put_log`: 10,000 × (`kv.put(key, value)` + `env.log(level, msg)`) on
//!   one instance per side, `_start` called per iteration. lucet-wasi: the functions
//!   below through `#[hostcall]`. Baseline: plain Wasmtime + wasmtime-wasi with the same
//!   work in `Linker::func_wrap` closures written the usual way (`get_export("memory")`,
//!   bounds and UTF-8 checks by hand on each call).
//! * `hostcall_instantiate/hello`: a fresh instance + run of `../examples/hello.wat`
//!   (WASI only) against the same guest importing six host functions, attached once to
//!   the module with `Module::with_hostcalls` (and, for reference, given per build with
//!   `.hostcall(..)`, which links per instance).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lucet_wasi::{hostcall, hostcalls, HostContext, HostcallSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn guest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The embedder state both sides update.
#[derive(Default)]
struct Kv {
    puts: u32,
    bytes: usize,
    logged: usize,
}

impl Kv {
    fn put(&mut self, key: &str, value: &[u8]) -> u32 {
        self.puts += 1;
        self.bytes += key.len() + value.len();
        self.puts
    }

    fn log(&mut self, level: u32, msg: &str) {
        self.logged += level as usize + msg.len();
    }
}

#[hostcall(module = "kv")]
fn put(kv: &mut Kv, key: &str, value: &[u8]) -> u32 {
    kv.put(key, value)
}

#[hostcall(module = "kv")]
fn get(kv: &mut Kv, key: &str, out: &mut [u8]) -> u32 {
    out.len() as u32 + kv.bytes as u32 + key.len() as u32
}

#[hostcall]
fn log(cx: &mut HostContext<'_, Kv>, level: u32, msg: &str) {
    cx.data_mut().log(level, msg);
}

#[hostcall]
fn scale(x: f64, factor: f32) -> f64 {
    x * factor as f64
}

#[hostcall]
fn negate(flag: bool) -> bool {
    !flag
}

#[hostcall]
fn mix(a: i32, b: i64, c: u64) -> i64 {
    (a as i64).wrapping_mul(b).wrapping_add(c as i64)
}

fn six() -> HostcallSet {
    hostcalls![put, get, log, scale, negate, mix]
}

/// Baseline store data: wasmtime-wasi's context and the embedder state.
struct Data {
    wasi: wasmtime_wasi::p1::WasiP1Ctx,
    kv: Kv,
}

/// `len` bytes at `ptr` of the caller's memory, checked by hand.
fn guest_bytes(bytes: &[u8], ptr: u32, len: u32) -> wasmtime::Result<&[u8]> {
    let start = ptr as usize;
    bytes
        .get(start..start.checked_add(len as usize).unwrap_or(usize::MAX))
        .ok_or_else(|| wasmtime::Error::msg("guest range out of bounds"))
}

fn memory(caller: &mut wasmtime::Caller<'_, Data>) -> wasmtime::Result<wasmtime::Memory> {
    match caller.get_export("memory") {
        Some(wasmtime::Extern::Memory(m)) => Ok(m),
        _ => Err(wasmtime::Error::msg("no memory export")),
    }
}

fn baseline_calls(path: &Path) -> impl FnMut() {
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::from_file(&engine, path).expect("compile");
    let mut linker = wasmtime::Linker::<Data>::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |d| &mut d.wasi).expect("wasi");
    linker
        .func_wrap(
            "kv",
            "put",
            |mut caller: wasmtime::Caller<'_, Data>, kp: u32, kl: u32, vp: u32, vl: u32| {
                let mem = memory(&mut caller)?;
                let (bytes, data) = mem.data_and_store_mut(&mut caller);
                let key = std::str::from_utf8(guest_bytes(bytes, kp, kl)?)?;
                let value = guest_bytes(bytes, vp, vl)?;
                Ok(data.kv.put(key, value))
            },
        )
        .unwrap();
    linker
        .func_wrap(
            "env",
            "log",
            |mut caller: wasmtime::Caller<'_, Data>, level: u32, mp: u32, ml: u32| {
                let mem = memory(&mut caller)?;
                let (bytes, data) = mem.data_and_store_mut(&mut caller);
                let msg = std::str::from_utf8(guest_bytes(bytes, mp, ml)?)?;
                data.kv.log(level, msg);
                Ok(())
            },
        )
        .unwrap();
    let wasi = wasmtime_wasi::WasiCtxBuilder::new().build_p1();
    let mut store = wasmtime::Store::new(
        &engine,
        Data {
            wasi,
            kv: Kv::default(),
        },
    );
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .expect("_start");
    move || {
        store.data_mut().kv.puts = 0;
        start.call(&mut store, ()).expect("baseline run");
    }
}

fn ours_calls(path: &Path) -> impl FnMut() {
    let engine = lucet_wasi::Engine::shared(&lucet_wasi::EngineConfig::default()).unwrap();
    let module = lucet_wasi::Module::from_file(&engine, path)
        .unwrap()
        .with_hostcalls(&hostcalls![put, log])
        .unwrap();
    let mut instance = lucet_wasi::WasiInstance::builder()
        .module(&module)
        .data(Kv::default())
        .build()
        .unwrap();
    move || {
        instance.data_mut::<Kv>().unwrap().puts = 0;
        instance.run("_start").expect("lucet-wasi run");
    }
}

fn call_cost(c: &mut Criterion) {
    let path = guest("guests/hostcall_calls.wat");
    let mut ours = ours_calls(&path);
    let mut baseline = baseline_calls(&path);
    ours();
    baseline();
    let mut g = c.benchmark_group("hostcall_call");
    g.throughput(Throughput::Elements(20_000));
    g.bench_function(BenchmarkId::new("put_log", "lucet-wasi #[hostcall]"), |b| {
        b.iter(&mut ours)
    });
    g.bench_function(BenchmarkId::new("put_log", "wasmtime func_wrap"), |b| {
        b.iter(&mut baseline)
    });
    g.finish();
}

fn run_hello(module: &lucet_wasi::Module, per_build: Option<&HostcallSet>) {
    use lucet_wasi::{Exit, Input, Output, WasiInstance};
    let mut b = WasiInstance::builder()
        .module(module)
        .arg("bench")
        .data(Kv::default())
        .stdin(Input::null())
        .stdout(Output::null())
        .stderr(Output::null());
    if let Some(set) = per_build {
        b = b.hostcalls(set);
    }
    assert_eq!(b.run("_start").expect("run"), Exit::Returned);
}

fn instantiate(c: &mut Criterion) {
    let engine = lucet_wasi::Engine::shared(&lucet_wasi::EngineConfig::default()).unwrap();
    let wasi_only = lucet_wasi::Module::from_file(&engine, guest("../examples/hello.wat")).unwrap();
    let imports =
        lucet_wasi::Module::from_file(&engine, guest("guests/hello_hostcalls.wat")).unwrap();
    let attached = imports.with_hostcalls(&six()).unwrap();
    let set = six();
    run_hello(&wasi_only, None);
    run_hello(&attached, None);
    run_hello(&imports, Some(&set));
    let mut g = c.benchmark_group("hostcall_instantiate");
    g.bench_function(BenchmarkId::new("hello", "wasi-only"), |b| {
        b.iter(|| run_hello(&wasi_only, None))
    });
    g.bench_function(
        BenchmarkId::new("hello", "6 hostcalls, with_hostcalls"),
        |b| b.iter(|| run_hello(&attached, None)),
    );
    g.bench_function(BenchmarkId::new("hello", "6 hostcalls, per build"), |b| {
        b.iter(|| run_hello(&imports, Some(&set)))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = call_cost, instantiate
}
criterion_main!(benches);
