//! Calls the host functions with owned results of tests/suite/owned.rs through the safe
//! Rust bindings `HostcallSet::rust_bindings` generated (src/owned_bindings.rs): each
//! result is the guest's own `Vec`/`String`, freed when dropped.
//!
//! Argument `fail`: the global allocator then refuses anything over 512 KiB, and a
//! 1 MiB result is asked for. Argument `too-big`: the host function fails.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

include!("../owned_bindings.rs");

/// The same layout as the host's `Point`.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Point {
    x: f32,
    y: f32,
}

/// The system allocator, refusing blocks over 512 KiB once `PICKY` is set.
struct Picky;
static PICKY: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for Picky {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if PICKY.load(Ordering::Relaxed) && layout.size() > 512 * 1024 {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Picky = Picky;

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("fail") => {
            PICKY.store(true, Ordering::Relaxed);
            println!("asking");
            let b = env::blob(1 << 20, 7);
            println!("unreachable: {}", b.len());
            return;
        }
        Some("too-big") => {
            let b = env::blob(u32::MAX, 7);
            println!("unreachable: {}", b.len());
            return;
        }
        _ => {}
    }
    match kv::lookup("colour") {
        Some(v) => println!("lookup {}", String::from_utf8_lossy(&v)),
        None => println!("lookup none"),
    }
    match kv::lookup("nope") {
        Some(v) => println!("lookup {}", String::from_utf8_lossy(&v)),
        None => println!("lookup none"),
    }
    println!("greet {}", env::greet("wörld"));
    let d = env::diagonal(3);
    let shown: Vec<String> = d.iter().map(|p| format!("({},{})", p.x, p.y)).collect();
    println!("diagonal {}", shown.join(" "));
    println!("diagonal {}", if env::diagonal(0).is_empty() { "empty" } else { "?" });
    let b = env::blob(1 << 20, 7);
    let sum: u64 = b.iter().map(|&x| x as u64).sum();
    println!("blob {} {} {} {sum}", b.len(), b[0], b[b.len() - 1]);
    // Each result is dropped before the next: 100 MiB through a small heap.
    for i in 0..100u32 {
        let b = env::blob(1 << 20, i);
        assert_eq!((b.len(), b[1]), (1 << 20, (i + 1) as u8));
    }
    println!("freed");
}
