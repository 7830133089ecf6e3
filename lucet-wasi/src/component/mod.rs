//! WASI 0.2 components: the programs `wasm32-wasip2` and the component toolchains make.
//! A component is compiled and checked to be a command (it exports `wasi:cli/run`),
//! linked once against wasmtime-wasi's p2 host implementation, and given the policy a
//! core module gets from the same builder calls: arguments, environment, preopens
//! (read-only ones through wasmtime-wasi's `FsPerms`), stdio (`stdio.rs`), the heap cap;
//! the network closed. `instance/` runs it.
//!
//! A component runs on a fiber, driven by this thread's own single-threaded tokio
//! runtime ([`drive`]): a deadline then ends it even while it waits in a WASI call (a
//! sleep, a poll, a read of an inherited stdin), not only while it computes.

mod stdio;

use crate::store::HeapLimiter;
use crate::wasi::{HostStream, Input, Output};
use crate::Error;
use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::Store;
use wasmtime_wasi::p2::bindings::{Command, CommandPre};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder, WasiCtxView, WasiView};

/// The interface a command exports (any 0.2.x version).
const RUN: &str = "wasi:cli/run@0.2.";

/// A compiled command component, linked on first use for all its instances.
pub(crate) struct Code {
    pub(crate) component: Component,
    pre: OnceLock<CommandPre<State>>,
}

impl Code {
    /// Takes a compiled component named `name` (in errors) if it is a command.
    pub(crate) fn new(name: &str, component: Component) -> Result<Code, Error> {
        let engine = component.engine().clone();
        let exports: Vec<String> = component
            .component_type()
            .exports(&engine)
            .map(|(name, _)| name.to_string())
            .collect();
        if !exports.iter().any(|e| e.starts_with(RUN)) {
            return Err(Error::NotACommand {
                name: name.to_string(),
                exports,
            });
        }
        Ok(Code {
            component,
            pre: OnceLock::new(),
        })
    }

    /// The component linked against WASI 0.2, once for all its instances.
    pub(crate) fn linked(&self) -> Result<&CommandPre<State>, Error> {
        if let Some(pre) = self.pre.get() {
            return Ok(pre);
        }
        // What the component imports and we do not provide (wasi:http, say): named.
        let link_error = |e: wasmtime::Error| {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            Error::Link {
                import: None,
                source: format!(
                    "{}; lucet-wasi provides the WASI 0.2 interfaces of the wasi:cli/command \
                     world",
                    chain.join(": ")
                )
                .into(),
            }
        };
        let mut linker = Linker::<State>::new(self.component.engine());
        // WASI 0.2.x as wasmtime-wasi has it, `exit-with-code` (0.2.12) included: a
        // guest's exact exit status, as a core module's `proc_exit`. Its async
        // bindings: what waits, awaits (see `drive`).
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| Error::host("cannot link WASI 0.2", e))?;
        let pre = linker
            .instantiate_pre(&self.component)
            .map_err(link_error)?;
        let pre = CommandPre::new(pre).map_err(link_error)?;
        Ok(self.pre.get_or_init(|| pre))
    }
}

/// Compiles a component binary named `name` (in errors).
pub(crate) fn compile(
    engine: &wasmtime::Engine,
    name: &str,
    wasm: &[u8],
) -> Result<Component, Error> {
    let start = std::time::Instant::now();
    let component = Component::new(engine, wasm).map_err(|e| Error::InvalidModule {
        name: name.to_string(),
        switched_off: None,
        source: e.into(),
    })?;
    tracing::debug!(module = name, bytes = wasm.len(), took = ?start.elapsed(), "compiled a component");
    Ok(component)
}

