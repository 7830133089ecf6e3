//! The threads of a threaded guest (wasi-threads): one [`ThreadGroup`] per instance.
//!
//! Every thread is a store of its own, instantiating the same linked module over the
//! same shared memory, and all share one WASI context ([`SharedCtx`]). The instance is
//! the unit: the first thread to end it (its `_start` returning, a `proc_exit`, a trap,
//! the deadline) sets how it [ended](End); every other thread is then stopped — code
//! that runs at its next interruption check (an epoch tick), a WASI call in its wait,
//! an atomic wait in [`Parking`] — and joined before the run returns.

use super::StoreData;
use crate::hostcall::private::SharedData;
use crate::observe::ThreadWatch;
use crate::wasi::{DeadlineReached, InstanceEnded, SharedCtx, WasiCtxBuilder};
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime::{InstancePre, Store, TypedFunc, UpdateDeadline};

/// A thread's entry point, `wasi_thread_start(tid, start_arg)`.
type ThreadStart = TypedFunc<(i32, i32), ()>;

thread_local! {
    /// Whether this host thread is instantiating a spawned thread's instance.
    static INSTANTIATING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The highest thread id (wasi-threads: ids are 1 to 0x1FFFFFFF; 0 is the main thread).
const MAX_TID: u32 = 0x1FFF_FFFF;

/// What the threads of one instance may use.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ThreadLimits {
    /// The most threads spawned at once (the main thread not counted).
    pub(crate) max_threads: u32,
    /// Each spawned thread's OS stack, which holds its wasm stack and host calls.
    pub(crate) stack: usize,
    /// Each thread's store's caps: memories (its own, not the shared one) and tables.
    pub(crate) store_caps: (u64, u64),
    /// Each thread's fuel, if the engine meters it.
    pub(crate) fuel: Option<u64>,
}

/// How a threaded instance ended.
#[derive(Debug)]
pub(crate) enum End {
    /// Its `_start` returned.
    Returned,
    /// A thread ended it with this error (`proc_exit`'s included); `thread` 0 is the
    /// main thread.
    Failed {
        /// The thread's id.
        thread: u32,
        /// What it ended with.
        error: wasmtime::Error,
    },
}

/// The threads of one instance and what they share.
pub(crate) struct ThreadGroup {
    /// The WASI context and memory, shared.
    pub(crate) wasi: SharedCtx,
    /// The embedder data, which host functions take one call at a time.
    pub(crate) data: SharedData,
    parking: Parking,
    /// The linked module spawned threads instantiate.
    pre: OnceLock<InstancePre<StoreData>>,
    limits: ThreadLimits,
    /// When the run must end (its timeout), set when it starts.
    deadline: Mutex<Option<Instant>>,
    next_tid: AtomicU32,
    /// Spawned threads running, and their handles; closed to new ones once ended.
    threads: Mutex<Threads>,
    end: Mutex<Option<End>>,
    ended: AtomicBool,
    /// Starts the engine's epoch ticker (called on the first spawn).
    start_ticker: Box<dyn Fn() + Send + Sync>,
    /// For an instance that traces or counts calls: its threads' observers.
    watch: OnceLock<ThreadWatch>,
}

#[derive(Default)]
struct Threads {
    running: u32,
    handles: Vec<JoinHandle<()>>,
}

impl ThreadGroup {
    pub(crate) fn new(
        wasi: SharedCtx,
        data: SharedData,
        limits: ThreadLimits,
        start_ticker: Box<dyn Fn() + Send + Sync>,
    ) -> ThreadGroup {
        ThreadGroup {
            start_ticker,
            watch: OnceLock::new(),
            wasi,
            data,
            parking: Parking::default(),
            pre: OnceLock::new(),
            limits,
            deadline: Mutex::new(None),
            next_tid: AtomicU32::new(1),
            threads: Mutex::default(),
            end: Mutex::new(None),
            ended: AtomicBool::new(false),
        }
    }

    /// Sets the linked module spawned threads instantiate (once).
    pub(crate) fn set_pre(&self, pre: InstancePre<StoreData>) {
        let _ = self.pre.set(pre);
    }

    /// Has every spawned thread traced and counted (see [`ThreadWatch`]).
    pub(crate) fn set_watch(&self, watch: ThreadWatch) {
        let _ = self.watch.set(watch);
    }

    /// What the spawned threads that ended were counted making.
    pub(crate) fn watch(&self) -> Option<&ThreadWatch> {
        self.watch.get()
    }

