//! File metadata and flags in WASI's terms: `filestat`, file times, `fdflags`.

use super::dir::filetype;
use super::types::{Errno, Fdflags, Filestat, Fstflags};
use super::SysErr;
use cap_fs_ext::{DirExt, SystemTimeSpec};
use cap_std::fs::Dir;
use rustix::fs::Timespec;

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
pub(crate) fn timespec(ns: u64, set: bool, now: bool) -> Timespec {
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

/// Sets the times of `path` below `dir` (validated `flags`, nanosecond times).
pub(crate) fn set_path_times(
    dir: &Dir,
    path: &str,
    follow: bool,
    atim: u64,
    mtim: u64,
    flags: Fstflags,
) -> Result<(), SysErr> {
    let spec = |ns: u64, set: Fstflags, now: Fstflags| {
        if flags.contains(now) {
            Some(SystemTimeSpec::SymbolicNow)
        } else if flags.contains(set) {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns);
            Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(t),
            ))
        } else {
            None
        }
    };
    let atime = spec(atim, Fstflags::ATIM, Fstflags::ATIM_NOW);
    let mtime = spec(mtim, Fstflags::MTIM, Fstflags::MTIM_NOW);
    if follow {
        dir.set_times(path, atime, mtime)?;
    } else {
        dir.set_symlink_times(path, atime, mtime)?;
    }
    Ok(())
}
