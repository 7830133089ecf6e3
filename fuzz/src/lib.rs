//! What the fuzz targets share: a guest that runs whatever sequence of calls the input
//! encodes, the sandbox it runs in (checked after every run), and the call counter.
//!
//! The guest (`run(ops, count)`) is an interpreter built once from [`PREVIEW1`] (and the
//! host functions of [`hostcalls`]): each op is a 72-byte record, a `u32` index into its
//! table of calls and eight `u64` arguments, which it passes to the import as they are
//! (an `i32` parameter takes the low half). One more op, `poke`, stores a `u64` anywhere
//! in guest memory, so inputs can build iovecs, subscriptions and paths. The first page
//! holds fixed data that inputs point at: paths in and out of the sandbox, iovec arrays,
//! poll subscriptions, buffers.
//!
//! The input is decoded into ops by [`ops`]: a byte picks the call, then each argument
//! takes a selector byte (a small number, a pointer into the first page, one of the fixed
//! structures, an edge value, or raw bits) and its bytes.

pub mod hostcalls;

use lucet_wasi::{
    Capture, Engine, EngineConfig, Error, Input, Module, Output, WasiInstance, WasiInstanceBuilder,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Every `wasi_snapshot_preview1` function: name, parameters (`i` i32, `I` i64), and
/// whether it returns an errno.
pub const PREVIEW1: &[(&str, &str, bool)] = &[
    ("args_get", "ii", true),
    ("args_sizes_get", "ii", true),
    ("environ_get", "ii", true),
    ("environ_sizes_get", "ii", true),
    ("clock_res_get", "ii", true),
    ("clock_time_get", "iIi", true),
    ("fd_advise", "iIIi", true),
    ("fd_allocate", "iII", true),
    ("fd_close", "i", true),
    ("fd_datasync", "i", true),
    ("fd_fdstat_get", "ii", true),
    ("fd_fdstat_set_flags", "ii", true),
    ("fd_fdstat_set_rights", "iII", true),
    ("fd_filestat_get", "ii", true),
    ("fd_filestat_set_size", "iI", true),
    ("fd_filestat_set_times", "iIIi", true),
    ("fd_pread", "iiiIi", true),
    ("fd_prestat_get", "ii", true),
    ("fd_prestat_dir_name", "iii", true),
    ("fd_pwrite", "iiiIi", true),
    ("fd_read", "iiii", true),
    ("fd_readdir", "iiiIi", true),
    ("fd_renumber", "ii", true),
    ("fd_seek", "iIii", true),
    ("fd_sync", "i", true),
    ("fd_tell", "ii", true),
    ("fd_write", "iiii", true),
    ("path_create_directory", "iii", true),
    ("path_filestat_get", "iiiii", true),
    ("path_filestat_set_times", "iiiiIIi", true),
    ("path_link", "iiiiiii", true),
    ("path_open", "iiiiiIIii", true),
    ("path_readlink", "iiiiii", true),
    ("path_remove_directory", "iii", true),
    ("path_rename", "iiiiii", true),
    ("path_symlink", "iiiii", true),
    ("path_unlink_file", "iii", true),
    ("poll_oneoff", "iiii", true),
    ("proc_exit", "i", false),
    ("proc_raise", "i", true),
    ("sched_yield", "", true),
    ("random_get", "ii", true),
    ("sock_accept", "iii", true),
    ("sock_recv", "iiiiii", true),
    ("sock_send", "iiiii", true),
    ("sock_shutdown", "ii", true),
];

/// Bytes per op record: `u32` call index, `u32` unused, eight `u64` arguments.
const RECORD: usize = 72;
/// Where the ops are written (the second page; the first holds [`first_page`]).
const OPS_AT: u32 = 0x1_0000;
/// At most this many ops per input (they fill at most the second page's 64 KiB).
const MAX_OPS: usize = 0x1_0000 / RECORD;
/// The guest's memory: two pages, fixed (the interpreter never grows it).
const MEMORY: u64 = 0x2_0000;

/// Fixed places in the first page that inputs point at (selector 6).
const PLACES: &[u32] = &[
    0x100, 0x110, 0x120, 0x130, 0x140, 0x150, 0x160, 0x180, 0x1a0, 0x1b0, 0x1c0,
    0x1d0, // paths
    0x400, 0x420, 0x440, 0x460, // iovec arrays
    0x500, 0x530, 0x560, 0x590, // subscriptions
    0x800, 0x1000, 0x2000, 0x3000, 0xfff0, // buffers, the last 16 bytes before the ops
];

/// Edge values (selector 3).
const EDGES: &[u64] = &[
    0,
    1,
    2,
    3,
    0xff,
    0xfff,
    0x1000,
    0xffff,
    0x1_0000,
    0x1_ffff,
    0x2_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fff0,
    0xffff_ffff,
    0x1_0000_0000,
    i64::MAX as u64,
    u64::MAX,
    u64::MAX - 1,
    1 << 62,
];

/// The data the guest's first page starts with (a data segment, so each instance gets a
/// fresh copy).
fn first_page() -> Vec<u8> {
    let mut page = vec![0u8; 0x4000];
    let mut put = |at: usize, bytes: &[u8]| page[at..at + bytes.len()].copy_from_slice(bytes);
    // Paths: inside, through links, and out of the sandbox.
    let paths: [&[u8]; 12] = [
        b"a",
        b"d",
        b"d/b",
        b"l",
        b"esc",
        b"..",
        b"../outside/secret",
        b"/etc/passwd",
        b"new",
        b"d/../../x",
        b"d/b/../../..",
        b".",
    ];
    for (i, p) in paths.iter().enumerate() {
        put(PLACES[i] as usize, p);
    }
    let le32 = |v: u32| v.to_le_bytes();
    // iovecs (buf, len): two small buffers; one running off the end of memory; a huge length.
    let iovs: [&[(u32, u32)]; 4] = [
        &[(0x2000, 16), (0x3000, 4096)],
        &[(0x1000, 1)],
        &[(0x1fff0, 64), (0x2000, 8)],
        &[(0x3000, 0xffff_ffff)],
    ];
    for (i, list) in iovs.iter().enumerate() {
        let at = PLACES[12 + i] as usize;
        for (j, (buf, len)) in list.iter().enumerate() {
            put(at + 8 * j, &le32(*buf));
            put(at + 8 * j + 4, &le32(*len));
        }
    }
    // Subscriptions (48 bytes each: userdata u64, tag u8, then the union at 8):
    // a 1 ms relative clock; fd 0 readable; fd 1 writable; an absolute clock in the past.
    let mut sub = |at: usize, tag: u8, body: &[u8]| {
        put(at, &0x5eed_u64.to_le_bytes());
        put(at + 8, &[tag]);
        put(at + 16, body);
    };
    let clock = |id: u32, timeout: u64, flags: u16| {
        let mut b = [0u8; 32];
        b[0..4].copy_from_slice(&id.to_le_bytes());
        b[8..16].copy_from_slice(&timeout.to_le_bytes());
        b[24..26].copy_from_slice(&flags.to_le_bytes());
        b
    };
    sub(0x500, 0, &clock(1, 1_000_000, 0));
    sub(0x530, 1, &0u32.to_le_bytes());
    sub(0x560, 2, &1u32.to_le_bytes());
    sub(0x590, 0, &clock(0, 1, 1));
    page
}

/// The interpreter guest in WAT: the calls of [`PREVIEW1`], then `extra` (host functions:
/// module, name, parameters, results, in the letters of [`wasm_type`]), then `poke`.
fn guest_wat(extra: &[(&str, &str, &str, &str)]) -> String {
    let mut imports = String::new();
    let mut thunks = String::new();
    let calls = PREVIEW1
        .iter()
        .map(|&(name, params, errno)| {
            let result = if errno { "i" } else { "" };
            ("wasi_snapshot_preview1", name, params, result)
        })
        .chain(extra.iter().copied());
    let mut count = 0;
    for (i, (module, name, params, result)) in calls.enumerate() {
        let types: Vec<&str> = params.chars().map(wasm_type).collect();
        let results: Vec<&str> = result.chars().map(wasm_type).collect();
        imports.push_str(&format!(
            "(import \"{module}\" \"{name}\" (func $f{i} (param {}) (result {})))\n",
            types.join(" "),
            results.join(" "),
        ));
        let mut args = String::new();
        for (k, c) in params.chars().enumerate() {
            let at = 8 + 8 * k;
            args.push_str(&match c {
                'i' => format!(" (i32.load offset={at} (local.get $r))"),
                'I' => format!(" (i64.load offset={at} (local.get $r))"),
                'f' => format!(" (f32.load offset={at} (local.get $r))"),
                _ => format!(" (f64.load offset={at} (local.get $r))"),
            });
        }
        let call = format!("(call $f{i}{args})");
        thunks.push_str(&format!(
            "(func $t{i} (type $op) (param $r i32) {})\n",
            if !result.is_empty() {
                format!("(drop {call})")
            } else {
                call
            }
        ));
        count = i + 1;
    }
    // poke: *(u64*)arg0 = arg1
    thunks.push_str(&format!(
        "(func $t{count} (type $op) (param $r i32) (i64.store (i32.load offset=8 (local.get $r)) (i64.load offset=16 (local.get $r))))\n"
    ));
    let elems: Vec<String> = (0..=count).map(|i| format!("$t{i}")).collect();
    let data: String = first_page().iter().map(|b| format!("\\{b:02x}")).collect();
    format!(
        r#"(module
(type $op (func (param $r i32)))
{imports}
(memory (export "memory") 2 2)
(data (i32.const 0) "{data}")
(data (i32.const 0x7ff0) "\00\80\00\00")
(table {n} {n} funcref)
(elem (i32.const 0) {elems})
{thunks}
;; The allocator owned results are placed with: a bump pointer kept at 0x7ff0 (from
;; 0x8000), which the calls may overwrite.
(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
  (local $at i32)
  (local.set $at (i32.load (i32.const 0x7ff0)))
  (i32.store (i32.const 0x7ff0) (i32.add (local.get $at) (local.get 3)))
  (local.get $at))
(func (export "run") (param $p i32) (param $n i32)
  (loop $next
    (if (i32.eqz (local.get $n)) (then (return)))
    (call_indirect (type $op) (local.get $p) (i32.load (local.get $p)))
    (local.set $p (i32.add (local.get $p) (i32.const {RECORD})))
    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
    (br $next)))
)"#,
        n = count + 1,
        elems = elems.join(" "),
    )
}