    /// Sets when the run must end, for every thread.
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        *lock(&self.deadline) = deadline;
        self.wasi.lock().set_deadline(deadline);
    }

    /// Whether the instance has ended.
    pub(crate) fn has_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Ends the instance with `end`, unless it has ended already: stops every thread
    /// (see the module's documentation). Returns whether this was the end.
    pub(crate) fn end_with(&self, end: End) -> bool {
        let mut slot = lock(&self.end);
        if slot.is_some() {
            return false;
        }
        *slot = Some(end);
        drop(slot);
        self.ended.store(true, Ordering::SeqCst);
        // No thread starts after this (spawns check under this lock).
        drop(lock(&self.threads));
        self.wasi.end();
        self.parking.end();
        self.data.close();
        true
    }

    /// How the instance ended, once it has.
    pub(crate) fn take_end(&self) -> Option<End> {
        lock(&self.end).take()
    }

    /// Waits for every spawned thread to finish (call after [`end_with`](Self::end_with)).
    pub(crate) fn join(&self) {
        loop {
            let handles = std::mem::take(&mut lock(&self.threads).handles);
            if handles.is_empty() {
                return;
            }
            for h in handles {
                let _ = h.join();
            }
        }
    }

    /// What a thread's store checks at each epoch tick: the end of the instance, then
    /// its deadline.
    pub(crate) fn check(&self, deadline: Option<Instant>) -> UpdateDeadline {
        if self.has_ended() || deadline.is_some_and(|d| Instant::now() >= d) {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Continue(1)
        }
    }

    /// `wasi`.`thread-spawn`: starts a thread running `wasi_thread_start(tid, start_arg)`;
    /// its id, or -1 if the limit is reached, the ids are used up, the instance has
    /// ended, or the thread cannot be made — its instance (a full pool) or its OS thread
    /// (the guest sees `EAGAIN`). The thread's instance is made here, so that a failure
    /// is the guest's to handle.
    pub(crate) fn spawn(self: &Arc<Self>, engine: &wasmtime::Engine, start_arg: i32) -> i32 {
        let Some(pre) = self.pre.get() else {
            return -1;
        };
        // A thread's instance's start function spawning again would recurse on this
        // host stack: refused.
        if INSTANTIATING.get() {
            return -1;
        }
        // A slot and an id, reserved under the lock; the instance is made without it (its
        // start function is the guest's code, which may spawn too, or loop until ended).
        let tid = {
            let mut threads = lock(&self.threads);
            let tid = self.next_tid.load(Ordering::Relaxed);
            if self.has_ended() || threads.running >= self.limits.max_threads || tid > MAX_TID {
                return -1;
            }
            self.next_tid.store(tid + 1, Ordering::Relaxed);
            threads.running += 1;
            tid
        };
        let release = || lock(&self.threads).running -= 1;
        let Ok((mut store, start)) = self.thread_instance(engine, pre, tid) else {
            release();
            return -1;
        };
        (self.start_ticker)();
        let mut threads = lock(&self.threads);
        if self.has_ended() {
            drop(threads);
            release();
            return -1;
        }
        let group = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("wasi-thread-{tid}"))
            .stack_size(self.limits.stack)
            .spawn(move || {
                if let Err(error) = start.call(&mut store, (tid as i32, start_arg)) {
                    group.end_with(End::Failed { thread: tid, error });
                }
                if let (Some(watch), Some(observer)) =
                    (group.watch.get(), store.data_mut().observer.take())
                {
                    watch.ended(tid, *observer);
                }
                drop(store);
                lock(&group.threads).running -= 1;
            });
        match spawned {
            Ok(handle) => {
                // Threads that have finished are joined, not dropped: a dropped handle's
                // thread may still be exiting when the instance has ended. (A finished
                // thread takes no lock again: this join does not wait on this lock.)
                let mut i = 0;
                while i < threads.handles.len() {
                    if threads.handles[i].is_finished() {
                        let _ = threads.handles.swap_remove(i).join();
                    } else {
                        i += 1;
                    }
                }
                threads.handles.push(handle);
                tid as i32
            }
            Err(_) => {
                threads.running -= 1;
                -1
            }
        }
    }

    /// A spawned thread's store and instance, and its `wasi_thread_start`.
    fn thread_instance(
        self: &Arc<Self>,
        engine: &wasmtime::Engine,
        pre: &InstancePre<StoreData>,
        tid: u32,
    ) -> wasmtime::Result<(Store<StoreData>, ThreadStart)> {
        let mut store = StoreData::store(
            engine,
            WasiCtxBuilder::empty().build(),
            self.limits.store_caps,
            Box::new(()),
            "()",
        );
        store.data_mut().threads = Some(self.clone());
        if let Some(watch) = self.watch.get() {
            store.data_mut().observer = Some(Box::new(watch.observer(tid)));
        }
        if let Some(fuel) = self.limits.fuel {
            store.set_fuel(fuel)?;
        }
        let deadline = *lock(&self.deadline);
        store.set_epoch_deadline(1);
        let group = self.clone();
        store.epoch_deadline_callback(move |_| Ok(group.check(deadline)));
        INSTANTIATING.set(true);
        let instance = pre.instantiate(&mut store);
        INSTANTIATING.set(false);
        let instance = instance?;
        let start = instance.get_typed_func::<(i32, i32), ()>(&mut store, "wasi_thread_start")?;
        Ok((store, start))
    }

    /// `memory.atomic.wait32` / `wait64` (as the rewritten module calls them): `addr` plus
    /// `offset`, the value `expected` (a `u32` for `wait32`), `timeout` in nanoseconds
    /// (negative: none). 0 woken, 1 not equal, 2 timed out; a trap for a bad address,
    /// the deadline, or the end of the instance.
    pub(crate) fn wait(
        &self,
        addr: u32,
        offset: u32,
        expected: u64,
        wide: bool,
        timeout: i64,
    ) -> wasmtime::Result<i32> {
        let size = if wide { 8 } else { 4 };
        let at = self.atomic_addr(addr, offset, size)?;
        let deadline = *lock(&self.deadline);
        let until = u64::try_from(timeout)
            .ok()
            .and_then(|ns| Instant::now().checked_add(Duration::from_nanos(ns)));
        self.parking.wait(at, deadline, until, || {
            let cells = self.wasi.memory().data();
            let p = UnsafeCell::raw_get(cells[at as usize..].as_ptr());
            // SAFETY: in bounds and aligned (checked); shared memory is accessed with
            // atomics here, as the guest's own atomics access it.
            unsafe {
                if wide {
                    std::sync::atomic::AtomicU64::from_ptr(p.cast()).load(Ordering::SeqCst)
                        == expected
                } else {
                    std::sync::atomic::AtomicU32::from_ptr(p.cast()).load(Ordering::SeqCst)
                        == expected as u32
                }
            }
        })
    }

    /// `memory.atomic.notify`: wakes up to `count` waiters at `addr` plus `offset`; how
    /// many it woke.
    pub(crate) fn notify(&self, addr: u32, offset: u32, count: u32) -> wasmtime::Result<i32> {
        let at = self.atomic_addr(addr, offset, 4)?;
        Ok(self.parking.notify(at, count) as i32)
    }

    /// The address of an atomic access of `size` bytes, checked as wasm checks it.
    fn atomic_addr(&self, addr: u32, offset: u32, size: u64) -> wasmtime::Result<u32> {
        let at = addr as u64 + offset as u64;
        if at + size > self.wasi.memory().data_size() as u64 {
            return Err(wasmtime::Trap::MemoryOutOfBounds.into());
        }
        if !at.is_multiple_of(size) {
            return Err(wasmtime::Trap::HeapMisaligned.into());
        }
        Ok(at as u32)
    }
}

