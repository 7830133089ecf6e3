//! Async runs (the `async` feature): `run_async` / `call_async` on tokio runtimes, with
//! real guests. Guests that compute, sleep in `poll_oneoff`, wait for a pipe or await an
//! async host function leave the executor to other tasks; timeouts and dropped futures
//! end them cleanly.

use crate::support::rust_guest;
use lucet_wasi::{
    hostcall, hostcalls, Capture, Engine, EngineConfig, Error, Exit, Input, Module, Output,
    WasiInstance,
};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, Barrier};

/// An engine with interruption checks, which async runs need.
fn engine() -> Engine {
    Engine::shared(&EngineConfig::default().timeout_capable(true)).unwrap()
}

/// A Rust guest compiled once per test binary.
fn module(name: &str) -> Module {
    static MODULES: OnceLock<Mutex<HashMap<String, Module>>> = OnceLock::new();
    let mut modules = MODULES.get_or_init(Default::default).lock().unwrap();
    modules
        .entry(name.to_string())
        .or_insert_with(|| Module::from_file(&engine(), rust_guest(name)).unwrap())
        .clone()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A task on the same runtime that counts its turns (one per 5 ms sleep at most).
fn ticker() -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let ticks = Arc::new(AtomicU64::new(0));
    let counter = ticks.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    (ticks, task)
}

/// Waits until every guest of the test has called it, then returns their number.
#[hostcall]
async fn rendezvous(barrier: &mut Arc<Barrier>) -> u32 {
    barrier.wait().await;
    200
}

#[test]
fn two_hundred_guests_in_flight_at_once_on_two_workers() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let module = module("rendezvous")
        .with_hostcalls(&hostcalls![rendezvous])
        .unwrap();
    rt.block_on(async {
        // Every guest waits in the host for all 200: they are all in flight at once.
        let barrier = Arc::new(Barrier::new(200));
        let runs: Vec<_> = (0..200)
            .map(|i| {
                let (module, barrier) = (module.clone(), barrier.clone());
                tokio::spawn(async move {
                    let out = Capture::new();
                    let exit = WasiInstance::builder()
                        .module(&module)
                        .arg(format!("request-{i}"))
                        .arg("second")
                        .data(barrier)
                        .stdout(Output::capture(&out))
                        .run_async("_start")
                        .await;
                    (exit, out.text())
                })
            })
            .collect();
        let all = async {
            for (i, run) in runs.into_iter().enumerate() {
                let (exit, out) = run.await.unwrap();
                assert_eq!(exit.unwrap(), Exit::Returned);
                assert_eq!(out, format!("request-{i} 200\nsecond 200\n"));
            }
        };
        tokio::time::timeout(Duration::from_secs(120), all)
            .await
            .expect("the guests did not all finish");
    });
}

#[test]
fn a_spinning_guest_yields_to_other_tasks_and_times_out() {
    current_thread().block_on(async {
        let (ticks, task) = ticker();
        let out = Capture::new();
        let result = WasiInstance::builder()
            .module(&module("spin"))
            .stdout(Output::capture(&out))
            .timeout(Duration::from_secs(2))
            .run_async("_start")
            .await;
        assert!(
            matches!(result, Err(Error::Timeout { after }) if after == Duration::from_secs(2)),
            "{result:?}"
        );
        assert_eq!(out.text(), "spinning\n");
        // Sync, the guest would hold the only thread for all 2 s: no tick at all.
        let ticks = ticks.load(Ordering::Relaxed);
        assert!(ticks > 20, "the other task ran only {ticks} times");
        task.abort();

        let result = WasiInstance::builder()
            .module(&module("spin"))
            .stdout(Output::null())
            .timeout(Duration::from_millis(500))
            .yield_interval(Duration::from_millis(50))
            .run_async("_start")
            .await;
        assert!(
            matches!(result, Err(Error::Timeout { after }) if after == Duration::from_millis(500)),
            "{result:?}"
        );
    });
}

#[test]
fn a_guest_sleeping_in_poll_oneoff_leaves_the_thread_to_others() {
    current_thread().block_on(async {
        let (ticks, task) = ticker();
        let out = Capture::new();
        let exit = WasiInstance::builder()
            .module(&module("sleep"))
            .arg("1000")
            .stdout(Output::capture(&out))
            .run_async("_start")
            .await;
        assert_eq!(exit.unwrap(), Exit::Returned);
        // The guest checks itself that the whole second passed (and not twice over: it
        // would still pass, but the retry keeps the first start; see poll_twice below).
        assert_eq!(out.text(), "slept at least 1000 ms\n");
        let ticks = ticks.load(Ordering::Relaxed);
        assert!(ticks > 20, "the other task ran only {ticks} times");
        task.abort();
    });
}

