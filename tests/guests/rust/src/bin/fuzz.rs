//! Calls every preview1 function (but `proc_exit`) with random arguments: random
//! in-bounds pointers, random lengths and counts (up to huge ones the host refuses
//! before reading), bad descriptors, garbage flags and enums, odd paths, random
//! subscriptions. Every pointer stays inside guest memory and aligned: a bad one traps,
//! by preview1's rules (tests/cli.rs checks that separately). Usage:
//! `fuzz <seed> <calls>`; prints `survived <calls> calls` at the end.
#![allow(clippy::too_many_arguments)]

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn args_get(a: i32, b: i32) -> i32;
    fn args_sizes_get(a: i32, b: i32) -> i32;
    fn environ_get(a: i32, b: i32) -> i32;
    fn environ_sizes_get(a: i32, b: i32) -> i32;
    fn clock_res_get(a: i32, b: i32) -> i32;
    fn clock_time_get(a: i32, b: i64, c: i32) -> i32;
    fn fd_advise(a: i32, b: i64, c: i64, d: i32) -> i32;
    fn fd_allocate(a: i32, b: i64, c: i64) -> i32;
    fn fd_close(a: i32) -> i32;
    fn fd_datasync(a: i32) -> i32;
    fn fd_fdstat_get(a: i32, b: i32) -> i32;
    fn fd_fdstat_set_flags(a: i32, b: i32) -> i32;
    fn fd_fdstat_set_rights(a: i32, b: i64, c: i64) -> i32;
    fn fd_filestat_get(a: i32, b: i32) -> i32;
    fn fd_filestat_set_size(a: i32, b: i64) -> i32;
    fn fd_filestat_set_times(a: i32, b: i64, c: i64, d: i32) -> i32;
    fn fd_pread(a: i32, b: i32, c: i32, d: i64, e: i32) -> i32;
    fn fd_prestat_get(a: i32, b: i32) -> i32;
    fn fd_prestat_dir_name(a: i32, b: i32, c: i32) -> i32;
    fn fd_pwrite(a: i32, b: i32, c: i32, d: i64, e: i32) -> i32;
    fn fd_read(a: i32, b: i32, c: i32, d: i32) -> i32;
    fn fd_readdir(a: i32, b: i32, c: i32, d: i64, e: i32) -> i32;
    fn fd_renumber(a: i32, b: i32) -> i32;
    fn fd_seek(a: i32, b: i64, c: i32, d: i32) -> i32;
    fn fd_sync(a: i32) -> i32;
    fn fd_tell(a: i32, b: i32) -> i32;
    fn fd_write(a: i32, b: i32, c: i32, d: i32) -> i32;
    fn path_create_directory(a: i32, b: i32, c: i32) -> i32;
    fn path_filestat_get(a: i32, b: i32, c: i32, d: i32, e: i32) -> i32;
    fn path_filestat_set_times(a: i32, b: i32, c: i32, d: i32, e: i64, f: i64, g: i32) -> i32;
    fn path_link(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32, g: i32) -> i32;
    fn path_open(a: i32, b: i32, c: i32, d: i32, e: i32, f: i64, g: i64, h: i32, i: i32) -> i32;
    fn path_readlink(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32) -> i32;
    fn path_remove_directory(a: i32, b: i32, c: i32) -> i32;
    fn path_rename(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32) -> i32;
    fn path_symlink(a: i32, b: i32, c: i32, d: i32, e: i32) -> i32;
    fn path_unlink_file(a: i32, b: i32, c: i32) -> i32;
    fn poll_oneoff(a: i32, b: i32, c: i32, d: i32) -> i32;
    fn proc_raise(a: i32) -> i32;
    fn sched_yield() -> i32;
    fn random_get(a: i32, b: i32) -> i32;
    fn sock_accept(a: i32, b: i32, c: i32) -> i32;
    fn sock_recv(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32) -> i32;
    fn sock_send(a: i32, b: i32, c: i32, d: i32, e: i32) -> i32;
    fn sock_shutdown(a: i32, b: i32) -> i32;
}

const ARENA: usize = 1 << 16;
/// Inputs live in the first half: paths at [0, 4 KiB + 4 KiB), iovec arrays at
/// [8 KiB, 16 KiB) (which only ever holds iovecs with valid buffers), buffers the host
/// writes into at [16 KiB, 24 KiB), subscriptions from 24 KiB. Results live in the second
/// half, 8-aligned.
#[repr(align(8))]
struct Arena([u8; ARENA]);
static mut MEM: Arena = Arena([0; ARENA]);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn i32(&mut self) -> i32 {
        self.next() as i32
    }
    fn i64(&mut self) -> i64 {
        self.next() as i64
    }
}

