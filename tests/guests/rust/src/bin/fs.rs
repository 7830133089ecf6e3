//! Exercises the filesystem calls through the raw preview1 ABI. The first argument picks
//! a battery (`calls`, `escape`, `readonly`, `readdir`); each check prints `ok <name>` or
//! `FAIL <name>: <detail>`, and the run ends with `done`. The test sets up the preopens
//! and the host files each battery expects (see tests/fs.rs).
#![allow(clippy::missing_safety_doc)]
use std::collections::HashMap;
use std::fmt::Debug;

#[repr(C)]
struct Iov {
    buf: *const u8,
    len: usize,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn fd_advise(fd: u32, off: u64, len: u64, advice: u32) -> u16;
    fn fd_allocate(fd: u32, off: u64, len: u64) -> u16;
    fn fd_close(fd: u32) -> u16;
    fn fd_datasync(fd: u32) -> u16;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u16;
    fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> u16;
    fn fd_filestat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_filestat_set_size(fd: u32, size: u64) -> u16;
    fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32) -> u16;
    fn fd_pread(fd: u32, iovs: *const Iov, n: usize, off: u64, out: *mut usize) -> u16;
    fn fd_pwrite(fd: u32, iovs: *const Iov, n: usize, off: u64, out: *mut usize) -> u16;
    fn fd_read(fd: u32, iovs: *const Iov, n: usize, out: *mut usize) -> u16;
    fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, out: *mut usize) -> u16;
    fn fd_renumber(fd: u32, to: u32) -> u16;
    fn fd_seek(fd: u32, off: i64, whence: u32, out: *mut u64) -> u16;
    fn fd_sync(fd: u32) -> u16;
    fn fd_tell(fd: u32, out: *mut u64) -> u16;
    fn fd_write(fd: u32, iovs: *const Iov, n: usize, out: *mut usize) -> u16;
    fn path_create_directory(fd: u32, p: *const u8, len: usize) -> u16;
    fn path_filestat_get(fd: u32, flags: u32, p: *const u8, len: usize, out: *mut u8) -> u16;
    fn path_filestat_set_times(
        fd: u32,
        flags: u32,
        p: *const u8,
        len: usize,
        atim: u64,
        mtim: u64,
        fst: u32,
    ) -> u16;
    fn path_link(
        old_fd: u32,
        old_flags: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> u16;
    fn path_open(
        fd: u32,
        dirflags: u32,
        p: *const u8,
        len: usize,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdflags: u32,
        out: *mut u32,
    ) -> u16;
    fn path_readlink(
        fd: u32,
        p: *const u8,
        len: usize,
        buf: *mut u8,
        buf_len: usize,
        out: *mut usize,
    ) -> u16;
    fn path_remove_directory(fd: u32, p: *const u8, len: usize) -> u16;
    fn path_rename(
        fd: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> u16;
    fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, new_len: usize)
        -> u16;
    fn path_unlink_file(fd: u32, p: *const u8, len: usize) -> u16;
}

const OK: u16 = 0;
const BADF: u16 = 8;
const EXIST: u16 = 20;
const ILSEQ: u16 = 25;
const INVAL: u16 = 28;
const ISDIR: u16 = 31;
const LOOP: u16 = 32;
const MFILE: u16 = 33;
const NAMETOOLONG: u16 = 37;
const NOENT: u16 = 44;
const NOTDIR: u16 = 54;
const NOTEMPTY: u16 = 55;
const NOTSUP: u16 = 58;
const PERM: u16 = 63;
const NXIO: u16 = 60;
const NOTCAPABLE: u16 = 76;

const R_FD_DATASYNC: u64 = 1 << 0;
const R_FD_READ: u64 = 1 << 1;
const R_FD_SEEK: u64 = 1 << 2;
const R_FD_TELL: u64 = 1 << 5;
const R_FD_WRITE: u64 = 1 << 6;
const R_FD_FILESTAT_GET: u64 = 1 << 21;
const R_FD_READDIR: u64 = 1 << 14;
const R_FD_ALLOCATE: u64 = 1 << 8;
const R_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
const ALL: u64 = (1 << 30) - 1;
/// Rights that need the host file open for writing: a directory asked for with any of
/// them is `isdir`.
const WRITE_ACCESS: u64 = R_FD_DATASYNC | R_FD_WRITE | R_FD_ALLOCATE | R_FD_FILESTAT_SET_SIZE;
/// Every right a directory can be opened with.
const DIR_BASE: u64 = ALL & !WRITE_ACCESS;

const CREAT: u32 = 1;
const DIRECTORY: u32 = 2;
const EXCL: u32 = 4;
const TRUNC: u32 = 8;
const APPEND: u32 = 1;
const NONBLOCK: u32 = 4;
const SYNC: u32 = 16;
const FOLLOW: u32 = 1;

const DIR_TYPE: u8 = 3;
const FILE_TYPE: u8 = 4;
const LINK_TYPE: u8 = 7;

static mut FAILS: u32 = 0;

fn check<T: PartialEq + Debug>(name: &str, got: T, want: T) {
    if got == want {
        println!("ok {name}");
    } else {
        unsafe { FAILS += 1 };
        println!("FAIL {name}: got {got:?}, want {want:?}");
    }
}

// ---- thin wrappers: Ok(value) or Err(errno) ----

fn res<T>(e: u16, v: T) -> Result<T, u16> {
    if e == OK {
        Ok(v)
    } else {
        Err(e)
    }
}

fn open_with(dir: u32, follow: u32, path: &[u8], oflags: u32, base: u64, fdflags: u32) -> Result<u32, u16> {
    let mut fd = 0;
    let e = unsafe {
        path_open(dir, follow, path.as_ptr(), path.len(), oflags, base, ALL, fdflags, &mut fd)
    };
    res(e, fd)
}

fn open(dir: u32, path: &str, oflags: u32, base: u64) -> Result<u32, u16> {
    open_with(dir, FOLLOW, path.as_bytes(), oflags, base, 0)
}

fn errno<T>(r: Result<T, u16>) -> u16 {
    r.err().unwrap_or(OK)
}

fn write(fd: u32, data: &[u8]) -> Result<usize, u16> {
    let iov = Iov { buf: data.as_ptr(), len: data.len() };
    let mut n = 0;
    let e = unsafe { fd_write(fd, &iov, 1, &mut n) };
    res(e, n)
}

fn read(fd: u32, len: usize) -> Result<Vec<u8>, u16> {
    let mut buf = vec![0u8; len];
    let iov = Iov { buf: buf.as_mut_ptr(), len };
    let mut n = 0;
    let e = unsafe { fd_read(fd, &iov, 1, &mut n) };
    buf.truncate(n);
    res(e, buf)
}

fn seek(fd: u32, off: i64, whence: u32) -> Result<u64, u16> {
    let mut pos = 0;
    let e = unsafe { fd_seek(fd, off, whence, &mut pos) };
    res(e, pos)
}

fn tell(fd: u32) -> Result<u64, u16> {
    let mut pos = 0;
    let e = unsafe { fd_tell(fd, &mut pos) };
    res(e, pos)
}

struct Stat {
    filetype: u8,
    nlink: u64,
    size: u64,
    atim: u64,
    mtim: u64,
}

fn stat_of(buf: &[u8; 64]) -> Stat {
    let u = |o: usize| u64::from_le_bytes(buf[o..o + 8].try_into().unwrap());
    Stat { filetype: buf[16], nlink: u(24), size: u(32), atim: u(40), mtim: u(48) }
}

fn fstat(fd: u32) -> Result<Stat, u16> {
    let mut buf = [0u8; 64];
    let e = unsafe { fd_filestat_get(fd, buf.as_mut_ptr()) };
    res(e, stat_of(&buf))
}

fn stat(dir: u32, follow: u32, path: &str) -> Result<Stat, u16> {
    let mut buf = [0u8; 64];
    let e = unsafe { path_filestat_get(dir, follow, path.as_ptr(), path.len(), buf.as_mut_ptr()) };
    res(e, stat_of(&buf))
}

/// (filetype, flags, base rights, inheriting rights)
fn fdstat(fd: u32) -> Result<(u8, u16, u64, u64), u16> {
    let mut buf = [0u8; 24];
    let e = unsafe { fd_fdstat_get(fd, buf.as_mut_ptr()) };
    let u = |o: usize| u64::from_le_bytes(buf[o..o + 8].try_into().unwrap());
    res(e, (buf[0], u16::from_le_bytes([buf[2], buf[3]]), u(8), u(16)))
}

