//! Copies stdin to stdout.
use std::io::{Read, Write};

fn main() {
    let mut buf = [0u8; 4096];
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => stdout.write_all(&buf[..n]).expect("write"),
            Err(e) => panic!("read failed: {e}"),
        }
    }
}