/// What a component instance holds: its WASI 0.2 context and resources, and the cap
/// on its memories and tables.
pub(crate) struct State {
    wasi: wasmtime_wasi::WasiCtx,
    table: ResourceTable,
    limiter: HeapLimiter,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl State {
    /// The bytes of all the component's memories so far (their peak).
    pub(crate) fn heap_peak(&self) -> u64 {
        self.limiter.total()
    }
}

/// What a component instance is given: the builder's settings.
pub(crate) struct Setup {
    /// argv\[0\] first.
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    /// Guest path, host path, read-only.
    pub(crate) preopens: Vec<(String, PathBuf, bool)>,
    pub(crate) stdin: Input,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
    /// Maximum heap bytes and table elements (see [`HeapLimiter::new`]).
    pub(crate) caps: (u64, u64),
}

/// A store for one component instance, made as `setup` says: preopens opened, stdio
/// connected, memories and tables capped. The network stays closed (no address is
/// allowed, no name lookup).
pub(crate) fn store(engine: &wasmtime::Engine, setup: Setup) -> Result<Store<State>, Error> {
    let mut wasi = WasiCtxBuilder::new();
    // File operations run on the guest's thread, not handed to a thread pool: the guest
    // waits for them anyway. (Set before the preopens, which keep it.)
    wasi.allow_blocking_current_thread(true);
    wasi.args(&setup.args)
        .envs(&setup.env)
        .stdout(stdio::SharedOutput::new(
            setup.stdout.for_stream(HostStream::Stdout),
        ))
        .stderr(stdio::SharedOutput::new(
            setup.stderr.for_stream(HostStream::Stderr),
        ));
    if setup.stdin.is_inherited() {
        // Read by wasmtime-wasi's stdin thread: a guest waiting for it can be ended.
        wasi.stdin(wasmtime_wasi::cli::stdin());
    } else {
        wasi.stdin(stdio::SharedInput::new(setup.stdin));
    }
    for (guest, host, readonly) in setup.preopens {
        let preopen_error = |source| Error::Preopen {
            guest: guest.clone(),
            host: host.clone(),
            source,
        };
        // Opened by us first for the OS error, then by wasmtime-wasi (which says less).
        crate::wasi::open_preopen(&host).map_err(preopen_error)?;
        let perms = if readonly {
            FsPerms::ReadOnly
        } else {
            FsPerms::ReadWrite
        };
        wasi.preopened_dir(&host, &guest, perms)
            .map_err(|e| preopen_error(std::io::Error::other(e.to_string())))?;
    }
    let state = State {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limiter: HeapLimiter::new(setup.caps),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    Ok(store)
}

/// Instantiates the command in `store`; `None` if `deadline` passed first.
pub(crate) fn instantiate(
    pre: &CommandPre<State>,
    store: &mut Store<State>,
    deadline: Option<Instant>,
) -> Result<Option<wasmtime::Result<Command>>, Error> {
    drive(deadline, pre.instantiate_async(store))
}

/// Runs the command's `wasi:cli/run` (`Ok(Err(()))` when it returns its error); `None`
/// if `deadline` passed first, the guest stopped wherever it was.
pub(crate) fn run(
    command: &Command,
    store: &mut Store<State>,
    deadline: Option<Instant>,
) -> Result<Option<wasmtime::Result<Result<(), ()>>>, Error> {
    drive(deadline, command.wasi_cli_run().call_run(store))
}

/// Runs `guest` (a call into a component) to its end on this thread's runtime, or until
/// `deadline`: `None` if the deadline came first (the future is dropped, which stops the
/// guest). Called from inside a tokio runtime (an embedder's sync call from async code),
/// it runs on a thread of its own, as a runtime cannot be entered twice.
fn drive<F>(deadline: Option<Instant>, guest: F) -> Result<Option<F::Output>, Error>
where
    F: Future + Send,
    F::Output: Send,
{
    let bounded = async move {
        match deadline {
            Some(at) => tokio::time::timeout_at(at.into(), guest).await.ok(),
            None => Some(guest.await),
        }
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("lucet-wasi-component".into())
                .spawn_scoped(scope, || block_on(bounded))
                .map_err(|e| Error::host("cannot start a thread for the component", e))?
                .join()
                .map_err(|_| Error::internal("a component's run panicked"))?
        });
    }
    block_on(bounded)
}

/// Runs `f` on this thread's runtime (made on first use, kept for the thread).
fn block_on<F: Future>(f: F) -> Result<F::Output, Error> {
    thread_local! {
        static RUNTIME: std::cell::OnceCell<tokio::runtime::Runtime> = const { std::cell::OnceCell::new() };
    }
    RUNTIME.with(|cell| {
        let runtime = match cell.get() {
            Some(runtime) => runtime,
            None => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .enable_io()
                    .build()
                    .map_err(|e| Error::host("cannot start the runtime components run on", e))?;
                cell.get_or_init(|| runtime)
            }
        };
        Ok(runtime.block_on(f))
    })
}
