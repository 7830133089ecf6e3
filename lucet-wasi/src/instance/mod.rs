//! [`WasiInstance`]: an instantiated guest, its runs and calls (sync here, async in
//! `async_run.rs`, sharing the checks before and the mapping of results after), its
//! builder (`builder.rs`, `build.rs`), its memory (`memory.rs`) and how runs end
//! (`outcome.rs`).

#[cfg(feature = "async")]
mod async_run;
mod build;
mod builder;
#[cfg(feature = "components")]
mod component_run;
mod memory;
mod outcome;
mod threads;

pub use builder::WasiInstanceBuilder;
pub use outcome::Exit;

use crate::error::{EndCause, Misuse};
use crate::hostcall::{Borrows, Copies};
use crate::module::Module;
use crate::observe::{RunStats, Span, Usage};
use crate::store::StoreData;
use crate::{Bytes, Error};
use outcome::{log_outcome, outcome};
use std::any::Any;
use std::time::{Duration, Instant};
use wasmtime::{
    ExternType, InstancePre, Store, TypedFunc, UpdateDeadline, WasmParams, WasmResults,
};

/// The export a reactor module initialises itself with (WASI application ABI).
pub(crate) const INITIALIZE: &str = "_initialize";
/// The entry point of a command module.
pub(crate) const START: &str = "_start";

/// A guest instance: instantiated, linked against WASI, its preopens open, its own
/// store and memory.
///
/// Build one with [`WasiInstance::builder`]. [`run`](Self::run) calls a command's entry
/// point; [`call`](Self::call) calls any export with typed arguments (reactors). Each
/// runs on a stack that fits the configured wasm stack.
///
/// **Reactors** (modules built with `-mexec-model=reactor` or as a Rust `cdylib`) export
/// `_initialize` and no `_start`: it runs once, when the instance is built, before any
/// other export can be called (the WASI application ABI). The host can then place data
/// in guest memory and call exports that work on it:
///
/// ```
/// use lucet_wasi::WasiInstance;
/// let wat = r#"(module (memory (export "memory") 1)
///     (global $ready (mut i32) (i32.const 0))
///     (func (export "_initialize") (global.set $ready (i32.const 1)))
///     ;; Sums `len` bytes at `ptr`, if initialised.
///     (func (export "sum") (param $ptr i32) (param $len i32) (result i32) (local $s i32)
///         (if (i32.eqz (global.get $ready)) (then unreachable))
///         (block $done (loop $next
///             (br_if $done (i32.eqz (local.get $len)))
///             (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $ptr))))
///             (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
///             (local.set $len (i32.sub (local.get $len) (i32.const 1)))
///             (br $next)))
///         (local.get $s)))"#;
/// let mut instance = WasiInstance::builder().module_bytes(wat).build()?;
/// instance.write_bytes(1024, &[1, 2, 3, 4])?;
/// assert_eq!(instance.call::<(u32, u32), u32>("sum", (1024, 4))?, 10);
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
pub struct WasiInstance {
    /// The guest's state; `None` for a component (see `component`), or after an
    /// internal error lost it, or after an async run's future was dropped before it
    /// finished.
    inner: Option<Inner>,
    /// A WASI 0.2 component's state, for a component.
    #[cfg(feature = "components")]
    component: Option<Box<component_run::Guest>>,
    module: Module,
    timeout: Option<Duration>,
    /// `Some(yield interval)` for an instance built for async runs (`build_async`).
    async_yield: Option<Duration>,
    /// Time spent in the guest, for [`stats`](Self::stats), if asked for.
    usage: Option<Usage>,
    /// Why the guest ended, once it has: no run or call is made after that.
    ended: Option<EndCause>,
    /// What [`restart`](Self::restart) instantiates again (a core module's), and the
    /// fuel budget it gives.
    pre: Option<InstancePre<StoreData>>,
    fuel: Option<u64>,
    /// What [`guest_memory`](Self::guest_memory) copied of a threaded guest's memory.
    copies: Copies,
    /// The arguments' borrows of [`guest_memory`](Self::guest_memory)'s view.
    borrows: Borrows,
}