#[test]
fn a_guest_reading_an_empty_pipe_leaves_the_thread_to_others() {
    current_thread().block_on(async {
        let (read_end, mut write_end) = std::io::pipe().unwrap();
        // Another task of the same thread fills the pipe once it has run 20 times: if the
        // guest's read blocked the thread, it never would, and the guest never finish.
        let writer = tokio::spawn(async move {
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            write_end.write_all(b"hello through a pipe\n").unwrap();
            drop(write_end);
        });
        let out = Capture::new();
        let run = WasiInstance::builder()
            .module(&module("cat"))
            .stdin(Input::from_fd(read_end))
            .stdout(Output::capture(&out))
            .run_async("_start");
        let exit = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the guest never saw the data");
        assert_eq!(exit.unwrap(), Exit::Returned);
        assert_eq!(out.text(), "hello through a pipe\n");
        writer.await.unwrap();
    });
}

/// A guest writing more than a pipe holds, into a pipe another task of the same thread
/// drains: the writes wait on the executor (before, write(2) blocked the thread, so the
/// reader never ran and the run never ended).
#[test]
fn a_guest_writing_into_a_full_pipe_leaves_the_thread_to_others() {
    current_thread().block_on(async {
        let (read_end, write_end) = std::io::pipe().unwrap();
        let reader = tokio::spawn(async move {
            let mut read_end = tokio::net::unix::pipe::Receiver::from_owned_fd(read_end.into())
                .expect("a pipe for tokio");
            let mut all = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut read_end, &mut all)
                .await
                .unwrap();
            all
        });
        let input: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let run = WasiInstance::builder()
            .module(&module("cat"))
            .stdin(Input::bytes(input.clone()))
            .stdout(Output::from_fd(write_end))
            .run_async("_start");
        let exit = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the guest's writes blocked the thread");
        assert_eq!(exit.unwrap(), Exit::Returned);
        // The instance (and its write end) is gone: the reader sees the end.
        assert!(
            reader.await.unwrap() == input,
            "the pipe carried other bytes"
        );
    });
}

/// A write into a pipe nobody reads ends at the timeout, sync and async, and an async
/// one leaves the thread to others meanwhile.
#[test]
fn a_write_into_a_full_output_pipe_ends_at_the_timeout() {
    let run = |asynchronous: bool| {
        let (read_end, write_end) = std::io::pipe().unwrap();
        let builder = WasiInstance::builder()
            .module(&module("cat"))
            .stdin(Input::bytes(vec![b'x'; 1 << 20]))
            .stdout(Output::from_fd(write_end))
            .timeout(Duration::from_millis(300));
        let result = if asynchronous {
            current_thread().block_on(async {
                let (ticks, task) = ticker();
                let result =
                    tokio::time::timeout(Duration::from_secs(60), builder.run_async("_start"))
                        .await
                        .expect("the write did not end at the timeout");
                assert!(
                    ticks.load(Ordering::Relaxed) >= 10,
                    "the write blocked the thread"
                );
                task.abort();
                result
            })
        } else {
            builder.run("_start")
        };
        drop(read_end);
        result
    };
    for asynchronous in [false, true] {
        let result = run(asynchronous);
        assert!(
            matches!(result, Err(Error::Timeout { .. })),
            "async {asynchronous}: {result:?}"
        );
    }
}

/// `random_get` of 4 GiB in an async run ends at the timeout (the deadline is checked
/// between chunks there too).
#[test]
fn a_huge_random_get_ends_at_the_timeout_in_async_runs() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
        (memory (export "memory") 65536)
        (func (export "_start") (drop (call $random (i32.const 0) (i32.const -1)))))"#;
    let module = Module::from_bytes(&engine(), wat).unwrap();
    let result = current_thread().block_on(async {
        let run = WasiInstance::builder()
            .module(&module)
            .timeout(Duration::from_millis(200))
            .run_async("_start");
        tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("random_get did not end at the timeout")
    });
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
}

#[test]
fn a_pipe_input_also_works_in_sync_runs() {
    let (read_end, mut write_end) = std::io::pipe().unwrap();
    write_end.write_all(b"sync pipe\n").unwrap();
    drop(write_end);
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module(&module("cat"))
        .stdin(Input::from_fd(read_end))
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    assert_eq!(out.text(), "sync pipe\n");
}

