//! `#[hostcall]` end to end: every parameter and return kind through real guests (Rust
//! and C, each declaring the imports from the generated bindings), and every runtime
//! failure ending only its own instance.

use crate::support::*;
use lucet_wasi::{
    hostcall, hostcalls, Capture, Engine, EngineConfig, Error, Exit, GuestType, HostContext,
    HostcallError, HostcallSet, Module, Output, WasiInstance,
};
use std::collections::HashMap;
use std::io::Write;

#[derive(Default)]
struct Kv {
    map: HashMap<String, Vec<u8>>,
    lines: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, GuestType)]
#[repr(C)]
struct Point {
    x: f32,
    y: f32,
}

#[hostcall(module = "kv")]
fn put(kv: &mut Kv, key: &str, value: &[u8]) -> u32 {
    kv.map.insert(key.to_string(), value.to_vec());
    kv.map.len() as u32
}

/// Copies the value into `out` as far as it fits; returns its length, -1 if missing.
#[hostcall(module = "kv")]
fn get(kv: &mut Kv, key: &str, out: &mut [u8]) -> i32 {
    match kv.map.get(key) {
        Some(v) => {
            let n = v.len().min(out.len());
            out[..n].copy_from_slice(&v[..n]);
            v.len() as i32
        }
        None => -1,
    }
}

#[hostcall]
fn log(cx: &mut HostContext<'_, Kv>, level: u32, msg: &str) {
    writeln!(cx.stdout(), "log {level} {msg}").unwrap();
    cx.data_mut().lines.push(format!("{level}:{msg}"));
}

#[hostcall]
fn scale(x: f64, factor: f32) -> f64 {
    x * factor as f64
}

#[hostcall]
fn negate(flag: bool) -> bool {
    !flag
}

#[hostcall]
fn mix(a: i32, b: i64, c: u64) -> i64 {
    (a as i64).wrapping_mul(b).wrapping_add(c as i64)
}

#[hostcall]
fn shift(points: &mut [Point], dx: f32, dy: f32) {
    for p in points {
        p.x += dx;
        p.y += dy;
    }
}

#[hostcall]
fn centroid(points: &[Point], out: &mut Point) -> u32 {
    let n = points.len() as f32;
    out.x = points.iter().map(|p| p.x).sum::<f32>() / n;
    out.y = points.iter().map(|p| p.y).sum::<f32>() / n;
    points.len() as u32
}

#[hostcall]
fn owned(text: String, bytes: Vec<u8>) -> u32 {
    text.len() as u32 * 1000 + bytes.iter().map(|&b| b as u32).sum::<u32>()
}

#[derive(Debug, PartialEq)]
struct DivByZero;

impl std::fmt::Display for DivByZero {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("division by zero")
    }
}

impl std::error::Error for DivByZero {}

#[hostcall]
fn checked_div(a: i32, b: i32) -> Result<i32, DivByZero> {
    a.checked_div(b).ok_or(DivByZero)
}

/// Writes `n` squares at `out` through the context's typed memory access.
#[hostcall]
fn squares(cx: &mut HostContext<'_, Kv>, out: u32, n: u32) -> Result<(), HostcallError> {
    for i in 0..n {
        cx.memory_mut().write(out + 4 * i, &(i * i))?;
    }
    Ok(())
}

#[hostcall]
fn boom() {
    panic!("host function bug")
}

fn set() -> HostcallSet {
    hostcalls![
        put,
        get,
        log,
        scale,
        negate,
        mix,
        shift,
        centroid,
        owned,
        checked_div,
        squares,
        boom
    ]
}

fn engine() -> Engine {
    Engine::shared(&EngineConfig::default()).unwrap()
}

/// Runs a kinds guest with the set attached to its module; returns stdout and the data.
fn run_kinds(path: &std::path::Path) -> (String, Kv) {
    let module = Module::from_file(&engine(), path)
        .unwrap()
        .with_hostcalls(&set())
        .unwrap();
    let out = Capture::new();
    let mut instance = WasiInstance::builder()
        .module(&module)
        .data(Kv::default())
        .stdout(Output::capture(&out))
        .build()
        .unwrap();
    assert_eq!(instance.run("_start").unwrap(), Exit::Returned);
    let kv = std::mem::take(instance.data_mut::<Kv>().unwrap());
    (out.text(), kv)
}

