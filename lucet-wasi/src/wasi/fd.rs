//! `fd_read`, `fd_write`, `fd_pread`, `fd_pwrite`, `fd_seek`, `fd_tell`, `fd_readdir`,
//! `fd_renumber`, `fd_close`, `fd_prestat_*`: moving data through open descriptors.
//! (Flags, rights and metadata: `fd_meta.rs`.)

use super::ctx::Entry;
use super::dir::{DirFd, Listing};
use super::errno::PointerRole;
use super::file::FileFd;
use super::iov::{copy_out, gather, read_first, read_loop, retry, shared_bytes, Scratch, GATHER};
use super::types::{Ciovec, Errno, Fd, Iovec, Prestat, PrestatDir, Rights};
use super::AbiMemory;
use super::{SysErr, WasiCtx};
use rustix::fs::{OFlags, SeekFrom};
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use wiggle::GuestPtr;

/// The most bytes of entries one `fd_readdir` on a shared memory gives (its buffer is
/// filled on the host first).
const MAX_SHARED_LISTING: u32 = 16 << 20;

/// A file offset from the guest: beyond `i64::MAX` is `inval`.
pub(super) fn offset(off: u64) -> Result<u64, Errno> {
    if off > i64::MAX as u64 {
        Err(Errno::Inval)
    } else {
        Ok(off)
    }
}

impl WasiCtx {
    /// The open file at `fd`: `badf` if not open, `spipe` for streams, `isdir` for
    /// directories.
    pub(super) fn file(&self, fd: Fd) -> Result<&FileFd, Errno> {
        match self.fds.get(fd)? {
            Entry::File(f) => Ok(f),
            Entry::Stdin(_) | Entry::Stdout(_) | Entry::Socket(_) => Err(Errno::Spipe),
            Entry::Dir(_) => Err(Errno::Isdir),
        }
    }

    /// The open directory at `fd`: `badf` if not open, `notdir` for anything else.
    pub(super) fn dir(&self, fd: Fd) -> Result<&DirFd, Errno> {
        match self.fds.get(fd)? {
            Entry::Dir(d) => Ok(d),
            _ => Err(Errno::Notdir),
        }
    }

    pub(super) fn fd_write(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
    ) -> Result<u32, SysErr> {
        let mut scratch = Scratch::take();
        let mut slices = [IoSlice::new(&[]); GATHER];
        let WasiCtx { fds, waits, .. } = self;
        match fds.get_mut(fd)? {
            Entry::Socket(s) => {
                let n = gather(mem, iovs, &mut slices, &mut scratch)?;
                if n == 0 {
                    return Ok(0);
                }
                Ok(s.send(*waits, &slices[..n])? as u32)
            }
            Entry::Stdout(out) => {
                let n = gather(mem, iovs, &mut slices, &mut scratch)?;
                if n == 0 {
                    return Ok(0);
                }
                if waits.deadline.is_some() || waits.defer {
                    // A write into a full pipe would block past the deadline, or block
                    // the executor.
                    let bounded = super::stdio::write_before_deadline(
                        &mut out.stream,
                        &out.pipe,
                        &slices[..n],
                        *waits,
                    )?;
                    if let Some(written) = bounded {
                        return Ok(written as u32);
                    }
                }
                Ok(out.stream.write_vectored(&slices[..n])? as u32)
            }
            Entry::File(f) => {
                f.need(Rights::FD_WRITE)?;
                let n = gather(mem, iovs, &mut slices, &mut scratch)?;
                let file = f.file.as_fd();
                if !f.regular && !f.nonblock && (waits.deadline.is_some() || waits.defer) {
                    // A device (a preopen may hold one) may block: wait for it as for
                    // a pipe, then write what a pipe takes at once.
                    super::wait::wait_for(file, super::wait::Ready::Write, *waits)?;
                    let mut chunk = [0; super::stdio::PIPE_BUF];
                    let chunk = super::stdio::pipe_chunk(&slices[..n], &mut chunk);
                    return Ok(retry(|| Ok(rustix::io::write(file, chunk)?))? as u32);
                }
                Ok(retry(|| Ok(rustix::io::writev(file, &slices[..n])?))? as u32)
            }
            Entry::Dir(_) => Err(Errno::Isdir.into()),
            Entry::Stdin(_) => Err(Errno::Badf.into()),
        }
    }