fn base() -> i32 {
    std::ptr::addr_of!(MEM) as i32
}

/// A descriptor: usually a plausible one, sometimes anything.
fn fd(r: &mut Rng) -> i32 {
    match r.below(4) {
        0 => r.i32(),
        _ => r.below(12) as i32,
    }
}

/// An input pointer into the first half of the arena, aligned to `align`.
fn ptr(r: &mut Rng, align: u64) -> i32 {
    base() + (r.below(ARENA as u64 / 2 / align) * align) as i32
}

/// A length that keeps a byte range from [`ptr`] inside the arena: small or medium.
fn len(r: &mut Rng) -> i32 {
    match r.below(3) {
        0 => r.below(ARENA as u64 / 2) as i32,
        _ => r.below(64) as i32,
    }
}

/// A buffer the host writes into, inside the scratch region [16 KiB, 24 KiB) of the
/// arena (never over the guest's own live data): empty, the whole region, or a part.
fn wbuf(r: &mut Rng) -> (i32, i32) {
    match r.below(5) {
        0 => (base() + 16384 + r.below(8192) as i32, 0),
        1 => (base() + 16384, 8192),
        _ => {
            let off = r.below(8192) as i32;
            (base() + 16384 + off, r.below((8192 - off) as u64 + 1) as i32)
        }
    }
}

/// A result pointer: in bounds and aligned.
fn out(r: &mut Rng) -> i32 {
    base() + (ARENA / 2) as i32 + (r.below((ARENA / 2 - 128) as u64 / 8) * 8) as i32
}

/// Flags: valid-looking bits or garbage.
fn flags(r: &mut Rng) -> i32 {
    match r.below(3) {
        0 => r.i32(),
        _ => r.below(64) as i32,
    }
}

const PATHS: &[&[u8]] = &[
    b"a", b"a/b", b"..", b"../..", b"../outside", b"/etc/passwd", b"/", b".", b"./a/../a",
    b"dir/", b"dir/.", b"link", b"link/x", b"a\0b", b"\xff\xfe", b"", b"a//b", b"new", b"x/y/z",
];

/// Writes a path into the arena at a random offset; returns (ptr, len).
fn path(r: &mut Rng) -> (i32, i32) {
    match r.below(10) {
        // Random bytes; or a length past PATH_MAX, refused before the path is read.
        0 | 1 => return (ptr(r, 1), len(r)),
        2 => return (r.i32(), 4097 + r.below(1 << 30) as i32),
        _ => {}
    }
    let p = PATHS[r.below(PATHS.len() as u64) as usize];
    let off = r.below(4096) as usize;
    unsafe {
        let mem = &mut *std::ptr::addr_of_mut!(MEM);
        mem.0[off..off + p.len()].copy_from_slice(p);
    }
    (base() + off as i32, p.len() as i32)
}

/// Writes up to 4 iovecs whose buffers the host may write into; returns (ptr, count).
fn iovecs(r: &mut Rng) -> (i32, i32) {
    if r.below(6) == 0 {
        // Any stretch of the iovec region; or more iovecs than IOV_MAX (`inval`).
        let first = r.below(1024);
        let count = match r.below(4) {
            0 => 1025 + r.below(1 << 30),
            _ => r.below(1024 - first + 1),
        };
        return (base() + 8192 + first as i32 * 8, count as i32);
    }
    let n = r.below(5) as usize;
    let off = 8192 + r.below(512) as usize * 8;
    for i in 0..n {
        let (buf, l) = wbuf(r);
        unsafe {
            let mem = &mut *std::ptr::addr_of_mut!(MEM);
            mem.0[off + i * 8..off + i * 8 + 4].copy_from_slice(&buf.to_le_bytes());
            mem.0[off + i * 8 + 4..off + i * 8 + 8].copy_from_slice(&l.to_le_bytes());
        }
    }
    (base() + off as i32, n as i32)
}

