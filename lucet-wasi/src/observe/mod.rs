//! Watching a guest: the strace-like call trace (`--trace`), call counts and run
//! statistics (`--stats`).
//!
//! Both live in one [`Observer`] that the store holds only when asked for. Such an
//! instance is linked with the observing variant of every function (WASI and
//! `#[hostcall]` alike), whose hooks come here (`glue.rs`); every other instance runs the
//! plain glue, untouched by this module. It knows no store, module or instance: the
//! hooks are generic over the views the WASI and host-function glue define.
//!
//! Decoding treats every guest value as hostile: a pointer is read only through
//! `Mem`, which checks bounds and prints `<fault>` instead of failing, and what is
//! read is capped (paths at `PATH_CAP` bytes, data at `DATA_CAP`), so nothing the
//! trace allocates is sized by the guest.

mod glue;
mod line;
mod names;
mod stats;

#[cfg(feature = "async")]
pub(crate) use stats::measured;
pub use stats::RunStats;
pub(crate) use stats::{Span, Usage};

use crate::wasi::{function_id, FUNCTIONS, FUNCTION_COUNT};
use line::Tracer;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Which calls a trace shows: WASI functions by name (`path_open`), host functions by
/// import name (`log`) or `module::name` (`env::log`). The default shows every call.
///
/// ```
/// use lucet_wasi::TraceFilter;
/// let filter: TraceFilter = "path_open,fd_readdir".parse()?;
/// assert!(filter.matches("path_open") && !filter.matches("fd_write"));
/// assert!(TraceFilter::all().matches("fd_write"));
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceFilter {
    /// `None`: everything.
    names: Option<Vec<String>>,
}

impl TraceFilter {
    /// Shows every call.
    pub fn all() -> TraceFilter {
        TraceFilter { names: None }
    }

    /// Shows only the calls named.
    pub fn only<I, S>(names: I) -> TraceFilter
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TraceFilter {
            names: Some(names.into_iter().map(Into::into).collect()),
        }
    }

    /// Whether the call `name` (a WASI function, or a host function's `name` or
    /// `module::name`) is shown.
    pub fn matches(&self, name: &str) -> bool {
        match &self.names {
            None => true,
            Some(names) => names.iter().any(|n| n == name),
        }
    }

    /// The names of the `wasi_snapshot_preview1` functions, which a filter may name.
    pub fn wasi_functions() -> impl Iterator<Item = &'static str> {
        FUNCTIONS.iter().map(|f| f.name)
    }

    /// The first name that is neither a WASI function nor `known`, if any: a typo
    /// would trace nothing.
    pub(crate) fn unknown(&self, known: impl Fn(&str) -> bool) -> Option<&str> {
        let names = self.names.as_deref().unwrap_or_default();
        names
            .iter()
            .map(String::as_str)
            .find(|n| function_id(n).is_none() && !known(n))
    }
}

impl std::str::FromStr for TraceFilter {
    type Err = crate::Error;

    /// A comma-separated list of call names (`path_open,fd_readdir`); an empty list is
    /// refused.
    fn from_str(s: &str) -> Result<TraceFilter, crate::Error> {
        let names: Vec<String> = s
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect();
        if names.is_empty() {
            return Err(crate::Error::TraceFilter { name: None });
        }
        Ok(TraceFilter::only(names))
    }
}

/// What a builder was asked to watch.
#[derive(Default)]
pub(crate) struct Watch {
    pub(crate) trace: Option<Box<dyn Write + Send>>,
    pub(crate) filter: TraceFilter,
    pub(crate) stats: bool,
}

/// What a store watches: calls to count, and the trace, either or both.
pub(crate) struct Observer {
    pub(crate) counts: Option<Counts>,
    pub(crate) tracer: Option<Tracer>,
}

/// Calls made, by function.
#[derive(Clone)]
pub(crate) struct Counts {
    pub(crate) wasi: [u64; FUNCTION_COUNT],
    /// Host functions by `module::name`, in the order first called.
    pub(crate) host: Vec<(&'static str, u64)>,
}

impl Counts {
    /// Adds `other`'s counts to these.
    pub(crate) fn add(&mut self, other: &Counts) {
        for (n, m) in self.wasi.iter_mut().zip(other.wasi) {
            *n += m;
        }
        for (f, n) in &other.host {
            match self.host.iter_mut().find(|(g, _)| g == f) {
                Some((_, m)) => *m += n,
                None => self.host.push((f, *n)),
            }
        }
    }

