//! An instance that ended (trap, host-function failure, timeout, out of fuel,
//! `proc_exit`) runs no more: every later run or call is `Error::Ended` with the cause,
//! sync and async; its memory and data stay readable; `restart()` gives a fresh one.
//! Host-function failures keep their error chain and the guest's backtrace.

use lucet_wasi::{
    hostcall, EndCause, Error, Exit, HostcallError, WasiInstance, WasiInstanceBuilder,
};
use std::time::Duration;

#[derive(Debug)]
struct NotFound(String);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no key `{}`", self.0)
    }
}

impl std::error::Error for NotFound {}

/// Fails for odd numbers.
#[hostcall(module = "kv")]
fn lookup(calls: &mut u32, key: u32) -> Result<u32, NotFound> {
    *calls += 1;
    if key % 2 == 1 {
        return Err(NotFound(key.to_string()));
    }
    Ok(key / 2)
}

/// A reactor: `count` bumps a global and a byte at 100; the other exports end it in
/// each way.
const GUEST: &str = r#"(module
    (import "kv" "lookup" (func $lookup (param i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (global $calls (mut i32) (i32.const 0))
    (func (export "count") (result i32)
        (i32.store8 (i32.const 100) (i32.add (i32.load8_u (i32.const 100)) (i32.const 1)))
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (global.get $calls))
    (func $deep (export "trap") unreachable)
    (func (export "fail") (result i32) (call $lookup (i32.const 7)))
    (func (export "spin") (loop $l (br $l)))
    (func (export "exit") (call $exit (i32.const 3))))"#;

fn builder() -> WasiInstanceBuilder {
    WasiInstance::builder()
        .module_bytes(GUEST)
        .hostcall(lookup)
        .data(0u32)
        .timeout(Duration::from_millis(200))
        .fuel(1 << 50)
}

/// Each way to end, the export that takes it and the cause it leaves.
fn ends() -> Vec<(&'static str, EndCause)> {
    vec![
        ("trap", EndCause::Trapped),
        (
            "fail",
            EndCause::HostFunctionFailed {
                function: "kv::lookup".into(),
            },
        ),
        ("spin", EndCause::TimedOut),
        ("exit", EndCause::Exited { status: 3 }),
    ]
}

fn check_ended(instance: &WasiInstance, cause: &EndCause, e: Error) {
    assert!(
        matches!(&e, Error::Ended { cause: c } if c == cause),
        "{cause:?}: {e:?}"
    );
    assert!(
        e.to_string().starts_with("this instance has ended ("),
        "{e}"
    );
    assert_eq!(instance.ended(), Some(cause));
    // A post-mortem: memory and data as the guest left them.
    assert_eq!(instance.memory().unwrap()[100], 1);
    assert!(instance.data::<u32>().is_some());
}

#[test]
fn every_way_to_end_leaves_the_instance_ended_until_restarted() {
    for (export, cause) in ends() {
        let mut instance = builder().build().unwrap();
        assert_eq!(instance.call::<(), i32>("count", ()).unwrap(), 1);
        let ending = if export == "fail" {
            instance.call::<(), i32>(export, ()).map(drop)
        } else {
            instance.call::<(), ()>(export, ())
        };
        assert!(ending.is_err(), "{export}");
        // Before: the same instance went on (`count` gave 2, as if nothing happened).
        let again = instance.call::<(), i32>("count", ()).unwrap_err();
        check_ended(&instance, &cause, again);
        let run = instance.run("count").unwrap_err();
        assert!(
            matches!(run, Error::Ended { .. } | Error::BadEntrypoint { .. }),
            "{run:?}"
        );
        instance.restart().unwrap();
        assert_eq!(instance.ended(), None);
        assert_eq!(
            instance.call::<(), i32>("count", ()).unwrap(),
            1,
            "{export}"
        );
        assert_eq!(instance.memory().unwrap()[100], 1, "fresh memory");
    }
}

#[test]
fn running_out_of_fuel_ends_the_instance() {
    let mut instance = builder().fuel(10_000).build().unwrap();
    assert_eq!(instance.call::<(), i32>("count", ()).unwrap(), 1);
    let e = instance.call::<(), ()>("spin", ()).unwrap_err();
    assert!(matches!(e, Error::OutOfFuel { .. }), "{e:?}");
    let again = instance.call::<(), i32>("count", ()).unwrap_err();
    check_ended(&instance, &EndCause::OutOfFuel, again);
    // A restart gives the fuel budget again.
    instance.restart().unwrap();
    assert_eq!(instance.call::<(), i32>("count", ()).unwrap(), 1);
}

/// A command that exits with a status through `run` has ended too; one that returns
/// has not.
#[test]
fn a_run_that_exits_ends_the_instance_and_one_that_returns_does_not() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start") (call $exit (i32.const 5)))
        (func (export "fine")))"#;
    let mut instance = WasiInstance::builder().module_bytes(wat).build().unwrap();
    assert_eq!(instance.run("fine").unwrap(), Exit::Returned);
    assert_eq!(instance.run("fine").unwrap(), Exit::Returned);
    assert_eq!(instance.run("_start").unwrap(), Exit::Exited(5));
    let e = instance.run("fine").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Ended {
                cause: EndCause::Exited { status: 5 }
            }
        ),
        "{e:?}"
    );
}

