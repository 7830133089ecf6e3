//! [`WasiInstance`], its builder, and run outcomes.

use crate::hostcall::{Hostcall, HostcallFailed, HostcallSet};
use crate::module::{self, Engine, EngineConfig, Module};
use crate::store::StoreData;
use crate::wasi::{
    self, BadPointer, DeadlineReached, ExitRequested, Input, Output, WasiCtxBuilder,
};
use crate::{Bytes, Error, Limits, WasmFeatures};
use std::any::Any;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::{
    ExternType, InstancePre, Store, Trap, UpdateDeadline, WasmBacktrace, WasmParams, WasmResults,
};

/// How a guest's run ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The entry point returned.
    Returned,
    /// The guest called `proc_exit` with this status.
    Exited(u32),
}

impl Exit {
    /// The process exit status this outcome stands for: 0 for a return, else the
    /// guest's status (the OS keeps it modulo 256).
    ///
    /// ```
    /// use lucet_wasi::Exit;
    /// assert_eq!(Exit::Returned.code(), 0);
    /// assert_eq!(Exit::Exited(42).code(), 42);
    /// ```
    pub fn code(&self) -> i32 {
        match *self {
            Exit::Returned => 0,
            Exit::Exited(n) => n as i32,
        }
    }
}

/// A guest instance: linked against WASI, its preopens open, its own store and memory.
///
/// Build one with [`WasiInstance::builder`]. [`run`](Self::run) calls a command's entry
/// point; [`call`](Self::call) calls any export with typed arguments (reactors). The
/// module is instantiated on the first of these; each runs on a thread whose stack fits
/// the configured wasm stack.
pub struct WasiInstance {
    /// The guest's state; it travels to the guest thread for each run or call. `None`
    /// only if a guest thread was lost to an internal error, or an async run's future
    /// was dropped before it finished.
    pub(crate) inner: Option<Inner>,
    pub(crate) module: Module,
    pub(crate) timeout: Option<Duration>,
    /// `Some(yield interval)` for an instance built for async runs (`build_async`).
    pub(crate) async_yield: Option<Duration>,
}

/// Everything a run touches.
pub(crate) struct Inner {
    pub(crate) store: Store<StoreData>,
    pub(crate) pre: InstancePre<StoreData>,
    pub(crate) instance: Option<wasmtime::Instance>,
}

impl Inner {
    /// Instantiates on first use.
    fn instantiate(&mut self) -> wasmtime::Result<wasmtime::Instance> {
        if let Some(instance) = self.instance {
            return Ok(instance);
        }
        let instance = self.pre.instantiate(&mut self.store)?;
        self.store.data_mut().memory = instance.get_memory(&mut self.store, "memory");
        self.instance = Some(instance);
        Ok(instance)
    }
}

/// Native stack the host needs beyond the wasm stack on the guest's thread.
pub(crate) const HOST_STACK: usize = 2 << 20;
/// Size of a wasm page.
const WASM_PAGE: u64 = 64 * 1024;

/// Where the builder's module comes from.
enum ModuleSource {
    /// Bytes to compile on the shared engine for the builder's limits.
    Bytes { name: String, bytes: Vec<u8> },
    /// An already compiled module (its engine fixes address space and stack).
    Compiled(Module),
}

/// Builds a [`WasiInstance`]. Every method consumes and returns the builder.
///
/// ```
/// use lucet_wasi::{WasiInstance, Exit, MiB};
/// let wat = r#"(module
///     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (call $exit (i32.const 7))))"#;
/// let exit = WasiInstance::builder()
///     .module_bytes(wat)
///     .max_heap(MiB(16))
///     .run("_start")?;
/// assert_eq!(exit, Exit::Exited(7));
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
pub struct WasiInstanceBuilder {
    module: Option<ModuleSource>,
    program_name: Option<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    inherit_env: bool,
    /// Guest path, host path, read-only.
    preopens: Vec<(String, PathBuf, bool)>,
    sockets: Vec<std::net::TcpListener>,
    limits: Limits,
    /// Whether address space / stack were set explicitly (they are engine-wide).
    engine_limits_set: bool,
    /// The wasm proposals asked for, if set (they are engine-wide too).
    wasm: Option<WasmFeatures>,
    timeout: Option<Duration>,
    fuel: Option<u64>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    data: Box<dyn Any + Send>,
    data_name: &'static str,
    hostcalls: HostcallSet,
    cache: Option<crate::CompileCache>,
    /// Build for async runs (`build_async`).
    pub(crate) asynchronous: bool,
    /// How often an async guest yields to the executor, if set.
    pub(crate) yield_interval: Option<Duration>,
}

