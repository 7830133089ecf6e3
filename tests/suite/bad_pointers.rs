//! The one trap of the syscall layer: every preview1 function that takes a pointer,
//! given an out-of-bounds one (all other arguments valid), ends the guest with one line
//! naming the call, the pointer's role, the pointer and the memory, then the wasm
//! backtrace, status 134; never Wasmtime's raw error chain.

use crate::support::*;
use lucet_wasi::{Error, Output, WasiInstance};
use std::io::Write;
use std::process::Stdio;

/// (function, argument made bad, role in the message, bytes of the first access that
/// failed: a struct is read or written field by field, so for a struct it is the size of
/// its first field).
const CASES: &[(&str, &str, &str, u32)] = &[
    ("args_get", "argv", "pointer array", 4),
    ("args_get", "argv_buf", "string buffer", 35), // "bad_pointer.wasm\0args_get\0argv_buf\0"
    ("args_sizes_get", "argc", "result pointer", 4),
    ("args_sizes_get", "argv_buf_size", "result pointer", 4),
    ("environ_get", "environ", "pointer array", 4),
    ("environ_get", "environ_buf", "string buffer", 4),
    ("environ_sizes_get", "count", "result pointer", 4),
    ("environ_sizes_get", "buf_size", "result pointer", 4),
    ("clock_res_get", "result", "result pointer", 8),
    ("clock_time_get", "result", "result pointer", 8),
    ("fd_fdstat_get", "result", "result pointer", 1),
    ("fd_filestat_get", "result", "result pointer", 8),
    ("fd_prestat_get", "result", "result pointer", 1),
    ("fd_prestat_dir_name", "path", "buffer", 8),
    ("fd_seek", "result", "result pointer", 8),
    ("fd_tell", "result", "result pointer", 8),
    ("fd_read", "iovs", "iovec array", 4),
    ("fd_read", "buf", "iovec buffer", 16),
    ("fd_read", "nread", "result pointer", 4),
    ("fd_pread", "iovs", "iovec array", 4),
    ("fd_pread", "buf", "iovec buffer", 16),
    ("fd_pread", "nread", "result pointer", 4),
    ("fd_write", "iovs", "iovec array", 4),
    ("fd_write", "buf", "iovec buffer", 16),
    ("fd_write", "nwritten", "result pointer", 4),
    ("fd_pwrite", "iovs", "iovec array", 4),
    ("fd_pwrite", "buf", "iovec buffer", 16),
    ("fd_pwrite", "nwritten", "result pointer", 4),
    ("fd_readdir", "buf", "buffer", 256),
    ("fd_readdir", "bufused", "result pointer", 4),
    ("path_create_directory", "path", "path", 3),
    ("path_filestat_get", "path", "path", 1),
    ("path_filestat_get", "result", "result pointer", 8),
    ("path_filestat_set_times", "path", "path", 1),
    ("path_link", "old_path", "path", 1),
    ("path_link", "new_path", "path", 1),
    ("path_open", "path", "path", 1),
    ("path_open", "fd", "result pointer", 4),
    ("path_readlink", "path", "path", 1),
    ("path_readlink", "buf", "buffer", 1),
    ("path_readlink", "bufused", "result pointer", 4),
    ("path_remove_directory", "path", "path", 1),
    ("path_rename", "old_path", "path", 1),
    ("path_rename", "new_path", "path", 1),
    ("path_symlink", "old_path", "path", 1),
    ("path_symlink", "new_path", "path", 1),
    ("path_unlink_file", "path", "path", 1),
    ("poll_oneoff", "in", "subscription array", 8),
    ("poll_oneoff", "out", "event array", 8),
    ("poll_oneoff", "nevents", "result pointer", 4),
    ("random_get", "buf", "buffer", 16),
    ("sock_accept", "fd", "result pointer", 4),
    ("sock_recv", "ri_data", "iovec array", 4),
    ("sock_recv", "buf", "iovec buffer", 16),
    ("sock_recv", "ro_datalen", "result pointer", 4),
    ("sock_send", "si_data", "iovec array", 4),
    ("sock_send", "buf", "iovec buffer", 16),
    ("sock_send", "so_datalen", "result pointer", 4),
];

