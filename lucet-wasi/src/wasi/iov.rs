//! Moving bytes between guest buffers (iovecs) and the host: limits, gathering guest
//! buffers for one vectored host call, read loops, and retrying interrupted calls.

use super::errno::PointerRole;
use super::types::{Ciovec, Errno, Iovec};
use super::AbiMemory;
use super::SysErr;
use std::cell::{Cell, UnsafeCell};
use std::io::{self, IoSlice};
use wiggle::{GuestError, GuestPtr, Region};

/// More iovecs than this in one call is `inval`, as POSIX's IOV_MAX.
pub(super) const IOV_MAX: u32 = 1024;
/// At most this many buffers are handed to one host write; the rest is a short write.
pub(super) const GATHER: usize = 16;
/// No single call moves more than this many bytes (POSIX's SSIZE_MAX for 32-bit).
pub(super) const MAX_TRANSFER: usize = i32::MAX as usize;

/// At most this many bytes move in one call on a shared memory (a short read or
/// write), through the thread's [`Scratch`].
pub(super) const SHARED_CHUNK: usize = 1 << 20;

thread_local! {
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Host bytes that guest bytes of a shared memory move through: its threads may change
/// them at any time, so no Rust reference into it is made (they are copied in and out
/// as wiggle's `to_vec` and `copy_from_slice` do). The thread's buffer, reused from call
/// to call, taken on first use: calls on unshared memory never touch it.
pub(super) struct Scratch(pub(super) Vec<u8>);

impl Scratch {
    /// No buffer yet.
    #[inline]
    pub(super) const fn take() -> Scratch {
        Scratch(Vec::new())
    }

    /// The buffer, empty.
    pub(super) fn clear(&mut self) -> &mut Vec<u8> {
        if self.0.capacity() == 0 {
            self.0 = SCRATCH.take();
        }
        self.0.clear();
        &mut self.0
    }

    /// `len` bytes of the buffer.
    pub(super) fn bytes(&mut self, len: usize) -> &mut [u8] {
        let v = self.clear();
        v.resize(len, 0);
        v
    }
}

impl Scratch {
    /// Gives the buffer back to the thread; a rare large one (a large listing) is freed.
    #[cold]
    #[inline(never)]
    fn put_back(&mut self) {
        if self.0.capacity() <= SHARED_CHUNK {
            SCRATCH.set(std::mem::take(&mut self.0));
        }
    }
}

impl Drop for Scratch {
    // One comparison where it was never used (unshared memories).
    #[inline]
    fn drop(&mut self) {
        if self.0.capacity() != 0 {
            self.put_back();
        }
    }
}

/// The cells of the guest bytes at `ptr` in a shared memory, bounds-checked.
pub(super) fn shared_bytes(
    cells: &[UnsafeCell<u8>],
    ptr: GuestPtr<[u8]>,
) -> Result<&[UnsafeCell<u8>], GuestError> {
    let (start, len) = (ptr.offset_base(), ptr.len());
    let end = start as u64 + len as u64;
    if end > cells.len() as u64 {
        return Err(GuestError::PtrOutOfBounds(Region::new(start, len)));
    }
    Ok(&cells[start as usize..end as usize])
}

/// Copies guest bytes of a shared memory into `out`, appending.
pub(super) fn copy_in(src: &[UnsafeCell<u8>], out: &mut Vec<u8>) {
    out.reserve(src.len());
    // SAFETY: `src` is in bounds; a shared memory's bytes may change under the copy
    // (the guest's race, as with wiggle's own copies), but no reference to them is
    // made, and `out` has room for them.
    unsafe {
        std::ptr::copy(
            src.as_ptr().cast::<u8>(),
            out.as_mut_ptr().add(out.len()),
            src.len(),
        );
        out.set_len(out.len() + src.len());
    }
}

/// Copies `bytes` into the guest bytes of a shared memory at `dst` (as long as `bytes`).
pub(super) fn copy_out(bytes: &[u8], dst: &[UnsafeCell<u8>]) {
    debug_assert_eq!(bytes.len(), dst.len());
    let n = bytes.len().min(dst.len());
    // SAFETY: as for `copy_in`, the other way.
    unsafe { std::ptr::copy(bytes.as_ptr(), UnsafeCell::raw_get(dst.as_ptr()), n) };
}

/// Borrows up to [`GATHER`] non-empty guest buffers for one vectored write; from a shared
/// memory, copies up to [`SHARED_CHUNK`] bytes of them into `scratch` instead.
pub(super) fn gather<'m>(
    mem: &'m AbiMemory<'_>,
    iovs: GuestPtr<[Ciovec]>,
    out: &mut [IoSlice<'m>; GATHER],
    scratch: &'m mut Scratch,
) -> Result<usize, SysErr> {
    if iovs.len() > IOV_MAX {
        return Err(Errno::Inval.into());
    }
    if let AbiMemory::Shared(cells) = mem {
        return gather_shared(mem, cells, iovs, out, scratch);
    }
    let mut n = 0;
    let mut total = 0usize;
    for iov in iovs.iter() {
        let iov = iov.and_then(|iov| mem.read(iov)).role("iovec array")?;
        if iov.buf_len == 0 {
            continue;
        }
        let bytes = mem
            .as_slice(iov.buf.as_array(iov.buf_len))
            .role("iovec buffer")?
            .ok_or(Errno::Notsup)?;
        let bytes = &bytes[..bytes.len().min(MAX_TRANSFER - total)];
        total += bytes.len();
        out[n] = IoSlice::new(bytes);
        n += 1;
        if n == GATHER || total == MAX_TRANSFER {
            break;
        }
    }
    Ok(n)
}

/// [`gather`] from a shared memory: copies up to [`SHARED_CHUNK`] bytes into `scratch`.
#[cold]
#[inline(never)]
fn gather_shared<'m>(
    mem: &AbiMemory<'_>,
    cells: &[UnsafeCell<u8>],
    iovs: GuestPtr<[Ciovec]>,
    out: &mut [IoSlice<'m>; GATHER],
    scratch: &'m mut Scratch,
) -> Result<usize, SysErr> {
    scratch.clear();
    for iov in iovs.iter() {
        let iov = iov.and_then(|iov| mem.read(iov)).role("iovec array")?;
        let take = (iov.buf_len as usize).min(SHARED_CHUNK - scratch.0.len());
        let src = shared_bytes(cells, iov.buf.as_array(take as u32)).role("iovec buffer")?;
        copy_in(src, &mut scratch.0);
        if scratch.0.len() == SHARED_CHUNK {
            break;
        }
    }
    out[0] = IoSlice::new(&scratch.0);
    Ok(usize::from(!scratch.0.is_empty()))
}

/// Reads into the guest's buffers in order, one host read per buffer, until a read comes
/// back short: no host buffer in between. `read(buf, done)` fills `buf`, `done` bytes into
/// the transfer. An error after some bytes arrived ends the transfer with those bytes.
pub(super) fn read_loop(
    mem: &mut AbiMemory<'_>,
    iovs: GuestPtr<[Iovec]>,
    mut read: impl FnMut(&mut [u8], u64) -> io::Result<usize>,
) -> Result<u32, SysErr> {
    if iovs.len() > IOV_MAX {
        return Err(Errno::Inval.into());
    }
    let mut total = 0usize;
    for iov in iovs.iter() {
        match read_one(mem, iov, total, &mut read) {
            Ok((n, len)) => {
                total += n;
                if n < len || total == MAX_TRANSFER {
                    break;
                }
            }
            // Bytes already moved are reported, unless a bad pointer ends the guest.
            Err(e) if total == 0 || matches!(e, SysErr::Pointer(_)) => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total as u32)
}

/// One buffer of [`read_loop`]: returns (bytes read, buffer length).
fn read_one(
    mem: &mut AbiMemory<'_>,
    iov: Result<GuestPtr<Iovec>, wiggle::GuestError>,
    done: usize,
    read: &mut impl FnMut(&mut [u8], u64) -> io::Result<usize>,
) -> Result<(usize, usize), SysErr> {
    let iov = iov.and_then(|iov| mem.read(iov)).role("iovec array")?;
    let len = (iov.buf_len as usize).min(MAX_TRANSFER - done);
    if len == 0 {
        return Ok((0, 0));
    }
    if let AbiMemory::Shared(cells) = mem {
        return read_one_shared(cells, iov, len, done, read);
    }
    let buf = mem
        .as_slice_mut(iov.buf.as_array(len as u32))
        .role("iovec buffer")?
        .ok_or(Errno::Notsup)?;
    Ok((retry(|| read(buf, done as u64))?, len))
}

/// [`read_one`] into a shared memory: through the scratch buffer, a chunk at most (then
/// a short read).
#[cold]
#[inline(never)]
fn read_one_shared(
    cells: &[UnsafeCell<u8>],
    iov: Iovec,
    len: usize,
    done: usize,
    read: &mut impl FnMut(&mut [u8], u64) -> io::Result<usize>,
) -> Result<(usize, usize), SysErr> {
    let len = len.min(SHARED_CHUNK);
    let dst = shared_bytes(cells, iov.buf.as_array(len as u32)).role("iovec buffer")?;
    let mut scratch = Scratch::take();
    let n = retry(|| read(scratch.bytes(len), done as u64))?;
    copy_out(&scratch.0[..n], &dst[..n]);
    Ok((n, if n == len { iov.buf_len as usize } else { len }))
}

/// Runs a host call again while it is interrupted.
#[inline]
pub(crate) fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Reads into the first non-empty guest buffer (`read` fills it): a socket read fills one
/// buffer (a short read), since a second one could block with data in hand. 0 if every
/// buffer is empty.
pub(super) fn read_first(
    mem: &mut AbiMemory<'_>,
    iovs: GuestPtr<[Iovec]>,
    read: impl FnOnce(&mut [u8]) -> Result<usize, SysErr>,
) -> Result<usize, SysErr> {
    if iovs.len() > IOV_MAX {
        return Err(Errno::Inval.into());
    }
    for iov in iovs.iter() {
        let iov = iov.and_then(|iov| mem.read(iov)).role("iovec array")?;
        if iov.buf_len > 0 {
            let len = iov.buf_len.min(i32::MAX as u32);
            if let AbiMemory::Shared(cells) = mem {
                let len = (len as usize).min(SHARED_CHUNK);
                let dst = shared_bytes(cells, iov.buf.as_array(len as u32)).role("iovec buffer")?;
                let mut scratch = Scratch::take();
                let n = read(scratch.bytes(len))?;
                copy_out(&scratch.0[..n], &dst[..n]);
                return Ok(n);
            }
            let bytes = mem
                .as_slice_mut(iov.buf.as_array(len))
                .role("iovec buffer")?
                .ok_or(Errno::Notsup)?;
            return read(bytes);
        }
    }
    Ok(0)
}
