//! [`Module`]: loading, compiling and precompiling modules and WASI 0.2 components
//! (`format.rs` tells them by content, `cache.rs` keeps compiled code between processes),
//! and linking core modules for their instances (`link.rs`).

mod atomics;
mod cache;
mod format;
mod link;
mod seal;

pub(crate) use atomics::{MODULE as ATOMICS, NOTIFY, WAIT32, WAIT64};
pub use cache::CompileCache;
pub(crate) use format::{file_name, read_file};
pub(crate) use link::Linking;

/// What a module's clones and relinked copies share (see [`Module`]'s `shared`).
#[derive(Default)]
struct Shared {
    /// The WASI linkers, built on first use.
    linkers: Linkers,
    /// The serialized code, made on first need, for threads' own copies.
    artifact: OnceLock<Vec<u8>>,
}

use crate::engine::{Engine, EngineConfig};
use crate::error::PrecompiledProblem;
use crate::hostcall::HostcallSet;
use crate::store::StoreData;
use crate::{Bytes, Error};
use format::Format;
use link::Linkers;

/// Size of a wasm page.
const WASM_PAGE: u64 = 64 * 1024;

/// The name of a module given as bytes.
const BYTES: &str = "module.wasm";
use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, OnceLock, Weak};
use wasmtime::{ExternType, InstancePre, Precompiled};

/// A compiled module, ready to instantiate many times: compile once, then each
/// [`WasiInstance`](crate::WasiInstance) costs only instantiation. Cheap to clone;
/// `Send + Sync`, so instances of one module can run on many threads at once.
///
/// A module is a core module (`wasm32-wasip1`, WASI preview 1) or, with the
/// `components` feature (on by default), a WASI 0.2 command component (`wasm32-wasip2`,
/// componentize-py, ...): the loaders tell them by content, and the builder runs both
/// the same way (see [`is_component`](Self::is_component)).
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
    pub(crate) code: Code,
    pub(crate) engine: Engine,
    name: Arc<str>,
    // The rest is a core module's (a component's is in its `Code`): linked once,
    // host functions, threads.
    pub(crate) pre: Arc<OnceLock<InstancePre<StoreData>>>,
    /// Like `pre`, for async instances (`async` feature).
    #[cfg(feature = "async")]
    pub(crate) pre_async: Arc<OnceLock<InstancePre<StoreData>>>,
    /// Host functions linked into `pre` beside WASI.
    pub(crate) hostcalls: Option<Arc<HostcallSet>>,
    /// The shared memory a threaded module imports.
    threaded: Option<Arc<ThreadedMemory>>,
    /// What the module's clones and relinked copies share: its WASI linkers and its
    /// serialized code, each made on first need (one `Arc`: a clone per instance costs
    /// one count less).
    shared: Arc<Shared>,
}

/// A module's compiled code.
#[derive(Clone)]
pub(crate) enum Code {
    /// A core module.
    Core(wasmtime::Module),
    /// A WASI 0.2 command component.
    #[cfg(feature = "components")]
    Component(Arc<crate::component::Code>),
}