/// A relative clock subscription waited for asynchronously, then collected: the retry
/// of the call must count from the first try, not wait a second time.
#[test]
fn poll_oneoff_waits_once_for_a_relative_clock() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        ;; one subscription at 0: userdata 7, clock (tag 0), monotonic (id 1), 300 ms, relative
        (data (i32.const 0) "\07\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00" "\01\00\00\00\00\00\00\00"
                            "\00\a3\e1\11\00\00\00\00" "\00\00\00\00\00\00\00\00" "\00\00\00\00\00\00\00\00")
        (func (export "sleep") (result i32)
            (if (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))
                (then (return (i32.const -1))))
            (i32.load (i32.const 128))))"#;
    let module = Module::from_bytes(&engine(), wat).unwrap();
    current_thread().block_on(async {
        let started = std::time::Instant::now();
        let mut instance = WasiInstance::builder()
            .module(&module)
            .build_async()
            .await
            .unwrap();
        assert_eq!(
            instance.call_async::<(), i32>("sleep", ()).await.unwrap(),
            1
        );
        let took = started.elapsed();
        // Generous bounds: at least the 300 ms, and far from twice that.
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_millis(590), "waited twice? {took:?}");
    });
}

/// Sleeps `ms` milliseconds on the executor's timer, then returns twice `ms`.
#[hostcall]
async fn nap(ms: u32) -> u32 {
    tokio::time::sleep(Duration::from_millis(ms.into())).await;
    ms * 2
}

/// The next number the test sends, plus the length of `label` (an owned copy).
#[hostcall]
async fn next(rx: &mut mpsc::UnboundedReceiver<u32>, label: String) -> u32 {
    rx.recv().await.unwrap_or(0) + label.len() as u32
}

/// Sets the flag when the future holding it is dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Never returns; its future sets the flag when dropped.
#[hostcall]
async fn hang(dropped: &mut Arc<AtomicBool>) -> u32 {
    let _guard = SetOnDrop(dropped.clone());
    std::future::pending::<()>().await;
    0
}

const HOST_WAT: &str = r#"(module
    (import "env" "nap" (func $nap (param i32) (result i32)))
    (import "env" "next" (func $next (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "label")
    (func (export "nap") (param i32) (result i32) (call $nap (local.get 0)))
    (func (export "next") (result i32) (call $next (i32.const 16) (i32.const 5))))"#;

const HANG_WAT: &str = r#"(module
    (import "env" "hang" (func $hang (result i32)))
    (memory (export "memory") 1)
    (func (export "hang") (result i32) (call $hang))
    (func (export "one") (result i32) (i32.const 1)))"#;

#[test]
fn async_host_functions_await_timers_and_channels() {
    let module = Module::from_bytes(&engine(), HOST_WAT).unwrap();
    current_thread().block_on(async {
        let (tx, rx) = mpsc::unbounded_channel::<u32>();
        let mut instance = WasiInstance::builder()
            .module(&module)
            .hostcall(nap)
            .hostcall(next)
            .data(rx)
            .build_async()
            .await
            .unwrap();
        assert_eq!(
            instance.call_async::<u32, u32>("nap", 20).await.unwrap(),
            40
        );
        let sender = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tx.send(37).unwrap();
        });
        assert_eq!(
            instance.call_async::<(), u32>("next", ()).await.unwrap(),
            42
        );
        sender.await.unwrap();
    });
}