/// The waits of a threaded instance's atomics: by address, each woken by a notify at
/// it, its timeout, the deadline, or the end of the instance.
#[derive(Default)]
struct Parking {
    state: Mutex<ParkState>,
}

#[derive(Default)]
struct ParkState {
    waiters: HashMap<u32, Vec<Arc<Waiter>>>,
    ended: bool,
}

#[derive(Default)]
struct Waiter {
    woken: AtomicBool,
    wake: Condvar,
}

impl Parking {
    /// Waits at `at` if `still` (the value check, made under the lock notifies take).
    fn wait(
        &self,
        at: u32,
        deadline: Option<Instant>,
        until: Option<Instant>,
        still: impl FnOnce() -> bool,
    ) -> wasmtime::Result<i32> {
        let mut state = lock(&self.state);
        if state.ended {
            return Err(wasmtime::Error::new(InstanceEnded));
        }
        if !still() {
            return Ok(1);
        }
        let me = Arc::new(Waiter::default());
        state.waiters.entry(at).or_default().push(me.clone());
        let stop = match (until, deadline) {
            (Some(u), Some(d)) => Some(u.min(d)),
            (u, d) => u.or(d),
        };
        loop {
            if me.woken.load(Ordering::SeqCst) {
                return Ok(0);
            }
            let now = Instant::now();
            let outcome = if state.ended {
                Some(Err(wasmtime::Error::new(InstanceEnded)))
            } else if deadline.is_some_and(|d| now >= d) {
                Some(Err(wasmtime::Error::new(DeadlineReached)))
            } else if until.is_some_and(|u| now >= u) {
                Some(Ok(2))
            } else {
                None
            };
            if let Some(outcome) = outcome {
                if let Some(list) = state.waiters.get_mut(&at) {
                    list.retain(|w| !Arc::ptr_eq(w, &me));
                    if list.is_empty() {
                        state.waiters.remove(&at);
                    }
                }
                return outcome;
            }
            state = match stop {
                Some(s) => {
                    me.wake
                        .wait_timeout(state, s - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => me.wake.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    /// Wakes up to `count` waiters at `at`, first come first woken.
    fn notify(&self, at: u32, count: u32) -> u32 {
        let mut state = lock(&self.state);
        let Some(list) = state.waiters.get_mut(&at) else {
            return 0;
        };
        let n = (count as usize).min(list.len());
        for w in list.drain(..n) {
            w.woken.store(true, Ordering::SeqCst);
            w.wake.notify_one();
        }
        if list.is_empty() {
            state.waiters.remove(&at);
        }
        n as u32
    }

    /// Wakes every waiter, now and later, to end.
    fn end(&self) {
        let mut state = lock(&self.state);
        state.ended = true;
        for w in state.waiters.values().flatten() {
            w.wake.notify_one();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
