//! `fd_fdstat_*`, `fd_filestat_*`, `fd_advise`, `fd_allocate`, `fd_sync`,
//! `fd_datasync`: a descriptor's flags, rights, metadata and storage.

use super::ctx::Entry;
use super::dir::filetype;
use super::fd::offset;
use super::host_meta::{fdflags, filestat, fst_flags, set_path_times, timespec};
use super::iov::retry;
use super::rights::{rights, socket_rights, stdin_rights, stdout_rights};
use super::types::{Errno, Fd, Fdflags, Fdstat, Filestat, Filetype, Fstflags, Rights};
use super::{SysErr, WasiCtx};
use rustix::fs::{Advice, OFlags, Timestamps};

impl WasiCtx {
    pub(super) fn fd_fdstat_get(&self, fd: Fd) -> Result<Fdstat, SysErr> {
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
    pub(super) fn fd_fdstat_set_flags(&mut self, fd: Fd, flags: u32) -> Result<(), SysErr> {
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
    pub(super) fn fd_fdstat_set_rights(
        &mut self,
        fd: Fd,
        base: u64,
        inheriting: u64,
    ) -> Result<(), SysErr> {
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
    pub(super) fn fd_filestat_get(&self, fd: Fd) -> Result<Filestat, SysErr> {
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

    pub(super) fn fd_filestat_set_size(&mut self, fd: Fd, size: u64) -> Result<(), SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_FILESTAT_SET_SIZE)?;
        f.file.set_len(offset(size)?)?;
        Ok(())
    }

    pub(super) fn fd_filestat_set_times(
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
                set_path_times(&d.dir, ".", true, atim, mtim, flags)
            }
            Entry::Stdin(_) | Entry::Stdout(_) | Entry::Socket(_) => Err(Errno::Spipe.into()),
        }
    }

    pub(super) fn fd_advise(
        &mut self,
        fd: Fd,
        off: u64,
        len: u64,
        advice: u32,
    ) -> Result<(), SysErr> {
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

    pub(super) fn fd_allocate(&mut self, fd: Fd, off: u64, len: u64) -> Result<(), SysErr> {
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

    pub(super) fn fd_datasync(&mut self, fd: Fd) -> Result<(), SysErr> {
        let f = self.file(fd)?;
        f.need(Rights::FD_DATASYNC)?;
        f.file.sync_data()?;
        Ok(())
    }

    pub(super) fn fd_sync(&mut self, fd: Fd) -> Result<(), SysErr> {
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
}
