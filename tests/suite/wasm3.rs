//! WebAssembly 3.0 proposals: each `.wat` guest runs through the CLI and the library
//! with the default configuration, output checked; with its proposal switched off it
//! fails to load with a message naming the proposal; precompiled modules keep their
//! switches.

use crate::support::*;
use lucet_wasi::{Capture, Error, MiB, Output, WasiInstance, WasmFeatures};

/// (guest, proposal it needs, `--wasm` switches that turn it off, extra CLI flags,
/// expected output).
const GUESTS: &[(&str, &str, &str, &[&str], &str)] = &[
    (
        "exceptions",
        "exceptions",
        "exceptions=n",
        &[],
        "caught small: 42\ncaught pair: 7\ncaught pair: 1234567890123\n\
         rethrown small: 42\ncaught by catch_all: 1\n",
    ),
    (
        "gc",
        "gc",
        "gc=n",
        &[],
        "array sum: 328350\narray len: 100\npoint x+y: 34\nref.test point: 1\ni31: -77\n\
         garbage kept: 332833500\n",
    ),
    (
        "tail_call",
        "tail-call",
        "tail-call=n",
        &[],
        "sum 1..10000000: 50000005000000\nis 1000001 odd: 1\n",
    ),
    (
        "call_ref",
        "function-references",
        "gc=n,function-references=n",
        &[],
        "call_ref add: 13\ncall_ref mul: 42\nnull reference: -1\n",
    ),
    (
        "multi_memory",
        "multi-memory",
        "multi-memory=n",
        &[],
        "hello from the second memory\nsecond memory pages: 3\nstored in the second: 9876543211\n",
    ),
    (
        "memory64",
        "memory64",
        "memory64=n",
        &["--max-heap-size", "1MiB"],
        "grow by 100 pages: -1\ngrow by 1 page: 1\npages now: 2\n\
         load at 64 KiB + 8: 4242424242424242\n",
    ),
];

fn switched_off(proposal: &str) -> String {
    format!("uses the WebAssembly `{proposal}` proposal, which is switched off")
}

#[test]
fn proposals_run_through_the_cli_by_default() {
    for &(guest, _, _, flags, want) in GUESTS {
        let mut args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        args.push(s(&wat_guest(guest)));
        let r = lucet(&args);
        assert_eq!(
            (r.status, r.stdout.as_str()),
            (0, want),
            "{guest}: {}",
            r.stderr
        );
    }
}

#[test]
fn proposals_run_through_the_library_by_default() {
    for &(guest, _, _, flags, want) in GUESTS {
        let out = Capture::new();
        let max_heap = if flags.is_empty() { MiB(64) } else { MiB(1) };
        let exit = WasiInstance::builder()
            .module_file(wat_guest(guest))
            .unwrap()
            .stdout(Output::capture(&out))
            .max_heap(max_heap)
            .run("_start");
        assert_eq!(exit.unwrap().code(), 0, "{guest}");
        assert_eq!(out.text(), want, "{guest}");
    }
}

#[test]
fn a_switched_off_proposal_is_named_when_its_guest_fails_to_load() {
    for &(guest, proposal, off, _, _) in GUESTS {
        let r = lucet(["--wasm", off, &s(&wat_guest(guest))]);
        assert_eq!(r.status, 1, "{guest}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{guest}: {}", r.stderr);
        assert!(
            r.stderr.starts_with(&format!(
                "error: {}: invalid module: ",
                s(&wat_guest(guest))
            )) && r.stderr.contains(&switched_off(proposal)),
            "{guest}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty());

        let features = WasmFeatures::default().switch(off).unwrap();
        let err = WasiInstance::builder()
            .module_file(wat_guest(guest))
            .unwrap()
            .wasm_features(features)
            .stdout(Output::null())
            .run("_start")
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidModule { .. })
                && err.to_string().contains(&switched_off(proposal)),
            "{guest}: {err}"
        );
    }
}

#[test]
fn wasm_flag_is_documented_and_checked() {
    let r = lucet(["--help"]);
    assert!(r.stdout.contains("--wasm <name=y|n,...>"), "{}", r.stdout);
    assert!(
        r.stdout.contains("exceptions, gc, tail-call"),
        "{}",
        r.stdout
    );
    let hello = s(&root().join("examples/hello.wat"));
    let r = lucet(["--wasm", "threadz=y", &hello]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown wasm feature \"threadz\""),
        "{}",
        r.stderr
    );
    let r = lucet(["--wasm", "function-references=n", &hello]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("gc needs function-references"),
        "{}",
        r.stderr
    );
    // Switching off what a module does not use changes nothing.
    let r = lucet(["--wasm", "exceptions=n,gc=n,memory64=n", &hello, "you"]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "hello, you!\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn precompiled_modules_keep_their_switches() {
    let dir = tempfile::tempdir().unwrap();
    let cwasm = dir.path().join("exceptions.cwasm");
    let guest = s(&wat_guest("exceptions"));
    let r = lucet(["compile", &guest, "-o", &s(&cwasm)]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let r = lucet([s(&cwasm)]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("caught small: 42\n"), "{}", r.stdout);

    // Run with a proposal switched off that it was compiled with: one line naming it.
    let r = lucet(["--wasm", "exceptions=n", &s(&cwasm)]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "error: {}: cannot load precompiled module: it was compiled with the \
             WebAssembly `exceptions` proposal on, but it is switched off here (--wasm \
             exceptions=n); run it with the switches it was compiled with, or compile it \
             again with these\n",
            s(&cwasm)
        )
    );

    // `compile` honours the switches: the guest cannot be compiled without exceptions...
    let r = lucet([
        "compile",
        "--wasm",
        "exceptions=n",
        &guest,
        "-o",
        &s(&cwasm),
    ]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&switched_off("exceptions")),
        "{}",
        r.stderr
    );
    // ...and a module compiled with fewer proposals runs with the same switches.
    let hello = s(&root().join("examples/hello.wat"));
    let small = dir.path().join("hello.cwasm");
    let r = lucet([
        "compile",
        "--wasm",
        "gc=n,exceptions=n",
        &hello,
        "-o",
        &s(&small),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let r = lucet(["--wasm", "gc=n,exceptions=n", &s(&small), "x"]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "hello, x!\n"),
        "{}",
        r.stderr
    );
}
