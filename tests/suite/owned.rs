//! `#[hostcall]` functions returning owned values (`Vec<T>`, `String`, in an `Option` or
//! a `Result`): placed in memory the guest's `cabi_realloc` allocates, handed to C and
//! Rust guests as values they own; and every way that can go wrong ending only the
//! instance, with an error naming it.

use crate::support::*;
use lucet_wasi::{
    hostcall, hostcalls, Capture, Engine, EngineConfig, Error, Exit, GuestType, HostcallError,
    HostcallSet, MiB, Module, Output, WasiInstance,
};
use std::collections::HashMap;
use std::path::Path;

#[derive(Default)]
struct Kv {
    map: HashMap<String, Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, GuestType)]
#[repr(C)]
struct Point {
    x: f32,
    y: f32,
}

/// The value of `key`, if there is one.
#[hostcall(module = "kv")]
fn lookup(kv: &mut Kv, key: &str) -> Option<Vec<u8>> {
    kv.map.get(key).cloned()
}

/// A greeting for `name`.
#[hostcall]
fn greet(name: &str) -> String {
    format!("hello, {name}!")
}

/// `n` points on the diagonal.
#[hostcall]
fn diagonal(n: u32) -> Vec<Point> {
    (0..n)
        .map(|i| Point {
            x: i as f32,
            y: i as f32,
        })
        .collect()
}

#[derive(Debug, PartialEq)]
struct TooBig(u32);

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes is more than 16 MiB", self.0)
    }
}

impl std::error::Error for TooBig {}

/// `len` bytes counting up from `seed` (wrapping); at most 16 MiB.
#[hostcall]
fn blob(len: u32, seed: u32) -> Result<Vec<u8>, TooBig> {
    if len > 16 << 20 {
        return Err(TooBig(len));
    }
    Ok((0..len).map(|i| seed.wrapping_add(i) as u8).collect())
}

fn set() -> HostcallSet {
    hostcalls![lookup, greet, diagonal, blob]
}

fn engine() -> Engine {
    Engine::shared(&EngineConfig::default()).unwrap()
}

fn kv() -> Kv {
    Kv {
        map: HashMap::from([("colour".to_string(), b"blue".to_vec())]),
    }
}

/// What the C and Rust guests print; the sum is that of 1 MiB of bytes 7, 8, ...
/// wrapping (4,096 times 0 + 1 + ... + 255).
const OUT: &str = "lookup blue\nlookup none\ngreet hello, wörld!\n\
     diagonal (0,0) (1,1) (2,2)\ndiagonal empty\nblob 1048576 7 6 133693440\nfreed\n";

/// Runs `guest` with `args`, its heap capped at 16 MiB (the guests fetch 100 MiB in
/// 1 MiB results: each must be freed): its stdout and how it ended.
fn run(guest: &Path, args: &[&str]) -> (String, Result<Exit, Error>) {
    let module = Module::from_file(&engine(), guest)
        .unwrap()
        .with_hostcalls(&set())
        .unwrap();
    let out = Capture::new();
    let result = WasiInstance::builder()
        .module(&module)
        .args(args.iter().copied())
        .data(kv())
        .max_heap(MiB(16))
        .stdout(Output::capture(&out))
        .run("_start");
    (out.text(), result)
}

fn rust_owned() -> std::path::PathBuf {
    // The guest's bindings are the generated ones, committed: they must match.
    assert_committed(
        "tests/guests/rust/src/owned_bindings.rs",
        &set().rust_bindings(),
    );
    rust_guest("owned")
}

fn c_owned(name: &str, extra: &[&str]) -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("owned.h"), set().c_header()).unwrap();
    let include = format!("-I{}", dir.path().display());
    let mut args = vec![include.as_str()];
    args.extend(extra);
    c_program(&root().join("tests/guests/c/owned.c"), name, &args)
}

/// Before: a host function could return only scalars; a variable-size result needed
/// an `out: &mut [u8]` buffer and a grow-and-retry loop in every guest.
#[test]
fn rust_guest_gets_owned_vecs_and_strings() {
    let (out, result) = run(&rust_owned(), &[]);
    assert_eq!(result.unwrap(), Exit::Returned, "{out}");
    assert_eq!(out, OUT);
}

#[test]
fn c_guest_gets_results_it_frees() {
    let (out, result) = run(&c_owned("owned", &[]), &[]);
    assert_eq!(result.unwrap(), Exit::Returned, "{out}");
    assert_eq!(out, OUT);
}

