//! `path_*`: operations on names below a directory descriptor.
//!
//! Every name is resolved by cap-std below the descriptor's directory, so `..`, absolute
//! paths and symlinks cannot lead outside it. Rights are checked before any OS call.
//!
//! Errno decision: a sandbox escape (cap-std's "a path led outside of the filesystem")
//! and a missing right, including any change attempted below a read-only preopen, are
//! both answered with `notcapable`.

use super::ctx::Entry;
use super::dir::DirFd;
use super::errno::PointerRole;
use super::file::FileFd;
use super::host_meta::{fdflags, filestat, fst_flags, set_path_times};
use super::rights::{need, rights, rights_for, write_access_rights};
use super::types::{Errno, Fd, Fdflags, Filestat, Oflags, Rights};
use super::AbiMemory;
use super::{SysErr, WasiCtx};
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};
use cap_std::fs::{Dir, File, OpenOptions};
use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;
use wiggle::GuestPtr;

/// The longest path a guest may pass, in bytes (Linux's `PATH_MAX`).
const PATH_MAX: u32 = 4096;

/// Reads a path from guest memory, without copying it from an unshared memory (a shared
/// one's is copied: its threads may change it): too long is `nametoolong`, not UTF-8 is
/// `ilseq`, empty is `noent`, a NUL inside is `inval`.
fn guest_path<'m>(mem: &'m AbiMemory<'_>, path: GuestPtr<str>) -> Result<Cow<'m, str>, SysErr> {
    if path.len() > PATH_MAX {
        return Err(Errno::Nametoolong.into());
    }
    let path = mem.as_cow_str(path).role("path")?;
    if path.is_empty() {
        return Err(Errno::Noent.into());
    }
    if path.contains('\0') {
        return Err(Errno::Inval.into());
    }
    Ok(path)
}

/// Splits trailing slashes off a path: `("dir", true)` for `"dir//"`. A path of only
/// slashes is kept whole.
fn trailing_slashes(path: &str) -> (&str, bool) {
    match path.trim_end_matches('/') {
        "" => (path, false),
        stripped => (stripped, stripped.len() != path.len()),
    }
}

/// Lookup flags: whether to follow a symlink in the last component.
fn follow(flags: u32) -> Result<bool, Errno> {
    match flags {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Errno::Inval),
    }
}

impl WasiCtx {
    pub(super) fn path_create_directory(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
    ) -> Result<(), SysErr> {
        let d = self.dir(fd)?;
        d.need(Rights::PATH_CREATE_DIRECTORY)?;
        d.dir.create_dir(&*guest_path(mem, path)?)?;
        Ok(())
    }

