//! `fd_*`: operations on open descriptors.

use super::ctx::Entry;
use super::dir::{filetype, Listing};
use super::errno::PointerRole;
use super::file::{dir_rights, file_rights, DirFd, FileFd};
use super::types::{
    Ciovec, Errno, Fd, Fdflags, Fdstat, Filestat, Filetype, Fstflags, Iovec, Prestat, PrestatDir,
    Rights,
};
use super::{SysErr, WasiCtx};
use rustix::fs::{Advice, OFlags, SeekFrom, Timespec, Timestamps};
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use wiggle::{GuestMemory, GuestPtr};

/// More iovecs than this in one call is `inval`, as POSIX's IOV_MAX.
pub(super) const IOV_MAX: u32 = 1024;
/// At most this many buffers are handed to one host write; the rest is a short write.
pub(super) const GATHER: usize = 16;
/// No single call moves more than this many bytes (POSIX's SSIZE_MAX for 32-bit).
const MAX_TRANSFER: usize = i32::MAX as usize;

/// Rights of the standard streams.
fn stdin_rights() -> Rights {
    Rights::FD_READ
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_FILESTAT_GET
        | Rights::POLL_FD_READWRITE
}
fn stdout_rights() -> Rights {
    Rights::FD_WRITE
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_FILESTAT_GET
        | Rights::POLL_FD_READWRITE
}

/// Rights of an accepted or listening socket.
fn socket_rights() -> Rights {
    Rights::FD_READ
        | Rights::FD_WRITE
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_FILESTAT_GET
        | Rights::POLL_FD_READWRITE
        | Rights::SOCK_SHUTDOWN
        | Rights::SOCK_ACCEPT
}

/// Borrows up to [`GATHER`] non-empty guest buffers for one vectored write.
pub(super) fn gather<'m>(
    mem: &'m GuestMemory<'_>,
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
fn read_loop(
    mem: &mut GuestMemory<'_>,
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
    mem: &mut GuestMemory<'_>,
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
pub(crate) fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// A file offset from the guest: beyond `i64::MAX` is `inval`.
fn offset(off: u64) -> Result<u64, Errno> {
    if off > i64::MAX as u64 {
        Err(Errno::Inval)
    } else {
        Ok(off)
    }
}

/// Validates `fst_flags`: known bits only, and not both a time and "now" for one field.
pub(crate) fn fst_flags(flags: u32) -> Result<Fstflags, Errno> {
    let f = u16::try_from(flags)
        .ok()
        .and_then(Fstflags::from_bits)
        .ok_or(Errno::Inval)?;
    if f.contains(Fstflags::ATIM | Fstflags::ATIM_NOW)
        || f.contains(Fstflags::MTIM | Fstflags::MTIM_NOW)
    {
        return Err(Errno::Inval);
    }
    Ok(f)
}

/// One field of `futimens`: a time, now, or left alone.
fn timespec(ns: u64, set: bool, now: bool) -> Timespec {
    if now {
        Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        }
    } else if set {
        Timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as _,
        }
    } else {
        Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        }
    }
}

/// A guest's fdflags argument: known bits only.
pub(crate) fn fdflags(flags: u32) -> Result<Fdflags, Errno> {
    u16::try_from(flags)
        .ok()
        .and_then(Fdflags::from_bits)
        .ok_or(Errno::Inval)
}

/// A guest's rights argument: known bits only.
pub(crate) fn rights(bits: u64) -> Result<Rights, Errno> {
    Rights::from_bits(bits).ok_or(Errno::Inval)
}

impl WasiCtx {
    /// The open file at `fd`: `badf` if not open, `spipe` for streams, `isdir` for
    /// directories.
    fn file(&self, fd: Fd) -> Result<&FileFd, Errno> {
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

    pub(super) fn write(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
    ) -> Result<u32, SysErr> {
        let mut slices = [IoSlice::new(&[]); GATHER];
        let deadline = self.deadline;
        match self.fds.get_mut(fd)? {
            Entry::Socket(s) => {
                let n = gather(mem, iovs, &mut slices)?;
                if n == 0 {
                    return Ok(0);
                }
                Ok(s.send(deadline, &slices[..n])? as u32)
            }
            Entry::Stdout(out) => {
                let n = gather(mem, iovs, &mut slices)?;
                if n == 0 {
                    return Ok(0);
                }
                Ok(out.stream.write_vectored(&slices[..n])? as u32)
            }
            Entry::File(f) => {
                f.need(Rights::FD_WRITE)?;
                let n = gather(mem, iovs, &mut slices)?;
                let file = f.file.as_fd();
                Ok(retry(|| Ok(rustix::io::writev(file, &slices[..n])?))? as u32)
            }
            Entry::Dir(_) => Err(Errno::Isdir.into()),
            Entry::Stdin(_) => Err(Errno::Badf.into()),
        }
    }

    pub(super) fn pwrite(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        off: u64,
    ) -> Result<u32, SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_WRITE | Rights::FD_SEEK)?;
        let off = offset(off)?;
        let mut slices = [IoSlice::new(&[]); GATHER];
        let n = gather(mem, iovs, &mut slices)?;
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

