//! Multi-threaded guests (wasi-threads): Rust programs built for wasm32-wasip1-threads
//! run with no flag, share one WASI context, and end as one instance — whichever thread
//! ends it, however its threads are blocked — leaving no OS thread behind.

use crate::support::*;
use lucet_wasi::{
    hostcall, Capture, Engine, EngineConfig, Error, Exit, HostContext, MiB, Misuse, Module, Output,
    WasiInstance,
};
use std::io::Write;
use std::time::{Duration, Instant};

/// Runs the threads guest with `args`: its stdout and how it ended.
fn run(
    args: &[&str],
    edit: impl FnOnce(lucet_wasi::WasiInstanceBuilder) -> lucet_wasi::WasiInstanceBuilder,
) -> (String, Result<Exit, Error>) {
    let out = Capture::new();
    let builder = WasiInstance::builder()
        .module_file(thread_guest("threads"))
        .unwrap()
        .args(args.iter().copied())
        .stdout(Output::capture(&out));
    let result = edit(builder).run("_start");
    (out.text(), result)
}

/// The OS threads of this process that run guest threads (named `wasi-thread-N`).
fn os_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|t| {
            let comm = t.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm).is_ok_and(|c| c.starts_with("wasi-thread"))
        })
        .count()
}

/// The tests of this file one at a time: each counts the guest threads left behind.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Before: refused at load (`threads must be enabled for shared memories`).
#[test]
fn threads_compute_share_a_mutex_channels_and_condvars() {
    let _serial = serial();
    let one = run(&["compute", "1"], |b| b);
    let four = run(&["compute", "4"], |b| b);
    assert_eq!(one.1.unwrap(), Exit::Returned, "{}", one.0);
    assert_eq!(four.1.unwrap(), Exit::Returned);
    assert!(one.0.starts_with("sum "), "{}", one.0);
    assert_eq!(one.0, four.0);
    for (args, want) in [
        (&["counter"][..], "count 80000\n"),
        (&["channel"], "received 4000 sum 7998000\n"),
        (&["condvar"], "turns 2000\n"),
    ] {
        let (out, result) = run(args, |b| b);
        assert_eq!(
            (out.as_str(), result.unwrap()),
            (want, Exit::Returned),
            "{args:?}"
        );
    }
}

#[test]
fn threads_share_the_preopens_and_stdout() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (out, result) = run(&["files", "/sb"], |b| b.preopen("/sb", dir.path()));
    assert_eq!(
        (out.as_str(), result.unwrap()),
        ("files 4 bytes 3600\n", Exit::Returned)
    );
    for i in 0..4 {
        let text = std::fs::read_to_string(dir.path().join(format!("t{i}.txt"))).unwrap();
        assert_eq!(text, format!("thread {i}\n").repeat(100));
    }
    // A thread sleeping in poll_oneoff does not hold the others' calls up.
    let start = Instant::now();
    let (out, result) = run(&["sleepers"], |b| b);
    assert_eq!(result.unwrap(), Exit::Returned);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 21, "{out}");
    assert_eq!(lines[20], "slept");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// `exit(7)` in a worker ends the instance with 7; a trap in a worker is the instance's
/// trap, saying which thread; the process and the next instance go on.
#[test]
fn a_worker_exits_or_traps_and_the_instance_ends() {
    let _serial = serial();
    let before = os_threads();
    assert_eq!(before, 0);
    let (_, result) = run(&["exit"], |b| b);
    assert_eq!(result.unwrap(), Exit::Exited(7));
    let (_, result) = run(&["trap"], |b| b);
    match result.unwrap_err() {
        Error::Trap {
            message,
            backtrace,
            thread,
        } => {
            assert_eq!(thread, Some(1));
            assert_eq!(message, "wasm `unreachable` instruction executed");
            assert!(format!("{backtrace}").contains("deep_trap"), "{backtrace}");
        }
        other => panic!("{other:?}"),
    }
    let (out, result) = run(&["counter"], |b| b);
    assert_eq!(
        (out.as_str(), result.unwrap()),
        ("count 80000\n", Exit::Returned)
    );
    assert_eq!(os_threads(), before);
}

