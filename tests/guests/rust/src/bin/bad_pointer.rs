//! Passes one out-of-bounds pointer to one preview1 function, every other argument
//! valid, so the call must dereference it. Usage: `bad_pointer <function> <argument>`,
//! with a preopen at fd 3 holding a file `f` (some bytes), a directory `d` and a
//! symlink `l`; the `sock_*` cases need a listening socket at fd 4 that a client
//! connects to and sends a few bytes. `clock_time_get misaligned` passes a result
//! pointer that is in bounds but 4-aligned. Prints `survived` if the call returned.
#![allow(clippy::too_many_arguments)]

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn args_get(a: i32, b: i32) -> i32;
    fn args_sizes_get(a: i32, b: i32) -> i32;
    fn environ_get(a: i32, b: i32) -> i32;
    fn environ_sizes_get(a: i32, b: i32) -> i32;
    fn clock_res_get(a: i32, b: i32) -> i32;
    fn clock_time_get(a: i32, b: i64, c: i32) -> i32;
    fn fd_fdstat_get(a: i32, b: i32) -> i32;
    fn fd_filestat_get(a: i32, b: i32) -> i32;
    fn fd_pread(a: i32, b: i32, c: i32, d: i64, e: i32) -> i32;
    fn fd_prestat_get(a: i32, b: i32) -> i32;
    fn fd_prestat_dir_name(a: i32, b: i32, c: i32) -> i32;
    fn fd_pwrite(a: i32, b: i32, c: i32, d: i64, e: i32) -> i32;
    fn fd_read(a: i32, b: i32, c: i32, d: i32) -> i32;
    fn fd_readdir(a: i32, b: i32, c: i32, d: i64, e: i32) -> i32;
    fn fd_seek(a: i32, b: i64, c: i32, d: i32) -> i32;
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
    fn random_get(a: i32, b: i32) -> i32;
    fn sock_accept(a: i32, b: i32, c: i32) -> i32;
    fn sock_recv(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32) -> i32;
    fn sock_send(a: i32, b: i32, c: i32, d: i32, e: i32) -> i32;
}

/// The out-of-bounds pointer: 16-aligned, far past any guest memory of these tests.
const BAD: i32 = 0xffff_fff0_u32 as i32;
const DIR: i32 = 3;
const LISTENER: i32 = 4;
const ALL: i64 = 0x1fff_ffff;
const CREAT: i32 = 1;

#[repr(C, align(8))]
struct Scratch([u8; 4096]);
static mut SCRATCH: Scratch = Scratch([0; 4096]);

/// A valid, aligned result or buffer pointer (a different one for each `slot`).
fn ok(slot: i32) -> i32 {
    std::ptr::addr_of!(SCRATCH) as i32 + 2048 + slot * 64
}

/// `text` in guest memory, as (pointer, length).
fn s(text: &'static str) -> (i32, i32) {
    (text.as_ptr() as i32, text.len() as i32)
}

/// One iovec of 16 bytes of scratch; or, `bad_buffer`, pointing out of bounds.
fn iovec(bad_buffer: bool) -> i32 {
    let base = std::ptr::addr_of_mut!(SCRATCH) as *mut i32;
    unsafe {
        *base = if bad_buffer { BAD } else { ok(40) };
        *base.add(1) = 16;
    }
    base as i32
}

/// A clock subscription that is due at once.
fn subscription() -> i32 {
    let sub = unsafe { (std::ptr::addr_of_mut!(SCRATCH) as *mut u8).add(64) };
    unsafe {
        std::ptr::write_bytes(sub, 0, 48);
        *sub.add(8) = 0; // eventtype clock
        *(sub.add(16) as *mut u32) = 1; // monotonic
        *(sub.add(24) as *mut u64) = 0; // timeout 0
    }
    sub as i32
}

fn open(path: &'static str, oflags: i32) -> i32 {
    let (p, n) = s(path);
    let mut fd = 0u32;
    let r = unsafe { path_open(DIR, 1, p, n, oflags, ALL, ALL, 0, &mut fd as *mut u32 as i32) };
    assert_eq!(r, 0, "path_open {path}");
    fd as i32
}

