//! [`WasiInstanceBuilder::build`], as named steps: find or compile the module, check it
//! against the engine and the limits, link it, make the guest's WASI context and
//! store, and instantiate.

use crate::builder::ModuleSource;
use crate::engine::{Engine, EngineConfig};
use crate::hostcall::HostcallSet;
use crate::module::Module;
use crate::setup::GuestSetup;
use crate::stats::Usage;
use crate::store::StoreData;
use crate::trace::{Observer, Watch};
use crate::{Bytes, CompileCache, Error, Exit, Limits, WasiInstance, WasiInstanceBuilder};
use std::time::Duration;
use wasmtime::{InstancePre, Store};

/// Size of a wasm page.
const WASM_PAGE: u64 = 64 * 1024;

/// An instance ready to be instantiated: its module, store and linking.
pub(crate) struct Prepared {
    pub(crate) module: Module,
    pub(crate) store: Store<StoreData>,
    pub(crate) pre: InstancePre<StoreData>,
    pub(crate) timeout: Option<Duration>,
    /// Run statistics to keep, if asked for (sync instances only).
    pub(crate) usage: Option<Usage>,
}

impl WasiInstanceBuilder {
    /// Compiles (or takes) the module, links it, opens the preopens, instantiates it
    /// and, for a reactor, runs its `_initialize`: the instance is ready to
    /// [`run`](WasiInstance::run) or [`call`](WasiInstance::call).
    pub fn build(self) -> Result<WasiInstance, Error> {
        let Prepared {
            module,
            store,
            pre,
            timeout,
            usage,
        } = self.prepare(false)?;
        WasiInstance::start(module, store, pre, timeout, usage)
    }

    /// Builds the instance and runs `entry` (see [`WasiInstance::run`]).
    pub fn run(self, entry: &str) -> Result<Exit, Error> {
        self.build()?.run(entry)
    }

    /// Every step of a build but instantiation, for sync or async (`asynchronous`) runs.
    pub(crate) fn prepare(mut self, asynchronous: bool) -> Result<Prepared, Error> {
        let source = self.module.take().ok_or(Error::NoModule)?;
        let (module, limits) = self.engine_module(source, asynchronous)?;
        check_engine_support(&module, &self, asynchronous)?;
        check_initial_memory(&module, limits.max_heap)?;
        let watch = self.watch.take().map(|w| *w);
        let watch = watch.filter(|w| w.trace.is_some() || w.stats);
        let pre = match watch {
            Some(_) if asynchronous => {
                return Err(Error::InvalidArgument(
                    "trace and collect_stats are not available for async instances yet".into(),
                ))
            }
            // Counted or traced: the observing variant of every function (sync only).
            Some(_) => {
                let sets = [module.hostcalls.as_deref(), Some(&self.hostcalls)];
                if let Some(h) = sets
                    .into_iter()
                    .flatten()
                    .find_map(|s| s.iter().find(|h| h.is_async()))
                {
                    return Err(Error::AsyncHostcall {
                        function: h.signature().function.to_string(),
                    });
                }
                module.link_observed(&self.hostcalls)?
            }
            None => link(&module, &self.hostcalls, asynchronous)?,
        };
        for set in [module.hostcalls.as_deref(), Some(&self.hostcalls)]
            .into_iter()
            .flatten()
        {
            set.check_data(&*self.data, self.data_name)?;
        }
        let argv0 = self
            .program_name
            .unwrap_or_else(|| module.name().to_string());
        let ctx = GuestSetup {
            argv0,
            args: self.args,
            env: self.env,
            inherit_env: self.inherit_env,
            preopens: self.preopens,
            sockets: self.sockets,
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
        }
        .wasi_ctx()?;
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
                .map_err(|e| Error::host("cannot set fuel", e))?;
        }
        let usage = match watch {
            Some(w) => watch_guest(w, &mut store, &module, &self.hostcalls, self.fuel)?,
            None => None,
        };
        Ok(Prepared {
            module,
            store,
            pre,
            timeout: self.timeout,
            usage,
        })
    }

    /// The module on an engine that fits the builder's limits, and those limits (for a
    /// compiled module, with the engine's address space and stack).
    fn engine_module(
        &self,
        source: ModuleSource,
        asynchronous: bool,
    ) -> Result<(Module, Limits), Error> {
        let mut limits = self.limits;
        match source {
            ModuleSource::Bytes { name, label, bytes } => {
                limits.validate()?;
                let engine = Engine::shared(&EngineConfig {
                    heap_address_space: limits.heap_address_space,
                    stack: limits.stack,
                    pooling: None,
                    fuel: self.fuel.is_some(),
                    // Async runs yield to the executor at the same interruption checks.
                    timeout_capable: self.timeout.is_some() || asynchronous,
                    wasm: self.wasm.unwrap_or_default(),
                    pool_per_thread: false,
                })?;
                let cache: Option<&CompileCache> = self.cache.as_ref();
                let module = Module::compile(&engine, name, &label, &bytes, cache)?;
                Ok((module, limits))
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
                if self.address_space_set {
                    same_as_engine(
                        "heap address space",
                        limits.heap_address_space,
                        config.heap_address_space,
                    )?;
                }
                if self.stack_set {
                    same_as_engine("stack size", limits.stack, config.stack)?;
                }
                limits.heap_address_space = config.heap_address_space;
                limits.stack = config.stack;
                limits.validate()?;
                Ok((module.for_this_thread()?, limits))
            }
        }
    }
}