/// Spawning until it fails: the guest sees the failure (EAGAIN) at the limit and ends
/// normally; the threads it left waiting are stopped with it.
#[test]
fn spawns_beyond_the_limit_fail_in_the_guest() {
    let _serial = serial();
    let before = os_threads();
    assert_eq!(before, 0);
    let (out, result) = run(&["spawn-all"], |b| b.max_threads(16));
    assert_eq!(result.unwrap(), Exit::Returned);
    assert!(out.starts_with("spawned 16 then: "), "{out}");
    let (out, result) = run(&["spawn-all"], |b| b);
    assert_eq!(result.unwrap(), Exit::Returned);
    assert!(out.starts_with("spawned 64 then: "), "{out}");
    assert_eq!(os_threads(), before);
}

/// Every thread blocked (four in a condvar wait, the main one too): the timeout ends
/// them all on time. Threads computing forever end when `_start` returns.
#[test]
fn the_timeout_and_the_end_stop_blocked_and_busy_threads() {
    let _serial = serial();
    let before = os_threads();
    assert_eq!(before, 0);
    let start = Instant::now();
    let (out, result) = run(&["block"], |b| b.timeout(Duration::from_secs(1)));
    let took = start.elapsed();
    assert_eq!(out, "blocking\n");
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let (out, result) = run(&["spin"], |b| b);
    assert_eq!(
        (out.as_str(), result.unwrap()),
        ("spinning\n", Exit::Returned)
    );
    assert_eq!(os_threads(), before);
}

/// The CLI runs them with no flag: a worker's `exit(7)` is the process's status, a
/// worker's trap one line and a backtrace with status 134.
#[test]
fn the_cli_runs_threaded_guests() {
    let _serial = serial();
    let wasm = thread_guest("threads");
    let out = cli().arg(&wasm).arg("counter").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "count 80000\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli().arg(&wasm).arg("exit").output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    let out = cli().arg(&wasm).arg("trap").output().unwrap();
    assert_eq!(out.status.code(), Some(134));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().next().unwrap().contains("in thread 1: "),
        "{err}"
    );
    let start = Instant::now();
    let out = cli()
        .args(["--timeout", "1s"])
        .arg(&wasm)
        .arg("block")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124));
    assert!(start.elapsed() < Duration::from_millis(1500));
    // Switched off, the proposal is named.
    let out = cli()
        .args(["--wasm", "threads=n"])
        .arg(&wasm)
        .arg("counter")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`threads`"), "{err}");
}

/// The shared memory is capped at the maximum heap: a thread asking for more fails in
/// the guest (Rust aborts: a trap), and the memory never grew past the cap.
#[test]
fn the_heap_limit_caps_the_shared_memory() {
    let _serial = serial();
    let (out, result) = run(&["hog"], |b| b.max_heap(MiB(64)).stderr(Output::null()));
    assert_eq!(out, "");
    assert!(matches!(result, Err(Error::Trap { .. })), "{result:?}");
    let (out, result) = run(&["hog"], |b| b.max_heap(MiB(512)));
    assert_eq!(
        (out.as_str(), result.unwrap()),
        ("got 268435456\n", Exit::Returned)
    );
}

/// One compiled module, many instances: 200 in a row, then 4 host threads running
/// instances at once, on the default engine and on a pooling one; no guest thread is
/// left behind. Threaded memory is read and written by copy, never as a slice.
#[test]
fn many_threaded_instances_from_one_module() {
    let _serial = serial();
    let wasm = thread_guest("threads");
    for config in [
        EngineConfig::default(),
        EngineConfig::default().pooling(Some(64)),
    ] {
        let module = Module::from_file(&Engine::shared(&config).unwrap(), &wasm).unwrap();
        let run_one = |module: &Module| {
            let out = Capture::new();
            let mut instance = WasiInstance::builder()
                .module(module)
                .arg("counter")
                .stdout(Output::capture(&out))
                .build()
                .unwrap();
            assert_eq!(instance.run("_start").unwrap(), Exit::Returned);
            assert_eq!(out.text(), "count 80000\n");
            assert!(instance.memory().is_none());
            instance.write_bytes(64, b"shared").unwrap();
            assert_eq!(instance.read_bytes(64, 6).unwrap(), b"shared");
            assert!(instance.read_bytes(u32::MAX - 2, 6).is_err());
        };
        for _ in 0..200 {
            run_one(&module);
        }
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10 {
                        run_one(&module);
                    }
                });
            }
        });
        assert_eq!(os_threads(), 0);
    }
    // A pool too small for another thread: the spawn fails in the guest, which goes on.
    let small = Engine::shared(&EngineConfig::default().pooling(Some(4))).unwrap();
    let module = Module::from_file(&small, &wasm).unwrap();
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module(&module)
        .arg("spawn-all")
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    assert!(out.text().starts_with("spawned 3 then: "), "{}", out.text());
}

