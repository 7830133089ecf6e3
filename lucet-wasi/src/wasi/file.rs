//! Open files in the descriptor table, and the identity of files on the host.

use super::rights::need;
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
