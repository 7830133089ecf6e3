//! Run statistics: what [`WasiInstance::stats`](crate::WasiInstance::stats) returns
//! and `lucet-wasi --stats` prints.

use crate::Bytes;
use std::fmt;
use std::time::{Duration, Instant};

/// What an instance used, over all its runs and calls so far: see
/// [`WasiInstanceBuilder::collect_stats`](crate::WasiInstanceBuilder::collect_stats).
///
/// ```
/// use lucet_wasi::WasiInstance;
/// let wat = r#"(module
///     (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $yield)) (drop (call $yield))))"#;
/// let mut instance = WasiInstance::builder().module_bytes(wat).collect_stats().build()?;
/// instance.run("_start")?;
/// let stats = instance.stats().expect("collected");
/// assert_eq!(stats.calls("sched_yield"), 2);
/// assert_eq!(stats.peak_memory.0, 65536);
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunStats {
    /// Wall-clock time spent in the guest (runs and calls), instantiation included.
    pub wall: Duration,
    /// CPU time of the thread that ran the guest, over the same spans.
    pub cpu: Duration,
    /// The most linear memory the guest had, all its memories together.
    pub peak_memory: Bytes,
    /// Fuel consumed, if the instance was metered
    /// ([`WasiInstanceBuilder::fuel`](crate::WasiInstanceBuilder::fuel)).
    pub fuel_used: Option<u64>,
    /// Calls made, by name (WASI functions by their name, host functions as
    /// `module::name`), most called first; every thread's, for a threaded guest.
    pub syscalls: Vec<(String, u64)>,
    /// For a threaded guest: the calls each thread made, by thread id (0: the main
    /// thread), in id order.
    pub threads: Vec<(u32, u64)>,
    /// For a WASI 0.2 component: its calls are not counted (`syscalls` is empty).
    pub calls_not_counted: bool,
}

impl RunStats {
    /// How many times the guest called `name` (0 if never).
    pub fn calls(&self, name: &str) -> u64 {
        self.syscalls
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c)
    }

    /// All calls counted.
    pub fn total_calls(&self) -> u64 {
        self.syscalls.iter().map(|(_, c)| c).sum()
    }
}

impl fmt::Display for RunStats {
    /// A few aligned lines, as `lucet-wasi --stats` prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        writeln!(f, "wall time       {:.3} ms", ms(self.wall))?;
        writeln!(f, "cpu time        {:.3} ms", ms(self.cpu))?;
        writeln!(
            f,
            "peak memory     {} ({} bytes)",
            self.peak_memory, self.peak_memory.0
        )?;
        match self.fuel_used {
            Some(fuel) => writeln!(f, "fuel used       {fuel}")?,
            None => writeln!(f, "fuel used       (not metered)")?,
        }
        if self.calls_not_counted {
            writeln!(f, "syscalls        (not counted for WASI 0.2 components)")?;
        } else {
            writeln!(f, "syscalls        {}", self.total_calls())?;
        }
        for (name, count) in &self.syscalls {
            writeln!(f, "  {name:<24} {count:>10}")?;
        }
        if !self.threads.is_empty() {
            writeln!(f, "threads         {}", self.threads.len())?;
            for (tid, count) in &self.threads {
                let name = if *tid == 0 {
                    "main".to_string()
                } else {
                    format!("thread {tid}")
                };
                writeln!(f, "  {name:<24} {count:>10}")?;
            }
        }
        Ok(())
    }
}

/// Time spent in the guest so far.
#[derive(Default)]
pub(crate) struct Usage {
    pub(crate) wall: Duration,
    pub(crate) cpu: Duration,
    /// The fuel the store was given, if metered.
    pub(crate) fuel_budget: Option<u64>,
}

impl Usage {
    /// Nothing used yet; on a `metered` engine the store was given `fuel` (all there is
    /// if `None`).
    pub(crate) fn new(metered: bool, fuel: Option<u64>) -> Usage {
        Usage {
            fuel_budget: metered.then(|| fuel.unwrap_or(u64::MAX)),
            ..Default::default()
        }
    }
}

/// A span being measured: wall clock and this thread's CPU clock at its start.
pub(crate) struct Span {
    wall: Instant,
    cpu: Duration,
}

impl Span {
    pub(crate) fn start() -> Span {
        Span {
            wall: Instant::now(),
            cpu: thread_cpu(),
        }
    }

    /// Adds the span (it ends now, on the thread it started on) to `usage`.
    pub(crate) fn end(self, usage: &mut Usage) {
        usage.wall += self.wall.elapsed();
        usage.cpu += thread_cpu().saturating_sub(self.cpu);
    }
}

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs `f`, adding its wall time and the CPU time of every poll (on whichever thread
/// polls it) to `usage`, if given.
#[cfg(feature = "async")]
pub(crate) async fn measured<T>(
    usage: Option<&mut Usage>,
    f: impl std::future::Future<Output = T>,
) -> T {
    let Some(usage) = usage else {
        return f.await;
    };
    let wall = Instant::now();
    let mut cpu = Duration::ZERO;
    let mut f = std::pin::pin!(f);
    let out = std::future::poll_fn(|cx| {
        let start = thread_cpu();
        let polled = f.as_mut().poll(cx);
        cpu += thread_cpu().saturating_sub(start);
        polled
    })
    .await;
    usage.wall += wall.elapsed();
    usage.cpu += cpu;
    out
}