/// `--trace` and `--stats` see every thread: each line says which (`[0]` the main one),
/// pointers are decoded from the shared memory, and the counts come by thread.
#[test]
fn traces_and_stats_say_which_thread() {
    let _serial = serial();
    let (trace, out) = (Capture::new(), Capture::new());
    let mut instance = WasiInstance::builder()
        .module_file(thread_guest("threads"))
        .unwrap()
        .args(["sleepers"])
        .stdout(Output::capture(&out))
        .trace(trace.clone())
        .collect_stats()
        .build()
        .unwrap();
    assert_eq!(instance.run("_start").unwrap(), Exit::Returned);
    let trace = trace.text();
    assert!(
        trace.starts_with("[0] args_sizes_get() = 0 (argc 2, "),
        "{trace}"
    );
    // Each sleeper's poll_oneoff, on its own thread.
    for tid in 1..=3 {
        assert!(
            trace.contains(&format!("[{tid}] poll_oneoff(")),
            "thread {tid}:\n{trace}"
        );
    }
    assert!(trace.contains("[0] fd_write(1<stdout>, "), "{trace}");
    let stats = instance.stats().unwrap();
    assert_eq!(stats.threads.len(), 4, "{stats}");
    assert_eq!(stats.threads[0].0, 0);
    assert!(
        stats.threads[1..].iter().all(|(_, calls)| *calls >= 1),
        "{stats}"
    );
    assert_eq!(
        stats.total_calls(),
        stats.threads.iter().map(|(_, c)| c).sum::<u64>()
    );
    assert!(stats.calls("poll_oneoff") >= 3, "{stats}");
    assert!(stats.to_string().contains("  thread 3 "), "{stats}");
    assert!(stats.peak_memory.0 > 0);
}

/// What threaded instances do not do yet is a clear error, never a panic.
#[test]
fn what_threaded_instances_refuse() {
    let _serial = serial();
    let builder = || {
        WasiInstance::builder()
            .module_file(thread_guest("threads"))
            .unwrap()
            .arg("counter")
            .stdout(Output::null())
    };
    let mut instance = builder().build().unwrap();
    let e = instance.call::<(), ()>("_start", ()).unwrap_err();
    assert!(
        matches!(e, Error::Misuse(Misuse::NotForThreaded { what: "call()" })),
        "{e:?}"
    );
    assert!(instance.restart().is_err());
    assert_eq!(instance.run("_start").unwrap(), Exit::Returned);
    // Its threads are over once `run` returns: it does not run again.
    assert!(matches!(instance.run("_start"), Err(Error::Ended { .. })));
}

/// The embedder data of `tests/guests/threads/src/bin/hostcalls.rs`'s host functions.
#[derive(Default, Debug)]
struct Tally {
    total: u64,
    by_thread: [u64; 4],
    /// Calls of `tally` running now, and the most ever at once.
    running: u32,
    most_at_once: u32,
}

/// Adds one to the total, reading and writing it with a yield between (calls that ran
/// at once would lose counts); the new total.
#[hostcall]
fn tally(cx: &mut HostContext<'_, Tally>, thread: u32) -> u64 {
    let data = cx.data_mut();
    data.running += 1;
    data.most_at_once = data.most_at_once.max(data.running);
    let total = data.total;
    std::thread::yield_now();
    data.total = total + 1;
    if let Some(n) = data.by_thread.get_mut(thread as usize) {
        *n += 1;
    }
    data.running -= 1;
    data.total
}

