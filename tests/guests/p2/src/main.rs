//! One WASI 0.2 command component with many small programs; the first argument picks one:
//!
//! - `files DIR`     file work inside the (empty, writable) preopen DIR, one line per step
//! - `args [A...]`   every argument, argv[0] included, one a line
//! - `env`           the environment, sorted, one `K=V` a line
//! - `stdin`         reads all of stdin; prints its length, then the text upper-cased
//! - `clocks`        the monotonic clock advances over a 10 ms sleep; the wall clock is past 2020
//! - `random`        two 16-byte draws from wasi:random differ
//! - `exit N`        exits with status N
//! - `panic`         panics with "boom from the guest", a few named calls deep
//! - `escape DIR`    tries to leave the preopen DIR; one `denied: ...` or `ESCAPED: ...` a try
//! - `write-ro DIR`  tries to write in the (read-only) preopen DIR; `denied: ...` or `WROTE ...`
//! - `spin`          prints `spinning`, then computes forever
//! - `hog MB`        allocates MB MiB in 1 MiB chunks, touching each, then `allocated MB MiB`
//! - `tty`           whether stdin, stdout and stderr are terminals
//! - `sleep MS`      sleeps MS milliseconds (wasi:clocks, wasi:io/poll), then `slept MS ms`
//!
//! Output is deterministic (no times, no addresses, no random values), so tests compare it
//! exactly. I/O errors print as `<ErrorKind> (os error N)`, N being wasi-libc's errno.
use std::io::{self, Read, Write};
use std::process::exit;

mod fs_cmds;

/// How an I/O error prints in every program here.
pub fn describe(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => format!("{:?} (os error {n})", e.kind()),
        None => format!("{:?}", e.kind()),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: p2 files DIR | args [A...] | env | stdin | clocks | random | exit N | panic \
         | escape DIR | write-ro DIR | spin | hog MB | tty | sleep MS"
    );
    exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| -> String { args.get(i + 2).cloned().unwrap_or_else(|| usage()) };
    match args.get(1).map(String::as_str).unwrap_or_else(|| usage()) {
        "files" => fs_cmds::files(&arg(0)),
        "args" => print_args(&args),
        "env" => print_env(),
        "stdin" => upper_stdin(),
        "clocks" => clocks(),
        "random" => random(),
        "exit" => exit(arg(0).parse().unwrap_or_else(|_| usage())),
        "panic" => panic_level_one(),
        "escape" => fs_cmds::escape(&arg(0)),
        "write-ro" => fs_cmds::write_ro(&arg(0)),
        "spin" => spin(),
        "hog" => hog(arg(0).parse().unwrap_or_else(|_| usage())),
        "tty" => tty(),
        "sleep" => {
            let ms = arg(0).parse().unwrap_or_else(|_| usage());
            std::thread::sleep(std::time::Duration::from_millis(ms));
            println!("slept {ms} ms");
        }
        _ => usage(),
    }
}

fn print_args(args: &[String]) {
    println!("argc={}", args.len());
    for (i, a) in args.iter().enumerate() {
        println!("argv[{i}]={a}");
    }
}

fn print_env() {
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (k, v) in vars {
        println!("{k}={v}");
    }
}

fn upper_stdin() {
    let mut bytes = Vec::new();
    io::stdin().read_to_end(&mut bytes).expect("reading stdin");
    println!("stdin: {} bytes", bytes.len());
    let text = String::from_utf8_lossy(&bytes).to_uppercase();
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).unwrap();
    out.flush().unwrap();
}

fn clocks() {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(10));
    let slept = start.elapsed();
    if slept < Duration::from_millis(10) {
        println!("clocks FAIL: monotonic clock advanced only {slept:?} over a 10 ms sleep");
        exit(1);
    }
    // 2020-01-01T00:00:00Z.
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    if since_epoch.as_secs() < 1_577_836_800 {
        println!(
            "clocks FAIL: wall clock is {} s past the epoch",
            since_epoch.as_secs()
        );
        exit(1);
    }
    println!("clocks ok");
}

extern "C" {
    /// wasi-libc's, which fills the buffer from wasi:random/random `get-random-bytes`.
    fn getentropy(buf: *mut u8, len: usize) -> i32;
}

fn draw() -> [u8; 16] {
    let mut buf = [0u8; 16];
    // SAFETY: the buffer is valid for writes of its length, which is under getentropy's 256.
    let rc = unsafe { getentropy(buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        println!(
            "random FAIL: getentropy: {}",
            describe(&io::Error::last_os_error())
        );
        exit(1);
    }
    buf
}

/// Whether each standard stream is a terminal (wasi:cli/terminal-*).
fn tty() {
    use std::io::IsTerminal;
    println!(
        "stdin {} stdout {} stderr {}",
        io::stdin().is_terminal(),
        io::stdout().is_terminal(),
        io::stderr().is_terminal()
    );
}

fn random() {
    let (a, b) = (draw(), draw());
    if a == b {
        println!("random FAIL: two draws were equal");
        exit(1);
    }
    println!("random ok");
}

#[inline(never)]
fn deep_panic(depth: u32) -> ! {
    if std::hint::black_box(depth) == 0 {
        panic!("boom from the guest");
    }
    deep_panic(depth - 1)
}

#[inline(never)]
fn panic_level_two() {
    deep_panic(std::hint::black_box(2));
}

#[inline(never)]
fn panic_level_one() {
    panic_level_two();
    println!("unreachable");
}

fn spin() {
    println!("spinning");
    let mut counter = 0u64;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

fn hog(mib: usize) {
    const CHUNK: usize = 1 << 20;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for i in 0..mib {
        let mut chunk = Vec::with_capacity(CHUNK);
        // Non-zero bytes: every page is really written, not left to the allocator's zeroing.
        chunk.resize(CHUNK, (i % 251) as u8 + 1);
        chunks.push(std::hint::black_box(chunk));
    }
    println!("allocated {} MiB", chunks.len());
}
