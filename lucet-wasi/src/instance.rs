//! [`WasiInstance`]: an instantiated guest, its runs and calls, and its memory.

use crate::module::Module;
use crate::outcome::{outcome, Exit};
use crate::store::StoreData;
use crate::Error;
use std::any::Any;
use std::time::{Duration, Instant};
use wasmtime::{ExternType, InstancePre, Store, UpdateDeadline, WasmParams, WasmResults};

/// The export a reactor module initialises itself with (WASI application ABI).
pub(crate) const INITIALIZE: &str = "_initialize";
/// The entry point of a command module.
const START: &str = "_start";

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
    /// The guest's state; `None` only after an internal error lost it, or after an async
    /// run's future was dropped before it finished.
    pub(crate) inner: Option<Inner>,
    pub(crate) module: Module,
    pub(crate) timeout: Option<Duration>,
    /// `Some(yield interval)` for an instance built for async runs (`build_async`).
    pub(crate) async_yield: Option<Duration>,
    /// Time spent in the guest, for [`stats`](Self::stats), if asked for.
    pub(crate) usage: Option<crate::stats::Usage>,
}

/// Everything a run touches.
pub(crate) struct Inner {
    pub(crate) store: Store<StoreData>,
    pub(crate) instance: wasmtime::Instance,
}

impl WasiInstance {
    /// Instantiates `pre` in `store` and, for a reactor, runs `_initialize`.
    pub(crate) fn start(
        module: Module,
        mut store: Store<StoreData>,
        pre: InstancePre<StoreData>,
        timeout: Option<Duration>,
        mut usage: Option<crate::stats::Usage>,
    ) -> Result<WasiInstance, Error> {
        let reactor = is_reactor(&module);
        arm_timeout(&module, timeout, &mut store);
        let span = usage.is_some().then(crate::stats::Span::start);
        let result = on_guest_stack(&module, || {
            let instance = pre.instantiate(&mut store)?;
            tracing::debug!(module = module.name(), "instantiated");
            store.data_mut().memory = instance.get_memory(&mut store, "memory");
            if reactor {
                let init = instance.get_typed_func::<(), ()>(&mut store, INITIALIZE)?;
                init.call(&mut store, ())?;
            }
            Ok(instance)
        })?;
        if let (Some(span), Some(usage)) = (span, &mut usage) {
            span.end(usage);
        }
        WasiInstance::started(module, store, result, timeout, usage, None)
    }

    /// The instance an instantiation gave, its output flushed; or the error it ended
    /// with (a `proc_exit` is [`Error::Exited`]). Shared by sync and async builds.
    pub(crate) fn started(
        module: Module,
        mut store: Store<StoreData>,
        result: wasmtime::Result<wasmtime::Instance>,
        timeout: Option<Duration>,
        usage: Option<crate::stats::Usage>,
        async_yield: Option<Duration>,
    ) -> Result<WasiInstance, Error> {
        match result {
            Ok(instance) => {
                let mut this = WasiInstance {
                    inner: Some(Inner { store, instance }),
                    module,
                    timeout,
                    usage,
                    async_yield,
                };
                this.flush()?;
                Ok(this)
            }
            Err(e) => {
                let memory = store.data().memory.map(|m| m.data_size(&store) as u64);
                let _ = store.data_mut().wasi.fds.flush_outputs();
                Err(failed_call(outcome(e, timeout, memory)))
            }
        }
    }

    /// Runs the exported function `entry` (normally `_start`: no parameters, no results)
    /// to completion.
    pub fn run(&mut self, entry: &str) -> Result<Exit, Error> {
        self.check_sync()?;
        entry_point(&self.module, entry)?;
        self.refuse_initialize(entry)?;
        let timeout = self.timeout;
        tracing::debug!(module = self.module.name(), entry, "running");
        let result = self.on_guest_stack(|inner| {
            inner
                .instance
                .get_typed_func::<(), ()>(&mut inner.store, entry)
                .and_then(|func| func.call(&mut inner.store, ()))
        })?;
        self.flush()?;
        let exit = match result {
            Ok(()) => Ok(Exit::Returned),
            Err(e) => outcome(e, timeout, self.memory_size()),
        };
        crate::stats::log_outcome(&exit);
        exit
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
        self.check_sync()?;
        if !self.module.exports_func(name) {
            return Err(Error::NoSuchExport {
                name: name.to_string(),
            });
        }
        self.refuse_initialize(name)?;
        let timeout = self.timeout;
        tracing::debug!(module = self.module.name(), export = name, "calling");
        let result = self.on_guest_stack(|inner| {
            let func = inner
                .instance
                .get_typed_func::<P, R>(&mut inner.store, name)
                .map_err(|e| {
                    Ok(Error::ExportType {
                        name: name.to_string(),
                        reason: format!("{e:#}"),
                    })
                })?;
            func.call(&mut inner.store, params).map_err(Err)
        })?;
        self.flush()?;
        match result {
            Ok(r) => Ok(r),
            Err(Ok(e)) => Err(e),
            Err(Err(e)) => Err(failed_call(outcome(e, timeout, self.memory_size()))),
        }
    }