#[hostcall]
fn fill(buf: &mut [u8], byte: u32) {
    buf.fill(byte as u8);
}

#[hostcall]
fn checksum(buf: &[u8]) -> u32 {
    buf.iter().map(|&b| b as u32).sum()
}

#[hostcall]
fn shout(cx: &mut HostContext<'_, Tally>, text: &str) -> String {
    writeln!(cx.stdout(), "host: {text}").unwrap();
    text.to_uppercase()
}

/// Before: refused (`NotForThreaded`). Host functions called by 4 guest threads at
/// once: the calls that take the embedder data take it one at a time (none lost, never
/// two at once); borrowed arguments are copied in and, `&mut`, back out; owned results
/// are placed with the guest's allocator; `cx.stdout()` is the shared stdout.
#[test]
fn host_functions_serve_several_threads_at_once() {
    let _serial = serial();
    let out = Capture::new();
    let mut instance = WasiInstance::builder()
        .module_file(thread_guest("hostcalls"))
        .unwrap()
        .data(Tally::default())
        .hostcall(tally)
        .hostcall(fill)
        .hostcall(checksum)
        .hostcall(shout)
        .stdout(Output::capture(&out))
        .build()
        .unwrap();
    instance.data_mut::<Tally>().unwrap().total = 1000;
    assert_eq!(instance.run("_start").unwrap(), Exit::Returned);
    let text = out.text();
    let (host, guest): (Vec<_>, Vec<_>) = text.lines().partition(|l| l.starts_with("host: "));
    assert_eq!(
        guest,
        [
            "thread 0 ok",
            "thread 1 ok",
            "thread 2 ok",
            "thread 3 ok",
            "tallied 3000"
        ],
        "{text}"
    );
    let mut host = host;
    host.sort();
    assert_eq!(
        host,
        (0..4)
            .map(|t| format!("host: thread {t} ok"))
            .collect::<Vec<_>>()
    );
    let seen = instance.data::<Tally>().unwrap();
    assert_eq!(
        (seen.total, seen.by_thread, seen.most_at_once),
        (3000, [500; 4], 1),
        "{seen:?}"
    );
    // The shared memory through `guest_memory`: copies in and out.
    let mut memory = instance.guest_memory();
    let at = memory.size() as u32 - 64;
    memory.write(at, &0x1122_3344_5566_7788u64).unwrap();
    memory
        .bytes_mut(at + 8, 4)
        .unwrap()
        .copy_from_slice(b"abcd");
    assert_eq!(memory.read::<u64>(at).unwrap(), 0x1122_3344_5566_7788);
    assert_eq!(memory.str(at + 8, 4).unwrap(), "abcd");
    // The last view's write reaches the guest at the instance's next access.
    memory.bytes_mut(at + 12, 2).unwrap().copy_from_slice(b"ef");
    assert_eq!(instance.read_bytes(at + 8, 6).unwrap(), b"abcdef");
    assert_eq!(os_threads(), 0);
}

#[hostcall]
fn bump(count: &mut u64) {
    *count += 1;
}

