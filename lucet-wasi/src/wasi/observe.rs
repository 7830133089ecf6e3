//! The observing variant of the WASI glue (`link.rs` registers it for instances that
//! trace or count calls): counts the call, and traces it if the filter lets it through.

use super::WasiCtx;
use crate::store::StoreData;
use crate::trace::{Mem, RawValue};
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
