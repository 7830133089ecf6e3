//! Watching a guest: the strace-like call trace (`--trace`) and syscall counts (`--stats`).
//!
//! Both live in one [`Observer`] that the store holds only when asked for. Such an
//! instance is linked with the observing variant of every function (`observe.rs`, for
//! WASI and `#[hostcall]` alike); every other instance runs the plain glue, untouched
//! by this module. This file is the part that knows no store:
//! the decoder and the line format, the filter, the counts.
//!
//! Decoding treats every guest value as hostile: a pointer is read only through
//! [`Mem`], which checks bounds and prints `<fault>` instead of failing, and what is
//! read is capped (paths at [`PATH_CAP`] bytes, data at [`DATA_CAP`]), so nothing the
//! trace allocates is sized by the guest.

use crate::wasi::{ExitRequested, WasiCtx};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

/// The most bytes of a path (or other string) the trace shows.
pub(crate) const PATH_CAP: usize = 256;
/// The most bytes of data (a write's or read's buffer) the trace shows.
pub(crate) const DATA_CAP: usize = 32;

/// How a WASI argument is shown. Two-word kinds (`Str`, `Iovs`, ...) take a pointer
/// and a length; `Out*` kinds are result pointers, shown after the call.
#[derive(Clone, Copy, PartialEq)]
enum A {
    Fd,
    U32,
    U64,
    I64,
    /// A pointer shown as an address.
    Ptr,
    /// A string (path): pointer, length.
    Str,
    /// Buffers the host reads (a write): pointer, count of `ciovec`s.
    Ciovs,
    /// Buffers the host fills (a read): pointer, count of `iovec`s.
    Iovs,
    /// A buffer: pointer, length.
    Buf,
    /// A buffer the call fills with a name (`fd_prestat_dir_name`): pointer, length.
    NameBuf,
    Clock,
    Whence,
    Advice,
    Signal,
    Lookup,
    Oflags,
    Rights,
    Fdflags,
    Fstflags,
    Riflags,
    Sdflags,
    /// A result pointer: its label and what it points at.
    Out(&'static str, O),
}

/// What a result pointer points at.
#[derive(Clone, Copy, PartialEq)]
enum O {
    U32,
    U64,
    Fd,
    Fdstat,
    Filestat,
    Prestat,
    Roflags,
}

use A::*;

/// One preview1 function: its name and how to show its wasm arguments.
pub(crate) struct Desc {
    pub(crate) name: &'static str,
    args: &'static [A],
}

const fn d(name: &'static str, args: &'static [A]) -> Desc {
    Desc { name, args }
}

/// Every preview1 function; the index is the id the observing glue passes along.
pub(crate) static WASI: [Desc; 46] = [
    d("args_get", &[Ptr, Ptr]),
    d(
        "args_sizes_get",
        &[Out("argc", O::U32), Out("argv_buf_size", O::U32)],
    ),
    d("environ_get", &[Ptr, Ptr]),
    d(
        "environ_sizes_get",
        &[Out("count", O::U32), Out("buf_size", O::U32)],
    ),
    d("clock_res_get", &[Clock, Out("resolution", O::U64)]),
    d("clock_time_get", &[Clock, U64, Out("time", O::U64)]),
    d("fd_advise", &[Fd, U64, U64, Advice]),
    d("fd_allocate", &[Fd, U64, U64]),
    d("fd_close", &[Fd]),
    d("fd_datasync", &[Fd]),
    d("fd_fdstat_get", &[Fd, Out("stat", O::Fdstat)]),
    d("fd_fdstat_set_flags", &[Fd, Fdflags]),
    d("fd_fdstat_set_rights", &[Fd, Rights, Rights]),
    d("fd_filestat_get", &[Fd, Out("stat", O::Filestat)]),
    d("fd_filestat_set_size", &[Fd, U64]),
    d("fd_filestat_set_times", &[Fd, U64, U64, Fstflags]),
    d("fd_pread", &[Fd, Iovs, U64, Out("nread", O::U32)]),
    d("fd_prestat_get", &[Fd, Out("prestat", O::Prestat)]),
    d("fd_prestat_dir_name", &[Fd, NameBuf]),
    d("fd_pwrite", &[Fd, Ciovs, U64, Out("nwritten", O::U32)]),
    d("fd_read", &[Fd, Iovs, Out("nread", O::U32)]),
    d("fd_readdir", &[Fd, Buf, U64, Out("bufused", O::U32)]),
    d("fd_renumber", &[Fd, Fd]),
    d("fd_seek", &[Fd, I64, Whence, Out("offset", O::U64)]),
    d("fd_sync", &[Fd]),
    d("fd_tell", &[Fd, Out("offset", O::U64)]),
    d("fd_write", &[Fd, Ciovs, Out("nwritten", O::U32)]),
    d("path_create_directory", &[Fd, Str]),
    d(
        "path_filestat_get",
        &[Fd, Lookup, Str, Out("stat", O::Filestat)],
    ),
    d(
        "path_filestat_set_times",
        &[Fd, Lookup, Str, U64, U64, Fstflags],
    ),
    d("path_link", &[Fd, Lookup, Str, Fd, Str]),
    d(
        "path_open",
        &[
            Fd,
            Lookup,
            Str,
            Oflags,
            Rights,
            Rights,
            Fdflags,
            Out("fd", O::Fd),
        ],
    ),
    d("path_readlink", &[Fd, Str, Buf, Out("bufused", O::U32)]),
    d("path_remove_directory", &[Fd, Str]),
    d("path_rename", &[Fd, Str, Fd, Str]),
    d("path_symlink", &[Str, Fd, Str]),
    d("path_unlink_file", &[Fd, Str]),
    d("poll_oneoff", &[Ptr, Ptr, U32, Out("nevents", O::U32)]),
    d("proc_exit", &[U32]),
    d("proc_raise", &[Signal]),
    d("sched_yield", &[]),
    d("random_get", &[Buf]),
    d("sock_accept", &[Fd, Fdflags, Out("fd", O::Fd)]),
    d(
        "sock_recv",
        &[
            Fd,
            Iovs,
            Riflags,
            Out("nread", O::U32),
            Out("flags", O::Roflags),
        ],
    ),
    d("sock_send", &[Fd, Ciovs, U32, Out("nwritten", O::U32)]),
    d("sock_shutdown", &[Fd, Sdflags]),
];

/// How many preview1 functions there are.
pub(crate) const WASI_CALLS: usize = WASI.len();

/// The id of the preview1 function `name`, for the glue to register with.
pub(crate) fn wasi_id(name: &str) -> Option<usize> {
    WASI.iter().position(|d| d.name == name)
}

/// Whether `name` is a preview1 function.
pub(crate) fn is_wasi(name: &str) -> bool {
    wasi_id(name).is_some()
}

// ------------------------------------------------------------------------------ names

const ERRNO: [&str; 77] = [
    "SUCCESS",
    "2BIG",
    "ACCES",
    "ADDRINUSE",
    "ADDRNOTAVAIL",
    "AFNOSUPPORT",
    "AGAIN",
    "ALREADY",
    "BADF",
    "BADMSG",
    "BUSY",
    "CANCELED",
    "CHILD",
    "CONNABORTED",
    "CONNREFUSED",
    "CONNRESET",
    "DEADLK",
    "DESTADDRREQ",
    "DOM",
    "DQUOT",
    "EXIST",
    "FAULT",
    "FBIG",
    "HOSTUNREACH",
    "IDRM",
    "ILSEQ",
    "INPROGRESS",
    "INTR",
    "INVAL",
    "IO",
    "ISCONN",
    "ISDIR",
    "LOOP",
    "MFILE",
    "MLINK",
    "MSGSIZE",
    "MULTIHOP",
    "NAMETOOLONG",
    "NETDOWN",
    "NETRESET",
    "NETUNREACH",
    "NFILE",
    "NOBUFS",
    "NODEV",
    "NOENT",
    "NOEXEC",
    "NOLCK",
    "NOLINK",
    "NOMEM",
    "NOMSG",
    "NOPROTOOPT",
    "NOSPC",
    "NOSYS",
    "NOTCONN",
    "NOTDIR",
    "NOTEMPTY",
    "NOTRECOVERABLE",
    "NOTSOCK",
    "NOTSUP",
    "NOTTY",
    "NXIO",
    "OVERFLOW",
    "OWNERDEAD",
    "PERM",
    "PIPE",
    "PROTO",
    "PROTONOSUPPORT",
    "PROTOTYPE",
    "RANGE",
    "ROFS",
    "SPIPE",
    "SRCH",
    "STALE",
    "TIMEDOUT",
    "TXTBSY",
    "XDEV",
    "NOTCAPABLE",
];

const RIGHTS: [&str; 30] = [
    "FD_DATASYNC",
    "FD_READ",
    "FD_SEEK",
    "FD_FDSTAT_SET_FLAGS",
    "FD_SYNC",
    "FD_TELL",
    "FD_WRITE",
    "FD_ADVISE",
    "FD_ALLOCATE",
    "PATH_CREATE_DIRECTORY",
    "PATH_CREATE_FILE",
    "PATH_LINK_SOURCE",
    "PATH_LINK_TARGET",
    "PATH_OPEN",
    "FD_READDIR",
    "PATH_READLINK",
    "PATH_RENAME_SOURCE",
    "PATH_RENAME_TARGET",
    "PATH_FILESTAT_GET",
    "PATH_FILESTAT_SET_SIZE",
    "PATH_FILESTAT_SET_TIMES",
    "FD_FILESTAT_GET",
    "FD_FILESTAT_SET_SIZE",
    "FD_FILESTAT_SET_TIMES",
    "PATH_SYMLINK",
    "PATH_REMOVE_DIRECTORY",
    "PATH_UNLINK_FILE",
    "POLL_FD_READWRITE",
    "SOCK_SHUTDOWN",
    "SOCK_ACCEPT",
];

const SIGNALS: [&str; 31] = [
    "NONE", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
    "XFSZ", "VTALRM", "PROF", "WINCH", "POLL", "PWR", "SYS",
];

const FILETYPES: [&str; 8] = [
    "UNKNOWN",
    "BLOCK_DEVICE",
    "CHARACTER_DEVICE",
    "DIRECTORY",
    "REGULAR_FILE",
    "SOCKET_DGRAM",
    "SOCKET_STREAM",
    "SYMBOLIC_LINK",
];

/// The errno's name, as `ENOENT`.
pub(crate) fn errno_name(out: &mut String, code: i32) {
    match usize::try_from(code).ok().and_then(|i| ERRNO.get(i)) {
        Some(name) => {
            out.push('E');
            out.push_str(name);
        }
        None => {
            let _ = write!(out, "{code}");
        }
    }
}

/// One value of an enumeration, or its number if out of range.
fn enum_name(out: &mut String, names: &[&str], v: u64) {
    match usize::try_from(v).ok().and_then(|i| names.get(i)) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Flags as `A|B`, unknown bits in hex, `0` for none.
fn flag_names(out: &mut String, names: &[&str], v: u64) {
    if v == 0 {
        out.push('0');
        return;
    }
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push('|');
        }
        first = false;
    };
    for (bit, name) in names.iter().enumerate() {
        if v & (1 << bit) != 0 {
            sep(out);
            out.push_str(name);
        }
    }
    let known = if names.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << names.len()) - 1
    };
    if v & !known != 0 {
        sep(out);
        let _ = write!(out, "{:#x}", v & !known);
    }
}