/// Between runs the instance holds its embedder data: a thread its `_initialize`
/// started waits for it in a host call until `run` (or is stopped waiting, when the
/// instance is dropped without one).
#[test]
fn threads_wait_for_the_data_until_the_run() {
    let _serial = serial();
    let wat = r#"(module
        (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
        (import "env" "memory" (memory 1 1 shared))
        (import "env" "bump" (func $bump))
        (func (export "_initialize") (drop (call $spawn (i32.const 0))))
        ;; Lets the thread bump a while (until it has counted 1000), then returns.
        (func (export "settle")
            (loop $wait
                (call $bump)
                (br_if $wait (i32.lt_u (i32.atomic.load (i32.const 0)) (i32.const 1000)))))
        (func (export "wasi_thread_start") (param i32 i32)
            (loop $forever
                (call $bump)
                (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
                (br $forever))))"#;
    let engine = Engine::shared(&EngineConfig::default()).unwrap();
    let module = Module::from_bytes(&engine, wat).unwrap();
    let build = || {
        WasiInstance::builder()
            .module(&module)
            .data(0u64)
            .hostcall(bump)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    };
    let mut instance = build();
    let start = Instant::now();
    while os_threads() < 1 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(os_threads(), 1, "the thread _initialize spawned");
    let before = *instance.data::<u64>().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        *instance.data::<u64>().unwrap(),
        before,
        "held by the instance"
    );
    *instance.data_mut::<u64>().unwrap() = 5_000_000;
    assert_eq!(instance.run("settle").unwrap(), Exit::Returned);
    // The thread bumped 1000 times or more during the run (a few before it, in the build).
    assert!(*instance.data::<u64>().unwrap() > 5_000_500);
    assert_eq!(os_threads(), 0);
    // Dropped without a run: the thread waiting for the data is stopped.
    let instance = build();
    let start = Instant::now();
    while os_threads() < 1 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(os_threads(), 1, "the thread _initialize spawned");
    drop(instance);
    assert_eq!(os_threads(), 0);
}

/// A real multi-threaded program nobody here wrote: oxipng 9.1.5 (crates.io, its own
/// lock file), built for wasm32-wasip1-threads, whose rayon pool optimises PNGs on
/// several threads. Its output is byte-for-byte that of the same module on one thread.
#[test]
fn oxipng_optimises_on_several_threads_as_on_one() {
    let _serial = serial();
    let wasm = oxipng();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for (i, size) in [(0, 192u32), (1, 256), (2, 320)] {
        std::fs::write(input.join(format!("p{i}.png")), png(size, size, i as u32)).unwrap();
    }
    let mut outputs = Vec::new();
    for threads in ["1", "4"] {
        let out = dir.path().join(format!("out{threads}"));
        std::fs::create_dir(&out).unwrap();
        let exit = WasiInstance::builder()
            .module_file(&wasm)
            .unwrap()
            .env("RAYON_NUM_THREADS", threads)
            .preopen("/in", &input)
            .preopen("/out", &out)
            .args([
                "-o",
                "4",
                "-q",
                "--dir",
                "/out",
                "/in/p0.png",
                "/in/p1.png",
                "/in/p2.png",
            ])
            .stdout(Output::null())
            .stderr(Output::null())
            .run("_start")
            .unwrap();
        assert_eq!(exit, Exit::Returned, "{threads} threads");
        let files: Vec<Vec<u8>> = (0..3)
            .map(|i| std::fs::read(out.join(format!("p{i}.png"))).unwrap())
            .collect();
        for (i, f) in files.iter().enumerate() {
            assert!(f.starts_with(b"\x89PNG\r\n\x1a\n"), "{threads}: p{i}");
            let original = std::fs::metadata(input.join(format!("p{i}.png")))
                .unwrap()
                .len();
            assert!(
                (f.len() as u64) < original,
                "{threads}: p{i} was not made smaller"
            );
        }
        outputs.push(files);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(os_threads(), 0);
}

/// oxipng 9.1.5 built from crates.io for wasm32-wasip1-threads (once per test run): its C
/// part (libdeflate, freestanding) with clang-19.
fn oxipng() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("oxipng");
            let wasm = root.join("bin/oxipng.wasm");
            if wasm.exists() {
                return wasm;
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let out = std::process::Command::new(cargo)
                .args([
                    "install",
                    "--locked",
                    "oxipng",
                    "--version",
                    "=9.1.5",
                    "--no-default-features",
                    "--features",
                    "binary,parallel,zopfli,freestanding",
                    "--target",
                    "wasm32-wasip1-threads",
                    "--root",
                ])
                .arg(&root)
                .env("CC_wasm32_wasip1_threads", "clang-19")
                .env("AR_wasm32_wasip1_threads", "llvm-ar-19")
                .env_remove("CARGO_BUILD_TARGET")
                .env_remove("RUSTFLAGS")
                .output()
                .expect("cannot run cargo install");
            assert!(
                out.status.success(),
                "building oxipng failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            wasm
        })
        .clone()
}

