//! Directory listings for `fd_readdir`.
//!
//! A listing is a snapshot of the directory taken when the guest starts reading at cookie
//! 0: `.`, `..`, then every entry in the order the host returned them. The cookie of an
//! entry is its index + 1, so cookies stay valid for the life of the snapshot and a guest
//! resuming at any cookie neither skips nor repeats an entry, even while the directory
//! changes underneath it.
//!
//! At most [`MAX_LISTINGS`] snapshots, of at most [`LISTINGS_BUDGET`] bytes together,
//! are kept at once (the least recently used ones are dropped; the one being read is
//! kept even if it alone is larger), so host memory is bounded by the budget or one
//! directory, not by how many a guest opens or lists. A dropped snapshot is taken again
//! when its descriptor is next read.

use super::file::FileId;
use super::rights::need;
use super::types::Filetype;
use super::types::{Errno, Rights};
use cap_std::fs::Dir;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirEntryExt;

/// Size of the `dirent` header that precedes each name in the guest's buffer.
pub(crate) const DIRENT_SIZE: usize = 24;

/// One entry of a listing.
pub(crate) struct Item {
    name: Box<[u8]>,
    ino: u64,
    filetype: Filetype,
}

/// How many directory snapshots an instance keeps at once.
pub(crate) const MAX_LISTINGS: usize = 16;
/// How many bytes of host memory an instance's snapshots may hold together (the one
/// being read excepted).
pub(crate) const LISTINGS_BUDGET: usize = 16 << 20;

/// A snapshot of a directory's entries.
pub(crate) struct Listing {
    items: Vec<Item>,
    /// When the guest last read it (a per-instance counter), for eviction.
    pub(crate) last_used: u64,
    /// The host memory it holds, roughly: its entries and their names.
    pub(crate) bytes: usize,
}

impl Listing {
    /// Reads the whole directory `dir`, reached through the preopen `root`.
    ///
    /// Every entry carries a real, non-zero inode (wasi-libc takes 0 for "unknown" and
    /// stats the name instead, which for `..` the sandbox refuses): `.` is `dir` itself;
    /// `..` is the parent, except at the preopen's root, where it is the root itself (as
    /// Wasmtime lists it: the parent there is outside the sandbox).
    pub(crate) fn read(dir: &Dir, root: Option<FileId>) -> io::Result<Listing> {
        let here = rustix::fs::fstat(dir)?;
        let here_id = FileId {
            dev: here.st_dev,
            ino: here.st_ino,
        };
        let parent_ino = match root {
            Some(root) if root != here_id => parent_ino(dir).unwrap_or(here.st_ino),
            _ => here.st_ino,
        };
        let mut items = vec![
            Item {
                name: Box::from(&b"."[..]),
                ino: nonzero(here.st_ino),
                filetype: Filetype::Directory,
            },
            Item {
                name: Box::from(&b".."[..]),
                ino: nonzero(parent_ino),
                filetype: Filetype::Directory,
            },
        ];
        for entry in dir.entries()? {
            let entry = entry?;
            let filetype = entry.file_type().map_or(Filetype::Unknown, filetype);
            let name = entry.file_name();
            let mut ino = entry.ino();
            if ino == 0 {
                // Some filesystems leave `d_ino` out of their listings; a stat has it.
                use cap_std::fs::MetadataExt;
                ino = dir.symlink_metadata(&name).map_or(0, |m| m.ino());
            }
            items.push(Item {
                name: Box::from(name.as_bytes()),
                ino: nonzero(ino),
                filetype,
            });
        }
        // Each name is an allocation of its own: counted with malloc's rounding and
        // header (16 bytes each), so the estimate is not below what the process holds.
        let bytes = items.capacity() * std::mem::size_of::<Item>()
            + items
                .iter()
                .map(|i| i.name.len().div_ceil(16) * 16 + 16)
                .sum::<usize>();
        Ok(Listing {
            items,
            last_used: 0,
            bytes,
        })
    }

    /// An empty snapshot said to hold `bytes`, last read at `last_used` (for tests).
    #[cfg(test)]
    pub(crate) fn sized(last_used: u64, bytes: usize) -> Listing {
        Listing {
            items: Vec::new(),
            last_used,
            bytes,
        }
    }

    /// Fills `buf` with entries from `cookie` on, each a `dirent` header then its name,
    /// and returns how many bytes were written. The last entry is cut where the buffer
    /// ends: a full buffer means "call again from the last complete entry's cookie".
    pub(crate) fn fill(&self, buf: &mut [u8], cookie: u64) -> usize {
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        let mut used = 0;
        for (i, item) in self.items.iter().enumerate().skip(start) {
            let mut header = [0u8; DIRENT_SIZE];
            header[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            header[8..16].copy_from_slice(&item.ino.to_le_bytes());
            header[16..20].copy_from_slice(&(item.name.len() as u32).to_le_bytes());
            header[20] = item.filetype as u8;
            for part in [&header[..], &item.name[..]] {
                let n = part.len().min(buf.len() - used);
                buf[used..used + n].copy_from_slice(&part[..n]);
                used += n;
            }
            if used == buf.len() {
                break;
            }
        }
        used
    }
}

/// The inode of `dir`'s parent. cap-std refuses to name `..` from a `Dir` (it could lead
/// outside the sandbox), so this asks the host directly; only the inode number is read,
/// and only for a directory strictly below its preopen, whose parent is inside it.
fn parent_ino(dir: &Dir) -> Option<u64> {
    let st = rustix::fs::statat(dir, "..", rustix::fs::AtFlags::SYMLINK_NOFOLLOW).ok()?;
    Some(st.st_ino)
}

/// No entry is listed with inode 0, which wasi-libc reads as "unknown": an inode the
/// host cannot tell is listed as `u64::MAX`.
fn nonzero(ino: u64) -> u64 {
    if ino == 0 {
        u64::MAX
    } else {
        ino
    }
}

/// A host file type in WASI's terms.
pub(crate) fn filetype(ft: cap_std::fs::FileType) -> Filetype {
    use cap_fs_ext::FileTypeExt;
    if ft.is_dir() {
        Filetype::Directory
    } else if ft.is_file() {
        Filetype::RegularFile
    } else if ft.is_symlink() {
        Filetype::SymbolicLink
    } else if ft.is_block_device() {
        Filetype::BlockDevice
    } else if ft.is_char_device() {
        Filetype::CharacterDevice
    } else if ft.is_socket() {
        Filetype::SocketStream
    } else {
        Filetype::Unknown
    }
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

impl DirFd {
    /// `notcapable` unless this descriptor has every right in `needed`.
    pub(crate) fn need(&self, needed: Rights) -> Result<(), Errno> {
        need(self.rights, needed)
    }
}
