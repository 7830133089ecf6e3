//! Guest memory as a host function sees it: bounds-, alignment- and alias-checked views.

use super::copies::{Copies, Kept};
use super::guest_type::{GuestType, Witness};
use crate::error::HostcallError;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, MaybeUninit};

/// The most guest ranges one call's arguments may borrow at once.
pub(crate) const MAX_HELD: usize = 16;

#[derive(Clone, Copy)]
struct Held {
    start: usize,
    end: usize,
    mutable: bool,
    arg: &'static str,
}

/// The guest ranges one call's arguments hold (see [`GuestMemory`]). It lives beside
/// the `GuestMemory` that records into it, not inside: a `GuestMemory` is moved on its
/// way into the host function, and stays a few words.
pub(crate) struct Borrows {
    /// The first `count` are set.
    held: [MaybeUninit<Held>; MAX_HELD],
    count: usize,
}

impl Borrows {
    /// None yet.
    #[inline]
    pub(crate) fn new() -> Borrows {
        Borrows {
            held: [const { MaybeUninit::uninit() }; MAX_HELD],
            count: 0,
        }
    }

    /// The ranges held.
    #[inline]
    fn held(&self) -> &[Held] {
        // SAFETY: the first `count` entries were written by `push` (`count <= MAX_HELD`).
        unsafe { std::slice::from_raw_parts(self.held.as_ptr().cast::<Held>(), self.count) }
    }

    /// Adds one; false when full.
    #[inline]
    fn push(&mut self, held: Held) -> bool {
        match self.held.get_mut(self.count) {
            Some(slot) => {
                slot.write(held);
                self.count += 1;
                true
            }
            None => false,
        }
    }
}

/// The guest's linear memory during one host-function call.
///
/// Every access is bounds-checked against the memory's current size; typed views are
/// also checked for alignment. Arguments borrowed from guest memory (`&str`, `&[u8]`,
/// `&mut [u8]`, `&T`, ...) stay borrowed for the whole call, so an access through this
/// type that would alias one of them mutably (writing where an argument is read, or
/// reading where one is written) is refused with [`HostcallError::Overlap`].
///
/// **Threaded guests.** A threaded guest's memory is shared: its other threads may write
/// it during the call, so no Rust reference into it is ever made. Every view this type
/// gives of it (`bytes`, `str`, `slice`, a borrowed argument) is a copy made for the call;
/// what is written through a writable one (`bytes_mut`, `slice_mut`, a `&mut` argument)
/// is copied back — a view's at the next access through this type, an argument's when
/// the function returns. `read`, `write` and owned arguments copy as always. The copies
/// live until the call returns: a function that takes many large views of shared
/// memory holds them all until then.
///
/// ```
/// use lucet_wasi::{hostcall, HostContext, HostcallError, WasiInstance};
/// /// Writes `n` squares as little-endian u32s at `out`.
/// #[hostcall]
/// fn squares(cx: &mut HostContext<'_, ()>, out: u32, n: u32) -> Result<(), HostcallError> {
///     for i in 0..n {
///         cx.memory_mut().write(out + 4 * i, &(i * i))?;
///     }
///     Ok(())
/// }
/// let wat = r#"(module
///     (import "env" "squares" (func $squares (param i32 i32)))
///     (memory (export "memory") 1)
///     (func (export "run") (result i32)
///         (call $squares (i32.const 64) (i32.const 4))
///         (i32.load (i32.const 76))))"#;
/// let mut instance = WasiInstance::builder().module_bytes(wat).hostcall(squares).build()?;
/// assert_eq!(instance.call::<(), i32>("run", ())?, 9);
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
pub struct GuestMemory<'a> {
    base: *mut u8,
    len: usize,
    /// Whether the guest exports a memory at all.
    present: bool,
    borrows: &'a mut Borrows,
    /// For a shared memory: where views of it are copied (see [`Copies`]).
    copies: Option<&'a Copies>,
    _memory: PhantomData<&'a mut [u8]>,
}