    /// Every call counted.
    pub(crate) fn total(&self) -> u64 {
        self.wasi.iter().sum::<u64>() + self.host.iter().map(|(_, n)| n).sum::<u64>()
    }

    /// Every function called at least once, with its count, most called first.
    pub(crate) fn by_name(&self) -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = FUNCTIONS
            .iter()
            .zip(self.wasi)
            .filter(|(_, n)| *n > 0)
            .map(|(f, n)| (f.name.to_string(), n))
            .chain(self.host.iter().map(|(f, n)| (f.to_string(), *n)))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all
    }
}

impl Observer {
    /// An observer counting calls if `count`, tracing into `trace` if given.
    pub(crate) fn new(count: bool, trace: Option<(Box<dyn Write + Send>, TraceFilter)>) -> Self {
        Observer {
            counts: count.then(|| Counts {
                wasi: [0; FUNCTION_COUNT],
                host: Vec::new(),
            }),
            tracer: trace.map(|(out, filter)| Tracer {
                wasi: std::array::from_fn(|i| filter.matches(FUNCTIONS[i].name)),
                out,
                filter,
                line: String::with_capacity(256),
                paths: HashMap::new(),
                prefix: String::new(),
            }),
        }
    }

    /// Makes this the observer of a threaded guest's main thread and returns what its
    /// other threads' observers are made from: one output for all (a line at a time),
    /// each line prefixed with its thread.
    pub(crate) fn share_with_threads(&mut self) -> ThreadWatch {
        let trace = self.tracer.as_mut().map(|t| {
            let out: Box<dyn Write + Send> =
                std::mem::replace(&mut t.out, Box::new(std::io::sink()));
            let shared = Arc::new(Mutex::new(out));
            t.out = Box::new(SharedOut(shared.clone()));
            t.prefix = "[0] ".into();
            (shared, t.filter.clone())
        });
        ThreadWatch {
            count: self.counts.is_some(),
            trace,
            counts: Mutex::default(),
        }
    }

    /// The counts so far, if counting.
    pub(crate) fn counts(&self) -> Option<&Counts> {
        self.counts.as_ref()
    }

    /// Flushes the trace.
    pub(crate) fn flush(&mut self) {
        if let Some(t) = &mut self.tracer {
            let _ = t.out.flush();
        }
    }
}

/// What the observers of a threaded guest's spawned threads are made from, and the
/// counts of those that ended.
pub(crate) struct ThreadWatch {
    count: bool,
    trace: Option<(SharedWriter, TraceFilter)>,
    counts: Mutex<Vec<(u32, Counts)>>,
}

impl ThreadWatch {
    /// The observer of thread `tid`.
    pub(crate) fn observer(&self, tid: u32) -> Observer {
        let trace = self.trace.as_ref().map(|(out, filter)| {
            (
                Box::new(SharedOut(out.clone())) as Box<dyn Write + Send>,
                filter.clone(),
            )
        });
        let mut observer = Observer::new(self.count, trace);
        if let Some(t) = &mut observer.tracer {
            t.prefix = format!("[{tid}] ");
        }
        observer
    }

    /// Keeps the counts of thread `tid`, which ended.
    pub(crate) fn ended(&self, tid: u32, observer: Observer) {
        if let Some(counts) = observer.counts {
            self.counts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((tid, counts));
        }
    }

    /// The counts of the threads that ended, by thread id.
    pub(crate) fn thread_counts(&self) -> Vec<(u32, Counts)> {
        let mut all = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        all.sort_by_key(|(tid, _)| *tid);
        all
    }
}

