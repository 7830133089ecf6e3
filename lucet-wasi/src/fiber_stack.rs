//! The fiber stacks of async runs on engines without pooling: kept for the next run
//! instead of mapped and unmapped for each (unmapping costs a multi-threaded server
//! TLB-shootdown IPIs on every core). The pooling allocator has its own stack pool.

use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
use std::ffi::c_void;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use wasmtime::{StackCreator, StackMemory};

const PAGE: usize = 4096;
/// Spare stacks kept per engine.
const SPARES: usize = 32;

/// Hands out fiber stacks, reusing those of finished runs.
pub(crate) struct CachedStacks(Arc<Spares>);

#[derive(Default)]
struct Spares(Mutex<Vec<Mapping>>);

/// An anonymous mapping with a guard page at its low end.
struct Mapping {
    map: *mut c_void,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; nothing refers to it but the
// fiber it is lent to.
unsafe impl Send for Mapping {}
// SAFETY: as above; `Mapping` has no interior state of its own.
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(size: usize) -> wasmtime::Result<Mapping> {
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
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer lent to a fiber.
        let _ = unsafe { rustix::mm::munmap(self.map, self.len) };
    }
}

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
        if spares.len() < SPARES {
            spares.push(mapping);
        }
    }
}

impl Lent {
    fn mapping(&self) -> &Mapping {
        self.mapping.as_ref().expect("lent until dropped")
    }
}

// SAFETY: `top`, `range` and `guard_range` describe one live mapping owned by `self`:
// a guard page at the bottom, then `range`, page-aligned, readable and writable.
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
        // SAFETY: the guard page is the first page of our own mapping.
        m.map as *mut u8..unsafe { (m.map as *mut u8).add(PAGE) }
    }
}

// SAFETY: every stack handed out is a mapping of at least `size` usable bytes above a
// guard page (see `Lent`). A reused stack holds what the previous run left, as the
// pooling allocator's do, unless `zeroed` asks otherwise: then it is a fresh mapping.
unsafe impl StackCreator for CachedStacks {
    fn new_stack(&self, size: usize, zeroed: bool) -> wasmtime::Result<Box<dyn StackMemory>> {
        let reused = if zeroed {
            None
        } else {
            let mut spares = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
            let fit = spares.iter().position(|m| m.len - PAGE >= size);
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
pub(crate) fn creator() -> Arc<CachedStacks> {
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
