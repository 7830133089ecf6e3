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
    /// A host function registered with `hostcall` failed.
    #[error("host function `{function}` failed: {message}")]
    HostFunction {
        /// `module::name` of the function.
        function: String,
        /// Its error.
        message: String,
    },
    /// The guest used up its fuel budget.
    #[error("guest ran out of fuel")]
    OutOfFuel {
        /// The wasm backtrace where it ran out.
        backtrace: String,
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