fn wasm_type(c: char) -> &'static str {
    match c {
        'i' => "i32",
        'I' => "i64",
        'f' => "f32",
        _ => "f64",
    }
}

/// Decodes an input into op records for a guest with `calls` calls (plus `poke`), and
/// the bytes to give it on stdin (the input's last 64 bytes, if it is long enough).
pub fn ops(data: &[u8], calls: usize, params: impl Fn(usize) -> usize) -> (Vec<u8>, usize) {
    let mut input = Bytes(data);
    let mut out = Vec::new();
    let mut count = 0;
    while !input.0.is_empty() && count < MAX_OPS {
        let choice = input.u8() as usize % (calls + 1);
        let n = if choice == calls { 2 } else { params(choice) };
        out.extend_from_slice(&(choice as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        for k in 0..8 {
            let arg = if k >= n {
                0
            } else if choice == calls && k == 0 {
                // poke's address: inside memory, 8-aligned mostly.
                u64::from(input.u16()) * 2 % (MEMORY - 8)
            } else {
                input.arg()
            };
            out.extend_from_slice(&arg.to_le_bytes());
        }
        count += 1;
    }
    (out, count)
}

/// An input being decoded; reads past its end give zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    /// An argument: mostly values a call can use (small numbers, pointers into the first
    /// page), some edge values and raw bits (a bad pointer ends the run with a trap).
    fn arg(&mut self) -> u64 {
        match self.u8() % 16 {
            0..=2 => u64::from(self.u8()),
            3 => u64::from(self.u8() % 8),
            4 | 5 => u64::from(self.u16()),
            6 => EDGES[self.u8() as usize % EDGES.len()],
            7 => u64::from(u32::from_le_bytes(self.take())),
            8 => u64::from_le_bytes(self.take()),
            9..=12 => u64::from(PLACES[self.u8() as usize % PLACES.len()]),
            _ => u64::from(self.u8() % 64),
        }
    }
}

/// The sandbox: `root/sandbox` is preopened as `/` and `.`; `root/outside` holds a secret
/// and must never change. Rebuilt before every run, so that each input starts alike.
pub struct Sandbox {
    root: PathBuf,
}

const SECRET: &[u8] = b"the guest must never read or change this";

impl Sandbox {
    fn new() -> Sandbox {
        // tmpfs where there is one: the sandbox is rebuilt for every input.
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("lucet-wasi-fuzz-{}", std::process::id()));
        let _ = ROOT.set(root.clone());
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("outside")).expect("fuzz sandbox");
        fs::write(root.join("outside/secret"), SECRET).expect("fuzz sandbox");
        Sandbox { root }
    }

    /// The preopened directory, reset to: file `a`, directory `d` with file `b`, link `l`
    /// to `a`, and link `esc` to the secret outside.
    fn reset(&self) -> PathBuf {
        let dir = self.root.join("sandbox");
        if dir.exists() {
            // The guest may have left a directory without write or search permission.
            make_removable(&dir);
            fs::remove_dir_all(&dir).expect("fuzz sandbox: remove");
        }
        fs::create_dir_all(dir.join("d")).expect("fuzz sandbox");
        fs::write(dir.join("a"), b"hello\n").expect("fuzz sandbox");
        fs::write(dir.join("d/b"), b"b").expect("fuzz sandbox");
        std::os::unix::fs::symlink("a", dir.join("l")).expect("fuzz sandbox");
        std::os::unix::fs::symlink("../outside/secret", dir.join("esc")).expect("fuzz sandbox");
        dir
    }

    /// Panics (a finding) if anything outside the preopen changed.
    fn check(&self) {
        let mut names: Vec<_> = fs::read_dir(&self.root)
            .expect("fuzz root")
            .map(|e| e.expect("fuzz root").file_name())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["outside", "sandbox"],
            "the guest changed the sandbox's parent"
        );
        let outside: Vec<_> = fs::read_dir(self.root.join("outside"))
            .expect("outside")
            .map(|e| e.expect("outside").file_name())
            .collect();
        assert_eq!(
            outside,
            ["secret"],
            "the guest changed a directory outside its preopen"
        );
        assert_eq!(
            fs::read(self.root.join("outside/secret")).expect("secret"),
            SECRET,
            "the guest changed a file outside its preopen"
        );
    }
}