/// Writes random subscriptions; clock ones wait at most a microsecond.
fn subscriptions(r: &mut Rng) -> (i32, i32) {
    if r.below(6) == 0 {
        return (ptr(r, 8), r.below(4) as i32);
    }
    let n = r.below(4) as usize;
    let off = 24576;
    unsafe {
        let mem = &mut *std::ptr::addr_of_mut!(MEM);
        for i in 0..n {
            let s = &mut mem.0[off + i * 48..off + (i + 1) * 48];
            for b in s.iter_mut() {
                *b = r.next() as u8;
            }
            s[8] = r.below(4) as u8; // tag: clock, fd_read, fd_write, or garbage
            if s[8] == 0 {
                s[24..32].copy_from_slice(&r.below(1000).to_le_bytes());
                s[16..20].copy_from_slice(&(r.below(5) as u32).to_le_bytes());
            } else {
                s[16..20].copy_from_slice(&(r.below(12) as u32).to_le_bytes());
            }
        }
    }
    (base() + off as i32, n as i32)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let calls: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let r = &mut Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for _ in 0..calls {
        unsafe {
            match r.below(44) {
                0 => args_get(out(r), out(r)).min(0),
                1 => args_sizes_get(out(r), out(r)),
                2 => environ_get(out(r), out(r)).min(0),
                3 => environ_sizes_get(out(r), out(r)),
                4 => clock_res_get(flags(r), out(r)),
                5 => clock_time_get(flags(r), r.i64(), out(r)),
                6 => fd_advise(fd(r), r.i64(), r.i64(), flags(r)),
                7 => fd_allocate(fd(r), r.i64() & 0xffff, r.i64() & 0xffff),
                // Keep stdio open: closing it would only make later calls duller.
                8 => fd_close(3 + r.below(12) as i32),
                9 => fd_datasync(fd(r)),
                10 => fd_fdstat_get(fd(r), out(r)),
                11 => fd_fdstat_set_flags(fd(r), flags(r)),
                12 => fd_fdstat_set_rights(fd(r), r.i64(), r.i64()),
                13 => fd_filestat_get(fd(r), out(r)),
                14 => fd_filestat_set_size(fd(r), r.i64() & 0xfffff),
                15 => fd_filestat_set_times(fd(r), r.i64(), r.i64(), flags(r)),
                16 => {
                    let (p, n) = iovecs(r);
                    fd_pread(fd(r), p, n, r.i64(), out(r))
                }
                17 => fd_prestat_get(fd(r), out(r)),
                18 => {
                    let (b, l) = wbuf(r);
                    fd_prestat_dir_name(fd(r), b, l)
                },
                19 => {
                    let (p, n) = iovecs(r);
                    fd_pwrite(fd(r), p, n, r.i64() & 0xffff, out(r))
                }
                20 => {
                    let (p, n) = iovecs(r);
                    fd_read(fd(r), p, n, out(r))
                }
                21 => {
                    let (b, l) = wbuf(r);
                    fd_readdir(fd(r), b, l, r.i64(), out(r))
                }
                22 => fd_renumber(fd(r), fd(r)),
                23 => fd_seek(fd(r), r.i64(), flags(r), out(r)),
                24 => fd_sync(fd(r)),
                25 => fd_tell(fd(r), out(r)),
                26 => {
                    let (p, n) = iovecs(r);
                    fd_write(fd(r), p, n, out(r))
                }
                27 => {
                    let (p, n) = path(r);
                    path_create_directory(fd(r), p, n)
                }
                28 => {
                    let (p, n) = path(r);
                    path_filestat_get(fd(r), flags(r), p, n, out(r))
                }
                29 => {
                    let (p, n) = path(r);
                    path_filestat_set_times(fd(r), flags(r), p, n, r.i64(), r.i64(), flags(r))
                }
                30 => {
                    let ((p, n), (q, m)) = (path(r), path(r));
                    path_link(fd(r), flags(r), p, n, fd(r), q, m)
                }
                31 => {
                    let (p, n) = path(r);
                    path_open(fd(r), flags(r), p, n, flags(r), r.i64(), r.i64(), flags(r), out(r))
                }
                32 => {
                    let ((p, n), (b, l)) = (path(r), wbuf(r));
                    path_readlink(fd(r), p, n, b, l, out(r))
                }
                33 => {
                    let (p, n) = path(r);
                    path_remove_directory(fd(r), p, n)
                }
                34 => {
                    let ((p, n), (q, m)) = (path(r), path(r));
                    path_rename(fd(r), p, n, fd(r), q, m)
                }
                35 => {
                    let ((p, n), (q, m)) = (path(r), path(r));
                    path_symlink(p, n, fd(r), q, m)
                }
                36 => {
                    let (p, n) = path(r);
                    path_unlink_file(fd(r), p, n)
                }
                37 => {
                    let (p, n) = subscriptions(r);
                    poll_oneoff(p, out(r), n, out(r))
                }
                38 => proc_raise(flags(r)),
                39 => sched_yield(),
                40 => {
                    let (b, l) = wbuf(r);
                    random_get(b, l)
                }
                41 => sock_accept(fd(r), flags(r), out(r)),
                42 => {
                    let (p, n) = iovecs(r);
                    sock_recv(fd(r), p, n, flags(r), out(r), out(r))
                }
                _ => match r.below(2) {
                    0 => {
                        let (p, n) = iovecs(r);
                        sock_send(fd(r), p, n, flags(r), out(r))
                    }
                    _ => sock_shutdown(fd(r), flags(r)),
                },
            };
        }
    }
    println!("survived {calls} calls");
}
