//! Host functions called from several guest threads at once (tests/suite/threads.rs
//! defines them): 4 threads each
//! - call `tally(thread)` 500 times (the host adds to a counter in its embedder data,
//!   reading and writing it with a yield between: only serialised calls count right);
//! - have `fill(buf, byte)` write their 64 KiB buffer and `checksum(buf)` read it back;
//! - get `shout(text)`, a `String` the host returns through `cabi_realloc`, and print it.
//!
//! Prints `thread N ok` per thread (in thread order), then `tallied T`, T the last
//! `tally` total any thread saw.

use std::alloc::Layout;
use std::thread;

#[link(wasm_import_module = "env")]
extern "C" {
    fn tally(thread: u32) -> u64;
    fn fill(buf: *mut u8, len: usize, byte: u32);
    fn checksum(buf: *const u8, len: usize) -> u32;
    fn shout(text: *const u8, len: usize, ret: *mut [u32; 2]);
}

/// The allocator the host places owned results with.
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(
    _old: *mut u8,
    _old_size: usize,
    align: usize,
    size: usize,
) -> *mut u8 {
    std::alloc::alloc(Layout::from_size_align(size, align).unwrap())
}

fn shouted(text: &str) -> String {
    let mut ret = [0u32; 2];
    unsafe {
        shout(text.as_ptr(), text.len(), &mut ret);
        String::from_raw_parts(ret[0] as *mut u8, ret[1] as usize, ret[1] as usize)
    }
}

fn work(t: u32) -> (String, u64) {
    let mut seen = 0;
    for _ in 0..500 {
        seen = seen.max(unsafe { tally(t) });
    }
    let mut buf = vec![0u8; 64 * 1024];
    let byte = t + 1;
    unsafe { fill(buf.as_mut_ptr(), buf.len(), byte) };
    assert!(buf.iter().all(|&b| b as u32 == byte), "fill in thread {t}");
    let sum = unsafe { checksum(buf.as_ptr(), buf.len()) };
    assert_eq!(sum, byte * buf.len() as u32, "checksum in thread {t}");
    let loud = shouted(&format!("thread {t} ok"));
    (loud.to_lowercase(), seen)
}

fn main() {
    let handles: Vec<_> = (0..4).map(|t| thread::spawn(move || work(t))).collect();
    let mut most = 0;
    for h in handles {
        let (line, seen) = h.join().unwrap();
        println!("{line}");
        most = most.max(seen);
    }
    println!("tallied {most}");
}
