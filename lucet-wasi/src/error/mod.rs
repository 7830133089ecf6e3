//! The one error type of lucet-wasi, [`Error`], with the kinds some variants carry
//! (`kinds.rs`), why a host function failed ([`HostcallError`], `hostcall.rs`) and where
//! a guest stopped ([`WasmBacktrace`], `backtrace.rs`). This module knows no other part
//! of the crate but sizes.

mod backtrace;
mod hostcall;
mod kinds;

pub use backtrace::{FrameInfo, WasmBacktrace};
pub use hostcall::HostcallError;
pub use kinds::{
    ArgumentProblem, CacheProblem, EndCause, EngineSetting, FeatureProblem, LimitRule, Misuse,
    PrecompiledProblem,
};

use crate::Bytes;
use std::path::PathBuf;
use std::time::Duration;

/// An underlying error, kept as an [`Error`]'s source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong loading, linking or running a guest.
///
/// Each variant says what went wrong and with which value; [`Error::exit_code`] gives the
/// status the `lucet-wasi` CLI exits with for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A size string could not be parsed.
    #[error("{input:?}: {reason}")]
    InvalidSize {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A limit breaks a rule (granularity, ordering, range).
    #[error("{what} {value}: {rule}")]
    InvalidLimit {
        /// Which limit.
        what: &'static str,
        /// Its value.
        value: Bytes,
        /// The rule it breaks.
        rule: LimitRule,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are neither a wasm binary, WAT text nor a precompiled module.
    #[error("{name}: not a WebAssembly module (expected a .wasm binary, .wat text, or a module precompiled by `lucet-wasi compile`)")]
    NotWasm {
        /// The module: its path as given, or `module.wasm` for bytes.
        name: String,
    },
    /// The module failed to parse, validate or compile.
    #[error("{name}: invalid module: {}{}", switched_off_hint(*.switched_off), chain(&**source))]
    InvalidModule {
        /// The module: its path as given, or `module.wasm` for bytes.
        name: String,
        /// A WebAssembly proposal the module uses that is switched off, if that is why.
        switched_off: Option<&'static str>,
        /// The parser's or compiler's error.
        #[source]
        source: BoxError,
    },
    /// The bytes are a WebAssembly component, and this lucet-wasi was built without the
    /// `components` feature.
    #[error("{name}: this is a WebAssembly component; this lucet-wasi was built without WASI 0.2 components (the `components` feature)")]
    Component {
        /// The module: its path as given, or `module.wasm` for bytes.
        name: String,
    },
    /// The component is not a command: it does not export `wasi:cli/run` (a
    /// `wasi:http` proxy, say, or a library component).
    #[error("{name}: not a WASI 0.2 command: it does not export `wasi:cli/run` ({}); lucet-wasi runs components of the `wasi:cli/command` world", exports_of(exports))]
    NotACommand {
        /// The component: its path as given, or `module.wasm` for bytes.
        name: String,
        /// What it exports instead.
        exports: Vec<String>,
    },
    /// A precompiled module could not be loaded (corrupt, truncated, or made by an
    /// incompatible version or configuration).
    #[error("{name}: cannot load precompiled module: {}", precompiled_reason(*problem, source.as_deref()))]
    Precompiled {
        /// The module: its path as given, or `module.cwasm` for bytes.
        name: String,
        /// Why.
        problem: PrecompiledProblem,
        /// Wasmtime's error, if it refused the artifact.
        #[source]
        source: Option<BoxError>,
    },
    /// A preopened host directory could not be opened.
    #[error("preopen {guest}:{}: cannot open host directory: {source}", host.display())]
    Preopen {
        /// The guest path.
        guest: String,
        /// The host directory.
        host: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A socket for the guest could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The module imports something nobody provides: a WASI function lucet-wasi does not
    /// have, or a host function the embedder did not register.
    #[error(
        "module imports {kind} `{module}::{field}`, {}",
        unknown_import_hint(module)
    )]
    UnknownImport {
        /// The import's module name.
        module: String,
        /// The import's field name.
        field: String,
        /// What kind of item it is (`function`, `memory`, ...).
        kind: &'static str,
    },
    /// The module cannot be linked although every import is provided: an import (WASI
    /// or a host function) has another type than the module expects.
    #[error("cannot link module: {}{}", import.as_deref().map(|f| format!("`{f}`: ")).unwrap_or_default(), chain(&**source))]
    Link {
        /// The import (`module::name`) that cannot be linked, if known.
        import: Option<String>,
        /// The linker's error.
        #[source]
        source: BoxError,
    },
    /// The entry point is not an exported function.
    #[error("module has no exported function `{name}`")]
    NoSuchExport {
        /// The requested export.
        name: String,
    },
    /// The entry point has parameters or results.
    #[error(
        "export `{name}` has type {found}; an entry point takes no parameters and returns nothing"
    )]
    BadEntrypoint {
        /// The requested export.
        name: String,
        /// Its type.
        found: String,
    },
    /// An export exists but its type differs from the one asked for.
    #[error("export `{name}` cannot be called with these types: {}", chain(&**source))]
    ExportType {
        /// The export.
        name: String,
        /// What differs.
        #[source]
        source: BoxError,
    },
    /// The guest called `proc_exit` during [`WasiInstance::call`](crate::WasiInstance::call).
    #[error("guest exited with status {status}")]
    Exited {
        /// Its exit status.
        status: u32,
    },
    /// The module's initial linear memory does not fit the maximum heap.
    #[error(
        "module needs {initial} of initial memory, more than the maximum heap size of {max_heap}"
    )]
    HeapTooSmall {
        /// The module's initial memory.
        initial: Bytes,
        /// The configured maximum.
        max_heap: Bytes,
    },
    /// The guest trapped.
    #[error("wasm trap{}: {message}", in_thread(*.thread))]
    Trap {
        /// The trap's cause.
        message: String,
        /// Where in the guest it trapped (empty if not in wasm code).
        backtrace: WasmBacktrace,
        /// In a threaded guest, the thread that trapped, if not the main one.
        thread: Option<u32>,
    },
    /// The guest ran longer than its timeout.
    #[error("guest timed out after {}", humantime::format_duration(*after))]
    Timeout {
        /// The timeout.
        after: Duration,
    },
    /// A host function failed while the guest called it (bad guest memory, invalid
    /// UTF-8, an `Err` it returned, a panic), or cannot serve this instance (its
    /// embedder data has another type). The instance ends; others are unaffected.
    ///
    /// The message includes the cause; [`source`](std::error::Error::source) is the
    /// [`HostcallError`], whose own `source` is the error the function returned, so
    /// that error chains (`anyhow`, `eyre`) reach and downcast it.
    #[error("host function `{function}`: {cause}")]
    HostFunction {
        /// `module::name` of the function, as the guest imports it.
        function: String,
        /// What went wrong.
        #[source]
        cause: HostcallError,
        /// Where in the guest it was called from (empty if not called by the guest).
        backtrace: WasmBacktrace,
    },
    /// Two host functions given to one instance or set have the same import name.
    #[error("two host functions are imported as `{module}::{name}`: `{}` and `{}` (give one another name with #[hostcall(name = \"...\")])", functions.0, functions.1)]
    DuplicateHostcall {
        /// The import module.
        module: String,
        /// The import name.
        name: String,
        /// The Rust signatures of the two functions.
        functions: (String, String),
    },
    /// The guest used up its fuel budget.
    #[error("guest ran out of fuel")]
    OutOfFuel {
        /// Where in the guest it ran out.
        backtrace: WasmBacktrace,
    },
    /// Every instance slot of a pooled engine is taken (see
    /// [`EngineConfig::pooling`](crate::EngineConfig::pooling)): instances hold their slot
    /// until dropped. Nothing waits; the caller decides whether to retry.
    #[error("no free instance slot: {source} (drop instances that are done, or raise EngineConfig::pooling)")]
    PoolExhausted {
        /// Wasmtime's account of the limit reached.
        #[source]
        source: wasmtime::PoolConcurrencyLimitError,
    },
    /// A compile-cache directory cannot be used.
    #[error("compile cache {}: {problem}{}", dir.display(), source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
    Cache {
        /// The directory.
        dir: PathBuf,
        /// Why not.
        problem: CacheProblem,
        /// The OS error, if any.
        #[source]
        source: Option<std::io::Error>,
    },
    /// An async host function was given to an instance built for sync runs.
    #[error("host function `{function}` is async: build the instance with build_async() and run it with run_async() or call_async()")]
    AsyncHostcall {
        /// `module::name` of the function.
        function: String,
    },
    /// No module was given to the builder.
    #[error("no module given (use module_file, module_bytes or module)")]
    NoModule,
    /// An access to guest memory through [`WasiInstance`](crate::WasiInstance) was out
    /// of bounds, misaligned or not UTF-8.
    #[error("guest memory: {0}")]
    GuestMemory(#[from] HostcallError),
    /// The module's engine lacks a setting the builder asks for (engine settings are
    /// engine-wide: see [`EngineConfig`](crate::EngineConfig)).
    #[error("{needed}")]
    EngineLacks {
        /// What is needed.
        needed: EngineSetting,
    },
    /// A call that does not fit the instance's state.
    #[error("{0}")]
    Misuse(Misuse),
    /// A `run` or `call` of an instance that has ended: it trapped, a host function
    /// failed, it timed out, ran out of fuel or called `proc_exit`, and its memory may be
    /// half-way through an update. Its memory and data can still be read; to go on,
    /// [`restart`](crate::WasiInstance::restart) it or build a new one.
    #[error("this instance has ended ({cause}): it runs no more; restart() it or build a new one")]
    Ended {
        /// Why it ended.
        cause: EndCause,
    },
    /// An argument or environment variable the guest cannot receive.
    #[error("{}", guest_argument(what, value, *problem))]
    GuestArgument {
        /// `argument` or `environment variable`.
        what: &'static str,
        /// The value given (empty for [`ArgumentProblem::TooLarge`]).
        value: String,
        /// What is wrong with it.
        problem: ArgumentProblem,
    },
    /// A `--wasm` switch list (or [`WasmFeatures::switch`](crate::WasmFeatures::switch))
    /// cannot be used.
    #[error("{0}")]
    WasmFeature(FeatureProblem),
    /// A trace filter names a call that neither WASI nor the instance's host functions
    /// have (`Some(name)`), or no call at all (`None`).
    #[error("{}", match name {
        Some(name) => format!("trace filter: `{name}` is neither a wasi_snapshot_preview1 function nor a host function of this instance"),
        None => "a trace filter names at least one call".to_string(),
    })]
    TraceFilter {
        /// The unknown name, if one.
        name: Option<String>,
    },
    /// The engine or the host failed (out of host memory, thread creation, ...).
    #[error("{context}{}", source.as_deref().map(|s| format!(": {}", chain(s))).unwrap_or_default())]
    Host {
        /// What lucet-wasi was doing.
        context: String,
        /// The error it got, if any.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// The host failed doing `context`, with `source`.
    pub(crate) fn host(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        Error::Host {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// An internal error with no underlying cause.
    pub(crate) fn internal(context: impl Into<String>) -> Error {
        Error::Host {
            context: format!("internal error: {}", context.into()),
            source: None,
        }
    }

    /// The exit status the CLI uses for this error: 134 for a trap or running out of
    /// fuel (128 + SIGABRT, as other runtimes), 124 for a timeout, 2 for a bad size or
    /// limit, the guest's status for [`Error::Exited`], 1 otherwise.
    ///
    /// ```
    /// use lucet_wasi::Error;
    /// assert_eq!(Error::NoSuchExport { name: "main".into() }.exit_code(), 1);
    /// assert_eq!(Error::Exited { status: 3 }.exit_code(), 3);
    /// ```
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Trap { .. } | Error::OutOfFuel { .. } => 134,
            Error::Timeout { .. } => 124,
            Error::InvalidSize { .. } | Error::InvalidLimit { .. } => 2,
            Error::Exited { status } => *status as i32,
            _ => 1,
        }
    }
}