impl WasiInstance {
    /// Starts building an instance. Defaults: no arguments beyond argv\[0\], no
    /// environment, no preopens, stdio inherited, [`Limits::default`], no timeout.
    pub fn builder() -> WasiInstanceBuilder {
        WasiInstanceBuilder {
            module: None,
            program_name: None,
            args: Vec::new(),
            env: Vec::new(),
            inherit_env: false,
            preopens: Vec::new(),
            sockets: Vec::new(),
            limits: Limits::default(),
            engine_limits_set: false,
            wasm: None,
            timeout: None,
            fuel: None,
            stdin: Input::inherit(),
            stdout: Output::inherit(),
            stderr: Output::inherit(),
            data: Box::new(()),
            data_name: "()",
            hostcalls: HostcallSet::new(),
            cache: None,
            asynchronous: false,
            yield_interval: None,
        }
    }

    /// Runs the exported function `entry` (normally `_start`: no parameters, no results)
    /// to completion.
    pub fn run(&mut self, entry: &str) -> Result<Exit, Error> {
        self.check_sync()?;
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
        let entry = entry.to_string();
        let result = self.on_guest_thread(move |inner| {
            let instance = inner.instantiate()?;
            instance
                .get_typed_func::<(), ()>(&mut inner.store, &entry)
                .and_then(|func| func.call(&mut inner.store, ()))
        })?;
        self.flush()?;
        match result {
            Ok(()) => Ok(Exit::Returned),
            Err(e) => outcome(e, timeout, self.memory_size()),
        }
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
    pub fn call<P, R>(&mut self, name: &str, params: P) -> Result<R, Error>
    where
        P: WasmParams + Send + 'static,
        R: WasmResults + Send + 'static,
    {
        self.check_sync()?;
        if !matches!(
            self.module.inner.get_export(name),
            Some(ExternType::Func(_))
        ) {
            return Err(Error::NoSuchExport {
                name: name.to_string(),
            });
        }
        let timeout = self.timeout;
        let name = name.to_string();
        let result = self.on_guest_thread(move |inner| {
            let instance = inner.instantiate().map_err(Err)?;
            let func = instance
                .get_typed_func::<P, R>(&mut inner.store, &name)
                .map_err(|e| {
                    Ok(Error::ExportType {
                        name: name.clone(),
                        reason: format!("{e:#}"),
                    })
                })?;
            func.call(&mut inner.store, params).map_err(Err)
        })?;
        self.flush()?;
        match result {
            Ok(r) => Ok(r),
            Err(Ok(e)) => Err(e),
            Err(Err(e)) => match outcome(e, timeout, self.memory_size())? {
                Exit::Exited(status) => Err(Error::Exited { status }),
                Exit::Returned => Err(Error::Host("internal error: a failed call returned".into())),
            },
        }
    }

    /// The guest's exported linear memory `memory`, once instantiated (after a run or a
    /// call), for reading results out of it.
    pub fn memory(&mut self) -> Option<&[u8]> {
        let inner = self.inner.as_mut()?;
        let memory = inner.instance?.get_memory(&mut inner.store, "memory")?;
        Some(memory.data(&inner.store))
    }

    /// The size of the guest's exported `memory` in bytes, if it has one.
    pub(crate) fn memory_size(&self) -> Option<u64> {
        let inner = self.inner.as_ref()?;
        let memory = inner.store.data().memory?;
        Some(memory.data_size(&inner.store) as u64)
    }

    /// The embedder data given to [`WasiInstanceBuilder::data`], if it is a `T`.
    pub fn data<T: Any>(&mut self) -> Option<&mut T> {
        self.inner.as_mut()?.store.data_mut().data.downcast_mut()
    }

    /// The module this instance runs.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Runs `f` on a guest stack (see `guest_stack`), with the timeout (if any) armed
    /// from now.
    fn on_guest_thread<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Inner) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let mut inner = self.inner.take().ok_or_else(|| {
            Error::Host("this instance was lost to an earlier internal error".into())
        })?;
        let deadline = self.timeout.map(|after| Instant::now() + after);
        inner.store.data_mut().wasi.deadline = deadline;
        match deadline {
            Some(deadline) => {
                self.module.engine.start_ticker();
                inner.store.set_epoch_deadline(1);
                inner.store.epoch_deadline_callback(move |_| {
                    Ok(if Instant::now() >= deadline {
                        UpdateDeadline::Interrupt
                    } else {
                        UpdateDeadline::Continue(1)
                    })
                });
            }
            // Epochs advance every 10 ms at most: this is never reached.
            None if self.module.engine.config().timeout_capable => {
                inner.store.set_epoch_deadline(1 << 62)
            }
            // The code has no interruption checks.
            None => {}
        }
        let stack = self.module.engine.config().stack.0 as usize + HOST_STACK;
        let (inner, result) = crate::guest_stack::run(stack, move || {
            let result = f(&mut inner);
            (inner, result)
        })?;
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
            .map_err(|e| Error::Host(format!("cannot flush the guest's output: {e}")))
    }
}