    pub(super) fn fd_pwrite(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        off: u64,
    ) -> Result<u32, SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_WRITE | Rights::FD_SEEK)?;
        let off = offset(off)?;
        let mut scratch = Scratch::take();
        let mut slices = [IoSlice::new(&[]); GATHER];
        let n = gather(mem, iovs, &mut slices, &mut scratch)?;
        let file = f.file.as_fd();
        // Linux's pwrite on an O_APPEND descriptor appends, ignoring the offset; POSIX
        // (and WASI) write at the offset. The guest is single-threaded and owns the host
        // descriptor, so append is lifted around the write.
        let host = rustix::fs::fcntl_getfl(file)?;
        let appending = host.contains(OFlags::APPEND);
        if appending {
            rustix::fs::fcntl_setfl(file, host - OFlags::APPEND)?;
        }
        let written = retry(|| Ok(rustix::io::pwritev(file, &slices[..n], off)?));
        if appending {
            rustix::fs::fcntl_setfl(file, host)?;
        }
        Ok(written? as u32)
    }

    pub(super) fn fd_read(
        &mut self,
        mem: &mut AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
    ) -> Result<u32, SysErr> {
        // A stream fills one buffer: a second read could block with data in hand.
        let mut first = true;
        let mut once = move |regular: bool| regular || std::mem::take(&mut first);
        let waits = self.waits;
        match self.fds.get_mut(fd)? {
            Entry::Socket(s) => Ok(read_first(mem, iovs, |buf| s.recv(waits, buf, 0))? as u32),
            Entry::Stdin(input) => {
                // An async instance's read of a host stream waits for data on the
                // executor (see `Waits::defer`); a sync one with a deadline waits in
                // poll(2) until it; one without blocks in read(2).
                if waits.defer || waits.deadline.is_some() {
                    if let Some(fd) = input.stream.host_fd() {
                        super::wait::wait_for(fd, super::wait::Ready::Read, waits)?;
                    }
                }
                read_loop(mem, iovs, |buf, _| {
                    if !once(false) {
                        return Ok(0);
                    }
                    input.stream.read(buf)
                })
            }
            Entry::File(f) => {
                f.need(Rights::FD_READ)?;
                let (file, regular) = (f.file.as_fd(), f.regular);
                if !regular && !f.nonblock && (waits.defer || waits.deadline.is_some()) {
                    // A device may block, as stdin does.
                    super::wait::wait_for(file, super::wait::Ready::Read, waits)?;
                }
                read_loop(mem, iovs, |buf, _| {
                    if !once(regular) {
                        return Ok(0);
                    }
                    Ok(rustix::io::read(file, buf)?)
                })
            }
            Entry::Dir(_) => Err(Errno::Isdir.into()),
            Entry::Stdout(_) => Err(Errno::Badf.into()),
        }
    }

    pub(super) fn fd_pread(
        &mut self,
        mem: &mut AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
        off: u64,
    ) -> Result<u32, SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_READ | Rights::FD_SEEK)?;
        let off = offset(off)?;
        let file = f.file.as_fd();
        read_loop(mem, iovs, |buf, done| {
            let at = off.checked_add(done).ok_or(io::ErrorKind::InvalidInput)?;
            Ok(rustix::io::pread(file, buf, at)?)
        })
    }

    pub(super) fn fd_seek(&mut self, fd: Fd, off: i64, whence: u32) -> Result<u64, SysErr> {
        let f = self.file(fd)?;
        let pos = match whence {
            0 => SeekFrom::Start(u64::try_from(off).map_err(|_| Errno::Inval)?),
            1 => SeekFrom::Current(off),
            2 => SeekFrom::End(off),
            _ => return Err(Errno::Inval.into()),
        };
        // Asking where we are is a `tell`.
        if matches!(pos, SeekFrom::Current(0)) {
            f.need(Rights::FD_TELL)?;
        } else {
            f.need(Rights::FD_SEEK)?;
        }
        Ok(rustix::fs::seek(&f.file, pos)?)
    }

    pub(super) fn fd_tell(&mut self, fd: Fd) -> Result<u64, SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_TELL)?;
        Ok(rustix::fs::tell(&f.file)?)
    }

    /// Lists a directory from `cookie` on (see [`Listing`]).
    pub(super) fn fd_readdir(
        &mut self,
        mem: &mut AbiMemory<'_>,
        fd: Fd,
        buf: GuestPtr<u8>,
        len: u32,
        cookie: u64,
    ) -> Result<u32, SysErr> {
        self.fds.readdir_calls += 1;
        let now = self.fds.readdir_calls;
        let d = match self.fds.get_mut(fd)? {
            Entry::Dir(d) => d,
            _ => return Err(Errno::Notdir.into()),
        };
        d.need(Rights::FD_READDIR)?;
        if len == 0 {
            return Ok(0);
        }
        let opened = d.listing.is_none();
        let listing = match &mut d.listing {
            Some(listing) => listing,
            empty => empty.insert(Listing::open(&d.dir, d.root)?),
        };
        listing.last_used = now;
        let used = match mem {
            // A shared memory's buffer is filled through the thread's scratch buffer:
            // at most `MAX_SHARED_LISTING` bytes of entries per call.
            AbiMemory::Shared(cells) => {
                let len = len.min(MAX_SHARED_LISTING);
                let dst = shared_bytes(cells, buf.as_array(len)).role("buffer")?;
                let mut scratch = Scratch::take();
                let out = scratch.bytes(dst.len());
                let used = listing.fill(&d.dir, out, cookie)?;
                copy_out(&out[..used], &dst[..used]);
                used
            }
            AbiMemory::Unshared(_) => {
                let out = mem
                    .as_slice_mut(buf.as_array(len))
                    .role("buffer")?
                    .ok_or(Errno::Notsup)?;
                listing.fill(&d.dir, out, cookie)?
            }
        };
        if opened {
            self.fds.evict_listings();
        }
        Ok(used as u32)
    }

    pub(super) fn fd_renumber(&mut self, from: Fd, to: Fd) -> Result<(), SysErr> {
        self.fds.renumber(from, to)
    }

    pub(super) fn fd_close(&mut self, fd: Fd) -> Result<(), SysErr> {
        self.fds.close(fd)
    }

    pub(super) fn fd_prestat_get(&self, fd: Fd) -> Result<Prestat, SysErr> {
        match self.fds.get(fd)? {
            Entry::Dir(DirFd {
                preopen: Some(path),
                ..
            }) => Ok(Prestat::Dir(PrestatDir {
                pr_name_len: path.len() as u32,
            })),
            _ => Err(Errno::Badf.into()),
        }
    }

    pub(super) fn fd_prestat_dir_name(
        &self,
        mem: &mut AbiMemory<'_>,
        fd: Fd,
        buf: GuestPtr<u8>,
        len: u32,
    ) -> Result<(), SysErr> {
        let Entry::Dir(DirFd {
            preopen: Some(path),
            ..
        }) = self.fds.get(fd)?
        else {
            return Err(Errno::Badf.into());
        };
        let name = path.as_bytes();
        if (len as usize) < name.len() {
            return Err(Errno::Nametoolong.into());
        }
        if !name.is_empty() {
            mem.copy_from_slice(name, buf.as_array(name.len() as u32))
                .role("buffer")?;
        }
        Ok(())
    }
}
