//! [`WasiInstanceBuilder`]: what an instance is made of, set step by step. The steps
//! that turn it into a [`WasiInstance`] are in `build.rs`.

use super::WasiInstance;
use crate::hostcall::{Hostcall, HostcallSet};
use crate::module::Module;
use crate::wasi::{Input, Output};
use crate::{Bytes, CompileCache, Error, Limits, WasmFeatures};
use std::any::Any;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the builder's module comes from.
pub(crate) enum ModuleSource {
    /// Bytes to compile on the shared engine for the builder's limits. `name` is
    /// argv\[0\]; `label` names the module in errors (its path as given).
    Bytes {
        name: String,
        label: String,
        bytes: Vec<u8>,
    },
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
    pub(super) module: Option<ModuleSource>,
    pub(super) program_name: Option<String>,
    pub(super) args: Vec<String>,
    pub(super) env: Vec<(String, String)>,
    pub(super) inherit_env: bool,
    /// Guest path, host path, read-only.
    pub(super) preopens: Vec<(String, PathBuf, bool)>,
    pub(super) sockets: Vec<std::net::TcpListener>,
    pub(super) limits: Limits,
    /// Whether the address space / the stack were set (they are engine-wide).
    pub(super) address_space_set: bool,
    pub(super) stack_set: bool,
    /// The wasm proposals asked for, if set (they are engine-wide too).
    pub(super) wasm: Option<WasmFeatures>,
    pub(super) timeout: Option<Duration>,
    pub(super) fuel: Option<u64>,
    pub(super) max_table_elements: Option<u64>,
    /// The most threads a threaded guest may have at once, if set.
    pub(super) max_threads: Option<u32>,
    pub(super) stdin: Input,
    pub(super) stdout: Output,
    pub(super) stderr: Output,
    pub(super) data: Box<dyn Any + Send>,
    pub(super) data_name: &'static str,
    pub(super) hostcalls: HostcallSet,
    pub(super) cache: Option<CompileCache>,
    /// The trace and statistics asked for, if any (boxed: the builder stays small).
    pub(super) watch: Option<Box<crate::observe::Watch>>,
    /// How often an async guest yields to the executor, if set.
    #[cfg(feature = "async")]
    pub(super) yield_interval: Option<Duration>,
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
            address_space_set: false,
            stack_set: false,
            wasm: None,
            timeout: None,
            fuel: None,
            max_table_elements: None,
            max_threads: None,
            stdin: Input::inherit(),
            stdout: Output::inherit(),
            stderr: Output::inherit(),
            data: Box::new(()),
            data_name: "()",
            hostcalls: HostcallSet::new(),
            cache: None,
            watch: None,
            #[cfg(feature = "async")]
            yield_interval: None,
        }
    }
}

impl WasiInstanceBuilder {
    /// Loads a module file: a `.wasm` binary, `.wat` text, or a module precompiled with
    /// `lucet-wasi compile` — recognised by content. argv\[0\] becomes its file name.
    pub fn module_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        self.module = Some(ModuleSource::Bytes {
            name: crate::module::file_name(path),
            label: path.display().to_string(),
            bytes: crate::module::read_file(path)?,
        });
        Ok(self)
    }

    /// Uses a module given as `.wasm` or `.wat` bytes, compiled when the instance is
    /// built. argv\[0\] is `module.wasm` unless [`program_name`](Self::program_name) says
    /// otherwise.
    pub fn module_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.module = Some(ModuleSource::Bytes {
            name: "module.wasm".into(),
            label: "module.wasm".into(),
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
    pub fn compile_cache(mut self, cache: &CompileCache) -> Self {
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
        self.address_space_set = true;
        self
    }

    /// Bounds the wasm stack (default 8 MiB).
    pub fn stack(mut self, size: impl Into<Bytes>) -> Self {
        self.limits.stack = size.into();
        self.stack_set = true;
        self
    }

    /// Sets all limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.address_space_set = true;
        self.stack_set = true;
        self
    }

    /// Ends the guest with [`Error::Timeout`] once it has run this long.
    pub fn timeout(mut self, after: Duration) -> Self {
        self.timeout = Some(after);
        self
    }

    /// Caps the threads a threaded guest (one built for `wasm32-wasip1-threads`, which
    /// imports a shared memory) may have running at once, besides its main thread
    /// (default 64): a `thread-spawn` beyond it fails, which the guest sees as `EAGAIN`.
    /// Each thread runs on an OS thread of its own, with the engine's stack.
    pub fn max_threads(mut self, n: u32) -> Self {
        self.max_threads = Some(n);
        self
    }

    /// Caps the elements of the guest's tables, all together (default 10,000,000: each
    /// takes host memory, up to ~16 bytes, that the heap limit does not count):
    /// `table.grow` beyond it fails in the guest, and a module whose tables start larger
    /// fails to instantiate.
    pub fn max_table_elements(mut self, elements: u64) -> Self {
        self.max_table_elements = Some(elements);
        self
    }

    /// Gives the guest this much fuel (roughly, wasm instructions) in total; running
    /// out ends it with [`Error::OutOfFuel`]. Needs an engine with
    /// [`EngineConfig::fuel`](crate::EngineConfig::fuel) (chosen automatically when the builder compiles the module).
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.fuel = Some(fuel);
        self
    }

    /// Writes a trace of the guest's calls to `out`, one line per call as it returns:
    /// WASI functions and host functions, with decoded arguments, the result (`0` and
    /// what the call returned through pointers, or the errno's name) and the time the
    /// call took. See [`trace_filter`](Self::trace_filter) to choose calls. Sync and
    /// async instances alike; in an async instance, a call that waited on the executor
    /// shows once, when it is done (`async fn` host functions are not traced yet).
    ///
    /// ```
    /// use lucet_wasi::{WasiInstance, Capture};
    /// let wat = r#"(module
    ///     (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
    ///     (memory (export "memory") 1)
    ///     (func (export "_start") (drop (call $close (i32.const 9)))))"#;
    /// let trace = Capture::new();
    /// WasiInstance::builder().module_bytes(wat).trace(trace.clone()).run("_start")?;
    /// assert!(trace.text().starts_with("fd_close(9) = EBADF <"));
    /// # Ok::<(), lucet_wasi::Error>(())
    /// ```
    pub fn trace(mut self, out: impl std::io::Write + Send + 'static) -> Self {
        self.watch.get_or_insert_default().trace = Some(Box::new(out));
        self
    }

    /// Traces only the calls `filter` names (see [`trace`](Self::trace)); names that
    /// are neither WASI functions nor this instance's host functions are refused when
    /// the instance is built.
    pub fn trace_filter(mut self, filter: crate::TraceFilter) -> Self {
        self.watch.get_or_insert_default().filter = filter;
        self
    }

    /// Measures the guest for [`WasiInstance::stats`]: wall and CPU time, peak memory,
    /// fuel, and its calls by name. (Asked for, as counting costs every call a little:
    /// the instance is linked with the counting variant of each function.) Sync and
    /// async instances alike; an async instance's CPU time is that of the polls that
    /// ran it, on whichever thread.
    pub fn collect_stats(mut self) -> Self {
        self.watch.get_or_insert_default().stats = true;
        self
    }
}