/// A guest allocator that cannot give the bytes ends the instance with an error naming
/// the function and the size; the process (and the next instance) go on.
#[test]
fn an_allocator_that_fails_ends_the_instance_with_alloc_failed() {
    for (guest, args) in [
        (rust_owned(), vec!["fail"]),
        (c_owned("owned_failing_alloc", &["-DFAILING_ALLOC"]), vec![]),
    ] {
        let (out, result) = run(&guest, &args);
        assert_eq!(out, "asking\n");
        let e = result.unwrap_err();
        assert!(
            matches!(
                &e,
                Error::HostFunction {
                    function,
                    cause: HostcallError::AllocFailed { size: 1048576, align: 1 },
                    ..
                } if function == "env::blob"
            ),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(
                "host function `env::blob`: the guest's `cabi_realloc` could not allocate \
                 1048576 bytes (align 1) for the result"
            ),
            "{e}"
        );
    }
    let (out, result) = run(&rust_owned(), &[]);
    assert_eq!((out.as_str(), result.unwrap()), (OUT, Exit::Returned));
}

/// `Err` from a function with an owned result ends the instance like any other.
#[test]
fn an_err_result_ends_the_instance_with_its_source() {
    let (_, result) = run(&rust_owned(), &["too-big"]);
    let e = result.unwrap_err();
    match &e {
        Error::HostFunction {
            function, cause, ..
        } if function == "env::blob" => {
            assert_eq!(cause.downcast_ref::<TooBig>(), Some(&TooBig(u32::MAX)));
        }
        other => panic!("{other:?}"),
    }
}