/// Rights: by name when few are set; else as `ALL` less the ones missing
/// (`ALL&~(FD_WRITE|FD_ALLOCATE)`), as wasi-libc asks for nearly all of them.
fn rights(out: &mut String, v: u64) {
    let all = (1u64 << RIGHTS.len()) - 1;
    if v & !all != 0 || (v.count_ones() as usize) <= RIGHTS.len() / 2 {
        flag_names(out, &RIGHTS, v);
    } else if v == all {
        out.push_str("ALL");
    } else {
        out.push_str("ALL&~(");
        flag_names(out, &RIGHTS, all & !v);
        out.push(')');
    }
}

/// Bytes as a quoted string: printable ASCII as is, the rest escaped (`\n`, `\x1b`),
/// so that no guest data reaches a terminal raw. At most `cap` bytes, then `...`.
pub(crate) fn escaped(out: &mut String, bytes: &[u8], cap: usize) {
    out.push('"');
    escape_into(out, &bytes[..bytes.len().min(cap)]);
    out.push('"');
    if bytes.len() > cap {
        out.push_str("...");
    }
}

pub(crate) fn escape_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

// ----------------------------------------------------------------------------- memory

/// Guest memory as the trace reads it: every access checked, nothing trusted.
#[derive(Clone, Copy)]
pub(crate) struct Mem<'a>(pub(crate) &'a [u8]);