#[test]
fn dropping_the_future_mid_await_cancels_cleanly() {
    let module = Module::from_bytes(&engine(), HANG_WAT).unwrap();
    current_thread().block_on(async {
        for _ in 0..3 {
            let dropped = Arc::new(AtomicBool::new(false));
            let mut instance = WasiInstance::builder()
                .module(&module)
                .hostcall(hang)
                .data(dropped.clone())
                .build_async()
                .await
                .unwrap();
            let call = instance.call_async::<(), u32>("hang", ());
            assert!(tokio::time::timeout(Duration::from_millis(50), call)
                .await
                .is_err());
            // The guest's fiber was unwound: the host future it awaited is gone.
            assert!(dropped.load(Ordering::SeqCst));
            let e = instance.call_async::<(), u32>("one", ()).await.unwrap_err();
            assert!(
                e.to_string().contains("an earlier run was cancelled"),
                "{e}"
            );

            // The next instance of the module runs as usual.
            let mut fresh = WasiInstance::builder()
                .module(&module)
                .hostcall(hang)
                .data(Arc::new(AtomicBool::new(false)))
                .build_async()
                .await
                .unwrap();
            assert_eq!(fresh.call_async::<(), u32>("one", ()).await.unwrap(), 1);
        }
        // A timeout also ends a guest that is awaiting a host function.
        let dropped = Arc::new(AtomicBool::new(false));
        let mut instance = WasiInstance::builder()
            .module(&module)
            .hostcall(hang)
            .data(dropped.clone())
            .timeout(Duration::from_millis(100))
            .build_async()
            .await
            .unwrap();
        let e = instance
            .call_async::<(), u32>("hang", ())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn an_async_host_function_on_a_sync_instance_is_refused_by_name() {
    let module = Module::from_bytes(&engine(), HOST_WAT).unwrap();
    let e = WasiInstance::builder()
        .module(&module)
        .hostcall(nap)
        .hostcall(next)
        .build()
        .err()
        .unwrap();
    assert!(matches!(&e, Error::AsyncHostcall { function } if function == "env::nap"));
    assert_eq!(
        e.to_string(),
        "host function `env::nap` is async: build the instance with build_async() and run it \
         with run_async() or call_async()"
    );
    // Also when attached to the module.
    let with = module.with_hostcalls(&hostcalls![nap, next]).unwrap();
    let e = WasiInstance::builder().module(&with).build().err().unwrap();
    assert!(matches!(&e, Error::AsyncHostcall { function } if function == "env::nap"));
}

#[test]
fn sync_and_async_instances_share_one_module() {
    let module = module("args_env");
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module(&module)
        .arg("sync")
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    assert!(out.text().contains("arg[1]=sync\n"));
    current_thread().block_on(async {
        let out = Capture::new();
        let exit = WasiInstance::builder()
            .module(&module)
            .arg("async")
            .stdout(Output::capture(&out))
            .run_async("_start")
            .await
            .unwrap();
        assert_eq!(exit, Exit::Returned);
        assert!(out.text().contains("arg[1]=async\n"));
    });
    // And sync again, after the module's async linking.
    let exit = WasiInstance::builder()
        .module(&module)
        .stdout(Output::null())
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
}

#[test]
fn mismatched_runs_say_what_to_do() {
    let module = module("args_env");
    let mut sync = WasiInstance::builder().module(&module).build().unwrap();
    let e = current_thread()
        .block_on(sync.run_async("_start"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "this instance was built with build(): build it with build_async() to run it with \
         run_async() or call_async()"
    );
    let rt = current_thread();
    let mut built = rt
        .block_on(WasiInstance::builder().module(&module).build_async())
        .unwrap();
    let e = built.run("_start").unwrap_err();
    assert_eq!(
        e.to_string(),
        "this instance was built with build_async(): run it with run_async() or call_async()"
    );

    let plain = Engine::shared(&EngineConfig::default()).unwrap();
    let module = Module::from_bytes(&plain, HANG_WAT).unwrap();
    let e = rt
        .block_on(WasiInstance::builder().module(&module).build_async())
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("async runs need an engine with EngineConfig { timeout_capable: true"),
        "{e}"
    );
}

#[test]
fn guest_outcomes_are_those_of_sync_runs() {
    let exit_wat = r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start") (call $exit (i32.const 7)))
        (func (export "trap") unreachable))"#;
    current_thread().block_on(async {
        let exit = WasiInstance::builder()
            .module_bytes(exit_wat)
            .run_async("_start")
            .await
            .unwrap();
        assert_eq!(exit, Exit::Exited(7));
        let e = WasiInstance::builder()
            .module_bytes(exit_wat)
            .run_async("trap")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Trap { .. }), "{e:?}");
        let e = WasiInstance::builder()
            .module_bytes(exit_wat)
            .run_async("missing")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NoSuchExport { .. }), "{e:?}");
    });
}

#[test]
fn run_futures_are_send() {
    fn send<T: Send>(t: T) -> T {
        t
    }
    let builder = WasiInstance::builder().module(&module("args_env"));
    drop(send(
        WasiInstance::builder()
            .module(&module("args_env"))
            .build_async(),
    ));
    let mut instance = current_thread()
        .block_on(
            WasiInstance::builder()
                .module(&module("args_env"))
                .build_async(),
        )
        .unwrap();
    drop(send(builder.run_async("_start")));
    drop(send(instance.run_async("_start")));
    drop(send(instance.call_async::<(), ()>("_start", ())));
}

#[test]
fn a_guest_waiting_on_sockets_leaves_the_thread_to_others() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let out = Capture::new();
    current_thread().block_on(async {
        let guest = WasiInstance::builder()
            .module(&module("echo_server"))
            .preopen_socket(listener)
            .stdout(Output::capture(&out))
            .run_async("_start");
        // The client is a task of the same thread: had the guest's accept or receive
        // blocked the thread, the client could not connect or send.
        let client = async {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            conn.write_all(b"hello, async sockets").await.unwrap();
            conn.shutdown().await.unwrap();
            let mut echoed = Vec::new();
            conn.read_to_end(&mut echoed).await.unwrap();
            echoed
        };
        let (exit, echoed) = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::join!(guest, client)
        })
        .await
        .expect("the echo did not complete");
        assert_eq!(exit.unwrap(), Exit::Returned);
        assert_eq!(echoed, b"hello, async sockets");
    });
    assert_eq!(out.text(), "echoed 20 bytes\n");
}