/// An engine-wide limit set on a builder that uses a compiled module must be the one
/// its engine has.
fn same_as_engine(what: &'static str, set: Bytes, engine: Bytes) -> Result<(), Error> {
    if set == engine {
        return Ok(());
    }
    Err(Error::InvalidLimit {
        what,
        value: set,
        reason: format!(
            "the compiled module's engine has {engine}; it is engine-wide: set it in the \
             EngineConfig the module is compiled with"
        ),
    })
}

/// A timeout, a fuel budget and async runs need code compiled for them.
fn check_engine_support(
    module: &Module,
    builder: &WasiInstanceBuilder,
    asynchronous: bool,
) -> Result<(), Error> {
    let config = module.engine().config();
    if asynchronous && !config.timeout_capable {
        return Err(Error::InvalidArgument(
            "async runs need an engine with EngineConfig { timeout_capable: true, .. }: \
             its interruption checks are where a busy guest yields to the executor"
                .into(),
        ));
    }
    if builder.timeout.is_some() && !config.timeout_capable {
        return Err(Error::InvalidArgument(
            "a timeout needs an engine with EngineConfig { timeout_capable: true, .. } \
             (this module's engine compiled it without interruption checks)"
                .into(),
        ));
    }
    if builder.fuel.is_some() && !config.fuel {
        return Err(Error::InvalidArgument(
            "a fuel budget needs an engine with EngineConfig { fuel: true, .. }".into(),
        ));
    }
    Ok(())
}

/// A module whose initial memory exceeds the maximum heap is refused before it runs.
fn check_initial_memory(module: &Module, max_heap: Bytes) -> Result<(), Error> {
    if let Some(pages) = module.inner.resources_required().max_initial_memory_size {
        let initial = pages.saturating_mul(WASM_PAGE);
        if initial > max_heap.0 {
            return Err(Error::HeapTooSmall {
                initial: Bytes(initial),
                max_heap,
            });
        }
    }
    Ok(())
}

/// The module linked against WASI and its host functions: the module's own linking
/// when the builder adds none, else linked again with them. Async instances link the
/// WASI calls that wait as async functions; sync ones refuse async host functions.
fn link(
    module: &Module,
    hostcalls: &HostcallSet,
    asynchronous: bool,
) -> Result<InstancePre<StoreData>, Error> {
    if asynchronous {
        #[cfg(feature = "async")]
        return module.instance_pre_async(hostcalls);
        #[cfg(not(feature = "async"))]
        unreachable!("async instances need the `async` feature");
    }
    if let Some(h) = [module.hostcalls.as_deref(), Some(hostcalls)]
        .into_iter()
        .flatten()
        .find_map(|set| set.iter().find(|h| h.is_async()))
    {
        return Err(Error::AsyncHostcall {
            function: h.signature().function.to_string(),
        });
    }
    if hostcalls.is_empty() {
        return Ok(module.instance_pre()?.clone());
    }
    let mut all = module.hostcalls.as_deref().cloned().unwrap_or_default();
    hostcalls.iter().for_each(|h| all.push(*h));
    module.link(&all)
}

/// Gives `store` its observer (after checking the trace filter against the WASI
/// functions and the host functions `module` and `extra` hold); the run statistics to
/// keep, if asked for. `fuel` is the budget given, if any.
#[cold]
#[inline(never)]
fn watch_guest(
    watch: Watch,
    store: &mut wasmtime::Store<StoreData>,
    module: &Module,
    extra: &HostcallSet,
    fuel: Option<u64>,
) -> Result<Option<Usage>, Error> {
    if watch.trace.is_some() {
        let sets = [module.hostcalls.as_deref(), Some(extra)];
        let known = |name: &str| {
            sets.iter()
                .flatten()
                .flat_map(|s| s.iter())
                .any(|h| h.name() == name || h.signature().function == name)
        };
        if let Some(name) = watch.filter.unknown(known) {
            return Err(Error::InvalidArgument(format!(
                "trace filter: `{name}` is neither a wasi_snapshot_preview1 function nor a \
                 host function of this instance"
            )));
        }
    }
    let usage = watch.stats.then(|| Usage {
        fuel_budget: module
            .engine()
            .config()
            .fuel
            .then(|| fuel.unwrap_or(u64::MAX)),
        ..Default::default()
    });
    let trace = watch.trace.map(|out| (out, watch.filter));
    store.data_mut().observer = Some(Box::new(Observer::new(watch.stats, trace)));
    Ok(usage)
}
