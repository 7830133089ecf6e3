//! Plain Wasmtime + wasmtime-wasi, instance per request with the pooling allocator keeping
//! memories resident: the reference point for `examples/per_request` of lucet-wasi.
//!
//! `cargo run --release --example wasmtime_per_request -- [threads] [requests] [keep_resident] [module]`
//!
//! Tuned as lucet-wasi's pooled engine: 16 MiB kept resident by default, only the touched
//! pages reset (PAGEMAP_SCAN, Linux 6.7+). The module (default `examples/hello.wat`) must
//! greet its arguments as hello.wat does.

use std::time::Instant;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut args = argv.iter().take(3).map(|a| a.parse::<usize>().unwrap());
    let threads = args.next().unwrap_or(1);
    let requests = args.next().unwrap_or(20000);
    let keep = args.next().unwrap_or(16 << 20);
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_core_instances(64)
        .total_memories(64)
        .total_tables(64)
        .max_memory_size(1 << 32)
        .linear_memory_keep_resident(keep)
        .table_keep_resident(keep)
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    let engine = wasmtime::Engine::new(&config).unwrap();
    let path = argv.get(3).map_or(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hello.wat"),
        String::as_str,
    );
    let module = wasmtime::Module::from_file(&engine, path).unwrap();
    let mut linker = wasmtime::Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx).unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    let start = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..threads {
            let (pre, engine) = (&pre, &engine);
            s.spawn(move || {
                for i in (worker..requests).step_by(threads) {
                    let out = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(4096);
                    let ctx = wasmtime_wasi::WasiCtxBuilder::new()
                        .args(&["hello.wat", &format!("request {i}")])
                        .stdout(out.clone())
                        .build_p1();
                    let mut store = wasmtime::Store::new(engine, ctx);
                    let instance = pre.instantiate(&mut store).unwrap();
                    let f = instance
                        .get_typed_func::<(), ()>(&mut store, "_start")
                        .unwrap();
                    f.call(&mut store, ()).unwrap();
                    drop(store);
                    assert_eq!(out.contents(), format!("hello, request {i}!\n").as_bytes());
                }
            });
        }
    });
    let elapsed = start.elapsed();
    println!(
        "{requests} instances in {elapsed:?} ({:?} each, {threads} threads, keep_resident {keep})",
        elapsed / requests as u32
    );
}
