//! Engines, and loading, compiling and precompiling modules.

use crate::hostcall::HostcallSet;
use crate::store::StoreData;
use crate::{Bytes, Error, GiB, MiB, WasmFeatures};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Once, OnceLock, Weak};
use std::time::Duration;
use wasmtime::{Config, ExternType, InstancePre, Linker, Precompiled};

/// Bytes of each pooled memory and table kept mapped between instances.
const KEEP_RESIDENT: usize = 1 << 20;

/// How often the epoch ticker of an engine ticks: the granularity of timeouts.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Settings that are engine-wide in Wasmtime, so they are chosen per [`Engine`] rather
/// than per instance: every module compiled on an engine and every instance of those
/// modules shares them.
///
/// ```
/// use lucet_wasi::{EngineConfig, GiB, MiB};
/// let config = EngineConfig { heap_address_space: GiB(4).into(), ..EngineConfig::default() };
/// assert_eq!(config.stack, MiB(8).into());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EngineConfig {
    /// Virtual address space reserved per linear memory (default 8 GiB). It shapes the
    /// compiled code: precompiled modules must be run on an engine with the same value.
    pub heap_address_space: Bytes,
    /// Maximum wasm stack (default 8 MiB).
    pub stack: Bytes,
    /// `Some(n)`: pre-allocate slots for `n` concurrent instances (Wasmtime's pooling
    /// allocator), which makes instantiation cheaper at the cost of reserving address
    /// space up front. `None` (default): allocate on demand.
    pub pooling: Option<u32>,
    /// Meter execution with fuel so instances can be given a [fuel
    /// budget](crate::WasiInstanceBuilder::fuel) (default off: metering costs speed).
    pub fuel: bool,
    /// Compile code that checks for interruption (Wasmtime's epochs), so instances can be
    /// given a [timeout](crate::WasiInstanceBuilder::timeout), and async instances (feature
    /// `async`) can yield to the executor while they compute. Default off: the checks
    /// cost compute-bound code up to a quarter of its speed. Precompiled modules must be
    /// loaded on an engine with the value they were compiled with.
    pub timeout_capable: bool,
    /// With [`pooling`](Self::pooling): give every thread that builds instances its own
    /// pool and its own copy of each module's code (loaded on the thread's first
    /// instance of the module), so instances on different threads share no memory, lock
    /// or counter and throughput grows with threads. Costs one copy of the code per
    /// thread. Default off.
    pub pool_per_thread: bool,
    /// The WebAssembly 3.0 proposals modules may use (default: all). Precompiled modules
    /// must be loaded with the switches they were compiled with.
    pub wasm: WasmFeatures,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            heap_address_space: GiB(8).into(),
            stack: MiB(8).into(),
            pooling: None,
            fuel: false,
            timeout_capable: false,
            pool_per_thread: false,
            wasm: WasmFeatures::default(),
        }
    }
}

/// A compilation and execution environment. Cheap to clone; `Send + Sync`.
///
/// [`Engine::shared`] returns one engine per configuration for the whole process (the
/// builder uses it when it compiles a module itself); [`Engine::new`] makes a private one.
#[derive(Clone)]
pub struct Engine(pub(crate) Arc<EngineHandle>);

pub(crate) struct EngineHandle {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) config: EngineConfig,
    ticker: Once,
    linker: OnceLock<Linker<StoreData>>,
    /// The WASI linker of async instances (`async` feature).
    #[cfg(feature = "async")]
    pub(crate) linker_async: OnceLock<Linker<StoreData>>,
    /// One of a thread's own engines (`pool_per_thread`).
    thread_local: bool,
}

