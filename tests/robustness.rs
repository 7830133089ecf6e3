//! Hostile guests: every syscall driven with thousands of random argument tuples. The
//! host must answer errnos (the guest runs to its end: no trap, no panic), make no large
//! host allocation on the guest's behalf, and touch nothing outside the preopen.

#[path = "suite/support/mod.rs"]
#[allow(dead_code)] // this crate uses a few of the helpers
mod support;

use lucet_wasi::{Engine, EngineConfig, Exit, Input, Module, Output, WasiInstance};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use support::*;

/// Counts live heap bytes, their peak, and the largest single allocation.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        LARGEST.fetch_max(layout.size(), Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests measure the process's heap: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Names of everything below `dir`, recursively, sorted.
fn tree(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        out.push(entry.path().display().to_string());
        if entry.file_type().unwrap().is_dir() {
            out.extend(tree(&entry.path()));
        }
    }
    out.sort();
    out
}

#[test]
fn random_syscalls_get_errnos_not_crashes_or_big_allocations() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = tempfile::tempdir().unwrap();
    let sandbox = root.path().join("sandbox");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(sandbox.join("dir")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(sandbox.join("a"), b"inside").unwrap();
    std::fs::write(outside.join("secret"), b"outside").unwrap();
    std::os::unix::fs::symlink("../outside/secret", sandbox.join("link")).unwrap();
    let outside_before = tree(&outside);

    let engine = Engine::shared(&EngineConfig::default()).unwrap();
    let module = Module::from_file(&engine, rust_guest("fuzz")).unwrap();
    // Only what happens while guests run counts.
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    LARGEST.store(0, Relaxed);
    for seed in 1..=6u64 {
        let exit = WasiInstance::builder()
            .module(&module)
            .args([seed.to_string(), "20000".into()])
            .preopen("/sandbox", &sandbox)
            .preopen("/sandbox2", sandbox.join("dir"))
            .stdin(Input::null())
            .stdout(Output::null())
            .stderr(Output::null())
            .run("_start");
        assert_eq!(exit.unwrap(), Exit::Returned, "seed {seed}");
    }
    let largest = LARGEST.load(Relaxed);
    let growth = PEAK.load(Relaxed) - base;
    assert!(
        largest < 4 << 20,
        "a single host allocation of {largest} bytes"
    );
    assert!(growth < 32 << 20, "host heap grew by {growth} bytes");
    assert_eq!(tree(&outside), outside_before);
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"outside");
}

/// Directory listings are streamed: 16 streams over a 20,000-entry directory, read in
/// turn, hold well under a MiB of host heap (before: up to a 16 MiB budget of snapshots,
/// and the one being read whole, however large).
#[test]
fn listing_a_big_directory_holds_little_host_memory() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = tempfile::tempdir().unwrap();
    let big = root.path().join("big");
    std::fs::create_dir(&big).unwrap();
    for i in 0..20_000 {
        std::fs::File::create(big.join(format!("file-with-a-longish-name-{i:07}"))).unwrap();
    }
    let module = Module::from_file(
        &Engine::shared(&EngineConfig::default()).unwrap(),
        c_guest("lister"),
    )
    .unwrap();
    let out = lucet_wasi::Capture::new();
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let exit = WasiInstance::builder()
        .module(&module)
        .args(["/sb/big", "20000"])
        .preopen("/sb", root.path())
        .stdout(Output::capture(&out))
        .run("_start");
    let growth = PEAK.load(Relaxed) - base;
    assert_eq!(exit.unwrap(), Exit::Returned);
    // Each stream lists `.`, `..` and every file.
    assert_eq!(out.text(), "320032 entries listed\n");
    assert!(growth < 1 << 20, "host heap grew by {growth} bytes");
}