fn mkdir(dir: u32, path: &str) -> u16 {
    unsafe { path_create_directory(dir, path.as_ptr(), path.len()) }
}
fn rmdir(dir: u32, path: &str) -> u16 {
    unsafe { path_remove_directory(dir, path.as_ptr(), path.len()) }
}
fn unlink(dir: u32, path: &str) -> u16 {
    unsafe { path_unlink_file(dir, path.as_ptr(), path.len()) }
}
fn rename(dir: u32, old: &str, new_dir: u32, new: &str) -> u16 {
    unsafe { path_rename(dir, old.as_ptr(), old.len(), new_dir, new.as_ptr(), new.len()) }
}
fn link(dir: u32, flags: u32, old: &str, new_dir: u32, new: &str) -> u16 {
    unsafe { path_link(dir, flags, old.as_ptr(), old.len(), new_dir, new.as_ptr(), new.len()) }
}
fn symlink(contents: &str, dir: u32, new: &str) -> u16 {
    unsafe { path_symlink(contents.as_ptr(), contents.len(), dir, new.as_ptr(), new.len()) }
}
fn readlink(dir: u32, path: &str, len: usize) -> Result<Vec<u8>, u16> {
    let mut buf = vec![0u8; len];
    let mut n = 0;
    let e = unsafe { path_readlink(dir, path.as_ptr(), path.len(), buf.as_mut_ptr(), len, &mut n) };
    buf.truncate(n);
    res(e, buf)
}
fn set_times(dir: u32, follow: u32, path: &str, atim: u64, mtim: u64, fst: u32) -> u16 {
    unsafe { path_filestat_set_times(dir, follow, path.as_ptr(), path.len(), atim, mtim, fst) }
}

/// Every name `fd_readdir` returns for `fd`, read with a `size`-byte buffer that grows
/// only when one entry does not fit (as wasi-libc does), back to `size` after each call.
fn list(fd: u32, size: usize) -> Result<Vec<Vec<u8>>, u16> {
    let mut names = Vec::new();
    let mut cookie = 0u64;
    let mut want = size;
    let mut calls = 0u32;
    loop {
        calls += 1;
        if calls > 1_000_000 {
            return Err(999);
        }
        let mut buf = vec![0u8; want];
        let mut used = 0;
        let e = unsafe { fd_readdir(fd, buf.as_mut_ptr(), buf.len(), cookie, &mut used) };
        if e != OK {
            return Err(e);
        }
        let mut pos = 0;
        let mut complete = 0;
        while pos + 24 <= used {
            let next = u64::from_le_bytes(buf[pos..pos + 8].try_into().unwrap());
            let namlen = u32::from_le_bytes(buf[pos + 16..pos + 20].try_into().unwrap()) as usize;
            if pos + 24 + namlen > used {
                if complete == 0 {
                    want = 24 + namlen;
                }
                break;
            }
            names.push(buf[pos + 24..pos + 24 + namlen].to_vec());
            cookie = next;
            complete += 1;
            pos += 24 + namlen;
        }
        if used < buf.len() && pos == used {
            return Ok(names);
        }
        if complete == 0 {
            if pos + 24 > used {
                want = want.max(24);
            }
        } else {
            want = size;
        }
    }
}

fn names(fd: u32) -> Vec<String> {
    let mut v: Vec<String> = list(fd, 4096)
        .unwrap_or_default()
        .into_iter()
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .collect();
    v.sort();
    v
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "calls" => calls(),
        "escape" => escape(),
        "readonly" => readonly(),
        "readdir" => readdir(),
        "fuzz" => fuzz(),
        "isdir" => isdir(),
        "fifo" => fifo(),
        "inodes" => inodes(),
        other => println!("FAIL unknown mode {other:?}"),
    }
    println!("done");
}

