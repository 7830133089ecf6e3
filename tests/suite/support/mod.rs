//! Shared by the integration tests: builds the guest programs (once per test binary) and
//! runs the CLI. A missing toolchain fails the test with the command that installs it.

pub mod corpus;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn out_dir(kind: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(kind);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Rust guest from `tests/guests/rust/src/bin/NAME.rs`, built for wasm32-wasip1.
pub fn rust_guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| build_rust_guests("rust", "wasm32-wasip1"));
    let path = dir.join(format!("{name}.wasm"));
    assert!(path.exists(), "no Rust guest named {name}");
    path
}

/// A multi-threaded Rust guest from `tests/guests/threads/src/bin/NAME.rs`, built for
/// wasm32-wasip1-threads.
pub fn thread_guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| build_rust_guests("threads", "wasm32-wasip1-threads"));
    let path = dir.join(format!("{name}.wasm"));
    assert!(path.exists(), "no threaded Rust guest named {name}");
    path
}

/// The WASI 0.2 command component of `tests/guests/p2` (one program, subcommands), built
/// for wasm32-wasip2.
#[cfg(feature = "components")]
pub fn p2_guest() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| build_rust_guests("p2", "wasm32-wasip2"));
    let path = dir.join("p2.wasm");
    assert!(path.exists(), "the p2 guest was not built");
    path
}

/// The componentize-py app of `tests/guests/componentize-py` (CPython in a WASI 0.2
/// component, about 18 MB), built once per test run by its build.sh with the pinned
/// componentize-py wheel from PyPI.
#[cfg(feature = "components")]
pub fn componentize_py_app() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let base = out_dir("componentize-py");
            let out = Command::new("bash")
                .arg(root().join("tests/guests/componentize-py/build.sh"))
                .arg(base.join("out"))
                .arg(base.join("tool"))
                .output()
                .expect("cannot run bash");
            assert!(
                out.status.success(),
                "building the componentize-py app failed (needs python3 with pip and PyPI; \
                 scripts/test.sh installs python3-pip):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            base.join("out/app.wasm")
        })
        .clone()
}

/// Builds the guest crate `tests/guests/CRATE` for `target`; the directory of its bins.
fn build_rust_guests(krate: &str, target: &str) -> PathBuf {
    let target_dir = out_dir(&format!("guests-{krate}"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = root().join(format!("tests/guests/{krate}/Cargo.toml"));
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", target, "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cannot run cargo to build the Rust guests");
    assert!(
        out.status.success(),
        "building the Rust guests of tests/guests/{krate} failed (is the target installed? `rustup target add {target}`, or run scripts/test.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join(target).join("release")
}

/// A C guest from `tests/guests/c/NAME.c`, built with clang-19 against wasi-libc.
pub fn c_guest(name: &str) -> PathBuf {
    c_guest_with(name, &[])
}

/// A C guest built with extra compiler arguments (`-I DIR`, ...); once per name.
pub fn c_guest_with(name: &str, extra: &[&str]) -> PathBuf {
    c_program(
        &root().join(format!("tests/guests/c/{name}.c")),
        name,
        extra,
    )
}

/// The C program `src` built as guest `name` with extra compiler arguments; once per name.
pub fn c_program(src: &Path, name: &str, extra: &[&str]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let out = out_dir("guests-c").join(format!("{name}.wasm"));
    let result = Command::new("clang-19")
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wall", "-Werror"])
        .args(extra)
        .arg("-o")
        .arg(&out)
        .arg(src)
        .output()
        .expect("cannot run clang-19: install clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 (or run scripts/test.sh)");
    assert!(
        result.status.success(),
        "compiling {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    built.insert(name.to_string(), out.clone());
    out
}

/// The example binary `name` (examples/NAME.rs), built if needed.
pub fn example(name: &str) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--quiet", "-p", "lucet-wasi", "--example", name])
        .current_dir(root())
        .status()
        .unwrap();
    assert!(built.success(), "cannot build example {name}");
    let deps = std::env::current_exe().unwrap();
    let dir = deps.parent().unwrap().parent().unwrap();
    Command::new(dir.join("examples").join(name))
}

/// A hand-written guest from `tests/guests/wat/NAME.wat`.
pub fn wat_guest(name: &str) -> PathBuf {
    let path = root().join(format!("tests/guests/wat/{name}.wat"));
    assert!(path.exists(), "no WAT guest named {name}");
    path
}

/// A host variable the guest must not see unless the environment is inherited.
pub const HOST_VAR: (&str, &str) = ("LUCET_WASI_TEST_HOST_VAR", "visible-from-host");

/// The `lucet-wasi` binary, with a host environment variable set and a Rust backtrace
/// requested, so tests also show neither leaks through.
pub fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lucet-wasi"));
    cmd.env(HOST_VAR.0, HOST_VAR.1).env("RUST_BACKTRACE", "1");
    // The compile cache of the tests, not the user's.
    cmd.env("LUCET_WASI_CACHE_DIR", out_dir("compile-cache"));
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs a command with `input` on its stdin.
pub fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

/// Status, stdout and stderr of a finished command.
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn ran(out: Output) -> Ran {
    Ran {
        status: out.status.code().expect("killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the CLI with these arguments.
pub fn lucet<I, S>(args: I) -> Ran
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    ran(cli().args(args).output().unwrap())
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The guest's printed arguments (`arg[i]=...` lines).
pub fn printed_args(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("arg[")
                .and_then(|l| l.split_once("]="))
                .map(|(_, v)| v.to_string())
        })
        .collect()
}

/// A guest's committed copy of generated bindings (`rel` below the root) must be what the
/// generator gives today; `LUCET_WASI_BLESS=1` rewrites it.
pub fn assert_committed(rel: &str, generated: &str) {
    let committed = root().join(rel);
    if std::env::var_os("LUCET_WASI_BLESS").is_some() {
        std::fs::write(&committed, generated).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&committed).unwrap(),
        generated,
        "{} is stale: rerun with LUCET_WASI_BLESS=1",
        committed.display()
    );
}
