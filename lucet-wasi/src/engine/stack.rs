//! The stacks guests run on: one guard-paged mapping, used two ways.
//!
//! - **Sync runs** switch the calling thread onto a stack that holds the whole wasm
//!   stack plus room for host calls ([`run_on_guest_stack`]): no thread hand-off (waking
//!   another thread costs tens of microseconds on a virtual machine) and no allocation
//!   per run, as each thread keeps the stacks it used for its next runs.
//! - **Async runs** (feature `async`) run on Wasmtime fibers; on engines without
//!   pooling, [`fiber_stacks`] hands them out and keeps finished ones for the next run
//!   instead of unmapping them (unmapping costs a multi-threaded server TLB-shootdown
//!   IPIs on every core). The pooling allocator has its own stack pool.

use crate::Error;
use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The size of a page, the unit of every mapping and the guard.
const PAGE: usize = super::PAGE as usize;
/// Native stack the host needs beyond the wasm stack on a guest's stack.
pub(crate) const HOST_STACK: usize = 2 << 20;
/// Spare stacks kept per thread for sync runs (more are only needed by nested runs).
const THREAD_SPARES: usize = 2;

/// An anonymous mapping used as a stack, with a guard page at its low end.
struct Mapping {
    map: *mut c_void,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; nothing refers to it but the
// run or fiber it is lent to.
unsafe impl Send for Mapping {}
// SAFETY: as above; `Mapping` has no interior state of its own.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// A mapping of at least `size` usable bytes above a guard page.
    fn new(size: usize) -> rustix::io::Result<Mapping> {
        let len = size.div_ceil(PAGE) * PAGE + PAGE;
        // SAFETY: a fresh private anonymous mapping that nothing else refers to.
        let map = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }?;
        let mapping = Mapping { map, len };
        // SAFETY: the lowest page of our own mapping becomes the guard page.
        unsafe { rustix::mm::mprotect(map, PAGE, MprotectFlags::empty()) }?;
        Ok(mapping)
    }

    /// The usable bytes, above the guard page.
    fn usable(&self) -> usize {
        self.len - PAGE
    }

    /// The lowest usable byte.
    fn base(&self) -> *mut u8 {
        // SAFETY: one page into our own mapping.
        unsafe { (self.map as *mut u8).add(PAGE) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer in use as a stack.
        let _ = unsafe { rustix::mm::munmap(self.map, self.len) };
    }
}

thread_local! {
    static SPARE: RefCell<Vec<Mapping>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a stack of at least `size` bytes, on this thread. A panic in `f` is an
/// internal error, not a crash of the caller.
pub(crate) fn run_on_guest_stack<T>(size: usize, f: impl FnOnce() -> T) -> Result<T, Error> {
    let spare = SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        let fit = spare.iter().position(|s| s.usable() >= size)?;
        Some(spare.swap_remove(fit))
    });
    let stack = match spare {
        Some(stack) => stack,
        None => Mapping::new(size)
            .map_err(|e| Error::host(format!("cannot map a {size}-byte guest stack"), e))?,
    };
    // SAFETY: `[base, base + usable)` is our own writable mapping, page-aligned (which
    // satisfies every target's stack alignment) with a page-multiple size, and it stays
    // mapped until `stack` is dropped after the switch back. The callback catches every
    // panic, so nothing unwinds across the stack switch.
    let result = unsafe {
        psm::on_stack(stack.base(), stack.usable(), || {
            catch_unwind(AssertUnwindSafe(f))
        })
    };
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < THREAD_SPARES {
            spare.push(stack);
        }
    });
    result.map_err(|_| Error::internal("a guest run panicked"))
}

#[cfg(any(feature = "async", feature = "components"))]
pub(crate) use fibers::fiber_stacks;

