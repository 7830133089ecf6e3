//! Async runs (`async` feature): [`WasiInstanceBuilder::run_async`],
//! [`WasiInstance::run_async`] and [`WasiInstance::call_async`].
//!
//! The guest runs on a Wasmtime fiber, on the thread that polls the future. It gives the
//! thread back to the executor
//! - every [yield interval](WasiInstanceBuilder::yield_interval) of computing, at the
//!   interruption checks of a `timeout_capable` engine (the epoch ticker of timeouts);
//! - when a WASI call would block (`poll_oneoff`, reads of stdin, sockets and pipes,
//!   `sock_accept`, `sock_recv`): the call is tried without waiting; if it would
//!   block, what it waits for (descriptors, the earliest clock) is awaited on the tokio
//!   reactor and timer, and the call is then done on the guest's store (see
//!   `wasi/link_async.rs`);
//! - while an async host function (`#[hostcall] async fn`) awaits.
//!
//! Dropping the future cancels the guest: its fiber is unwound and its stack released for
//! the next run.
//!
//! The checks before a run and the mapping of its result are the sync ones
//! (`mod.rs`); only the call itself, the arming and the deadline differ.

use super::build::Prepared;
use super::{is_reactor, typed, Called, Inner, Parts, INITIALIZE};
use crate::engine::TICK;
use crate::error::Misuse;
use crate::module::Module;
use crate::observe::measured;
use crate::store::StoreData;
use crate::{Error, Exit, WasiInstance, WasiInstanceBuilder};
use std::time::{Duration, Instant};
use wasmtime::{Store, UpdateDeadline, WasmParams, WasmResults};

impl WasiInstanceBuilder {
    /// Builds an instance for [`run_async`](WasiInstance::run_async) and
    /// [`call_async`](WasiInstance::call_async) (its sync `run` and `call` refuse), as
    /// [`build`](Self::build) does: instantiated, a reactor's `_initialize` run, here
    /// without blocking the executor. It can take async host functions. A module
    /// compiled by the builder gets an engine with interruption checks; a given
    /// [`Module`] needs one
    /// ([`EngineConfig::timeout_capable`](crate::EngineConfig::timeout_capable)), and
    /// can serve sync and async instances alike.
    ///
    /// ```
    /// use lucet_wasi::{WasiInstance, Exit};
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # rt.block_on(async {
    /// let wat = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;
    /// let mut instance = WasiInstance::builder().module_bytes(wat).build_async().await?;
    /// assert_eq!(instance.run_async("_start").await?, Exit::Returned);
    /// # Ok::<(), lucet_wasi::Error>(()) }).unwrap();
    /// ```
    pub async fn build_async(mut self) -> Result<WasiInstance, Error> {
        let interval = self.yield_interval.unwrap_or(TICK).max(TICK);
        let (module, limits) = self.take_module(true)?;
        if module.is_component() {
            return Err(Error::Misuse(Misuse::NotForComponents {
                what: "async runs (build_async, run_async)",
            }));
        }
        let Prepared { parts, store } = self.prepare(module, limits, true)?;
        let parts = Parts {
            async_yield: Some(interval),
            ..parts
        };
        WasiInstance::start_async(parts, store).await
    }

    /// Builds the instance and runs `entry` without blocking the executor (see
    /// [`WasiInstance::run_async`]).
    ///
    /// ```no_run
    /// use lucet_wasi::{WasiInstance, Exit, MiB};
    /// #[tokio::main]
    /// async fn main() -> Result<(), lucet_wasi::Error> {
    ///     let exit = WasiInstance::builder()
    ///         .module_file("app.wasm")?
    ///         .arg("input.txt")
    ///         .max_heap(MiB(64))
    ///         .run_async("_start")
    ///         .await?;
    ///     assert_eq!(exit, Exit::Returned);
    ///     Ok(())
    /// }
    /// ```
    pub async fn run_async(self, entry: &str) -> Result<Exit, Error> {
        self.build_async().await?.run_async(entry).await
    }

    /// How long an async guest computes before it yields to the executor (default and
    /// minimum 10 ms, the tick of the engine's epoch; rounded up to ticks). Sync runs
    /// ignore it.
    pub fn yield_interval(mut self, every: Duration) -> Self {
        self.yield_interval = Some(every);
        self
    }
}

impl WasiInstance {
    /// Instantiates `parts.pre` in `store` on the executor and, for a reactor, runs its
    /// `_initialize`: [`start`](WasiInstance::start) for async instances.
    async fn start_async(
        mut parts: Parts,
        mut store: Store<StoreData>,
    ) -> Result<WasiInstance, Error> {
        let interval = parts.async_yield.unwrap_or(TICK);
        let deadline = arm(&parts.module, parts.timeout, interval, &mut store)?;
        let reactor = is_reactor(&parts.module);
        let pre = parts.pre.clone();
        let instantiated = async {
            let instance = pre.instantiate_async(&mut store).await?;
            store.data_mut().memory = instance.get_memory(&mut store, "memory");
            if reactor {
                let init = instance.get_typed_func::<(), ()>(&mut store, INITIALIZE)?;
                init.call_async(&mut store, ()).await?;
            }
            Ok(instance)
        };
        let result = with_deadline(deadline, measured(parts.usage.as_mut(), instantiated)).await;
        let Some(result) = result else {
            return Err(Error::Timeout {
                after: parts.timeout.unwrap_or_default(),
            });
        };
        WasiInstance::started(parts, store, result)
    }