impl<'a> Mem<'a> {
    pub(crate) fn bytes(self, ptr: u64, len: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(ptr).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.0.get(start..end)
    }

    fn u8(self, ptr: u64) -> Option<u8> {
        Some(self.bytes(ptr, 1)?[0])
    }

    fn u16(self, ptr: u64) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(ptr, 2)?.try_into().ok()?))
    }

    pub(crate) fn u32(self, ptr: u64) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(ptr, 4)?.try_into().ok()?))
    }

    fn u64(self, ptr: u64) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(ptr, 8)?.try_into().ok()?))
    }

    /// Up to `cap` bytes of the string at `ptr`, and whether it is all there.
    pub(crate) fn string(self, ptr: u64, len: u64, cap: usize) -> Option<&'a [u8]> {
        self.bytes(ptr, len.min(cap as u64))
    }

    /// The first `limit` bytes (at most [`DATA_CAP`]) of the buffers of an iovec array,
    /// copied into `buf`; the count copied, or `None` if the array is out of bounds.
    fn gather(self, iovs: u64, count: u64, limit: u64, buf: &mut [u8; DATA_CAP]) -> Option<usize> {
        let mut n = 0;
        let limit = limit.min(DATA_CAP as u64) as usize;
        for i in 0..count {
            if n >= limit {
                break;
            }
            let entry = iovs.checked_add(i.checked_mul(8)?)?;
            let (ptr, len) = (self.u32(entry)?, self.u32(entry.checked_add(4)?)?);
            let take = (len as usize).min(limit - n);
            let data = self.bytes(u64::from(ptr), take as u64)?;
            buf[n..n + take].copy_from_slice(data);
            n += take;
        }
        Some(n)
    }

    /// The total length of an iovec array's buffers; `None` if out of bounds. Looks at
    /// no more than the first 1024 entries (preview1 allows no more).
    fn total(self, iovs: u64, count: u64) -> Option<u64> {
        let mut total = 0u64;
        for i in 0..count.min(1024) {
            total = total.saturating_add(u64::from(self.u32(iovs.checked_add(i * 8 + 4)?)?));
        }
        Some(total)
    }
}