/// Everything a run touches.
struct Inner {
    store: Store<StoreData>,
    instance: wasmtime::Instance,
}

/// What makes an instance besides its store: from the build to the instance.
struct Parts {
    module: Module,
    timeout: Option<Duration>,
    usage: Option<Usage>,
    async_yield: Option<Duration>,
    pre: InstancePre<StoreData>,
    fuel: Option<u64>,
}

/// How a call into the guest went: the guest's own result, or a refusal before it ran.
type Called<R> = Result<wasmtime::Result<R>, Error>;

impl WasiInstance {
    /// Instantiates `pre` in `store` and, for a reactor, runs `_initialize`.
    fn start(parts: Parts, mut store: Store<StoreData>) -> Result<WasiInstance, Error> {
        let pre = parts.pre.clone();
        let reactor = is_reactor(&parts.module);
        arm_timeout(&parts.module, parts.timeout, &mut store);
        let mut usage = parts.usage;
        let span = usage.is_some().then(Span::start);
        // A threaded guest's start code may call host functions from several threads.
        let lent = threads::Lent::new(&store);
        let result = on_guest_stack(&parts.module, || {
            let instance = pre.instantiate(&mut store)?;
            tracing::debug!(module = parts.module.name(), "instantiated");
            store.data_mut().memory = instance.get_memory(&mut store, "memory");
            if reactor {
                let init = instance.get_typed_func::<(), ()>(&mut store, INITIALIZE)?;
                init.call(&mut store, ())?;
            }
            Ok(instance)
        })?;
        drop(lent);
        if let (Some(span), Some(usage)) = (span, &mut usage) {
            span.end(usage);
        }
        WasiInstance::started(Parts { usage, ..parts }, store, result)
    }

    /// The instance an instantiation gave, its output flushed; or the error it ended
    /// with (a `proc_exit` is [`Error::Exited`]). Shared by sync and async builds.
    fn started(
        parts: Parts,
        mut store: Store<StoreData>,
        result: wasmtime::Result<wasmtime::Instance>,
    ) -> Result<WasiInstance, Error> {
        match result {
            Ok(instance) => {
                let mut this = WasiInstance {
                    inner: Some(Inner { store, instance }),
                    #[cfg(feature = "components")]
                    component: None,
                    module: parts.module,
                    timeout: parts.timeout,
                    usage: parts.usage,
                    async_yield: parts.async_yield,
                    ended: None,
                    pre: Some(parts.pre),
                    fuel: parts.fuel,
                    copies: Copies::default(),
                    borrows: Borrows::new(),
                };
                this.flush()?;
                Ok(this)
            }
            Err(e) => {
                if let Some(group) = &store.data().threads {
                    // Threads its `_initialize` started end with it.
                    threads::stop(group);
                }
                let memory = store.data().memory.map(|m| m.data_size(&store) as u64);
                let _ = store.data_mut().wasi.fds.flush_outputs();
                Err(failed_call(outcome(e, parts.timeout, memory)))
            }
        }
    }

    /// Runs the exported function `entry` (normally `_start`: no parameters, no results)
    /// to completion. For a WASI 0.2 component, `_start` is its `wasi:cli/run` export,
    /// which runs once; its `exit` is [`Exit::Exited`] with the status it gives (0 or 1,
    /// or the exact code of `exit-with-code`), and `run` returning its error is
    /// `Exit::Exited(1)`.
    pub fn run(&mut self, entry: &str) -> Result<Exit, Error> {
        self.check_mode(false)?;
        #[cfg(feature = "components")]
        if self.component.is_some() {
            return self.run_component(entry);
        }
        self.before_run(entry)?;
        // What the host wrote through `guest_memory()` views reaches the guest first.
        self.copies.clear();
        // A threaded guest's host functions take the embedder data until it has ended.
        let _lent = self.inner.as_ref().map(|i| threads::Lent::new(&i.store));
        let result = self.on_guest_stack(|inner| {
            let func = typed::<(), ()>(inner, entry)?;
            Ok(func.call(&mut inner.store, ()))
        })?;
        match self.threads() {
            Some(group) => {
                // Every thread stopped and joined; the instance is over.
                let end = threads::finish(&group, result?);
                let exit = self.finish_run(Ok(end.result));
                self.ended.get_or_insert(EndCause::Returned);
                in_thread(exit, end.thread)
            }
            None => self.finish_run(result),
        }
    }

