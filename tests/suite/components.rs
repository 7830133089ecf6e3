//! WASI 0.2 components: a Rust `wasm32-wasip2` command (`tests/guests/p2`), hand-written
//! `.wat` components for the edges, and a componentize-py app (CPython in a component),
//! through the CLI and the builder. Outputs are compared exactly with what Wasmtime 48's
//! CLI prints for the same component.

use crate::support::*;
use lucet_wasi::{
    Capture, EndCause, Engine, EngineConfig, Error, Exit, Input, Misuse, Module, Output,
    WasiInstance,
};
use std::time::{Duration, Instant};

/// `files /d` in an empty writable preopen, as Wasmtime 48.0.2 prints it.
const FILES: &str = "\
list at start: (empty)
write notes.txt: ok
append notes.txt: ok
read notes.txt: \"hello from p2\\nsecond line\\n\"
len notes.txt: 26
rename notes.txt renamed.txt: ok
read notes.txt: NotFound (os error 44)
read renamed.txt: \"hello from p2\\nsecond line\\n\"
create_dir sub: ok
create_dir sub again: AlreadyExists (os error 20)
write sub/inner.txt: ok
list: renamed.txt sub/
list sub: inner.txt
read sub/inner.txt by File: [1, 2, 3]
remove_dir sub (not empty): Uncategorized (os error 55)
remove_file sub/inner.txt: ok
remove_dir sub: ok
remove_file renamed.txt: ok
remove_file renamed.txt again: NotFound (os error 44)
list at end: (empty)
files done
";

fn p2(args: &[&str]) -> Ran {
    let mut all = vec![s(&p2_guest())];
    all.extend(args.iter().map(|a| a.to_string()));
    lucet(all)
}

