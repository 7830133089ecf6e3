//! Directory listings for `fd_readdir`, streamed from the host.
//!
//! A listing is an open host directory stream (`getdents64`): the cookie of an entry is
//! the host's position after it (`d_off`), so resuming at any cookie is a seek, and the
//! host holds no more than one buffer of entries whatever the directory's size. The
//! entries come in the host's order, `.` and `..` included; entries added or removed
//! while a guest lists the directory may or may not be seen, as with POSIX `readdir`.
//!
//! At most [`MAX_LISTINGS`] streams are kept open at once (the least recently read one
//! is closed first); a closed one is opened again, and seeks to the cookie, when its
//! descriptor is next listed. Host memory for listings is thus at most [`MAX_LISTINGS`]
//! `getdents` buffers per instance (rustix grows one to about 1,024 `linux_dirent64`
//! headers, some 24 KiB, then reuses it): under 0.5 MiB.

use super::file::FileId;
use super::rights::need;
use super::types::Filetype;
use super::types::{Errno, Rights};
use super::SysErr;
use cap_std::fs::Dir;
use rustix::fs::{AtFlags, FileType};
use std::io;

/// Size of the `dirent` header that precedes each name in the guest's buffer.
pub(crate) const DIRENT_SIZE: usize = 24;

/// How many directory streams an instance keeps open at once.
pub(crate) const MAX_LISTINGS: usize = 16;

/// The longest name a host directory entry has (Linux's `NAME_MAX`).
const NAME_MAX: usize = 255;

/// An entry read from the host that did not fit the guest's buffer: given first when
/// the guest asks again from the cookie before it (what a full buffer asks it to do).
struct Pending {
    /// The cookie it follows.
    after: u64,
    /// Its own cookie.
    next: u64,
    ino: u64,
    filetype: Filetype,
    len: usize,
    name: [u8; NAME_MAX],
}

/// An open listing of a directory.
pub(crate) struct Listing {
    stream: rustix::fs::Dir,
    /// The cookie the stream stands at, if known: a call from it needs no seek.
    at: Option<u64>,
    pending: Option<Pending>,
    /// The directory's own inode, and whether it is its preopen's root (where `..` is
    /// listed as the directory itself: its parent is outside the sandbox).
    here: u64,
    at_root: bool,
    /// When the guest last read it (a per-instance counter), for eviction.
    pub(crate) last_used: u64,
}

impl Listing {
    /// Opens a listing of `dir`, reached through the preopen `root`.
    pub(crate) fn open(dir: &Dir, root: Option<FileId>) -> io::Result<Box<Listing>> {
        let here = rustix::fs::fstat(dir)?;
        let at_root = root.is_none_or(|r| {
            r == FileId {
                dev: here.st_dev,
                ino: here.st_ino,
            }
        });
        Ok(Box::new(Listing {
            stream: rustix::fs::Dir::new(open_for_listing(dir)?)?,
            at: Some(0),
            pending: None,
            here: here.st_ino,
            at_root,
            last_used: 0,
        }))
    }

