//! The micro guests of scripts/bench.sh, one program with a command per workload. The
//! same source is built for wasm32-wasip1 and for the host, so the native build is the
//! yardstick of the wasm runs. Each command checks its work and prints one line about it
//! on stderr (stdout is what the `write` command measures), so every runtime is seen to
//! do the same work.
//!
//!   micro hello              print "hello, world!"
//!   micro write N            N writes of 16 bytes to stdout (one `write`/`fd_write` each)
//!   micro stat FILE N        N × (stat FILE, open FILE, close, read the clock)
//!   micro read FILE PASSES   read FILE PASSES times in 4 KiB reads
//!   micro compute N          sieve of Eratosthenes up to N, ten times, plus an integer hash

use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::process::exit;
use std::time::{Instant, SystemTime};

fn usage() -> ! {
    eprintln!("usage: micro hello | write N | stat FILE N | read FILE PASSES | compute N");
    exit(2)
}

fn num(arg: Option<&String>) -> u64 {
    arg.and_then(|s| s.parse().ok()).unwrap_or_else(|| usage())
}

/// Standard output as a file, unbuffered: every `write` is one system call.
fn raw_stdout() -> ManuallyDrop<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: descriptor 1 is open for the whole run and never closed here (ManuallyDrop).
    ManuallyDrop::new(unsafe { File::from_raw_fd(1) })
}

fn write(n: u64) {
    let mut out = raw_stdout();
    let line = *b"0123456789abcde\n";
    for _ in 0..n {
        let written = out.write(&line).unwrap_or_else(|e| {
            eprintln!("write: {e}");
            exit(1)
        });
        if written != line.len() {
            eprintln!("short write: {written}");
            exit(1)
        }
    }
    eprintln!("write: {n} × 16 bytes");
}

fn stat(path: &str, n: u64) {
    let t0 = Instant::now();
    let mut bytes = 0u64;
    let mut last = SystemTime::UNIX_EPOCH;
    for _ in 0..n {
        let meta = std::fs::metadata(path).unwrap_or_else(|e| {
            eprintln!("stat {path}: {e}");
            exit(1)
        });
        bytes = bytes.wrapping_add(meta.len());
        let file = File::open(path).unwrap_or_else(|e| {
            eprintln!("open {path}: {e}");
            exit(1)
        });
        drop(file);
        let now = SystemTime::now();
        if now < last {
            eprintln!("the realtime clock went back");
        }
        last = now;
    }
    if t0.elapsed().as_nanos() == 0 {
        eprintln!("the monotonic clock did not move");
        exit(1)
    }
    eprintln!(
        "stat: {n} × (stat, open, close, clock), {} bytes",
        bytes / n.max(1)
    );
}

fn read(path: &str, passes: u64) {
    let mut buf = vec![0u8; 4096];
    let (mut total, mut reads, mut sum) = (0u64, 0u64, 0u64);
    for _ in 0..passes {
        let mut file = File::open(path).unwrap_or_else(|e| {
            eprintln!("open {path}: {e}");
            exit(1)
        });
        loop {
            let got = file.read(&mut buf).unwrap_or_else(|e| {
                eprintln!("read {path}: {e}");
                exit(1)
            });
            if got == 0 {
                break;
            }
            reads += 1;
            total += got as u64;
            sum = sum.wrapping_add(buf[got - 1] as u64);
        }
    }
    eprintln!("read: {total} bytes in {reads} reads of 4 KiB, check {sum}");
}

fn compute(n: u64) {
    let n = n as usize;
    let mut sieve = vec![true; n + 1];
    let mut primes = 0;
    for _ in 0..10 {
        sieve.iter_mut().for_each(|b| *b = true);
        sieve[0] = false;
        sieve[1] = false;
        let mut i = 2;
        while i * i <= n {
            if sieve[i] {
                let mut j = i * i;
                while j <= n {
                    sieve[j] = false;
                    j += i;
                }
            }
            i += 1;
        }
        primes = sieve.iter().filter(|&&b| b).count();
    }
    // An integer hash (xorshift-multiply) over the primes' indices: ALU-bound, no memory.
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for (i, _) in sieve.iter().enumerate().filter(|(_, &b)| b) {
        let mut x = h ^ i as u64;
        for _ in 0..64 {
            x ^= x >> 33;
            x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
            x ^= x >> 29;
        }
        h = x;
    }
    eprintln!("compute: {primes} primes up to {n}, hash {h:016x}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("hello") => println!("hello, world!"),
        Some("write") => write(num(args.get(2))),
        Some("stat") => stat(args.get(2).unwrap_or_else(|| usage()), num(args.get(3))),
        Some("read") => read(args.get(2).unwrap_or_else(|| usage()), num(args.get(3))),
        Some("compute") => compute(num(args.get(2))),
        _ => usage(),
    }
}
