//! lucet-wasi against a baseline of plain Wasmtime + wasmtime-wasi (preview1), same
//! Wasmtime version (48.0.8), same guests.
//!
//! Every benchmark measures one whole command run per iteration: build a fresh WASI
//! context and store, instantiate the (already compiled and linked) module, call
//! `_start`. Modules are compiled once, outside the measurement, on both sides:
//!
//! * lucet-wasi: `Module::from_file` once (its `InstancePre` is cached inside the
//!   module on first use), then per iteration
//!   `WasiInstance::builder().module(&m).stdin(null).stdout(null).stderr(null).run("_start")`.
//! * baseline: `wasmtime::Module` + `Linker` (`p1::add_to_linker_sync`) + `InstancePre`
//!   once, then per iteration `WasiCtxBuilder` (stdout/stderr discarded) -> `build_p1`
//!   -> `Store::new` -> `instantiate` -> call `_start`.
//! * `*-pooled`: both sides again on pooled engines of the same shape (64 slots; the
//!   first 1 MiB of each memory and table kept resident between instances).
//!
//! Each guest traps if a syscall fails or a result is wrong, so both sides are checked
//! to do the same work. See README.md for how to run and the numbers measured.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Syscalls made per run by the `syscall/*` guests.
const CALLS: u64 = 10_000;

fn guest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A bin of tests/guests/rust, built for wasm32-wasip1 (release) into this crate's
/// target directory.
fn rust_guest(name: &str) -> PathBuf {
    let target = guest("target/guests-rust");
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-wasip1",
            "--bin",
            name,
        ])
        .arg("--manifest-path")
        .arg(guest("../tests/guests/rust/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo");
    assert!(status.success(), "building the Rust guest {name} failed");
    target.join(format!("wasm32-wasip1/release/{name}.wasm"))
}

/// lucet-wasi: a module compiled once, run per iteration.
struct Ours {
    module: lucet_wasi::Module,
}

impl Ours {
    fn new(path: &Path) -> Ours {
        Ours::with_config(path, &lucet_wasi::EngineConfig::default())
    }

    /// On an engine with pre-allocated instance slots (Wasmtime's pooling allocator).
    fn pooled(path: &Path) -> Ours {
        let config = lucet_wasi::EngineConfig::default().pooling(Some(64));
        Ours::with_config(path, &config)
    }

    fn with_config(path: &Path, config: &lucet_wasi::EngineConfig) -> Ours {
        let engine = lucet_wasi::Engine::new(config).expect("lucet-wasi engine");
        let module = lucet_wasi::Module::from_file(&engine, path).expect("lucet-wasi compile");
        let ours = Ours { module };
        ours.run(); // links (caches the InstancePre) and checks the guest succeeds
        ours
    }

    fn run(&self) {
        use lucet_wasi::{Exit, Input, Output, WasiInstance};
        let exit = WasiInstance::builder()
            .module(&self.module)
            .arg("bench")
            .stdin(Input::null())
            .stdout(Output::null())
            .stderr(Output::null())
            .run("_start")
            .expect("lucet-wasi run");
        assert_eq!(exit, Exit::Returned);
    }
}

/// Baseline: Wasmtime + wasmtime-wasi preview1, linked once, run per iteration.
struct Baseline {
    engine: wasmtime::Engine,
    pre: wasmtime::InstancePre<wasmtime_wasi::p1::WasiP1Ctx>,
    argv0: String,
}

impl Baseline {
    fn new(path: &Path) -> Baseline {
        // Wasmtime's default configuration: what a plain Wasmtime embedder gets.
        Baseline::with_engine(path, wasmtime::Engine::default())
    }

    /// With Wasmtime's pooling allocator, in the shape of lucet-wasi's pooled engine: 64
    /// slots, 4 GiB memories, the first 16 MiB of each memory and table kept resident
    /// between instances, only the touched pages reset (PAGEMAP_SCAN, Linux 6.7+).
    fn pooled(path: &Path) -> Baseline {
        const KEEP_RESIDENT: usize = 16 << 20;
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        pool.total_core_instances(64)
            .total_memories(64)
            .total_tables(64)
            .max_memory_size(1 << 32)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut config = wasmtime::Config::new();
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        let engine = wasmtime::Engine::new(&config).expect("wasmtime pooled engine");
        Baseline::with_engine(path, engine)
    }