impl Module {
    /// Compiles a `.wasm` binary or `.wat` text file. argv\[0\] of its instances defaults
    /// to the file name. Precompiled artifacts are refused here: see
    /// [`from_precompiled_file`](Self::from_precompiled_file).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        Module::compile_file(engine, path.as_ref(), None)
    }

    /// Like [`from_file`](Self::from_file), through a [`CompileCache`]: a module compiled
    /// before for an engine like this one is mapped, not compiled.
    pub fn from_file_cached(
        engine: &Engine,
        path: impl AsRef<Path>,
        cache: &CompileCache,
    ) -> Result<Module, Error> {
        Module::compile_file(engine, path.as_ref(), Some(cache))
    }

    /// Compiles a module given as `.wasm` bytes or `.wat` text (named `module.wasm`).
    pub fn from_bytes(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module, Error> {
        Module::compile(engine, BYTES.into(), BYTES, bytes.as_ref(), None)
    }

    /// Like [`from_bytes`](Self::from_bytes), through a [`CompileCache`].
    pub fn from_bytes_cached(
        engine: &Engine,
        bytes: impl AsRef<[u8]>,
        cache: &CompileCache,
    ) -> Result<Module, Error> {
        Module::compile(engine, BYTES.into(), BYTES, bytes.as_ref(), Some(cache))
    }

    fn compile_file(
        engine: &Engine,
        path: &Path,
        cache: Option<&CompileCache>,
    ) -> Result<Module, Error> {
        let label = path.display().to_string();
        let bytes = format::read_file(path)?;
        Module::compile(engine, format::file_name(path), &label, &bytes, cache)
    }

    /// Compiles `bytes`, through `cache` if given. `name` becomes the module's name
    /// (argv\[0\]); `label` names it in errors (a file's path as given).
    pub(crate) fn compile(
        engine: &Engine,
        name: String,
        label: &str,
        bytes: &[u8],
        cache: Option<&CompileCache>,
    ) -> Result<Module, Error> {
        // Text is made binary once, here (what does not parse is left for the compile
        // to report).
        let parsed;
        let bytes = match format::detect(bytes) {
            Format::Text => match wat::parse_bytes(bytes) {
                Ok(wasm) => {
                    parsed = wasm.into_owned();
                    &parsed[..]
                }
                Err(_) => bytes,
            },
            _ => bytes,
        };
        #[cfg(feature = "components")]
        if format::detect(bytes) == Format::Component {
            let compile_it = || crate::component::compile(&engine.0.engine, label, bytes);
            let component = match cache {
                Some(cache) => cache.compiled(engine, bytes, compile_it)?,
                None => compile_it()?,
            };
            return Module::wrap_component(engine, name, label, component);
        }
        // A threaded module's threads are stopped at interruption checks: on an engine
        // without them, it is compiled on the same engine with them.
        let capable;
        let engine = if !engine.config().timeout_capable && is_threaded(bytes) {
            capable = Engine::shared(&EngineConfig {
                timeout_capable: true,
                ..*engine.config()
            })?;
            &capable
        } else {
            engine
        };
        let compile_it = || {
            format::compile(&engine.0.engine, label, bytes)
                .map_err(|e| format::name_switched_off_proposal(engine, bytes, e))
        };
        let inner = match cache {
            // Only what compiles is cached: anything else is refused as without a cache.
            Some(cache) if matches!(format::detect(bytes), Format::Binary | Format::Text) => {
                cache.compiled(engine, bytes, compile_it)?
            }
            _ => compile_it()?,
        };
        Ok(Module::wrap(engine, name, inner))
    }

    /// Whether this is a WASI 0.2 component rather than a core module. A component runs
    /// as a core command does — `run("_start")` runs its `wasi:cli/run` export, under
    /// the same arguments, environment, preopens, stdio, limits, timeout and fuel — but
    /// host functions ([`with_hostcalls`](Self::with_hostcalls),
    /// [`hostcall`](crate::WasiInstanceBuilder::hostcall)),
    /// [`call`](crate::WasiInstance::call), guest memory access, `restart`, async runs
    /// and reactors are for core modules only: asking a component for them is
    /// [`Misuse::NotForComponents`](crate::Misuse::NotForComponents).
    ///
    /// ```
    /// use lucet_wasi::{Engine, EngineConfig, Module};
    /// let engine = Engine::shared(&EngineConfig::default())?;
    /// assert!(!Module::from_bytes(&engine, "(module)")?.is_component());
    /// # Ok::<(), lucet_wasi::Error>(())
    /// ```
    pub fn is_component(&self) -> bool {
        !matches!(self.code, Code::Core(_))
    }

    /// The core module, for the code that links and runs core modules (a component
    /// never reaches it: the builder and the loaders send it its own way).
    pub(crate) fn core(&self) -> Result<&wasmtime::Module, Error> {
        match &self.code {
            Code::Core(module) => Ok(module),
            #[cfg(feature = "components")]
            Code::Component(_) => Err(Error::internal("a component reached core-module code")),
        }
    }

    /// Refuses a module (or component) whose initial memory, or that of any module in
    /// the component, exceeds the maximum heap: before it runs.
    pub(crate) fn check_initial_memory(&self, max_heap: Bytes) -> Result<(), Error> {
        let pages = match &self.code {
            Code::Core(module) => module.resources_required().max_initial_memory_size,
            #[cfg(feature = "components")]
            Code::Component(code) => code
                .component
                .resources_required()
                .and_then(|r| r.max_initial_memory_size),
        };
        let initial = pages.unwrap_or(0).saturating_mul(WASM_PAGE);
        if initial > max_heap.0 {
            return Err(Error::HeapTooSmall {
                initial: Bytes(initial),
                max_heap,
            });
        }
        Ok(())
    }

    /// The component, if this is one.
    #[cfg(feature = "components")]
    pub(crate) fn component(&self) -> Option<&crate::component::Code> {
        match &self.code {
            Code::Component(code) => Some(code),
            Code::Core(_) => None,
        }
    }

    /// Wraps a compiled component, if it is a command.
    #[cfg(feature = "components")]
    fn wrap_component(
        engine: &Engine,
        name: String,
        label: &str,
        component: wasmtime::component::Component,
    ) -> Result<Module, Error> {
        let code = crate::component::Code::new(label, component)?;
        Ok(Module::unlinked(
            engine,
            name,
            Code::Component(Arc::new(code)),
            None,
        ))
    }

    /// Whether the file at `path` starts like a module precompiled by
    /// [`serialize`](Self::serialize) or `lucet-wasi compile` (which then loads only
    /// through [`from_precompiled_file`](Self::from_precompiled_file)); `false` if it
    /// cannot be read.
    ///
    /// ```
    /// use lucet_wasi::Module;
    /// assert!(!Module::is_precompiled_file("../examples/hello.wat"));
    /// ```
    pub fn is_precompiled_file(path: impl AsRef<Path>) -> bool {
        use std::io::Read;
        let mut head = [0u8; 4];
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| format::detect(&head) == Format::Precompiled)
    }

    /// Loads a module precompiled by [`Module::serialize`] or `lucet-wasi compile`.
    ///
    /// # Safety
    ///
    /// A precompiled artifact is native machine code: it is trusted like a native
    /// binary. Wasmtime checks its header, version and engine configuration (a truncated
    /// or foreign file is an error), but cannot check the code itself. Load only
    /// artifacts you produced — [`from_sealed_file`](Self::from_sealed_file) checks that
    /// for you.
    pub unsafe fn from_precompiled_file(
        engine: &Engine,
        path: impl AsRef<Path>,
    ) -> Result<Module, Error> {
        let path = path.as_ref();
        let file = open(path)?;
        // SAFETY: forwarded to our caller.
        unsafe { Module::load_precompiled(engine, path, file) }
    }

    /// Loads a module this user precompiled with [`serialize_sealed`](Self::serialize_sealed)
    /// or `lucet-wasi compile`: safe, because the file must carry a seal (a MAC keyed
    /// with a secret only this user can read) over its whole current contents. Any other
    /// file — precompiled elsewhere, by another user, by [`serialize`](Self::serialize),
    /// or changed since — is refused with [`PrecompiledProblem::NotSealed`] before any
    /// of it is loaded. The check reads the whole file once (about 20 ms for 26 MB).
    ///
    /// ```
    /// use lucet_wasi::{Engine, EngineConfig, Module};
    /// let engine = Engine::shared(&EngineConfig::default())?;
    /// let module = Module::from_bytes(&engine, "(module)")?;
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("m.cwasm"), module.serialize_sealed()?).unwrap();
    /// Module::from_sealed_file(&engine, dir.path().join("m.cwasm"))?;
    /// std::fs::write(dir.path().join("plain.cwasm"), module.serialize()?).unwrap();
    /// assert!(Module::from_sealed_file(&engine, dir.path().join("plain.cwasm")).is_err());
    /// # Ok::<(), lucet_wasi::Error>(())
    /// ```
    pub fn from_sealed_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        let path = path.as_ref();
        let file = open(path)?;
        if !seal::is_sealed(&file)? {
            return Err(Error::Precompiled {
                name: path.display().to_string(),
                problem: PrecompiledProblem::NotSealed,
                source: None,
            });
        }
        // SAFETY: this user's lucet-wasi made it from a wasm module, and it has not
        // changed since: it is trusted as that user's own compile cache is.
        unsafe { Module::load_precompiled(engine, path, file) }
    }

    /// Maps the precompiled module open as `file` (at `path`).
    ///
    /// # Safety
    ///
    /// As for [`from_precompiled_file`](Self::from_precompiled_file).
    unsafe fn load_precompiled(
        engine: &Engine,
        path: &Path,
        file: std::fs::File,
    ) -> Result<Module, Error> {
        let precompiled = |problem, source: Option<wasmtime::Error>| Error::Precompiled {
            name: path.display().to_string(),
            problem,
            source: source.map(Into::into),
        };
        let kind = match wasmtime::Engine::detect_precompiled_file(path) {
            Ok(Some(kind)) => kind,
            Ok(None) => return Err(precompiled(PrecompiledProblem::NotAnArtifact, None)),
            Err(e) => return Err(precompiled(PrecompiledProblem::NotAnArtifact, Some(e))),
        };
        let name = format::file_name(path);
        if kind == Precompiled::Component {
            #[cfg(not(feature = "components"))]
            return Err(precompiled(PrecompiledProblem::Component, None));
            #[cfg(feature = "components")]
            {
                // SAFETY: as below.
                let component =
                    unsafe { cache::Artifact::load(&engine.0.engine, file) }.map_err(|e| {
                        let problem = format::precompiled_problem(engine, |other| {
                            let file = open(path).map_err(wasmtime::Error::new)?;
                            // SAFETY: as above: only to see which engine it fits.
                            unsafe {
                                <wasmtime::component::Component as cache::Artifact>::load(
                                    other, file,
                                )
                            }
                            .map(drop)
                        });
                        precompiled(problem, Some(e))
                    })?;
                tracing::debug!(path = %path.display(), "loaded a precompiled component");
                let label = path.display().to_string();
                return Module::wrap_component(engine, name, &label, component);
            }
        }
        // SAFETY: the caller vouches for the artifact (see above). The file is mapped,
        // not read: pages load as the guest touches them.
        let inner = unsafe { wasmtime::Module::deserialize_open_file(&engine.0.engine, file) }
            .map_err(|e| {
                let problem = format::precompiled_problem(engine, |other| {
                    let file = open(path).map_err(wasmtime::Error::new)?;
                    // SAFETY: as above: only to see which engine the artifact fits.
                    unsafe { wasmtime::Module::deserialize_open_file(other, file) }.map(drop)
                });
                precompiled(problem, Some(e))
            })?;
        tracing::debug!(path = %path.display(), "loaded a precompiled module");
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
        let precompiled = |problem, source: Option<wasmtime::Error>| Error::Precompiled {
            name: name.clone(),
            problem,
            source: source.map(Into::into),
        };
        match (
            format::detect(bytes),
            wasmtime::Engine::detect_precompiled(bytes),
        ) {
            (Format::Precompiled, Some(Precompiled::Module)) => {}
            #[cfg(feature = "components")]
            (Format::Precompiled, Some(Precompiled::Component)) => {
                // SAFETY: the caller vouches for the artifact (see `from_precompiled_file`).
                let component =
                    unsafe { wasmtime::component::Component::deserialize(&engine.0.engine, bytes) }
                        .map_err(|e| {
                            let problem = format::precompiled_problem(engine, |other| {
                                // SAFETY: as above: only to see which engine it fits.
                                unsafe { wasmtime::component::Component::deserialize(other, bytes) }
                                    .map(drop)
                            });
                            precompiled(problem, Some(e))
                        })?;
                let label = name.clone();
                return Module::wrap_component(engine, name, &label, component);
            }
            #[cfg(not(feature = "components"))]
            (Format::Precompiled, Some(Precompiled::Component)) => {
                return Err(precompiled(PrecompiledProblem::Component, None))
            }
            _ => return Err(precompiled(PrecompiledProblem::NotAnArtifact, None)),
        }
        // SAFETY: the caller vouches for the artifact (see `from_precompiled_file`).
        let inner =
            unsafe { wasmtime::Module::deserialize(&engine.0.engine, bytes) }.map_err(|e| {
                let problem = format::precompiled_problem(engine, |other| {
                    // SAFETY: as above: only to see which engine the artifact fits.
                    unsafe { wasmtime::Module::deserialize(other, bytes) }.map(drop)
                });
                precompiled(problem, Some(e))
            })?;
        Ok(Module::wrap(engine, name, inner))
    }

    /// This module with another linking of it (see [`with_hostcalls`](Self::with_hostcalls)).
    /// `pre` is `None` for a threaded module, which is linked for each instance.
    pub(crate) fn relinked(
        &self,
        pre: Option<InstancePre<StoreData>>,
        hostcalls: HostcallSet,
    ) -> Module {
        let linked = OnceLock::new();
        if let Some(pre) = pre {
            let _ = linked.set(pre);
        }
        Module {
            code: self.code.clone(),
            engine: self.engine.clone(),
            name: self.name.clone(),
            pre: Arc::new(linked),
            #[cfg(feature = "async")]
            pre_async: Arc::new(OnceLock::new()),
            hostcalls: Some(Arc::new(hostcalls)),
            threaded: self.threaded.clone(),
            shared: self.shared.clone(),
        }
    }

    /// The shared memory the module imports, if it is threaded (wasi-threads).
    pub(crate) fn threaded(&self) -> Option<&ThreadedMemory> {
        self.threaded.as_deref()
    }

    /// Whether the module exports a function `name`.
    pub(crate) fn exports_func(&self, name: &str) -> bool {
        let Ok(module) = self.core() else {
            return false;
        };
        matches!(module.get_export(name), Some(ExternType::Func(_)))
    }

    fn wrap(engine: &Engine, name: String, inner: wasmtime::Module) -> Module {
        let threaded = inner.imports().find_map(|i| match i.ty() {
            ExternType::Memory(ty) if ty.is_shared() => Some(Arc::new(ThreadedMemory {
                module: i.module().to_string(),
                name: i.name().to_string(),
                ty,
            })),
            _ => None,
        });
        Module::unlinked(engine, name, Code::Core(inner), threaded)
    }

    /// A module of `code`, not linked yet, without host functions.
    fn unlinked(
        engine: &Engine,
        name: String,
        code: Code,
        threaded: Option<Arc<ThreadedMemory>>,
    ) -> Module {
        Module {
            code,
            engine: engine.clone(),
            name: name.into(),
            pre: Arc::new(OnceLock::new()),
            #[cfg(feature = "async")]
            pre_async: Arc::new(OnceLock::new()),
            hostcalls: None,
            threaded,
            shared: Arc::default(),
        }
    }

    /// The module to instantiate on this thread: itself, or with
    /// [`EngineConfig::pool_per_thread`] this thread's own copy (made on first use).
    pub(crate) fn for_this_thread(&self) -> Result<Module, Error> {
        if !self.engine.config().pool_per_thread
            || self.engine.0.thread_local
            || self.is_component()
        {
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
        let artifact = match self.shared.artifact.get() {
            Some(a) => a,
            None => {
                let bytes = self.serialize()?;
                self.shared.artifact.get_or_init(|| bytes)
            }
        };
        // SAFETY: serialized just now by this process from a module of an engine with
        // the same configuration.
        let inner = unsafe { wasmtime::Module::deserialize(&engine.0.engine, artifact) }
            .map_err(|e| Error::host(format!("cannot load {} on this thread", self.name), e))?;
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

    /// Compiles ahead of time, sealed for this user as `lucet-wasi compile` does: the
    /// result loads safely with [`from_sealed_file`](Self::from_sealed_file) (and runs
    /// with `lucet-wasi` without `--allow-precompiled`) for this user only. The key is
    /// made on first use: see [`from_sealed_file`](Self::from_sealed_file).
    pub fn serialize_sealed(&self) -> Result<Vec<u8>, Error> {
        let mut artifact = self.serialize()?;
        seal::seal(&mut artifact)?;
        Ok(artifact)
    }

    /// Compiles ahead of time: the result loads with
    /// [`from_precompiled_bytes`](Self::from_precompiled_bytes) on an engine of the same
    /// configuration, without compiling.
    pub fn serialize(&self) -> Result<Vec<u8>, Error> {
        match &self.code {
            Code::Core(module) => module.serialize(),
            #[cfg(feature = "components")]
            Code::Component(code) => code.component.serialize(),
        }
        .map_err(|e| Error::host(format!("cannot serialize {}", self.name), e))
    }

    /// The module's name: its file name, or `module.wasm` for bytes.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Whether the binary module `wasm` is threaded (imports a shared memory), which needs an
/// engine that can interrupt its threads.
fn is_threaded(wasm: &[u8]) -> bool {
    !matches!(atomics::threading(wasm), Ok(None))
}

/// The shared memory a threaded module imports (wasi-threads): each instance creates
/// one, which all its threads' instances import.
pub(crate) struct ThreadedMemory {
    /// The import's module and name.
    pub(crate) module: String,
    pub(crate) name: String,
    /// Its type (shared, with a maximum).
    pub(crate) ty: wasmtime::MemoryType,
}

/// Opens a module file, naming it in the error.
fn open(path: &Path) -> Result<std::fs::File, Error> {
    std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
