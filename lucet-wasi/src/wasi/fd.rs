//! `fd_*`: operations on open descriptors.

use super::ctx::Entry;
use super::types::{
    Ciovec, Errno, Fd, Fdflags, Fdstat, Filestat, Filetype, Iovec, Prestat, PrestatDir, Rights,
};
use super::{SysErr, WasiCtx};
use std::io::IoSlice;
use wiggle::{GuestMemory, GuestPtr};

/// More iovecs than this in one call is `inval`, as POSIX's IOV_MAX.
const IOV_MAX: u32 = 1024;
/// At most this many buffers are handed to one host write; the rest is a short write.
pub(super) const GATHER: usize = 16;
/// No single call moves more than this many bytes (POSIX's SSIZE_MAX for 32-bit).
const MAX_TRANSFER: usize = i32::MAX as usize;

/// Rights of the standard streams and of preopened directories.
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
fn socket_rights() -> Rights {
    Rights::FD_READ
        | Rights::FD_WRITE
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_FILESTAT_GET
        | Rights::POLL_FD_READWRITE
        | Rights::SOCK_SHUTDOWN
        | Rights::SOCK_ACCEPT
}
pub(crate) fn dir_rights() -> Rights {
    Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_SYNC
        | Rights::FD_ADVISE
        | Rights::PATH_CREATE_DIRECTORY
        | Rights::PATH_CREATE_FILE
        | Rights::PATH_LINK_SOURCE
        | Rights::PATH_LINK_TARGET
        | Rights::PATH_OPEN
        | Rights::FD_READDIR
        | Rights::PATH_READLINK
        | Rights::PATH_RENAME_SOURCE
        | Rights::PATH_RENAME_TARGET
        | Rights::PATH_FILESTAT_GET
        | Rights::PATH_FILESTAT_SET_SIZE
        | Rights::PATH_FILESTAT_SET_TIMES
        | Rights::FD_FILESTAT_GET
        | Rights::FD_FILESTAT_SET_TIMES
        | Rights::PATH_SYMLINK
        | Rights::PATH_REMOVE_DIRECTORY
        | Rights::PATH_UNLINK_FILE
}
pub(crate) fn file_rights() -> Rights {
    Rights::FD_DATASYNC
        | Rights::FD_READ
        | Rights::FD_SEEK
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_SYNC
        | Rights::FD_TELL
        | Rights::FD_WRITE
        | Rights::FD_ADVISE
        | Rights::FD_ALLOCATE
        | Rights::FD_FILESTAT_GET
        | Rights::FD_FILESTAT_SET_SIZE
        | Rights::FD_FILESTAT_SET_TIMES
        | Rights::POLL_FD_READWRITE
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
        let iov = mem.read(iov?)?;
        if iov.buf_len == 0 {
            continue;
        }
        let bytes = mem
            .as_slice(iov.buf.as_array(iov.buf_len))?
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

/// The first non-empty guest buffer of a read: reads fill one buffer (a short read).
pub(super) fn first_buffer<'m>(
    mem: &'m mut GuestMemory<'_>,
    iovs: GuestPtr<[Iovec]>,
) -> Result<Option<&'m mut [u8]>, SysErr> {
    if iovs.len() > IOV_MAX {
        return Err(Errno::Inval.into());
    }
    for iov in iovs.iter() {
        let iov = mem.read(iov?)?;
        if iov.buf_len > 0 {
            let len = iov.buf_len.min(MAX_TRANSFER as u32);
            let bytes = mem
                .as_slice_mut(iov.buf.as_array(len))?
                .ok_or(Errno::Notsup)?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

impl WasiCtx {
    pub(super) fn write(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
    ) -> Result<u32, SysErr> {
        let deadline = self.deadline;
        let entry = self.fds.get_mut(fd)?;
        if !matches!(entry, Entry::Stdout(_) | Entry::Socket(_)) {
            return Err(Errno::Badf.into());
        }
        let mut slices = [IoSlice::new(&[]); GATHER];
        let n = gather(mem, iovs, &mut slices)?;
        if n == 0 {
            return Ok(0);
        }
        let written = match entry {
            Entry::Stdout(out) => out.stream.write_vectored(&slices[..n])?,
            Entry::Socket(s) => s.send(deadline, &slices[..n])?,
            _ => 0,
        };
        Ok(written as u32)
    }

    pub(super) fn read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
    ) -> Result<u32, SysErr> {
        let deadline = self.deadline;
        let entry = self.fds.get_mut(fd)?;
        if !matches!(entry, Entry::Stdin(_) | Entry::Socket(_)) {
            return Err(Errno::Badf.into());
        }
        let Some(buf) = first_buffer(mem, iovs)? else {
            return Ok(0);
        };
        let n = match entry {
            Entry::Stdin(input) => input.stream.read(buf)?,
            Entry::Socket(s) => s.recv(deadline, buf, 0)?,
            _ => 0,
        };
        Ok(n as u32)
    }

    pub(super) fn fdstat(&self, fd: Fd) -> Result<Fdstat, SysErr> {
        let (fs_filetype, base, inheriting) = match self.fds.get(fd)? {
            Entry::Socket(s) => {
                return Ok(Fdstat {
                    fs_filetype: Filetype::SocketStream,
                    fs_flags: if s.nonblocking {
                        Fdflags::NONBLOCK
                    } else {
                        Fdflags::empty()
                    },
                    fs_rights_base: socket_rights(),
                    fs_rights_inheriting: socket_rights(),
                })
            }
            Entry::Stdin(s) => (s.filetype, stdin_rights(), Rights::empty()),
            Entry::Stdout(s) => (s.filetype, stdout_rights(), Rights::empty()),
            Entry::Dir(_) => (
                Filetype::Directory,
                dir_rights(),
                dir_rights() | file_rights(),
            ),
        };
        Ok(Fdstat {
            fs_filetype,
            fs_flags: Fdflags::empty(),
            fs_rights_base: base,
            fs_rights_inheriting: inheriting,
        })
    }

    /// Standard streams accept `append` on outputs (a no-op: they only append) and no
    /// other flag: `nonblock` or the sync flags would change the host's own streams.
    pub(super) fn set_fdflags(&mut self, fd: Fd, flags: u32) -> Result<(), SysErr> {
        let flags = u16::try_from(flags)
            .ok()
            .and_then(Fdflags::from_bits)
            .ok_or(Errno::Inval)?;
        match self.fds.get_mut(fd)? {
            Entry::Socket(s) if (flags - Fdflags::NONBLOCK).is_empty() => {
                s.nonblocking = flags.contains(Fdflags::NONBLOCK);
                Ok(())
            }
            Entry::Socket(_) => Err(Errno::Inval.into()),
            Entry::Stdout(_) if (flags - Fdflags::APPEND).is_empty() => Ok(()),
            Entry::Stdin(_) if flags.is_empty() => Ok(()),
            Entry::Stdin(_) | Entry::Stdout(_) => Err(Errno::Notsup.into()),
            Entry::Dir(_) => Err(Errno::Notsup.into()),
        }
    }

    /// Standard streams show only their type; host inode numbers and times stay private.
    pub(super) fn filestat(&self, fd: Fd) -> Result<Filestat, SysErr> {
        let filetype = match self.fds.get(fd)? {
            Entry::Stdin(s) => s.filetype,
            Entry::Stdout(s) => s.filetype,
            Entry::Socket(_) => Filetype::SocketStream,
            Entry::Dir(p) => return Ok(dir_filestat(&p.dir.dir_metadata()?)),
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

    pub(super) fn close(&mut self, fd: Fd) -> Result<(), SysErr> {
        if let Entry::Stdout(mut out) = self.fds.remove(fd)? {
            out.stream.flush()?;
        }
        Ok(())
    }

    pub(super) fn prestat(&self, fd: Fd) -> Result<Prestat, SysErr> {
        match self.fds.get(fd)? {
            Entry::Dir(p) => Ok(Prestat::Dir(PrestatDir {
                pr_name_len: p.guest_path.len() as u32,
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
        let Entry::Dir(p) = self.fds.get(fd)? else {
            return Err(Errno::Badf.into());
        };
        let name = p.guest_path.as_bytes();
        if (len as usize) < name.len() {
            return Err(Errno::Nametoolong.into());
        }
        mem.copy_from_slice(name, buf.as_array(name.len() as u32))?;
        Ok(())
    }

    /// The errno an operation on files gets from a descriptor that is not a file:
    /// `badf` if it is not open, `spipe` for streams, `isdir` for directories. Regular
    /// files arrive with the filesystem layer.
    pub(super) fn not_a_file(&self, fd: Fd) -> SysErr {
        match self.fds.get(fd) {
            Err(e) => e.into(),
            Ok(Entry::Stdin(_) | Entry::Stdout(_) | Entry::Socket(_)) => Errno::Spipe.into(),
            Ok(Entry::Dir(_)) => Errno::Isdir.into(),
        }
    }

    /// The errno a directory operation gets from a descriptor: `badf` if not open,
    /// `notdir` for streams, `notsup` where the directory operation is not provided yet.
    pub(super) fn dir_op(&self, fd: Fd) -> SysErr {
        match self.fds.get(fd) {
            Err(e) => e.into(),
            Ok(Entry::Stdin(_) | Entry::Stdout(_) | Entry::Socket(_)) => Errno::Notdir.into(),
            Ok(Entry::Dir(_)) => Errno::Notsup.into(),
        }
    }
}

/// Nanoseconds since the epoch of a file time (0 if unknown or before 1970).
fn nanos(t: std::io::Result<cap_std::time::SystemTime>) -> u64 {
    t.ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(u64::MAX as u128) as u64)
}

fn dir_filestat(meta: &cap_std::fs::Metadata) -> Filestat {
    use cap_std::fs::MetadataExt;
    Filestat {
        dev: meta.dev(),
        ino: meta.ino(),
        filetype: Filetype::Directory,
        nlink: meta.nlink(),
        size: meta.len(),
        atim: nanos(meta.accessed()),
        mtim: nanos(meta.modified()),
        ctim: nanos(meta.created()),
    }
}
