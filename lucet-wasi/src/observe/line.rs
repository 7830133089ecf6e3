//! Writing one line per call: name, decoded arguments, result and duration.

use super::names::*;
use super::TraceFilter;
use crate::wasi::{types, Arg, ExitRequested, Pointee, WasiCtx, FUNCTIONS, FUNCTION_COUNT};
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
    pub(crate) wasi: [bool; FUNCTION_COUNT],
    /// What each line starts with: `[N] ` in a threaded guest (N the thread, 0 the main).
    pub(crate) prefix: String,
}

/// Formats a host function's result from its bits.
pub(crate) type ValueFormat<'a> = &'a dyn Fn(&mut String, u64);

impl Tracer {
    /// Starts the line of WASI call `id`: its name and decoded arguments.
    pub(crate) fn begin_wasi(&mut self, id: usize, args: &[u64], mem: Mem<'_>, wasi: &WasiCtx) {
        let desc = &FUNCTIONS[id];
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str(&self.prefix);
        line.push_str(desc.name);
        line.push('(');
        let mut i = 0;
        let mut first = true;
        for kind in desc.args {
            let a = |k: usize| args.get(i + k).copied().unwrap_or(0);
            let words = kind.words();
            if !matches!(kind, Arg::Out(..)) {
                if !first {
                    line.push_str(", ");
                }
                first = false;
            }
            let out = &mut line;
            match *kind {
                Arg::Fd => self.fd(out, a(0) as u32, wasi),
                Arg::U32 | Arg::U64 => {
                    let _ = write!(out, "{}", a(0));
                }
                Arg::I64 => {
                    let _ = write!(out, "{}", a(0) as i64);
                }
                Arg::Ptr => {
                    let _ = write!(out, "{:#x}", a(0));
                }
                Arg::Str => string_arg(out, mem, a(0), a(1)),
                Arg::Ciovs => {
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
                Arg::Iovs => match mem.total(a(0), a(1)) {
                    Some(total) => {
                        let _ = write!(out, "[{} iovec, {total} bytes]", a(1));
                    }
                    None => fault(out, a(0)),
                },
                Arg::Buf | Arg::NameBuf => {
                    let _ = write!(out, "{:#x}, {}", a(0), a(1));
                }
                Arg::Clock => enum_name::<types::Clockid>(out, a(0)),
                Arg::Whence => enum_name::<types::Whence>(out, a(0)),
                Arg::Advice => enum_name::<types::Advice>(out, a(0)),
                Arg::Signal => enum_name::<types::Signal>(out, a(0)),
                Arg::Lookup => flag_names::<types::Lookupflags>(out, a(0)),
                Arg::Oflags => flag_names::<types::Oflags>(out, a(0)),
                Arg::Rights => rights(out, a(0)),
                Arg::Fdflags => flag_names::<types::Fdflags>(out, a(0)),
                Arg::Fstflags => flag_names::<types::Fstflags>(out, a(0)),
                Arg::Riflags => flag_names::<types::Riflags>(out, a(0)),
                Arg::Sdflags => flag_names::<types::Sdflags>(out, a(0)),
                Arg::Out(..) => {}
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
        line.push_str(&self.prefix);
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
        let desc = &FUNCTIONS[id];
        self.end(result, took, None, |out, paths| {
            if !ok {
                return;
            }
            let mut i = 0;
            let mut first = true;
            for kind in desc.args {
                let at = i;
                let a = |k: usize| args.get(at + k).copied().unwrap_or(0);
                i += kind.words();
                let (label, what) = match *kind {
                    Arg::Out(label, what) => (label, what),
                    Arg::NameBuf => {
                        out.push_str(if first { " (" } else { ", " });
                        first = false;
                        out.push_str("name ");
                        match mem.string(a(0), a(1), PATH_CAP) {
                            Some(s) => escaped(out, &s, PATH_CAP),
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
                    Pointee::U32 => mem.u32(p).map(|v| {
                        let _ = write!(out, "{v}");
                    }),
                    Pointee::U64 => mem.u64(p).map(|v| {
                        let _ = write!(out, "{v}");
                    }),
                    Pointee::Fd => mem.u32(p).map(|v| {
                        let _ = write!(out, "{v}");
                        if let Some(path) = paths.get(&v) {
                            out.push('<');
                            escape_into(out, path);
                            out.push('>');
                        }
                    }),
                    Pointee::Roflags => mem.u16(p).map(|v| {
                        flag_names::<types::Roflags>(out, v.into());
                    }),
                    Pointee::Fdstat => (|| {
                        let (ft, flags) = (mem.u8(p)?, mem.u16(p.checked_add(2)?)?);
                        out.push('{');
                        enum_name::<types::Filetype>(out, ft.into());
                        out.push_str(", flags ");
                        flag_names::<types::Fdflags>(out, flags.into());
                        out.push('}');
                        Some(())
                    })(),
                    Pointee::Filestat => (|| {
                        let (ft, size) =
                            (mem.u8(p.checked_add(16)?)?, mem.u64(p.checked_add(32)?)?);
                        out.push('{');
                        enum_name::<types::Filetype>(out, ft.into());
                        let _ = write!(out, ", size {size}}}");
                        Some(())
                    })(),
                    Pointee::Prestat => (|| {
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

    /// Drops the line begun: the call will be made again (and traced then).
    pub(crate) fn discard(&mut self) {
        self.line.clear();
    }

    /// Keeps `paths` in step with the fd table after a successful call.
    fn track_fds(&mut self, id: usize, args: &[u64], mem: Mem<'_>, wasi: &WasiCtx) {
        match FUNCTIONS[id].name {
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
                    .filter(|n| **n != *b".")
                {
                    if !path.is_empty() && !path.ends_with(b"/") {
                        path.push(b'/');
                    }
                    path.extend_from_slice(&name);
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