    fn with_engine(path: &Path, engine: wasmtime::Engine) -> Baseline {
        let module = wasmtime::Module::from_file(&engine, path).expect("wasmtime compile");
        let mut linker = wasmtime::Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx).expect("wasmtime-wasi");
        let pre = linker.instantiate_pre(&module).expect("wasmtime link");
        let argv0 = path.file_name().unwrap().to_string_lossy().into_owned();
        let baseline = Baseline { engine, pre, argv0 };
        baseline.run();
        baseline
    }

    fn run(&self) {
        let ctx = wasmtime_wasi::WasiCtxBuilder::new()
            .args(&[self.argv0.as_str(), "bench"])
            .stdout(std::io::empty())
            .stderr(std::io::empty())
            .build_p1();
        let mut store = wasmtime::Store::new(&self.engine, ctx);
        let instance = self
            .pre
            .instantiate(&mut store)
            .expect("wasmtime instantiate");
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .expect("_start");
        start.call(&mut store, ()).expect("wasmtime-wasi run");
    }
}

/// One group holding the lucet-wasi case and its baseline under the same name.
fn compare(c: &mut Criterion, group: &str, case: &str, path: &Path, calls: Option<u64>) {
    let ours = Ours::new(path);
    let baseline = Baseline::new(path);
    let mut g = c.benchmark_group(group);
    if let Some(n) = calls {
        g.throughput(Throughput::Elements(n));
    }
    g.bench_function(BenchmarkId::new(case, "lucet-wasi"), |b| {
        b.iter(|| ours.run())
    });
    g.bench_function(BenchmarkId::new(case, "wasmtime-wasi"), |b| {
        b.iter(|| baseline.run())
    });
    g.finish();
}

fn instantiate_and_run(c: &mut Criterion) {
    compare(
        c,
        "instantiate_and_run",
        "hello",
        &guest("../examples/hello.wat"),
        None,
    );
    // The same on pooled engines: lucet-wasi's pooling option, and Wasmtime's pooling
    // allocator in the same shape (64 slots, 1 MiB of each memory and table resident).
    let pooled = Ours::pooled(&guest("../examples/hello.wat"));
    let baseline_pooled = Baseline::pooled(&guest("../examples/hello.wat"));
    let mut g = c.benchmark_group("instantiate_and_run");
    g.bench_function(BenchmarkId::new("hello", "lucet-wasi-pooled"), |b| {
        b.iter(|| pooled.run())
    });
    g.bench_function(BenchmarkId::new("hello", "wasmtime-wasi-pooled"), |b| {
        b.iter(|| baseline_pooled.run())
    });
    // A default-built Rust guest (std, 1 MiB stack) doing the same: the pooled slots
    // reset only the pages it touched.
    let greet = rust_guest("greet");
    let pooled = Ours::pooled(&greet);
    let baseline_pooled = Baseline::pooled(&greet);
    g.bench_function(BenchmarkId::new("greet-rust", "lucet-wasi-pooled"), |b| {
        b.iter(|| pooled.run())
    });
    g.bench_function(
        BenchmarkId::new("greet-rust", "wasmtime-wasi-pooled"),
        |b| b.iter(|| baseline_pooled.run()),
    );
    g.finish();
    // The fixed cost of a run, to subtract from the syscall benchmarks.
    compare(
        c,
        "instantiate_and_run",
        "empty",
        &guest("guests/empty.wat"),
        None,
    );
}

fn syscall(c: &mut Criterion) {
    compare(
        c,
        "syscall",
        "fd_write_small",
        &guest("guests/fd_write_small.wat"),
        Some(CALLS),
    );
    compare(
        c,
        "syscall",
        "clock_time_get",
        &guest("guests/clock_time_get.wat"),
        Some(CALLS),
    );
}

fn compute(c: &mut Criterion) {
    compare(c, "compute", "fib", &guest("guests/fib.wat"), None);
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = instantiate_and_run, syscall, compute
}
criterion_main!(benches);