impl Engine {
    /// Creates an engine with this configuration.
    pub fn new(config: &EngineConfig) -> Result<Engine, Error> {
        crate::limits::check_size("heap address space", config.heap_address_space)?;
        crate::limits::check_stack(config.stack)?;
        let mut c = Config::new();
        c.epoch_interruption(config.timeout_capable)
            .memory_reservation(config.heap_address_space.0)
            .max_wasm_stack(config.stack.0 as usize)
            // The fibers of async runs hold the wasm stack and the host calls made from it;
            // sync runs do not use it.
            .async_stack_size(config.stack.0 as usize + crate::instance::HOST_STACK)
            .consume_fuel(config.fuel);
        config.wasm.check()?;
        config.wasm.apply(&mut c);
        if let Some(slots) = config.pooling {
            let mut pool = wasmtime::PoolingAllocationConfig::new();
            pool.total_core_instances(slots)
                .total_memories(slots)
                .total_tables(slots)
                .max_memory_size(config.heap_address_space.0.min(1 << 32) as usize)
                // A slot's first pages are zeroed in place when it is freed rather than
                // given back to the kernel: the next instance finds them mapped, with no
                // page faults and none of the TLB-shootdown IPIs and mm-lock contention
                // that unmapping costs every other thread.
                .linear_memory_keep_resident(KEEP_RESIDENT)
                .table_keep_resident(KEEP_RESIDENT);
            // One fiber stack per slot for async runs, not Wasmtime's default of 1000.
            #[cfg(feature = "async")]
            pool.total_stacks(slots);
            c.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        } else {
            // Fiber stacks of async runs, reused from run to run.
            #[cfg(feature = "async")]
            c.with_host_stack(crate::fiber_stack::creator());
        }
        let engine = wasmtime::Engine::new(&c)
            .map_err(|e| Error::Host(format!("cannot create engine: {e:#}")))?;
        Ok(Engine(Arc::new(EngineHandle {
            engine,
            config: *config,
            ticker: Once::new(),
            linker: OnceLock::new(),
            #[cfg(feature = "async")]
            linker_async: OnceLock::new(),
            thread_local: false,
        })))
    }

    /// This thread's own engine for `config` (see [`EngineConfig::pool_per_thread`]).
    fn thread_local(config: &EngineConfig) -> Result<Engine, Error> {
        thread_local! {
            static ENGINES: RefCell<HashMap<EngineConfig, Engine>> = RefCell::default();
        }
        ENGINES.with(|engines| {
            if let Some(engine) = engines.borrow().get(config) {
                return Ok(engine.clone());
            }
            let mut engine = Engine::new(config)?;
            Arc::get_mut(&mut engine.0)
                .expect("a new engine is not shared")
                .thread_local = true;
            engines.borrow_mut().insert(*config, engine.clone());
            Ok(engine)
        })
    }

    /// The process-wide engine for this configuration, created on first use.
    pub fn shared(config: &EngineConfig) -> Result<Engine, Error> {
        static ENGINES: OnceLock<Mutex<HashMap<EngineConfig, Engine>>> = OnceLock::new();
        let mut engines = ENGINES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(engine) = engines.get(config) {
            return Ok(engine.clone());
        }
        let engine = Engine::new(config)?;
        engines.insert(*config, engine.clone());
        Ok(engine)
    }

    /// This engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.0.config
    }

    /// Starts the thread that advances this engine's epoch (once; only engines that run a
    /// guest with a timeout pay for it). It ends when the engine is dropped.
    pub(crate) fn start_ticker(&self) {
        self.0.ticker.call_once(|| {
            let weak = self.0.engine.weak();
            let _ = std::thread::Builder::new()
                .name("lucet-wasi-epoch".into())
                .spawn(move || {
                    while let Some(engine) = weak.upgrade() {
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(TICK);
                    }
                });
        });
    }

    /// The WASI linker of this engine, built once.
    pub(crate) fn linker(&self) -> Result<&Linker<StoreData>, Error> {
        if let Some(l) = self.0.linker.get() {
            return Ok(l);
        }
        let mut linker = Linker::new(&self.0.engine);
        crate::wasi::add_to_linker(&mut linker)
            .map_err(|e| Error::Host(format!("cannot set up WASI: {e:#}")))?;
        Ok(self.0.linker.get_or_init(|| linker))
    }
}