    /// The thread group of a threaded instance.
    fn threads(&self) -> Option<std::sync::Arc<crate::store::ThreadGroup>> {
        self.inner.as_ref()?.store.data().threads.clone()
    }

    /// Calls the exported function `name` with typed parameters and results, as for a
    /// reactor module. A `proc_exit` during the call is [`Error::Exited`].
    ///
    /// ```
    /// use lucet_wasi::WasiInstance;
    /// let wat = r#"(module (memory (export "memory") 1)
    ///     (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;
    /// let mut instance = WasiInstance::builder().module_bytes(wat).build()?;
    /// assert_eq!(instance.call::<(i32, i32), i32>("add", (2, 3))?, 5);
    /// # Ok::<(), lucet_wasi::Error>(())
    /// ```
    pub fn call<P: WasmParams, R: WasmResults>(
        &mut self,
        name: &str,
        params: P,
    ) -> Result<R, Error> {
        self.check_mode(false)?;
        self.before_call(name)?;
        let result = self.on_guest_stack(|inner| {
            let func = typed::<P, R>(inner, name)?;
            Ok(func.call(&mut inner.store, params))
        })?;
        self.finish_call(result)
    }

    /// The embedder data given to [`WasiInstanceBuilder::data`], if it is a `T`.
    /// Readable after the instance has ended, too.
    ///
    /// ```
    /// use lucet_wasi::WasiInstance;
    /// let wat = r#"(module (func (export "_start")))"#;
    /// let mut instance = WasiInstance::builder().module_bytes(wat).data(vec![1, 2]).build()?;
    /// let (a, b) = (instance.data::<Vec<i32>>(), instance.data::<Vec<i32>>());
    /// assert_eq!(a, b);
    /// instance.data_mut::<Vec<i32>>().unwrap().push(3);
    /// assert_eq!(instance.data::<Vec<i32>>().unwrap().len(), 3);
    /// # Ok::<(), lucet_wasi::Error>(())
    /// ```
    pub fn data<T: Any>(&self) -> Option<&T> {
        let store = self.inner.as_ref()?.store.data();
        match &store.threads {
            // SAFETY: between runs the instance holds its data, and `&self` rules a run out
            // while this reference lives.
            Some(group) => unsafe { group.data.get() }?.downcast_ref(),
            None => store.data.downcast_ref(),
        }
    }

    /// The embedder data, writable; see [`data`](Self::data).
    pub fn data_mut<T: Any>(&mut self) -> Option<&mut T> {
        let store = self.inner.as_mut()?.store.data_mut();
        match &store.threads {
            // SAFETY: as in `data`, with `&mut self`.
            Some(group) => unsafe { group.data.get_mut() }?.downcast_mut(),
            None => store.data.downcast_mut(),
        }
    }

    /// Makes this a fresh instance of the same module with the same settings, as the
    /// builder made it: new memory and globals, `_initialize` run again for a reactor,
    /// the descriptors it started with back at their numbers (the preopens, listeners
    /// and standard streams, which keep their position: a captured output keeps what
    /// was written), every other descriptor closed, the fuel budget and embedder data
    /// as they are. The way to go on after the instance [ended](Error::Ended), or to
    /// drop a guest's state between requests; it costs an instantiation (no compile,
    /// no link, no preopen opened again).
    ///
    /// An instance built with `build_async` restarts with `restart_async`.
    ///
    /// ```
    /// use lucet_wasi::{EndCause, Error, WasiInstance};
    /// let wat = r#"(module (memory (export "memory") 1)
    ///     (global $calls (mut i32) (i32.const 0))
    ///     (func (export "count") (result i32)
    ///         (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    ///         (global.get $calls))
    ///     (func (export "crash") unreachable))"#;
    /// let mut instance = WasiInstance::builder().module_bytes(wat).build()?;
    /// assert_eq!(instance.call::<(), i32>("count", ())?, 1);
    /// assert!(matches!(instance.call::<(), ()>("crash", ()), Err(Error::Trap { .. })));
    /// let again = instance.call::<(), i32>("count", ()).unwrap_err();
    /// assert!(matches!(again, Error::Ended { cause: EndCause::Trapped }));
    /// instance.restart()?;
    /// assert_eq!(instance.call::<(), i32>("count", ())?, 1);
    /// # Ok::<(), lucet_wasi::Error>(())
    /// ```
    pub fn restart(&mut self) -> Result<(), Error> {
        self.check_mode(false)?;
        self.refuse_component("restart()")?;
        if self.threads().is_some() {
            return Err(Error::Misuse(Misuse::NotForThreaded { what: "restart()" }));
        }
        let parts = self.restart_parts()?;
        let store = self.restart_store()?;
        *self = WasiInstance::start(parts, store)?;
        Ok(())
    }

