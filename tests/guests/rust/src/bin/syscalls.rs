//! Exercises the first slice of preview1 through the raw ABI and prints one line per
//! check: `ok <name>` or `FAIL <name>: <detail>`. Ends with `done`.
use std::fmt::Debug;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
    fn clock_res_get(id: u32, out: *mut u64) -> u16;
    fn random_get(buf: *mut u8, len: usize) -> u16;
    fn proc_raise(sig: u32) -> u16;
    fn sched_yield() -> u16;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u16;
    fn fd_filestat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_prestat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_prestat_dir_name(fd: u32, out: *mut u8, len: usize) -> u16;
    fn fd_write(fd: u32, iovs: *const u32, n: usize, out: *mut usize) -> u16;
    fn fd_read(fd: u32, iovs: *const u32, n: usize, out: *mut usize) -> u16;
    fn fd_close(fd: u32) -> u16;
    fn fd_seek(fd: u32, off: i64, whence: u32, out: *mut u64) -> u16;
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: usize, out: *mut usize) -> u16;
    fn args_sizes_get(argc: *mut usize, size: *mut usize) -> u16;
}

const SUCCESS: u16 = 0;
const BADF: u16 = 8;
const INVAL: u16 = 28;
const NAMETOOLONG: u16 = 37;
const NOTSUP: u16 = 58;
const SPIPE: u16 = 70;

fn check<T: PartialEq + Debug>(name: &str, got: T, want: T) {
    if got == want {
        println!("ok {name}");
    } else {
        println!("FAIL {name}: got {got:?}, want {want:?}");
    }
}

fn main() {
    unsafe {
        let mut t = 0u64;
        for id in 0..4 {
            check(&format!("clock_time_get({id})"), clock_time_get(id, 1, &mut t), SUCCESS);
            check(&format!("clock_res_get({id})"), clock_res_get(id, &mut t), SUCCESS);
            check(&format!("clock_res_get({id}) > 0"), t > 0, true);
        }
        check("clock_time_get(bad id)", clock_time_get(4, 1, &mut t), INVAL);
        check("clock_res_get(bad id)", clock_res_get(u32::MAX, &mut t), INVAL);
        let (mut a, mut b) = (0u64, 0u64);
        clock_time_get(1, 1, &mut a);
        clock_time_get(1, 1, &mut b);
        check("monotonic never goes back", b >= a, true);
        clock_time_get(0, 1, &mut a);
        // 2020-01-01 in nanoseconds since the epoch
        check("realtime is after 2020", a > 1_577_836_800_000_000_000, true);

        let mut buf = vec![0u8; 1 << 20];
        check("random_get 1 MiB", random_get(buf.as_mut_ptr(), buf.len()), SUCCESS);
        check("random_get filled", buf.iter().filter(|&&b| b == 0).count() < 10_000, true);
        check("random_get 0 bytes", random_get(buf.as_mut_ptr(), 0), SUCCESS);

        check("proc_raise(SIGTERM)", proc_raise(15), NOTSUP);
        check("proc_raise(garbage)", proc_raise(1000), INVAL);
        check("sched_yield", sched_yield(), SUCCESS);

        let mut st = [0u8; 24];
        check("fd_fdstat_get(1)", fd_fdstat_get(1, st.as_mut_ptr()), SUCCESS);
        let rights = u64::from_le_bytes(st[8..16].try_into().unwrap());
        check("stdout has fd_write right", rights & (1 << 6) != 0, true);
        check("fd_fdstat_get(bad fd)", fd_fdstat_get(1234, st.as_mut_ptr()), BADF);
        check("fd_fdstat_set_flags(1, append)", fd_fdstat_set_flags(1, 1), SUCCESS);
        check("fd_fdstat_set_flags(1, garbage)", fd_fdstat_set_flags(1, 0xffff_0000), INVAL);
        check("fd_fdstat_set_flags(0, nonblock)", fd_fdstat_set_flags(0, 4), NOTSUP);
        let mut fst = [0u8; 64];
        check("fd_filestat_get(2)", fd_filestat_get(2, fst.as_mut_ptr()), SUCCESS);
        check("fd_filestat_get(bad fd)", fd_filestat_get(99, fst.as_mut_ptr()), BADF);

        let mut pre = [0u8; 8];
        check("fd_prestat_get(1) is not a preopen", fd_prestat_get(1, pre.as_mut_ptr()), BADF);
        check("fd_prestat_get(3)", fd_prestat_get(3, pre.as_mut_ptr()), SUCCESS);
        let len = u32::from_le_bytes(pre[4..8].try_into().unwrap()) as usize;
        check("preopen name length", len, "/sandbox".len());
        let mut name = vec![0u8; len];
        check("fd_prestat_dir_name", fd_prestat_dir_name(3, name.as_mut_ptr(), len), SUCCESS);
        check("preopen name", String::from_utf8(name).unwrap(), "/sandbox".to_string());
        check("fd_prestat_dir_name short buffer", fd_prestat_dir_name(3, buf.as_mut_ptr(), 2), NAMETOOLONG);
        check("fd_prestat_get(4) beyond preopens", fd_prestat_get(4, pre.as_mut_ptr()), BADF);

        let msg = b"written by fd_write\n";
        let iov = [msg.as_ptr() as u32, msg.len() as u32];
        let mut n = 0usize;
        check("fd_write(1)", fd_write(1, iov.as_ptr(), 1, &mut n), SUCCESS);
        check("fd_write count", n, msg.len());
        check("fd_write(0) not writable", fd_write(0, iov.as_ptr(), 1, &mut n), BADF);
        // Bad pointers trap (tests/cli.rs, every_bad_pointer_traps_with_one_line).
        check("fd_write too many iovecs", fd_write(1, iov.as_ptr(), 5000, &mut n), INVAL);
        check("fd_read(1) not readable", fd_read(1, iov.as_ptr(), 1, &mut n), BADF);
        let mut off = 0u64;
        check("fd_seek(1) on a stream", fd_seek(1, 0, 0, &mut off), SPIPE);
        check("poll_oneoff with nothing", poll_oneoff(buf.as_ptr(), buf.as_mut_ptr(), 0, &mut n), INVAL);
        let (mut argc, mut size) = (0usize, 0usize);
        check("args_sizes_get", args_sizes_get(&mut argc, &mut size), SUCCESS);

        check("fd_close(4) never opened", fd_close(4), BADF);
        check("fd_close(0)", fd_close(0), SUCCESS);
        check("fd_close(0) twice", fd_close(0), BADF);
        check("fd_read(0) after close", fd_read(0, iov.as_ptr(), 1, &mut n), BADF);
    }
    println!("done");
}
