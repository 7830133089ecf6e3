//! Rights: what each kind of descriptor may hold, and checks of the rights asked for.
//!
//! Every descriptor carries its preview1 rights: `base` (what it may be used for) and
//! `inheriting` (the most a descriptor opened through it may get). A read-only preopen
//! is a directory whose rights lack every mutating right, so everything below it is
//! read-only too. Rights are checked before any OS call; a missing right is `notcapable`.

use super::types::{Errno, Rights};

/// Rights of the standard streams.
pub(crate) fn stdin_rights() -> Rights {
    Rights::FD_READ
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_FILESTAT_GET
        | Rights::POLL_FD_READWRITE
}
pub(crate) fn stdout_rights() -> Rights {
    Rights::FD_WRITE
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_FILESTAT_GET
        | Rights::POLL_FD_READWRITE
}

/// Rights of an accepted or listening socket.
pub(crate) fn socket_rights() -> Rights {
    Rights::FD_READ
        | Rights::FD_WRITE
        | Rights::FD_FDSTAT_SET_FLAGS
        | Rights::FD_FILESTAT_GET
        | Rights::POLL_FD_READWRITE
        | Rights::SOCK_SHUTDOWN
        | Rights::SOCK_ACCEPT
}

/// A guest's rights argument: known bits only.
pub(crate) fn rights(bits: u64) -> Result<Rights, Errno> {
    Rights::from_bits(bits).ok_or(Errno::Inval)
}

/// Rights a new descriptor may hold on a file or directory.
pub(crate) fn rights_for(is_dir: bool) -> Rights {
    if is_dir {
        dir_rights()
    } else {
        file_rights()
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