    pub(super) fn read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
    ) -> Result<u32, SysErr> {
        // A stream fills one buffer: a second read could block with data in hand.
        let mut first = true;
        let mut once = move |regular: bool| regular || std::mem::take(&mut first);
        let deadline = self.deadline;
        match self.fds.get_mut(fd)? {
            Entry::Socket(s) => match super::sock::first_buffer(mem, iovs)? {
                Some(buf) => Ok(s.recv(deadline, buf, 0)? as u32),
                None => Ok(0),
            },
            Entry::Stdin(input) => {
                // An async instance's read of a host stream waits for data on the
                // executor (see wait::Defer); a sync one blocks in read(2).
                if super::wait::deferring() {
                    if let Some(fd) = input.stream.host_fd() {
                        super::wait::wait_for(fd, super::wait::Ready::Read, deadline)?;
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

    pub(super) fn pread(
        &mut self,
        mem: &mut GuestMemory<'_>,
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

    pub(super) fn fdstat(&self, fd: Fd) -> Result<Fdstat, SysErr> {
        let (fs_filetype, fs_flags, base, inheriting) = match self.fds.get(fd)? {
            Entry::Socket(s) => (
                Filetype::SocketStream,
                if s.nonblocking {
                    Fdflags::NONBLOCK
                } else {
                    Fdflags::empty()
                },
                socket_rights(),
                socket_rights(),
            ),
            Entry::Stdin(s) => (
                s.filetype(),
                Fdflags::empty(),
                stdin_rights(),
                Rights::empty(),
            ),
            Entry::Stdout(s) => (
                s.filetype(),
                Fdflags::empty(),
                stdout_rights(),
                Rights::empty(),
            ),
            Entry::Dir(d) => (
                Filetype::Directory,
                Fdflags::empty(),
                d.rights,
                d.inheriting,
            ),
            Entry::File(f) => {
                let ft = filetype(f.file.metadata()?.file_type());
                let host = rustix::fs::fcntl_getfl(&f.file)?;
                let mut flags = Fdflags::empty();
                for (o, w) in [
                    (OFlags::APPEND, Fdflags::APPEND),
                    (OFlags::SYNC, Fdflags::SYNC),
                ] {
                    if host.contains(o) {
                        flags |= w;
                    }
                }
                if f.nonblock {
                    flags |= Fdflags::NONBLOCK;
                }
                (ft, flags, f.rights, f.inheriting)
            }
        };
        Ok(Fdstat {
            fs_filetype,
            fs_flags,
            fs_rights_base: base,
            fs_rights_inheriting: inheriting,
        })
    }

    /// Files take `append` and `nonblock` (the sync flags are fixed at open on Linux:
    /// `notsup`). Standard streams accept `append` on outputs (they only append) and
    /// nothing else: other flags would change the host's own streams.
    pub(super) fn set_fdflags(&mut self, fd: Fd, flags: u32) -> Result<(), SysErr> {
        let entry = self.fds.get_mut(fd)?;
        let flags = fdflags(flags)?;
        match entry {
            Entry::Socket(s) if (flags - Fdflags::NONBLOCK).is_empty() => {
                s.nonblocking = flags.contains(Fdflags::NONBLOCK);
                Ok(())
            }
            Entry::Socket(_) => Err(Errno::Notsup.into()),
            Entry::Stdout(_) if (flags - Fdflags::APPEND).is_empty() => Ok(()),
            Entry::Stdin(_) if flags.is_empty() => Ok(()),
            Entry::Stdin(_) | Entry::Stdout(_) => Err(Errno::Notsup.into()),
            Entry::Dir(d) => {
                d.need(Rights::FD_FDSTAT_SET_FLAGS)?;
                if flags.is_empty() {
                    Ok(())
                } else {
                    Err(Errno::Notsup.into())
                }
            }
            Entry::File(f) => {
                f.need(Rights::FD_FDSTAT_SET_FLAGS)?;
                if !(flags - (Fdflags::APPEND | Fdflags::NONBLOCK)).is_empty() {
                    return Err(Errno::Notsup.into());
                }
                let mut host = rustix::fs::fcntl_getfl(&f.file)?;
                host.set(OFlags::APPEND, flags.contains(Fdflags::APPEND));
                if !f.regular {
                    host.set(OFlags::NONBLOCK, flags.contains(Fdflags::NONBLOCK));
                }
                rustix::fs::fcntl_setfl(&f.file, host)?;
                f.nonblock = flags.contains(Fdflags::NONBLOCK);
                Ok(())
            }
        }
    }

    /// Rights may only shrink: asking for one the descriptor lacks is `notcapable`.
    pub(super) fn set_rights(&mut self, fd: Fd, base: u64, inheriting: u64) -> Result<(), SysErr> {
        let entry = self.fds.get_mut(fd)?;
        let (base, inheriting) = (rights(base)?, rights(inheriting)?);
        let (have, have_inheriting) = match entry {
            Entry::File(f) => (&mut f.rights, &mut f.inheriting),
            Entry::Dir(d) => (&mut d.rights, &mut d.inheriting),
            Entry::Stdin(_) | Entry::Stdout(_) | Entry::Socket(_) => {
                return Err(Errno::Notsup.into())
            }
        };
        if !have.contains(base) || !have_inheriting.contains(inheriting) {
            return Err(Errno::Notcapable.into());
        }
        *have = base;
        *have_inheriting = inheriting;
        Ok(())
    }

    /// Standard streams show only their type; host inode numbers and times stay private.
    pub(super) fn filestat(&self, fd: Fd) -> Result<Filestat, SysErr> {
        let filetype = match self.fds.get(fd)? {
            Entry::Stdin(s) => s.filetype(),
            Entry::Stdout(s) => s.filetype(),
            Entry::Socket(_) => Filetype::SocketStream,
            Entry::Dir(d) => {
                d.need(Rights::FD_FILESTAT_GET)?;
                return Ok(filestat(&d.dir.dir_metadata()?));
            }
            Entry::File(f) => {
                f.need(Rights::FD_FILESTAT_GET)?;
                return Ok(filestat(&f.file.metadata()?));
            }
        };
        Ok(Filestat {
            dev: 0,
            ino: 0,
            filetype,
            nlink: 1,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        })
    }

    pub(super) fn set_size(&mut self, fd: Fd, size: u64) -> Result<(), SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_FILESTAT_SET_SIZE)?;
        f.file.set_len(offset(size)?)?;
        Ok(())
    }

    pub(super) fn set_times(
        &mut self,
        fd: Fd,
        atim: u64,
        mtim: u64,
        flags: u32,
    ) -> Result<(), SysErr> {
        let entry = self.fds.get(fd)?;
        let flags = fst_flags(flags)?;
        match entry {
            Entry::File(f) => {
                f.need(Rights::FD_FILESTAT_SET_TIMES)?;
                let times = Timestamps {
                    last_access: timespec(
                        atim,
                        flags.contains(Fstflags::ATIM),
                        flags.contains(Fstflags::ATIM_NOW),
                    ),
                    last_modification: timespec(
                        mtim,
                        flags.contains(Fstflags::MTIM),
                        flags.contains(Fstflags::MTIM_NOW),
                    ),
                };
                retry(|| Ok(rustix::fs::futimens(&f.file, &times)?))?;
                Ok(())
            }
            Entry::Dir(d) => {
                d.need(Rights::FD_FILESTAT_SET_TIMES)?;
                super::path::set_path_times(&d.dir, ".", true, atim, mtim, flags)
            }
            Entry::Stdin(_) | Entry::Stdout(_) | Entry::Socket(_) => Err(Errno::Spipe.into()),
        }
    }

    pub(super) fn advise(&mut self, fd: Fd, off: u64, len: u64, advice: u32) -> Result<(), SysErr> {
        let f = self.file(fd)?;
        let advice = match advice {
            0 => Advice::Normal,
            1 => Advice::Sequential,
            2 => Advice::Random,
            3 => Advice::WillNeed,
            4 => Advice::DontNeed,
            5 => Advice::NoReuse,
            _ => return Err(Errno::Inval.into()),
        };
        f.need(Rights::FD_ADVISE)?;
        let (off, len) = (offset(off)?, offset(len)?);
        offset(off.saturating_add(len))?;
        rustix::fs::fadvise(&f.file, off, std::num::NonZeroU64::new(len), advice)?;
        Ok(())
    }

    pub(super) fn allocate(&mut self, fd: Fd, off: u64, len: u64) -> Result<(), SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_ALLOCATE)?;
        let (off, len) = (offset(off)?, offset(len)?);
        if len == 0 || off.checked_add(len).is_none_or(|end| end > i64::MAX as u64) {
            return Err(Errno::Inval.into());
        }
        retry(|| {
            Ok(rustix::fs::fallocate(
                &f.file,
                rustix::fs::FallocateFlags::empty(),
                off,
                len,
            )?)
        })?;
        Ok(())
    }

    pub(super) fn datasync(&mut self, fd: Fd) -> Result<(), SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_DATASYNC)?;
        f.file.sync_data()?;
        Ok(())
    }

    pub(super) fn sync(&mut self, fd: Fd) -> Result<(), SysErr> {
        match self.fds.get(fd)? {
            Entry::File(f) => {
                f.need(Rights::FD_SYNC)?;
                f.file.sync_all()?;
            }
            Entry::Dir(d) => {
                d.need(Rights::FD_SYNC)?;
                // Directory handles may be `O_PATH`; sync through a readable one.
                let mut opts = cap_std::fs::OpenOptions::new();
                cap_fs_ext::OpenOptionsMaybeDirExt::maybe_dir(opts.read(true), true);
                d.dir.open_with(".", &opts)?.sync_all()?;
            }
            Entry::Stdin(_) | Entry::Stdout(_) | Entry::Socket(_) => {
                return Err(Errno::Spipe.into())
            }
        }
        Ok(())
    }

    pub(super) fn seek(&mut self, fd: Fd, off: i64, whence: u32) -> Result<u64, SysErr> {
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

    pub(super) fn tell(&mut self, fd: Fd) -> Result<u64, SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_TELL)?;
        Ok(rustix::fs::tell(&f.file)?)
    }

    /// Lists a directory from `cookie` on (see [`Listing`]); cookie 0 takes a new snapshot.
    pub(super) fn readdir(
        &mut self,
        mem: &mut GuestMemory<'_>,
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
        let fresh = cookie == 0 || d.listing.is_none();
        if fresh {
            d.listing = Some(Listing::read(&d.dir, d.root)?);
        }
        let Some(listing) = d.listing.as_mut() else {
            return Err(Errno::Io.into());
        };
        listing.last_used = now;
        let used = if len == 0 {
            0
        } else {
            let out = mem
                .as_slice_mut(buf.as_array(len))
                .role("buffer")?
                .ok_or(Errno::Notsup)?;
            listing.fill(out, cookie) as u32
        };
        if fresh {
            self.fds.evict_listings();
        }
        Ok(used)
    }

    pub(super) fn renumber(&mut self, from: Fd, to: Fd) -> Result<(), SysErr> {
        if let Some(Entry::Stdout(mut out)) = self.fds.renumber(from, to)? {
            out.stream.flush()?;
        }
        Ok(())
    }

    pub(super) fn close(&mut self, fd: Fd) -> Result<(), SysErr> {
        if let Entry::Stdout(mut out) = self.fds.remove(fd)? {
            out.stream.flush()?;
        }
        Ok(())
    }

    pub(super) fn prestat(&self, fd: Fd) -> Result<Prestat, SysErr> {
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

    pub(super) fn prestat_dir_name(
        &self,
        mem: &mut GuestMemory<'_>,
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

/// Nanoseconds since the epoch of a file time (0 if unknown or before 1970).
fn nanos(t: std::io::Result<cap_std::time::SystemTime>) -> u64 {
    t.ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(u64::MAX as u128) as u64)
}

/// A host file's metadata in WASI's terms.
pub(crate) fn filestat(meta: &cap_std::fs::Metadata) -> Filestat {
    use cap_std::fs::MetadataExt;
    Filestat {
        dev: meta.dev(),
        ino: meta.ino(),
        filetype: filetype(meta.file_type()),
        nlink: meta.nlink(),
        size: meta.len(),
        atim: nanos(meta.accessed()),
        mtim: nanos(meta.modified()),
        ctim: meta
            .ctime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.ctime_nsec())
            .max(0) as u64,
    }
}

/// Rights a new descriptor may hold on a file or directory.
pub(crate) fn rights_for(is_dir: bool) -> Rights {
    if is_dir {
        dir_rights()
    } else {
        file_rights()
    }
}