    pub(super) fn path_filestat_get(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        flags: u32,
        path: GuestPtr<str>,
    ) -> Result<Filestat, SysErr> {
        let d = self.dir(fd)?;
        let follow = follow(flags)?;
        d.need(Rights::PATH_FILESTAT_GET)?;
        let path = &*guest_path(mem, path)?;
        let meta = if follow {
            d.dir.metadata(path)?
        } else {
            d.dir.symlink_metadata(path)?
        };
        Ok(filestat(&meta))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn path_filestat_set_times(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        flags: u32,
        path: GuestPtr<str>,
        atim: u64,
        mtim: u64,
        fst: u32,
    ) -> Result<(), SysErr> {
        let d = self.dir(fd)?;
        let follow = follow(flags)?;
        let fst = fst_flags(fst)?;
        d.need(Rights::PATH_FILESTAT_SET_TIMES)?;
        set_path_times(&d.dir, &guest_path(mem, path)?, follow, atim, mtim, fst)
    }

    /// A hard link; with `symlink_follow`, to what a symlink at `old` points to.
    pub(super) fn path_link(
        &mut self,
        mem: &AbiMemory<'_>,
        old_fd: Fd,
        old_flags: u32,
        old: GuestPtr<str>,
        new_fd: Fd,
        new: GuestPtr<str>,
    ) -> Result<(), SysErr> {
        let (od, nd) = (self.dir(old_fd)?, self.dir(new_fd)?);
        let follow = follow(old_flags)?;
        od.need(Rights::PATH_LINK_SOURCE)?;
        nd.need(Rights::PATH_LINK_TARGET)?;
        let (old, new) = (&*guest_path(mem, old)?, &*guest_path(mem, new)?);
        if follow {
            let target = od.dir.canonicalize(old)?;
            od.dir.hard_link(target, &nd.dir, new)?;
        } else {
            od.dir.hard_link(old, &nd.dir, new)?;
        }
        Ok(())
    }

    /// Opens a file or directory below `fd`. The new descriptor's rights are those asked
    /// for, within what `fd` passes on; asking for a right that needs the host file open
    /// for writing (write, datasync, allocate, set_size, or `append`) that `fd` does not
    /// pass on is `notcapable`, as are `creat` and `trunc` without their path rights.
    ///
    /// As POSIX's `open` has it, a directory opened with such a right (with `directory` or
    /// without) is `isdir`, and so is `creat` or `trunc` of one without `directory`.
    /// FIFOs are refused with `nxio` (see [`open_file`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn path_open(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        dirflags: u32,
        path: GuestPtr<str>,
        oflags: u32,
        base: u64,
        inheriting: u64,
        flags: u32,
    ) -> Result<Fd, SysErr> {
        let d = self.dir(fd)?;
        let follow = follow(dirflags)?;
        let oflags = u16::try_from(oflags)
            .ok()
            .and_then(Oflags::from_bits)
            .ok_or(Errno::Inval)?;
        let flags = fdflags(flags)?;
        let (base, inheriting) = (rights(base)?, rights(inheriting)?);

        let mut needed = Rights::PATH_OPEN;
        if oflags.contains(Oflags::CREAT) {
            needed |= Rights::PATH_CREATE_FILE;
        }
        if oflags.contains(Oflags::TRUNC) {
            needed |= Rights::PATH_FILESTAT_SET_SIZE;
        }
        d.need(needed)?;
        let write_rights = base & write_access_rights();
        if flags.contains(Fdflags::APPEND) {
            need(d.inheriting, write_rights | Rights::FD_WRITE)?;
        } else {
            need(d.inheriting, write_rights)?;
        }
        let write = !write_rights.is_empty();
        let path = &*guest_path(mem, path)?;

        let entry = if oflags.contains(Oflags::DIRECTORY) {
            if oflags.intersects(Oflags::CREAT | Oflags::TRUNC) {
                return Err(Errno::Inval.into());
            }
            let dir = if follow {
                d.dir.open_dir(path)?
            } else {
                d.dir.open_dir_nofollow(path)?
            };
            if write {
                return Err(Errno::Isdir.into());
            }
            dir_entry(dir, d, base, inheriting)
        } else {
            let read = base.intersects(Rights::FD_READ | Rights::FD_READDIR) || !write;
            match open_file(&d.dir, path, oflags, flags, read, write, follow)? {
                Opened::Dir(dir) => dir_entry(dir, d, base, inheriting),
                Opened::File(file, regular) => Entry::File(FileFd {
                    file,
                    regular,
                    nonblock: flags.contains(Fdflags::NONBLOCK),
                    rights: base & d.inheriting & rights_for(false),
                    inheriting: inheriting & d.inheriting,
                }),
            }
        };
        Ok(self.fds.insert(entry)?)
    }

    /// Copies a symlink's contents into `buf`, cut to `len` bytes; returns the length.
    pub(super) fn path_readlink(
        &mut self,
        mem: &mut AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
        buf: GuestPtr<u8>,
        len: u32,
    ) -> Result<u32, SysErr> {
        let d = self.dir(fd)?;
        d.need(Rights::PATH_READLINK)?;
        let target = d.dir.read_link(&*guest_path(mem, path)?)?;
        let bytes = target.as_os_str().as_bytes();
        let n = bytes.len().min(len as usize);
        if n > 0 {
            mem.copy_from_slice(&bytes[..n], buf.as_array(n as u32))
                .role("buffer")?;
        }
        Ok(n as u32)
    }

    pub(super) fn path_remove_directory(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
    ) -> Result<(), SysErr> {
        let d = self.dir(fd)?;
        d.need(Rights::PATH_REMOVE_DIRECTORY)?;
        // `rmdir("dir/")` removes `dir`, as POSIX has it.
        let path = guest_path(mem, path)?;
        let (path, _) = trailing_slashes(&path);
        d.dir.remove_dir(path)?;
        Ok(())
    }

    /// Renames within one directory tree or across two, preopens included.
    pub(super) fn path_rename(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        old: GuestPtr<str>,
        new_fd: Fd,
        new: GuestPtr<str>,
    ) -> Result<(), SysErr> {
        let (od, nd) = (self.dir(fd)?, self.dir(new_fd)?);
        od.need(Rights::PATH_RENAME_SOURCE)?;
        nd.need(Rights::PATH_RENAME_TARGET)?;
        let (old, new) = (guest_path(mem, old)?, guest_path(mem, new)?);
        let (old, old_slash) = trailing_slashes(&old);
        let (new, new_slash) = trailing_slashes(&new);
        // A trailing slash on either name says "directory": renaming anything else is
        // `notdir`, as POSIX has it.
        if (old_slash || new_slash) && !od.dir.symlink_metadata(old)?.is_dir() {
            return Err(Errno::Notdir.into());
        }
        od.dir.rename(old, &nd.dir, new)?;
        Ok(())
    }