    /// What a restarted instance is made of, but its store.
    fn restart_parts(&mut self) -> Result<Parts, Error> {
        Ok(Parts {
            module: self.module.clone(),
            timeout: self.timeout,
            usage: self.usage.take(),
            async_yield: self.async_yield,
            pre: self
                .pre
                .clone()
                .ok_or(Error::Misuse(Misuse::InstanceLost))?,
            fuel: self.fuel,
        })
    }

    /// The store of a restarted instance (the old one's data, reset), fuel given again.
    fn restart_store(&mut self) -> Result<Store<StoreData>, Error> {
        let inner = self.take_inner()?;
        let mut store = StoreData::restart(inner.store);
        if self.module.engine().config().fuel {
            store
                .set_fuel(self.fuel.unwrap_or(u64::MAX))
                .map_err(|e| Error::host("cannot set fuel", e))?;
        }
        Ok(store)
    }

    /// Why the instance ended, if it has (see [`Error::Ended`]).
    pub fn ended(&self) -> Option<&EndCause> {
        self.ended.as_ref()
    }

    /// What the instance used so far (time, memory, fuel, calls by name), if the
    /// builder was asked to [`collect_stats`](WasiInstanceBuilder::collect_stats).
    /// Time counts instantiation and every run and call, sync or async.
    pub fn stats(&self) -> Option<RunStats> {
        let usage = self.usage.as_ref()?;
        #[cfg(feature = "components")]
        if self.component.is_some() {
            return self.component_stats(usage);
        }
        let mut stats = RunStats {
            wall: usage.wall,
            cpu: usage.cpu,
            ..Default::default()
        };
        if let Some(inner) = &self.inner {
            let data = inner.store.data();
            stats.peak_memory = Bytes(data.heap_peak());
            let main = data.observer.as_ref().and_then(|o| o.counts());
            stats.syscalls = main.map(|c| c.by_name()).unwrap_or_default();
            if let Some(group) = &data.threads {
                // The shared memory (which the store does not see) and every thread's calls.
                stats.peak_memory = Bytes(group.wasi.memory().data_size() as u64);
                if let (Some(main), Some(watch)) = (main, group.watch()) {
                    let threads = watch.thread_counts();
                    let mut all = main.clone();
                    threads.iter().for_each(|(_, c)| all.add(c));
                    stats.syscalls = all.by_name();
                    stats.threads = std::iter::once((0, main.total()))
                        .chain(threads.iter().map(|(tid, c)| (*tid, c.total())))
                        .collect();
                }
            }
            stats.fuel_used = usage
                .fuel_budget
                .zip(inner.store.get_fuel().ok())
                .map(|(budget, left)| budget.saturating_sub(left));
        }
        Some(stats)
    }

    /// The module this instance runs.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The checks before a run of `entry`, sync or async.
    fn before_run(&self, entry: &str) -> Result<(), Error> {
        self.refuse_ended()?;
        entry_point(&self.module, entry)?;
        self.refuse_initialize(entry)?;
        tracing::debug!(module = self.module.name(), entry, "running");
        Ok(())
    }