/// A compiled module, ready to instantiate many times: compile once, then each
/// [`WasiInstance`](crate::WasiInstance) costs only instantiation. Cheap to clone;
/// `Send + Sync`, so instances of one module can run on many threads at once.
///
/// ```
/// use lucet_wasi::{Engine, EngineConfig, Module, WasiInstance, Exit, Output};
/// let engine = Engine::shared(&EngineConfig::default())?;
/// let module = Module::from_bytes(&engine, r#"(module (memory (export "memory") 1) (func (export "_start")))"#)?;
/// for _ in 0..3 {
///     let exit = WasiInstance::builder().module(&module).stdout(Output::null()).run("_start")?;
///     assert_eq!(exit, Exit::Returned);
/// }
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: wasmtime::Module,
    pub(crate) engine: Engine,
    name: Arc<str>,
    pre: Arc<OnceLock<InstancePre<StoreData>>>,
    /// Like `pre`, for async instances (`async` feature).
    #[cfg(feature = "async")]
    pub(crate) pre_async: Arc<OnceLock<InstancePre<StoreData>>>,
    /// Host functions linked into `pre` beside WASI.
    pub(crate) hostcalls: Option<Arc<HostcallSet>>,
    /// The serialized code, made on first need, for threads' own copies.
    artifact: Arc<OnceLock<Vec<u8>>>,
}

