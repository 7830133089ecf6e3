//! The `lucet-wasi` command line, end to end, with real guest programs.

use crate::support::*;
use std::path::{Path, PathBuf};

#[test]
fn shipped_example_greets_its_arguments() {
    let example = root().join("examples/hello.wat");
    let r = lucet([s(&example), "--".into(), "world".into()]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "hello, world!\n"),
        "{}",
        r.stderr
    );
    let r = lucet([s(&example), "you".into(), "and".into(), "me".into()]);
    assert_eq!(r.stdout, "hello, you and me!\n");
}

fn check_args_env(guest: std::path::PathBuf) {
    let name = guest.file_name().unwrap().to_string_lossy().into_owned();
    let r = lucet([
        "--env".to_string(),
        "GREETING=hello there".into(),
        s(&guest),
        "--".into(),
        "first".into(),
        "--second".into(),
        "with space".into(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(
        printed_args(&r.stdout),
        [name.as_str(), "first", "--second", "with space"]
    );
    assert!(r.stdout.contains("GREETING=hello there\n"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(HOST_VAR.0),
        "host environment leaked:\n{}",
        r.stdout
    );
    let envs: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("env ")).collect();
    assert_eq!(envs, ["env GREETING=hello there"]);

    let r = lucet(["--inherit-env".to_string(), s(&guest)]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(&format!("env {}={}\n", HOST_VAR.0, HOST_VAR.1)),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("GREETING is unset"));

    // An explicit --env wins over the inherited value.
    let r = lucet([
        "--inherit-env".to_string(),
        "--env".into(),
        format!("{}=mine", HOST_VAR.0),
        s(&guest),
    ]);
    assert!(
        r.stdout.contains(&format!("env {}=mine\n", HOST_VAR.0)),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(HOST_VAR.1));
}

#[test]
fn rust_guest_sees_args_and_only_given_env() {
    check_args_env(rust_guest("args_env"));
}

#[test]
fn c_guest_sees_args_and_only_given_env() {
    check_args_env(c_guest("args_env"));
}

#[test]
fn proc_exit_status_is_kept_modulo_256() {
    let guest = rust_guest("exit");
    for n in [0, 1, 42, 125, 126, 255, 256, 300] {
        let r = lucet([s(&guest), n.to_string()]);
        assert_eq!(r.status, n % 256, "proc_exit({n}): {}", r.stderr);
        assert_eq!(r.stderr, "", "proc_exit({n}) printed on stderr");
    }
}

#[test]
fn trap_reports_cause_and_wasm_backtrace() {
    let r = lucet([s(&rust_guest("trap"))]);
    assert_eq!(r.status, 134);
    assert_eq!(r.stdout, "about to trap\n");
    let mut lines = r.stderr.lines();
    assert_eq!(
        lines.next(),
        Some("error: wasm trap: wasm `unreachable` instruction executed")
    );
    assert_eq!(lines.next(), Some("wasm backtrace:"));
    let frames: Vec<&str> = lines.collect();
    assert!(frames[0].contains("trap::fail_here"), "{}", r.stderr);
    assert!(
        frames.iter().any(|f| f.contains("trap::outer_caller")),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
        "{}",
        r.stderr
    );
}

#[test]
fn unbounded_recursion_is_a_trap_not_a_crash() {
    let r = lucet(["--stack-size", "64KiB", &s(&rust_guest("recurse"))]);
    assert_eq!(r.status, 134, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("error: wasm trap: call stack exhausted\n"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("recurse::deeper"), "{}", r.stderr);
}

/// A precompiled file runs unasked only if this user's `compile` sealed it and it has not
/// changed since; anything else needs `--allow-precompiled`, and the refusal says so
/// (before: any precompiled file ran, whatever its name — `hello.wasm` included).
#[test]
fn only_this_users_sealed_artifacts_run_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let hello = root().join("examples/hello.wat");
    let sealed = dir.path().join("sealed.cwasm");
    let r = lucet(["compile".into(), s(&hello), "-o".into(), s(&sealed)]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let r = lucet([s(&sealed)]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "hello, world!\n"),
        "{}",
        r.stderr
    );

    // Precompiled elsewhere (a plain `serialize`, as another tool or user makes it) and
    // named like a module.
    let engine = lucet_wasi::Engine::shared(&lucet_wasi::EngineConfig::default()).unwrap();
    let foreign = dir.path().join("hello.wasm");
    let plain = lucet_wasi::Module::from_file(&engine, &hello)
        .unwrap()
        .serialize()
        .unwrap();
    std::fs::write(&foreign, plain).unwrap();
    let not_sealed = "not sealed by this user's `lucet-wasi compile`";
    let r = lucet([s(&foreign)]);
    assert_eq!((r.status, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    assert!(r.stderr.contains(not_sealed), "{}", r.stderr);
    assert!(r.stderr.contains("--allow-precompiled"), "{}", r.stderr);
    let r = lucet(["--allow-precompiled".into(), s(&foreign)]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "hello, world!\n"),
        "{}",
        r.stderr
    );

    // Sealed, then changed: refused before anything of it is loaded.
    let mut bytes = std::fs::read(&sealed).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let tampered = dir.path().join("tampered.cwasm");
    std::fs::write(&tampered, &bytes).unwrap();
    let r = lucet([s(&tampered)]);
    assert_eq!((r.status, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    assert!(r.stderr.contains(not_sealed), "{}", r.stderr);

    // Changed in place after a run (same file, same inode, so the run's record of it
    // could be taken for it): refused all the same.
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&sealed)
            .unwrap();
        f.seek(SeekFrom::Start(middle as u64)).unwrap();
        f.write_all(&[bytes[middle]]).unwrap();
    }
    let r = lucet([s(&sealed)]);
    assert_eq!((r.status, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    assert!(r.stderr.contains(not_sealed), "{}", r.stderr);

    // Another user's: the same file, checked with another key home, is refused.
    let r = lucet(["compile".into(), s(&hello), "-o".into(), s(&sealed)]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(lucet([s(&sealed)]).status, 0);
    let other = tempfile::tempdir().unwrap();
    let r = ran(cli()
        .env("XDG_CONFIG_HOME", other.path())
        .arg(&sealed)
        .output()
        .unwrap());
    assert_eq!((r.status, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    assert!(r.stderr.contains(not_sealed), "{}", r.stderr);
}

/// A write into a pipe nobody reads ends at the timeout (before: it blocked for as long
/// as the reader kept the pipe open).
#[test]
fn a_write_into_a_full_pipe_ends_at_the_timeout() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::write(&input, vec![b'x'; 1 << 20]).unwrap();
    let mut child = cli()
        .args(["--timeout", "1s", &s(&rust_guest("cat"))])
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads the guest's stdout: the pipe is full after 64 KiB.
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the write did not end at the timeout");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(124));
}

/// A timeout longer than the clock can count is no deadline, never a panic (before:
/// `overflow when adding duration to instant`, status 70).
#[test]
fn a_timeout_too_long_for_the_clock_runs_without_one() {
    let hello = s(&root().join("examples/hello.wat"));
    let r = lucet(["--timeout", "584542046090y", &hello]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("panic"), "{}", r.stderr);
    let exit = lucet_wasi::WasiInstance::builder()
        .module_file(&hello)
        .unwrap()
        .stdout(lucet_wasi::Output::null())
        .timeout(std::time::Duration::MAX)
        .run("_start")
        .unwrap();
    assert_eq!(exit, lucet_wasi::Exit::Returned);
}

#[test]
fn spinning_guest_ends_at_its_timeout() {
    let r = lucet(["--timeout", "1s", &s(&rust_guest("spin"))]);
    assert_eq!(r.status, 124, "{}", r.stderr);
    assert_eq!(r.stdout, "spinning\n");
    assert_eq!(r.stderr, "error: guest timed out after 1s\n");
}

#[test]
fn allocation_beyond_max_heap_fails_inside_the_guest() {
    let guest = s(&rust_guest("alloc"));
    let r = lucet(["--max-heap-size", "64MiB", &guest, "100"]);
    assert_eq!(r.status, 3, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("allocation of 100 MiB failed"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stderr, "");
    // The same request fits the default heap.
    let r = lucet([&guest, "100"]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "allocated 100 MiB\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn memory_grow_stops_exactly_at_max_heap() {
    let r = lucet(["--max-heap-size", "1MiB", &s(&wat_guest("grow"))]);
    assert_eq!(r.status, 16, "1 MiB is 16 pages: {}", r.stderr);
}

#[test]
fn stdin_is_copied_to_stdout() {
    let input: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    for guest in [rust_guest("cat"), c_guest("cat")] {
        let mut cmd = cli();
        cmd.arg(&guest);
        let out = run_with_stdin(cmd, &input);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout == input,
            "{} did not copy stdin faithfully",
            guest.display()
        );
    }
}

#[test]
fn first_slice_of_syscalls_behaves() {
    let dir = tempfile::tempdir().unwrap();
    let r = lucet([
        format!("--dir=/sandbox:{}", dir.path().display()),
        s(&rust_guest("syscalls")),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let failures: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(r.stdout.contains("written by fd_write\n"));
    assert!(r.stdout.ends_with("done\n"), "{}", r.stdout);
}

#[test]
fn every_other_function_is_linked_and_answers_an_errno() {
    let out = cli().arg(wat_guest("every_function")).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    const BADF: u8 = 8;
    const INVAL: u8 = 28;
    const NOTSOCK: u8 = 57;
    let mut want = vec![BADF; 27];
    want.extend([NOTSOCK, INVAL, INVAL, INVAL, INVAL]);
    assert_eq!(out.stdout, want);
}

/// Runs with bad input: checks the status and that stderr contains every fragment.
fn refused(args: &[&str], status: i32, fragments: &[&str]) {
    let r = lucet(args);
    assert_eq!(r.status, status, "{args:?}: {}", r.stderr);
    for f in fragments {
        assert!(
            r.stderr.contains(f),
            "{args:?}: stderr lacks {f:?}:\n{}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn bad_sizes_are_usage_errors() {
    let hello = s(&root().join("examples/hello.wat"));
    refused(
        &["--max-heap-size", "lots", &hello],
        2,
        &["--max-heap-size", "lots", "expected a whole number"],
    );
    refused(
        &["--stack-size", "12 parsecs", &hello],
        2,
        &["--stack-size", "unknown unit"],
    );
    refused(
        &["--max-heap-size", "3000", &hello],
        2,
        &["--max-heap-size", "3000", "not a multiple of 4 KiB"],
    );
    refused(
        &["--stack-size", "5KiB", &hello],
        2,
        &["--stack-size", "not a multiple of 4 KiB"],
    );
    refused(
        &[
            "--max-heap-size",
            "16GiB",
            "--heap-address-space",
            "8GiB",
            &hello,
        ],
        2,
        &["max heap size 16 GiB: larger than the heap address space (8 GiB)"],
    );
    refused(&["--timeout", "soon", &hello], 2, &["--timeout", "soon"]);
    refused(&["--no-such-flag", &hello], 2, &["--no-such-flag", "Usage"]);
    refused(&[], 2, &["<module>", "Usage"]);
}

#[test]
fn bad_modules_are_refused_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wasm");
    refused(&[&s(&missing)], 1, &["missing.wasm", "No such file"]);

    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, "just some notes\n").unwrap();
    refused(&[&s(&text)], 1, &["notes.wasm: not a WebAssembly module"]);

    let binary = dir.path().join("junk.wasm");
    std::fs::write(&binary, [0u8, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0xff]).unwrap();
    refused(&[&s(&binary)], 1, &["junk.wasm: invalid module"]);

    let bad_wat = dir.path().join("bad.wat");
    std::fs::write(&bad_wat, "(module (func (export \"_start\") (i32.add)))").unwrap();
    refused(&[&s(&bad_wat)], 1, &["bad.wat: invalid module"]);

    refused(
        &[&s(&wat_guest("unknown_import"))],
        1,
        &["`env::not_provided`", "function"],
    );
    refused(
        &["--max-heap-size", "4MiB", &s(&wat_guest("big_memory"))],
        1,
        &["16 MiB of initial memory", "maximum heap size of 4 MiB"],
    );
    let hello = s(&root().join("examples/hello.wat"));
    refused(
        &["--entrypoint", "nope", &hello],
        1,
        &["no exported function `nope`"],
    );
    refused(
        &[&s(&wat_guest("bad_entry"))],
        1,
        &["export `_start` has type", "takes no parameters"],
    );
}

#[test]
fn bad_preopens_are_refused() {
    let hello = s(&root().join("examples/hello.wat"));
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone");
    refused(
        &["--dir", &format!("/data:{}", gone.display()), &hello],
        1,
        &["/data", "gone", "No such file"],
    );
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    refused(&["--dir", &s(&file), &hello], 1, &["Not a directory"]);
    refused(&["--dir", ":/tmp", &hello], 2, &["--dir", "GUEST:HOST"]);
    refused(&["--dir", "/guest:", &hello], 2, &["--dir", "GUEST:HOST"]);
    // Well-formed preopens, bare and mapped, are accepted.
    let ok = lucet([
        "--dir",
        &s(dir.path()),
        "--dir",
        &format!("/x:{}", dir.path().display()),
        &hello,
    ]);
    assert_eq!(ok.status, 0, "{}", ok.stderr);
}

#[test]
fn precompiled_module_runs_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let guest = rust_guest("args_env");
    let cwasm = dir.path().join("args_env.cwasm");
    let r = lucet(["compile".to_string(), s(&guest), "-o".into(), s(&cwasm)]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let args = ["--env", "GREETING=hi", "--", "a", "b"];
    let from_wasm = lucet([s(&guest)].into_iter().chain(args.map(String::from)));
    let from_cwasm = lucet([s(&cwasm)].into_iter().chain(args.map(String::from)));
    assert_eq!(from_wasm.status, from_cwasm.status);
    assert_eq!(
        from_wasm.stdout.replace("args_env.wasm", "NAME"),
        from_cwasm.stdout.replace("args_env.cwasm", "NAME")
    );

    // WAT compiles too, and an exit status survives precompilation.
    let exit_cwasm = dir.path().join("exit.cwasm");
    assert_eq!(
        lucet([
            "compile".to_string(),
            s(&rust_guest("exit")),
            "-o".into(),
            s(&exit_cwasm)
        ])
        .status,
        0
    );
    assert_eq!(lucet([s(&exit_cwasm), "42".into()]).status, 42);

    // Truncated and corrupted artifacts are refused, not run.
    let bytes = std::fs::read(&cwasm).unwrap();
    let truncated = dir.path().join("truncated.cwasm");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    refused(
        &[&s(&truncated)],
        1,
        &["truncated.cwasm: cannot load precompiled module"],
    );
    let mut corrupt = bytes.clone();
    corrupt[4] = 0x7f; // the ELF class byte
    let corrupt_path = dir.path().join("corrupt.cwasm");
    std::fs::write(&corrupt_path, &corrupt).unwrap();
    refused(
        &[&s(&corrupt_path)],
        1,
        &["corrupt.cwasm: cannot load precompiled module"],
    );

    // Compiling something that is not a module says so.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello").unwrap();
    refused(
        &["compile", &s(&notes), "-o", &s(&dir.path().join("x"))],
        1,
        &["notes.txt: not a WebAssembly module"],
    );
}

#[test]
fn precompiled_modules_and_timeouts() {
    // Interruption checks are compiled in only on request (`--timeout-capable`).
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("spin.cwasm");
    let capable = dir.path().join("spin-t.cwasm");
    let spin = s(&rust_guest("spin"));
    assert_eq!(lucet(["compile", &spin, "-o", &s(&plain)]).status, 0);
    assert_eq!(
        lucet(["compile", "--timeout-capable", &spin, "-o", &s(&capable)]).status,
        0
    );
    // Without checks, a timeout cannot be honoured: refused before running.
    refused(
        &["--timeout", "200ms", &s(&plain)],
        1,
        &[
            "spin.cwasm: cannot load precompiled module: it was compiled without timeout support",
            "--timeout-capable",
        ],
    );
    // With them, the timeout ends it.
    let r = lucet(["--timeout", "200ms", &s(&capable)]);
    assert_eq!(r.status, 124, "{}", r.stderr);
    // A timeout-capable module also runs without a timeout (the CLI picks its engine).
    let exit = dir.path().join("exit-t.cwasm");
    let exit_wasm = s(&rust_guest("exit"));
    assert_eq!(
        lucet(["compile", "--timeout-capable", &exit_wasm, "-o", &s(&exit)]).status,
        0
    );
    assert_eq!(lucet([s(&exit), "7".into()]).status, 7);
    // And a .wasm run with --timeout is compiled with the checks.
    assert_eq!(lucet(["--timeout", "200ms", &spin]).status, 124);
}

/// `lucet-wasi ARGS` with the compile cache in `cache`.
fn with_cache(cache: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = cli();
    cmd.env("LUCET_WASI_CACHE_DIR", cache).args(args);
    cmd.output().unwrap()
}

/// The cache's entries: `(artifact, sum)` paths.
fn entries(cache: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(cache)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    out.sort();
    out.iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .map(|p| (p.clone(), p.with_extension("sum")))
        .collect()
}

#[test]
fn compile_cache_hits_recompiles_bad_entries_and_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let guest = s(&rust_guest("args_env"));
    let run = |args: &[&str]| {
        let out = with_cache(&cache, args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // A miss compiles and stores; a hit runs the same module.
    let first = run(&[&guest, "one"]);
    assert!(first.contains("one"), "{first}");
    let stored = entries(&cache);
    assert_eq!(stored.len(), 1);
    let (artifact, sum) = &stored[0];
    let meta = std::fs::metadata(&cache).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o700
    );
    let mtime = std::fs::metadata(artifact).unwrap().modified().unwrap();
    assert_eq!(run(&[&guest, "one"]), first);
    assert_eq!(
        std::fs::metadata(artifact).unwrap().modified().unwrap(),
        mtime
    );

    // A corrupted entry (one byte of code) is compiled again and rewritten.
    let mut bytes = std::fs::read(artifact).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(artifact, &bytes).unwrap();
    assert_eq!(run(&[&guest, "one"]), first);
    assert_ne!(std::fs::read(artifact).unwrap(), bytes);
    // So is a truncated one, and one whose sum is missing.
    let good = std::fs::read(artifact).unwrap();
    std::fs::write(artifact, &good[..good.len() / 3]).unwrap();
    assert_eq!(run(&[&guest, "one"]), first);
    assert_eq!(std::fs::read(artifact).unwrap(), good);
    std::fs::remove_file(sum).unwrap();
    assert_eq!(run(&[&guest, "one"]), first);
    assert!(sum.exists());

    // --no-cache writes nothing.
    let other = dir.path().join("other");
    let out = with_cache(&other, &["--no-cache", &guest, "two"]);
    assert!(out.status.success());
    assert!(!other.exists());

    // A cache directory other users may write to is not used (a warning; the run goes on).
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = with_cache(&open, &[&guest, "three"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not using the compile cache")
            && stderr.contains("writable by other users"),
        "{stderr}"
    );
    assert!(entries(&open).is_empty());
}

#[test]
fn replacing_a_cache_entry_under_a_running_process_is_safe() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let guest = s(&rust_guest("sleep"));
    assert!(with_cache(&cache, &[&guest, "1"]).status.success());
    let (artifact, sum) = entries(&cache).remove(0);
    // A second process maps the entry and sleeps in it...
    let child = cli()
        .env("LUCET_WASI_CACHE_DIR", &cache)
        .args([&guest, "1500"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    // ...while the entry is replaced (as writers do: a new file renamed into place).
    let tmp = dir.path().join("new");
    std::fs::write(&tmp, b"\x7fELF not a module").unwrap();
    std::fs::rename(&tmp, &artifact).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "slept at least 1500 ms\n"
    );
    // The replaced entry no longer matches its sum: the next run compiles again.
    let out = with_cache(&cache, &[&guest, "1"]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(&sum).unwrap().len(),
        64,
        "the sum is rewritten with the artifact"
    );
    assert!(std::fs::read(&artifact)
        .unwrap()
        .starts_with(b"\x7fELF\x02"));
}

#[test]
fn help_and_version() {
    let r = lucet(["--help"]);
    assert_eq!(r.status, 0);
    // Compare with line wrapping folded away.
    let help = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for f in [
        "lucet-wasi [OPTIONS] <module> [--] [guest_args]...",
        "--entrypoint <name>",
        "[default: _start]",
        "--dir <guest:host>",
        "--max-heap-size <size>",
        "[default: 4GiB]",
        "--heap-address-space <size>",
        "[default: 8GiB]",
        "--stack-size <size>",
        "[default: 8MiB]",
        "--env <K=V>",
        "--inherit-env",
        "--timeout <duration>",
        "powers of 1024",
        "powers of 1000",
        "compile",
    ] {
        assert!(help.contains(f), "--help lacks {f:?}:\n{}", r.stdout);
    }
    let r = lucet(["-V"]);
    assert_eq!(
        (r.status, r.stdout.trim()),
        (0, concat!("lucet-wasi ", env!("CARGO_PKG_VERSION")))
    );
}