/// Turns the error a guest ended with into an exit, a trap or a timeout. `memory` is the
/// size of the guest's memory, for the message of a bad pointer.
pub(crate) fn outcome(
    e: wasmtime::Error,
    timeout: Option<Duration>,
    memory: Option<u64>,
) -> Result<Exit, Error> {
    if let Some(limit) = e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
        return Err(Error::PoolExhausted {
            reason: limit.to_string(),
        });
    }
    if let Some(ExitRequested(status)) = e.downcast_ref::<ExitRequested>() {
        return Ok(Exit::Exited(*status));
    }
    if let (Some(DeadlineReached), Some(after)) = (e.downcast_ref::<DeadlineReached>(), timeout) {
        return Err(Error::Timeout { after });
    }
    let e = match e.downcast::<HostcallFailed>() {
        Ok(failed) => {
            return Err(Error::HostFunction {
                function: failed.function.to_string(),
                cause: failed.cause,
            })
        }
        Err(e) => e,
    };
    let backtrace = e
        .downcast_ref::<WasmBacktrace>()
        .map(format_backtrace)
        .unwrap_or_default();
    // A bad pointer, found by our syscall code or by wiggle's glue: one line.
    let bad_pointer = e.downcast_ref::<BadPointer>().cloned().or_else(|| {
        e.downcast_ref::<wiggle::GuestError>()
            .and_then(|g| BadPointer::from_guest_error(g, "pointer"))
    });
    if let Some(bad) = bad_pointer {
        return Err(Error::Trap {
            message: bad.message(memory),
            backtrace,
        });
    }
    if let Some(g) = e.downcast_ref::<wiggle::GuestError>() {
        // Other glue errors (a value it cannot convert): the call and the problem.
        let message = match g {
            wiggle::GuestError::InFunc { funcname, err, .. } => format!("{funcname}: {err}"),
            other => other.to_string(),
        };
        return Err(Error::Trap { message, backtrace });
    }
    match (e.downcast_ref::<Trap>(), timeout) {
        (Some(Trap::Interrupt), Some(after)) => Err(Error::Timeout { after }),
        (Some(Trap::OutOfFuel), _) => Err(Error::OutOfFuel { backtrace }),
        (Some(trap), _) => Err(Error::Trap {
            message: trap
                .to_string()
                .trim_start_matches("wasm trap: ")
                .to_string(),
            backtrace,
        }),
        // Any other error a host function ended the guest with: its causes on one line,
        // without the backtrace context Wasmtime adds (it is printed on its own).
        (None, _) => Err(Error::Trap {
            message: e
                .chain()
                .map(|c| c.to_string())
                .filter(|c| !c.starts_with("error while executing at wasm backtrace"))
                .collect::<Vec<_>>()
                .join(": "),
            backtrace,
        }),
    }
}

/// One frame per line, innermost first: index, function name, module offset.
fn format_backtrace(bt: &WasmBacktrace) -> String {
    let mut out = String::new();
    for (i, frame) in bt.frames().iter().enumerate() {
        let name = match frame.func_name() {
            Some(name) => format!("{:#}", rustc_demangle::demangle(name)),
            None => format!("<wasm function {}>", frame.func_index()),
        };
        match frame.module_offset() {
            Some(off) => out.push_str(&format!("  {i:>3}: {name} @ {off:#x}\n")),
            None => out.push_str(&format!("  {i:>3}: {name}\n")),
        }
    }
    out
}

