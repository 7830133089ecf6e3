//! Moving bytes between guest buffers (iovecs) and the host: limits, gathering guest
//! buffers for one vectored host call, read loops, and retrying interrupted calls.

use super::errno::PointerRole;
use super::types::{Ciovec, Errno, Iovec};
use super::AbiMemory;
use super::SysErr;
use std::io::{self, IoSlice};
use wiggle::GuestPtr;

/// More iovecs than this in one call is `inval`, as POSIX's IOV_MAX.
pub(super) const IOV_MAX: u32 = 1024;
/// At most this many buffers are handed to one host write; the rest is a short write.
pub(super) const GATHER: usize = 16;
/// No single call moves more than this many bytes (POSIX's SSIZE_MAX for 32-bit).
pub(super) const MAX_TRANSFER: usize = i32::MAX as usize;

/// Borrows up to [`GATHER`] non-empty guest buffers for one vectored write.
pub(super) fn gather<'m>(
    mem: &'m AbiMemory<'_>,
    iovs: GuestPtr<[Ciovec]>,
    out: &mut [IoSlice<'m>; GATHER],
) -> Result<usize, SysErr> {
    if iovs.len() > IOV_MAX {
        return Err(Errno::Inval.into());
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
    let buf = mem
        .as_slice_mut(iov.buf.as_array(len as u32))
        .role("iovec buffer")?
        .ok_or(Errno::Notsup)?;
    Ok((retry(|| read(buf, done as u64))?, len))
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

/// The first non-empty guest buffer of a read: a socket read fills one buffer (a short
/// read), since a second one could block with data in hand.
pub(super) fn first_buffer<'m>(
    mem: &'m mut AbiMemory<'_>,
    iovs: GuestPtr<[Iovec]>,
) -> Result<Option<&'m mut [u8]>, SysErr> {
    if iovs.len() > IOV_MAX {
        return Err(Errno::Inval.into());
    }
    for iov in iovs.iter() {
        let iov = iov.and_then(|iov| mem.read(iov)).role("iovec array")?;
        if iov.buf_len > 0 {
            let len = iov.buf_len.min(i32::MAX as u32);
            let bytes = mem
                .as_slice_mut(iov.buf.as_array(len))
                .role("iovec buffer")?
                .ok_or(Errno::Notsup)?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}