/// The wasm ABI itself: pointer and length in the return area; an absent `Option`
/// writes nothing and allocates nothing; a bad allocator or return area is an error
/// naming what was wrong, and a trap in the allocator is the guest's trap.
#[test]
fn the_abi_and_what_a_bad_allocator_or_return_area_gets() {
    let module = Module::from_file(&engine(), wat_guest("owned_errors"))
        .unwrap()
        .with_hostcalls(&set())
        .unwrap();
    let instance = || {
        WasiInstance::builder()
            .module(&module)
            .data(kv())
            .build()
            .unwrap()
    };
    assert_eq!(instance().call::<(), i32>("greet", ()).unwrap(), 11);
    // 0 (absent) + 77 (untouched) + 0 allocator calls.
    assert_eq!(
        instance().call::<(), i32>("lookup_missing", ()).unwrap(),
        77
    );
    assert_eq!(instance().call::<(), i32>("odd", ()).unwrap(), 1025);
    type Check = fn(&HostcallError) -> bool;
    let cases: [(&str, Check); 4] = [
        ("fails", |c| {
            matches!(c, HostcallError::AllocFailed { size: 11, align: 1 })
        }),
        ("outside", |c| {
            matches!(
                c,
                HostcallError::BadAllocation {
                    ptr: 0xfffff000,
                    size: 11,
                    align: 1,
                    memory: 65536
                }
            )
        }),
        ("area_outside", |c| {
            matches!(
                c,
                HostcallError::OutOfBounds {
                    arg: Some("(return area)"),
                    ptr: 65532,
                    len: 8,
                    ..
                }
            )
        }),
        ("area_misaligned", |c| {
            matches!(
                c,
                HostcallError::Misaligned {
                    arg: Some("(return area)"),
                    ptr: 6,
                    align: 4
                }
            )
        }),
    ];
    for (export, check) in cases {
        let mut i = instance();
        let e = i.call::<(), ()>(export, ()).unwrap_err();
        match &e {
            Error::HostFunction {
                function, cause, ..
            } if function == "env::greet" && check(cause) => {}
            other => panic!("{export}: {other:?}"),
        }
        assert!(!e.to_string().contains('\n'), "{e}");
    }
    // A bad return area is refused before the function runs: no allocation.
    let mut i = instance();
    i.call::<(), ()>("area_outside", ()).unwrap_err();
    assert_eq!(i.memory().unwrap().len(), 65536);
    // A trap in the allocator is the guest's own trap, with its backtrace.
    let e = instance().call::<(), ()>("traps", ()).unwrap_err();
    match &e {
        Error::Trap { backtrace, .. } => {
            assert!(format!("{backtrace}").contains("cabi_realloc"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

/// A guest importing a host function with an owned result must export the allocator:
/// refused at link time, with a message saying what to export.
#[test]
fn a_guest_without_cabi_realloc_is_refused_at_link_time() {
    let wat = r#"(module
        (import "env" "greet" (func (param i32 i32 i32)))
        (memory (export "memory") 1)
        (func (export "_start")))"#;
    let module = Module::from_bytes(&engine(), wat).unwrap();
    for result in [
        module.with_hostcalls(&set()).map(|_| ()),
        WasiInstance::builder()
            .module(&module)
            .hostcall(greet)
            .build()
            .map(|_| ()),
    ] {
        let e = result.unwrap_err();
        assert!(
            matches!(&e, Error::Link { import: Some(f), .. } if f == "env::greet"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "cannot link module: `env::greet`: the host function `greet(name: &str) -> String` \
             returns an owned value, which is placed in memory the guest allocates: the guest \
             must export `cabi_realloc(old_ptr: i32, old_size: i32, align: i32, new_size: i32) \
             -> i32` (the generated C header and Rust bindings define one)"
        );
    }
    // A guest that does not import it needs no allocator.
    let wat = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;
    let module = Module::from_bytes(&engine(), wat).unwrap();
    module.with_hostcalls(&set()).unwrap();
}

/// The bindings: Rust safe functions return `Option<Vec<u8>>`, `String`, `Vec<Point>`;
/// C takes a return area the caller frees; both define the allocator.
#[test]
fn generated_bindings_hand_over_owned_values() {
    let rust = set().rust_bindings();
    for part in [
        "    /// The value of `key`, if there is one.\n    \
         pub fn lookup(key: &str) -> Option<Vec<u8>> {",
        "pub fn greet(name: &str) -> String {",
        "pub fn diagonal(n: u32) -> Vec<super::Point> {",
        "pub fn lookup(key: *const u8, key_len: usize, ret: *mut super::super::lucet_wasi_abi::List<u8>) -> bool;",
        "#[unsafe(no_mangle)]\n    pub unsafe extern \"C\" fn cabi_realloc(",
    ] {
        assert!(rust.contains(part), "{part}\nnot in:\n{rust}");
    }
    let c = set().c_header();
    for part in [
        "typedef struct { uint8_t *ptr; size_t len; } lucet_wasi_list_u8_t;",
        "bool kv_lookup(const char *key, size_t key_len, lucet_wasi_list_u8_t *ret);",
        "typedef struct { char *ptr; size_t len; } lucet_wasi_string_t;",
        "void env_greet(const char *name, size_t name_len, lucet_wasi_string_t *ret);",
        "typedef struct { struct Point *ptr; size_t len; } lucet_wasi_list_Point_t;",
        "__attribute__((weak, export_name(\"cabi_realloc\")))",
        "Owned results (a last parameter `ret`) are the caller's: free(ret->ptr).",
    ] {
        assert!(c.contains(part), "{part}\nnot in:\n{c}");
    }
    // Without owned results, neither defines an allocator.
    #[hostcall]
    fn plain(x: u32) -> u32 {
        x
    }
    assert!(!hostcalls![plain].c_header().contains("cabi_realloc"));
    assert!(!hostcalls![plain].rust_bindings().contains("cabi_realloc"));
}

/// Traced instances take the observed glue: the same results, the calls traced.
#[test]
fn traced_instances_place_owned_results_too() {
    let module = Module::from_file(&engine(), rust_owned())
        .unwrap()
        .with_hostcalls(&set())
        .unwrap();
    let (out, trace) = (Capture::new(), Capture::new());
    let exit = WasiInstance::builder()
        .module(&module)
        .data(kv())
        .stdout(Output::capture(&out))
        .trace(trace.clone())
        .run("_start")
        .unwrap();
    assert_eq!((out.text().as_str(), exit), (OUT, Exit::Returned));
    let trace = trace.text();
    assert!(trace.contains("env::greet("), "{trace}");
    assert!(trace.contains("kv::lookup("), "{trace}");
}

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;

    /// Async runs need an engine that can interrupt the guest.
    fn engine() -> Engine {
        Engine::shared(&EngineConfig::default().timeout_capable(true)).unwrap()
    }

    /// A greeting for `name`, from an async host function.
    #[hostcall(name = "greet")]
    async fn greet_later(name: String) -> String {
        tokio::task::yield_now().await;
        format!("hello, {name}!")
    }

    /// In async runs the allocator is called async: sync and async host functions with
    /// owned results give the guests what sync runs do.
    #[tokio::test(flavor = "current_thread")]
    async fn async_runs_place_owned_results() {
        let set: HostcallSet = hostcalls![lookup, greet_later, diagonal, blob];
        for guest in [rust_owned(), c_owned("owned", &[])] {
            let module = Module::from_file(&engine(), &guest)
                .unwrap()
                .with_hostcalls(&set)
                .unwrap();
            let out = Capture::new();
            let exit = WasiInstance::builder()
                .module(&module)
                .data(kv())
                .max_heap(MiB(16))
                .stdout(Output::capture(&out))
                .run_async("_start")
                .await
                .unwrap();
            assert_eq!((out.text().as_str(), exit), (OUT, Exit::Returned));
        }
        // A failing allocator ends an async run the same way.
        let module = Module::from_file(&engine(), rust_owned())
            .unwrap()
            .with_hostcalls(&set)
            .unwrap();
        let e = WasiInstance::builder()
            .module(&module)
            .arg("fail")
            .data(kv())
            .run_async("_start")
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                Error::HostFunction {
                    cause: HostcallError::AllocFailed { .. },
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