impl WasiInstanceBuilder {
    /// Loads a module file: a `.wasm` binary, `.wat` text, or a module precompiled with
    /// `lucet-wasi compile` — recognised by content. argv\[0\] becomes its file name.
    pub fn module_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = module::read_file(path)?;
        let name = module::file_name(path);
        self.module = Some(ModuleSource::Bytes { name, bytes });
        Ok(self)
    }

    /// Uses a module given as `.wasm` or `.wat` bytes, compiled when the instance is
    /// built. argv\[0\] is `module.wasm` unless [`program_name`](Self::program_name) says
    /// otherwise.
    pub fn module_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.module = Some(ModuleSource::Bytes {
            name: "module.wasm".into(),
            bytes: bytes.into(),
        });
        self
    }

    /// Uses an already compiled [`Module`]: the instance costs only instantiation. The
    /// module's engine fixes the address space and stack (they are engine-wide).
    pub fn module(mut self, module: &Module) -> Self {
        self.module = Some(ModuleSource::Compiled(module.clone()));
        self
    }

    /// Compiles the module given by [`module_file`](Self::module_file) or
    /// [`module_bytes`](Self::module_bytes) through `cache`: a module compiled before is
    /// mapped from the cache instead of compiled again.
    pub fn compile_cache(mut self, cache: &crate::CompileCache) -> Self {
        self.cache = Some(cache.clone());
        self
    }

    /// Adds a host function the guest can import beside WASI: a function made with
    /// [`#[hostcall]`](crate::hostcall), by its name (`.hostcall(put)`). The module is
    /// linked again for this instance; to link once for many instances, attach the
    /// functions to the module with [`Module::with_hostcalls`].
    pub fn hostcall(mut self, hostcall: impl Into<Hostcall>) -> Self {
        self.hostcalls.push(hostcall);
        self
    }

    /// Adds every host function of `set` (see [`hostcall`](Self::hostcall)).
    pub fn hostcalls(mut self, set: &HostcallSet) -> Self {
        set.iter().for_each(|h| self.hostcalls.push(*h));
        self
    }

    /// Gives host functions embedder state (their `&mut T` or `HostContext<'_, T>`); read
    /// it back with [`WasiInstance::data`]. Without it, the data is `()`.
    pub fn data<T: Any + Send>(mut self, data: T) -> Self {
        self.data = Box::new(data);
        self.data_name = std::any::type_name::<T>();
        self
    }

    /// Sets argv\[0\] (by default the module's file name).
    pub fn program_name(mut self, name: impl Into<String>) -> Self {
        self.program_name = Some(name.into());
        self
    }

    /// Appends one guest argument (after argv\[0\]).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends guest arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable of the guest.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets several environment variables of the guest.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Passes the host's environment to the guest (variables that are not UTF-8 are
    /// skipped). Variables set with [`env`](Self::env) take precedence.
    pub fn inherit_env(mut self) -> Self {
        self.inherit_env = true;
        self
    }

    /// Makes the host directory `host` visible to the guest as `guest`. Preopens get
    /// descriptors 3, 4, ... in the order given.
    pub fn preopen(mut self, guest: impl Into<String>, host: impl Into<PathBuf>) -> Self {
        self.preopens.push((guest.into(), host.into(), false));
        self
    }

    /// Like [`preopen`](Self::preopen), but nothing below it can be changed: creating,
    /// truncating, writing, renaming, linking, removing and setting sizes or times are
    /// refused (`notcapable`) before any host call, and files opened below it have no
    /// write rights.
    pub fn preopen_readonly(mut self, guest: impl Into<String>, host: impl Into<PathBuf>) -> Self {
        self.preopens.push((guest.into(), host.into(), true));
        self
    }

    /// Hands the guest a listening TCP socket: it gets the next descriptor after the
    /// preopened directories, and can `sock_accept` connections on it.
    pub fn preopen_socket(mut self, listener: std::net::TcpListener) -> Self {
        self.sockets.push(listener);
        self
    }

    /// Sets the guest's standard input (default: inherited).
    pub fn stdin(mut self, input: Input) -> Self {
        self.stdin = input;
        self
    }

    /// Sets the guest's standard output (default: inherited).
    pub fn stdout(mut self, output: Output) -> Self {
        self.stdout = output;
        self
    }

    /// Sets the guest's standard error (default: inherited).
    pub fn stderr(mut self, output: Output) -> Self {
        self.stderr = output;
        self
    }

    /// Chooses the WebAssembly 3.0 proposals the module may use (default: all; see
    /// [`WasmFeatures`]). Engine-wide: with [`module`](Self::module), they must be
    /// those of the module's engine.
    pub fn wasm_features(mut self, features: WasmFeatures) -> Self {
        self.wasm = Some(features);
        self
    }

    /// Caps the guest's linear memory (default 4 GiB).
    pub fn max_heap(mut self, size: impl Into<Bytes>) -> Self {
        self.limits.max_heap = size.into();
        self
    }

    /// Sets the address space reserved per linear memory (default 8 GiB).
    pub fn heap_address_space(mut self, size: impl Into<Bytes>) -> Self {
        self.limits.heap_address_space = size.into();
        self.engine_limits_set = true;
        self
    }

    /// Bounds the wasm stack (default 8 MiB).
    pub fn stack(mut self, size: impl Into<Bytes>) -> Self {
        self.limits.stack = size.into();
        self.engine_limits_set = true;
        self
    }

    /// Sets all limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.engine_limits_set = true;
        self
    }

    /// Ends the guest with [`Error::Timeout`] once it has run this long.
    pub fn timeout(mut self, after: Duration) -> Self {
        self.timeout = Some(after);
        self
    }

    /// Gives the guest this much fuel (roughly, wasm instructions) in total; running
    /// out ends it with [`Error::OutOfFuel`]. Needs an engine with
    /// [`EngineConfig::fuel`] (chosen automatically when the builder compiles the module).
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.fuel = Some(fuel);
        self
    }

    /// Compiles and links the module, opens the preopens, and returns an instance
    /// ready to [`run`](WasiInstance::run).
    pub fn build(self) -> Result<WasiInstance, Error> {
        let mut limits = self.limits;
        let module = match self.module.ok_or(Error::NoModule)? {
            ModuleSource::Bytes { name, bytes } => {
                limits.validate()?;
                let engine = Engine::shared(&EngineConfig {
                    heap_address_space: limits.heap_address_space,
                    stack: limits.stack,
                    pooling: None,
                    fuel: self.fuel.is_some(),
                    // Async runs yield to the executor at the same interruption checks.
                    timeout_capable: self.timeout.is_some() || self.asynchronous,
                    wasm: self.wasm.unwrap_or_default(),
                    pool_per_thread: false,
                })?;
                Module::from_bytes_in(&engine, name, &bytes, self.cache.as_ref())?
            }
            ModuleSource::Compiled(module) => {
                let config = module.engine().config();
                if self.wasm.is_some_and(|w| w != config.wasm) {
                    return Err(Error::InvalidArgument(
                        "the wasm features differ from the module's engine: they are \
                         engine-wide, set them in the EngineConfig"
                            .into(),
                    ));
                }
                let engine_limits = (config.heap_address_space, config.stack);
                if self.engine_limits_set
                    && (limits.heap_address_space, limits.stack) != engine_limits
                {
                    return Err(Error::InvalidArgument(format!(
                        "heap address space {} and stack {} differ from the module's engine ({} and {}): \
                         they are engine-wide, set them in the EngineConfig",
                        limits.heap_address_space, limits.stack, config.heap_address_space, config.stack
                    )));
                }
                (limits.heap_address_space, limits.stack) = engine_limits;
                limits.validate()?;
                module.for_this_thread()?
            }
        };
        let name = module.name().to_string();
        if self.timeout.is_some() && !module.engine().config().timeout_capable {
            return Err(Error::InvalidArgument(
                "a timeout needs an engine with EngineConfig { timeout_capable: true, .. } \
                 (this module's engine compiled it without interruption checks)"
                    .into(),
            ));
        }
        if self.asynchronous && !module.engine().config().timeout_capable {
            return Err(Error::InvalidArgument(
                "async runs need an engine with EngineConfig { timeout_capable: true, .. }: \
                 its interruption checks are where a busy guest yields to the executor"
                    .into(),
            ));
        }
        if self.fuel.is_some() && !module.engine().config().fuel {
            return Err(Error::InvalidArgument(
                "a fuel budget needs an engine with EngineConfig { fuel: true, .. }".into(),
            ));
        }

        if let Some(pages) = module.inner.resources_required().max_initial_memory_size {
            let initial = pages.saturating_mul(WASM_PAGE);
            if initial > limits.max_heap.0 {
                return Err(Error::HeapTooSmall {
                    initial: Bytes(initial),
                    max_heap: limits.max_heap,
                });
            }
        }
        let pre = if self.asynchronous {
            #[cfg(feature = "async")]
            {
                crate::run_async::instance_pre(&module, &self.hostcalls)?
            }
            #[cfg(not(feature = "async"))]
            unreachable!("build_async needs the `async` feature")
        } else if let Some(h) = [module.hostcalls.as_deref(), Some(&self.hostcalls)]
            .into_iter()
            .flatten()
            .find_map(|set| set.iter().find(|h| h.is_async()))
        {
            return Err(Error::AsyncHostcall {
                function: h.signature().function.to_string(),
            });
        } else if self.hostcalls.is_empty() {
            module.instance_pre()?.clone()
        } else {
            let mut all = module.hostcalls.as_deref().cloned().unwrap_or_default();
            self.hostcalls.iter().for_each(|h| all.push(*h));
            module.link(&all)?
        };
        for set in [module.hostcalls.as_deref(), Some(&self.hostcalls)]
            .into_iter()
            .flatten()
        {
            set.check_data(&*self.data, self.data_name)?;
        }

        let mut args = wasi::StringList::default();
        args.push(&checked("argument", self.program_name.unwrap_or(name))?);
        for a in self.args {
            args.push(&checked("argument", a)?);
        }
        let mut env = wasi::StringList::default();
        let mut vars: Vec<(String, String)> = Vec::new();
        if self.inherit_env {
            vars.extend(
                std::env::vars_os()
                    .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
            );
        }
        for (k, v) in self.env {
            vars.retain(|(key, _)| *key != k);
            vars.push((k, v));
        }
        for (k, v) in vars {
            if k.is_empty() || k.contains('=') {
                return Err(Error::InvalidArgument(format!(
                    "environment variable name {k:?}: must be non-empty and contain no '='"
                )));
            }
            env.push(&checked("environment variable", format!("{k}={v}"))?);
        }
        if args.blob.len() > u32::MAX as usize / 2 || env.blob.len() > u32::MAX as usize / 2 {
            return Err(Error::InvalidArgument(
                "arguments or environment too large".into(),
            ));
        }

        let mut preopens = Vec::with_capacity(self.preopens.len());
        for (guest, host, readonly) in self.preopens {
            match wasi::open_preopen(&host) {
                Ok(dir) => preopens.push(wasi::Preopen {
                    dir,
                    guest_path: guest,
                    readonly,
                }),
                Err(source) => {
                    return Err(Error::Preopen {
                        guest,
                        host,
                        source,
                    })
                }
            }
        }

        let ctx = WasiCtxBuilder {
            args,
            env,
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
            preopens,
            sockets: self.sockets,
        }
        .build();
        let mut store = StoreData::store(
            &module.engine().0.engine,
            ctx,
            limits.max_heap.0,
            self.data,
            self.data_name,
        );
        if module.engine().config().fuel {
            store
                .set_fuel(self.fuel.unwrap_or(u64::MAX))
                .map_err(|e| Error::Host(format!("cannot set fuel: {e:#}")))?;
        }
        Ok(WasiInstance {
            inner: Some(Inner {
                store,
                pre,
                instance: None,
            }),
            module,
            timeout: self.timeout,
            async_yield: self.asynchronous.then(|| {
                self.yield_interval
                    .unwrap_or(crate::module::TICK)
                    .max(crate::module::TICK)
            }),
        })
    }

    /// Builds the instance and runs `entry` (see [`WasiInstance::run`]).
    pub fn run(self, entry: &str) -> Result<Exit, Error> {
        self.build()?.run(entry)
    }
}

/// Arguments and environment entries are C strings in the guest: no NUL inside.
fn checked(what: &str, s: String) -> Result<String, Error> {
    if s.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{what} {s:?}: contains a NUL byte"
        )));
    }
    Ok(s)
}