fn check_data(kv: &Kv) {
    assert_eq!(kv.map["colour"], b"blue");
    assert_eq!(kv.map["size"], b"xl");
    assert_eq!(kv.lines, ["2:hello host"]);
}

/// What the Rust `hostcall_*` guests print.
const RUST_KINDS_OUT: &str = "put 1\nput 2\nget 4 blue....\nget -1\nlog 2 hello host\nscale 3\n\
     negate false true\nmix -3298534883329\n\
     shift [Point { x: 1.5, y: 1.0 }, Point { x: 3.5, y: 3.0 }]\n\
     centroid 2 Point { x: 2.5, y: 2.0 }\nowned 6006\nchecked_div 3\nsquares [0, 1, 4, 9]\n";

#[test]
fn rust_guest_from_generated_externs_sees_every_kind() {
    // The guest's declarations are the generated ones, committed: they must match.
    assert_committed("tests/guests/rust/src/hostcalls.rs", &set().rust_externs());
    let (out, kv) = run_kinds(&rust_guest("hostcall_kinds"));
    assert_eq!(out, RUST_KINDS_OUT);
    check_data(&kv);
}

/// The safe bindings (`rust_bindings`) compile into a guest without `unsafe` and make
/// the same calls. (Before: only raw `unsafe extern "C"` declarations were generated.)
#[test]
fn rust_guest_from_generated_safe_bindings_sees_every_kind() {
    assert_committed(
        "tests/guests/rust/src/hostcalls_safe.rs",
        &set().rust_bindings(),
    );
    let (out, kv) = run_kinds(&rust_guest("hostcall_safe"));
    assert_eq!(out, RUST_KINDS_OUT);
    check_data(&kv);
}

#[test]
fn c_guest_from_generated_header_sees_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostcalls.h"), set().c_header()).unwrap();
    let include = format!("-I{}", dir.path().display());
    let wasm = c_guest_with("hostcall_kinds", &[&include]);
    let (out, kv) = run_kinds(&wasm);
    assert_eq!(
        out,
        "put 1\nput 2\nget 4 blue....\nget -1\nlog 2 hello host\nscale 3\nnegate 0 1\n\
         mix -3298534883329\nshift (1.5,1) (3.5,3)\ncentroid 2 (2.5,2)\nowned 6006\n\
         checked_div 3\nsquares 0 1 4 9\n"
    );
    check_data(&kv);
}

#[test]
fn generated_bindings_follow_the_abi() {
    let header = set().c_header();
    for decl in [
        "__attribute__((import_module(\"kv\"), import_name(\"put\")))\nuint32_t kv_put(const char *key, size_t key_len, const uint8_t *value, size_t value_len);",
        "int32_t kv_get(const char *key, size_t key_len, uint8_t *out, size_t out_len);",
        "void env_log(uint32_t level, const char *msg, size_t msg_len);",
        "double env_scale(double x, float factor);",
        "bool env_negate(bool flag);",
        "int64_t env_mix(int32_t a, int64_t b, uint64_t c);",
        "struct Point;\n",
        "void env_shift(struct Point *points, size_t points_len, float dx, float dy);",
        "uint32_t env_centroid(const struct Point *points, size_t points_len, struct Point *out);",
        "void env_boom(void);",
        // The host function's doc comment comes along.
        "/** Copies the value into `out` as far as it fits; returns its length, -1 if missing. */\n\
         __attribute__((import_module(\"kv\"), import_name(\"get\")))",
    ] {
        assert!(header.contains(decl), "{decl}\nnot in:\n{header}");
    }
    let rust = set().rust_externs();
    assert!(rust.contains("pub mod kv {\n    #[link(wasm_import_module = \"kv\")]"));
    assert!(rust.contains(
        "        #[link_name = \"get\"]\n        pub fn get(key: *const u8, key_len: usize, out: *mut u8, out_len: usize) -> i32;"
    ));
    assert!(rust.contains("pub fn centroid(points: *const super::Point, points_len: usize, out: *mut super::Point) -> u32;"));
}

