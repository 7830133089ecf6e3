//! Async runs: lucet-wasi's `run_async` against its own sync `run`, and against plain
//! Wasmtime's `call_async` with wasmtime-wasi's async preview1 linker
//! (`p1::add_to_linker_async`), with the sync baseline beside it. Same guest
//! (`../examples/hello.wat`: `args_sizes_get`, `args_get`, one `fd_write`), same argv,
//! stdout discarded, one whole command per iteration (fresh context and store,
//! instantiate, call `_start`).
//!
//! Every engine has epoch interruption on (async runs yield at its checks; lucet-wasi
//! needs it for async instances), none is pooled. Async iterations are driven by
//! `block_on` on one current-thread tokio runtime, the same for both sides.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn guest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.wat")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// lucet-wasi: one module, sync and async instances of it.
struct Ours {
    module: lucet_wasi::Module,
}

impl Ours {
    fn new(path: &Path) -> Ours {
        let engine =
            lucet_wasi::Engine::new(&lucet_wasi::EngineConfig::default().timeout_capable(true))
                .expect("lucet-wasi engine");
        let module = lucet_wasi::Module::from_file(&engine, path).expect("lucet-wasi compile");
        Ours { module }
    }

    fn builder(&self) -> lucet_wasi::WasiInstanceBuilder {
        use lucet_wasi::{Input, Output, WasiInstance};
        WasiInstance::builder()
            .module(&self.module)
            .arg("bench")
            .stdin(Input::null())
            .stdout(Output::null())
            .stderr(Output::null())
    }

    fn run(&self) {
        let exit = self.builder().run("_start").expect("lucet-wasi run");
        assert_eq!(exit, lucet_wasi::Exit::Returned);
    }

    async fn run_async(&self) {
        let exit = self
            .builder()
            .run_async("_start")
            .await
            .expect("lucet-wasi run_async");
        assert_eq!(exit, lucet_wasi::Exit::Returned);
    }
}

/// Baseline: Wasmtime + wasmtime-wasi preview1, sync and async linkers.
struct Baseline {
    engine: wasmtime::Engine,
    pre_sync: wasmtime::InstancePre<wasmtime_wasi::p1::WasiP1Ctx>,
    pre_async: wasmtime::InstancePre<wasmtime_wasi::p1::WasiP1Ctx>,
    argv0: String,
}

impl Baseline {
    fn new(path: &Path) -> Baseline {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&config).expect("wasmtime engine");
        // Advances the epoch like lucet-wasi's ticker, so async runs can yield.
        let weak = engine.weak();
        std::thread::spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let module = wasmtime::Module::from_file(&engine, path).expect("wasmtime compile");
        let mut sync = wasmtime::Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut sync, |ctx| ctx).expect("wasmtime-wasi");
        let mut asynchronous = wasmtime::Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut asynchronous, |ctx| ctx)
            .expect("wasmtime-wasi async");
        Baseline {
            pre_sync: sync.instantiate_pre(&module).expect("wasmtime link"),
            pre_async: asynchronous
                .instantiate_pre(&module)
                .expect("wasmtime link async"),
            engine,
            argv0: path.file_name().unwrap().to_string_lossy().into_owned(),
        }
    }

    fn store(&self) -> wasmtime::Store<wasmtime_wasi::p1::WasiP1Ctx> {
        let ctx = wasmtime_wasi::WasiCtxBuilder::new()
            .args(&[self.argv0.as_str(), "bench"])
            .stdout(std::io::empty())
            .stderr(std::io::empty())
            .build_p1();
        wasmtime::Store::new(&self.engine, ctx)
    }

    fn run(&self) {
        let mut store = self.store();
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = self
            .pre_sync
            .instantiate(&mut store)
            .expect("wasmtime instantiate");
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .expect("_start");
        start.call(&mut store, ()).expect("wasmtime-wasi run");
    }

    async fn run_async(&self) {
        let mut store = self.store();
        store.epoch_deadline_async_yield_and_update(1);
        let instance = self
            .pre_async
            .instantiate_async(&mut store)
            .await
            .expect("wasmtime instantiate_async");
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .expect("_start");
        start
            .call_async(&mut store, ())
            .await
            .expect("wasmtime-wasi call_async");
    }
}

fn async_run(c: &mut Criterion) {
    let rt = runtime();
    let ours = Ours::new(&guest());
    let baseline = Baseline::new(&guest());
    // Each side runs once before measurement: links, and checks the guest succeeds.
    ours.run();
    rt.block_on(ours.run_async());
    baseline.run();
    rt.block_on(baseline.run_async());

    let mut g = c.benchmark_group("async_run");
    g.bench_function(BenchmarkId::new("hello", "lucet-wasi-async"), |b| {
        b.iter(|| rt.block_on(ours.run_async()))
    });
    g.bench_function(BenchmarkId::new("hello", "lucet-wasi-sync"), |b| {
        b.iter(|| ours.run())
    });
    g.bench_function(BenchmarkId::new("hello", "wasmtime-wasi-async"), |b| {
        b.iter(|| rt.block_on(baseline.run_async()))
    });
    g.bench_function(BenchmarkId::new("hello", "wasmtime-wasi-sync"), |b| {
        b.iter(|| baseline.run())
    });
    g.finish();
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
    targets = async_run
}
criterion_main!(benches);
