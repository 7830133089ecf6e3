//! One multi-threaded guest, its first argument choosing what it does (each prints what
//! the tests check):
//!
//! - `compute N [TOTAL]`: sums a costly function over 0..TOTAL (4,000,000) split among
//!   N threads.
//! - `counter`: 8 threads add 10,000 each to a Mutex-guarded counter.
//! - `channel`: 4 producers send 1,000 numbers each to one consumer.
//! - `condvar`: two threads hand a token back and forth 1,000 times.
//! - `files DIR`: 4 threads each write a file below DIR; the main thread reads them.
//! - `sleepers`: 3 threads sleep 200 ms while the main thread writes 20 lines.
//! - `exit`: a worker calls `exit(7)` while the main thread waits for it.
//! - `trap`: a worker traps while the main thread waits for it.
//! - `spawn-all`: spawns threads that wait forever until a spawn fails; prints how many.
//! - `block`: 4 threads and the main thread wait on a condvar forever.
//! - `spin`: 2 threads compute forever; the main thread returns.
//! - `hog`: a thread asks for 256 MiB.
//! - `spawn N`: starts and joins N threads, one after the other (spawn latency).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

fn costly(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for _ in 0..16 {
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    }
    x >> 40
}

fn compute(n: u64, total: u64) {
    let chunk = total / n;
    let sum: u64 = thread::scope(|s| {
        let parts: Vec<_> = (0..n)
            .map(|t| {
                let end = if t == n - 1 { total } else { (t + 1) * chunk };
                s.spawn(move || (t * chunk..end).map(costly).sum::<u64>())
            })
            .collect();
        parts.into_iter().map(|p| p.join().unwrap()).sum()
    });
    println!("sum {sum}");
}

fn counter() {
    let count = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let count = count.clone();
            thread::spawn(move || {
                for _ in 0..10_000 {
                    *count.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    println!("count {}", count.lock().unwrap());
}

fn channel() {
    let (tx, rx) = mpsc::channel::<u64>();
    for p in 0..4u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..1000 {
                tx.send(p * 1000 + i).unwrap();
            }
        });
    }
    drop(tx);
    let (mut n, mut sum) = (0u64, 0u64);
    for v in rx {
        n += 1;
        sum += v;
    }
    println!("received {n} sum {sum}");
}

fn condvar() {
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let other = pair.clone();
    let t = thread::spawn(move || {
        let (lock, cv) = &*other;
        for round in 0..1000 {
            let mut turn = lock.lock().unwrap();
            while *turn != 2 * round + 1 {
                turn = cv.wait(turn).unwrap();
            }
            *turn += 1;
            cv.notify_all();
        }
    });
    let (lock, cv) = &*pair;
    for round in 0..1000 {
        let mut turn = lock.lock().unwrap();
        while *turn != 2 * round {
            turn = cv.wait(turn).unwrap();
        }
        *turn += 1;
        cv.notify_all();
    }
    t.join().unwrap();
    println!("turns {}", lock.lock().unwrap());
}

fn files(dir: &str) {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let path = format!("{dir}/t{i}.txt");
            thread::spawn(move || std::fs::write(&path, format!("thread {i}\n").repeat(100)))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let mut total = 0;
    for i in 0..4 {
        let text = std::fs::read_to_string(format!("{dir}/t{i}.txt")).unwrap();
        assert!(text.starts_with(&format!("thread {i}\n")));
        total += text.len();
    }
    println!("files 4 bytes {total}");
}

fn sleepers() {
    let handles: Vec<_> = (0..3)
        .map(|_| thread::spawn(|| thread::sleep(Duration::from_millis(200))))
        .collect();
    for i in 0..20 {
        println!("line {i}");
    }
    for h in handles {
        h.join().unwrap();
    }
    println!("slept");
}

fn exit() {
    let t = thread::spawn(|| {
        thread::sleep(Duration::from_millis(20));
        std::process::exit(7);
    });
    t.join().unwrap();
    println!("unreachable");
}

fn trap() {
    let t = thread::spawn(|| {
        thread::sleep(Duration::from_millis(20));
        deep_trap(3);
    });
    t.join().unwrap();
    println!("unreachable");
}

#[inline(never)]
fn deep_trap(n: u32) {
    if n == 0 {
        #[cfg(target_arch = "wasm32")]
        core::arch::wasm32::unreachable();
        #[cfg(not(target_arch = "wasm32"))]
        std::process::abort();
    }
    deep_trap(n - 1);
    std::hint::black_box(n);
}

fn spawn_all() {
    let forever = Arc::new((Mutex::new(()), Condvar::new()));
    let mut n = 0;
    loop {
        let f = forever.clone();
        let spawned = thread::Builder::new().spawn(move || {
            let (lock, cv) = &*f;
            let mut guard = lock.lock().unwrap();
            loop {
                guard = cv.wait(guard).unwrap();
            }
        });
        match spawned {
            Ok(_) => n += 1,
            Err(e) => {
                println!("spawned {n} then: {}", e.kind());
                break;
            }
        }
    }
}

fn block() {
    let forever = Arc::new((Mutex::new(()), Condvar::new()));
    for _ in 0..4 {
        let f = forever.clone();
        thread::spawn(move || {
            let (lock, cv) = &*f;
            let mut guard = lock.lock().unwrap();
            loop {
                guard = cv.wait(guard).unwrap();
            }
        });
    }
    println!("blocking");
    let (lock, cv) = &*forever;
    let mut guard = lock.lock().unwrap();
    loop {
        guard = cv.wait(guard).unwrap();
    }
}

fn spin() {
    static SPUN: AtomicU64 = AtomicU64::new(0);
    for _ in 0..2 {
        thread::spawn(|| loop {
            SPUN.fetch_add(1, Ordering::Relaxed);
        });
    }
    while SPUN.load(Ordering::Relaxed) < 1000 {
        thread::yield_now();
    }
    println!("spinning");
}

fn hog() {
    let t = thread::spawn(|| {
        let v = vec![1u8; 256 << 20];
        println!("got {}", v.iter().map(|&b| b as usize).sum::<usize>());
    });
    t.join().unwrap();
}

fn spawn(n: u32) {
    let mut sum = 0u64;
    for i in 0..n {
        sum += thread::spawn(move || i as u64 * 2).join().unwrap();
    }
    println!("spawned {n} sum {sum}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("compute") => compute(
            args[1].parse().unwrap(),
            args.get(2).map_or(4_000_000, |t| t.parse().unwrap()),
        ),
        Some("counter") => counter(),
        Some("channel") => channel(),
        Some("condvar") => condvar(),
        Some("files") => files(&args[1]),
        Some("sleepers") => sleepers(),
        Some("exit") => exit(),
        Some("trap") => trap(),
        Some("spawn-all") => spawn_all(),
        Some("block") => block(),
        Some("spin") => spin(),
        Some("hog") => hog(),
        Some("spawn") => spawn(args[1].parse().unwrap()),
        _ => {
            eprintln!("usage: threads compute N|counter|channel|condvar|files DIR|sleepers|exit|trap|spawn-all|block|spin");
            std::process::exit(2);
        }
    }
}