/// A sandbox with a file `f`, a directory `d` and a symlink `l` to `f`.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"some bytes to read").unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    std::os::unix::fs::symlink("f", dir.path().join("l")).unwrap();
    dir
}

/// Runs one case through the CLI; sockets get a client that connects and sends.
fn run_case(func: &str, arg: &str) -> Ran {
    let dir = sandbox();
    let mut cmd = cli();
    cmd.arg(format!("--dir=/sandbox:{}", dir.path().display()))
        .args(["--env", "K=V", "--timeout", "20s"]);
    let sockets = func.starts_with("sock_");
    let port = if sockets {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        cmd.arg(format!("--tcplisten=127.0.0.1:{port}"));
        port
    } else {
        0
    };
    cmd.arg(rust_guest("bad_pointer"))
        .args(["--", func, arg])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let client = sockets.then(|| {
        std::thread::spawn(move || {
            for _ in 0..400 {
                if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                    let _ = c.write_all(b"hello");
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(c) = client {
        c.join().unwrap();
    }
    ran(out)
}

/// `outside the guest's 1.1 MiB memory`: a size with a unit.
fn names_memory_size(rest: &str) -> bool {
    let Some(size) = rest
        .strip_prefix("is outside the guest's ")
        .and_then(|r| r.strip_suffix(" memory"))
    else {
        return false;
    };
    let mut parts = size.split(' ');
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    n.parse::<f64>().is_ok() && ["KiB", "MiB", "GiB"].contains(&unit)
}

#[test]
fn every_bad_pointer_traps_with_one_line() {
    let mut wrong = Vec::new();
    for &(func, arg, role, len) in CASES {
        let r = run_case(func, arg);
        let first = r.stderr.lines().next().unwrap_or("");
        let bytes = if len == 1 { "byte" } else { "bytes" };
        let prefix = format!("error: wasm trap: {func}: {role} 0xfffffff0 ({len} {bytes}) ");
        let ok = r.status == 134
            && first.strip_prefix(&prefix).is_some_and(names_memory_size)
            && r.stderr.lines().nth(1) == Some("wasm backtrace:")
            && r.stderr.lines().skip(2).all(|l| l.starts_with("  "))
            && !r.stderr.contains("error while executing")
            && r.stdout.is_empty();
        if !ok {
            wrong.push(format!(
                "{func} {arg}: status {}, want line 1 to start `{prefix}`:\n{}{}",
                r.status, r.stderr, r.stdout
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn misaligned_result_pointer_traps_with_one_line() {
    let r = run_case("clock_time_get", "misaligned");
    assert_eq!(r.status, 134, "{}", r.stderr);
    let first = r.stderr.lines().next().unwrap();
    assert!(
        first.starts_with("error: wasm trap: clock_time_get: result pointer 0x")
            && first.ends_with(" is not 8-byte aligned"),
        "{}",
        r.stderr
    );
}

#[test]
fn library_trap_carries_the_same_message() {
    let dir = sandbox();
    let err = WasiInstance::builder()
        .module_file(rust_guest("bad_pointer"))
        .unwrap()
        .args(["clock_time_get", "result"])
        .preopen("/sandbox", dir.path())
        .stdout(Output::null())
        .run("_start")
        .unwrap_err();
    match &err {
        Error::Trap {
            message, backtrace, ..
        } => {
            let rest = message
                .strip_prefix("clock_time_get: result pointer 0xfffffff0 (8 bytes) ")
                .unwrap_or_else(|| panic!("{message}"));
            assert!(names_memory_size(rest), "{message}");
            assert!(
                backtrace.to_string().contains("bad_pointer::main"),
                "{backtrace}"
            );
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(err.exit_code(), 134);
}