    /// Creates a symlink at `new` holding `old`; absolute contents are `notcapable`.
    pub(super) fn path_symlink(
        &mut self,
        mem: &AbiMemory<'_>,
        old: GuestPtr<str>,
        fd: Fd,
        new: GuestPtr<str>,
    ) -> Result<(), SysErr> {
        let d = self.dir(fd)?;
        d.need(Rights::PATH_SYMLINK)?;
        let (old, new) = (&*guest_path(mem, old)?, &*guest_path(mem, new)?);
        d.dir.symlink(old, new)?;
        Ok(())
    }

    pub(super) fn path_unlink_file(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
    ) -> Result<(), SysErr> {
        let d = self.dir(fd)?;
        d.need(Rights::PATH_UNLINK_FILE)?;
        d.dir.remove_file(&*guest_path(mem, path)?)?;
        Ok(())
    }
}

/// What [`open_file`] found at a path.
enum Opened {
    Dir(Dir),
    /// The file, and whether it is a regular one.
    File(File, bool),
}

/// Opens `path` below `dir` without `directory`: a file, or a directory when neither
/// writing, `creat` nor `trunc` is asked for (the host answers `isdir` to those).
///
/// The host file is always opened non-blocking, since opening a FIFO would otherwise wait
/// for its other end, beyond any timeout; a FIFO is then refused with `nxio` (what Linux
/// answers a non-blocking open of one for writing with no reader, and an open of a
/// socket file), and other files get back the blocking mode the guest asked for.
fn open_file(
    dir: &Dir,
    path: &str,
    oflags: Oflags,
    flags: Fdflags,
    read: bool,
    write: bool,
    follow: bool,
) -> Result<Opened, SysErr> {
    use cap_std::fs::OpenOptionsExt;
    use rustix::fs::OFlags;
    let create = oflags.contains(Oflags::CREAT);
    let append = flags.contains(Fdflags::APPEND);
    let mut opts = OpenOptions::new();
    // The host needs write access to create or truncate; the guest's rights still decide
    // whether it may write. `append` goes in as a flag: std's would add write access
    // (an append-only descriptor without write rights is opened for reading, as with
    // POSIX's O_RDONLY|O_APPEND) and refuse to go with `truncate`.
    opts.read(read)
        .write(write || oflags.intersects(Oflags::CREAT | Oflags::TRUNC))
        .create(create)
        .create_new(create && oflags.contains(Oflags::EXCL))
        .truncate(oflags.contains(Oflags::TRUNC))
        .follow(if follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        })
        .maybe_dir(true)
        .nonblock(true)
        .dsync(flags.contains(Fdflags::DSYNC))
        .rsync(flags.contains(Fdflags::RSYNC))
        .sync(flags.contains(Fdflags::SYNC));
    let status = if append {
        OFlags::APPEND
    } else {
        OFlags::empty()
    };
    opts.custom_flags(status.bits() as i32);
    let file = dir.open_with(path, &opts)?;
    let kind = rustix::fs::FileType::from_raw_mode(rustix::fs::fstat(&file)?.st_mode);
    match kind {
        rustix::fs::FileType::Directory => Ok(Opened::Dir(Dir::from_std_file(file.into_std()))),
        rustix::fs::FileType::Fifo => Err(Errno::Nxio.into()),
        _ => {
            let regular = kind == rustix::fs::FileType::RegularFile;
            // A regular file ignores O_NONBLOCK: it stays (see `FileFd::nonblock`).
            if !regular && !flags.contains(Fdflags::NONBLOCK) {
                // F_SETFL sets exactly the status flags it may change: this keeps
                // `append` and takes `nonblock` off.
                rustix::fs::fcntl_setfl(&file, status)?;
            }
            Ok(Opened::File(file, regular))
        }
    }
}

/// The table entry of a directory opened below `parent`.
fn dir_entry(dir: Dir, parent: &DirFd, base: Rights, inheriting: Rights) -> Entry {
    Entry::Dir(DirFd {
        origin: None,
        dir,
        rights: base & parent.inheriting & rights_for(true),
        inheriting: inheriting & parent.inheriting,
        preopen: None,
        listing: None,
        root: parent.root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_are_split_off_and_reported() {
        assert_eq!(trailing_slashes("dir"), ("dir", false));
        assert_eq!(trailing_slashes("dir/"), ("dir", true));
        assert_eq!(trailing_slashes("dir//"), ("dir", true));
        assert_eq!(trailing_slashes("a/b/"), ("a/b", true));
        assert_eq!(trailing_slashes("a//b"), ("a//b", false));
        // Only slashes: kept whole (the root, which the sandbox judges).
        assert_eq!(trailing_slashes("/"), ("/", false));
        assert_eq!(trailing_slashes("//"), ("//", false));
        assert_eq!(trailing_slashes(""), ("", false));
    }
}
