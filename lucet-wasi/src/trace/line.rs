//! Writing one line per call: name, decoded arguments, result and duration.

use super::names::*;
use super::table::*;
use super::TraceFilter;
use crate::wasi::{ExitRequested, WasiCtx};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

/// Writes the trace.
pub(crate) struct Tracer {
    pub(crate) out: Box<dyn Write + Send>,
    pub(crate) filter: TraceFilter,
    /// The line being written (reused: no allocation per call once warm).
    pub(crate) line: String,
    /// The guest path each fd was opened with, where known (capped at [`PATH_CAP`]).
    pub(crate) paths: HashMap<u32, Vec<u8>>,
    /// Which WASI functions the filter lets through, by id.
    pub(crate) wasi: [bool; WASI_CALLS],
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