impl Module {
    /// Compiles a `.wasm` binary or `.wat` text file. argv\[0\] of its instances defaults
    /// to the file name. Precompiled artifacts are refused here: see
    /// [`from_precompiled_file`](Self::from_precompiled_file).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        let path = path.as_ref();
        Module::from_named_bytes(engine, file_name(path), &read_file(path)?)
    }

    /// Like [`from_file`](Self::from_file), through a [`CompileCache`](crate::CompileCache):
    /// a module compiled before for an engine like this one is mapped, not compiled.
    pub fn from_file_cached(
        engine: &Engine,
        path: impl AsRef<Path>,
        cache: &crate::CompileCache,
    ) -> Result<Module, Error> {
        let path = path.as_ref();
        Module::from_bytes_in(engine, file_name(path), &read_file(path)?, Some(cache))
    }

    /// Like [`from_bytes`](Self::from_bytes), through a [`CompileCache`](crate::CompileCache).
    pub fn from_bytes_cached(
        engine: &Engine,
        bytes: impl AsRef<[u8]>,
        cache: &crate::CompileCache,
    ) -> Result<Module, Error> {
        Module::from_bytes_in(engine, "module.wasm".into(), bytes.as_ref(), Some(cache))
    }

    /// Compiles a module given as `.wasm` bytes or `.wat` text (named `module.wasm`).
    pub fn from_bytes(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module, Error> {
        Module::from_named_bytes(engine, "module.wasm".into(), bytes.as_ref())
    }

    pub(crate) fn from_named_bytes(
        engine: &Engine,
        name: String,
        bytes: &[u8],
    ) -> Result<Module, Error> {
        Module::from_bytes_in(engine, name, bytes, None)
    }

    /// Compiles `bytes`, through `cache` if given.
    pub(crate) fn from_bytes_in(
        engine: &Engine,
        name: String,
        bytes: &[u8],
        cache: Option<&crate::CompileCache>,
    ) -> Result<Module, Error> {
        let compile_it = || {
            compile(&engine.0.engine, &name, bytes)
                .map_err(|e| name_switched_off_proposal(engine, bytes, e))
        };
        let inner = match cache {
            // Only what compiles is cached: anything else is refused as without a cache.
            Some(cache) if matches!(detect(bytes), Format::Binary | Format::Text) => {
                cache.module(engine, bytes, compile_it)?
            }
            _ => compile_it()?,
        };
        Ok(Module::wrap(engine, name, inner))
    }

    /// Loads a module precompiled by [`Module::serialize`] or `lucet-wasi compile`.
    ///
    /// # Safety
    ///
    /// A precompiled artifact is native machine code: it is trusted like a native
    /// binary. Wasmtime checks its header, version and engine configuration (a truncated
    /// or foreign file is an error), but cannot check the code itself. Load only
    /// artifacts you produced.
    pub unsafe fn from_precompiled_file(
        engine: &Engine,
        path: impl AsRef<Path>,
    ) -> Result<Module, Error> {
        let path = path.as_ref();
        let name = file_name(path);
        let precompiled = |reason: String| Error::Precompiled {
            name: name.clone(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        match wasmtime::Engine::detect_precompiled_file(path) {
            Ok(Some(Precompiled::Module)) => {}
            Ok(Some(Precompiled::Component)) => {
                return Err(precompiled(
                    "it is a precompiled component, not a module".into(),
                ))
            }
            Ok(None) => {
                return Err(precompiled(
                    "truncated, corrupt or not precompiled (not a Wasmtime artifact)".into(),
                ))
            }
            Err(e) => return Err(precompiled(format!("{e:#}"))),
        }
        // SAFETY: the caller vouches for the artifact (see above). The file is mapped,
        // not read: pages load as the guest touches them.
        let inner = unsafe { wasmtime::Module::deserialize_open_file(&engine.0.engine, file) }
            .map_err(|e| precompiled(precompiled_reason(&e)))?;
        Ok(Module::wrap(engine, name, inner))
    }

    /// Loads precompiled bytes; see [`from_precompiled_file`](Self::from_precompiled_file).
    ///
    /// # Safety
    ///
    /// As for [`from_precompiled_file`](Self::from_precompiled_file).
    pub unsafe fn from_precompiled_bytes(
        engine: &Engine,
        bytes: impl AsRef<[u8]>,
    ) -> Result<Module, Error> {
        // SAFETY: forwarded to our caller.
        unsafe { Module::from_precompiled_named(engine, "module.cwasm".into(), bytes.as_ref()) }
    }

    unsafe fn from_precompiled_named(
        engine: &Engine,
        name: String,
        bytes: &[u8],
    ) -> Result<Module, Error> {
        let precompiled = |reason: String| Error::Precompiled {
            name: name.clone(),
            reason,
        };
        match detect(bytes) {
            Format::Precompiled => {}
            _ => return Err(precompiled("not a precompiled module".into())),
        }
        match wasmtime::Engine::detect_precompiled(bytes) {
            Some(Precompiled::Module) => {}
            Some(Precompiled::Component) => {
                return Err(precompiled(
                    "it is a precompiled component, not a module".into(),
                ))
            }
            None => {
                return Err(precompiled(
                    "truncated or corrupt (not a Wasmtime artifact)".into(),
                ))
            }
        }
        // SAFETY: the caller vouches for the artifact (see `from_precompiled_file`).
        let inner = unsafe { wasmtime::Module::deserialize(&engine.0.engine, bytes) }
            .map_err(|e| precompiled(precompiled_reason(&e)))?;
        Ok(Module::wrap(engine, name, inner))
    }

    fn wrap(engine: &Engine, name: String, inner: wasmtime::Module) -> Module {
        Module {
            inner,
            engine: engine.clone(),
            name: name.into(),
            pre: Arc::new(OnceLock::new()),
            #[cfg(feature = "async")]
            pre_async: Arc::new(OnceLock::new()),
            hostcalls: None,
            artifact: Arc::new(OnceLock::new()),
        }
    }

    /// The module to instantiate on this thread: itself, or with
    /// [`EngineConfig::pool_per_thread`] this thread's own copy (made on first use).
    pub(crate) fn for_this_thread(&self) -> Result<Module, Error> {
        if !self.engine.config().pool_per_thread || self.engine.0.thread_local {
            return Ok(self.clone());
        }
        type Copies = Vec<(Weak<OnceLock<InstancePre<StoreData>>>, Module)>;
        thread_local! {
            static COPIES: RefCell<Copies> = RefCell::default();
        }
        let found = COPIES.with(|copies| {
            let mut copies = copies.borrow_mut();
            copies.retain(|(original, _)| original.strong_count() > 0);
            copies
                .iter()
                .find(|(original, _)| std::ptr::eq(original.as_ptr(), Arc::as_ptr(&self.pre)))
                .map(|(_, copy)| copy.clone())
        });
        if let Some(copy) = found {
            return Ok(copy);
        }
        let engine = Engine::thread_local(self.engine.config())?;
        let artifact = match self.artifact.get() {
            Some(a) => a,
            None => {
                let bytes = self.serialize()?;
                self.artifact.get_or_init(|| bytes)
            }
        };
        // SAFETY: serialized just now by this process from a module of an engine with
        // the same configuration.
        let inner = unsafe { wasmtime::Module::deserialize(&engine.0.engine, artifact) }
            .map_err(|e| Error::Host(format!("cannot load {} on this thread: {e:#}", self.name)))?;
        let mut copy = Module::wrap(&engine, self.name.to_string(), inner);
        if let Some(hostcalls) = &self.hostcalls {
            copy = copy.with_hostcalls(hostcalls)?;
        }
        COPIES.with(|copies| {
            copies
                .borrow_mut()
                .push((Arc::downgrade(&self.pre), copy.clone()))
        });
        Ok(copy)
    }

    /// This module with `hostcalls` linked beside WASI (and beside the host functions it
    /// already had), once for all its instances: an instance of the result costs what a
    /// WASI-only instance does. The compiled code is shared, not copied.
    ///
    /// Fails if two host functions have the same import, or one does not match the type
    /// the module imports it with; the embedder data each needs is checked when an
    /// instance is built.
    pub fn with_hostcalls(&self, hostcalls: &HostcallSet) -> Result<Module, Error> {
        let mut all = self.hostcalls.as_deref().cloned().unwrap_or_default();
        hostcalls.iter().for_each(|h| all.push(*h));
        let pre = self.link(&all)?;
        Ok(Module {
            inner: self.inner.clone(),
            engine: self.engine.clone(),
            name: self.name.clone(),
            pre: Arc::new(OnceLock::from(pre)),
            #[cfg(feature = "async")]
            pre_async: Arc::new(OnceLock::new()),
            hostcalls: Some(Arc::new(all)),
            artifact: self.artifact.clone(),
        })
    }

    /// Links the module against WASI and `hostcalls`.
    pub(crate) fn link(&self, hostcalls: &HostcallSet) -> Result<InstancePre<StoreData>, Error> {
        let mut linker = self.engine.linker()?.clone();
        hostcalls.link(&mut linker)?;
        linker
            .instantiate_pre(&self.inner)
            .map_err(|e| link_error(&self.engine, &linker, &self.inner, e))
    }

    /// Compiles ahead of time: the result loads with
    /// [`from_precompiled_bytes`](Self::from_precompiled_bytes) on an engine of the same
    /// configuration, without compiling.
    pub fn serialize(&self) -> Result<Vec<u8>, Error> {
        self.inner
            .serialize()
            .map_err(|e| Error::Host(format!("cannot serialize {}: {e:#}", self.name)))
    }

    /// The module's name: its file name, or `module.wasm` for bytes.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The module linked against WASI, resolved once and shared by all its instances.
    pub(crate) fn instance_pre(&self) -> Result<&InstancePre<StoreData>, Error> {
        if let Some(pre) = self.pre.get() {
            return Ok(pre);
        }
        let linker = self.engine.linker()?;
        let pre = linker
            .instantiate_pre(&self.inner)
            .map_err(|e| link_error(&self.engine, linker, &self.inner, e))?;
        Ok(self.pre.get_or_init(|| pre))
    }
}

/// Names the first import the linker cannot satisfy; else reports the linker's message.
pub(crate) fn link_error(
    engine: &Engine,
    linker: &Linker<StoreData>,
    module: &wasmtime::Module,
    e: wasmtime::Error,
) -> Error {
    let mut store = StoreData::scratch(&engine.0.engine);
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

/// Why Wasmtime refused a precompiled module, in our terms where we know them.
fn precompiled_reason(e: &wasmtime::Error) -> String {
    let reason = format!("{e:#}");
    if reason.contains("compiled without epoch interruption but it is enabled") {
        "it was compiled without timeout support, but this engine has it (EngineConfig { \
         timeout_capable: true }); compile it with `lucet-wasi compile --timeout-capable`"
            .into()
    } else if reason.contains("compiled with epoch interruption but it is not enabled") {
        "it was compiled with timeout support (`lucet-wasi compile --timeout-capable`), but \
         this engine has none; load it with EngineConfig { timeout_capable: true }"
            .into()
    } else {
        explain_precompiled(&reason)
    }
}

/// When a module is invalid and some proposals are switched off, finds the one whose
/// switch would make it valid and says so; otherwise returns the error as it is.
fn name_switched_off_proposal(engine: &Engine, bytes: &[u8], e: Error) -> Error {
    let Error::InvalidModule { name, reason } = e else {
        return e;
    };
    let config = engine.config();
    for (proposal, on) in config.wasm.iter() {
        if on {
            continue;
        }
        let Ok(wasm) = config.wasm.switch(&format!("{proposal}=y")) else {
            continue;
        };
        let Ok(other) = Engine::shared(&EngineConfig { wasm, ..*config }) else {
            continue;
        };
        let valid = match detect(bytes) {
            Format::Binary => wasmtime::Module::validate(&other.0.engine, bytes).is_ok(),
            _ => wasmtime::Module::new(&other.0.engine, bytes).is_ok(),
        };
        if valid {
            return Error::InvalidModule {
                name,
                reason: format!(
                    "it uses the WebAssembly `{proposal}` proposal, which is switched off \
                     (--wasm {proposal}=n): {reason}"
                ),
            };
        }
    }
    Error::InvalidModule { name, reason }
}

/// Wasmtime's refusal of a precompiled module made with other wasm switches, in our
/// terms; other reasons pass through.
fn explain_precompiled(reason: &str) -> String {
    let feature = reason
        .strip_prefix("Module was compiled with support for WebAssembly feature `")
        .and_then(|r| r.split_once('`'))
        .and_then(|(name, _)| WasmFeatures::from_wasmtime_name(name));
    match feature {
        Some(f) => format!(
            "it was compiled with the WebAssembly `{f}` proposal on, but it is switched off \
             here (--wasm {f}=n); run it with the switches it was compiled with, or compile \
             it again with these"
        ),
        None => reason.to_string(),
    }
}

/// A module's name from its path: the file name.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// What a module's bytes are, judged by content rather than file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A core wasm binary (`\0asm`, version 1).
    Binary,
    /// WAT text.
    Text,
    /// A module precompiled by `lucet-wasi compile` (a Wasmtime ELF artifact).
    Precompiled,
    /// A component-model binary: not a WASI preview1 program.
    Component,
    /// Anything else.
    Unknown,
}

/// Tells a module's format from its first bytes.
pub(crate) fn detect(bytes: &[u8]) -> Format {
    if let Some(rest) = bytes.strip_prefix(b"\0asm") {
        return match rest.get(..4) {
            Some([_, _, 1, 0]) => Format::Component,
            _ => Format::Binary,
        };
    }
    if bytes.starts_with(b"\x7fELF") {
        return Format::Precompiled;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let t = text.trim_start();
            if t.starts_with('(') || t.starts_with(";;") {
                Format::Text
            } else {
                Format::Unknown
            }
        }
        Err(_) => Format::Unknown,
    }
}

/// Compiles `.wasm` or `.wat` bytes; anything else is refused with the reason.
fn compile(engine: &wasmtime::Engine, name: &str, bytes: &[u8]) -> Result<wasmtime::Module, Error> {
    let invalid = |reason: String| Error::InvalidModule {
        name: name.to_string(),
        reason,
    };
    match detect(bytes) {
        Format::Binary | Format::Text => {
            wasmtime::Module::new(engine, bytes).map_err(|e| invalid(format!("{e:#}")))
        }
        Format::Precompiled => Err(Error::Precompiled {
            name: name.to_string(),
            reason: "precompiled modules are native code and load only through the unsafe \
                     Module::from_precompiled_file (the CLI runs them directly)"
                .into(),
        }),
        Format::Component => Err(invalid(
            "this is a WebAssembly component; lucet-wasi runs core modules (wasm32-wasip1)".into(),
        )),
        Format::Unknown => Err(Error::NotWasm {
            name: name.to_string(),
        }),
    }
}

/// Reads a module file, naming the file in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
