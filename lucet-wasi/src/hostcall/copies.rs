//! [`Copies`]: where a [`GuestMemory`](super::GuestMemory) over a threaded guest's shared
//! memory keeps what it hands out.
//!
//! The guest's threads write shared memory while the host reads it, so no Rust
//! reference into it may exist (a data race). A view of it — an argument borrowed for
//! the call, a `bytes`/`slice` — is a copy made here instead; a writable one is copied
//! back into guest memory: a `bytes_mut`/`slice_mut` at the next access (its borrow has
//! ended by then), an argument taken mutably when the call returns.

use std::alloc::Layout;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::mem::{align_of, MaybeUninit};
use std::ptr::NonNull;

/// Bytes of copies kept in the [`Copies`] itself (most arguments fit): no allocation.
const INLINE: usize = 256;

/// The inline room, aligned for any guest type.
#[repr(C, align(16))]
struct Inline([MaybeUninit<u8>; INLINE]);

/// The copies one call (or one [`WasiInstance::guest_memory`](crate::WasiInstance::guest_memory))
/// made of shared memory, freed when it is dropped. Empty, it owns no heap memory.
pub(crate) struct Copies {
    /// Small copies, one after the other (`used` bytes so far).
    inline: UnsafeCell<Inline>,
    used: Cell<usize>,
    /// Larger ones, each allocated.
    blocks: RefCell<Vec<(NonNull<u8>, Layout)>>,
    /// Writable arguments, copied back when the call returns.
    held: RefCell<Vec<Back>>,
    /// The last writable view, copied back at the next access.
    pending: Cell<Option<Back>>,
}

/// A copy to put back: `len` bytes from `from` to `to` (in guest memory).
#[derive(Clone, Copy)]
struct Back {
    to: *mut u8,
    from: Source,
    len: usize,
}

/// Where a copy is: inline, at an offset (the `Copies` may move between an instance's
/// views), or in an allocated block.
#[derive(Clone, Copy)]
enum Source {
    Inline(usize),
    Block(*const u8),
}

impl Default for Copies {
    fn default() -> Copies {
        Copies {
            inline: UnsafeCell::new(Inline([MaybeUninit::uninit(); INLINE])),
            used: Cell::new(0),
            blocks: RefCell::default(),
            held: RefCell::default(),
            pending: Cell::new(None),
        }
    }
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
        let start = self.used.get().next_multiple_of(align);
        let (block, source) = if align <= align_of::<Inline>() && len <= INLINE - start.min(INLINE)
        {
            self.used.set(start + len);
            // SAFETY: `start + len <= INLINE`: inside the inline room, past every copy
            // handed out before (no reference to these bytes exists).
            let block = unsafe { self.inline.get().cast::<u8>().add(start) };
            (block, Source::Inline(start))
        } else {
            let layout = Layout::from_size_align(len, align).expect("a guest range's layout");
            // SAFETY: `len` is not zero.
            let block = unsafe { std::alloc::alloc(layout) };
            let Some(block) = NonNull::new(block) else {
                std::alloc::handle_alloc_error(layout)
            };
            self.blocks.borrow_mut().push((block, layout));
            (block.as_ptr(), Source::Block(block.as_ptr()))
        };
        // SAFETY: `from` is readable for `len` bytes (the caller's promise), `block` is
        // fresh; the guest's threads may write those bytes meanwhile (their race), but no
        // reference to them is made.
        unsafe { std::ptr::copy_nonoverlapping(from, block, len) };
        let back = Back {
            to: from,
            from: source,
            len,
        };
        match kept {
            Kept::Read => {}
            Kept::UntilNext => self.pending.set(Some(back)),
            Kept::Call => self.held.borrow_mut().push(back),
        }
        block
    }

    /// Copies `b` back into guest memory.
    ///
    /// # Safety
    /// The borrow of the copy has ended (`b.to` is inside the shared memory, which never
    /// moves).
    unsafe fn put_back(&self, b: Back) {
        let from = match b.from {
            // SAFETY: an offset `copy` handed out, inside the inline room.
            Source::Inline(at) => unsafe { self.inline.get().cast::<u8>().add(at) },
            Source::Block(block) => block.cast_mut(),
        };
        // SAFETY: `from` is a live copy of `b.len` bytes; see the function's contract.
        unsafe { std::ptr::copy_nonoverlapping(from, b.to, b.len) };
    }

    /// Copies the last writable view back, if there is one.
    #[inline]
    pub(crate) fn flush(&self) {
        if let Some(b) = self.pending.take() {
            // SAFETY: the view's borrow has ended (this is the next access).
            unsafe { self.put_back(b) };
        }
    }

    /// Copies everything writable back: the call has returned.
    pub(crate) fn write_back(&self) {
        self.flush();
        for b in self.held.borrow_mut().drain(..) {
            // SAFETY: the arguments' borrows ended with the call.
            unsafe { self.put_back(b) };
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
        self.used.set(0);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Small copies are inline, large ones allocated; what is written through a writable
    /// one goes back, also after the `Copies` has moved (an instance between views).
    #[test]
    fn copies_go_back_inline_or_allocated() {
        let mut guest = vec![7u8; 4096];
        let base = guest.as_mut_ptr();
        let copies = Copies::default();
        // SAFETY: every range is inside `guest`, which outlives the copies.
        unsafe {
            let small = copies.copy(base, 8, 1, Kept::Call);
            let large = copies.copy(base.add(1000), 1000, 8, Kept::Call);
            assert!(
                copies.blocks.borrow().len() == 1,
                "only the large copy is allocated"
            );
            small.write_bytes(1, 8);
            large.write_bytes(2, 1000);
            let view = copies.copy(base.add(3000), 4, 4, Kept::UntilNext);
            view.write_bytes(3, 4);
            assert_eq!(*base, 7, "nothing goes back before the call returns");
        }
        let mut moved = copies;
        moved.clear();
        assert_eq!(&guest[..9], &[1, 1, 1, 1, 1, 1, 1, 1, 7]);
        assert!(guest[1000..2000].iter().all(|&b| b == 2));
        assert_eq!(&guest[3000..3005], &[3, 3, 3, 3, 7]);
    }
}