/// Runs export `name` of the error guest in a fresh instance.
fn error_case(module: &Module, name: &str) -> Error {
    let mut instance = WasiInstance::builder()
        .module(module)
        .data(Kv::default())
        .build()
        .unwrap();
    instance.call::<(), ()>(name, ()).unwrap_err()
}

#[test]
fn bad_arguments_end_the_instance_with_a_named_error() {
    let module = Module::from_file(&engine(), wat_guest("hostcall_errors"))
        .unwrap()
        .with_hostcalls(&set())
        .unwrap();
    type Check = fn(&HostcallError) -> bool;
    let cases: [(&str, &str, Check); 8] = [
        ("out_of_bounds", "env::log", |c| {
            matches!(
                c,
                HostcallError::OutOfBounds {
                    arg: Some("msg"),
                    ptr: 65530,
                    len: 100,
                    memory: 65536
                }
            )
        }),
        ("overflow", "env::log", |c| {
            matches!(
                c,
                HostcallError::OutOfBounds {
                    arg: Some("msg"),
                    ptr: 0xffffff00,
                    len: 0x200,
                    ..
                }
            )
        }),
        ("not_utf8", "env::log", |c| {
            matches!(
                c,
                HostcallError::NotUtf8 {
                    arg: Some("msg"),
                    ptr: 16,
                    valid_up_to: 6
                }
            )
        }),
        ("overlap", "kv::get", |c| {
            matches!(
                c,
                HostcallError::Overlap {
                    arg: Some("out"),
                    other: "key"
                }
            )
        }),
        ("misaligned", "env::centroid", |c| {
            matches!(
                c,
                HostcallError::Misaligned {
                    arg: Some("points"),
                    ptr: 17,
                    align: 4
                }
            )
        }),
        ("too_many", "env::centroid", |c| {
            matches!(
                c,
                HostcallError::OutOfBounds {
                    arg: Some("points"),
                    ..
                }
            )
        }),
        ("div_by_zero", "env::checked_div", |c| {
            c.downcast_ref::<DivByZero>() == Some(&DivByZero)
        }),
        (
            "boom",
            "env::boom",
            |c| matches!(c, HostcallError::Panicked { message } if message == "host function bug"),
        ),
    ];
    for (export, function, check) in cases {
        let e = error_case(&module, export);
        match &e {
            Error::HostFunction {
                function: f, cause, ..
            } if f == function && check(cause) => {}
            other => panic!("{export}: {other:?}"),
        }
        // One line that names the function and the cause.
        let message = e.to_string();
        assert!(
            message.starts_with(&format!("host function `{function}`: ")),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
        // The next instance of the same module is fine.
        let mut next = WasiInstance::builder()
            .module(&module)
            .data(Kv::default())
            .build()
            .unwrap();
        assert_eq!(next.call::<(), i32>("fine", ()).unwrap(), 3);
    }
    let mut instance = WasiInstance::builder()
        .module(&module)
        .data(Kv::default())
        .build()
        .unwrap();
    assert_eq!(instance.call::<(), i32>("negate7", ()).unwrap(), 0);
}

#[test]
fn data_of_the_wrong_type_is_refused_at_build() {
    let module = Module::from_file(&engine(), wat_guest("hostcall_errors"))
        .unwrap()
        .with_hostcalls(&set())
        .unwrap();
    for builder in [
        WasiInstance::builder().module(&module),
        WasiInstance::builder().module(&module).data(String::new()),
    ] {
        let e = builder.build().err().unwrap();
        match &e {
            Error::HostFunction {
                function,
                cause: HostcallError::WrongData { expected, .. },
                ..
            } if function == "kv::put" && expected.ends_with("Kv") => {}
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("hostcall::Kv"), "{e}");
    }
}

#[test]
fn builder_hostcalls_link_per_instance_and_refuse_duplicates() {
    let module = Module::from_file(&engine(), wat_guest("hostcall_errors")).unwrap();
    // Without the functions, linking names the first missing import.
    let e = WasiInstance::builder()
        .module(&module)
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(&e, Error::UnknownImport { module, field, .. } if module == "env" && field == "log"),
        "{e:?}"
    );
    let mut instance = WasiInstance::builder()
        .module(&module)
        .data(Kv::default())
        .hostcall(log)
        .hostcall(get)
        .hostcall(centroid)
        .hostcall(negate)
        .hostcall(checked_div)
        .hostcall(boom)
        .build()
        .unwrap();
    assert_eq!(instance.call::<(), i32>("fine", ()).unwrap(), 3);
    let e = WasiInstance::builder()
        .module(&module)
        .hostcalls(&set())
        .hostcall(log)
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(&e, Error::DuplicateHostcall { module, name, .. } if module == "env" && name == "log"),
        "{e:?}"
    );
    // Both Rust functions are named (before: only the import).
    assert!(
        e.to_string()
            .starts_with("two host functions are imported as `env::log`: `log("),
        "{e}"
    );
    // A function whose type differs from the import is a link error naming it.
    #[hostcall(name = "negate")]
    fn negate_i64(x: i64) -> i64 {
        -x
    }
    let e = WasiInstance::builder()
        .module(&module)
        .data(Kv::default())
        .hostcalls(
            &set()
                .iter()
                .filter(|h| h.name() != "negate")
                .copied()
                .collect(),
        )
        .hostcall(negate_i64)
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(&e, Error::Link { import: Some(f), .. } if f == "env::negate"),
        "{e:?}"
    );
    // Which side has which type, and the Rust function (before: two wasm types, with
    // neither side named).
    assert_eq!(
        e.to_string(),
        "cannot link module: `env::negate`: the guest imports it as (i32) -> i32; \
         the host function `negate_i64(x: i64) -> i64` takes (i64) -> i64"
    );
}

