//! [`WasiInstance`], its builder, and run outcomes.

use crate::module::{self, EngineHandle};
use crate::wasi::{self, ExitRequested, Input, Output, WasiCtx, WasiCtxBuilder};
use crate::{Bytes, Error, Limits};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{
    ExternType, InstancePre, Linker, ResourceLimiter, Store, Trap, UpdateDeadline, WasmBacktrace,
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

/// A guest instance ready to run: compiled, linked against WASI, its preopens open.
///
/// Build one with [`WasiInstance::builder`].
pub struct WasiInstance {
    engine: Arc<EngineHandle>,
    module: wasmtime::Module,
    pre: InstancePre<StoreData>,
    ctx: WasiCtx,
    limits: Limits,
    timeout: Option<Duration>,
}

/// What the store of a guest holds.
pub(crate) struct StoreData {
    wasi: WasiCtx,
    limiter: HeapLimiter,
}

/// The most table elements a guest may grow a table to.
const MAX_TABLE_ELEMENTS: usize = 10_000_000;
/// Native stack the host needs beyond the wasm stack on the guest's thread.
const HOST_STACK: usize = 2 << 20;
/// Size of a wasm page.
const WASM_PAGE: u64 = 64 * 1024;

/// Caps linear-memory growth at the maximum heap; `memory.grow` beyond it returns -1.
struct HeapLimiter {
    max_heap: u64,
}

impl ResourceLimiter for HeapLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired as u64 <= self.max_heap)
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
    module: Option<(String, Vec<u8>)>,
    program_name: Option<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    inherit_env: bool,
    /// Guest path, host path, read-only.
    preopens: Vec<(String, PathBuf, bool)>,
    limits: Limits,
    timeout: Option<Duration>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
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
            limits: Limits::default(),
            timeout: None,
            stdin: Input::inherit(),
            stdout: Output::inherit(),
            stderr: Output::inherit(),
        }
    }

    /// Runs the exported function `entry` (normally `_start`) to completion on a thread
    /// whose stack fits the configured wasm stack.
    pub fn run(self, entry: &str) -> Result<Exit, Error> {
        match self.module.get_export(entry) {
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
        let entry = entry.to_string();
        let stack = self.limits.stack.0 as usize + HOST_STACK;
        std::thread::Builder::new()
            .name("lucet-wasi-guest".into())
            .stack_size(stack)
            .spawn(move || self.run_here(&entry))
            .map_err(|e| {
                Error::Host(format!(
                    "cannot start the guest thread ({stack} bytes of stack): {e}"
                ))
            })?
            .join()
            .map_err(|_| Error::Host("internal error: the guest thread panicked".into()))?
    }

    fn run_here(self, entry: &str) -> Result<Exit, Error> {
        let WasiInstance {
            engine,
            pre,
            ctx,
            limits,
            timeout,
            ..
        } = self;
        let mut store = Store::new(
            &engine.engine,
            StoreData {
                wasi: ctx,
                limiter: HeapLimiter {
                    max_heap: limits.max_heap.0,
                },
            },
        );
        store.limiter(|data| &mut data.limiter);
        match timeout {
            Some(after) => {
                engine.start_ticker();
                let deadline = Instant::now() + after;
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
            None => store.set_epoch_deadline(1 << 62),
        }
        let result = pre
            .instantiate(&mut store)
            .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, entry))
            .and_then(|func| func.call(&mut store, ()));
        let flushed = store.data_mut().wasi.fds.flush_outputs();
        let exit = match result {
            Ok(()) => Ok(Exit::Returned),
            Err(e) => outcome(e, timeout),
        }?;
        flushed.map_err(|e| Error::Host(format!("cannot flush the guest's output: {e}")))?;
        Ok(exit)
    }
}

