//! The embedding SDK: compile once, instantiate many, capture, threads, reactors.

use crate::support::*;
use lucet_wasi::{Capture, Engine, EngineConfig, Error, Exit, Input, Module, Output, WasiInstance};
use std::time::Duration;

fn engine() -> Engine {
    Engine::shared(&EngineConfig::default()).unwrap()
}

#[test]
fn capture_stdout_and_stderr_with_stdin_from_bytes() {
    let module = Module::from_file(&engine(), rust_guest("shout")).unwrap();
    let (out, err) = (Capture::new(), Capture::new());
    let exit = WasiInstance::builder()
        .module(&module)
        .stdin(Input::bytes("quiet words\n"))
        .stdout(Output::capture(&out))
        .stderr(Output::capture(&err))
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    assert_eq!(out.text(), "QUIET WORDS\n");
    assert_eq!(err.text(), "read 12 bytes\n");
    assert_eq!(out.take(), b"QUIET WORDS\n");
    assert!(out.bytes().is_empty());
}

/// Runs args_env from `module` with per-request args and env; checks its output.
fn one_request(module: &Module, id: usize) {
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module(module)
        .args([format!("request-{id}"), format!("{}", id * 7)])
        .env("GREETING", format!("hello #{id}"))
        .stdin(Input::null())
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    let text = out.text();
    assert_eq!(
        printed_args(&text),
        [
            "args_env.wasm".to_string(),
            format!("request-{id}"),
            format!("{}", id * 7)
        ]
    );
    assert!(text.contains(&format!("GREETING=hello #{id}\n")), "{text}");
}

#[test]
fn one_module_a_thousand_sequential_instances() {
    let module = Module::from_file(&engine(), rust_guest("args_env")).unwrap();
    for id in 0..1000 {
        one_request(&module, id);
    }
}

#[test]
fn eight_threads_of_a_hundred_instances() {
    let module = Module::from_file(&engine(), rust_guest("args_env")).unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let module = module.clone();
            s.spawn(move || {
                for i in 0..100 {
                    one_request(&module, t * 1000 + i);
                }
            });
        }
    });
}

#[test]
fn reactor_exports_are_called_with_types() {
    let module = Module::from_file(&engine(), wat_guest("reactor")).unwrap();
    let mut instance = WasiInstance::builder()
        .module(&module)
        .data(String::from("state"))
        .build()
        .unwrap();
    assert_eq!(instance.call::<(i32, i32), i32>("add", (2, 3)).unwrap(), 5);
    assert_eq!(
        instance.call::<(i32, i32), i32>("add", (-7, 3)).unwrap(),
        -4
    );
    // State persists between calls of one instance.
    assert_eq!(instance.call::<(), i32>("calls", ()).unwrap(), 2);
    let len = instance.call::<i32, i32>("greet", 1000).unwrap() as usize;
    assert_eq!(
        &instance.memory().unwrap()[1000..1000 + len],
        b"hello from the reactor"
    );
    assert_eq!(instance.data::<String>().map(|s| s.as_str()), Some("state"));
    assert_eq!(instance.data::<u32>(), None);

    let e = instance.call::<(i64, i64), i64>("add", (1, 2)).unwrap_err();
    assert!(
        matches!(&e, Error::ExportType { name, .. } if name == "add"),
        "{e:?}"
    );
    let e = instance.call::<(), ()>("missing", ()).unwrap_err();
    assert!(matches!(&e, Error::NoSuchExport { .. }), "{e:?}");
    let e = instance.call::<i32, ()>("quit", 5).unwrap_err();
    assert!(matches!(e, Error::Exited { status: 5 }), "{e:?}");
    assert_eq!(e.exit_code(), 5);
    // A fresh instance has fresh state.
    let mut other = WasiInstance::builder().module(&module).build().unwrap();
    assert_eq!(other.call::<(), i32>("calls", ()).unwrap(), 0);
}

#[test]
fn engine_wide_settings_are_not_silently_ignored() {
    let module = Module::from_file(&engine(), root().join("examples/hello.wat")).unwrap();
    let e = WasiInstance::builder()
        .module(&module)
        .stack(lucet_wasi::MiB(1))
        .build()
        .err()
        .unwrap();
    // Named as the limit the user set, with the engine's value; a limit error (status 2).
    assert!(
        matches!(&e, Error::InvalidLimit { what: "stack size", value, .. } if *value == lucet_wasi::MiB(1).into()),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "stack size 1 MiB: the compiled module's engine has 8 MiB; it is engine-wide: set it \
         in the EngineConfig the module is compiled with"
    );
    assert!(!e.to_string().contains("address space"), "{e}");
    assert_eq!(e.exit_code(), 2);
    let e = WasiInstance::builder()
        .module(&module)
        .heap_address_space(lucet_wasi::GiB(4))
        .build()
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("heap address space 4 GiB: the compiled module's engine has 8 GiB;"),
        "{e}"
    );
    assert!(!e.to_string().contains("stack"), "{e}");
    // Settings equal to the engine's are fine, and max_heap is per instance.
    let ok = WasiInstance::builder()
        .module(&module)
        .stack(lucet_wasi::MiB(8))
        .max_heap(lucet_wasi::MiB(1))
        .stdout(Output::null())
        .run("_start");
    assert_eq!(ok.unwrap(), Exit::Returned);
}

