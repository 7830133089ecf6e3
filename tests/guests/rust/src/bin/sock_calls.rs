//! Socket calls through the raw ABI, success and error paths, on the listener the host
//! preopens at fd 3. The test connects once, sends "ping", and reads back "pong".
//! Prints `ok <check>` / `FAIL <check>: ...`, then `done`.
use std::fmt::Debug;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn sock_accept(fd: u32, flags: u32, out: *mut u32) -> u16;
    fn sock_recv(fd: u32, iovs: *const u32, n: usize, flags: u32, nread: *mut usize, roflags: *mut u16) -> u16;
    fn sock_send(fd: u32, iovs: *const u32, n: usize, flags: u32, nwritten: *mut usize) -> u16;
    fn sock_shutdown(fd: u32, how: u32) -> u16;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u16;
    fn fd_close(fd: u32) -> u16;
}

const AGAIN: u16 = 6;
const BADF: u16 = 8;
const INVAL: u16 = 28;
const NOTCONN: u16 = 53;
const NOTSOCK: u16 = 57;
const NONBLOCK: u32 = 4;
const SOCKET_STREAM: u8 = 6;

fn check<T: PartialEq + Debug>(name: &str, got: T, want: T) {
    if got == want {
        println!("ok {name}");
    } else {
        println!("FAIL {name}: got {got:?}, want {want:?}");
    }
}

fn main() {
    unsafe {
        let mut st = [0u8; 24];
        check("fdstat of the listener", fd_fdstat_get(3, st.as_mut_ptr()), 0);
        check("listener is a stream socket", st[0], SOCKET_STREAM);
        let mut fd = 0u32;
        check("accept on a non-socket", sock_accept(1, 0, &mut fd), NOTSOCK);
        check("accept on a bad fd", sock_accept(77, 0, &mut fd), BADF);
        check("accept with garbage flags", sock_accept(3, 0xff00, &mut fd), INVAL);
        let mut buf = [0u8; 16];
        let iov = [buf.as_mut_ptr() as u32, buf.len() as u32];
        let (mut n, mut ro) = (0usize, 0u16);
        check("recv on a listener", sock_recv(3, iov.as_ptr(), 1, 0, &mut n, &mut ro), NOTCONN);
        check("send on a listener", sock_send(3, iov.as_ptr(), 1, 0, &mut n), NOTCONN);
        check("shutdown of a listener", sock_shutdown(3, 3), NOTCONN);
        check("shutdown with garbage", sock_shutdown(3, 9), INVAL);

        // Non-blocking accept before the peer connects: again. (The test connects only
        // after it reads "listening".)
        check("listener to nonblock", fd_fdstat_set_flags(3, NONBLOCK), 0);
        check("nonblocking accept with nobody waiting", sock_accept(3, 0, &mut fd), AGAIN);
        check("listener back to blocking", fd_fdstat_set_flags(3, 0), 0);
        println!("listening");
        use std::io::Write;
        std::io::stdout().flush().unwrap();

        check("accept", sock_accept(3, 0, &mut fd), 0);
        check("accepted fd is new", fd > 3, true);
        check("recv with garbage flags", sock_recv(fd, iov.as_ptr(), 1, 0x100, &mut n, &mut ro), INVAL);
        check("recv peek", sock_recv(fd, iov.as_ptr(), 1, 1, &mut n, &mut ro), 0);
        check("peeked ping", &buf[..n], b"ping".as_slice());
        // Wait-all fills the whole buffer: ask for exactly the 4 bytes that were sent.
        let iov4 = [buf.as_mut_ptr() as u32, 4];
        check("recv waitall", sock_recv(fd, iov4.as_ptr(), 1, 2, &mut n, &mut ro), 0);
        check("received ping (once, after the peek)", &buf[..n], b"ping".as_slice());
        let pong = b"pong";
        let out = [pong.as_ptr() as u32, pong.len() as u32];
        check("send with garbage flags", sock_send(fd, out.as_ptr(), 1, 1, &mut n), INVAL);
        check("send", sock_send(fd, out.as_ptr(), 1, 0, &mut n), 0);
        check("sent 4", n, 4);
        check("shutdown write side", sock_shutdown(fd, 2), 0);
        check("recv end of stream", sock_recv(fd, iov.as_ptr(), 1, 0, &mut n, &mut ro), 0);
        check("end of stream is 0 bytes", n, 0);
        check("close", fd_close(fd), 0);
        check("recv after close", sock_recv(fd, iov.as_ptr(), 1, 0, &mut n, &mut ro), BADF);
    }
    println!("done");
}