#[test]
fn files_rename_readdir_in_a_preopen() {
    let dir = tempfile::tempdir().unwrap();
    let map = format!("/d:{}", dir.path().display());
    let r = lucet(["--dir", &map, &s(&p2_guest()), "files", "/d"]);
    assert_eq!((r.status, r.stdout.as_str()), (0, FILES), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn args_env_and_stdin() {
    let r = lucet([
        "--env",
        "GREETING=hello there",
        "--env",
        "B=2",
        &s(&p2_guest()),
        "--",
        "args",
        "--flag",
        "with space",
    ]);
    assert_eq!(
        r.stdout, "argc=4\nargv[0]=p2.wasm\nargv[1]=args\nargv[2]=--flag\nargv[3]=with space\n",
        "{}",
        r.stderr
    );
    let r = lucet([
        "--env",
        "GREETING=hello there",
        "--env",
        "B=2",
        &s(&p2_guest()),
        "env",
    ]);
    assert_eq!(r.stdout, "B=2\nGREETING=hello there\n", "{}", r.stderr);
    // Nothing of the host's environment unless asked.
    let r = p2(&["env"]);
    assert_eq!((r.status, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    let r = lucet(["--inherit-env", &s(&p2_guest()), "env"]);
    assert!(
        r.stdout
            .contains(&format!("{}={}\n", HOST_VAR.0, HOST_VAR.1)),
        "{}",
        r.stdout
    );

    let mut cmd = cli();
    cmd.arg(p2_guest()).arg("stdin");
    let r = ran(run_with_stdin(cmd, b"hello, stdin\nsecond\n"));
    assert_eq!(
        r.stdout, "stdin: 20 bytes\nHELLO, STDIN\nSECOND\n",
        "{}",
        r.stderr
    );
}

#[test]
fn clocks_and_random() {
    assert_eq!(p2(&["clocks"]).stdout, "clocks ok\n");
    assert_eq!(p2(&["random"]).stdout, "random ok\n");
}

#[test]
fn exit_statuses() {
    assert_eq!(p2(&["exit", "0"]).status, 0);
    // Rust's std exits through `exit(err)` for any non-zero status: 1, as in Wasmtime.
    assert_eq!(p2(&["exit", "7"]).status, 1);
    // `exit-with-code` gives the exact status.
    let r = lucet([s(&wat_guest("component_exit_code"))]);
    assert_eq!((r.status, r.stderr.as_str()), (7, ""));
    // `wasi:cli/run` returning its error is a failed command.
    let r = lucet([s(&wat_guest("component_run_err"))]);
    assert_eq!((r.status, r.stderr.as_str()), (1, ""));
}

#[test]
fn a_guest_panic_is_one_line_and_a_backtrace() {
    let r = p2(&["panic"]);
    assert_eq!(r.status, 134, "{}", r.stderr);
    // The guest's own message, then ours: one line, then the demangled backtrace.
    assert!(r.stderr.contains("boom from the guest\n"), "{}", r.stderr);
    let ours: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(
        ours,
        ["error: wasm trap: wasm `unreachable` instruction executed"],
        "{}",
        r.stderr
    );
    let backtrace = r
        .stderr
        .split("wasm backtrace:\n")
        .nth(1)
        .expect("a backtrace");
    assert!(backtrace.contains("p2::deep_panic"), "{}", r.stderr);
    assert!(backtrace.contains("p2::panic_level_one"), "{}", r.stderr);
    assert!(!r.stderr.contains("Caused by"), "{}", r.stderr);
}

#[test]
fn escapes_from_a_preopen_are_denied() {
    let top = tempfile::tempdir().unwrap();
    let inside = top.path().join("inside");
    std::fs::create_dir(&inside).unwrap();
    std::fs::write(top.path().join("outside.txt"), "host secret").unwrap();
    // A link the host made, pointing out of the preopen (guests cannot make absolute ones).
    std::os::unix::fs::symlink("/etc/passwd", inside.join("abs-link")).unwrap();
    let map = format!("/d:{}", inside.display());
    let r = lucet(["--dir", &map, &s(&p2_guest()), "escape", "/d"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.ends_with("escape done\n"), "{}", r.stdout);
    assert!(!r.stdout.contains("ESCAPED"), "{}", r.stdout);
    for attempt in [
        "open DIR/../outside.txt: denied: PermissionDenied (os error 63)",
        "create DIR/../created.txt: denied: PermissionDenied (os error 63)",
        "open DIR/abs-link: denied: PermissionDenied (os error 63)",
        "open DIR/rel-link: denied: PermissionDenied (os error 63)",
        "write DIR/rel-link: denied: PermissionDenied (os error 63)",
    ] {
        assert!(r.stdout.contains(attempt), "{attempt}:\n{}", r.stdout);
    }
    // Nothing outside changed or appeared.
    assert_eq!(
        std::fs::read_to_string(top.path().join("outside.txt")).unwrap(),
        "host secret"
    );
    let mut outside: Vec<_> = std::fs::read_dir(top.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    outside.sort();
    assert_eq!(outside, ["inside", "outside.txt"]);
}

#[test]
fn a_read_only_preopen_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let ro = format!("/d:{}:ro", dir.path().display());
    let r = lucet(["--dir", &ro, &s(&p2_guest()), "write-ro", "/d"]);
    assert_eq!(
        r.stdout,
        "create new.txt: denied: PermissionDenied (os error 63)\n\
         create_dir newdir: denied: PermissionDenied (os error 63)\n\
         write-ro done\n",
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // The same directory writable: the guest writes.
    let rw = format!("/d:{}", dir.path().display());
    let r = lucet(["--dir", &rw, &s(&p2_guest()), "write-ro", "/d"]);
    assert!(
        r.stdout.starts_with("create new.txt: WROTE"),
        "{}",
        r.stdout
    );
}

#[test]
fn timeout_ends_a_computing_component_with_124() {
    let start = Instant::now();
    let r = lucet(["--timeout", "1s", &s(&p2_guest()), "spin"]);
    let took = start.elapsed();
    assert_eq!(r.status, 124, "{}", r.stderr);
    assert_eq!(r.stdout, "spinning\n");
    assert_eq!(r.stderr, "error: guest timed out after 1s\n");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

/// A timeout ends a component waiting in a WASI call too: a sleep, a read of stdin.
#[test]
fn timeout_ends_a_waiting_component() {
    let start = Instant::now();
    let r = lucet(["--timeout", "1s", &s(&p2_guest()), "sleep", "30000"]);
    let took = start.elapsed();
    assert_eq!((r.status, r.stdout.as_str()), (124, ""), "{}", r.stderr);
    assert_eq!(r.stderr, "error: guest timed out after 1s\n");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    // Without a timeout the sleep ends as asked.
    assert_eq!(p2(&["sleep", "50"]).stdout, "slept 50 ms\n");

    // Its stdin a pipe that stays open and silent.
    let mut child = cli()
        .args(["--timeout", "1s"])
        .arg(p2_guest())
        .arg("stdin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let _open = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(124));
    assert!(took < Duration::from_millis(1500), "took {took:?}");

    // Through the SDK, a sleeping guest too.
    let start = Instant::now();
    let e = WasiInstance::builder()
        .module_file(p2_guest())
        .unwrap()
        .args(["sleep", "30000"])
        .timeout(Duration::from_millis(300))
        .run("_start")
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// An embedder's sync run from inside a tokio runtime (async code calling the sync
/// API) works: the component gets a runtime of its own.
#[test]
fn a_sync_run_inside_a_tokio_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = Capture::new();
    let exit = rt.block_on(async {
        WasiInstance::builder()
            .module_file(p2_guest())
            .unwrap()
            .args(["sleep", "10"])
            .stdout(Output::capture(&out))
            .run("_start")
    });
    assert_eq!(
        (exit.unwrap(), out.text().as_str()),
        (Exit::Returned, "slept 10 ms\n")
    );
}

#[test]
fn the_heap_cap_holds() {
    let r = lucet(["--max-heap-size", "64MiB", &s(&p2_guest()), "hog", "300"]);
    assert_eq!(r.status, 134, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("memory allocation of 1048576 bytes failed\n"),
        "{}",
        r.stderr
    );
    let ours: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(
        ours,
        ["error: wasm trap: wasm `unreachable` instruction executed"]
    );
    // An initial memory beyond the cap: refused before it runs, both sizes named.
    let r = lucet(["--max-heap-size", "512KiB", &s(&p2_guest()), "random"]);
    assert_eq!(
        (r.status, r.stderr.as_str()),
        (
            1,
            "error: module needs 1088 KiB of initial memory, more than the maximum heap size \
             of 512 KiB\n"
        )
    );
    let r = lucet(["--max-heap-size", "64MiB", &s(&p2_guest()), "hog", "30"]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "allocated 30 MiB\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn cli_refusals_and_notes() {
    let r = lucet([s(&wat_guest("component_proxy"))]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("not a WASI 0.2 command")
            && r.stderr
                .contains("wasi:http/incoming-handler@0.2.0: the wasi:http/proxy world"),
        "{}",
        r.stderr
    );
    let r = lucet([s(&wat_guest("component_http_import"))]);
    assert_eq!(r.status, 1);
    assert_eq!(
        r.stderr,
        "error: cannot link module: component imports instance \
         `wasi:http/outgoing-handler@0.2.0`, but a matching implementation was not found in \
         the linker: instance export `handle` has the wrong type: function implementation is \
         missing; lucet-wasi provides the WASI 0.2 interfaces of the wasi:cli/command world\n"
    );
    let r = lucet(["--tcplisten", "127.0.0.1:0", &s(&p2_guest()), "random"]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.starts_with(
            "error: preopened sockets (--tcplisten, preopen_socket): for core modules only"
        ),
        "{}",
        r.stderr
    );
    let r = lucet(["--entrypoint", "main", &s(&p2_guest()), "random"]);
    assert_eq!(r.status, 1);
    assert_eq!(r.stderr, "error: module has no exported function `main`\n");
    // --trace says once that nothing is traced; --stats gives time and memory.
    let r = lucet(["--trace", "--stats", &s(&p2_guest()), "random"]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "random ok\n"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .starts_with("lucet-wasi: p2.wasm is a WASI 0.2 component: its calls are not traced"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("peak memory"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("syscalls        (not counted for WASI 0.2 components)"),
        "{}",
        r.stderr
    );
}

#[test]
fn compile_precompiles_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p2.cwasm");
    let r = lucet(["compile".to_string(), s(&p2_guest()), "-o".into(), s(&out)]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(Module::is_precompiled_file(&out));
    let r = lucet([s(&out), "args".into(), "x".into()]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "argc=3\nargv[0]=p2.cwasm\nargv[1]=args\nargv[2]=x\n"),
        "{}",
        r.stderr
    );
    // Changed since: refused unless the user says to run it anyway.
    let changed = dir.path().join("changed.cwasm");
    let mut bytes = std::fs::read(&out).unwrap();
    bytes.push(0);
    std::fs::write(&changed, bytes).unwrap();
    let r = lucet([s(&changed), "random".into()]);
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("not sealed"), "{}", r.stderr);
    let r = lucet([
        "--allow-precompiled".to_string(),
        s(&changed),
        "random".into(),
    ]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "random ok\n"),
        "{}",
        r.stderr
    );
    // Compiled with timeout support, run with a timeout.
    let timed = dir.path().join("timed.cwasm");
    let r = lucet([
        "compile".to_string(),
        "--timeout-capable".into(),
        s(&p2_guest()),
        "-o".into(),
        s(&timed),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let r = lucet([
        "--timeout".to_string(),
        "1s".into(),
        s(&timed),
        "spin".into(),
    ]);
    assert_eq!(r.status, 124, "{}", r.stderr);
}

#[test]
fn the_compile_cache_keeps_components() {
    let engine = Engine::shared(&EngineConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = lucet_wasi::CompileCache::new(dir.path()).unwrap();
    let first = Module::from_file_cached(&engine, p2_guest(), &cache).unwrap();
    assert!(first.is_component());
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 2, "an artifact and its sum");
    let again = Module::from_file_cached(&engine, p2_guest(), &cache).unwrap();
    assert!(again.is_component());
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module(&again)
        .arg("random")
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!((exit, out.text().as_str()), (Exit::Returned, "random ok\n"));
}

/// The builder chain that runs a core command runs a component unchanged.
#[test]
fn the_builder_chain_runs_a_component() -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module_file(p2_guest())?
        .preopen("/sb", dir.path())
        .arg("env")
        .env("K", "v")
        .stdout(Output::capture(&out))
        .run("_start")?;
    assert_eq!((exit, out.text().as_str()), (Exit::Returned, "K=v\n"));

    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module_file(p2_guest())?
        .preopen("/d", dir.path())
        .args(["files", "/d"])
        .stdout(Output::capture(&out))
        .run("_start")?;
    assert_eq!((exit, out.text().as_str()), (Exit::Returned, FILES));

    let (out, err) = (Capture::new(), Capture::new());
    let exit = WasiInstance::builder()
        .module_file(p2_guest())?
        .arg("stdin")
        .stdin(Input::bytes("from the host"))
        .stdout(Output::capture(&out))
        .stderr(Output::capture(&err))
        .run("_start")?;
    assert_eq!(
        (exit, out.text().as_str(), err.text().as_str()),
        (Exit::Returned, "stdin: 13 bytes\nFROM THE HOST", "")
    );

    // A panic's message goes to the captured stderr; the error is the trap.
    let err = Capture::new();
    let e = WasiInstance::builder()
        .module_file(p2_guest())?
        .arg("panic")
        .stderr(Output::capture(&err))
        .run("_start")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Trap { backtrace, .. } if !backtrace.is_empty()),
        "{e}"
    );
    assert!(err.text().contains("boom from the guest"), "{}", err.text());

    // Exit codes, a timeout and a fuel budget, as for a core module.
    let exit = WasiInstance::builder()
        .module_file(wat_guest("component_exit_code"))?
        .run("_start")?;
    assert_eq!(exit, Exit::Exited(7));
    let e = WasiInstance::builder()
        .module_file(p2_guest())?
        .arg("spin")
        .stdout(Output::null())
        .timeout(Duration::from_millis(200))
        .run("_start")
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    let e = WasiInstance::builder()
        .module_file(p2_guest())?
        .arg("spin")
        .stdout(Output::null())
        .fuel(10_000_000)
        .run("_start")
        .unwrap_err();
    assert!(matches!(e, Error::OutOfFuel { .. }), "{e}");
    Ok(())
}

#[test]
fn a_component_instance_runs_once_and_refuses_what_is_for_core_modules() -> Result<(), Error> {
    let engine = Engine::shared(&EngineConfig::default())?;
    // Bytes (here .wat text) are told by content too.
    let text = std::fs::read(wat_guest("component_exit_code")).unwrap();
    let from_bytes = Module::from_bytes(&engine, text)?;
    assert!(from_bytes.is_component() && from_bytes.name() == "module.wasm");
    let exit = WasiInstance::builder().module(&from_bytes).run("_start")?;
    assert_eq!(exit, Exit::Exited(7));

    let module = Module::from_file(&engine, p2_guest())?;
    let out = Capture::new();
    let mut instance = WasiInstance::builder()
        .module(&module)
        .arg("random")
        .stdout(Output::capture(&out))
        .collect_stats()
        .build()?;
    let not_for = |e: Error, what: &str| match e {
        Error::Misuse(Misuse::NotForComponents { what: w }) => assert_eq!(w, what),
        other => panic!("{what}: {other}"),
    };
    not_for(instance.call::<(), ()>("run", ()).unwrap_err(), "call()");
    not_for(
        instance.read_bytes(0, 4).unwrap_err(),
        "guest memory access",
    );
    not_for(instance.restart().unwrap_err(), "restart()");
    assert!(instance.memory().is_none());
    assert_eq!(instance.run("_start")?, Exit::Returned);
    assert_eq!(out.text(), "random ok\n");
    let stats = instance.stats().expect("collected");
    assert!(
        stats.calls_not_counted && stats.peak_memory.0 > 0,
        "{stats:?}"
    );
    let again = instance.run("_start").unwrap_err();
    assert!(
        matches!(
            again,
            Error::Ended {
                cause: EndCause::Returned
            }
        ),
        "{again}"
    );

    #[lucet_wasi::hostcall]
    fn nothing() {}
    let e = WasiInstance::builder()
        .module(&module)
        .hostcall(nothing)
        .build()
        .err()
        .expect("refused");
    not_for(e, "host functions (#[hostcall])");
    let e = module
        .with_hostcalls(&lucet_wasi::HostcallSet::new())
        .err()
        .expect("refused");
    not_for(e, "host functions (#[hostcall])");
    Ok(())
}

#[cfg(feature = "async")]
#[test]
fn async_runs_are_refused_for_components() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(
            WasiInstance::builder()
                .module_file(p2_guest())
                .unwrap()
                .build_async(),
        )
        .err()
        .expect("refused");
    assert!(
        matches!(e, Error::Misuse(Misuse::NotForComponents { .. })),
        "{e}"
    );
}

/// Instance per request: one compiled component, 50 instances on 4 threads, each with
/// its own arguments and captured output.
#[test]
fn fifty_instances_of_one_compiled_component() {
    let engine = Engine::shared(&EngineConfig::default()).unwrap();
    let module = Module::from_file(&engine, p2_guest()).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let module = &module;
            scope.spawn(move || {
                for i in (t..50).step_by(4) {
                    let out = Capture::new();
                    let exit = WasiInstance::builder()
                        .module(module)
                        .args(["args", &format!("request-{i}")])
                        .stdout(Output::capture(&out))
                        .run("_start")
                        .unwrap();
                    assert_eq!(exit, Exit::Returned);
                    assert_eq!(
                        out.text(),
                        format!("argc=3\nargv[0]=p2.wasm\nargv[1]=args\nargv[2]=request-{i}\n")
                    );
                }
            });
        }
    });
}

#[test]
fn precompiled_components_load_through_the_sdk() -> Result<(), Error> {
    let engine = Engine::shared(&EngineConfig::default())?;
    let module = Module::from_file(&engine, p2_guest())?;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p2.cwasm");
    std::fs::write(&path, module.serialize_sealed()?).unwrap();
    let loaded = Module::from_sealed_file(&engine, &path)?;
    assert!(loaded.is_component());
    // SAFETY: serialized just now by this process.
    let from_bytes = unsafe { Module::from_precompiled_bytes(&engine, module.serialize()?) }?;
    for m in [&loaded, &from_bytes] {
        let out = Capture::new();
        let exit = WasiInstance::builder()
            .module(m)
            .arg("clocks")
            .stdout(Output::capture(&out))
            .run("_start")?;
        assert_eq!((exit, out.text().as_str()), (Exit::Returned, "clocks ok\n"));
    }
    Ok(())
}

/// What the componentize-py app prints with `--env GREETING=hello` and `dir=/data`, as
/// Wasmtime 48.0.2 prints it.
const PY_OUT: &str = "\
sum 385
sorted ['fig', 'pear', 'apple']
json {\"a\": null, \"b\": [1, 2.5], \"c\": \"wasi\"}
sha256 829380043934566951d19cd907f8fd898a274539eeaae39b2ed64b493f8a0327
argv ['app.wasm', 'dir=/data']
GREETING hello
dir /data ['a.txt', 'b.txt', 'sub']
file a.txt \"x\\\"y\"
file b.txt \"hello file\\n\"
py done
";

/// A real component made by a tool nobody here wrote: componentize-py 0.25.1 from PyPI
/// (pinned by sha256) packaging a Python app.
#[test]
fn componentize_py_app_prints_what_wasmtime_prints() {
    let app = componentize_py_app();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("a.txt"), "x\"y").unwrap();
    std::fs::write(data.path().join("b.txt"), "hello file\n").unwrap();
    std::fs::create_dir(data.path().join("sub")).unwrap();
    let map = format!("/data:{}:ro", data.path().display());
    let r = lucet([
        "--env",
        "GREETING=hello",
        "--dir",
        &map,
        &s(&app),
        "dir=/data",
    ]);
    assert_eq!(
        (r.status, r.stdout.as_str(), r.stderr.as_str()),
        (0, PY_OUT, "")
    );
    // `run` returning its error: status 1, no trap.
    let r = lucet([s(&app), "fail".into()]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stdout.ends_with("GREETING (unset)\nfailing\n"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stderr, "");

    // Precompiled, through the SDK: the same output, captured.
    let engine = Engine::shared(&EngineConfig::default()).unwrap();
    let compiled = dir_with_precompiled(&engine, &app);
    let module = Module::from_sealed_file(&engine, compiled.path().join("app.cwasm")).unwrap();
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module(&module)
        .program_name("app.wasm")
        .env("GREETING", "hello")
        .preopen_readonly("/data", data.path())
        .arg("dir=/data")
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!((exit, out.text().as_str()), (Exit::Returned, PY_OUT));
}

/// A directory holding `app` precompiled and sealed as `app.cwasm`.
fn dir_with_precompiled(engine: &Engine, app: &std::path::Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cache = lucet_wasi::CompileCache::new(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("compile-cache"),
    )
    .unwrap();
    let module = Module::from_file_cached(engine, app, &cache).unwrap();
    std::fs::write(
        dir.path().join("app.cwasm"),
        module.serialize_sealed().unwrap(),
    )
    .unwrap();
    dir
}

/// `wasi:cli/terminal-*` tell the truth: piped streams are not terminals, inherited
/// terminals are (as Wasmtime says of both).
#[test]
fn terminals_are_told_as_they_are() {
    let r = p2(&["tty"]);
    assert_eq!(
        r.stdout, "stdin false stdout false stderr false\n",
        "{}",
        r.stderr
    );
    // Under a pseudo-terminal (util-linux's `script`).
    let command = format!(
        "{} --no-cache {} tty",
        env!("CARGO_BIN_EXE_lucet-wasi"),
        p2_guest().display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("cannot run script (util-linux)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("stdin true stdout true stderr true"),
        "{text}"
    );
}