#[test]
fn pooled_engine_runs_instances() {
    let engine = Engine::new(
        &EngineConfig::default()
            .heap_address_space(lucet_wasi::GiB(4))
            .pooling(Some(16)),
    )
    .unwrap();
    let module = Module::from_file(&engine, rust_guest("args_env")).unwrap();
    for id in 0..50 {
        one_request(&module, id);
    }
}

#[test]
fn per_thread_pools_run_instances_on_every_thread_and_refuse_a_full_pool() {
    let engine = Engine::new(
        &EngineConfig::default()
            .pooling(Some(2))
            .pool_per_thread(true),
    )
    .unwrap();
    let module = Module::from_file(&engine, root().join("examples/hello.wat")).unwrap();
    let run = |who: String| {
        let out = Capture::new();
        WasiInstance::builder()
            .module(&module)
            .arg(&who)
            .stdout(Output::capture(&out))
            .run("_start")
            .unwrap();
        assert_eq!(out.text(), format!("hello, {who}!\n"));
    };
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || (0..50).for_each(|i| run(format!("{t}.{i}"))));
        }
    });
    // Two slots per thread: a third instance alive at once on this thread is refused
    // when it is built (instances are instantiated by build), clearly and at once;
    // dropping one frees its slot.
    let build = || {
        WasiInstance::builder()
            .module(&module)
            .stdout(Output::null())
            .build()
    };
    let instance = || build().unwrap();
    let (mut a, mut b) = (instance(), instance());
    a.run("_start").unwrap();
    b.run("_start").unwrap();
    let e = build().err().unwrap();
    assert!(
        matches!(&e, Error::PoolExhausted { source } if source.to_string().contains("limit of 2")),
        "{e:?}"
    );
    assert!(e.to_string().contains("no free instance slot"), "{e}");
    drop(a);
    instance().run("_start").unwrap();
    // Other threads have slots of their own.
    std::thread::scope(|s| {
        s.spawn(|| instance().run("_start").unwrap());
    });
}

#[test]
fn timeout_applies_to_each_call() {
    let engine = Engine::shared(&EngineConfig::default().timeout_capable(true)).unwrap();
    let module = Module::from_file(&engine, rust_guest("spin")).unwrap();
    let e = WasiInstance::builder()
        .module(&module)
        .stdout(Output::null())
        .timeout(Duration::from_millis(200))
        .run("_start")
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

/// Runs `build` on a thread of its own and gives its result, or fails the test if it is
/// not done within a minute (a run the deadline does not end would hang it).
fn within_a_minute<T: Send + 'static>(build: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(build()));
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the run did not end at its deadline")
}

/// A read of a pipe nobody writes to ends at the timeout (before: it blocked in read(2)
/// for as long as the writer kept the pipe open).
#[test]
fn a_blocking_read_of_stdin_ends_at_the_timeout() {
    let (read_end, write_end) = std::io::pipe().unwrap();
    let cat = rust_guest("cat");
    let result = within_a_minute(move || {
        WasiInstance::builder()
            .module_file(cat)
            .unwrap()
            .stdin(Input::from_fd(read_end))
            .stdout(Output::null())
            .timeout(Duration::from_millis(300))
            .run("_start")
    });
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    drop(write_end);
}

/// An embedder's reader that blocks past the timeout holds the guest until it returns
/// (it is the embedder's code); the guest then ends with the timeout, not with the data.
#[test]
fn a_slow_reader_ends_the_guest_with_the_timeout_when_it_returns() {
    struct Slow;
    impl std::io::Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(600));
            buf[0] = b'x';
            Ok(1)
        }
    }
    let out = Capture::new();
    let stdout = Output::capture(&out);
    let cat = rust_guest("cat");
    let result = within_a_minute(move || {
        WasiInstance::builder()
            .module_file(cat)
            .unwrap()
            .stdin(Input::reader(Slow))
            .stdout(stdout)
            .timeout(Duration::from_millis(100))
            .run("_start")
    });
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    // `cat` writes what it read before reading again: the timeout came first.
    assert_eq!(out.text(), "");
}

/// `random_get` of 4 GiB ends at the timeout (before: it filled all of it, seconds past
/// a 200 ms timeout, and returned).
#[test]
fn a_huge_random_get_ends_at_the_timeout() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
        (memory (export "memory") 65536)
        (func (export "_start") (drop (call $random (i32.const 0) (i32.const -1)))))"#;
    let result = within_a_minute(move || {
        WasiInstance::builder()
            .module_bytes(wat)
            .timeout(Duration::from_millis(200))
            .run("_start")
    });
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
}

