//! What the Wasmtime store of a guest holds: its WASI context, its heap limiter, the
//! embedder's data, its exported memory once instantiated, and its observer if it is
//! watched; and how the WASI glue ([`WasiView`]) and the host-function glue
//! ([`HostView`]) see it.
//!
//! This is where the layers below meet: `wasi/`, `hostcall/` and `observe/` know no
//! store type; `module/` links for this one and `instance/` fills it.

mod threads;

pub(crate) use threads::{End, ThreadGroup, ThreadLimits};

use crate::hostcall::private::{Allocator, DataRef, HostParts, HostView, WasiRef};
use crate::hostcall::HostcallError;
use crate::hostcall::Signature;
use crate::observe::Observer;
use crate::wasi::{RawValue, SharedCtx, WasiCtx, WasiCtxBuilder, WasiView};
use std::any::Any;
use std::sync::Arc;
use wasmtime::{Caller, Memory, ResourceLimiter, SharedMemory, Store};

/// The store data of every guest instance.
#[doc(hidden)]
pub struct StoreData {
    pub(crate) wasi: WasiCtx,
    limiter: HeapLimiter,
    /// The embedder data given to the builder (`()` when none was given).
    pub(crate) data: Box<dyn Any + Send>,
    /// The type name of `data`, for error messages.
    pub(crate) data_name: &'static str,
    /// The guest's exported `memory`, cached at instantiation so that the glue never
    /// looks it up by name.
    pub(crate) memory: Option<Memory>,
    /// The guest's `cabi_realloc`, once a host function returning an owned value has
    /// looked it up.
    allocator: Option<Allocator>,
    /// Counts and traces calls, when asked to (see `observe/`); `None` costs a call one
    /// branch, and only in instances linked with the observing glue.
    pub(crate) observer: Option<Box<Observer>>,
    /// The threads of a threaded guest, which this store is one of.
    pub(crate) threads: Option<Arc<ThreadGroup>>,
}

/// The most table elements a guest's tables may hold together, unless the builder says
/// otherwise ([`max_table_elements`](crate::WasiInstanceBuilder::max_table_elements)):
/// each takes a pointer or two of host memory, so this bounds tables at ~160 MB.
pub(crate) const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// Caps the guest's linear memories, all of them together (a module may have several,
/// 32- or 64-bit), at the maximum heap: `memory.grow` beyond it returns -1; and its
/// tables, all of them together, at a number of elements: `table.grow` beyond it too.
pub(crate) struct HeapLimiter {
    max_heap: u64,
    /// Bytes of all memories, as approved so far (a growth the host then fails to map,
    /// which is rare, stays counted: the cap errs on the safe side).
    total: u64,
    max_table_elements: u64,
    /// Elements of all tables, as approved so far.
    table_elements: u64,
}

impl HeapLimiter {
    /// Caps memories at `max_heap` bytes and tables at `max_table_elements`, all together.
    pub(crate) fn new((max_heap, max_table_elements): (u64, u64)) -> HeapLimiter {
        HeapLimiter {
            max_heap,
            total: 0,
            max_table_elements,
            table_elements: 0,
        }
    }

    /// The bytes of all memories so far: their peak, as memories never shrink.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
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
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = (desired as u64).saturating_sub(current as u64);
        let total = self.table_elements.saturating_add(growth);
        if total > self.max_table_elements {
            return Ok(false);
        }
        self.table_elements = total;
        Ok(true)
    }
}

impl StoreData {
    /// A store for one guest, its memories and tables capped as `caps` says (maximum
    /// heap bytes, maximum table elements: see [`HeapLimiter::new`]).
    pub(crate) fn store(
        engine: &wasmtime::Engine,
        wasi: WasiCtx,
        caps: (u64, u64),
        data: Box<dyn Any + Send>,
        data_name: &'static str,
    ) -> Store<StoreData> {
        StoreData {
            wasi,
            limiter: HeapLimiter::new(caps),
            data,
            data_name,
            memory: None,
            allocator: None,
            observer: None,
            threads: None,
        }
        .into_store(engine)
    }

    fn into_store(self, engine: &wasmtime::Engine) -> Store<StoreData> {
        let mut store = Store::new(engine, self);
        store.limiter(|data| &mut data.limiter);
        store
    }

    /// A new store for a restarted instance: the same settings, embedder data and
    /// observer; the WASI context as it started (see `WasiCtx::restart`); no memory.
    pub(crate) fn restart(store: Store<StoreData>) -> Store<StoreData> {
        let engine = store.engine().clone();
        let mut data = store.into_data();
        data.wasi.restart();
        data.limiter.total = 0;
        data.limiter.table_elements = 0;
        data.memory = None;
        data.allocator = None;
        data.into_store(&engine)
    }

    /// Bytes of linear memory approved so far, all memories together: the peak, as
    /// memories never shrink.
    pub(crate) fn heap_peak(&self) -> u64 {
        self.limiter.total()
    }

    /// An empty store, for inspecting a linker.
    pub(crate) fn scratch(engine: &wasmtime::Engine) -> Store<StoreData> {
        StoreData::store(
            engine,
            WasiCtxBuilder::empty().build(),
            (0, 0),
            Box::new(()),
            "()",
        )
    }
}

impl WasiView for StoreData {
    #[inline]
    fn ctx(&mut self) -> &mut WasiCtx {
        &mut self.wasi
    }

    #[inline]
    fn memory(&self) -> Option<Memory> {
        self.memory
    }

    #[inline]
    fn shared(&self) -> Option<&SharedCtx> {
        self.threads.as_deref().map(|t| &t.wasi)
    }

    fn observe<R: RawValue>(
        caller: &mut Caller<'_, Self>,
        id: usize,
        args: &[u64],
        call: impl FnOnce(&mut Caller<'_, Self>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        // The observer is taken out of the store for the call, which needs the store.
        let Some(mut observer) = caller.data_mut().observer.take() else {
            return call(caller);
        };
        let result = observer.wasi_call(caller, id, args, call);
        caller.data_mut().observer = Some(observer);
        result
    }
}

impl HostView for StoreData {
    #[inline]
    fn memory(&self) -> Option<Memory> {
        self.memory
    }

    #[inline]
    fn allocator(&mut self) -> &mut Option<Allocator> {
        &mut self.allocator
    }

    #[inline]
    fn shared_memory(&self) -> Option<SharedMemory> {
        self.threads.as_ref().map(|t| t.wasi.memory().clone())
    }

    #[inline]
    fn parts(&mut self) -> Result<HostParts<'_>, HostcallError> {
        match &self.threads {
            None => Ok(HostParts {
                data: DataRef::Own(&mut *self.data),
                data_name: self.data_name,
                wasi: WasiRef::Own(&mut self.wasi),
            }),
            // A threaded instance's, shared by its threads.
            Some(group) => Ok(HostParts {
                data: DataRef::Locked(group.data.lock()?),
                data_name: group.data.name(),
                wasi: WasiRef::Shared(&group.wasi),
            }),
        }
    }

    fn observe<R: RawValue>(
        caller: &mut Caller<'_, Self>,
        sig: &'static Signature,
        args: &[u64],
        call: impl FnOnce(&mut Caller<'_, Self>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let Some(mut observer) = caller.data_mut().observer.take() else {
            return call(caller);
        };
        let result = observer.host_call(caller, sig, args, call);
        caller.data_mut().observer = Some(observer);
        result
    }
}