    /// The embedder data given to [`WasiInstanceBuilder::data`](crate::WasiInstanceBuilder::data),
    /// if it is a `T`.
    pub fn data<T: Any>(&mut self) -> Option<&mut T> {
        self.inner.as_mut()?.store.data_mut().data.downcast_mut()
    }

    /// What the instance used so far (time, memory, fuel, calls by name), if the
    /// builder was asked to [`collect_stats`](crate::WasiInstanceBuilder::collect_stats).
    /// Time counts instantiation and every run and call.
    pub fn stats(&self) -> Option<crate::RunStats> {
        let usage = self.usage.as_ref()?;
        let mut stats = crate::RunStats {
            wall: usage.wall,
            cpu: usage.cpu,
            ..Default::default()
        };
        if let Some(inner) = &self.inner {
            let data = inner.store.data();
            stats.peak_memory = crate::Bytes(data.heap_peak());
            stats.syscalls = data
                .observer
                .as_ref()
                .and_then(|o| o.counts())
                .map(|c| c.by_name())
                .unwrap_or_default();
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

    /// `_initialize` ran when the instance was built; a second run would initialise the
    /// guest twice.
    pub(crate) fn refuse_initialize(&self, name: &str) -> Result<(), Error> {
        if name == INITIALIZE && !self.module.exports_func(START) {
            return Err(Error::InvalidArgument(
                "`_initialize` already ran when the instance was built (reactors are \
                 initialised once, before any other export is called)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Runs `f` on a guest stack with the timeout (if any) armed from now. If `f`
    /// panics, the instance is lost.
    fn on_guest_stack<R>(&mut self, f: impl FnOnce(&mut Inner) -> R) -> Result<R, Error> {
        let mut inner = self
            .inner
            .take()
            .ok_or_else(|| Error::internal("this instance was lost to an earlier failure"))?;
        arm_timeout(&self.module, self.timeout, &mut inner.store);
        let span = self.usage.is_some().then(crate::stats::Span::start);
        let result = on_guest_stack(&self.module, || f(&mut inner))?;
        if let (Some(span), Some(usage)) = (span, &mut self.usage) {
            span.end(usage);
        }
        if let Some(observer) = &mut inner.store.data_mut().observer {
            observer.flush();
        }
        self.inner = Some(inner);
        Ok(result)
    }

    /// Refuses a sync run of an instance built for async runs.
    fn check_sync(&self) -> Result<(), Error> {
        match self.async_yield {
            Some(_) => Err(Error::InvalidArgument(
                "this instance was built with build_async(): run it with run_async() or \
                 call_async()"
                    .into(),
            )),
            None => Ok(()),
        }
    }

    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        inner
            .store
            .data_mut()
            .wasi
            .fds
            .flush_outputs()
            .map_err(|e| Error::host("cannot flush the guest's output", e))
    }
}

/// Checks that `name` is an exported function without parameters or results.
pub(crate) fn entry_point(module: &Module, name: &str) -> Result<(), Error> {
    match module.inner.get_export(name) {
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
pub(crate) fn is_reactor(module: &Module) -> bool {
    entry_point(module, INITIALIZE).is_ok() && !module.exports_func(START)
}

/// The error of a call that did not return: a `proc_exit` becomes [`Error::Exited`].
pub(crate) fn failed_call(outcome: Result<Exit, Error>) -> Error {
    match outcome {
        Ok(Exit::Exited(status)) => Error::Exited { status },
        Ok(Exit::Returned) => Error::internal("a failed call returned"),
        Err(e) => e,
    }
}

/// Arms the timeout (if any) from now for the next call into the guest.
fn arm_timeout(module: &Module, timeout: Option<Duration>, store: &mut Store<StoreData>) {
    let engine = module.engine();
    let deadline = timeout.map(|after| Instant::now() + after);
    store.data_mut().wasi.deadline = deadline;
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
    let stack = module.engine().config().stack.0 as usize + crate::guest_stack::HOST_STACK;
    crate::guest_stack::run(stack, f)
}