/// `write_bindings` writes the header and the safe Rust bindings, and leaves a file
/// whose content is current untouched (a build script can run it every build).
#[test]
fn write_bindings_writes_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    set().write_bindings(&out, "host").unwrap();
    let (h, rs) = (out.join("host.h"), out.join("host.rs"));
    assert_eq!(std::fs::read_to_string(&h).unwrap(), set().c_header());
    assert_eq!(std::fs::read_to_string(&rs).unwrap(), set().rust_bindings());
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    for p in [&h, &rs] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    set().write_bindings(&out, "host").unwrap();
    assert_eq!(std::fs::metadata(&h).unwrap().modified().unwrap(), old);
    // A changed set rewrites them.
    let smaller: HostcallSet = hostcalls![scale];
    smaller.write_bindings(&out, "host").unwrap();
    assert_eq!(std::fs::read_to_string(&h).unwrap(), smaller.c_header());
    assert_ne!(std::fs::metadata(&rs).unwrap().modified().unwrap(), old);
}

#[test]
fn hostcalls_stay_plain_functions() {
    let mut kv = Kv::default();
    assert_eq!(put(&mut kv, "a", b"1"), 1);
    assert_eq!(scale(2.0, 0.5), 1.0);
    assert_eq!(checked_div(1, 0), Err(DivByZero));
}

/// The `plugin` example binary.
fn plugin_example() -> std::process::Command {
    example("plugin")
}

#[test]
fn plugin_example_runs_its_c_and_rust_plugins() {
    // The committed bindings are what `--bindings` writes.
    let dir = tempfile::tempdir().unwrap();
    let written = plugin_example()
        .arg("--bindings")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(written.success());
    for file in ["plugin_imports.h", "plugin_imports.rs"] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(file)).unwrap(),
            std::fs::read_to_string(root().join("examples/plugin").join(file)).unwrap(),
            "examples/plugin/{file} is stale: `cargo run --example plugin -- --bindings examples/plugin`"
        );
    }
    let c = c_program(&root().join("examples/plugin/plugin.c"), "plugin", &[]);
    let rust = rust_guest("plugin");

    for (wasm, language) in [(c, "C"), (rust, "Rust")] {
        let out = plugin_example()
            .arg(&wasm)
            .args(["colour", "blue", "size", "xl"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "plugin: put colour, now 1 keys\nplugin: put size, now 2 keys\n\
                 plugin: colour is blue\nplugin: scale(1.5, 4) = 6\n\
                 host: colour = blue\nhost: size = xl\nhost: log 1:hello from {language}\n\
                 host: plugin exited with 0\n"
            ),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