/// The fiber stacks of async runs and of components (which run on fibers).
#[cfg(any(feature = "async", feature = "components"))]
mod fibers {
    use super::{Mapping, PAGE};
    use std::ops::Range;
    use std::sync::{Arc, Mutex, PoisonError};
    use wasmtime::{StackCreator, StackMemory};

    /// Spare stacks kept per engine.
    const ENGINE_SPARES: usize = 32;

    /// Hands out fiber stacks, reusing those of finished runs.
    pub(crate) struct CachedStacks(Arc<Spares>);

    #[derive(Default)]
    struct Spares(Mutex<Vec<Mapping>>);

    /// A stack lent to one fiber; it goes back to the spares when the fiber is done.
    struct Lent {
        mapping: Option<Mapping>,
        home: Arc<Spares>,
    }

    impl Drop for Lent {
        fn drop(&mut self) {
            let Some(mapping) = self.mapping.take() else {
                return;
            };
            let mut spares = self.home.0.lock().unwrap_or_else(PoisonError::into_inner);
            if spares.len() < ENGINE_SPARES {
                spares.push(mapping);
            }
        }
    }

    impl Lent {
        fn mapping(&self) -> &Mapping {
            self.mapping.as_ref().expect("lent until dropped")
        }
    }

    // SAFETY: `top`, `range` and `guard_range` describe one live mapping owned by
    // `self`: a guard page at the bottom, then `range`, page-aligned, readable and
    // writable.
    unsafe impl StackMemory for Lent {
        fn top(&self) -> *mut u8 {
            let m = self.mapping();
            // SAFETY: one past the end of our own mapping.
            unsafe { (m.map as *mut u8).add(m.len) }
        }

        fn range(&self) -> Range<usize> {
            let m = self.mapping();
            m.map as usize + PAGE..m.map as usize + m.len
        }

        fn guard_range(&self) -> Range<*mut u8> {
            let m = self.mapping();
            m.map as *mut u8..m.base()
        }
    }

    // SAFETY: every stack handed out is a mapping of at least `size` usable bytes above
    // a guard page (see `Lent`). A reused stack holds what the previous run left, as the
    // pooling allocator's do, unless `zeroed` asks otherwise: then it is a fresh mapping.
    unsafe impl StackCreator for CachedStacks {
        fn new_stack(&self, size: usize, zeroed: bool) -> wasmtime::Result<Box<dyn StackMemory>> {
            let reused = if zeroed {
                None
            } else {
                let mut spares = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
                let fit = spares.iter().position(|m| m.usable() >= size);
                fit.map(|i| spares.swap_remove(i))
            };
            let mapping = match reused {
                Some(m) => m,
                None => Mapping::new(size)?,
            };
            Ok(Box::new(Lent {
                mapping: Some(mapping),
                home: self.0.clone(),
            }))
        }
    }

    /// A stack creator for one engine.
    pub(crate) fn fiber_stacks() -> Arc<CachedStacks> {
        Arc::new(CachedStacks(Arc::default()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stacks_go_back_to_the_spares_and_are_reused() {
            let stacks = CachedStacks(Arc::default());
            let first = stacks.new_stack(1 << 20, false).unwrap();
            let top = first.top();
            assert_eq!(first.range().len(), 1 << 20);
            assert_eq!(first.guard_range().end as usize, first.range().start);
            drop(first);
            assert_eq!(stacks.0 .0.lock().unwrap().len(), 1);
            let again = stacks.new_stack(1 << 20, false).unwrap();
            assert_eq!(again.top(), top);
            // A zeroed stack is a fresh mapping; a bigger one does not fit the spare.
            assert_ne!(stacks.new_stack(1 << 20, true).unwrap().top(), top);
            drop(again);
            let bigger = stacks.new_stack(2 << 20, false).unwrap();
            assert_ne!(bigger.top(), top);
            // Both 1 MiB stacks are spare now, the zeroed one included.
            assert_eq!(stacks.0 .0.lock().unwrap().len(), 2);
        }
    }
}