    /// Fills `buf` with entries from `cookie` on, each a `dirent` header then its name,
    /// and returns how many bytes were written. The last entry is cut where the buffer
    /// ends: a full buffer means "call again from the last complete entry's cookie".
    ///
    /// Every entry carries a real, non-zero inode (wasi-libc takes 0 for "unknown" and
    /// stats the name instead, which for `..` the sandbox refuses).
    pub(crate) fn fill(&mut self, dir: &Dir, buf: &mut [u8], cookie: u64) -> Result<usize, SysErr> {
        let mut used = 0;
        let pending = self.pending.take().filter(|p| p.after == cookie);
        if let Some(p) = pending {
            used = put(buf, used, p.next, p.ino, p.filetype, &p.name[..p.len]);
            if used == buf.len() {
                // Cut again (a buffer shorter than this one entry): keep it.
                self.pending = Some(p);
                return Ok(used);
            }
            self.at = Some(p.next);
        } else if self.at != Some(cookie) {
            let offset = i64::try_from(cookie).map_err(|_| Errno::Inval)?;
            self.at = None;
            self.stream.seek(offset)?;
            self.at = Some(cookie);
        }
        while used < buf.len() {
            let entry = match self.stream.read() {
                None => break,
                Some(Err(e)) => {
                    // The stream gives up after an error: the next call seeks again.
                    self.at = None;
                    return Err(e.into());
                }
                Some(Ok(entry)) => entry,
            };
            let name = entry.file_name().to_bytes();
            let next = entry.offset() as u64;
            let ino = self.inode(dir, name, entry.ino());
            let filetype = match entry.file_type() {
                FileType::Unknown => stat_type(dir, name),
                t => listed_type(t),
            };
            let before = used;
            used = put(buf, used, next, ino, filetype, name);
            if used == buf.len() && used - before < DIRENT_SIZE + name.len() {
                let mut p = Pending {
                    after: self.at.unwrap_or(u64::MAX),
                    next,
                    ino,
                    filetype,
                    len: name.len().min(NAME_MAX),
                    name: [0; NAME_MAX],
                };
                p.name[..p.len].copy_from_slice(&name[..p.len]);
                self.pending = Some(p);
            }
            self.at = Some(next);
        }
        Ok(used)
    }

    /// The inode listed for `name`: `..` at the preopen's root is the root itself; an
    /// entry without one (some filesystems leave `d_ino` out) is stat'ed.
    fn inode(&self, dir: &Dir, name: &[u8], ino: u64) -> u64 {
        if name == b".." && self.at_root {
            return nonzero(self.here);
        }
        if ino != 0 {
            return ino;
        }
        if name == b"." {
            return nonzero(self.here);
        }
        if name == b".." {
            return nonzero(parent_ino(dir).unwrap_or(self.here));
        }
        let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW);
        nonzero(st.map_or(0, |st| st.st_ino))
    }
}

/// A descriptor of `dir` that can be listed: preopens and opened directories may be
/// `O_PATH` descriptors, which `getdents` refuses.
fn open_for_listing(dir: &Dir) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    Ok(rustix::fs::openat(dir, ".", flags, Mode::empty())?)
}

/// Writes one entry (header, then name) at `used`, cut at the end of `buf`; returns the
/// new end.
fn put(buf: &mut [u8], mut used: usize, next: u64, ino: u64, t: Filetype, name: &[u8]) -> usize {
    let mut header = [0u8; DIRENT_SIZE];
    header[0..8].copy_from_slice(&next.to_le_bytes());
    header[8..16].copy_from_slice(&ino.to_le_bytes());
    header[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
    header[20] = t as u8;
    for part in [&header[..], name] {
        let n = part.len().min(buf.len() - used);
        buf[used..used + n].copy_from_slice(&part[..n]);
        used += n;
    }
    used
}

/// The type of `name` in `dir` by `lstat`, for entries whose listing has none.
fn stat_type(dir: &Dir, name: &[u8]) -> Filetype {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map_or(Filetype::Unknown, |st| {
        listed_type(FileType::from_raw_mode(st.st_mode))
    })
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

/// A file type of a host listing (or `stat`) in WASI's terms.
fn listed_type(t: FileType) -> Filetype {
    match t {
        FileType::Directory => Filetype::Directory,
        FileType::RegularFile => Filetype::RegularFile,
        FileType::Symlink => Filetype::SymbolicLink,
        FileType::BlockDevice => Filetype::BlockDevice,
        FileType::CharacterDevice => Filetype::CharacterDevice,
        FileType::Socket => Filetype::SocketStream,
        _ => Filetype::Unknown,
    }
}

/// An open directory: a preopen, or one opened with `path_open`.
pub(crate) struct DirFd {
    /// A preopen's first descriptor number (`None` for others).
    pub(crate) origin: Option<u32>,
    pub(crate) dir: Dir,
    pub(crate) rights: Rights,
    pub(crate) inheriting: Rights,
    /// The guest path of a preopen (what `fd_prestat_*` shows); `None` otherwise.
    pub(crate) preopen: Option<String>,
    /// The stream `fd_readdir` reads, opened by the first listing (boxed: it holds a
    /// cut entry's name).
    pub(crate) listing: Option<Box<Listing>>,
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
