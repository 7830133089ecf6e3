//! The one error type of lucet-wasi.

use crate::Bytes;
use std::path::PathBuf;
use std::time::Duration;

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
    #[error("{what} {value}: {reason}")]
    InvalidLimit {
        /// Which limit.
        what: &'static str,
        /// Its value.
        value: Bytes,
        /// The rule it breaks.
        reason: String,
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
        /// The module's name (its file name, or `<bytes>`).
        name: String,
    },
    /// The module failed to parse, validate or compile.
    #[error("{name}: invalid module: {reason}")]
    InvalidModule {
        /// The module's name.
        name: String,
        /// The parser's or compiler's message.
        reason: String,
    },
    /// A precompiled module could not be loaded (corrupt, truncated, or made by an
    /// incompatible version or configuration).
    #[error("{name}: cannot load precompiled module: {reason}")]
    Precompiled {
        /// The module's name.
        name: String,
        /// Why.
        reason: String,
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
    /// The module imports something nobody provides.
    #[error("module imports {kind} `{module}::{field}`, which is not provided (lucet-wasi provides wasi_snapshot_preview1)")]
    UnknownImport {
        /// The import's module name.
        module: String,
        /// The import's field name.
        field: String,
        /// What kind of item it is (`function`, `memory`, ...).
        kind: &'static str,
    },
    /// An import exists but has another type than the module expects.
    #[error("cannot link module: {reason}")]
    Link {
        /// The linker's message.
        reason: String,
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
    #[error("export `{name}` cannot be called with these types: {reason}")]
    ExportType {
        /// The export.
        name: String,
        /// What differs.
        reason: String,
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
    #[error("wasm trap: {message}")]
    Trap {
        /// The trap's cause.
        message: String,
        /// The wasm backtrace, one frame per line (innermost first); empty if none.
        backtrace: String,
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
    #[error("host function `{function}`: {cause}")]
    HostFunction {
        /// `module::name` of the function, as the guest imports it.
        function: String,
        /// What went wrong.
        cause: HostcallError,
    },
    /// Two host functions given to one instance or set have the same import name.
    #[error("two host functions are imported as `{module}::{name}`")]
    DuplicateHostcall {
        /// The import module.
        module: String,
        /// The import name.
        name: String,
    },
    /// The guest used up its fuel budget.
    #[error("guest ran out of fuel")]
    OutOfFuel {
        /// The wasm backtrace where it ran out.
        backtrace: String,
    },
    /// Every instance slot of a pooled engine is taken (see
    /// [`EngineConfig::pooling`](crate::EngineConfig::pooling)): instances hold their slot
    /// until dropped. Nothing waits; the caller decides whether to retry.
    #[error("no free instance slot: {reason} (drop instances that are done, or raise EngineConfig::pooling)")]
    PoolExhausted {
        /// Wasmtime's account of the limit reached.
        reason: String,
    },
    /// A compile-cache directory cannot be used.
    #[error("compile cache {}: {reason}", dir.display())]
    Cache {
        /// The directory.
        dir: PathBuf,
        /// Why not.
        reason: String,
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
    /// Arguments or environment cannot be passed to the guest.
    #[error("{0}")]
    InvalidArgument(String),
    /// The engine or the host failed (out of host memory, thread creation, ...).
    #[error("{0}")]
    Host(String),
}

impl Error {
    /// The exit status the CLI uses for this error: 134 for a trap (128 + SIGABRT, as
    /// other runtimes), 124 for a timeout, 2 for a bad size or limit, 1 otherwise.
    ///
    /// ```
    /// use lucet_wasi::Error;
    /// let e = Error::NoSuchExport { name: "main".into() };
    /// assert_eq!(e.exit_code(), 1);
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

/// Why a host function failed: the `cause` of [`Error::HostFunction`].
///
/// A host function can also return it (or any error) itself: `?` on the
/// [`GuestMemory`](crate::GuestMemory) accessors ends the call with their cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostcallError {
    /// A guest pointer and length reach past the end of guest memory (or overflow).
    #[error("{}guest range {ptr:#x}+{len} is outside the guest's {memory}-byte memory", arg_prefix(*.arg))]
    OutOfBounds {
        /// The argument it was passed as (`None` for an access through the context).
        arg: Option<&'static str>,
        /// The guest pointer.
        ptr: u32,
        /// The length in bytes.
        len: u64,
        /// The memory's size in bytes.
        memory: usize,
    },
    /// A typed guest pointer is not aligned for its type.
    #[error("{}guest pointer {ptr:#x} is not {align}-byte aligned", arg_prefix(*.arg))]
    Misaligned {
        /// The argument it was passed as.
        arg: Option<&'static str>,
        /// The guest pointer.
        ptr: u32,
        /// The alignment its type needs.
        align: usize,
    },
    /// A guest string is not UTF-8.
    #[error("{}guest string at {ptr:#x} is not UTF-8 (valid up to byte {valid_up_to})", arg_prefix(*.arg))]
    NotUtf8 {
        /// The argument it was passed as.
        arg: Option<&'static str>,
        /// The guest pointer.
        ptr: u32,
        /// How many leading bytes are valid.
        valid_up_to: usize,
    },
    /// Two borrows of guest memory overlap where one of them is written: Rust
    /// references may not alias, so the call is refused rather than copied.
    #[error("{}overlaps argument `{other}` in guest memory, and one of them is mutable", arg_prefix(*.arg))]
    Overlap {
        /// The argument refused (`None` for an access through the context).
        arg: Option<&'static str>,
        /// The argument it overlaps.
        other: &'static str,
    },
    /// The function reads guest memory, but the guest exports no `memory`.
    #[error("the guest exports no memory")]
    NoMemory,
    /// The instance's embedder data is not of the type the function takes.
    #[error("needs embedder data of type `{expected}`, but the instance was given `{found}` (set it with `.data(...)`)")]
    WrongData {
        /// The type the function takes.
        expected: &'static str,
        /// The type given to the builder (`()` when none was).
        found: &'static str,
    },
    /// The function panicked.
    #[error("panicked: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },
    /// The function returned `Err`; the original error, downcastable with
    /// [`downcast_ref`](Self::downcast_ref).
    #[error("{0}")]
    Failed(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl HostcallError {
    /// The error a host function returned, if it is an `E`.
    ///
    /// ```
    /// use lucet_wasi::HostcallError;
    /// let e = HostcallError::Failed(Box::new(std::fmt::Error));
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            HostcallError::Failed(e) => e.downcast_ref(),
            _ => None,
        }
    }

    /// Wraps what a host function returned; a `HostcallError` it passed on stays itself.
    pub(crate) fn returned(e: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        match e.downcast::<HostcallError>() {
            Ok(own) => *own,
            Err(other) => HostcallError::Failed(other),
        }
    }
}

fn arg_prefix(arg: Option<&'static str>) -> String {
    arg.map(|a| format!("argument `{a}`: ")).unwrap_or_default()
}