    /// The checks before a call of the export `name`, sync or async.
    fn before_call(&self, name: &str) -> Result<(), Error> {
        self.refuse_component("call()")?;
        self.refuse_ended()?;
        if self.threads().is_some() {
            return Err(Error::Misuse(Misuse::NotForThreaded { what: "call()" }));
        }
        if !self.module.exports_func(name) {
            return Err(Error::NoSuchExport {
                name: name.to_string(),
            });
        }
        self.refuse_initialize(name)?;
        tracing::debug!(module = self.module.name(), export = name, "calling");
        Ok(())
    }

    /// After a run, sync or async: the output flushed, and how the guest ended.
    fn finish_run(&mut self, result: Called<()>) -> Result<Exit, Error> {
        self.flush()?;
        let exit = match result? {
            Ok(()) => Ok(Exit::Returned),
            Err(e) => outcome(e, self.timeout, self.memory_size()),
        };
        self.ended = match &exit {
            Ok(Exit::Exited(status)) => Some(EndCause::Exited { status: *status }),
            Ok(Exit::Returned) => None,
            Err(e) => EndCause::of(e),
        };
        log_outcome(&exit);
        exit
    }

    /// After a call, sync or async: the output flushed, and what it returned.
    fn finish_call<R>(&mut self, result: Called<R>) -> Result<R, Error> {
        self.flush()?;
        match result? {
            Ok(r) => Ok(r),
            Err(e) => {
                let e = failed_call(outcome(e, self.timeout, self.memory_size()));
                self.ended = EndCause::of(&e);
                Err(e)
            }
        }
    }