/// A `w`×`h` RGBA PNG (stored, uncompressed deflate) of gradients and noise from `seed`.
fn png(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    for row in 0..h {
        raw.push(0); // filter: none
        for col in 0..w {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let noise = if (row / 16 + col / 16) % 3 == 0 {
                x as u8 & 0x3f
            } else {
                0
            };
            raw.extend_from_slice(&[
                (col * 255 / w) as u8 ^ noise,
                (row * 255 / h) as u8,
                ((row + col) % 256) as u8,
                255,
            ]);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, c) in chunks.iter().enumerate() {
        zlib.push(u8::from(i == chunks.len() - 1));
        zlib.extend_from_slice(&(c.len() as u16).to_le_bytes());
        zlib.extend_from_slice(&(!(c.len() as u16)).to_le_bytes());
        zlib.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &zlib[..]),
        (b"IEND", &[][..]),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Threads a reactor's `_initialize` started (one spinning, one waiting on an atomic)
/// end with the instance when it is dropped without a run: none outlives it.
#[test]
fn dropping_a_threaded_instance_stops_its_threads() {
    let _serial = serial();
    let wat = r#"(module
        (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
        (import "env" "memory" (memory 1 1 shared))
        (func (export "_initialize")
            (drop (call $spawn (i32.const 0)))
            (drop (call $spawn (i32.const 1))))
        (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
            (if (local.get $arg)
                (then (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))
                (else (loop $forever (br $forever))))))"#;
    let instance = WasiInstance::builder().module_bytes(wat).build().unwrap();
    let start = Instant::now();
    while os_threads() < 2 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(os_threads(), 2);
    drop(instance);
    assert_eq!(os_threads(), 0);
}

/// A start function that spawns: the main instance's may (once); a spawned thread's
/// instance's spawn is refused rather than recursing on the host's stack.
#[test]
fn a_start_function_that_spawns_does_not_recurse() {
    let _serial = serial();
    let wat = r#"(module
        (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
        (import "env" "memory" (memory 1 1 shared))
        (func $start
            ;; Count the start functions run, and what their spawns returned.
            (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
            (if (i32.gt_s (call $spawn (i32.const 0)) (i32.const 0))
                (then (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1))))))
        (start $start)
        (func (export "_start"))
        (func (export "wasi_thread_start") (param i32 i32)))"#;
    let mut instance = WasiInstance::builder()
        .module_bytes(wat)
        .max_threads(1000)
        .build()
        .unwrap();
    assert_eq!(instance.run("_start").unwrap(), Exit::Returned);
    // Two start functions ran (the main instance's, the thread's); one spawn succeeded.
    let counts = instance.read_bytes(0, 8).unwrap();
    assert_eq!(counts, [2, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(os_threads(), 0);
}

/// C with POSIX threads: wasi-libc's pthreads (the wasm32-wasip1-threads libc.a rustup
/// ships, Debian trixie's wasi-libc headers; tests/guests/c-threads/build.sh) — a mutex
/// counter over 4 threads and a condvar handoff whose thread returns a value to
/// `pthread_join` — under the CLI and the builder.
#[test]
fn c_pthreads_run() {
    let _serial = serial();
    let wasm = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pthreads.wasm");
    let out = std::process::Command::new("bash")
        .arg(root().join("tests/guests/c-threads/build.sh"))
        .arg(&wasm)
        .output()
        .expect("cannot run build.sh");
    assert!(
        out.status.success(),
        "building pthreads.c failed (scripts/test.sh fetches the headers):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = "counter = 40000 (expected 40000)\n\
                    handoff: sent 42, got reply 43 (thread returned 43)\nOK\n";
    let ran = lucet([s(&wasm)]);
    assert_eq!(
        (ran.status, ran.stdout.as_str()),
        (0, expected),
        "{}",
        ran.stderr
    );
    let captured = Capture::new();
    let exit = WasiInstance::builder()
        .module_file(&wasm)
        .unwrap()
        .stdout(Output::capture(&captured))
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    assert_eq!(captured.text(), expected);
    assert_eq!(os_threads(), 0);
}