fn make_removable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                make_removable(&entry.path());
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        make_removable(&self.root);
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// WASI and host calls made by the guests of this process, all targets together.
pub static CALLS: AtomicU64 = AtomicU64::new(0);

/// The sandbox's root, removed at exit (libFuzzer ends the process with `exit`, which
/// runs no destructor of the thread-local harness).
static ROOT: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn report() {
    if let Some(root) = ROOT.get() {
        make_removable(root);
        let _ = fs::remove_dir_all(root);
    }
    eprintln!(
        "lucet-wasi-fuzz: {} guest calls made (WASI and host functions)",
        CALLS.load(Ordering::Relaxed)
    );
}

/// Process-wide set-up, once: a file-size limit of 1 MiB (so `fd_allocate`/`fd_pwrite`
/// cannot fill the disk or a tmpfs; writes past it fail with EFBIG, SIGXFSZ ignored), and
/// the closing count.
fn setup() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // SAFETY: plain libc calls with valid arguments, before any other thread exists.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 1 << 20,
                rlim_max: 1 << 20,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            libc::atexit(report);
        }
    });
}

/// A compiled interpreter guest, its sandbox and what each run may end with.
pub struct Harness {
    module: Module,
    sandbox: Sandbox,
    calls: usize,
    params: Vec<usize>,
}