    /// Refuses a run or call of an instance that has ended.
    fn refuse_ended(&self) -> Result<(), Error> {
        match &self.ended {
            Some(cause) => Err(Error::Ended {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// `_initialize` ran when the instance was built; a second run would initialise the
    /// guest twice.
    fn refuse_initialize(&self, name: &str) -> Result<(), Error> {
        if name == INITIALIZE && !self.module.exports_func(START) {
            return Err(Error::Misuse(Misuse::InitializeAgain));
        }
        Ok(())
    }

    /// Runs `f` on a guest stack with the timeout (if any) armed from now. If `f`
    /// panics, the instance is lost.
    fn on_guest_stack<R>(&mut self, f: impl FnOnce(&mut Inner) -> R) -> Result<R, Error> {
        let mut inner = self.take_inner()?;
        arm_timeout(&self.module, self.timeout, &mut inner.store);
        let span = self.usage.is_some().then(Span::start);
        let result = on_guest_stack(&self.module, || f(&mut inner))?;
        if let (Some(span), Some(usage)) = (span, &mut self.usage) {
            span.end(usage);
        }
        self.put_back(inner);
        Ok(result)
    }

    /// Takes the guest's state out for a run; [`put_back`](Self::put_back) returns it.
    fn take_inner(&mut self) -> Result<Inner, Error> {
        self.inner.take().ok_or(Error::Misuse(Misuse::InstanceLost))
    }

    /// Puts the guest's state back after a run, its trace flushed.
    fn put_back(&mut self, mut inner: Inner) {
        if let Some(observer) = &mut inner.store.data_mut().observer {
            observer.flush();
        }
        self.inner = Some(inner);
    }

    /// Refuses what applies to core modules only (`what`), for a component instance.
    fn refuse_component(&self, what: &'static str) -> Result<(), Error> {
        #[cfg(feature = "components")]
        if self.component.is_some() {
            return Err(Error::Misuse(Misuse::NotForComponents { what }));
        }
        let _ = what;
        Ok(())
    }

    /// Refuses a sync run of an instance built for async runs, and the reverse.
    fn check_mode(&self, asynchronous: bool) -> Result<(), Error> {
        if asynchronous {
            self.refuse_component("async runs (build_async, run_async)")?;
        }
        match (self.async_yield.is_some(), asynchronous) {
            (true, false) => Err(Error::Misuse(Misuse::SyncRunOfAsyncInstance)),
            (false, true) => Err(Error::Misuse(Misuse::AsyncRunOfSyncInstance)),
            _ => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        let data = inner.store.data_mut();
        match &data.threads {
            Some(group) => group.wasi.lock().fds.flush_outputs(),
            None => data.wasi.fds.flush_outputs(),
        }
        .map_err(|e| Error::host("cannot flush the guest's output", e))
    }
}

impl Drop for WasiInstance {
    /// A threaded instance dropped before its run ended (threads a reactor's
    /// `_initialize` started) stops and joins its threads: none outlives it.
    fn drop(&mut self) {
        if let Some(group) = self.threads() {
            threads::stop(&group);
        }
    }
}

/// The export `name` as a function of the types asked for.
fn typed<P: WasmParams, R: WasmResults>(
    inner: &mut Inner,
    name: &str,
) -> Result<TypedFunc<P, R>, Error> {
    inner
        .instance
        .get_typed_func::<P, R>(&mut inner.store, name)
        .map_err(|source| Error::ExportType {
            name: name.to_string(),
            source: source.into(),
        })
}

/// Checks that `name` is an exported function without parameters or results.
fn entry_point(module: &Module, name: &str) -> Result<(), Error> {
    match module.core()?.get_export(name) {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => Ok(()),
        Some(ExternType::Func(f)) => Err(Error::BadEntrypoint {
            name: name.to_string(),
            found: f.to_string(),
        }),
        _ => Err(Error::NoSuchExport {
            name: name.to_string(),
        }),
    }
}

/// Whether `_initialize` must run when the module is instantiated: it exports it (with
/// no parameters or results) and is not a command.
fn is_reactor(module: &Module) -> bool {
    entry_point(module, INITIALIZE).is_ok() && !module.exports_func(START)
}

/// The error of a call that did not return: a `proc_exit` becomes [`Error::Exited`].
fn failed_call(outcome: Result<Exit, Error>) -> Error {
    match outcome {
        Ok(Exit::Exited(status)) => Error::Exited { status },
        Ok(Exit::Returned) => Error::internal("a failed call returned"),
        Err(e) => e,
    }
}

/// A threaded instance's error, saying which thread (not the main one) it came from.
fn in_thread(exit: Result<Exit, Error>, thread: u32) -> Result<Exit, Error> {
    match exit {
        Err(Error::Trap {
            message, backtrace, ..
        }) if thread != 0 => Err(Error::Trap {
            message,
            backtrace,
            thread: Some(thread),
        }),
        other => other,
    }
}

/// Arms the timeout (if any) from now for the next call into the guest.
fn arm_timeout(module: &Module, timeout: Option<Duration>, store: &mut Store<StoreData>) {
    let engine = module.engine();
    // A timeout too long for the clock to represent is no deadline at all.
    let deadline = timeout.and_then(|after| Instant::now().checked_add(after));
    if let Some(group) = store.data().threads.clone() {
        // Every thread checks for the end of the instance too, at each tick (the ticker
        // starts with the first spawned thread, or now for a deadline).
        group.set_deadline(deadline);
        if deadline.is_some() {
            engine.start_ticker();
        }
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| Ok(group.check(deadline)));
        return;
    }
    store.data_mut().wasi.set_deadline(deadline);
    arm_deadline(module, deadline, store);
}

/// Has the guest of `store` (a core module's or a component's) interrupted at
/// `deadline`, if any, from its next call on.
fn arm_deadline<T: 'static>(module: &Module, deadline: Option<Instant>, store: &mut Store<T>) {
    let engine = module.engine();
    match deadline {
        Some(deadline) => {
            engine.start_ticker();
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |_| {
                Ok(if Instant::now() >= deadline {
                    UpdateDeadline::Interrupt
                } else {
                    UpdateDeadline::Continue(1)
                })
            });
        }
        // Epochs advance every 10 ms at most: this is never reached.
        None if engine.config().timeout_capable => store.set_epoch_deadline(1 << 62),
        // The code has no interruption checks.
        None => {}
    }
}

/// Runs `f` on a stack that holds the module's engine's wasm stack and the host's calls.
fn on_guest_stack<R>(module: &Module, f: impl FnOnce() -> R) -> Result<R, Error> {
    let stack = module.engine().config().stack.0 as usize + crate::engine::HOST_STACK;
    crate::engine::run_on_guest_stack(stack, f)
}