#[test]
fn a_timeout_needs_a_timeout_capable_engine() {
    // Code compiled without interruption checks cannot be given a timeout: refused at
    // build, never a guest that silently runs forever.
    let module = Module::from_file(&engine(), rust_guest("spin")).unwrap();
    let e = WasiInstance::builder()
        .module(&module)
        .timeout(Duration::from_millis(200))
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(
            &e,
            Error::EngineLacks {
                needed: lucet_wasi::EngineSetting::TimeoutForTimeout
            }
        ),
        "{e:?}"
    );
    // The builder compiling the module itself picks such an engine.
    let e = WasiInstance::builder()
        .module_file(rust_guest("spin"))
        .unwrap()
        .stdout(Output::null())
        .timeout(Duration::from_millis(200))
        .run("_start")
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

#[test]
fn fuel_budget_ends_a_spinning_guest() {
    let spin = rust_guest("spin");
    let e = WasiInstance::builder()
        .module_file(&spin)
        .unwrap()
        .stdout(Output::null())
        .fuel(5_000_000)
        .run("_start")
        .unwrap_err();
    assert!(matches!(e, Error::OutOfFuel { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 134);
    // Enough fuel lets a finite guest finish.
    let exit = WasiInstance::builder()
        .module_file(rust_guest("exit"))
        .unwrap()
        .arg("4")
        .fuel(50_000_000)
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Exited(4));
    // An engine without metering says so instead of ignoring the budget.
    let module = Module::from_file(&engine(), &spin).unwrap();
    let e = WasiInstance::builder()
        .module(&module)
        .fuel(1)
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(
            &e,
            Error::EngineLacks {
                needed: lucet_wasi::EngineSetting::Fuel
            }
        ),
        "{e:?}"
    );
}

/// Tables are capped all together (before: each table at 10M elements, so twenty filled
/// tables held 1.58 GB of host memory under a 64 KiB heap limit), and the embedder can
/// set the cap.
#[test]
fn tables_are_capped_all_together() {
    let wat = r#"(module
        (table $a 0 funcref)
        (table $b 0 funcref)
        (func (export "grow_a") (param i32) (result i32)
            (table.grow $a (ref.null func) (local.get 0)))
        (func (export "grow_b") (param i32) (result i32)
            (table.grow $b (ref.null func) (local.get 0))))"#;
    let mut instance = WasiInstance::builder().module_bytes(wat).build().unwrap();
    assert_eq!(instance.call::<i32, i32>("grow_a", 6_000_000).unwrap(), 0);
    assert_eq!(instance.call::<i32, i32>("grow_b", 6_000_000).unwrap(), -1);
    assert_eq!(instance.call::<i32, i32>("grow_b", 4_000_000).unwrap(), 0);
    assert_eq!(instance.call::<i32, i32>("grow_b", 1).unwrap(), -1);
    // The embedder's cap counts initial sizes too.
    let mut small = WasiInstance::builder()
        .module_bytes(wat)
        .max_table_elements(100)
        .build()
        .unwrap();
    assert_eq!(small.call::<i32, i32>("grow_a", 60).unwrap(), 0);
    assert_eq!(small.call::<i32, i32>("grow_b", 41).unwrap(), -1);
    assert!(WasiInstance::builder()
        .module_bytes("(module (table 200 funcref))")
        .max_table_elements(100)
        .build()
        .is_err());
}

/// A pooled slot keeps memory resident and resets only the pages an instance touched:
/// every new instance still sees fresh memory — data segments as in the module, zeros
/// elsewhere, at the start, in the middle and past the resident 16 MiB.
#[test]
fn pooled_instances_never_see_a_previous_instances_memory() {
    let wat = r#"(module
        (memory (export "memory") 400)
        (data (i32.const 64) "\07")
        ;; Returns the sum of the bytes at 64, 1 MiB + 3 and 20 MiB + 5, then dirties them.
        (func (export "bump") (result i32) (local $sum i32)
            (local.set $sum (i32.add (i32.load8_u (i32.const 64))
                (i32.add (i32.load8_u (i32.const 1048579)) (i32.load8_u (i32.const 20971525)))))
            (i32.store8 (i32.const 64) (i32.const 99))
            (i32.store8 (i32.const 1048579) (i32.const 99))
            (i32.store8 (i32.const 20971525) (i32.const 99))
            (local.get $sum)))"#;
    let engine = Engine::new(&EngineConfig::default().pooling(Some(2))).unwrap();
    let module = Module::from_bytes(&engine, wat).unwrap();
    for round in 0..50 {
        let mut instance = WasiInstance::builder().module(&module).build().unwrap();
        assert_eq!(
            instance.call::<(), i32>("bump", ()).unwrap(),
            7,
            "round {round}"
        );
    }
}
