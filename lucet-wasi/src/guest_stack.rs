//! The stacks guests run on. A guest needs a native stack that holds its whole wasm
//! stack (plus room for host calls), more than callers' threads usually have. Runs switch
//! the calling thread onto such a stack and back: no thread hand-off (waking another
//! thread costs tens of microseconds on a virtual machine) and no allocation per run, as
//! each thread keeps the stacks it used for its next runs.

use crate::Error;
use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

const PAGE: usize = 4096;
/// Native stack the host needs beyond the wasm stack on a guest's stack.
pub(crate) const HOST_STACK: usize = 2 << 20;
/// Spare stacks kept per thread (more are only needed by nested runs).
const SPARES: usize = 2;

/// An anonymous mapping used as a stack, with a guard page at its low end.
struct Stack {
    map: *mut c_void,
    len: usize,
}

impl Stack {
    fn new(size: usize) -> Result<Stack, Error> {
        let len = size.div_ceil(PAGE) * PAGE + PAGE;
        let fail =
            |e: rustix::io::Errno| Error::host(format!("cannot map a {size}-byte guest stack"), e);
        // SAFETY: a fresh private anonymous mapping that nothing else refers to.
        let map = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }
        .map_err(fail)?;
        let stack = Stack { map, len };
        // SAFETY: the lowest page of our own mapping becomes the guard page.
        unsafe { rustix::mm::mprotect(map, PAGE, MprotectFlags::empty()) }.map_err(fail)?;
        Ok(stack)
    }

    fn usable(&self) -> usize {
        self.len - PAGE
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer in use as a stack.
        let _ = unsafe { rustix::mm::munmap(self.map, self.len) };
    }
}

thread_local! {
    static SPARE: RefCell<Vec<Stack>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a stack of at least `size` bytes, on this thread. A panic in `f` is an
/// internal error, not a crash of the caller.
pub(crate) fn run<T>(size: usize, f: impl FnOnce() -> T) -> Result<T, Error> {
    let spare = SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        let fit = spare.iter().position(|s| s.usable() >= size)?;
        Some(spare.swap_remove(fit))
    });
    let stack = match spare {
        Some(stack) => stack,
        None => Stack::new(size)?,
    };
    // SAFETY: `[base, base + usable)` is our own writable mapping, page-aligned (which
    // satisfies every target's stack alignment) with a page-multiple size, and it stays
    // mapped until `stack` is dropped after the switch back. The callback catches every
    // panic, so nothing unwinds across the stack switch.
    let result = unsafe {
        let base = (stack.map as *mut u8).add(PAGE);
        psm::on_stack(base, stack.usable(), || catch_unwind(AssertUnwindSafe(f)))
    };
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < SPARES {
            spare.push(stack);
        }
    });
    result.map_err(|_| Error::internal("a guest run panicked"))
}
