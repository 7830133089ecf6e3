//! The observing side of the glue, for instances that trace or count calls (the plain
//! glue never comes here): the store's [`WasiView::observe`] and [`HostView::observe`]
//! hooks take the store's [`Observer`] out and call [`Observer::wasi_call`] or
//! [`Observer::host_call`], which count the call, trace it if the filter lets it
//! through (`line.rs` writes the line), and run it.

use super::names::{escaped, fault, string_arg, Mem, DATA_CAP};
use super::Observer;
use crate::hostcall::private::HostView;
use crate::hostcall::{ParamKind, Scalar, Signature};
use crate::wasi::{RawValue, WasiCtx, WasiView};
use std::fmt::Write as _;
use std::time::Instant;
use wasmtime::{Caller, Extern, Memory};

/// The guest's memory: the one cached at instantiation, else the export.
fn memory<S: Send + 'static>(caller: &mut Caller<'_, S>, cached: Option<Memory>) -> Option<Memory> {
    cached.or_else(|| match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Some(m),
        _ => None,
    })
}

/// The guest's memory (empty if it has none) and WASI state; a threaded guest's shared
/// memory and context (locked: drop it before the call).
fn view<'a, S: WasiView>(caller: &'a mut Caller<'_, S>) -> (Mem<'a>, CtxRef<'a>) {
    if caller.data().shared().is_some() {
        let shared = caller.data().shared().expect("checked just now");
        return (
            Mem::Shared(shared.memory().data()),
            CtxRef::Locked(shared.lock()),
        );
    }
    let cached = caller.data().memory();
    match memory(caller, cached) {
        Some(memory) => {
            let (bytes, store) = memory.data_and_store_mut(caller);
            (Mem::Plain(bytes), CtxRef::Own(store.ctx()))
        }
        None => (Mem::Plain(&[]), CtxRef::Own(caller.data_mut().ctx())),
    }
}

/// A WASI context as the trace reads it: a store's own, or a threaded guest's, locked.
enum CtxRef<'a> {
    Own(&'a WasiCtx),
    Locked(std::sync::MutexGuard<'a, WasiCtx>),
}

impl std::ops::Deref for CtxRef<'_> {
    type Target = WasiCtx;
    fn deref(&self) -> &WasiCtx {
        match self {
            CtxRef::Own(c) => c,
            CtxRef::Locked(c) => c,
        }
    }
}

impl Observer {
    /// A WASI call of an observed instance: counts it, traces it if the filter lets it
    /// through, and runs it (`call`). `id` indexes `wasi::FUNCTIONS`; `args` are its
    /// wasm arguments. A try that the async glue will make again (a deferred wait) is
    /// neither counted nor traced.
    #[cold]
    #[inline(never)]
    pub(crate) fn wasi_call<S: WasiView, R: RawValue>(
        &mut self,
        caller: &mut Caller<'_, S>,
        id: usize,
        args: &[u64],
        call: impl FnOnce(&mut Caller<'_, S>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let result = match self.tracer.as_mut().filter(|t| t.wasi[id]) {
            None => call(caller),
            Some(t) => {
                {
                    let (mem, wasi) = view(caller);
                    t.begin_wasi(id, args, mem, &wasi);
                }
                let start = Instant::now();
                let result = call(caller);
                let took = start.elapsed();
                if matches!(&result, Err(e) if crate::wasi::is_deferred(e)) {
                    t.discard();
                } else {
                    let (mem, wasi) = view(caller);
                    t.end_wasi(id, args, result.as_ref().map(|r| r.raw()), mem, &wasi, took);
                }
                result
            }
        };
        if let Some(c) = &mut self.counts {
            if !matches!(&result, Err(e) if crate::wasi::is_deferred(e)) {
                c.wasi[id] += 1;
            }
        }
        result
    }

    /// A host function's call in an observed instance: counts it, traces it if the
    /// filter names it (by `name` or `module::name`), and runs it (`call`).
    #[cold]
    #[inline(never)]
    pub(crate) fn host_call<S: HostView, R: RawValue>(
        &mut self,
        caller: &mut Caller<'_, S>,
        sig: &'static Signature,
        args: &[u64],
        call: impl FnOnce(&mut Caller<'_, S>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        if let Some(c) = &mut self.counts {
            match c
                .host
                .iter_mut()
                .find(|(f, _)| std::ptr::eq(*f, sig.function))
            {
                Some((_, n)) => *n += 1,
                None => c.host.push((sig.function, 1)),
            }
        }
        let traced = self
            .tracer
            .as_mut()
            .filter(|t| t.filter.matches(sig.name) || t.filter.matches(sig.function));
        match traced {
            None => call(caller),
            Some(t) => {
                {
                    let cached = caller.data().memory();
                    let mem = match memory(caller, cached) {
                        Some(m) => Mem::Plain(m.data(&*caller)),
                        None => Mem::Plain(&[]),
                    };
                    t.begin(sig.function, |line| params(line, sig, args, mem));
                }
                let start = Instant::now();
                let result = call(caller);
                let took = start.elapsed();
                let raw = result.as_ref().map(|r| r.raw());
                match sig.returns.scalar() {
                    Some(s) => t.end(
                        raw,
                        took,
                        Some(&|out: &mut String, v| scalar(out, s, v)),
                        |_, _| {},
                    ),
                    None => t.end(raw, took, None, |_, _| {}),
                }
                result
            }
        }
    }
}

/// The parameters, named: `key "abc", value 0x10[3] "xyz"`.
fn params(out: &mut String, sig: &Signature, args: &[u64], mem: Mem<'_>) {
    let mut i = 0;
    for (n, param) in sig.params.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        out.push_str(param.name);
        out.push(' ');
        let a = |k: usize| args.get(i + k).copied().unwrap_or(0);
        match &param.kind {
            ParamKind::Scalar(s) => {
                scalar(out, *s, a(0));
                i += 1;
            }
            ParamKind::Str => {
                string_arg(out, mem, a(0), a(1));
                i += 2;
            }
            ParamKind::Slice { rust, mutable, .. } => {
                let _ = write!(out, "{:#x}[{}]", a(0), a(1));
                if *rust == "u8" && !mutable {
                    match mem.string(a(0), a(1), DATA_CAP) {
                        Some(s) => {
                            out.push(' ');
                            escaped(out, &s, DATA_CAP);
                            if a(1) > DATA_CAP as u64 {
                                out.push_str("...");
                            }
                        }
                        None => {
                            out.push(' ');
                            fault(out, a(0));
                        }
                    }
                }
                i += 2;
            }
            ParamKind::Ptr { .. } => {
                let _ = write!(out, "{:#x}", a(0));
                i += 1;
            }
        }
    }
}

/// A scalar as its Rust type shows it.
fn scalar(out: &mut String, s: Scalar, v: u64) {
    let _ = match s {
        Scalar::I32 => write!(out, "{}", v as u32 as i32),
        Scalar::U32 => write!(out, "{}", v as u32),
        Scalar::I64 => write!(out, "{}", v as i64),
        Scalar::U64 => write!(out, "{v}"),
        Scalar::F32 => write!(out, "{}", f32::from_bits(v as u32)),
        Scalar::F64 => write!(out, "{}", f64::from_bits(v)),
        Scalar::Bool => write!(out, "{}", v != 0),
    };
}