/// Preopens: 3 = /a, 4 = /b, both empty and writable.
fn calls() {
    let a = 3;
    let b = 4;
    // ---- path_open and file I/O ----
    let f = open(a, "f.txt", CREAT | EXCL, ALL);
    check("path_open creat|excl", f.is_ok(), true);
    let f = f.unwrap_or(u32::MAX);
    check("path_open creat|excl again", errno(open(a, "f.txt", CREAT | EXCL, ALL)), EXIST);
    check("fd_write", write(f, b"hello world"), Ok(11));
    check("fd_tell", tell(f), Ok(11));
    check("fd_seek set 0", seek(f, 0, 0), Ok(0));
    check("fd_read 5", read(f, 5), Ok(b"hello".to_vec()));
    let (mut x, mut y) = ([0u8; 3], [0u8; 100]);
    let iovs = [Iov { buf: x.as_mut_ptr(), len: 3 }, Iov { buf: y.as_mut_ptr(), len: 100 }];
    let mut n = 0;
    check("fd_read two iovecs", unsafe { fd_read(f, iovs.as_ptr(), 2, &mut n) }, OK);
    check("fd_read two iovecs count", n, 6);
    check("fd_read two iovecs data", (&x[..], &y[..3]), (&b" wo"[..], &b"rld"[..]));
    check("fd_read at end", read(f, 10), Ok(vec![]));
    check("fd_read too many iovecs", unsafe { fd_read(f, iovs.as_ptr(), 5000, &mut n) }, INVAL);
    let mut pbuf = [0u8; 5];
    let piov = Iov { buf: pbuf.as_mut_ptr(), len: 5 };
    check("fd_pread", unsafe { fd_pread(f, &piov, 1, 6, &mut n) }, OK);
    check("fd_pread data", &pbuf, b"world");
    check("fd_pread offset too big", unsafe { fd_pread(f, &piov, 1, u64::MAX, &mut n) }, INVAL);
    let j = Iov { buf: b"J".as_ptr(), len: 1 };
    check("fd_pwrite", unsafe { fd_pwrite(f, &j, 1, 0, &mut n) }, OK);
    check("fd_pwrite keeps the position", tell(f), Ok(11));
    check("fd_pread after pwrite", unsafe { fd_pread(f, &piov, 1, 0, &mut n) }, OK);
    check("fd_pwrite data", &pbuf, b"Jello");
    check("fd_seek bad whence", errno(seek(f, 0, 3)), INVAL);
    check("fd_seek negative", errno(seek(f, -1, 0)), INVAL);
    check("fd_seek end -5", seek(f, -5, 2), Ok(6));
    check("fd_seek cur +1", seek(f, 1, 1), Ok(7));

    // ---- stat, sizes, times ----
    let st = fstat(f).unwrap_or(Stat { filetype: 0, nlink: 0, size: 0, atim: 0, mtim: 0 });
    check("fd_filestat_get type", st.filetype, FILE_TYPE);
    check("fd_filestat_get size", st.size, 11);
    check("fd_filestat_set_size", unsafe { fd_filestat_set_size(f, 4) }, OK);
    check("size after set_size", fstat(f).map(|s| s.size), Ok(4));
    check("fd_filestat_set_size too big", unsafe { fd_filestat_set_size(f, u64::MAX) }, INVAL);
    let (t1, t2) = (1_000_000_000_123, 2_000_000_000_456);
    check("fd_filestat_set_times", unsafe { fd_filestat_set_times(f, t1, t2, 1 | 4) }, OK);
    check("times after set_times", fstat(f).map(|s| (s.atim, s.mtim)), Ok((t1, t2)));
    check("fd_filestat_set_times mtim only", unsafe { fd_filestat_set_times(f, 0, t1, 4) }, OK);
    check("mtim only changes mtim", fstat(f).map(|s| (s.atim, s.mtim)), Ok((t1, t1)));
    check("fd_filestat_set_times atim_now", unsafe { fd_filestat_set_times(f, 0, 0, 2) }, OK);
    check("atim_now is recent", fstat(f).map(|s| s.atim > 1_600_000_000_000_000_000), Ok(true));
    check("fd_filestat_set_times atim+atim_now", unsafe { fd_filestat_set_times(f, 0, 0, 3) }, INVAL);
    check("fd_filestat_set_times garbage", unsafe { fd_filestat_set_times(f, 0, 0, 0x100) }, INVAL);
    check("fd_advise", unsafe { fd_advise(f, 0, 0, 2) }, OK);
    check("fd_advise garbage", unsafe { fd_advise(f, 0, 0, 9) }, INVAL);
    check("fd_allocate", unsafe { fd_allocate(f, 0, 100) }, OK);
    check("size after allocate", fstat(f).map(|s| s.size), Ok(100));
    check("fd_allocate zero length", unsafe { fd_allocate(f, 0, 0) }, INVAL);
    check("fd_datasync", unsafe { fd_datasync(f) }, OK);
    check("fd_sync", unsafe { fd_sync(f) }, OK);
    check("fd_sync dir", unsafe { fd_sync(a) }, OK);
    check("fd_filestat_set_times dir", unsafe { fd_filestat_set_times(a, t1, t2, 1 | 4) }, OK);
    check("dir times", fstat(a).map(|s| (s.atim, s.mtim)), Ok((t1, t2)));
    check("fd_filestat_get dir", fstat(a).map(|s| s.filetype), Ok(DIR_TYPE));

    // ---- fdstat and flags ----
    let fs = fdstat(f).unwrap_or_default();
    check("fd_fdstat_get type", fs.0, FILE_TYPE);
    check("fd_fdstat_get has write", fs.2 & R_FD_WRITE != 0, true);
    check("fd_fdstat_get dir type", fdstat(a).map(|s| s.0), Ok(DIR_TYPE));
    check("fd_filestat_set_size 0", unsafe { fd_filestat_set_size(f, 0) }, OK);
    check("fd_seek to 0", seek(f, 0, 0), Ok(0));
    check("write abc", write(f, b"abc"), Ok(3));
    check("fd_fdstat_set_flags append", unsafe { fd_fdstat_set_flags(f, APPEND) }, OK);
    check("fdstat shows append", fdstat(f).map(|s| s.1), Ok(APPEND as u16));
    check("fd_seek to 0 in append", seek(f, 0, 0), Ok(0));
    check("append write", write(f, b"XY"), Ok(2));
    check("append wrote at the end", fstat(f).map(|s| s.size), Ok(5));
    check("fd_fdstat_set_flags nonblock", unsafe { fd_fdstat_set_flags(f, NONBLOCK) }, OK);
    check("fdstat shows nonblock only", fdstat(f).map(|s| s.1), Ok(NONBLOCK as u16));
    check("fd_fdstat_set_flags sync", unsafe { fd_fdstat_set_flags(f, SYNC) }, NOTSUP);
    check("fd_fdstat_set_flags garbage", unsafe { fd_fdstat_set_flags(f, 0x100) }, INVAL);
    check("fd_fdstat_set_flags 0", unsafe { fd_fdstat_set_flags(f, 0) }, OK);
    let ro = fs.2 & !R_FD_WRITE;
    check("fd_fdstat_set_rights shrink", unsafe { fd_fdstat_set_rights(f, ro, fs.3) }, OK);
    check("write without the right", errno(write(f, b"no")), NOTCAPABLE);
    check("fd_fdstat_set_rights grow", unsafe { fd_fdstat_set_rights(f, fs.2, fs.3) }, NOTCAPABLE);
    check("fd_fdstat_set_rights garbage", unsafe { fd_fdstat_set_rights(f, 1 << 40, 0) }, INVAL);
    check("fd_fdstat_set_rights bad fd", unsafe { fd_fdstat_set_rights(99, 0, 0) }, BADF);

    // ---- descriptors of the wrong kind ----
    let mut used = 0;
    let mut buf = [0u8; 256];
    check("fd_readdir on a file", unsafe { fd_readdir(f, buf.as_mut_ptr(), 256, 0, &mut used) }, NOTDIR);
    check("path_open below a file", errno(open(f, "x", 0, ALL)), NOTDIR);
    check("fd_read on a dir", errno(read(a, 1)), ISDIR);
    check("fd_write on a dir", errno(write(a, b"x")), ISDIR);
    check("fd_seek on a dir", errno(seek(a, 0, 0)), ISDIR);
    check("fd_readdir on stdout", unsafe { fd_readdir(1, buf.as_mut_ptr(), 256, 0, &mut used) }, NOTDIR);
    check("mkdir below stdout", mkdir(1, "x"), NOTDIR);
    check("mkdir below a bad fd", mkdir(99, "x"), BADF);
    check("fd_readdir bad fd", unsafe { fd_readdir(99, buf.as_mut_ptr(), 256, 0, &mut used) }, BADF);

    // ---- renumber and close ----
    let g = open(a, "f.txt", 0, R_FD_READ | R_FD_SEEK).unwrap_or(u32::MAX);
    check("fd_renumber", unsafe { fd_renumber(f, g) }, OK);
    check("renumbered from is closed", errno(tell(f)), BADF);
    check("renumbered to is the file", fstat(g).map(|s| s.size), Ok(5));
    check("fd_renumber bad from", unsafe { fd_renumber(99, g) }, BADF);
    check("fd_renumber bad to", unsafe { fd_renumber(g, 99) }, BADF);
    check("fd_renumber to itself", unsafe { fd_renumber(g, g) }, OK);
    check("fd_close", unsafe { fd_close(g) }, OK);
    check("fd_close twice", unsafe { fd_close(g) }, BADF);

    // ---- open flags and rights ----
    let r = open(a, "f.txt", 0, R_FD_READ | R_FD_TELL).unwrap_or(u32::MAX);
    check("read-only open reads", read(r, 3), Ok(b"abc".to_vec()));
    check("read-only open cannot write", errno(write(r, b"x")), NOTCAPABLE);
    check("read-only open cannot seek", errno(seek(r, 0, 0)), NOTCAPABLE);
    check("read-only open can tell", tell(r), Ok(3));
    check("read-only open cannot stat", errno(fstat(r)), NOTCAPABLE);
    unsafe { fd_close(r) };
    check("path_open missing", errno(open(a, "missing", 0, ALL)), NOENT);
    check("path_open directory flag on a file", errno(open(a, "f.txt", DIRECTORY, R_FD_READ)), NOTDIR);
    check("path_open trailing slash on a file", errno(open(a, "f.txt/", 0, R_FD_READ)), NOTDIR);
    check("path_open directory+creat", errno(open(a, "nd", DIRECTORY | CREAT, R_FD_READ)), INVAL);
    let t = open(a, "f.txt", TRUNC, R_FD_WRITE | R_FD_FILESTAT_GET).unwrap_or(u32::MAX);
    check("path_open trunc", fstat(t).map(|s| s.size), Ok(0));
    unsafe { fd_close(t) };
    let ap = open_with(a, FOLLOW, b"f.txt", 0, R_FD_WRITE, APPEND).unwrap_or(u32::MAX);
    check("path_open append", write(ap, b"12"), Ok(2));
    check("path_open append fdstat", fdstat(ap).map(|s| s.1), Ok(APPEND as u16));
    unsafe { fd_close(ap) };
    let c = open(a, "created", CREAT, R_FD_READ | R_FD_FILESTAT_GET).unwrap_or(u32::MAX);
    check("path_open creat read-only has no write", fdstat(c).map(|s| s.2 & R_FD_WRITE), Ok(0));
    check("path_open creat read-only", fstat(c).map(|s| s.filetype), Ok(FILE_TYPE));
    unsafe { fd_close(c) };
    check("path_open creat on existing", open(a, "created", CREAT, R_FD_READ).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    check("path_open bad oflags", errno(open(a, "f.txt", 0x100, R_FD_READ)), INVAL);
    check("path_open bad dirflags", errno(open_with(a, 2, b"f.txt", 0, R_FD_READ, 0)), INVAL);
    check("path_open bad fdflags", errno(open_with(a, FOLLOW, b"f.txt", 0, R_FD_READ, 0x100)), INVAL);
    check("path_open bad rights", errno(open(a, "f.txt", 0, 1 << 40)), INVAL);
    check("path_open not UTF-8", errno(open_with(a, FOLLOW, b"bad\xff", CREAT, ALL, 0)), ILSEQ);
    let long = "x".repeat(5000);
    check("path_open too long", errno(open(a, &long, CREAT, ALL)), NAMETOOLONG);
    check("path_open empty", errno(open(a, "", 0, ALL)), NOENT);

    // ---- directories ----
    check("path_create_directory", mkdir(a, "d"), OK);
    check("path_create_directory exists", mkdir(a, "d"), EXIST);
    check("path_create_directory missing parent", mkdir(a, "nope/d"), NOENT);
    check("path_create_directory below a file", mkdir(a, "f.txt/d"), NOTDIR);
    check("path_open directory with all rights", errno(open(a, "d", DIRECTORY, ALL)), ISDIR);
    let d = open(a, "d", DIRECTORY, DIR_BASE);
    check("path_open directory", d.map(|fd| fdstat(fd).map(|s| s.0)), Ok(Ok(DIR_TYPE)));
    let d = d.unwrap_or(u32::MAX);
    check("create below opened dir", open(d, "inner", CREAT, R_FD_READ).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    check("opened dir cannot go up", errno(open(d, "../f.txt", 0, R_FD_READ)), NOTCAPABLE);
    unsafe { fd_close(d) };
    let dd = open(a, "d", 0, R_FD_READ | R_FD_READDIR);
    check("path_open dir without directory flag", dd.map(|fd| fdstat(fd).map(|s| s.0)), Ok(Ok(DIR_TYPE)));
    let dd = dd.unwrap_or(u32::MAX);
    check("readdir of opened dir", names(dd), vec![".".to_string(), "..".into(), "inner".into()]);
    unsafe { fd_close(dd) };
    check("path_open dir for writing", errno(open(a, "d", 0, R_FD_WRITE)), ISDIR);
    check("path_open dir trailing slash", open(a, "d/", DIRECTORY, R_FD_READ).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    check("path_remove_directory not empty", rmdir(a, "d"), NOTEMPTY);
    check("path_remove_directory on a file", rmdir(a, "f.txt"), NOTDIR);
    check("path_remove_directory missing", rmdir(a, "missing"), NOENT);
    check("path_unlink_file on a dir", unlink(a, "d"), ISDIR);
    check("path_unlink_file", unlink(a, "d/inner"), OK);
    check("path_unlink_file missing", unlink(a, "d/inner"), NOENT);
    check("path_unlink_file trailing slash", unlink(a, "f.txt/"), NOTDIR);
    check("path_remove_directory", rmdir(a, "d"), OK);

    // ---- stat by path, times by path ----
    check("path_filestat_get", stat(a, FOLLOW, "f.txt").map(|s| (s.filetype, s.size)), Ok((FILE_TYPE, 2)));
    check("path_filestat_get missing", errno(stat(a, FOLLOW, "missing")), NOENT);
    check("path_filestat_get bad flags", errno(stat(a, 7, "f.txt")), INVAL);
    check("path_filestat_get dir", stat(a, 0, ".").map(|s| s.filetype), Ok(DIR_TYPE));
    check("path_filestat_set_times", set_times(a, FOLLOW, "f.txt", t1, t2, 1 | 4), OK);
    check("times by path", stat(a, FOLLOW, "f.txt").map(|s| (s.atim, s.mtim)), Ok((t1, t2)));
    check("path_filestat_set_times mtim_now", set_times(a, FOLLOW, "f.txt", 0, 0, 8), OK);
    check("mtim_now is recent", stat(a, FOLLOW, "f.txt").map(|s| s.mtim > t2 && s.atim == t1), Ok(true));
    check("path_filestat_set_times bad flags", set_times(a, FOLLOW, "f.txt", 0, 0, 4 | 8), INVAL);
    check("path_filestat_set_times bad lookup", set_times(a, 9, "f.txt", 0, 0, 4), INVAL);
    check("path_filestat_set_times missing", set_times(a, FOLLOW, "missing", 0, 0, 4), NOENT);

    // ---- symlinks ----
    check("path_symlink", symlink("f.txt", a, "sym"), OK);
    check("path_symlink exists", symlink("f.txt", a, "sym"), EXIST);
    check("path_symlink absolute contents", symlink("/etc/passwd", a, "abs"), NOTCAPABLE);
    check("path_symlink empty contents", symlink("", a, "empty"), NOENT);
    check("path_readlink", readlink(a, "sym", 100), Ok(b"f.txt".to_vec()));
    check("path_readlink truncates", readlink(a, "sym", 3), Ok(b"f.t".to_vec()));
    check("path_readlink zero buffer", readlink(a, "sym", 0), Ok(vec![]));
    check("path_readlink on a file", errno(readlink(a, "f.txt", 10)), INVAL);
    check("path_readlink missing", errno(readlink(a, "missing", 10)), NOENT);
    check("stat symlink nofollow", stat(a, 0, "sym").map(|s| s.filetype), Ok(LINK_TYPE));
    check("stat symlink follow", stat(a, FOLLOW, "sym").map(|s| s.filetype), Ok(FILE_TYPE));
    check("path_open symlink follow", open_with(a, FOLLOW, b"sym", 0, R_FD_READ, 0).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    check("path_open symlink nofollow", errno(open_with(a, 0, b"sym", 0, R_FD_READ, 0)), LOOP);
    check("path_filestat_set_times nofollow", set_times(a, 0, "sym", t1, t1, 1 | 4), OK);
    check("symlink's own times", stat(a, 0, "sym").map(|s| s.mtim), Ok(t1));
    check("target times untouched", stat(a, FOLLOW, "f.txt").map(|s| s.atim), Ok(t1));
    check("symlink loop", symlink("loop", a, "loop"), OK);
    check("path_open symlink loop", errno(open(a, "loop", 0, R_FD_READ)), LOOP);
    check("dangling symlink", symlink("nowhere", a, "dangling"), OK);
    check("path_open dangling", errno(open(a, "dangling", 0, R_FD_READ)), NOENT);
    check("path_open creat through dangling", open(a, "dangling", CREAT, R_FD_READ).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    check("dangling now resolves", stat(a, FOLLOW, "nowhere").map(|s| s.filetype), Ok(FILE_TYPE));
    check("creat|excl on a symlink", errno(open(a, "sym", CREAT | EXCL, R_FD_READ)), EXIST);

    // ---- links and renames ----
    check("path_link", link(a, 0, "f.txt", a, "hard"), OK);
    check("nlink after link", stat(a, FOLLOW, "f.txt").map(|s| s.nlink), Ok(2));
    check("path_link exists", link(a, 0, "f.txt", a, "hard"), EXIST);
    check("path_link missing", link(a, 0, "missing", a, "x"), NOENT);
    check("path_link bad flags", link(a, 4, "f.txt", a, "x"), INVAL);
    check("path_link follow", link(a, FOLLOW, "sym", a, "via_sym"), OK);
    check("path_link follow links the target", stat(a, 0, "via_sym").map(|s| s.filetype), Ok(FILE_TYPE));
    check("path_link nofollow links the symlink", link(a, 0, "sym", a, "sym2"), OK);
    check("sym2 is a symlink", stat(a, 0, "sym2").map(|s| s.filetype), Ok(LINK_TYPE));
    check("path_link across preopens", link(a, 0, "f.txt", b, "hard_b"), OK);
    check("path_rename", rename(a, "hard", a, "hard2"), OK);
    check("renamed away", errno(stat(a, 0, "hard")), NOENT);
    check("path_rename across preopens", rename(a, "hard2", b, "moved"), OK);
    check("moved to b", stat(b, 0, "moved").map(|s| s.filetype), Ok(FILE_TYPE));
    check("path_rename missing", rename(a, "missing", a, "x"), NOENT);
    check("mkdir d1", mkdir(a, "d1"), OK);
    check("path_link dir", link(a, 0, "d1", a, "dirlink"), PERM);
    check("mkdir d2/x", mkdir(a, "d2").max(mkdir(a, "d2/x")), OK);
    check("path_rename onto non-empty dir", rename(a, "d1", a, "d2"), NOTEMPTY);
    check("path_rename file onto dir", rename(a, "f.txt", a, "d1"), ISDIR);
    check("path_rename dir onto file", rename(a, "d1", a, "created"), NOTDIR);
    check("path_rename dir into itself", rename(a, "d2", a, "d2/x/y"), INVAL);
    check("path_rename bad new fd", rename(a, "d1", 99, "x"), BADF);
    // Trailing slashes name directories.
    check("mkdir trailing slash", mkdir(a, "d3/"), OK);
    check("rename dir with slashes", rename(a, "d3/", a, "d4/"), OK);
    check("rename file with slash", rename(a, "created/", a, "c2"), NOTDIR);
    check("rename file to slash", rename(a, "created", a, "c2/"), NOTDIR);
    check("stat dir with slash", stat(a, FOLLOW, "d4/").map(|s| s.filetype), Ok(DIR_TYPE));
    check("stat file with slash", errno(stat(a, FOLLOW, "created/")), NOTDIR);
    check("creat with slash", errno(open(a, "newfile/", CREAT, R_FD_READ)), ISDIR);
    check("rmdir trailing slash", rmdir(a, "d4/"), OK);
    check("rmdir dot", rmdir(a, "d1/."), INVAL);
    check("path_rename to stdout", rename(a, "d1", 1, "x"), NOTDIR);

    // ---- readdir ----
    let listing = names(a);
    check("fd_readdir lists the preopen", listing, {
        let mut v: Vec<String> = [".", "..", "created", "d1", "d2", "dangling", "f.txt", "loop", "nowhere", "sym", "sym2", "via_sym"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.sort();
        v
    });
    // Twenty descriptors read in turn, a little at a time: more than the host keeps
    // snapshots for, and each still sees every entry once.
    let dirs: Vec<u32> = (0..20).filter_map(|_| open(a, ".", DIRECTORY, R_FD_READDIR).ok()).collect();
    let mut state: Vec<(u64, Vec<String>, bool)> = vec![(0, Vec::new(), false); dirs.len()];
    let mut rounds = 0;
    while state.iter().any(|s| !s.2) && rounds < 10_000 {
        rounds += 1;
        for (fd, st) in dirs.iter().zip(state.iter_mut()).filter(|(_, s)| !s.2) {
            let mut buf = [0u8; 64];
            let mut used = 0;
            if unsafe { fd_readdir(*fd, buf.as_mut_ptr(), 64, st.0, &mut used) } != OK {
                st.2 = true;
                continue;
            }
            let mut pos = 0;
            while pos + 24 <= used {
                let namlen = u32::from_le_bytes(buf[pos + 16..pos + 20].try_into().unwrap()) as usize;
                if pos + 24 + namlen > used {
                    break;
                }
                st.0 = u64::from_le_bytes(buf[pos..pos + 8].try_into().unwrap());
                st.1.push(String::from_utf8_lossy(&buf[pos + 24..pos + 24 + namlen]).into_owned());
                pos += 24 + namlen;
            }
            st.2 = used < 64;
        }
    }
    check("twenty interleaved readers", dirs.len(), 20);
    let whole = names(a);
    for (i, st) in state.iter_mut().enumerate() {
        st.1.sort();
        check(&format!("interleaved reader {i}"), &st.1, &whole);
    }
    for fd in dirs {
        unsafe { fd_close(fd) };
    }
    // From the cookie of the last entry (cookies are the host's positions, opaque to
    // the guest), there is nothing more.
    let mut big = vec![0u8; 16384];
    check("fd_readdir of everything", unsafe { fd_readdir(a, big.as_mut_ptr(), 16384, 0, &mut used) }, OK);
    let (mut pos, mut last) = (0, 0u64);
    while pos + 24 <= used {
        last = u64::from_le_bytes(big[pos..pos + 8].try_into().unwrap());
        pos += 24 + u32::from_le_bytes(big[pos + 16..pos + 20].try_into().unwrap()) as usize;
    }
    check("fd_readdir from the last cookie", unsafe { fd_readdir(a, buf.as_mut_ptr(), 256, last, &mut used) }, OK);
    check("nothing past the end", used, 0);

    // ---- the descriptor table is bounded ----
    let mut opened = Vec::new();
    let last = loop {
        match open(a, ".", DIRECTORY, R_FD_READDIR) {
            Ok(fd) => opened.push(fd),
            Err(e) => break e,
        }
        if opened.len() > 20_000 {
            break 0;
        }
    };
    check("descriptor table full", last, MFILE);
    check("table holds at most 16384", opened.len() < 16384, true);
    for fd in opened {
        unsafe { fd_close(fd) };
    }
    check("open after closing", open(a, ".", DIRECTORY, R_FD_READDIR).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    let _ = R_FD_DATASYNC;
    open_combinations(a);
}

/// `path_open` with every oflag and fdflag combination, four rights sets and four kinds
/// of target, each against a model of what POSIX programs expect.
fn open_combinations(a: u32) {
    check("combo dir", mkdir(a, "combo"), OK);
    let c = open(a, "combo", DIRECTORY, DIR_BASE).unwrap_or(u32::MAX);
    check("combo dir file", open(c, "file", CREAT, R_FD_WRITE).and_then(|fd| write(fd, b"xyz")), Ok(3));
    check("combo dir subdir", mkdir(c, "dir"), OK);
    check("combo dir link", symlink("file", c, "link"), OK);
    let extra = R_FD_SEEK | R_FD_TELL | R_FD_FILESTAT_GET;
    let (mut wrong, mut total, mut n) = (0, 0, 0);
    for kind in ["file", "link", "dir", "missing"] {
        for oflags in 0..16u32 {
            for fdflags in 0..32u32 {
                for rights in [0, R_FD_READ, R_FD_WRITE, R_FD_READ | R_FD_WRITE] {
                    let (creat, directory, excl, trunc) = (oflags & CREAT != 0, oflags & DIRECTORY != 0, oflags & EXCL != 0, oflags & TRUNC != 0);
                    let append = fdflags & APPEND != 0;
                    let name = if kind == "missing" { n += 1; format!("m{n}") } else { kind.to_string() };
                    let want = if directory && (creat || trunc) {
                        INVAL
                    } else if kind == "missing" {
                        if creat { OK } else { NOENT }
                    } else if creat && excl {
                        EXIST
                    } else if directory {
                        // A directory is never opened for writing (POSIX's EISDIR).
                        if kind != "dir" { NOTDIR } else if rights & R_FD_WRITE != 0 { ISDIR } else { OK }
                    } else if kind == "dir" {
                        // `append` alone opens it, as POSIX's O_RDONLY|O_APPEND does.
                        if rights & R_FD_WRITE != 0 || creat || trunc { ISDIR } else { OK }
                    } else {
                        OK
                    };
                    let got = open_with(c, FOLLOW, name.as_bytes(), oflags, rights | extra, fdflags);
                    total += 1;
                    let mut fine = errno(got) == want;
                    if let Ok(fd) = got {
                        let st = fdstat(fd).unwrap_or_default();
                        let granted_write = st.2 & R_FD_WRITE != 0;
                        fine &= st.2 & !(rights | extra) == 0;
                        fine &= kind == "dir" || granted_write == (rights & R_FD_WRITE != 0);
                        fine &= kind == "dir" || (st.1 & APPEND as u16 != 0) == append;
                        if trunc {
                            fine &= fstat(fd).map(|s| s.size) == Ok(0);
                            let _ = open(c, "file", 0, R_FD_WRITE).and_then(|w| write(w, b"xyz").map(|_| unsafe { fd_close(w) }));
                        } else if kind != "dir" && kind != "missing" {
                            fine &= fstat(fd).map(|s| s.size) == Ok(3);
                        }
                        unsafe { fd_close(fd) };
                    }
                    if !fine {
                        wrong += 1;
                        if wrong <= 10 {
                            println!("FAIL open {kind} oflags {oflags} fdflags {fdflags} rights {rights}: got {got:?}, want errno {want}");
                        }
                    }
                }
            }
        }
    }
    check("open combinations tried", total, 4 * 16 * 32 * 4);
    // Without symlink_follow, a symlink as the last component is `loop`.
    let mut wrong_nofollow = 0;
    for oflags in 0..16u32 {
        for fdflags in [0, APPEND, NONBLOCK, SYNC] {
            let (creat, directory, excl, trunc) = (oflags & CREAT != 0, oflags & DIRECTORY != 0, oflags & EXCL != 0, oflags & TRUNC != 0);
            let want = if directory && (creat || trunc) {
                INVAL
            } else if creat && excl {
                EXIST
            } else if directory {
                NOTDIR
            } else {
                LOOP
            };
            let got = open_with(c, 0, b"link", oflags, R_FD_READ, fdflags);
            if errno(got) != want {
                wrong_nofollow += 1;
                println!("FAIL open link nofollow oflags {oflags} fdflags {fdflags}: got {got:?}, want errno {want}");
            }
        }
    }
    check("nofollow combinations matching the model", wrong_nofollow, 0);
    check("open combinations matching the model", wrong, 0);
    unsafe { fd_close(c) };
}

/// Preopen 3 = the sandbox (see tests/fs.rs for its symlinks); `../outside` holds
/// `secret`. Nothing here may reach it.
fn escape() {
    let s = 3;
    let cases: &[(&str, u16)] = &[
        ("../outside/secret", NOTCAPABLE),
        ("../../../../../../etc/passwd", NOTCAPABLE),
        ("sub/../../outside/secret", NOTCAPABLE),
        ("sub/../sub/../../outside/secret", NOTCAPABLE),
        ("/etc/passwd", NOTCAPABLE),
        ("link_abs", NOTCAPABLE),
        ("link_up", NOTCAPABLE),
        ("link_updir/secret", NOTCAPABLE),
        ("sub/deep_up/secret", NOTCAPABLE),
        ("link_updir/", NOTCAPABLE),
        ("..", NOTCAPABLE),
        ("../", NOTCAPABLE),
        ("./..", NOTCAPABLE),
        ("sub/../..", NOTCAPABLE),
        ("loop1", LOOP),
        ("loop1/x", LOOP),
        ("file.txt/", NOTDIR),
        ("file.txt/.", NOTDIR),
        ("file.txt/..", NOTDIR),
        ("...", NOENT),
    ];
    for (path, want) in cases {
        check(&format!("open {path:?}"), errno(open(s, path, 0, R_FD_READ)), *want);
    }
    let host_abs = std::env::args().nth(2).unwrap_or_default();
    check("open absolute host path", errno(open(s, &host_abs, 0, R_FD_READ)), NOTCAPABLE);
    let inside: &[&str] = &[".", "./", "sub/..", "./sub/./..", "sub/", "sub/.", "link_in", "sub/link_file"];
    for path in inside {
        check(&format!("open inside {path:?}"), open(s, path, 0, R_FD_READ).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    }
    let creating: &[&str] = &["../outside/new", "link_updir/new", "sub/deep_up/new", "/tmp/lucet-escape-new", "link_dangling_out"];
    for path in creating {
        check(&format!("create {path:?}"), errno(open(s, path, CREAT, R_FD_READ | R_FD_WRITE)), NOTCAPABLE);
        // `creat|excl` never follows the last symlink: one that exists is `exist`.
        let want = if *path == "link_dangling_out" { EXIST } else { NOTCAPABLE };
        check(&format!("create excl {path:?}"), errno(open(s, path, CREAT | EXCL, R_FD_WRITE)), want);
    }
    check("trunc outside", errno(open(s, "../outside/secret", TRUNC, R_FD_WRITE)), NOTCAPABLE);
    check("trunc through symlink", errno(open(s, "link_up", TRUNC, R_FD_WRITE)), NOTCAPABLE);
    check("write through symlink", errno(open(s, "link_up", 0, R_FD_WRITE)), NOTCAPABLE);
    check("mkdir outside", mkdir(s, "../outside/newdir"), NOTCAPABLE);
    check("mkdir through symlink", mkdir(s, "link_updir/newdir"), NOTCAPABLE);
    check("mkdir absolute", mkdir(s, "/tmp/lucet-escape-dir"), NOTCAPABLE);
    check("rename to outside", rename(s, "file.txt", s, "../outside/moved"), NOTCAPABLE);
    check("rename from outside", rename(s, "../outside/secret", s, "stolen"), NOTCAPABLE);
    check("rename through symlink dir", rename(s, "link_updir/secret", s, "stolen"), NOTCAPABLE);
    check("rename onto outside file", rename(s, "file.txt", s, "link_updir/secret"), NOTCAPABLE);
    check("link to outside", link(s, 0, "file.txt", s, "../outside/hard"), NOTCAPABLE);
    check("link from outside", link(s, 0, "../outside/secret", s, "hard"), NOTCAPABLE);
    check("link following an escaping symlink", link(s, FOLLOW, "link_up", s, "hard"), NOTCAPABLE);
    check("symlink placed outside", symlink("file.txt", s, "../outside/sym"), NOTCAPABLE);
    check("symlink with absolute contents", symlink("/etc/passwd", s, "abs"), NOTCAPABLE);
    check("unlink outside", unlink(s, "../outside/secret"), NOTCAPABLE);
    check("unlink through symlink dir", unlink(s, "link_updir/secret"), NOTCAPABLE);
    check("rmdir outside", rmdir(s, "../outside"), NOTCAPABLE);
    check("rmdir ..", rmdir(s, ".."), NOTCAPABLE);
    check("stat outside", errno(stat(s, FOLLOW, "../outside/secret")), NOTCAPABLE);
    check("stat escaping symlink follow", errno(stat(s, FOLLOW, "link_up")), NOTCAPABLE);
    check("stat escaping symlink nofollow", stat(s, 0, "link_up").map(|s| s.filetype), Ok(LINK_TYPE));
    check("set_times outside", set_times(s, FOLLOW, "../outside/secret", 1, 1, 1 | 4), NOTCAPABLE);
    check("set_times through symlink", set_times(s, FOLLOW, "link_up", 1, 1, 1 | 4), NOTCAPABLE);
    check("readlink absolute", errno(readlink(s, "link_abs", 100)), NOTCAPABLE);
    check("readlink outside", errno(readlink(s, "../outside/x", 100)), NOTCAPABLE);
    check("readlink climbing is only text", readlink(s, "link_up", 100), Ok(b"../outside/secret".to_vec()));
    let dir = open(s, "sub", DIRECTORY, DIR_BASE).unwrap_or(u32::MAX);
    check("subdir cannot climb", errno(open(dir, "../../outside/secret", 0, R_FD_READ)), NOTCAPABLE);
    check("subdir cannot reach parent", errno(open(dir, "..", 0, R_FD_READ)), NOTCAPABLE);
    unsafe { fd_close(dir) };
}

/// Preopens: 3 = /ro (read-only: `file.txt`, `sub/inner.txt`, symlink `link`), 4 = /rw.
fn readonly() {
    let (ro, rw) = (3, 4);
    let (_, _, base, inheriting) = fdstat(ro).unwrap_or_default();
    check("ro preopen has no write rights", (base | inheriting) & R_FD_WRITE, 0);
    check("read works", open(ro, "file.txt", 0, R_FD_READ).and_then(|fd| read(fd, 100)), Ok(b"original".to_vec()));
    check("readdir works", names(ro), vec![".".to_string(), "..".into(), "file.txt".into(), "link".into(), "sub".into()]);
    check("stat works", stat(ro, FOLLOW, "sub/inner.txt").map(|s| s.size), Ok(5));
    check("readlink works", readlink(ro, "link", 100), Ok(b"file.txt".to_vec()));
    // Opening for reading with every right asked for works, without the write ones.
    let f = open(ro, "file.txt", 0, R_FD_READ | R_FD_SEEK | (1 << 21) | (1 << 23) | (1 << 7) | (1 << 4));
    check("open for reading asking for more", f.is_ok(), true);
    let f = f.unwrap_or(u32::MAX);
    check("no write right on the file", fdstat(f).map(|s| s.2 & R_FD_WRITE), Ok(0));
    check("fd_write refused", errno(write(f, b"x")), NOTCAPABLE);
    check("fd_pwrite refused", unsafe {
        let iov = Iov { buf: b"x".as_ptr(), len: 1 };
        let mut n = 0;
        fd_pwrite(f, &iov, 1, 0, &mut n)
    }, NOTCAPABLE);
    check("fd_filestat_set_size refused", unsafe { fd_filestat_set_size(f, 0) }, NOTCAPABLE);
    check("fd_filestat_set_times refused", unsafe { fd_filestat_set_times(f, 1, 1, 1 | 4) }, NOTCAPABLE);
    check("fd_allocate refused", unsafe { fd_allocate(f, 0, 100) }, NOTCAPABLE);
    check("fd_datasync refused", unsafe { fd_datasync(f) }, NOTCAPABLE);
    check("fd_fdstat_set_rights cannot add write", unsafe { fd_fdstat_set_rights(f, ALL, ALL) }, NOTCAPABLE);
    unsafe { fd_close(f) };
    check("fd_filestat_set_times on the dir", unsafe { fd_filestat_set_times(ro, 1, 1, 1 | 4) }, NOTCAPABLE);
    check("open for writing", errno(open(ro, "file.txt", 0, R_FD_WRITE)), NOTCAPABLE);
    check("open for append", errno(open_with(ro, FOLLOW, b"file.txt", 0, R_FD_READ, APPEND)), NOTCAPABLE);
    check("open trunc", errno(open(ro, "file.txt", TRUNC, R_FD_READ)), NOTCAPABLE);
    check("open creat existing", errno(open(ro, "file.txt", CREAT, R_FD_READ)), NOTCAPABLE);
    check("open creat new", errno(open(ro, "new", CREAT, R_FD_READ)), NOTCAPABLE);
    check("open creat|excl", errno(open(ro, "new", CREAT | EXCL, R_FD_READ)), NOTCAPABLE);
    check("mkdir", mkdir(ro, "newdir"), NOTCAPABLE);
    check("rmdir", rmdir(ro, "sub"), NOTCAPABLE);
    check("unlink", unlink(ro, "file.txt"), NOTCAPABLE);
    check("unlink symlink", unlink(ro, "link"), NOTCAPABLE);
    check("rename inside", rename(ro, "file.txt", ro, "renamed"), NOTCAPABLE);
    check("rename out of ro", rename(ro, "file.txt", rw, "stolen"), NOTCAPABLE);
    check("rename into ro", {
        let fd = open(rw, "mine", CREAT, R_FD_READ).map(|fd| unsafe { fd_close(fd) });
        check("create in rw", fd, Ok(OK));
        rename(rw, "mine", ro, "mine")
    }, NOTCAPABLE);
    check("link inside", link(ro, 0, "file.txt", ro, "hard"), NOTCAPABLE);
    check("link out of ro", link(ro, 0, "file.txt", rw, "hard"), NOTCAPABLE);
    check("link into ro", link(rw, 0, "mine", ro, "hard"), NOTCAPABLE);
    check("symlink", symlink("file.txt", ro, "sym"), NOTCAPABLE);
    check("set_times", set_times(ro, FOLLOW, "file.txt", 1, 1, 1 | 4), NOTCAPABLE);
    check("set_times now", set_times(ro, FOLLOW, "file.txt", 0, 0, 2 | 8), NOTCAPABLE);
    check("set_times symlink", set_times(ro, 0, "link", 1, 1, 1 | 4), NOTCAPABLE);
    // A directory opened below the read-only preopen is read-only too.
    check("subdir asking to write", errno(open(ro, "sub", DIRECTORY, ALL)), NOTCAPABLE);
    let sub = open(ro, "sub", DIRECTORY, DIR_BASE).unwrap_or(u32::MAX);
    check("subdir rights have no write", fdstat(sub).map(|s| (s.2 | s.3) & R_FD_WRITE), Ok(0));
    check("subdir mkdir", mkdir(sub, "x"), NOTCAPABLE);
    check("subdir create", errno(open(sub, "x", CREAT, R_FD_READ)), NOTCAPABLE);
    check("subdir write", errno(open(sub, "inner.txt", 0, R_FD_WRITE)), NOTCAPABLE);
    check("subdir unlink", unlink(sub, "inner.txt"), NOTCAPABLE);
    check("subdir read", open(sub, "inner.txt", 0, R_FD_READ).and_then(|fd| read(fd, 100)), Ok(b"inner".to_vec()));
    unsafe { fd_close(sub) };
}

/// `(name, inode)` of every entry of a small directory, read in one call.
fn entries(fd: u32) -> Result<Vec<(String, u64)>, u16> {
    let mut buf = vec![0u8; 1 << 16];
    let mut used = 0;
    let e = unsafe { fd_readdir(fd, buf.as_mut_ptr(), buf.len(), 0, &mut used) };
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 24 <= used {
        let ino = u64::from_le_bytes(buf[pos + 8..pos + 16].try_into().unwrap());
        let namlen = u32::from_le_bytes(buf[pos + 16..pos + 20].try_into().unwrap()) as usize;
        out.push((String::from_utf8_lossy(&buf[pos + 24..pos + 24 + namlen]).into_owned(), ino));
        pos += 24 + namlen;
    }
    res(e, out)
}

/// Preopen 3 holds the tree of `fs_dirs.c`. Lists the preopen and directories opened
/// below it by several paths (some of them the preopen again), printing `ino DIR NAME N`
/// for the test to compare with the host; no entry may show inode 0.
fn inodes() {
    let mut dirs = vec![(".".to_string(), Ok(3))];
    for path in [".", "d1", "d1/d2", "d1/d2/..", "d1/.."] {
        dirs.push((format!("{path} (opened)"), open(3, path, DIRECTORY, DIR_BASE)));
    }
    for (path, fd) in dirs {
        let Ok(fd) = fd else {
            check(&format!("open {path}"), fd, Ok(0));
            continue;
        };
        let listed = entries(fd).unwrap_or_default();
        check(&format!("{path} listed"), listed.len() >= 4, true);
        for (name, ino) in listed {
            check(&format!("{path} {name} inode is not 0"), ino != 0, true);
            println!("ino {} {name} {ino}", path.trim_end_matches(" (opened)"));
        }
    }
}

/// Preopen 3 holds `dir/` and `file`: a directory is never opened for writing.
fn isdir() {
    let p = 3;
    // Each right that needs write access, alone, on a directory: `isdir` with
    // `directory` and without, on the preopen itself and below it.
    for (name, right) in [("write", R_FD_WRITE), ("datasync", R_FD_DATASYNC), ("allocate", R_FD_ALLOCATE), ("set_size", R_FD_FILESTAT_SET_SIZE)] {
        for path in [".", "dir", "dir/", "dir/."] {
            for (how, oflags) in [("directory", DIRECTORY), ("plain", 0)] {
                check(&format!("{how} open of {path:?} with {name}"), errno(open(p, path, oflags, R_FD_READ | right)), ISDIR);
            }
        }
    }
    check("directory open with every right", errno(open(p, ".", DIRECTORY, ALL)), ISDIR);
    check("creat of an existing dir", errno(open(p, "dir", CREAT, R_FD_READ)), ISDIR);
    check("trunc of a dir", errno(open(p, "dir", TRUNC, R_FD_READ)), ISDIR);
    // Reading rights (and `append` alone, as O_RDONLY|O_APPEND) open it.
    for (how, oflags, fdflags) in [("directory", DIRECTORY, 0), ("plain", 0, 0), ("append", 0, APPEND), ("directory append", DIRECTORY, APPEND)] {
        let fd = open_with(p, FOLLOW, b"dir", oflags, DIR_BASE, fdflags);
        check(&format!("{how} open of a dir for reading"), fd.and_then(fdstat).map(|s| (s.0, s.2 & WRITE_ACCESS)), Ok((DIR_TYPE, 0)));
        fd.map(|fd| unsafe { fd_close(fd) }).ok();
    }
    check("write to a file still works", open(p, "file", 0, R_FD_WRITE).map(|fd| unsafe { fd_close(fd) }), Ok(OK));
    check("missing dir with write", errno(open(p, "nodir", DIRECTORY, R_FD_WRITE)), NOENT);
    check("file as dir with write", errno(open(p, "file", DIRECTORY, R_FD_WRITE)), NOTDIR);
}

/// Preopen 3 holds `file` and `fifo`, a FIFO nobody else opens: every way of opening it
/// is refused at once with `nxio`, instead of waiting for its other end.
fn fifo() {
    let p = 3;
    check("stat of a fifo", stat(p, FOLLOW, "fifo").map(|s| s.filetype), Ok(0));
    for (name, oflags, rights, fdflags) in [
        ("read", 0, R_FD_READ, 0),
        ("write", 0, R_FD_WRITE, 0),
        ("read+write", 0, R_FD_READ | R_FD_WRITE, 0),
        ("read nonblock", 0, R_FD_READ, NONBLOCK),
        ("write nonblock", 0, R_FD_WRITE, NONBLOCK),
        ("append", 0, R_FD_WRITE, APPEND),
        ("creat", CREAT, R_FD_READ, 0),
        ("trunc", TRUNC, R_FD_WRITE, 0),
        ("sync", 0, R_FD_WRITE, SYNC),
    ] {
        for follow in [FOLLOW, 0] {
            check(&format!("fifo open {name} follow={follow}"), errno(open_with(p, follow, b"fifo", oflags, rights, fdflags)), NXIO);
        }
    }
    check("fifo through a symlink", errno(open(p, "fifo_link", 0, R_FD_READ)), NXIO);
    check("fifo creat|excl", errno(open(p, "fifo", CREAT | EXCL, R_FD_READ)), EXIST);
    check("fifo as a directory", errno(open(p, "fifo", DIRECTORY, R_FD_READ)), NOTDIR);
    check("fifo listed", names(p), vec![".".to_string(), "..".into(), "fifo".into(), "fifo_link".into(), "file".into()]);
    // Refusing leaves nothing open, and files still open as before.
    let next = open(p, "file", 0, R_FD_READ);
    check("next descriptor", next, Ok(4));
    check("file still blocking", next.and_then(fdstat).map(|s| s.1), Ok(0));
    next.map(|fd| unsafe { fd_close(fd) }).ok();
    let nb = open_with(p, FOLLOW, b"file", 0, R_FD_READ, NONBLOCK);
    check("nonblock asked for is kept", nb.and_then(fdstat).map(|s| s.1), Ok(NONBLOCK as u16));
    nb.map(|fd| unsafe { fd_close(fd) }).ok();
}

/// Preopen 3 holds `f00000` .. `f09999`: every buffer size lists each exactly once.
fn readdir() {
    let sizes = [1usize, 2, 23, 24, 25, 29, 30, 31, 32, 33, 47, 48, 64, 100, 255, 256, 1000, 4095, 4096, 65536];
    for size in sizes {
        match list(3, size) {
            Ok(names) => {
                let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
                for n in &names {
                    *seen.entry(n.clone()).or_default() += 1;
                }
                let dup = seen.values().filter(|&&c| c > 1).count();
                let expected = (0..10_000).map(|i| format!("f{i:05}").into_bytes()).chain([b".".to_vec(), b"..".to_vec()]);
                let missing = expected.filter(|n| !seen.contains_key(n)).count();
                check(&format!("readdir with {size}-byte buffer"), (names.len(), dup, missing), (10_002, 0, 0));
            }
            Err(e) => check(&format!("readdir with {size}-byte buffer"), e, OK),
        }
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Drives every filesystem call with random arguments below preopen 3. Every pointer
/// stays inside linear memory (a bad one traps, by preview1's rules: tests/bad_pointers.rs
/// checks that); buffers the host writes into lie inside `scratch`, so the guest never
/// corrupts itself; buffers the host reads from may be anywhere in memory. Lengths past
/// PATH_MAX and iovec counts past IOV_MAX are refused before anything is read. Prints a
/// count per errno.
fn fuzz() {
    let rounds: u32 = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(5000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut scratch = vec![0u8; 1 << 16];
    let base = scratch.as_mut_ptr() as u32;
    let mem_end = (core::arch::wasm32::memory_size(0) * 65536) as u32;
    let paths: &[&[u8]] = &[
        b"f", b"d", b"d/f", b"d/", b"..", b"../outside/secret", b"/etc/passwd", b"link_up", b"link_updir/x",
        b"", b".", b"./f/", b"f\xff", b"loop", b"a/b/c/d", b"d/../f", b"f\0x", b"../outside", b"sym",
    ];
    let long = vec![b'x'; 5000];
    let mut counts: HashMap<u16, u32> = HashMap::new();
    // Descriptors 4..=7: a file, a directory, the preopen again, the file read-only.
    mkdir(3, "d");
    let _ = (open(3, "f", CREAT, ALL), open(3, "d", DIRECTORY, DIR_BASE), open(3, ".", 0, R_FD_READ | R_FD_READDIR), open(3, "f", 0, R_FD_READ));
    for _ in 0..rounds {
        // Descriptors: the preopen, what earlier rounds opened, stdio, and garbage.
        let fd = rng.pick(&[3u32, 3, 3, 3, 3, 4, 4, 5, 5, 6, 7, 2, 1234, u32::MAX, 1 << 31]);
        let fd2 = rng.pick(&[3u32, 4, 5, 6, 1234]);
        // Input buffers may be anywhere in memory; output buffers in scratch (or empty).
        let in_ptr = match rng.below(4) {
            0 => base + rng.below(1 << 16) as u32,
            1 => rng.below(mem_end as u64) as u32,
            2 => mem_end - 1 - rng.below(64) as u32,
            _ => 0,
        };
        let r = rng.next();
        let in_len = rng.pick(&[0u32, 1, 7, 100, 4096, 70_000, u32::MAX, r as u32]);
        let in_len = if in_len > 4096 { in_len } else { in_len.min(mem_end - in_ptr) };
        let (out_ptr, out_len) = if rng.below(3) == 0 {
            (base + rng.below(1 << 16) as u32, 0)
        } else {
            let off = rng.below(1 << 15) as u32;
            (base + off, rng.below((1 << 16) - off as u64) as u32)
        };
        // An iovec array in scratch whose buffers lie in scratch too (or are empty).
        let n_iov = rng.pick(&[0u32, 1, 2, 5, 16, 17, 1024, 1025, u32::MAX]);
        for i in 0..16usize {
            let (p, l) = if rng.below(4) == 0 {
                (base + rng.below(1 << 16) as u32, 0)
            } else {
                let off = 32_768 + rng.below(16_384) as u32;
                (base + off, rng.below(16_384) as u32)
            };
            scratch[i * 8..i * 8 + 4].copy_from_slice(&p.to_le_bytes());
            scratch[i * 8 + 4..i * 8 + 8].copy_from_slice(&l.to_le_bytes());
        }
        let iovs = base as *const Iov;
        let n_iov = if n_iov <= 16 { n_iov } else { n_iov.min(if rng.below(2) == 0 { 16 } else { n_iov }) };
        let n_iov = if n_iov > 16 && n_iov < 1025 { 16 } else { n_iov };
        let path: &[u8] = if rng.below(20) == 0 { &long } else { rng.pick(paths) };
        let (pp, pl) = if rng.below(10) == 0 { (in_ptr as *const u8, in_len as usize) } else { (path.as_ptr(), path.len()) };
        let flags32 = rng.pick(&[0u32, 1, 2, 3, 4, 8, 15, 16, 31, 0x100, u32::MAX, r as u32 >> 3]);
        let big = rng.pick(&[0u64, 1, 100, 1 << 20, i64::MAX as u64, u64::MAX, r.rotate_left(7)]);
        let rights = rng.pick(&[ALL, 0, R_FD_READ, R_FD_WRITE, 1 << 40, u64::MAX, r.rotate_left(13)]);
        let (mut o32, mut osize, mut o64) = (0u32, 0usize, 0u64);
        let mut stat = [0u8; 64];
        // Closing is rare, so that most rounds find descriptors 4..=7 open.
        let closing = rng.below(16) == 0;
        let e = unsafe {
            match rng.below(34) {
                0 => fd_advise(fd, big, big, flags32),
                1 => fd_allocate(fd, big, big >> rng.below(64)),
                2 if fd > 3 && closing => fd_close(fd),
                3 => fd_datasync(fd),
                4 => fd_fdstat_get(fd, stat.as_mut_ptr()),
                5 => fd_fdstat_set_flags(fd, flags32),
                6 => fd_fdstat_set_rights(fd, rights, rights),
                7 => fd_filestat_get(fd, stat.as_mut_ptr()),
                8 => fd_filestat_set_size(fd, big >> rng.below(64)),
                9 => fd_filestat_set_times(fd, big, big, flags32),
                10 => fd_pread(fd, iovs, n_iov as usize, big, &mut osize),
                11 => fd_pwrite(fd, iovs, n_iov as usize, big >> rng.below(64), &mut osize),
                12 if fd != 2 => fd_read(fd, iovs, n_iov as usize, &mut osize),
                13 => fd_readdir(fd, out_ptr as *mut u8, out_len as usize, big, &mut osize),
                14 if fd > 3 && fd2 > 3 && closing => fd_renumber(fd, fd2),
                15 => fd_seek(fd, big as i64, flags32, &mut o64),
                16 => fd_sync(fd),
                17 => fd_tell(fd, &mut o64),
                18 if fd > 2 => fd_write(fd, iovs, n_iov as usize, &mut osize),
                19 => path_create_directory(fd, pp, pl),
                20 => path_filestat_get(fd, flags32, pp, pl, stat.as_mut_ptr()),
                21 => path_filestat_set_times(fd, flags32 & 1, pp, pl, big, big, flags32 >> 1),
                22 => path_link(fd, flags32, pp, pl, fd2, path.as_ptr(), path.len()),
                23 | 24 => path_open(fd, flags32 & 3, pp, pl, flags32 >> rng.below(4), rights, rights, flags32 >> rng.below(5), &mut o32),
                25 => path_readlink(fd, pp, pl, out_ptr as *mut u8, out_len as usize, &mut osize),
                26 => path_remove_directory(fd, pp, pl),
                27 => path_rename(fd, pp, pl, fd2, path.as_ptr(), path.len()),
                28 => path_symlink(path.as_ptr(), path.len(), fd, pp, pl),
                29 => path_unlink_file(fd, pp, pl),
                _ => path_open(3, 1, path.as_ptr(), path.len(), rng.pick(&[0, 1, 2, 5, 9]), ALL, ALL, 0, &mut o32),
            }
        };
        *counts.entry(e).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    println!("errnos {counts:?}");
    check("fuzz rounds finished", counts.iter().map(|c| c.1).sum::<u32>(), rounds);
}