impl<'a> GuestMemory<'a> {
    /// The view of `memory`, whose arguments' borrows are recorded in `borrows`.
    #[inline]
    pub(crate) fn new(memory: &'a mut [u8], borrows: &'a mut Borrows) -> GuestMemory<'a> {
        GuestMemory {
            base: memory.as_mut_ptr(),
            len: memory.len(),
            present: true,
            borrows,
            copies: None,
            _memory: PhantomData,
        }
    }

    /// The view of a threaded guest's shared memory, `cells`, whose views are copies kept
    /// in `copies` (see the type's documentation); the caller copies the arguments back
    /// with [`Copies::write_back`] when the call returns.
    pub(crate) fn shared(
        cells: &'a [UnsafeCell<u8>],
        borrows: &'a mut Borrows,
        copies: &'a Copies,
    ) -> GuestMemory<'a> {
        let mut memory = GuestMemory::new(&mut [], borrows);
        memory.base = UnsafeCell::raw_get(cells.as_ptr());
        memory.len = cells.len();
        memory.copies = Some(copies);
        memory
    }

    /// The view of a guest that exports no memory: every non-empty access fails.
    pub(crate) fn absent(borrows: &'a mut Borrows) -> GuestMemory<'a> {
        let mut memory = GuestMemory::new(&mut [], borrows);
        memory.present = false;
        memory
    }

    /// The memory's size in bytes.
    pub fn size(&self) -> usize {
        self.len
    }

    /// Checks that `count` values of `T` at `ptr` lie inside the memory, aligned when
    /// `align` says so, and clear of held arguments; returns the byte range.
    fn range<T>(
        &self,
        arg: Option<&'static str>,
        ptr: u32,
        count: u32,
        align: bool,
        mutable: bool,
    ) -> Result<(usize, usize), HostcallError> {
        if let Some(copies) = self.copies {
            // A writable view handed out before has ended: its changes go back first.
            copies.flush();
        }
        let bytes = (count as u64).checked_mul(size_of::<T>() as u64);
        if bytes == Some(0) {
            return Ok((0, 0));
        }
        if !self.present {
            return Err(HostcallError::NoMemory);
        }
        let start = ptr as u64;
        match bytes.and_then(|b| start.checked_add(b)) {
            Some(end) if end <= self.len as u64 => {}
            _ => {
                return Err(HostcallError::OutOfBounds {
                    arg,
                    ptr,
                    len: bytes.unwrap_or(u64::MAX),
                    memory: self.len,
                })
            }
        }
        let (start, end) = (start as usize, (start + bytes.unwrap_or(0)) as usize);
        if align && start % align_of::<T>() != 0 {
            return Err(HostcallError::Misaligned {
                arg,
                ptr,
                align: align_of::<T>(),
            });
        }
        if let Some(other) = self
            .borrows
            .held()
            .iter()
            .find(|h| (mutable || h.mutable) && h.start < end && start < h.end)
        {
            return Err(HostcallError::Overlap {
                arg,
                other: other.arg,
            });
        }
        Ok((start, end))
    }

    /// A pointer to `start`, valid for the checked range that begins there (dangling but
    /// aligned for empty ranges).
    fn at<T>(&self, start: usize, end: usize) -> *mut T {
        if start == end {
            std::ptr::NonNull::dangling().as_ptr()
        } else {
            // SAFETY: `start < end <= len`, inside the memory.
            unsafe { self.base.add(start).cast() }
        }
    }

    /// What a view of the checked range `start..end` points at: the memory itself, or,
    /// for a shared memory, a copy of it that lives as long as the copies do (`kept`
    /// says when its changes go back).
    fn view<T>(&self, start: usize, end: usize, kept: Kept) -> *mut T {
        match self.copies {
            Some(copies) if start != end => {
                // SAFETY: `start..end` was checked inside the memory.
                unsafe { copies.copy(self.at(start, end), end - start, align_of::<T>(), kept) }
                    .cast()
            }
            _ => self.at(start, end),
        }
    }

    /// Copies the `T` at `ptr` out of guest memory (any alignment).
    pub fn read<T: GuestType>(&self, ptr: u32) -> Result<T, HostcallError> {
        let (start, end) = self.range::<T>(None, ptr, 1, false, false)?;
        // SAFETY: checked in bounds and not written by any argument; `T` is plain data.
        Ok(unsafe { self.at::<T>(start, end).read_unaligned() })
    }

    /// Copies `value` into guest memory at `ptr` (any alignment).
    pub fn write<T: GuestType>(&mut self, ptr: u32, value: &T) -> Result<(), HostcallError> {
        let (start, end) = self.range::<T>(None, ptr, 1, false, true)?;
        // SAFETY: checked in bounds and not borrowed by any argument.
        unsafe { self.at::<T>(start, end).write_unaligned(*value) };
        Ok(())
    }

    /// The `len` bytes at `ptr`.
    pub fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], HostcallError> {
        self.slice(ptr, len)
    }

    /// The `len` bytes at `ptr`, writable.
    pub fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], HostcallError> {
        self.slice_mut(ptr, len)
    }

    /// The UTF-8 string of `len` bytes at `ptr`.
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, HostcallError> {
        utf8(None, ptr, self.bytes(ptr, len)?)
    }

    /// `count` values of `T` at `ptr`, which must be aligned for `T`.
    pub fn slice<T: GuestType>(&self, ptr: u32, count: u32) -> Result<&[T], HostcallError> {
        let (start, end) = self.range::<T>(None, ptr, count, true, false)?;
        // SAFETY: in bounds, aligned, not written by any argument, and `&self` keeps
        // `write`/`*_mut` from running while the slice lives (or a copy, which nothing
        // else sees).
        let view = self.view(start, end, Kept::Read);
        Ok(unsafe { std::slice::from_raw_parts(view, count as usize) })
    }

    /// `count` values of `T` at `ptr`, writable; `ptr` must be aligned for `T`.
    pub fn slice_mut<T: GuestType>(
        &mut self,
        ptr: u32,
        count: u32,
    ) -> Result<&mut [T], HostcallError> {
        let (start, end) = self.range::<T>(None, ptr, count, true, true)?;
        // SAFETY: in bounds, aligned, borrowed by no argument, and `&mut self` makes it
        // the only view taken through this type (or a copy, which nothing else sees).
        let view = self.view(start, end, Kept::UntilNext);
        Ok(unsafe { std::slice::from_raw_parts_mut(view, count as usize) })
    }

    /// Records a range an argument keeps for the whole call; refused when
    /// [`MAX_HELD`] ranges are held already (an unrecorded range could be borrowed again).
    fn hold(
        &mut self,
        arg: &'static str,
        start: usize,
        end: usize,
        mutable: bool,
    ) -> Result<(), HostcallError> {
        if start == end {
            return Ok(());
        }
        let held = Held {
            start,
            end,
            mutable,
            arg,
        };
        match self.borrows.push(held) {
            true => Ok(()),
            false => Err(HostcallError::TooManyBorrows { arg, max: MAX_HELD }),
        }
    }

    /// Borrows argument `arg`: `count` values of `T` at `ptr`, for the whole call.
    #[doc(hidden)]
    pub fn take_slice<T>(
        &mut self,
        arg: &'static str,
        ptr: u32,
        count: u32,
        _: Witness<T>,
    ) -> Result<&'a [T], HostcallError> {
        let (start, end) = self.range::<T>(Some(arg), ptr, count, true, false)?;
        self.hold(arg, start, end, false)?;
        // SAFETY: in bounds and aligned; held, so no later access may write it (or a
        // copy, which lives as long as the copies, `'a`).
        let view = self.view(start, end, Kept::Read);
        Ok(unsafe { std::slice::from_raw_parts(view, count as usize) })
    }

    /// Borrows argument `arg` mutably: `count` values of `T` at `ptr`, for the whole call.
    #[doc(hidden)]
    pub fn take_slice_mut<T>(
        &mut self,
        arg: &'static str,
        ptr: u32,
        count: u32,
        _: Witness<T>,
    ) -> Result<&'a mut [T], HostcallError> {
        let (start, end) = self.range::<T>(Some(arg), ptr, count, true, true)?;
        self.hold(arg, start, end, true)?;
        // SAFETY: in bounds, aligned, overlapping nothing held; held, so no later
        // access may touch it (or a copy, as for `take_slice`).
        let view = self.view(start, end, Kept::Call);
        Ok(unsafe { std::slice::from_raw_parts_mut(view, count as usize) })
    }

    /// Borrows argument `arg`: the UTF-8 string of `len` bytes at `ptr`.
    #[doc(hidden)]
    pub fn take_str(
        &mut self,
        arg: &'static str,
        ptr: u32,
        len: u32,
    ) -> Result<&'a str, HostcallError> {
        utf8(Some(arg), ptr, self.take_slice(arg, ptr, len, u8::WITNESS)?)
    }

    /// Borrows argument `arg`: the `T` at `ptr`.
    #[doc(hidden)]
    pub fn take_ref<T>(
        &mut self,
        arg: &'static str,
        ptr: u32,
        witness: Witness<T>,
    ) -> Result<&'a T, HostcallError> {
        Ok(&self.take_slice(arg, ptr, 1, witness)?[0])
    }

    /// Borrows argument `arg` mutably: the `T` at `ptr`.
    #[doc(hidden)]
    pub fn take_mut<T>(
        &mut self,
        arg: &'static str,
        ptr: u32,
        witness: Witness<T>,
    ) -> Result<&'a mut T, HostcallError> {
        Ok(&mut self.take_slice_mut(arg, ptr, 1, witness)?[0])
    }

    /// Copies argument `arg`: `count` values of `T` at `ptr` (at most the memory's size).
    #[doc(hidden)]
    pub fn copy_vec<T>(
        &self,
        arg: &'static str,
        ptr: u32,
        count: u32,
        _: Witness<T>,
    ) -> Result<Vec<T>, HostcallError> {
        let (start, end) = self.range::<T>(Some(arg), ptr, count, false, false)?;
        let mut out: Vec<T> = Vec::with_capacity(count as usize);
        // SAFETY: in bounds and not written by any argument; `T` is plain data, copied
        // byte for byte into the vector's spare capacity.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.at::<u8>(start, end),
                out.as_mut_ptr().cast::<u8>(),
                end - start,
            );
            out.set_len(count as usize);
        }
        Ok(out)
    }

    /// Copies argument `arg`: the UTF-8 string of `len` bytes at `ptr`.
    #[doc(hidden)]
    pub fn copy_string(
        &self,
        arg: &'static str,
        ptr: u32,
        len: u32,
    ) -> Result<String, HostcallError> {
        String::from_utf8(self.copy_vec(arg, ptr, len, u8::WITNESS)?).map_err(|e| {
            HostcallError::NotUtf8 {
                arg: Some(arg),
                ptr,
                valid_up_to: e.utf8_error().valid_up_to(),
            }
        })
    }
}