/// The trace output of a threaded guest, which every thread's tracer writes to.
type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// One output several threads' traces write to, a whole line per write.
struct SharedOut(SharedWriter);

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::names::*;
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_flags_and_escapes() {
        use crate::wasi::types::{Clockid, Filetype, Oflags, Signal};
        let mut s = String::new();
        flag_names::<Oflags>(&mut s, 0b1001 | 0x100);
        assert_eq!(s, "CREAT|TRUNC|0x100");
        s.clear();
        // Enumerations by their witx names, in capitals.
        enum_name::<Clockid>(&mut s, 2);
        s.push(' ');
        enum_name::<Filetype>(&mut s, 4);
        s.push(' ');
        enum_name::<Signal>(&mut s, 10);
        s.push(' ');
        enum_name::<Signal>(&mut s, 1 << 40);
        assert_eq!(s, "PROCESS_CPUTIME_ID REGULAR_FILE USR1 1099511627776");
        s.clear();
        errno_name(&mut s, 1);
        assert_eq!(s, "E2BIG");
        s.clear();
        rights(&mut s, (1 << 30) - 1 - 2);
        assert_eq!(s, "ALL&~(FD_READ)");
        s.clear();
        rights(&mut s, 2 | 64);
        assert_eq!(s, "FD_READ|FD_WRITE");
        s.clear();
        errno_name(&mut s, 44);
        errno_name(&mut s, 900);
        assert_eq!(s, "ENOENT900");
        s.clear();
        escaped(&mut s, b"a\"\\\x1b\xff\n", 4);
        assert_eq!(s, r#""a\"\\\x1b"..."#);
    }

    #[test]
    fn memory_reads_are_checked() {
        let mem = Mem::Plain(&[1, 0, 0, 0, 8, 0, 0, 0, 0xaa, 0xbb]);
        assert_eq!(mem.u32(0), Some(1));
        assert_eq!(mem.u32(7), None);
        assert_eq!(mem.u64(u64::MAX), None);
        assert_eq!(mem.bytes(u64::MAX - 1, 4), None);
        let mut buf = [0; DATA_CAP];
        // One iovec {ptr 1, len 8}: bytes 1..9.
        assert_eq!(mem.gather(0, 1, 100, &mut buf), Some(8));
        assert_eq!(mem.gather(0, 2, 100, &mut buf), None);
        assert_eq!(mem.gather(u64::MAX, u64::MAX, 100, &mut buf), None);
        assert_eq!(mem.total(0, 1), Some(8));
        assert_eq!(mem.total(0, u64::MAX), None);
        // However many entries the guest claims, only the first 1024 are looked at
        // (before: every entry up to the count, seconds of host CPU for a 4 GiB memory).
        let mut big = vec![0u8; 1025 * 8 + 16];
        // Entry 1024 (the 1025th) points at 4 bytes just past it.
        big[1024 * 8..1024 * 8 + 8].copy_from_slice(&[0x08, 0x20, 0, 0, 4, 0, 0, 0]);
        big[0x2008..0x200c].copy_from_slice(b"late");
        let big = Mem::Plain(&big);
        assert_eq!(big.gather(0, u64::MAX, 100, &mut buf), Some(0));
        assert_eq!(big.gather(0, 1025, 100, &mut buf), Some(0));
        assert_eq!(big.total(0, u64::MAX), Some(0));
    }

    /// Every function decoded with hostile arguments: no panic, and nothing read out
    /// of bounds shows as anything but a fault.
    #[test]
    fn hostile_arguments_never_panic() {
        let wasi = crate::wasi::WasiCtxBuilder::empty().build();
        let memory = vec![0xffu8; 4096];
        let values = [0, 1, 4090, 4096, 0xffff_fff0, u32::MAX as u64, u64::MAX];
        let obs = Observer::new(false, Some((Box::new(Vec::new()), TraceFilter::all())));
        let mut t = obs.tracer.unwrap();
        for id in 0..FUNCTION_COUNT {
            for &v in &values {
                let args = [v; 9];
                t.begin_wasi(id, &args, Mem::Plain(&memory), &wasi);
                t.end_wasi(
                    id,
                    &args,
                    Ok(Some(0)),
                    Mem::Plain(&memory),
                    &wasi,
                    Duration::ZERO,
                );
                t.begin_wasi(id, &args, Mem::Plain(&memory), &wasi);
                t.end_wasi(
                    id,
                    &args,
                    Ok(Some(8)),
                    Mem::Plain(&memory),
                    &wasi,
                    Duration::ZERO,
                );
            }
        }
        assert!(t.paths.values().all(|p| p.len() <= PATH_CAP));
    }
}