/// Accepts the test's connection: the socket's descriptor.
fn accepted() -> i32 {
    let mut fd = 0u32;
    loop {
        match unsafe { sock_accept(LISTENER, 0, &mut fd as *mut u32 as i32) } {
            0 => return fd as i32,
            6 => std::thread::sleep(std::time::Duration::from_millis(5)), // again
            e => panic!("sock_accept: errno {e}"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (func, arg) = (args[1].as_str(), args[2].as_str());
    let b = |name: &str| if arg == name { BAD } else { ok(0) };
    let bi = |name: &str, slot: i32| if arg == name { BAD } else { ok(slot) };
    let path = |name: &str, text: &'static str| if arg == name { (BAD, text.len() as i32) } else { s(text) };
    let r = unsafe {
        match func {
            "args_get" => args_get(bi("argv", 0), bi("argv_buf", 1)),
            "args_sizes_get" => args_sizes_get(bi("argc", 0), bi("argv_buf_size", 1)),
            "environ_get" => environ_get(bi("environ", 0), bi("environ_buf", 1)),
            "environ_sizes_get" => environ_sizes_get(bi("count", 0), bi("buf_size", 1)),
            "clock_res_get" => clock_res_get(1, b("result")),
            "clock_time_get" if arg == "misaligned" => clock_time_get(1, 0, ok(0) + 4),
            "clock_time_get" => clock_time_get(1, 0, b("result")),
            "fd_fdstat_get" => fd_fdstat_get(1, b("result")),
            "fd_filestat_get" => fd_filestat_get(open("f", 0), b("result")),
            "fd_prestat_get" => fd_prestat_get(DIR, b("result")),
            "fd_prestat_dir_name" => fd_prestat_dir_name(DIR, b("path"), 64),
            "fd_seek" => fd_seek(open("f", 0), 0, 0, b("result")),
            "fd_tell" => fd_tell(open("f", 0), b("result")),
            "fd_read" | "fd_pread" | "fd_write" | "fd_pwrite" => {
                let iovs = if arg == "iovs" { BAD } else { iovec(arg == "buf") };
                let f = open("f", 0);
                match func {
                    "fd_read" => fd_read(f, iovs, 1, b("nread")),
                    "fd_pread" => fd_pread(f, iovs, 1, 0, b("nread")),
                    "fd_write" => fd_write(f, iovs, 1, b("nwritten")),
                    _ => fd_pwrite(f, iovs, 1, 0, b("nwritten")),
                }
            }
            "fd_readdir" => fd_readdir(DIR, bi("buf", 1), 256, 0, b("bufused")),
            "path_create_directory" => {
                let (p, n) = path("path", "new");
                path_create_directory(DIR, p, n)
            }
            "path_filestat_get" => {
                let (p, n) = path("path", "f");
                path_filestat_get(DIR, 1, p, n, b("result"))
            }
            "path_filestat_set_times" => {
                let (p, n) = path("path", "f");
                path_filestat_set_times(DIR, 1, p, n, 0, 0, 0)
            }
            "path_link" => {
                let ((p, n), (q, m)) = (path("old_path", "f"), path("new_path", "g"));
                path_link(DIR, 0, p, n, DIR, q, m)
            }
            "path_open" => {
                let (p, n) = path("path", "f");
                path_open(DIR, 1, p, n, CREAT, ALL, ALL, 0, b("fd"))
            }
            "path_readlink" => {
                let (p, n) = path("path", "l");
                path_readlink(DIR, p, n, bi("buf", 1), 64, b("bufused"))
            }
            "path_remove_directory" => {
                let (p, n) = path("path", "d");
                path_remove_directory(DIR, p, n)
            }
            "path_rename" => {
                let ((p, n), (q, m)) = (path("old_path", "f"), path("new_path", "g"));
                path_rename(DIR, p, n, DIR, q, m)
            }
            "path_symlink" => {
                let ((p, n), (q, m)) = (path("old_path", "f"), path("new_path", "g"));
                path_symlink(p, n, DIR, q, m)
            }
            "path_unlink_file" => {
                let (p, n) = path("path", "f");
                path_unlink_file(DIR, p, n)
            }
            "poll_oneoff" => {
                let subs = if arg == "in" { BAD } else { subscription() };
                poll_oneoff(subs, bi("out", 1), 1, b("nevents"))
            }
            "random_get" => random_get(b("buf"), 16),
            // Accepting blocks until the test's client connects.
            "sock_accept" => sock_accept(LISTENER, 0, b("fd")),
            "sock_recv" | "sock_send" => {
                let sock = accepted();
                let iovs = if arg == "ri_data" || arg == "si_data" { BAD } else { iovec(arg == "buf") };
                if func == "sock_recv" {
                    sock_recv(sock, iovs, 1, 0, bi("ro_datalen", 1), bi("ro_flags", 2))
                } else {
                    sock_send(sock, iovs, 1, 0, b("so_datalen"))
                }
            }
            other => panic!("unknown function {other}"),
        }
    };
    println!("survived: errno {r}");
}
