//! What the Wasmtime store of a guest holds: its WASI state, its heap limiter, the
//! embedder's data and, once instantiated, its exported memory.

use crate::wasi::{WasiCtx, WasiCtxBuilder};
use std::any::Any;
use wasmtime::{Caller, Extern, Memory, ResourceLimiter, Store};

/// The store data of every guest instance.
#[doc(hidden)]
pub struct StoreData {
    pub(crate) wasi: WasiCtx,
    limiter: HeapLimiter,
    /// The embedder data given to the builder (`()` when none was given).
    pub(crate) data: Box<dyn Any + Send>,
    /// The type name of `data`, for error messages.
    pub(crate) data_name: &'static str,
    /// The guest's exported `memory`, cached at instantiation so that host functions
    /// never look it up by name.
    pub(crate) memory: Option<Memory>,
    /// Counts and traces calls, when asked to (see `trace.rs`); `None` costs a call one
    /// branch.
    pub(crate) observer: Option<Box<crate::trace::Observer>>,
}

/// The most table elements a guest may grow a table to.
const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// Caps the guest's linear memories, all of them together (a module may have several,
/// 32- or 64-bit), at the maximum heap: `memory.grow` beyond it returns -1.
struct HeapLimiter {
    max_heap: u64,
    /// Bytes of all memories, as approved so far (a growth the host then fails to map,
    /// which is rare, stays counted: the cap errs on the safe side).
    total: u64,
}

impl ResourceLimiter for HeapLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = (desired as u64).saturating_sub(current as u64);
        let total = self.total.saturating_add(growth);
        if total > self.max_heap {
            return Ok(false);
        }
        self.total = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

impl StoreData {
    /// A store for one guest, its memory growth capped at `max_heap` bytes.
    pub(crate) fn store(
        engine: &wasmtime::Engine,
        wasi: WasiCtx,
        max_heap: u64,
        data: Box<dyn Any + Send>,
        data_name: &'static str,
    ) -> Store<StoreData> {
        let mut store = Store::new(
            engine,
            StoreData {
                wasi,
                limiter: HeapLimiter { max_heap, total: 0 },
                data,
                data_name,
                memory: None,
                observer: None,
            },
        );
        store.limiter(|data| &mut data.limiter);
        store
    }

    /// The calling guest's exported `memory`: the one cached at instantiation, looked up
    /// by name only before that (from a start function).
    #[inline]
    pub(crate) fn memory(caller: &mut Caller<'_, StoreData>) -> Option<Memory> {
        caller
            .data()
            .memory
            .or_else(|| match caller.get_export("memory") {
                Some(Extern::Memory(m)) => Some(m),
                _ => None,
            })
    }

    /// Bytes of linear memory approved so far, all memories together: the peak, as
    /// memories never shrink.
    pub(crate) fn heap_peak(&self) -> u64 {
        self.limiter.total
    }

    /// An empty store, for inspecting a linker.
    pub(crate) fn scratch(engine: &wasmtime::Engine) -> Store<StoreData> {
        StoreData::store(
            engine,
            WasiCtxBuilder::empty().build(),
            0,
            Box::new(()),
            "()",
        )
    }
}
