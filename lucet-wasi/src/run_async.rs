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
//! Dropping the future cancels the guest: its fiber is unwound and its stack released for the next run.

use crate::hostcall::HostcallSet;
use crate::instance::{outcome, Inner};
use crate::module::{link_error, Module, TICK};
use crate::store::StoreData;
use crate::{Error, Exit, WasiInstance, WasiInstanceBuilder};
use std::time::{Duration, Instant};
use wasmtime::{ExternType, InstancePre, UpdateDeadline, WasmParams, WasmResults};

/// The linked module of an async instance: WASI with its blocking calls made async, the
/// module's host functions and `extra`.
pub(crate) fn instance_pre(
    module: &Module,
    extra: &HostcallSet,
) -> Result<InstancePre<StoreData>, Error> {
    if extra.is_empty() {
        if let Some(pre) = module.pre_async.get() {
            return Ok(pre.clone());
        }
    }
    let engine = &module.engine;
    let mut linker = crate::wasi::linker_async(engine)?.clone();
    let mut all = module.hostcalls.as_deref().cloned().unwrap_or_default();
    extra.iter().for_each(|h| all.push(*h));
    all.link(&mut linker)?;
    let pre = linker
        .instantiate_pre(&module.inner)
        .map_err(|e| link_error(engine, &linker, &module.inner, e))?;
    if extra.is_empty() {
        return Ok(module.pre_async.get_or_init(|| pre).clone());
    }
    Ok(pre)
}

impl WasiInstanceBuilder {
    /// Builds an instance for [`run_async`](WasiInstance::run_async) and
    /// [`call_async`](WasiInstance::call_async) (its sync `run` and `call` refuse). It
    /// can take async host functions. A module compiled by the builder gets an engine
    /// with interruption checks; a given [`Module`] needs one
    /// ([`EngineConfig::timeout_capable`](crate::EngineConfig::timeout_capable)), and
    /// can serve sync and async instances alike.
    ///
    /// ```
    /// use lucet_wasi::{WasiInstance, Exit};
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # rt.block_on(async {
    /// let wat = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;
    /// let mut instance = WasiInstance::builder().module_bytes(wat).build_async()?;
    /// assert_eq!(instance.run_async("_start").await?, Exit::Returned);
    /// # Ok::<(), lucet_wasi::Error>(()) }).unwrap();
    /// ```
    pub fn build_async(mut self) -> Result<WasiInstance, Error> {
        self.asynchronous = true;
        self.build()
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
        self.build_async()?.run_async(entry).await
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
    ///         .build_async()?;
    ///     let exit = tokio::spawn(async move { instance.run_async("_start").await })
    ///         .await
    ///         .expect("the task panicked")?;
    ///     assert_eq!(exit, Exit::Returned);
    ///     println!("{}", out.text());
    ///     Ok(())
    /// }
    /// ```
    pub async fn run_async(&mut self, entry: &str) -> Result<Exit, Error> {
        match self.module.inner.get_export(entry) {
            Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
            Some(ExternType::Func(f)) => {
                return Err(Error::BadEntrypoint {
                    name: entry.to_string(),
                    found: f.to_string(),
                })
            }
            _ => {
                return Err(Error::NoSuchExport {
                    name: entry.to_string(),
                })
            }
        }
        let timeout = self.timeout;
        let (mut inner, deadline) = self.arm()?;
        let result = with_deadline(deadline, async {
            let instance = instantiate(&mut inner).await?;
            let func = instance.get_typed_func::<(), ()>(&mut inner.store, entry)?;
            func.call_async(&mut inner.store, ()).await
        })
        .await;
        self.inner = Some(inner);
        self.flush()?;
        let result = result.ok_or(Error::Timeout {
            after: timeout.unwrap_or_default(),
        })?;
        match result {
            Ok(()) => Ok(Exit::Returned),
            Err(e) => outcome(e, timeout, self.memory_size()),
        }
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
    /// let mut instance = WasiInstance::builder().module_bytes(wat).build_async()?;
    /// assert_eq!(instance.call_async::<(i32, i32), i32>("add", (2, 3)).await?, 5);
    /// # Ok::<(), lucet_wasi::Error>(()) }).unwrap();
    /// ```
    pub async fn call_async<P, R>(&mut self, name: &str, params: P) -> Result<R, Error>
    where
        P: WasmParams + Send + Sync + 'static,
        R: WasmResults + Send + Sync + 'static,
    {
        if !matches!(
            self.module.inner.get_export(name),
            Some(ExternType::Func(_))
        ) {
            return Err(Error::NoSuchExport {
                name: name.to_string(),
            });
        }
        let timeout = self.timeout;
        let (mut inner, deadline) = self.arm()?;
        let result = with_deadline(deadline, async {
            let instance = instantiate(&mut inner).await.map_err(Err)?;
            let func = instance
                .get_typed_func::<P, R>(&mut inner.store, name)
                .map_err(|e| {
                    Ok(Error::ExportType {
                        name: name.to_string(),
                        reason: format!("{e:#}"),
                    })
                })?;
            func.call_async(&mut inner.store, params).await.map_err(Err)
        })
        .await;
        self.inner = Some(inner);
        self.flush()?;
        let result = result.ok_or(Error::Timeout {
            after: timeout.unwrap_or_default(),
        })?;
        match result {
            Ok(r) => Ok(r),
            Err(Ok(e)) => Err(e),
            Err(Err(e)) => match outcome(e, timeout, self.memory_size())? {
                Exit::Exited(status) => Err(Error::Exited { status }),
                Exit::Returned => Err(Error::Host("internal error: a failed call returned".into())),
            },
        }
    }

    /// Takes the guest's store out of the instance for one async run, with the timeout
    /// armed from now and the guest yielding every yield interval. The caller puts it
    /// back; if its future is dropped first, the store goes with it and later runs fail
    /// with a clear error.
    fn arm(&mut self) -> Result<(Inner, Option<Instant>), Error> {
        let Some(interval) = self.async_yield else {
            return Err(Error::InvalidArgument(
                "this instance was built with build(): build it with build_async() to run \
                 it with run_async() or call_async()"
                    .into(),
            ));
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::InvalidArgument(
                "run_async and call_async need a tokio runtime (with time and IO enabled)".into(),
            ));
        }
        let mut inner = self.inner.take().ok_or_else(|| {
            Error::Host(
                "this instance has no guest left: an earlier run was cancelled (its future \
                 dropped) or failed internally"
                    .into(),
            )
        })?;
        let deadline = self.timeout.map(|after| Instant::now() + after);
        inner.store.data_mut().wasi.deadline = deadline;
        self.module.engine.start_ticker();
        let every = interval.as_nanos().div_ceil(TICK.as_nanos()).max(1) as u64;
        let mut ticks = 0u64;
        inner.store.set_epoch_deadline(1);
        inner.store.epoch_deadline_callback(move |_| {
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
        Ok((inner, deadline))
    }
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

/// Instantiates on first use, on the fiber (host functions may be async).
async fn instantiate(inner: &mut Inner) -> wasmtime::Result<wasmtime::Instance> {
    if let Some(instance) = inner.instance {
        return Ok(instance);
    }
    let instance = inner.pre.instantiate_async(&mut inner.store).await?;
    inner.store.data_mut().memory = instance.get_memory(&mut inner.store, "memory");
    inner.instance = Some(instance);
    Ok(instance)
}