#[test]
fn pooled_engines_run_async_guests() {
    let engine = Engine::new(
        &EngineConfig::default()
            .timeout_capable(true)
            .pooling(Some(4)),
    )
    .unwrap();
    let module = Module::from_file(&engine, rust_guest("args_env")).unwrap();
    current_thread().block_on(async {
        for round in 0..3 {
            // As many at once as the engine has slots.
            let runs: Vec<_> = (0..4)
                .map(|i| {
                    let out = Capture::new();
                    let run = WasiInstance::builder()
                        .module(&module)
                        .arg(format!("{round}-{i}"))
                        .stdout(Output::capture(&out))
                        .run_async("_start");
                    tokio::spawn(async move { (run.await, out) })
                })
                .collect();
            for (i, run) in runs.into_iter().enumerate() {
                let (exit, out) = run.await.unwrap();
                assert_eq!(exit.unwrap(), Exit::Returned);
                assert!(out.text().contains(&format!("arg[1]={round}-{i}\n")));
            }
        }
    });
}

#[test]
fn stack_overflow_on_a_fiber_is_a_trap() {
    let wat = r#"(module
        (memory (export "memory") 1)
        (func $down (param i64) (result i64)
            (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (local.get 0)))
        (func (export "_start") (drop (call $down (i64.const 0)))))"#;
    let module = Module::from_bytes(&engine(), wat).unwrap();
    current_thread().block_on(async {
        for _ in 0..3 {
            let e = WasiInstance::builder()
                .module(&module)
                .run_async("_start")
                .await
                .unwrap_err();
            assert!(
                matches!(&e, Error::Trap { message, .. } if message.contains("stack")),
                "{e:?}"
            );
        }
    });
}

/// The sum of a copied guest array, after a yield.
#[hostcall]
async fn total(values: Vec<u32>) -> u32 {
    tokio::task::yield_now().await;
    values.iter().sum()
}

/// Panics after its first `.await`.
#[hostcall]
async fn boom() -> u32 {
    tokio::task::yield_now().await;
    panic!("boom after an await")
}

#[test]
fn async_host_functions_take_copies_and_fail_like_sync_ones() {
    let wat = r#"(module
        (import "env" "total" (func $total (param i32 i32) (result i32)))
        (import "env" "boom" (func $boom (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "\01\00\00\00\02\00\00\00\27\00\00\00")
        (func (export "total") (result i32) (call $total (i32.const 16) (i32.const 3)))
        (func (export "bad") (result i32) (call $total (i32.const 65532) (i32.const 2)))
        (func (export "boom") (result i32) (call $boom)))"#;
    let module = Module::from_bytes(&engine(), wat)
        .unwrap()
        .with_hostcalls(&hostcalls![total, boom])
        .unwrap();
    current_thread().block_on(async {
        let instance = || async {
            WasiInstance::builder()
                .module(&module)
                .build_async()
                .await
                .unwrap()
        };
        assert_eq!(
            instance()
                .await
                .call_async::<(), u32>("total", ())
                .await
                .unwrap(),
            42
        );
        let e = instance()
            .await
            .call_async::<(), u32>("bad", ())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::HostFunction { function, cause: lucet_wasi::HostcallError::OutOfBounds { .. }, .. } if function == "env::total"),
            "{e:?}"
        );
        let e = instance()
            .await
            .call_async::<(), u32>("boom", ())
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "host function `env::boom`: panicked: boom after an await"
        );
    });
}

#[test]
fn build_async_initialises_a_reactor_once() {
    let reactor = r#"(module
        (memory (export "memory") 1)
        (global $inits (mut i32) (i32.const 0))
        (func (export "_initialize") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))
        (func (export "inits") (result i32) (global.get $inits)))"#;
    current_thread().block_on(async {
        let mut guest = WasiInstance::builder()
            .module_bytes(reactor)
            .build_async()
            .await
            .unwrap();
        assert_eq!(guest.call_async::<(), i32>("inits", ()).await.unwrap(), 1);
        assert_eq!(guest.call_async::<(), i32>("inits", ()).await.unwrap(), 1);
        let e = guest
            .call_async::<(), ()>("_initialize", ())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("`_initialize` already ran"), "{e}");
    });
}
