//! WASI 0.2 components: the programs `wasm32-wasip2` and the component toolchains make.
//! A component is compiled and checked to be a command (it exports `wasi:cli/run`),
//! linked once against wasmtime-wasi's p2 host implementation, and given the policy a
//! core module gets from the same builder calls: arguments, environment, preopens
//! (read-only ones through wasmtime-wasi's `FsPerms`), stdio (`stdio.rs`), the heap cap;
//! the network closed. `instance/` runs it.

mod stdio;

use crate::store::HeapLimiter;
use crate::wasi::{HostStream, Input, Output};
use crate::Error;
use std::path::PathBuf;
use std::sync::OnceLock;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::Store;
use wasmtime_wasi::p2::bindings::sync::{Command, CommandPre};
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
        let link_error = |source: wasmtime::Error| Error::Link {
            import: None,
            source: source.into(),
        };
        let mut linker = Linker::<State>::new(self.component.engine());
        // WASI 0.2.x as wasmtime-wasi has it, `exit-with-code` (0.2.12) included: a
        // guest's exact exit status, as a core module's `proc_exit`.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
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
    wasi.args(&setup.args)
        .envs(&setup.env)
        .stdin(stdio::SharedInput::new(setup.stdin))
        .stdout(stdio::SharedOutput::new(
            setup.stdout.for_stream(HostStream::Stdout),
        ))
        .stderr(stdio::SharedOutput::new(
            setup.stderr.for_stream(HostStream::Stderr),
        ));
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

/// Instantiates the command in `store`.
pub(crate) fn instantiate(
    pre: &CommandPre<State>,
    store: &mut Store<State>,
) -> wasmtime::Result<Command> {
    pre.instantiate(store)
}

/// Runs the command's `wasi:cli/run`: `Ok(Err(()))` when it returns its error.
pub(crate) fn run(command: &Command, store: &mut Store<State>) -> wasmtime::Result<Result<(), ()>> {
    command.wasi_cli_run().call_run(store)
}
