//! The embedding API, end to end, with real guest programs.

use crate::support::*;
use lucet_wasi::{Bytes, Capture, Error, Exit, Input, KiB, MiB, Output, WasiInstance};
use std::time::Duration;

/// Runs a guest with stdout captured; returns the outcome and the output.
fn capture(builder: lucet_wasi::WasiInstanceBuilder) -> (Result<Exit, Error>, String, String) {
    let (out, err) = (Capture::new(), Capture::new());
    let result = builder
        .stdin(Input::null())
        .stdout(Output::capture(&out))
        .stderr(Output::capture(&err))
        .run("_start");
    (result, out.text(), err.text())
}

fn check_args_env(guest: std::path::PathBuf) {
    let name = guest.file_name().unwrap().to_string_lossy().into_owned();
    let (result, out, _) = capture(
        WasiInstance::builder()
            .module_file(&guest)
            .unwrap()
            .arg("one")
            .args(["two", "three four"])
            .env("GREETING", "hi from the library")
            .envs([("OTHER", "x")]),
    );
    assert_eq!(result.unwrap(), Exit::Returned);
    assert_eq!(
        printed_args(&out),
        [name.as_str(), "one", "two", "three four"]
    );
    assert!(out.contains("GREETING=hi from the library\n"), "{out}");
    let envs: Vec<&str> = out.lines().filter(|l| l.starts_with("env ")).collect();
    assert_eq!(envs, ["env GREETING=hi from the library", "env OTHER=x"]);

    // Cargo sets CARGO_MANIFEST_DIR for the test process: visible only when inherited.
    let (_, out, _) = capture(WasiInstance::builder().module_file(&guest).unwrap());
    assert!(!out.contains("CARGO_MANIFEST_DIR"), "{out}");
    let (_, out, _) = capture(
        WasiInstance::builder()
            .module_file(&guest)
            .unwrap()
            .inherit_env(),
    );
    assert!(
        out.contains(&format!(
            "env CARGO_MANIFEST_DIR={}\n",
            env!("CARGO_MANIFEST_DIR")
        )),
        "{out}"
    );

    let (_, out, _) = capture(
        WasiInstance::builder()
            .module_file(&guest)
            .unwrap()
            .program_name("renamed"),
    );
    assert_eq!(printed_args(&out), ["renamed"]);
}

#[test]
fn rust_guest_args_and_env() {
    check_args_env(rust_guest("args_env"));
}

#[test]
fn c_guest_args_and_env() {
    check_args_env(c_guest("args_env"));
}

#[test]
fn exit_statuses() {
    let guest = rust_guest("exit");
    for n in [0u32, 1, 42, 125, 126, 255, 256, 300] {
        let (result, _, _) = capture(
            WasiInstance::builder()
                .module_file(&guest)
                .unwrap()
                .arg(n.to_string()),
        );
        let exit = result.unwrap();
        assert_eq!(exit, Exit::Exited(n));
        assert_eq!(exit.code(), n as i32);
    }
}

#[test]
fn stdin_from_bytes() {
    let input = "first line\nsecond line\n".repeat(1000);
    for guest in [rust_guest("cat"), c_guest("cat")] {
        let out = Capture::new();
        let exit = WasiInstance::builder()
            .module_file(&guest)
            .unwrap()
            .stdin(Input::bytes(input.clone()))
            .stdout(Output::capture(&out))
            .run("_start")
            .unwrap();
        assert_eq!(exit, Exit::Returned);
        assert_eq!(out.text(), input);
    }
}