/// Turns the error a guest ended with into an exit, a trap or a timeout.
fn outcome(e: wasmtime::Error, timeout: Option<Duration>) -> Result<Exit, Error> {
    if let Some(ExitRequested(status)) = e.downcast_ref::<ExitRequested>() {
        return Ok(Exit::Exited(*status));
    }
    let backtrace = e
        .downcast_ref::<WasmBacktrace>()
        .map(format_backtrace)
        .unwrap_or_default();
    match (e.downcast_ref::<Trap>(), timeout) {
        (Some(Trap::Interrupt), Some(after)) => Err(Error::Timeout { after }),
        (Some(trap), _) => Err(Error::Trap {
            message: trap
                .to_string()
                .trim_start_matches("wasm trap: ")
                .to_string(),
            backtrace,
        }),
        (None, _) => Err(Error::Trap {
            message: format!("{e:#}"),
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
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.module = Some((name, bytes));
        Ok(self)
    }

    /// Uses a module given as bytes (binary, text or precompiled). argv\[0\] is
    /// `module.wasm` unless [`program_name`](Self::program_name) says otherwise.
    pub fn module_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.module = Some(("module.wasm".into(), bytes.into()));
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

    /// Caps the guest's linear memory (default 4 GiB).
    pub fn max_heap(mut self, size: impl Into<Bytes>) -> Self {
        self.limits.max_heap = size.into();
        self
    }

    /// Sets the address space reserved per linear memory (default 8 GiB).
    pub fn heap_address_space(mut self, size: impl Into<Bytes>) -> Self {
        self.limits.heap_address_space = size.into();
        self
    }

    /// Bounds the wasm stack (default 8 MiB).
    pub fn stack(mut self, size: impl Into<Bytes>) -> Self {
        self.limits.stack = size.into();
        self
    }

    /// Sets all limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Ends the guest with [`Error::Timeout`] once it has run this long.
    pub fn timeout(mut self, after: Duration) -> Self {
        self.timeout = Some(after);
        self
    }

    /// Compiles and links the module, opens the preopens, and returns an instance
    /// ready to [`run`](WasiInstance::run).
    pub fn build(self) -> Result<WasiInstance, Error> {
        let (name, bytes) = self.module.ok_or(Error::NoModule)?;
        self.limits.validate()?;
        let engine = module::engine_for(&self.limits)?;
        let module = module::compile(&engine.engine, &name, &bytes)?;
        drop(bytes);

        if let Some(pages) = module.resources_required().max_initial_memory_size {
            let initial = pages.saturating_mul(WASM_PAGE);
            if initial > self.limits.max_heap.0 {
                return Err(Error::HeapTooSmall {
                    initial: Bytes(initial),
                    max_heap: self.limits.max_heap,
                });
            }
        }

        let mut linker: Linker<StoreData> = Linker::new(&engine.engine);
        wasi::add_to_linker(&mut linker, |data: &mut StoreData| &mut data.wasi)
            .map_err(|e| Error::Host(format!("cannot set up WASI: {e:#}")))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| link_error(&engine, &linker, &module, e))?;

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
        }
        .build();
        Ok(WasiInstance {
            engine,
            module,
            pre,
            ctx,
            limits: self.limits,
            timeout: self.timeout,
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

/// Names the first import the linker cannot satisfy; else reports the linker's message.
fn link_error(
    engine: &EngineHandle,
    linker: &Linker<StoreData>,
    module: &wasmtime::Module,
    e: wasmtime::Error,
) -> Error {
    let mut store = Store::new(
        &engine.engine,
        StoreData {
            wasi: WasiCtxBuilder::empty().build(),
            limiter: HeapLimiter { max_heap: 0 },
        },
    );
    for import in module.imports() {
        if linker.get_by_import(&mut store, &import).is_none() {
            let kind = match import.ty() {
                ExternType::Func(_) => "function",
                ExternType::Memory(_) => "memory",
                ExternType::Table(_) => "table",
                ExternType::Global(_) => "global",
                ExternType::Tag(_) => "tag",
            };
            return Error::UnknownImport {
                module: import.module().to_string(),
                field: import.name().to_string(),
                kind,
            };
        }
    }
    Error::Link {
        reason: format!("{e:#}"),
    }
}