#[cfg(feature = "async")]
#[test]
fn async_instances_end_and_restart_alike() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for (export, cause) in ends() {
            let mut instance = builder().build_async().await.unwrap();
            assert_eq!(
                instance.call_async::<(), i32>("count", ()).await.unwrap(),
                1
            );
            let ending = if export == "fail" {
                instance.call_async::<(), i32>(export, ()).await.map(drop)
            } else {
                instance.call_async::<(), ()>(export, ()).await
            };
            assert!(ending.is_err(), "{export}");
            let again = instance
                .call_async::<(), i32>("count", ())
                .await
                .unwrap_err();
            check_ended(&instance, &cause, again);
            // A sync restart of an async instance says what to use.
            assert!(matches!(instance.restart(), Err(Error::Misuse(_))));
            instance.restart_async().await.unwrap();
            assert_eq!(
                instance.call_async::<(), i32>("count", ()).await.unwrap(),
                1
            );
        }
    });
}

/// The restarted instance keeps its preopens and streams at their numbers, even when
/// the guest closed or moved them, and what it opened itself is closed.
#[test]
fn a_restart_gives_back_the_preopens_and_streams() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f"), "x").unwrap();
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "\20\00\00\00\03\00\00\00") ;; iovec: 3 bytes at 32
        (data (i32.const 32) "hi\n")
        (data (i32.const 48) "f")
        ;; Opens f (fd 4), moves the preopen over stdout, closes stderr: returns the errno.
        (func (export "mess") (result i32)
            (drop (call $open (i32.const 3) (i32.const 0) (i32.const 48) (i32.const 1) (i32.const 0)
                (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64)))
            (drop (call $renumber (i32.const 3) (i32.const 1)))
            (call $close (i32.const 2)))
        ;; errno of fd_prestat_get(fd) and of a write to stdout
        (func (export "prestat") (param i32) (result i32) (call $prestat (local.get 0) (i32.const 80)))
        (func (export "hello") (result i32) (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))))"#;
    let out = lucet_wasi::Capture::new();
    let mut instance = WasiInstance::builder()
        .module_bytes(wat)
        .preopen("/sb", tmp.path())
        .stdout(lucet_wasi::Output::capture(&out))
        .build()
        .unwrap();
    assert_eq!(instance.call::<(), i32>("mess", ()).unwrap(), 0);
    assert_eq!(instance.read_bytes(64, 4).unwrap(), 4u32.to_le_bytes());
    assert_eq!(
        instance.call::<i32, i32>("prestat", 1).unwrap(),
        0,
        "the preopen is at 1"
    );
    assert_ne!(
        instance.call::<(), i32>("hello", ()).unwrap(),
        0,
        "stdout is a directory now"
    );
    instance.restart().unwrap();
    assert_eq!(
        instance.call::<i32, i32>("prestat", 3).unwrap(),
        0,
        "the preopen is back at 3"
    );
    assert_eq!(
        instance.call::<i32, i32>("prestat", 4).unwrap(),
        8,
        "fd 4 was closed: badf"
    );
    assert_eq!(instance.call::<(), i32>("hello", ()).unwrap(), 0);
    assert_eq!(out.text(), "hi\n");
}

/// The error a host function returned is reached through `source()`, and the failure
/// carries the guest's backtrace. (Before: `source()` stopped at `Error::HostFunction`,
/// and there was no backtrace.)
#[test]
fn a_host_failure_keeps_its_source_chain_and_the_guest_backtrace() {
    let mut instance = builder().build().unwrap();
    let e = instance.call::<(), i32>("fail", ()).unwrap_err();
    let Error::HostFunction {
        function,
        cause,
        backtrace,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(function, "kv::lookup");
    assert!(matches!(cause, HostcallError::Failed(_)));
    // Walk the chain as anyhow/eyre do, and downcast the user's error.
    let mut chain = std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    });
    let found = chain.find_map(|e| e.downcast_ref::<NotFound>());
    assert_eq!(found.map(|n| n.0.as_str()), Some("7"));
    assert!(!backtrace.is_empty(), "no guest backtrace");
    assert_eq!(e.to_string(), "host function `kv::lookup`: no key `7`");
}