/// How a run is set up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// WASI only.
    Preview1,
    /// WASI and the host functions of [`hostcalls`].
    Hostcall,
    /// WASI, traced (every call, into a sink).
    Trace,
}

impl Harness {
    /// Compiles the guest for `mode` (once per process).
    pub fn new(mode: Mode) -> Harness {
        setup();
        let engine =
            Engine::shared(&EngineConfig::default().timeout_capable(true)).expect("engine");
        let extra: &[(&str, &str, &str, &str)] = if mode == Mode::Hostcall {
            hostcalls::IMPORTS
        } else {
            &[]
        };
        let wat = guest_wat(extra);
        let mut module = Module::from_bytes(&engine, &wat).expect("the interpreter guest compiles");
        if mode == Mode::Hostcall {
            module = module
                .with_hostcalls(&hostcalls::set())
                .expect("host functions link");
        }
        let params = PREVIEW1
            .iter()
            .map(|c| c.1.len())
            .chain(extra.iter().map(|c| c.2.len()))
            .collect::<Vec<_>>();
        Harness {
            module,
            sandbox: Sandbox::new(),
            calls: params.len(),
            params,
        }
    }

    /// Runs one input; panics (a finding) on an outcome a guest must not cause.
    pub fn run(&mut self, data: &[u8], mode: Mode) {
        let (ops, count) = ops(data, self.calls, |i| self.params[i]);
        if count == 0 {
            return;
        }
        let stdin = data[data.len().saturating_sub(64)..].to_vec();
        let dir = self.sandbox.reset();
        let out = Capture::new();
        let mut builder: WasiInstanceBuilder = WasiInstance::builder()
            .module(&self.module)
            .preopen("/", &dir)
            .preopen(".", &dir)
            .arg("fuzz")
            .env("K", "v")
            .stdin(Input::bytes(stdin))
            .stdout(Output::capture(&out))
            .stderr(Output::capture(&out))
            .timeout(Duration::from_millis(30))
            .collect_stats();
        let trace = TraceBytes::default();
        if mode == Mode::Trace {
            builder = builder.trace(trace.clone());
        }
        if mode == Mode::Hostcall {
            builder = builder.data(hostcalls::State::default());
        }
        let mut instance = builder.build().expect("instance");
        instance.write_bytes(OPS_AT, &ops).expect("ops fit");
        let result = instance.call::<(u32, u32), ()>("run", (OPS_AT, count as u32));
        match result {
            Ok(())
            | Err(Error::Exited { .. })
            | Err(Error::Trap { .. })
            | Err(Error::Timeout { .. }) => {}
            Err(Error::HostFunction { .. }) if mode == Mode::Hostcall => {}
            Err(other) => panic!("unexpected outcome: {other:?}"),
        }
        let calls = instance.stats().map_or(0, |s| s.total_calls());
        CALLS.fetch_add(calls, Ordering::Relaxed);
        drop(instance);
        if mode == Mode::Trace {
            // Bounded work per call: at most a few KiB of trace each.
            let written = trace.0.load(Ordering::Relaxed);
            assert!(
                written <= (calls + 1) * 8192,
                "{written} bytes of trace for {calls} calls"
            );
        }
        // Captured output is bounded by what the ops could write (memory-sized writes).
        assert!(out.bytes().len() as u64 <= count as u64 * MEMORY);
        self.sandbox.check();
    }
}

/// A trace sink that counts bytes.
#[derive(Clone, Default)]
struct TraceBytes(std::sync::Arc<AtomicU64>);

impl std::io::Write for TraceBytes {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
