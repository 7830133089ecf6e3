//! Threaded instances (wasi-threads): the shared memory and thread group a build gives
//! them, the functions their threads import besides WASI (`wasi`.`thread-spawn` and the
//! rewritten atomic waits, see `module/atomics.rs`), and how a run ends them.

use crate::error::{EngineSetting, Misuse};
use crate::hostcall::private::SharedData;
use crate::hostcall::HostcallSet;
use crate::module::{Module, ThreadedMemory, ATOMICS, NOTIFY, WAIT32, WAIT64};
use crate::store::{End, StoreData, ThreadGroup, ThreadLimits};
use crate::wasi::{SharedCtx, WasiCtx};
use crate::{Bytes, Error};
use std::sync::Arc;
use wasmtime::{Caller, InstancePre, MemoryType, SharedMemory, Store};

/// The threads one instance may have at once by default, besides its main thread.
pub(super) const DEFAULT_MAX_THREADS: u32 = 64;

/// Size of a wasm page.
const PAGE: u64 = 64 * 1024;

/// What [`threaded`] needs of the build.
pub(super) struct ThreadedBuild<'a> {
    pub(super) module: &'a Module,
    pub(super) memory: &'a ThreadedMemory,
    pub(super) max_heap: Bytes,
    pub(super) limits: ThreadLimits,
    pub(super) observed: bool,
    pub(super) asynchronous: bool,
    /// The instance's host functions besides the module's own.
    pub(super) hostcalls: &'a HostcallSet,
}

/// The thread group of a new threaded instance whose WASI context is `ctx`, and the
/// module linked for its threads (its main thread included) in `store`.
pub(super) fn threaded(
    build: ThreadedBuild<'_>,
    ctx: WasiCtx,
    store: &mut Store<StoreData>,
) -> Result<(Arc<ThreadGroup>, InstancePre<StoreData>), Error> {
    let module = build.module;
    if !module.engine().config().timeout_capable {
        return Err(Error::EngineLacks {
            needed: EngineSetting::TimeoutForThreads,
        });
    }
    if build.asynchronous {
        return Err(Error::Misuse(Misuse::NotForThreaded { what: "run_async" }));
    }
    let memory = shared_memory(module, build.memory, build.max_heap)?;
    let wasi = SharedCtx::new(ctx, memory.clone())
        .map_err(|e| Error::host("cannot set up the threads' WASI context", e))?;
    // The embedder data moves from the main thread's store to the group, for all threads.
    let data = std::mem::replace(&mut store.data_mut().data, Box::new(()));
    let data = SharedData::new(data, store.data().data_name);
    // The epochs that stop running threads advance once there are threads to stop (a
    // guest that spawns none pays nothing for them).
    let engine = module.engine().clone();
    let ticker = Box::new(move || engine.start_ticker());
    let group = Arc::new(ThreadGroup::new(wasi, data, build.limits, ticker));
    let mut linker = module.threaded_linker(build.observed)?;
    let link = |e: wasmtime::Error| Error::host("cannot link the threads' functions", e);
    linker
        .define(
            &mut *store,
            &build.memory.module,
            &build.memory.name,
            memory,
        )
        .map_err(link)?;
    linker
        .func_wrap("wasi", "thread-spawn", spawn)
        .map_err(link)?;
    linker
        .func_wrap(
            ATOMICS,
            WAIT32,
            |c: Caller<'_, StoreData>, addr: u32, expected: u32, timeout: i64, offset: u32| {
                group_of(&c)?.wait(addr, offset, expected as u64, false, timeout)
            },
        )
        .map_err(link)?;
    linker
        .func_wrap(
            ATOMICS,
            WAIT64,
            |c: Caller<'_, StoreData>, addr: u32, expected: u64, timeout: i64, offset: u32| {
                group_of(&c)?.wait(addr, offset, expected, true, timeout)
            },
        )
        .map_err(link)?;
    linker
        .func_wrap(
            ATOMICS,
            NOTIFY,
            |c: Caller<'_, StoreData>, addr: u32, count: u32, offset: u32| {
                group_of(&c)?.notify(addr, offset, count)
            },
        )
        .map_err(link)?;
    let pre = module.instantiate_with(linker, build.hostcalls, build.observed)?;
    group.set_pre(pre.clone());
    store.data_mut().threads = Some(group.clone());
    Ok((group, pre))
}

/// `wasi`.`thread-spawn(start_arg) -> tid`, negative on failure.
fn spawn(caller: Caller<'_, StoreData>, start_arg: i32) -> i32 {
    let engine = caller.engine().clone();
    match &caller.data().threads {
        Some(group) => group.spawn(&engine, start_arg),
        None => -1,
    }
}

fn group_of<'a>(caller: &'a Caller<'_, StoreData>) -> wasmtime::Result<&'a ThreadGroup> {
    match &caller.data().threads {
        Some(group) => Ok(group),
        None => wasmtime::bail!("internal error: a thread function in an unthreaded store"),
    }
}

/// The instance's shared memory: the module's import, its maximum clamped to the
/// maximum heap (Wasmtime's resource limiters do not see shared memories grow).
fn shared_memory(
    module: &Module,
    import: &ThreadedMemory,
    max_heap: Bytes,
) -> Result<SharedMemory, Error> {
    let initial = import.ty.minimum();
    let cap = max_heap.0 / PAGE;
    if initial > cap {
        return Err(Error::HeapTooSmall {
            initial: Bytes(initial.saturating_mul(PAGE)),
            max_heap,
        });
    }
    let maximum = import.ty.maximum().unwrap_or(cap).min(cap);
    let (Ok(initial), Ok(maximum)) = (u32::try_from(initial), u32::try_from(maximum)) else {
        return Err(Error::host(
            "cannot create the shared memory",
            "a 64-bit shared memory",
        ));
    };
    SharedMemory::new(
        &module.engine().0.engine,
        MemoryType::shared(initial, maximum),
    )
    .map_err(|e| Error::host("cannot create the shared memory", e))
}

/// How a threaded run ended, once the main thread's entry point has: its result, unless
/// another thread ended the instance first; every thread is stopped and joined.
pub(super) fn finish(group: &ThreadGroup, main: wasmtime::Result<()>) -> ThreadedEnd {
    match main {
        Ok(()) => group.end_with(End::Returned),
        Err(error) => group.end_with(End::Failed { thread: 0, error }),
    };
    group.join();
    let _ = group.wasi.lock().fds.flush_outputs();
    match group.take_end() {
        Some(End::Returned) | None => ThreadedEnd {
            result: Ok(()),
            thread: 0,
        },
        Some(End::Failed { thread, error }) => ThreadedEnd {
            result: Err(error),
            thread,
        },
    }
}

/// Ends a threaded instance that has not ended (its threads stopped) and joins them.
pub(super) fn stop(group: &ThreadGroup) {
    group.end_with(End::Returned);
    group.join();
}

/// A threaded instance's embedder data lent to its threads' host functions until
/// dropped (the instance holds it between runs; see `hostcall::private::SharedData`).
pub(super) struct Lent(Option<Arc<ThreadGroup>>);

impl Lent {
    /// Lends the data of the instance whose main store is `store`, if it is threaded.
    pub(super) fn new(store: &Store<StoreData>) -> Lent {
        let group = store.data().threads.clone();
        if let Some(g) = &group {
            g.data.lend();
        }
        Lent(group)
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(g) = &self.0 {
            g.data.reclaim();
        }
    }
}

/// How a threaded run ended: the result, and the thread it came from (0: main).
pub(super) struct ThreadedEnd {
    pub(super) result: wasmtime::Result<()>,
    pub(super) thread: u32,
}