    /// [`restart`](Self::restart) for an instance built with `build_async`.
    pub async fn restart_async(&mut self) -> Result<(), Error> {
        self.check_mode(true)?;
        let parts = self.restart_parts()?;
        let store = self.restart_store()?;
        *self = WasiInstance::start_async(parts, store).await?;
        Ok(())
    }

    /// Runs the exported function `entry` (no parameters, no results) to completion on
    /// the current tokio runtime, without blocking it: like [`run`](Self::run), with the
    /// same outcomes and errors. The future is `Send`; dropping it cancels the guest, and
    /// the instance cannot be run again. Needs an instance made by
    /// [`build_async`](WasiInstanceBuilder::build_async) and a tokio runtime with time
    /// and IO enabled (`enable_all`).
    ///
    /// ```no_run
    /// use lucet_wasi::{WasiInstance, Exit, Capture, Output};
    /// #[tokio::main]
    /// async fn main() -> Result<(), lucet_wasi::Error> {
    ///     let out = Capture::new();
    ///     let mut instance = WasiInstance::builder()
    ///         .module_file("hello.wasm")?
    ///         .stdout(Output::capture(&out))
    ///         .build_async()
    ///         .await?;
    ///     let exit = tokio::spawn(async move { instance.run_async("_start").await })
    ///         .await
    ///         .expect("the task panicked")?;
    ///     assert_eq!(exit, Exit::Returned);
    ///     println!("{}", out.text());
    ///     Ok(())
    /// }
    /// ```
    pub async fn run_async(&mut self, entry: &str) -> Result<Exit, Error> {
        self.check_mode(true)?;
        self.before_run(entry)?;
        let result = self
            .on_fiber(async |inner| {
                let func = typed::<(), ()>(inner, entry)?;
                Ok(func.call_async(&mut inner.store, ()).await)
            })
            .await?;
        self.finish_run(result)
    }

    /// Calls the exported function `name` with typed parameters and results without
    /// blocking the executor: [`call`](Self::call) for instances built with
    /// [`build_async`](WasiInstanceBuilder::build_async).
    ///
    /// ```
    /// use lucet_wasi::WasiInstance;
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # rt.block_on(async {
    /// let wat = r#"(module (memory (export "memory") 1)
    ///     (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;
    /// let mut instance = WasiInstance::builder().module_bytes(wat).build_async().await?;
    /// assert_eq!(instance.call_async::<(i32, i32), i32>("add", (2, 3)).await?, 5);
    /// # Ok::<(), lucet_wasi::Error>(()) }).unwrap();
    /// ```
    pub async fn call_async<P, R>(&mut self, name: &str, params: P) -> Result<R, Error>
    where
        P: WasmParams + Send + Sync + 'static,
        R: WasmResults + Send + Sync + 'static,
    {
        self.check_mode(true)?;
        self.before_call(name)?;
        let result = self
            .on_fiber(async |inner| {
                let func = typed::<P, R>(inner, name)?;
                Ok(func.call_async(&mut inner.store, params).await)
            })
            .await?;
        self.finish_call(result)
    }

    /// Runs `f` (a call into the guest) with the guest's state taken out and armed
    /// (see [`arm`]), timed if stats are kept, until it ends or the deadline passes
    /// ([`Error::Timeout`], its output flushed). If the future is dropped first, the state goes with it and
    /// later runs fail with [`Misuse::InstanceLost`].
    async fn on_fiber<R>(
        &mut self,
        f: impl AsyncFnOnce(&mut Inner) -> Called<R>,
    ) -> Result<Called<R>, Error> {
        let Some(interval) = self.async_yield else {
            return Err(Error::Misuse(Misuse::AsyncRunOfSyncInstance));
        };
        let mut inner = self.take_inner()?;
        let deadline = match arm(&self.module, self.timeout, interval, &mut inner.store) {
            Ok(deadline) => deadline,
            Err(e) => {
                self.inner = Some(inner);
                return Err(e);
            }
        };
        let result = with_deadline(deadline, measured(self.usage.as_mut(), f(&mut inner))).await;
        self.put_back(inner);
        match result {
            Some(called) => Ok(called),
            None => {
                // What the guest wrote before the deadline still reaches its outputs.
                self.flush()?;
                Err(Error::Timeout {
                    after: self.timeout.unwrap_or_default(),
                })
            }
        }
    }
}

/// Arms the timeout (if any) from now and makes the guest yield to the executor every
/// `interval` of computing; returns the deadline.
fn arm(
    module: &Module,
    timeout: Option<Duration>,
    interval: Duration,
    store: &mut Store<StoreData>,
) -> Result<Option<Instant>, Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::Misuse(Misuse::NoTokioRuntime));
    }
    // A timeout too long for the clock to represent is no deadline at all.
    let deadline = timeout.and_then(|after| Instant::now().checked_add(after));
    store.data_mut().wasi.set_deadline(deadline);
    module.engine().start_ticker();
    let every = interval.as_nanos().div_ceil(TICK.as_nanos()).max(1) as u64;
    let mut ticks = 0u64;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(UpdateDeadline::Interrupt);
        }
        ticks += 1;
        if ticks < every {
            return Ok(UpdateDeadline::Continue(1));
        }
        ticks = 0;
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(tokio::task::yield_now()),
        ))
    });
    Ok(deadline)
}

/// Runs `f` to completion, or until `deadline` (`None` then). A guest awaiting a host
/// function passes no interruption check: the deadline cancels the whole call.
async fn with_deadline<T>(
    deadline: Option<Instant>,
    f: impl std::future::Future<Output = T>,
) -> Option<T> {
    match deadline {
        Some(at) => tokio::time::timeout_at(at.into(), f).await.ok(),
        None => Some(f.await),
    }
}