pub(crate) fn fault(out: &mut String, ptr: u64) {
    let _ = write!(out, "{ptr:#x} <fault>");
}

// ----------------------------------------------------------------------------- filter

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
        WASI.iter().map(|d| d.name)
    }

    /// The first name that is neither a WASI function nor `known`, if any: a typo
    /// would trace nothing.
    pub(crate) fn unknown(&self, known: impl Fn(&str) -> bool) -> Option<&str> {
        let names = self.names.as_deref().unwrap_or_default();
        names
            .iter()
            .map(String::as_str)
            .find(|n| !is_wasi(n) && !known(n))
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
            return Err(crate::Error::InvalidArgument(
                "a trace filter names at least one call".into(),
            ));
        }
        Ok(TraceFilter::only(names))
    }
}

// ----------------------------------------------------------------------------- observer

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
    pub(crate) wasi: [u64; WASI_CALLS],
    /// Host functions by `module::name`, in the order first called.
    pub(crate) host: Vec<(&'static str, u64)>,
}

impl Counts {
    /// Every function called at least once, with its count, most called first.
    pub(crate) fn by_name(&self) -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = WASI
            .iter()
            .zip(self.wasi)
            .filter(|(_, n)| *n > 0)
            .map(|(d, n)| (d.name.to_string(), n))
            .chain(self.host.iter().map(|(f, n)| (f.to_string(), *n)))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all
    }
}

