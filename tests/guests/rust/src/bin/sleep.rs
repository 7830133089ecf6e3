//! Sleeps for the number of milliseconds given, then checks on the monotonic clock that
//! at least that long passed.
use std::time::{Duration, Instant};

fn main() {
    let ms: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(ms));
    let slept = start.elapsed();
    if slept >= Duration::from_millis(ms) {
        println!("slept at least {ms} ms");
    } else {
        println!("woke early: {slept:?} < {ms} ms");
        std::process::exit(1);
    }
}
