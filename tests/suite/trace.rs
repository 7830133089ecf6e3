//! Watching a guest: the call trace (`--trace`, `WasiInstanceBuilder::trace`), its
//! filter, the runtime's `tracing` log (RUST_LOG) and run statistics (`--stats`,
//! `WasiInstance::stats`).

use crate::support::*;
use lucet_wasi::{hostcall, Capture, Error, Exit, Output, TraceFilter, WasiInstance};

/// The trace with what varies from run to run masked: durations (`<0.000012>` →
/// `<T>`) and guest addresses (`0x10670` → `0xADDR`: where wasi-libc's buffers land is
/// the toolchain's business).
fn masked(trace: &str) -> String {
    let mut out = String::new();
    for line in trace.lines() {
        let line = match line.rfind(" <") {
            Some(i) if line.ends_with('>') && line[i + 2..line.len() - 1].contains('.') => {
                format!("{} <T>", &line[..i])
            }
            _ => line.to_string(),
        };
        let mut rest = line.as_str();
        while let Some(i) = rest.find("0x") {
            out.push_str(&rest[..i]);
            out.push_str("0xADDR");
            rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// A preopen for the file-system guest: `in.txt` holds "hello\n".
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "hello\n").unwrap();
    dir
}

const EXPECTED_FS_TRACE: &str = r#"fd_prestat_get(3</sandbox>) = 0 (prestat {DIR, name_len 8}) <T>
fd_prestat_dir_name(3</sandbox>, 0xADDR, 8) = 0 (name "/sandbox") <T>
fd_prestat_get(4) = EBADF <T>
fd_fdstat_get(3</sandbox>) = 0 (stat {DIRECTORY, flags 0}) <T>
path_open(3</sandbox>, SYMLINK_FOLLOW, "in.txt", 0, ALL&~(FD_DATASYNC|FD_WRITE|FD_ALLOCATE|FD_FILESTAT_SET_SIZE|SOCK_SHUTDOWN|SOCK_ACCEPT), ALL&~(SOCK_SHUTDOWN|SOCK_ACCEPT), 0) = 0 (fd 4</sandbox/in.txt>) <T>
fd_read(4</sandbox/in.txt>, [1 iovec, 64 bytes]) = 0 (nread 6, data "hello\n") <T>
fd_close(4</sandbox/in.txt>) = 0 <T>
fd_fdstat_get(3</sandbox>) = 0 (stat {DIRECTORY, flags 0}) <T>
path_open(3</sandbox>, SYMLINK_FOLLOW, "missing.txt", 0, ALL&~(FD_DATASYNC|FD_WRITE|FD_ALLOCATE|FD_FILESTAT_SET_SIZE|SOCK_SHUTDOWN|SOCK_ACCEPT), ALL&~(SOCK_SHUTDOWN|SOCK_ACCEPT), 0) = ENOENT <T>
fd_fdstat_get(3</sandbox>) = 0 (stat {DIRECTORY, flags 0}) <T>
path_open(3</sandbox>, SYMLINK_FOLLOW, "out.txt", CREAT|TRUNC, ALL&~(FD_READ|FD_READDIR|SOCK_SHUTDOWN|SOCK_ACCEPT), ALL&~(SOCK_SHUTDOWN|SOCK_ACCEPT), 0) = 0 (fd 4</sandbox/out.txt>) <T>
fd_write(4</sandbox/out.txt>, "written\n" (1 iovec, 8 bytes)) = 0 (nwritten 8) <T>
fd_close(4</sandbox/out.txt>) = 0 <T>
fd_fdstat_get(3</sandbox>) = 0 (stat {DIRECTORY, flags 0}) <T>
path_open(3</sandbox>, SYMLINK_FOLLOW, ".", DIRECTORY, ALL&~(FD_DATASYNC|FD_WRITE|FD_ALLOCATE|FD_FILESTAT_SET_SIZE|SOCK_SHUTDOWN|SOCK_ACCEPT), ALL&~(SOCK_SHUTDOWN|SOCK_ACCEPT), NONBLOCK) = 0 (fd 4</sandbox>) <T>
fd_readdir(4</sandbox>, 0xADDR, 4096, 0) = 0 (bufused 112) <T>
fd_close(4</sandbox>) = 0 <T>
path_unlink_file(3</sandbox>, "out.txt") = 0 <T>
fd_write(1<stdout>, "done\n" (1 iovec, 5 bytes)) = 0 (nwritten 5) <T>
"#;

/// A C guest that opens, reads, lists and removes files (and fails once) traced through
/// the library: every call in order, decoded, fds with their guest paths.
#[test]
fn c_guest_trace_matches_the_expected_trace() {
    let dir = sandbox();
    let (trace, stdout) = (Capture::new(), Capture::new());
    let exit = WasiInstance::builder()
        .module_file(c_guest("trace_fs"))
        .unwrap()
        .preopen("/sandbox", dir.path())
        .stdout(Output::capture(&stdout))
        .trace(trace.clone())
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    assert_eq!(stdout.text(), "done\n");
    assert_eq!(masked(&trace.text()), EXPECTED_FS_TRACE);
    assert!(!dir.path().join("out.txt").exists());
}

/// The same through the CLI, filtered: only the calls named, on stderr after nothing
/// else; the guest's own output unchanged on stdout.
#[test]
fn cli_trace_filter_shows_only_the_calls_named() {
    let dir = sandbox();
    let r = lucet([
        "--trace-filter=path_open,fd_readdir".as_ref(),
        "--dir".as_ref(),
        format!("/sandbox:{}", dir.path().display()).as_ref(),
        c_guest("trace_fs").as_os_str(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "done\n");
    let names: Vec<&str> = r
        .stderr
        .lines()
        .map(|l| l.split('(').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "path_open",
            "path_open",
            "path_open",
            "path_open",
            "fd_readdir"
        ]
    );
    assert!(r.stderr.contains(r#""missing.txt""#) && r.stderr.contains(") = ENOENT <"));
}

/// `--trace=FILE` writes the trace to FILE and nothing to stderr.
#[test]
fn cli_trace_to_a_file() {
    let dir = sandbox();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("trace.txt");
    let r = lucet([
        format!("--trace={}", file.display()).as_ref(),
        "--dir".as_ref(),
        format!("/sandbox:{}", dir.path().display()).as_ref(),
        c_guest("trace_fs").as_os_str(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("done\n", ""));
    let trace = std::fs::read_to_string(&file).unwrap();
    assert_eq!(masked(&trace), EXPECTED_FS_TRACE);
}

/// A filter naming no WASI function is a usage error, for the CLI and the library.
#[test]
fn unknown_names_in_a_filter_are_refused() {
    let r = lucet(["--trace-filter=path_opne", "x.wasm"]);
    assert_eq!(r.status, 2);
    assert!(r
        .stderr
        .contains("`path_opne` is not a wasi_snapshot_preview1 function"));

    let wat = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;
    let err = WasiInstance::builder()
        .module_bytes(wat)
        .trace(Capture::new())
        .trace_filter(TraceFilter::only(["fd_write", "nope"]))
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, Error::TraceFilter { name: Some(n) } if n == "nope"));
}

/// Guest bytes that would drive a terminal reach the trace escaped, and only a prefix.
#[test]
fn binary_output_is_escaped_in_the_trace() {
    let r = lucet(["--trace".as_ref(), c_guest("trace_binary").as_os_str()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("fd_write("))
        .unwrap();
    assert!(
        line.starts_with(
            r#"fd_write(1<stdout>, "\x1b[2J\x1b]0;pwned\x07\x00\xff\xfe\r\nand then a lo"... (1 iovec, 53 bytes)) = 0 (nwritten 53) <"#
        ),
        "{line}"
    );
    // Nothing but printable ASCII and line ends in the whole trace.
    assert!(r
        .stderr
        .bytes()
        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)));
}

/// Bad pointers in a traced call: the trace reads nothing out of bounds, shows
/// `<fault>`, and the call traps as it would untraced.
#[test]
fn bad_pointers_show_as_faults() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_write"
            (func $write (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start")
            ;; an iovec array beyond memory: decoding reads nothing, the call traps
            (drop (call $write (i32.const 1) (i32.const 0xfffffff0) (i32.const 2) (i32.const 0)))))"#;
    let trace = Capture::new();
    let err = WasiInstance::builder()
        .module_bytes(wat)
        .stdout(Output::null())
        .trace(trace.clone())
        .run("_start")
        .unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err}");
    let text = trace.text();
    assert!(
        text.starts_with("fd_write(1<stdout>, 0xfffffff0 <fault>) = <trap: "),
        "{text}"
    );

    let wat = r#"(module
        (import "wasi_snapshot_preview1" "path_open"
            (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start")
            (drop (call $open (i32.const 3) (i32.const 0) (i32.const 65530) (i32.const 4000)
                (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 16)))))"#;
    let trace = Capture::new();
    let _ = WasiInstance::builder()
        .module_bytes(wat)
        .trace(trace.clone())
        .run("_start");
    assert!(
        trace
            .text()
            .starts_with("path_open(3, 0, 0xfffa <fault>, 0, 0, 0, 0) = "),
        "{}",
        trace.text()
    );
}

#[hostcall(module = "app")]
fn greet(name: &str, times: u32) -> u32 {
    name.len() as u32 * times
}

/// Host functions appear in the trace with their parameters, and in the counts.
#[test]
fn hostcalls_are_traced_and_counted() {
    let wat = r#"(module
        (import "app" "greet" (func $greet (param i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "wor\1bld")
        (func (export "_start")
            (drop (call $greet (i32.const 16) (i32.const 6) (i32.const 3)))
            (drop (call $greet (i32.const 16) (i32.const 3) (i32.const 1)))))"#;
    let trace = Capture::new();
    let mut instance = WasiInstance::builder()
        .module_bytes(wat)
        .hostcall(greet)
        .trace(trace.clone())
        .trace_filter("app::greet".parse().unwrap())
        .collect_stats()
        .build()
        .unwrap();
    instance.run("_start").unwrap();
    assert_eq!(
        masked(&trace.text()),
        "app::greet(name \"wor\\x1bld\", times 3) = 18 <T>\n\
         app::greet(name \"wor\", times 1) = 3 <T>\n"
    );
    assert_eq!(instance.stats().unwrap().calls("app::greet"), 2);
}

/// Without RUST_LOG the CLI adds nothing to stderr; with it, the lifecycle events.
#[test]
fn rust_log_shows_the_lifecycle_and_nothing_without_it() {
    let guest = c_guest("trace_binary");
    let quiet = ran(cli().arg(&guest).output().unwrap());
    assert_eq!((quiet.status, quiet.stderr.as_str()), (0, ""));

    // A fresh cache: the first run compiles (a miss), the second maps (a hit).
    let cache = tempfile::tempdir().unwrap();
    let logged = |cmd: &mut std::process::Command| {
        let out = cmd
            .env("RUST_LOG", "lucet_wasi=debug")
            .env("LUCET_WASI_CACHE_DIR", cache.path())
            .arg(&guest)
            .output()
            .unwrap();
        ran(out)
    };
    let first = logged(&mut cli());
    assert_eq!(first.status, 0);
    for event in [
        "compile cache miss",
        "compiled",
        "running",
        "instantiated",
        "returned status=0",
    ] {
        assert!(first.stderr.contains(event), "{event}: {}", first.stderr);
    }
    let second = logged(&mut cli());
    assert!(
        second.stderr.contains("compile cache hit"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("compiled"), "{}", second.stderr);

    // A trap is logged as the run's end too.
    let wat = tempfile::Builder::new().suffix(".wat").tempfile().unwrap();
    std::fs::write(
        wat.path(),
        r#"(module (func (export "_start") unreachable))"#,
    )
    .unwrap();
    let trapped = ran(cli()
        .env("RUST_LOG", "lucet_wasi=debug")
        .arg(wat.path())
        .output()
        .unwrap());
    assert_eq!(trapped.status, 134);
    assert!(
        trapped.stderr.contains("failed error="),
        "{}",
        trapped.stderr
    );
}

/// `--stats`: the calls the guest made by name and its memory growth.
#[test]
fn cli_stats_report_calls_and_peak_memory() {
    let r = lucet(["--stats".as_ref(), c_guest("trace_stats").as_os_str()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let pages: u64 = r
        .stdout
        .trim()
        .strip_prefix("initial pages ")
        .unwrap()
        .parse()
        .unwrap();
    let peak = (pages + 16) * 65536;
    let stats = r.stderr;
    assert!(
        stats.starts_with("lucet-wasi stats:\nwall time "),
        "{stats}"
    );
    assert!(stats.contains("\ncpu time "), "{stats}");
    assert!(stats.contains(&format!("({peak} bytes)")), "{stats}");
    assert!(stats.contains("fuel used       (not metered)"), "{stats}");
    let count = |name: &str| -> u64 {
        stats
            .lines()
            .find_map(|l| l.trim().strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(count("sched_yield"), 3, "{stats}");
    assert_eq!(count("clock_time_get"), 7, "{stats}");
    assert_eq!(count("fd_write"), 1, "{stats}");
}

/// The library's `RunStats`: the same numbers, and fuel when metered.
#[test]
fn library_stats_with_fuel() {
    let stdout = Capture::new();
    let mut instance = WasiInstance::builder()
        .module_file(c_guest("trace_stats"))
        .unwrap()
        .stdout(Output::capture(&stdout))
        .fuel(10_000_000)
        .collect_stats()
        .build()
        .unwrap();
    assert_eq!(instance.run("_start").unwrap(), Exit::Returned);
    let pages: u64 = stdout.text().trim()["initial pages ".len()..]
        .parse()
        .unwrap();
    let stats = instance.stats().unwrap();
    assert_eq!(stats.peak_memory.0, (pages + 16) * 65536);
    assert_eq!(stats.calls("sched_yield"), 3);
    assert_eq!(stats.calls("clock_time_get"), 7);
    assert_eq!(stats.calls("path_open"), 0);
    let fuel = stats.fuel_used.expect("metered");
    assert!(fuel > 0 && fuel < 10_000_000, "{fuel}");
    assert!(stats.wall > std::time::Duration::ZERO);
    assert!(stats.to_string().contains("\n  clock_time_get "));

    // Not asked for: none.
    let mut plain = WasiInstance::builder()
        .module_file(c_guest("trace_stats"))
        .unwrap()
        .stdout(Output::null())
        .build()
        .unwrap();
    plain.run("_start").unwrap();
    assert!(plain.stats().is_none());
}

/// `proc_exit` ends the trace with the status; enum arguments show by name, and values
/// out of range as numbers.
#[test]
fn exit_and_enums_are_traced() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "clock_time_get"
            (func $time (param i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start")
            (drop (call $time (i32.const 1) (i64.const 1000) (i32.const 8)))
            (drop (call $time (i32.const 9) (i64.const 0) (i32.const 8)))
            (call $exit (i32.const 3))))"#;
    let trace = Capture::new();
    let exit = WasiInstance::builder()
        .module_bytes(wat)
        .trace(trace.clone())
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Exited(3));
    let text = masked(&trace.text());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("clock_time_get(MONOTONIC, 1000) = 0 (time "),
        "{text}"
    );
    assert_eq!(
        lines[1..],
        [
            "clock_time_get(9, 0) = EINVAL <T>",
            "proc_exit(3) = <exit 3> <T>"
        ]
    );
}

/// Async instances trace and count like sync ones: the same C guest gives the same
/// trace, and the same stats.
#[cfg(feature = "async")]
mod asynchronous {
    use super::*;
    use lucet_wasi::{Engine, EngineConfig, Input, Module};
    use std::io::Write as _;
    use std::time::Duration;

    fn current_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn an_async_instance_traces_like_a_sync_one() {
        let dir = sandbox();
        let (trace, stdout) = (Capture::new(), Capture::new());
        let exit = current_thread().block_on(async {
            WasiInstance::builder()
                .module_file(c_guest("trace_fs"))
                .unwrap()
                .preopen("/sandbox", dir.path())
                .stdout(Output::capture(&stdout))
                .trace(trace.clone())
                .run_async("_start")
                .await
                .unwrap()
        });
        assert_eq!(exit, Exit::Returned);
        assert_eq!(stdout.text(), "done\n");
        assert_eq!(masked(&trace.text()), EXPECTED_FS_TRACE);
    }

    /// A read that waits on the executor is tried, awaited and made again: the trace
    /// and the counts show it once, as a sync run does.
    #[test]
    fn a_call_retried_after_an_async_wait_shows_once() {
        let engine = Engine::shared(&EngineConfig::default().timeout_capable(true)).unwrap();
        let module = Module::from_file(&engine, rust_guest("cat")).unwrap();
        // Sync: the pipe is full before the guest reads.
        let (read_end, mut write_end) = std::io::pipe().unwrap();
        write_end.write_all(b"piped\n").unwrap();
        drop(write_end);
        let sync_trace = Capture::new();
        let mut sync = WasiInstance::builder()
            .module(&module)
            .stdin(Input::from_fd(read_end))
            .stdout(Output::null())
            .trace(sync_trace.clone())
            .collect_stats()
            .build()
            .unwrap();
        assert_eq!(sync.run("_start").unwrap(), Exit::Returned);
        // Async: the pipe fills only after the guest has started waiting on it.
        let async_trace = Capture::new();
        let (out, stats) = current_thread().block_on(async {
            let (read_end, mut write_end) = std::io::pipe().unwrap();
            let writer = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                write_end.write_all(b"piped\n").unwrap();
            });
            let out = Capture::new();
            let mut instance = WasiInstance::builder()
                .module(&module)
                .stdin(Input::from_fd(read_end))
                .stdout(Output::capture(&out))
                .trace(async_trace.clone())
                .collect_stats()
                .build_async()
                .await
                .unwrap();
            assert_eq!(instance.run_async("_start").await.unwrap(), Exit::Returned);
            writer.await.unwrap();
            (out.text(), instance.stats().unwrap())
        });
        assert_eq!(out, "piped\n");
        assert!(
            async_trace.text().contains("fd_read(0<stdin>"),
            "{}",
            async_trace.text()
        );
        assert_eq!(masked(&async_trace.text()), masked(&sync_trace.text()));
        let sync_stats = sync.stats().unwrap();
        assert_eq!(stats.syscalls, sync_stats.syscalls);
        assert!(stats.calls("fd_read") >= 2, "{stats}");
        // It waited about 50 ms for the data, computing almost none of it.
        assert!(stats.wall >= Duration::from_millis(40), "{stats}");
        assert!(stats.cpu < stats.wall, "{stats}");
    }

    #[test]
    fn async_stats_count_calls_memory_and_fuel() {
        let stdout = Capture::new();
        let stats = current_thread().block_on(async {
            let mut instance = WasiInstance::builder()
                .module_file(c_guest("trace_stats"))
                .unwrap()
                .stdout(Output::capture(&stdout))
                .fuel(10_000_000)
                .collect_stats()
                .build_async()
                .await
                .unwrap();
            assert_eq!(instance.run_async("_start").await.unwrap(), Exit::Returned);
            instance.stats().unwrap()
        });
        let pages: u64 = stdout.text().trim()["initial pages ".len()..]
            .parse()
            .unwrap();
        assert_eq!(stats.peak_memory.0, (pages + 16) * 65536);
        assert_eq!(stats.calls("sched_yield"), 3);
        assert_eq!(stats.calls("clock_time_get"), 7);
        let fuel = stats.fuel_used.expect("metered");
        assert!(fuel > 0 && fuel < 10_000_000, "{fuel}");
        assert!(stats.wall > Duration::ZERO);
    }
}