/// An error and its causes on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // Some errors print their source themselves; say it once.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// What a component that is not a command exports, naming the world of the ones whose
/// world is known.
fn exports_of(exports: &[String]) -> String {
    if exports.is_empty() {
        return "it exports nothing".to_string();
    }
    let named: Vec<String> = exports
        .iter()
        .map(|e| match e.split('@').next() {
            Some("wasi:http/incoming-handler") => format!("{e}: the wasi:http/proxy world"),
            _ => e.clone(),
        })
        .collect();
    format!("it exports {}", named.join(", "))
}

/// The reason part of [`Error::InvalidModule`] when a proposal is switched off.
fn switched_off_hint(proposal: Option<&str>) -> String {
    match proposal {
        Some(p) => format!(
            "it uses the WebAssembly `{p}` proposal, which is switched off (--wasm {p}=n): "
        ),
        None => String::new(),
    }
}

/// Why a precompiled module is refused: our words where we know the reason, else
/// Wasmtime's.
fn precompiled_reason(
    problem: PrecompiledProblem,
    source: Option<&(dyn std::error::Error + Send + Sync + 'static)>,
) -> String {
    match (problem, source) {
        (PrecompiledProblem::Incompatible | PrecompiledProblem::NotAnArtifact, Some(s)) => chain(s),
        _ => problem.to_string(),
    }
}

/// The message of [`Error::GuestArgument`].
fn guest_argument(what: &str, value: &str, problem: ArgumentProblem) -> String {
    match problem {
        ArgumentProblem::NulByte => format!("{what} {value:?}: contains a NUL byte"),
        ArgumentProblem::BadName => {
            format!("{what} name {value:?}: must be non-empty and contain no '='")
        }
        ArgumentProblem::TooLarge => "arguments or environment too large".to_string(),
    }
}

/// Where to look for an import nobody provides.
fn unknown_import_hint(module: &str) -> &'static str {
    match module {
        "wasi_snapshot_preview1" => "which lucet-wasi's wasi_snapshot_preview1 does not have",
        m if m.starts_with("wasi") => {
            "which is not provided: lucet-wasi provides WASI as wasi_snapshot_preview1 only \
             (build the guest for wasm32-wasip1)"
        }
        _ => {
            "which is not provided: register a host function for it with `.hostcall(f)` \
             (see #[lucet_wasi::hostcall]) or Module::with_hostcalls"
        }
    }
}

/// ` in thread N` for a trap in a threaded guest's thread N.
fn in_thread(thread: Option<u32>) -> String {
    thread
        .map(|t| format!(" in thread {t}"))
        .unwrap_or_default()
}
