//! Open files and directories in the descriptor table, and the rights that gate them.
//!
//! Every descriptor carries its preview1 rights: `base` (what it may be used for) and
//! `inheriting` (the most a descriptor opened through it may get). A read-only preopen
//! is a directory whose rights lack every mutating right, so everything below it is
//! read-only too. Rights are checked before any OS call; a missing right is `notcapable`.

use super::dir::Listing;
use super::types::{Errno, Rights};
use cap_std::fs::{Dir, File};

/// An open regular file (or anything that is not a directory: devices, fifos).
pub(crate) struct FileFd {
    pub(crate) file: File,
    /// A regular file: a read may fill several buffers, as one read never blocks.
    pub(crate) regular: bool,
    /// `nonblock` as the guest set it. A regular file keeps the host's `O_NONBLOCK` from
    /// its open (it changes nothing for regular files, and clearing it costs a syscall).
    pub(crate) nonblock: bool,
    pub(crate) rights: Rights,
    pub(crate) inheriting: Rights,
}

/// An open directory: a preopen, or one opened with `path_open`.
pub(crate) struct DirFd {
    pub(crate) dir: Dir,
    pub(crate) rights: Rights,
    pub(crate) inheriting: Rights,
    /// The guest path of a preopen (what `fd_prestat_*` shows); `None` otherwise.
    pub(crate) preopen: Option<String>,
    /// The snapshot `fd_readdir` reads from, taken when the guest starts at cookie 0.
    pub(crate) listing: Option<Listing>,
    /// The preopen this directory was reached through (`None` if its identity could not
    /// be read): at that root, `..` is listed as the root itself.
    pub(crate) root: Option<FileId>,
}

/// A file's identity on the host: device and inode numbers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct FileId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl FileId {
    /// The identity of an open directory.
    pub(crate) fn of_dir(dir: &Dir) -> Option<FileId> {
        let st = rustix::fs::fstat(dir).ok()?;
        Some(FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }
}

impl FileFd {
    /// `notcapable` unless this descriptor has every right in `needed`.
    pub(crate) fn need(&self, needed: Rights) -> Result<(), Errno> {
        need(self.rights, needed)
    }
}

impl DirFd {
    /// `notcapable` unless this descriptor has every right in `needed`.
    pub(crate) fn need(&self, needed: Rights) -> Result<(), Errno> {
        need(self.rights, needed)
    }
}

/// Sandbox escapes and missing rights (read-only preopens included) are all `notcapable`.
pub(crate) fn need(have: Rights, needed: Rights) -> Result<(), Errno> {
    if have.contains(needed) {
        Ok(())
    } else {
        Err(Errno::Notcapable)
    }
}

/// Rights that change the filesystem; a read-only preopen has none of them.
pub(crate) fn mutating_rights() -> Rights {
    Rights::FD_WRITE
        | Rights::FD_DATASYNC
        | Rights::FD_ALLOCATE
        | Rights::FD_FILESTAT_SET_SIZE
        | Rights::FD_FILESTAT_SET_TIMES
        | Rights::PATH_CREATE_DIRECTORY
        | Rights::PATH_CREATE_FILE
        | Rights::PATH_LINK_SOURCE
        | Rights::PATH_LINK_TARGET
        | Rights::PATH_RENAME_SOURCE
        | Rights::PATH_RENAME_TARGET
        | Rights::PATH_FILESTAT_SET_SIZE
        | Rights::PATH_FILESTAT_SET_TIMES
        | Rights::PATH_SYMLINK
        | Rights::PATH_REMOVE_DIRECTORY
        | Rights::PATH_UNLINK_FILE
}

/// Rights that need the host file opened for writing.
pub(crate) fn write_access_rights() -> Rights {
    Rights::FD_WRITE | Rights::FD_DATASYNC | Rights::FD_ALLOCATE | Rights::FD_FILESTAT_SET_SIZE
}

/// Rights that mean something on a directory descriptor.
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

/// Rights that mean something on a file descriptor.
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

/// The rights of a preopened directory: `(base, inheriting)`.
pub(crate) fn preopen_rights(readonly: bool) -> (Rights, Rights) {
    let (base, inheriting) = (dir_rights(), dir_rights() | file_rights());
    if readonly {
        (base - mutating_rights(), inheriting - mutating_rights())
    } else {
        (base, inheriting)
    }
}
