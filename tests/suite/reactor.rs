//! Reactors: `_initialize` once at build, then the host drives exported functions through
//! guest memory (allocate in the guest, write the input, call, read the output).

use crate::support::*;
use lucet_wasi::{Error, HostcallError, WasiInstance};
use std::path::PathBuf;

/// examples/reactor/greet.c, built as a reactor exporting its allocator.
fn c_reactor() -> PathBuf {
    c_program(
        &root().join("examples/reactor/greet.c"),
        "greet",
        &[
            "-mexec-model=reactor",
            "-Wl,--export=malloc",
            "-Wl,--export=free",
        ],
    )
}

#[test]
fn reactor_example_drives_the_c_reactor() {
    let out = example("reactor")
        .arg(c_reactor())
        .args(["ada", "grace"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "constructors ran 1 time(s)\nHello, ADA!\nHello, GRACE!\nsum of [1, 2, 3, 4] = 10\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
}

#[test]
fn c_reactor_initialises_once_and_serves_a_thousand_calls() {
    let mut guest = WasiInstance::builder()
        .module_file(c_reactor())
        .unwrap()
        .build()
        .unwrap();
    // The static constructor ran, through _initialize, at build.
    assert_eq!(guest.call::<(), i32>("constructed", ()).unwrap(), 1);
    let heap_after_first = {
        let mut size = 0;
        for i in 0..1000u32 {
            let name = format!("visitor number {i}");
            let len = name.len() as u32;
            let input: u32 = guest.call("malloc", len).unwrap();
            assert_ne!(input, 0, "malloc failed at call {i}");
            guest.write_bytes(input, name.as_bytes()).unwrap();
            let output: u32 = guest.call("greet", (input, len)).unwrap();
            assert_ne!(output, 0, "greet failed at call {i}");
            let out_len: u32 = guest.call("last_len", ()).unwrap();
            assert_eq!(
                guest.read_string(output, out_len).unwrap(),
                format!("Hello, VISITOR NUMBER {i}!")
            );
            guest.call::<u32, ()>("free", input).unwrap();
            guest.call::<u32, ()>("free", output).unwrap();
            if i == 0 {
                size = guest.memory().unwrap().len();
            }
        }
        size
    };
    // Freed memory is reused: the heap did not grow with the calls.
    assert_eq!(guest.memory().unwrap().len(), heap_after_first);
    assert_eq!(guest.call::<(), i32>("constructed", ()).unwrap(), 1);
    // Running it again would construct twice: refused.
    let e = guest.call::<(), ()>("_initialize", ()).unwrap_err();
    assert!(
        matches!(&e, Error::Misuse(lucet_wasi::Misuse::InitializeAgain)),
        "{e}"
    );
    assert_eq!(guest.call::<(), i32>("constructed", ()).unwrap(), 1);
}

#[test]
fn memory_mut_writes_are_seen_by_the_guest_and_bad_ranges_are_errors() {
    let mut guest = WasiInstance::builder()
        .module_file(c_reactor())
        .unwrap()
        .build()
        .unwrap();
    let p: u32 = guest.call("malloc", 4u32).unwrap();
    guest.memory_mut().unwrap()[p as usize..][..4].copy_from_slice(&[10, 20, 30, 40]);
    assert_eq!(guest.call::<(u32, u32), u32>("sum", (p, 4)).unwrap(), 100);
    // The typed accessor writes as host functions do.
    guest.guest_memory().write(p, &0x0101_0101u32).unwrap();
    assert_eq!(guest.call::<(u32, u32), u32>("sum", (p, 4)).unwrap(), 4);

    let size = guest.memory().unwrap().len() as u32;
    let e = guest.write_bytes(size - 2, &[1, 2, 3, 4]).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::GuestMemory(HostcallError::OutOfBounds { ptr, len: 4, .. }) if *ptr == size - 2
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "guest memory: guest range {:#x}+4 is outside the guest's {size}-byte memory",
            size - 2
        )
    );
    // Nothing was written past the check.
    assert_eq!(&guest.memory().unwrap()[size as usize - 2..], &[0, 0]);
    let e = guest.read_bytes(u32::MAX, 2).unwrap_err();
    assert!(
        matches!(&e, Error::GuestMemory(HostcallError::OutOfBounds { .. })),
        "{e:?}"
    );
    guest.write_bytes(p, &[0xff, 0xfe]).unwrap();
    let e = guest.read_string(p, 2).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::GuestMemory(HostcallError::NotUtf8 { valid_up_to: 0, .. })
        ),
        "{e:?}"
    );
    // The instance is unharmed.
    assert_eq!(guest.call::<(u32, u32), u32>("sum", (p, 2)).unwrap(), 0x1fd);
}

#[test]
fn a_command_never_gets_initialize_and_a_reactor_initialises_before_memory_access() {
    // A module exporting both is a command: _initialize is not called for it.
    let both = r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (global $inits (mut i32) (i32.const 0))
        (func (export "_initialize") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))
        (func (export "_start") (call $exit (i32.add (i32.const 40) (global.get $inits)))))"#;
    let exit = WasiInstance::builder()
        .module_bytes(both)
        .run("_start")
        .unwrap();
    assert_eq!(exit, lucet_wasi::Exit::Exited(40));

    // A reactor's _initialize runs at build: its memory is initialised before the host
    // reads it, and a trap there fails the build with the trap.
    let reactor = r#"(module
        (memory (export "memory") 1)
        (func (export "_initialize") (i32.store8 (i32.const 7) (i32.const 42))))"#;
    let guest = WasiInstance::builder()
        .module_bytes(reactor)
        .build()
        .unwrap();
    assert_eq!(guest.memory().unwrap()[7], 42);
    let failing = r#"(module (func $boom unreachable) (func (export "_initialize") (call $boom)))"#;
    let e = WasiInstance::builder()
        .module_bytes(failing)
        .build()
        .err()
        .unwrap();
    match e {
        Error::Trap {
            message, backtrace, ..
        } => {
            assert_eq!(message, "wasm `unreachable` instruction executed");
            assert_eq!(backtrace.frames()[0].function.as_deref(), Some("boom"));
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}
