//! The observing variants of the glue, for instances that trace or count calls (the
//! plain glue never comes here): `wasi/link.rs` registers [`observe_wasi`] around each
//! WASI function, and `#[hostcall]`'s expansion calls [`observe_hostcall`] through
//! `hostcall/private.rs`. Each counts the call, traces it if the filter lets it
//! through (`trace.rs` writes the line), and runs it.

use crate::hostcall::{ParamKind, Scalar, Signature};
use crate::store::StoreData;
use crate::trace::{escaped, fault, string_arg, Mem, RawValue, DATA_CAP};
use crate::wasi::WasiCtx;
use std::fmt::Write as _;
use std::time::Instant;
use wasmtime::Caller;

/// The guest's memory (empty if it has none) and WASI state, the observer taken out.
fn view<'a>(caller: &'a mut Caller<'_, StoreData>) -> (Mem<'a>, &'a WasiCtx) {
    match StoreData::memory(caller) {
        Some(memory) => {
            let (bytes, store) = memory.data_and_store_mut(caller);
            (Mem(bytes), &store.wasi)
        }
        None => (Mem(&[]), &caller.data().wasi),
    }
}

/// A WASI call of an observed instance: counts it, traces it if the filter lets it
/// through, and runs it (`call`). `id` indexes `trace::WASI`; `args` are its wasm
/// arguments.
#[cold]
#[inline(never)]
pub(crate) fn observe_wasi<R: RawValue>(
    caller: &mut Caller<'_, StoreData>,
    id: usize,
    args: &[u64],
    call: impl FnOnce(&mut Caller<'_, StoreData>) -> wasmtime::Result<R>,
) -> wasmtime::Result<R> {
    let Some(mut obs) = caller.data_mut().observer.take() else {
        return call(caller);
    };
    if let Some(c) = &mut obs.counts {
        c.wasi[id] += 1;
    }
    let result = match obs.tracer.as_mut().filter(|t| t.wasi[id]) {
        None => call(caller),
        Some(t) => {
            let (mem, wasi) = view(caller);
            t.begin_wasi(id, args, mem, wasi);
            let start = Instant::now();
            let result = call(caller);
            let took = start.elapsed();
            let (mem, wasi) = view(caller);
            t.end_wasi(id, args, result.as_ref().map(|r| r.raw()), mem, wasi, took);
            result
        }
    };
    caller.data_mut().observer = Some(obs);
    result
}

/// A host function's call in an observed instance: counts it, traces it if the filter
/// names it (by `name` or `module::name`), and runs it (`call`).
#[cold]
#[inline(never)]
pub(crate) fn observe_hostcall<R: RawValue>(
    caller: &mut Caller<'_, StoreData>,
    sig: &'static Signature,
    args: &[u64],
    call: impl FnOnce(&mut Caller<'_, StoreData>) -> wasmtime::Result<R>,
) -> wasmtime::Result<R> {
    let Some(mut obs) = caller.data_mut().observer.take() else {
        return call(caller);
    };
    if let Some(c) = &mut obs.counts {
        match c
            .host
            .iter_mut()
            .find(|(f, _)| std::ptr::eq(*f, sig.function))
        {
            Some((_, n)) => *n += 1,
            None => c.host.push((sig.function, 1)),
        }
    }
    let traced = obs
        .tracer
        .as_mut()
        .filter(|t| t.filter.matches(sig.name) || t.filter.matches(sig.function));
    let result = match traced {
        None => call(caller),
        Some(t) => {
            {
                let mem = match StoreData::memory(caller) {
                    Some(m) => Mem(m.data(&*caller)),
                    None => Mem(&[]),
                };
                t.begin(sig.function, |line| params(line, sig, args, mem));
            }
            let start = Instant::now();
            let result = call(caller);
            let took = start.elapsed();
            let raw = result.as_ref().map(|r| r.raw());
            match sig.result {
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
    };
    caller.data_mut().observer = Some(obs);
    result
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
                            escaped(out, s, DATA_CAP);
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
