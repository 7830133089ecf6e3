//! Accepts one connection on the listening socket at fd 3, echoes until the peer shuts
//! down its side, then shuts down and prints how many bytes it echoed.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::os::wasi::io::FromRawFd;

fn main() {
    // SAFETY: the host preopens a listening socket at descriptor 3.
    let listener = unsafe { TcpListener::from_raw_fd(3) };
    let (mut stream, _) = listener.accept().expect("accept");
    let mut buf = [0u8; 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n]).expect("write");
        total += n;
    }
    stream.shutdown(Shutdown::Both).expect("shutdown");
    println!("echoed {total} bytes");
}