/// Writes the trace.
pub(crate) struct Tracer {
    out: Box<dyn Write + Send>,
    pub(crate) filter: TraceFilter,
    /// The line being written (reused: no allocation per call once warm).
    line: String,
    /// The guest path each fd was opened with, where known (capped at [`PATH_CAP`]).
    paths: HashMap<u32, Vec<u8>>,
    /// Which WASI functions the filter lets through, by id.
    pub(crate) wasi: [bool; WASI_CALLS],
}

impl Observer {
    /// An observer counting calls if `count`, tracing into `trace` if given.
    pub(crate) fn new(count: bool, trace: Option<(Box<dyn Write + Send>, TraceFilter)>) -> Self {
        Observer {
            counts: count.then(|| Counts {
                wasi: [0; WASI_CALLS],
                host: Vec::new(),
            }),
            tracer: trace.map(|(out, filter)| Tracer {
                wasi: std::array::from_fn(|i| filter.matches(WASI[i].name)),
                out,
                filter,
                line: String::with_capacity(256),
                paths: HashMap::new(),
            }),
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

/// Formats a host function's result from its bits.
pub(crate) type ValueFormat<'a> = &'a dyn Fn(&mut String, u64);

/// A wasm value as the trace sees it: its bits, zero-extended.
#[doc(hidden)]
pub trait RawValue: Copy {
    /// The value's bits (floats as their bit patterns), or `None` for `()`.
    fn raw(self) -> Option<u64>;
}

macro_rules! raw {
    ($($t:ty => $e:expr),*) => {$(
        impl RawValue for $t {
            #[inline]
            fn raw(self) -> Option<u64> {
                #[allow(clippy::redundant_closure_call)]
                Some(($e)(self))
            }
        }
    )*};
}
raw!(
    i32 => |v: i32| v as u32 as u64,
    u32 => |v: u32| v as u64,
    i64 => |v: i64| v as u64,
    u64 => |v: u64| v,
    f32 => |v: f32| v.to_bits() as u64,
    f64 => |v: f64| v.to_bits()
);

impl RawValue for () {
    #[inline]
    fn raw(self) -> Option<u64> {
        None
    }
}

impl Tracer {
    /// Starts the line of WASI call `id`: its name and decoded arguments.
    pub(crate) fn begin_wasi(&mut self, id: usize, args: &[u64], mem: Mem<'_>, wasi: &WasiCtx) {
        let desc = &WASI[id];
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str(desc.name);
        line.push('(');
        let mut i = 0;
        let mut first = true;
        for kind in desc.args {
            let a = |k: usize| args.get(i + k).copied().unwrap_or(0);
            let words = match kind {
                Str | Ciovs | Iovs | Buf | NameBuf => 2,
                _ => 1,
            };
            if !matches!(kind, Out(..)) {
                if !first {
                    line.push_str(", ");
                }
                first = false;
            }
            let out = &mut line;
            match *kind {
                Fd => self.fd(out, a(0) as u32, wasi),
                U32 | U64 => {
                    let _ = write!(out, "{}", a(0));
                }
                I64 => {
                    let _ = write!(out, "{}", a(0) as i64);
                }
                Ptr => {
                    let _ = write!(out, "{:#x}", a(0));
                }
                Str => string_arg(out, mem, a(0), a(1)),
                Ciovs => {
                    let mut buf = [0; DATA_CAP];
                    match (
                        mem.total(a(0), a(1)),
                        mem.gather(a(0), a(1), DATA_CAP as u64, &mut buf),
                    ) {
                        (Some(total), Some(n)) => {
                            escaped(out, &buf[..n], DATA_CAP);
                            if total > n as u64 {
                                out.push_str("...");
                            }
                            let _ = write!(out, " ({} iovec, {total} bytes)", a(1));
                        }
                        _ => fault(out, a(0)),
                    }
                }
                Iovs => match mem.total(a(0), a(1)) {
                    Some(total) => {
                        let _ = write!(out, "[{} iovec, {total} bytes]", a(1));
                    }
                    None => fault(out, a(0)),
                },
                Buf | NameBuf => {
                    let _ = write!(out, "{:#x}, {}", a(0), a(1));
                }
                Clock => enum_name(
                    out,
                    &["REALTIME", "MONOTONIC", "PROCESS_CPUTIME", "THREAD_CPUTIME"],
                    a(0),
                ),
                Whence => enum_name(out, &["SET", "CUR", "END"], a(0)),
                Advice => enum_name(
                    out,
                    &[
                        "NORMAL",
                        "SEQUENTIAL",
                        "RANDOM",
                        "WILLNEED",
                        "DONTNEED",
                        "NOREUSE",
                    ],
                    a(0),
                ),
                Signal => enum_name(out, &SIGNALS, a(0)),
                Lookup => flag_names(out, &["SYMLINK_FOLLOW"], a(0)),
                Oflags => flag_names(out, &["CREAT", "DIRECTORY", "EXCL", "TRUNC"], a(0)),
                Rights => rights(out, a(0)),
                Fdflags => flag_names(out, &["APPEND", "DSYNC", "NONBLOCK", "RSYNC", "SYNC"], a(0)),
                Fstflags => flag_names(out, &["ATIM", "ATIM_NOW", "MTIM", "MTIM_NOW"], a(0)),
                Riflags => flag_names(out, &["RECV_PEEK", "RECV_WAITALL"], a(0)),
                Sdflags => flag_names(out, &["RD", "WR"], a(0)),
                Out(..) => {}
            }
            i += words;
        }
        line.push(')');
        self.line = line;
    }

    /// Starts the line of a call that is not a WASI function's: `name(` what `args`
    /// writes `)`.
    pub(crate) fn begin(&mut self, name: &str, args: impl FnOnce(&mut String)) {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str(name);
        line.push('(');
        args(&mut line);
        line.push(')');
        self.line = line;
    }

    /// An fd, with the guest path it stands for where known: `3</sandbox>`.
    fn fd(&self, out: &mut String, fd: u32, wasi: &WasiCtx) {
        let _ = write!(out, "{fd}");
        if let Some(path) = self.paths.get(&fd) {
            out.push('<');
            escape_into(out, path);
            out.push('>');
        } else if let Some(name) = wasi.fds.trace_name(fd) {
            out.push('<');
            escape_into(out, name.as_bytes());
            out.push('>');
        }
    }

    /// Ends the line of WASI call `id`: its result and results, and the fd paths it
    /// changed.
    pub(crate) fn end_wasi(
        &mut self,
        id: usize,
        args: &[u64],
        result: Result<Option<u64>, &wasmtime::Error>,
        mem: Mem<'_>,
        wasi: &WasiCtx,
        took: Duration,
    ) {
        let ok = matches!(result, Ok(Some(0)));
        if ok {
            self.track_fds(id, args, mem, wasi);
        }
        let desc = &WASI[id];
        self.end(result, took, None, |out, paths| {
            if !ok {
                return;
            }
            let mut i = 0;
            let mut first = true;
            for kind in desc.args {
                let at = i;
                let a = |k: usize| args.get(at + k).copied().unwrap_or(0);
                match *kind {
                    Str | Ciovs | Iovs | Buf | NameBuf => i += 2,
                    _ => i += 1,
                }
                let (label, what) = match *kind {
                    Out(label, what) => (label, what),
                    NameBuf => {
                        out.push_str(if first { " (" } else { ", " });
                        first = false;
                        out.push_str("name ");
                        match mem.string(a(0), a(1), PATH_CAP) {
                            Some(s) => escaped(out, s, PATH_CAP),
                            None => fault(out, a(0)),
                        }
                        continue;
                    }
                    _ => continue,
                };
                out.push_str(if first { " (" } else { ", " });
                first = false;
                out.push_str(label);
                out.push(' ');
                let p = a(0);
                let shown = match what {
                    O::U32 => mem.u32(p).map(|v| {
                        let _ = write!(out, "{v}");
                    }),
                    O::U64 => mem.u64(p).map(|v| {
                        let _ = write!(out, "{v}");
                    }),
                    O::Fd => mem.u32(p).map(|v| {
                        let _ = write!(out, "{v}");
                        if let Some(path) = paths.get(&v) {
                            out.push('<');
                            escape_into(out, path);
                            out.push('>');
                        }
                    }),
                    O::Roflags => mem.u16(p).map(|v| {
                        flag_names(out, &["RECV_DATA_TRUNCATED"], v.into());
                    }),
                    O::Fdstat => (|| {
                        let (ft, flags) = (mem.u8(p)?, mem.u16(p.checked_add(2)?)?);
                        out.push('{');
                        enum_name(out, &FILETYPES, ft.into());
                        out.push_str(", flags ");
                        flag_names(
                            out,
                            &["APPEND", "DSYNC", "NONBLOCK", "RSYNC", "SYNC"],
                            flags.into(),
                        );
                        out.push('}');
                        Some(())
                    })(),
                    O::Filestat => (|| {
                        let (ft, size) =
                            (mem.u8(p.checked_add(16)?)?, mem.u64(p.checked_add(32)?)?);
                        out.push('{');
                        enum_name(out, &FILETYPES, ft.into());
                        let _ = write!(out, ", size {size}}}");
                        Some(())
                    })(),
                    O::Prestat => (|| {
                        let (tag, len) = (mem.u8(p)?, mem.u32(p.checked_add(4)?)?);
                        if tag == 0 {
                            let _ = write!(out, "{{DIR, name_len {len}}}");
                        } else {
                            let _ = write!(out, "{{{tag}}}");
                        }
                        Some(())
                    })(),
                };
                if shown.is_none() {
                    fault(out, p);
                }
            }
            // What a read brought in, up to the data cap.
            if matches!(desc.name, "fd_read" | "fd_pread" | "sock_recv") {
                let nread =
                    mem.u32(args[args.len() - if desc.name == "sock_recv" { 2 } else { 1 }]);
                let mut buf = [0; DATA_CAP];
                if let (Some(nread), Some(n)) = (
                    nread,
                    nread.and_then(|n| mem.gather(args[1], args[2], n.into(), &mut buf)),
                ) {
                    out.push_str(", data ");
                    escaped(out, &buf[..n], DATA_CAP);
                    if nread as usize > n {
                        out.push_str("...");
                    }
                }
            }
            if !first {
                out.push(')');
            }
        });
    }

    /// Keeps `paths` in step with the fd table after a successful call.
    fn track_fds(&mut self, id: usize, args: &[u64], mem: Mem<'_>, wasi: &WasiCtx) {
        match WASI[id].name {
            "path_open" => {
                let Some(fd) = mem.u32(args[8]) else { return };
                let mut path = Vec::new();
                match self.paths.get(&(args[0] as u32)) {
                    Some(dir) => path.extend_from_slice(dir),
                    None => path.extend_from_slice(
                        wasi.fds.trace_name(args[0] as u32).unwrap_or("").as_bytes(),
                    ),
                }
                // `.` is the directory itself.
                if let Some(name) = mem
                    .string(args[2], args[3], PATH_CAP)
                    .filter(|n| *n != b".")
                {
                    if !path.is_empty() && !path.ends_with(b"/") {
                        path.push(b'/');
                    }
                    path.extend_from_slice(name);
                }
                path.truncate(PATH_CAP);
                self.paths.insert(fd, path);
            }
            "fd_close" => {
                self.paths.remove(&(args[0] as u32));
            }
            "fd_renumber" => {
                let (from, to) = (args[0] as u32, args[1] as u32);
                match self.paths.remove(&from) {
                    Some(p) => self.paths.insert(to, p),
                    None => self.paths.remove(&to),
                };
            }
            _ => {}
        }
    }

    /// Ends the current line with the call's result and duration, and writes it out.
    /// A result is an errno, unless `value` formats it (a host function's result);
    /// `results` adds what the call returned through pointers.
    pub(crate) fn end(
        &mut self,
        result: Result<Option<u64>, &wasmtime::Error>,
        took: Duration,
        value: Option<ValueFormat<'_>>,
        results: impl FnOnce(&mut String, &HashMap<u32, Vec<u8>>),
    ) {
        let mut line = std::mem::take(&mut self.line);
        line.push_str(" = ");
        match result {
            Ok(None) => line.push_str("()"),
            Ok(Some(v)) if value.is_some() => {
                if let Some(format) = value {
                    format(&mut line, v);
                }
            }
            Ok(Some(0)) => {
                line.push('0');
                results(&mut line, &self.paths);
            }
            Ok(Some(v)) => errno_name(&mut line, v as i32),
            Err(e) => outcome(&mut line, e),
        }
        let _ = write!(line, " <{}.{:06}>", took.as_secs(), took.subsec_micros());
        line.push('\n');
        let _ = self.out.write_all(line.as_bytes());
        self.line = line;
    }
}

/// A string argument: quoted and escaped, `...` after the first [`PATH_CAP`] bytes.
pub(crate) fn string_arg(out: &mut String, mem: Mem<'_>, ptr: u64, len: u64) {
    match mem.string(ptr, len, PATH_CAP) {
        Some(s) => {
            escaped(out, s, PATH_CAP);
            if len > PATH_CAP as u64 {
                out.push_str("...");
            }
        }
        None => fault(out, ptr),
    }
}

/// How a call that did not return ended: `<exit 3>`, or the trap's first line.
fn outcome(out: &mut String, e: &wasmtime::Error) {
    if let Some(ExitRequested(status)) = e.downcast_ref::<ExitRequested>() {
        let _ = write!(out, "<exit {status}>");
        return;
    }
    let message = e.to_string();
    let first = message.lines().next().unwrap_or_default();
    out.push_str("<trap: ");
    escape_into(out, &first.as_bytes()[..first.len().min(PATH_CAP)]);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_flags_and_escapes() {
        let mut s = String::new();
        flag_names(
            &mut s,
            &["CREAT", "DIRECTORY", "EXCL", "TRUNC"],
            0b1001 | 0x100,
        );
        assert_eq!(s, "CREAT|TRUNC|0x100");
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
        let mem = Mem(&[1, 0, 0, 0, 8, 0, 0, 0, 0xaa, 0xbb]);
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
        for id in 0..WASI_CALLS {
            for &v in &values {
                let args = [v; 9];
                t.begin_wasi(id, &args, Mem(&memory), &wasi);
                t.end_wasi(id, &args, Ok(Some(0)), Mem(&memory), &wasi, Duration::ZERO);
                t.begin_wasi(id, &args, Mem(&memory), &wasi);
                t.end_wasi(id, &args, Ok(Some(8)), Mem(&memory), &wasi, Duration::ZERO);
            }
        }
        assert!(t.paths.values().all(|p| p.len() <= PATH_CAP));
    }
}