#[test]
fn trap_error_carries_cause_and_backtrace() {
    let (result, out, _) = capture(
        WasiInstance::builder()
            .module_file(rust_guest("trap"))
            .unwrap(),
    );
    assert_eq!(out, "about to trap\n", "output before the trap is flushed");
    match result {
        Err(e @ Error::Trap { .. }) => {
            assert_eq!(e.exit_code(), 134);
            let Error::Trap {
                message, backtrace, ..
            } = e
            else {
                unreachable!()
            };
            assert_eq!(message, "wasm `unreachable` instruction executed");
            // Frames as data, innermost first, demangled; Display as the CLI prints them.
            let first = &backtrace.frames()[0];
            assert!(
                first
                    .function
                    .as_deref()
                    .unwrap()
                    .ends_with("trap::fail_here"),
                "{backtrace}"
            );
            assert!(first.module_offset.is_some(), "{backtrace}");
            assert!(backtrace.frames().iter().any(|f| f
                .function
                .as_deref()
                .is_some_and(|n| n.ends_with("trap::main"))));
            let text = backtrace.to_string();
            let line = text.lines().next().unwrap();
            assert!(line.starts_with("    0: "), "{text}");
            assert!(line.contains("trap::fail_here @ 0x"), "{text}");
            assert_eq!(text.lines().count(), backtrace.frames().len());
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn stack_overflow_is_a_trap() {
    let (result, _, _) = capture(
        WasiInstance::builder()
            .module_file(rust_guest("recurse"))
            .unwrap()
            .stack(KiB(64)),
    );
    assert!(
        matches!(&result, Err(Error::Trap { message, .. }) if message == "call stack exhausted"),
        "{result:?}"
    );
}

#[test]
fn timeout_ends_a_spinning_guest() {
    let (result, out, _) = capture(
        WasiInstance::builder()
            .module_file(rust_guest("spin"))
            .unwrap()
            .timeout(Duration::from_millis(300)),
    );
    assert_eq!(out, "spinning\n");
    match result {
        Err(e @ Error::Timeout { .. }) => {
            assert_eq!(e.exit_code(), 124);
            assert_eq!(e.to_string(), "guest timed out after 300ms");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[test]
fn heap_limit_is_seen_by_the_guest_allocator() {
    let guest = rust_guest("alloc");
    let (result, out, _) = capture(
        WasiInstance::builder()
            .module_file(&guest)
            .unwrap()
            .arg("100")
            .max_heap(MiB(64)),
    );
    assert_eq!(result.unwrap(), Exit::Exited(3));
    assert!(out.starts_with("allocation of 100 MiB failed"), "{out}");
    let (result, _, _) = capture(
        WasiInstance::builder()
            .module_file(&guest)
            .unwrap()
            .arg("32")
            .max_heap(MiB(64)),
    );
    assert_eq!(result.unwrap(), Exit::Returned);
}

#[test]
fn setup_errors_are_distinct_variants() {
    let build = |b: lucet_wasi::WasiInstanceBuilder| b.build().err().expect("setup should fail");

    let e = build(WasiInstance::builder());
    assert!(matches!(e, Error::NoModule), "{e:?}");

    let e = WasiInstance::builder()
        .module_file("/nonexistent/app.wasm")
        .err()
        .unwrap();
    assert!(
        matches!(&e, Error::Io { path, .. } if path.ends_with("app.wasm")),
        "{e:?}"
    );

    let e = build(WasiInstance::builder().module_bytes(&b"plain text"[..]));
    assert!(
        matches!(&e, Error::NotWasm { name } if name == "module.wasm"),
        "{e:?}"
    );

    // A file-related error names the file by its whole path, as Error::Io does.
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.wasm");
    std::fs::write(&notes, "plain text").unwrap();
    let e = build(WasiInstance::builder().module_file(&notes).unwrap());
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not a WebAssembly module (expected a .wasm binary, .wat text, or a module \
             precompiled by `lucet-wasi compile`)",
            notes.display()
        )
    );
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0\xff").unwrap();
    let e = build(WasiInstance::builder().module_file(&junk).unwrap());
    assert!(
        matches!(&e, Error::InvalidModule { name, .. } if *name == junk.display().to_string()),
        "{e:?}"
    );
    let e = lucet_wasi::Module::from_file(&default_engine(), &junk)
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with(&format!("{}: invalid module:", junk.display())),
        "{e}"
    );
    // SAFETY: the file is not a precompiled module; loading it must fail cleanly.
    let e = unsafe { lucet_wasi::Module::from_precompiled_file(&default_engine(), &junk) }
        .err()
        .unwrap();
    assert!(
        e.to_string().starts_with(&format!(
            "{}: cannot load precompiled module",
            junk.display()
        )),
        "{e}"
    );

    let e = build(WasiInstance::builder().module_bytes("(module (func (i32.add)))"));
    assert!(matches!(&e, Error::InvalidModule { .. }), "{e:?}");

    let e = build(
        WasiInstance::builder()
            .module_file(wat_guest("unknown_import"))
            .unwrap(),
    );
    assert!(
        matches!(&e, Error::UnknownImport { module, field, kind: "function" } if module == "env" && field == "not_provided"),
        "{e:?}"
    );
    // A non-WASI import points at host functions ...
    assert_eq!(
        e.to_string(),
        "module imports function `env::not_provided`, which is not provided: register a host \
         function for it with `.hostcall(f)` (see #[lucet_wasi::hostcall]) or Module::with_hostcalls"
    );
    // ... a WASI function we lack says so, and another WASI version points at preview1.
    let e = build(WasiInstance::builder().module_bytes(
        r#"(module (import "wasi_snapshot_preview1" "fd_teleport" (func (param i32))))"#,
    ));
    assert_eq!(
        e.to_string(),
        "module imports function `wasi_snapshot_preview1::fd_teleport`, which lucet-wasi's \
         wasi_snapshot_preview1 does not have"
    );
    let e = build(WasiInstance::builder().module_bytes(
        r#"(module (import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32))))"#,
    ));
    assert!(
        e.to_string().ends_with(
            "which is not provided: lucet-wasi provides WASI as wasi_snapshot_preview1 only \
             (build the guest for wasm32-wasip1)"
        ),
        "{e}"
    );

    let e = build(
        WasiInstance::builder()
            .module_file(wat_guest("big_memory"))
            .unwrap()
            .max_heap(MiB(4)),
    );
    assert!(
        matches!(e, Error::HeapTooSmall { initial, max_heap } if initial == MiB(16).into() && max_heap == MiB(4).into()),
        "{e:?}"
    );

    let e = build(
        WasiInstance::builder()
            .module_file(wat_guest("grow"))
            .unwrap()
            .max_heap(Bytes(3000)),
    );
    assert!(
        matches!(
            &e,
            Error::InvalidLimit {
                what: "max heap size",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.exit_code(), 2);

    let e = build(
        WasiInstance::builder()
            .module_file(wat_guest("grow"))
            .unwrap()
            .preopen("/data", "/nonexistent/dir"),
    );
    assert!(
        matches!(&e, Error::Preopen { guest, .. } if guest == "/data"),
        "{e:?}"
    );

    let e = build(
        WasiInstance::builder()
            .module_file(wat_guest("grow"))
            .unwrap()
            .arg("nul\0inside"),
    );
    assert!(
        matches!(
            &e,
            Error::GuestArgument {
                problem: lucet_wasi::ArgumentProblem::NulByte,
                ..
            }
        ),
        "{e:?}"
    );

    let hello = root().join("examples/hello.wat");
    let e = WasiInstance::builder()
        .module_file(&hello)
        .unwrap()
        .run("main")
        .unwrap_err();
    assert!(
        matches!(&e, Error::NoSuchExport { name } if name == "main"),
        "{e:?}"
    );

    let e = WasiInstance::builder()
        .module_file(wat_guest("bad_entry"))
        .unwrap()
        .run("_start")
        .unwrap_err();
    assert!(matches!(&e, Error::BadEntrypoint { .. }), "{e:?}");
}

#[test]
fn precompiled_bytes_run_through_the_builder() {
    let wasm = std::fs::read(rust_guest("exit")).unwrap();
    let engine = lucet_wasi::Engine::shared(&lucet_wasi::EngineConfig::default()).unwrap();
    let artifact = lucet_wasi::Module::from_bytes(&engine, &wasm)
        .unwrap()
        .serialize()
        .unwrap();
    // SAFETY: we made the artifact just above.
    let module = unsafe { lucet_wasi::Module::from_precompiled_bytes(&engine, &artifact) }.unwrap();
    let (result, _, _) = capture(WasiInstance::builder().module(&module).arg("9"));
    assert_eq!(result.unwrap(), Exit::Exited(9));
    // The safe loaders refuse native code.
    let e = WasiInstance::builder()
        .module_bytes(artifact)
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(
            &e,
            Error::Precompiled {
                problem: lucet_wasi::PrecompiledProblem::NeedsUnsafeLoader,
                ..
            }
        ),
        "{e:?}"
    );
}

/// The process-wide default engine.
fn default_engine() -> lucet_wasi::Engine {
    lucet_wasi::Engine::shared(&lucet_wasi::EngineConfig::default()).unwrap()
}

#[test]
fn host_errors_keep_their_source() {
    // A preopen that is not a directory: the OS error stays reachable as the source.
    let file = tempfile::NamedTempFile::new().unwrap();
    let e = WasiInstance::builder()
        .module_bytes("(module)")
        .preopen("/x", file.path())
        .build()
        .err()
        .unwrap();
    let source = std::error::Error::source(&e).expect("a source");
    assert!(
        source.downcast_ref::<std::io::Error>().is_some(),
        "{source:?}"
    );
    // An engine that cannot be made: its cause is kept as a source, and shown on the line.
    let e = lucet_wasi::Engine::new(&lucet_wasi::EngineConfig::default().pooling(Some(u32::MAX)))
        .err()
        .unwrap();
    assert!(matches!(&e, Error::Host { .. }), "{e:?}");
    assert!(e.to_string().starts_with("cannot create engine: "), "{e}");
    assert!(std::error::Error::source(&e).is_some(), "{e:?}");
}

/// A cache directory reached through a link that is swapped between this user's cache and
/// a directory holding a forged entry (another module's artifact under the first one's
/// key, with the SHA-256 sum anyone can compute) never runs the forged artifact (before:
/// the sum was a plain SHA-256 and the directory was re-walked by path for each file).
#[test]
fn a_swapped_cache_directory_never_runs_a_foreign_artifact() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let ours = r#"(module (func (export "f") (result i32) i32.const 1))"#;
    let theirs = r#"(module (func (export "f") (result i32) i32.const 99))"#;
    let engine = lucet_wasi::Engine::shared(&lucet_wasi::EngineConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (victim, evil, link) = (
        tmp.path().join("victim"),
        tmp.path().join("evil"),
        tmp.path().join("link"),
    );
    // Our cache, and the name of the entry for `ours`.
    let cache = lucet_wasi::CompileCache::new(victim.join("cache")).unwrap();
    lucet_wasi::Module::from_bytes_cached(&engine, ours, &cache).unwrap();
    let name = std::fs::read_dir(victim.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let name = name.file_stem().unwrap().to_str().unwrap().to_string();
    // The forged entry: `theirs` under `ours`'s key.
    let forged = lucet_wasi::Module::from_bytes(&engine, theirs)
        .unwrap()
        .serialize()
        .unwrap();
    let forged_sum: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&forged)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let evil_cache = evil.join("cache");
    lucet_wasi::CompileCache::new(&evil_cache).unwrap();
    let forge = || {
        for (file, bytes) in [
            (format!("{name}.cwasm"), forged.as_slice()),
            (format!("{name}.sum"), forged_sum.as_bytes()),
        ] {
            let tmp_file = evil_cache.join(format!("{file}.forging"));
            std::fs::write(&tmp_file, bytes).unwrap();
            std::fs::rename(&tmp_file, evil_cache.join(file)).unwrap();
        }
    };
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, victim, evil, link) = (stop.clone(), victim.clone(), evil.clone(), link.clone());
        std::thread::spawn(move || {
            let next = link.with_extension("next");
            let mut flip = false;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::remove_file(&next);
                std::os::unix::fs::symlink(if flip { &evil } else { &victim }, &next).unwrap();
                std::fs::rename(&next, &link).unwrap();
                flip = !flip;
            }
        })
    };
    let mut reached_evil = 0;
    for _ in 0..1000 {
        forge();
        let Ok(cache) = lucet_wasi::CompileCache::new(link.join("cache")) else {
            continue;
        };
        let module = lucet_wasi::Module::from_bytes_cached(&engine, ours, &cache).unwrap();
        let mut instance = WasiInstance::builder().module(&module).build().unwrap();
        assert_eq!(
            instance.call::<(), i32>("f", ()).unwrap(),
            1,
            "a forged entry ran"
        );
        // Our rewrite of the entry replaced the forged one: the cache was opened in `evil`.
        if std::fs::read(evil_cache.join(format!("{name}.cwasm"))).unwrap() != forged {
            reached_evil += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(
        reached_evil > 0,
        "the swap never took the cache to the forged entry"
    );
}
