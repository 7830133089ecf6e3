//! [`Copies`]: where a [`GuestMemory`](super::GuestMemory) over a threaded guest's shared
//! memory keeps what it hands out.
//!
//! The guest's threads write shared memory while the host reads it, so no Rust
//! reference into it may exist (a data race). A view of it — an argument borrowed for
//! the call, a `bytes`/`slice` — is a copy made here instead; a writable one is copied
//! back into guest memory: a `bytes_mut`/`slice_mut` at the next access (its borrow has
//! ended by then), an argument taken mutably when the call returns.

use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

/// The copies one call (or one [`WasiInstance::guest_memory`](crate::WasiInstance::guest_memory))
/// made of shared memory, freed when it is dropped. Empty, it owns no memory.
#[derive(Default)]
pub(crate) struct Copies {
    blocks: RefCell<Vec<(NonNull<u8>, Layout)>>,
    /// Writable arguments, copied back when the call returns.
    held: RefCell<Vec<Back>>,
    /// The last writable view, copied back at the next access.
    pending: Cell<Option<Back>>,
}

/// A copy to put back: `len` bytes from `from` (a block) to `to` (in guest memory).
#[derive(Clone, Copy)]
struct Back {
    to: *mut u8,
    from: *const u8,
    len: usize,
}

/// What becomes of a copy's changes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Read-only.
    Read,
    /// Copied back at the next access (a view whose borrow ends before it).
    UntilNext,
    /// Copied back when the call returns (an argument).
    Call,
}

impl Copies {
    /// A copy of the `len` bytes at `from` in guest memory (non-zero), aligned to
    /// `align`, valid as long as `self`.
    ///
    /// # Safety
    /// `from..from + len` must lie inside the shared memory.
    #[inline(never)]
    pub(crate) unsafe fn copy(
        &self,
        from: *mut u8,
        len: usize,
        align: usize,
        kept: Kept,
    ) -> *mut u8 {
        let layout = Layout::from_size_align(len, align).expect("a guest range's layout");
        // SAFETY: `len` is not zero.
        let block = unsafe { std::alloc::alloc(layout) };
        let Some(block) = NonNull::new(block) else {
            std::alloc::handle_alloc_error(layout)
        };
        self.blocks.borrow_mut().push((block, layout));
        // SAFETY: `from` is readable for `len` bytes (the caller's promise), `block` is
        // fresh; the guest's threads may write those bytes meanwhile (their race), but no
        // reference to them is made.
        unsafe { std::ptr::copy_nonoverlapping(from, block.as_ptr(), len) };
        let back = Back {
            to: from,
            from: block.as_ptr(),
            len,
        };
        match kept {
            Kept::Read => {}
            Kept::UntilNext => self.pending.set(Some(back)),
            Kept::Call => self.held.borrow_mut().push(back),
        }
        block.as_ptr()
    }

    /// Copies the last writable view back, if there is one.
    #[inline]
    pub(crate) fn flush(&self) {
        if let Some(b) = self.pending.take() {
            // SAFETY: `b.from` is a live block, `b.to` inside the shared memory, which
            // never moves; the view's borrow has ended.
            unsafe { std::ptr::copy_nonoverlapping(b.from, b.to, b.len) };
        }
    }

    /// Copies everything writable back: the call has returned.
    pub(crate) fn write_back(&self) {
        self.flush();
        for b in self.held.borrow_mut().drain(..) {
            // SAFETY: as in `flush`; the arguments' borrows ended with the call.
            unsafe { std::ptr::copy_nonoverlapping(b.from, b.to, b.len) };
        }
    }

    /// Copies back what is writable ([`write_back`](Self::write_back)), then frees every
    /// copy; nothing made before may be used after.
    pub(crate) fn clear(&mut self) {
        self.write_back();
        self.free();
    }

    /// Frees every copy, writing nothing back (the memory may be gone).
    fn free(&mut self) {
        self.pending.set(None);
        self.held.get_mut().clear();
        for (block, layout) in self.blocks.get_mut().drain(..) {
            // SAFETY: allocated by `copy` with this layout; `&mut self` means no view
            // of it is alive.
            unsafe { std::alloc::dealloc(block.as_ptr(), layout) };
        }
    }
}

impl Drop for Copies {
    fn drop(&mut self) {
        self.free();
    }
}

// SAFETY: the blocks are owned heap memory; `Back`'s pointers are into them and into
// the shared memory, which is `Send + Sync`.
unsafe impl Send for Copies {}