fn utf8<'b>(
    arg: Option<&'static str>,
    ptr: u32,
    bytes: &'b [u8],
) -> Result<&'b str, HostcallError> {
    std::str::from_utf8(bytes).map_err(|e| HostcallError::NotUtf8 {
        arg,
        ptr,
        valid_up_to: e.valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_alignment_and_overlap() {
        let mut bytes = vec![0u8; 64];
        bytes[8..13].copy_from_slice(b"hello");
        let mut borrows = Borrows::new();
        let mut m = GuestMemory::new(&mut bytes, &mut borrows);
        assert_eq!(m.take_str("s", 8, 5).unwrap(), "hello");
        // Shared borrows may overlap; a mutable one may not.
        assert_eq!(m.take_slice("t", 10, 2, u8::WITNESS).unwrap(), b"ll");
        let e = m.take_slice_mut("out", 12, 4, u8::WITNESS).unwrap_err();
        assert!(matches!(
            e,
            HostcallError::Overlap {
                arg: Some("out"),
                other: "s"
            }
        ));
        let out = m.take_slice_mut("out", 16, 4, u8::WITNESS).unwrap();
        out.copy_from_slice(b"abcd");
        assert!(matches!(
            m.read::<u32>(16),
            Err(HostcallError::Overlap { .. })
        ));
        assert!(matches!(
            m.write(8, &1u8),
            Err(HostcallError::Overlap { .. })
        ));
        assert_eq!(m.read::<u8>(9).unwrap(), b'e');
        assert!(matches!(
            m.take_slice("x", 2, 1, u32::WITNESS),
            Err(HostcallError::Misaligned { align: 4, .. })
        ));
        assert!(matches!(
            m.take_slice("x", 60, 5, u8::WITNESS),
            Err(HostcallError::OutOfBounds { memory: 64, .. })
        ));
        assert!(matches!(
            m.take_slice("x", 8, u32::MAX, u64::WITNESS),
            Err(HostcallError::OutOfBounds { .. })
        ));
        // Empty ranges are fine anywhere, even past the end.
        assert!(m
            .take_slice_mut("e", u32::MAX, 0, u8::WITNESS)
            .unwrap()
            .is_empty());
        assert_eq!(m.copy_string("s", 40, 2).unwrap(), "\0\0");
        m.write(30, &0xffu8).unwrap();
        assert!(matches!(
            m.copy_string("s", 29, 3),
            Err(HostcallError::NotUtf8 { valid_up_to: 1, .. })
        ));
        assert_eq!(m.copy_vec("v", 8, 2, u8::WITNESS).unwrap(), b"he");
    }

    /// Before: after 16 held ranges `hold` stopped recording, so a 17th range could be
    /// taken mutably twice (two `&mut [u8]` to the same bytes from safe code).
    #[test]
    fn a_full_borrow_table_refuses_instead_of_forgetting() {
        let mut bytes = vec![0u8; 4096];
        let mut borrows = Borrows::new();
        let mut m = GuestMemory::new(&mut bytes, &mut borrows);
        for i in 0..MAX_HELD as u32 {
            m.take_slice("a", i * 8, 4, u8::WITNESS).unwrap();
        }
        let e = m.take_slice_mut("b", 2000, 4, u8::WITNESS).unwrap_err();
        assert!(
            matches!(e, HostcallError::TooManyBorrows { arg: "b", max: 16 }),
            "{e:?}"
        );
        assert!(m.take_slice("c", 3000, 1, u8::WITNESS).is_err());
        // A range that stays untracked cannot be handed out twice.
        assert!(m.take_slice_mut("d", 2000, 4, u8::WITNESS).is_err());
        // Empty ranges need no slot.
        assert!(m
            .take_slice_mut("e", 100, 0, u8::WITNESS)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn no_memory() {
        let mut borrows = Borrows::new();
        let m = GuestMemory::absent(&mut borrows);
        assert!(matches!(m.bytes(0, 1), Err(HostcallError::NoMemory)));
        assert!(m.bytes(0, 0).unwrap().is_empty());
    }
}
