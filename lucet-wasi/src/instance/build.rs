//! [`WasiInstanceBuilder::build`], as named steps shared by sync and async builds: find
//! or compile the module, check it against the engine and the limits, link it, make the
//! guest's WASI context and store, and instantiate.

use super::builder::ModuleSource;
use super::{threads, Parts, WasiInstance};
use crate::engine::{Engine, EngineConfig};
use crate::error::{ArgumentProblem, EngineSetting, LimitRule};
use crate::module::{Linking, Module};
use crate::observe::{Observer, Usage, Watch};
use crate::store::{StoreData, ThreadLimits};
use crate::wasi::{self, WasiCtx, WasiCtxBuilder};
use crate::{Bytes, Error, Exit, Limits, WasiInstanceBuilder};
use wasmtime::Store;

/// An instance ready to be instantiated: its store, its linking and the rest.
pub(super) struct Prepared {
    pub(super) parts: Parts,
    pub(super) store: Store<StoreData>,
}

impl WasiInstanceBuilder {
    /// Compiles (or takes) the module, links it, opens the preopens, instantiates it
    /// and, for a reactor, runs its `_initialize`: the instance is ready to
    /// [`run`](WasiInstance::run) or [`call`](WasiInstance::call).
    ///
    /// A WASI 0.2 component is instantiated the same way; its `wasi:cli/run` runs with
    /// [`run("_start")`](WasiInstance::run) (see [`Module::is_component`]).
    pub fn build(mut self) -> Result<WasiInstance, Error> {
        let (module, limits) = self.take_module(false)?;
        #[cfg(feature = "components")]
        if module.is_component() {
            return super::component_run::build(self, module, limits);
        }
        let Prepared { parts, store } = self.prepare(module, limits, false)?;
        WasiInstance::start(parts, store)
    }

    /// Builds the instance and runs `entry` (see [`WasiInstance::run`]).
    pub fn run(self, entry: &str) -> Result<Exit, Error> {
        self.build()?.run(entry)
    }

    /// The builder's module on an engine that fits its limits, and those limits.
    pub(super) fn take_module(&mut self, asynchronous: bool) -> Result<(Module, Limits), Error> {
        let source = self.module.take().ok_or(Error::NoModule)?;
        self.engine_module(source, asynchronous)
    }

    /// Every step of a core module's build but instantiation, for sync or async
    /// (`asynchronous`) runs.
    pub(super) fn prepare(
        mut self,
        module: Module,
        limits: Limits,
        asynchronous: bool,
    ) -> Result<Prepared, Error> {
        self.check_engine_support(&module, asynchronous)?;
        module.check_initial_memory(limits.max_heap)?;
        let watch = self.watch.take().map(|w| *w);
        let watch = watch.filter(|w| w.trace.is_some() || w.stats);
        let linking = Linking {
            asynchronous,
            observed: watch.is_some(),
        };
        // A threaded module is linked for the instance, with its shared memory, below.
        let pre = match module.threaded() {
            None => Some(module.linked(&self.hostcalls, linking)?),
            Some(_) => None,
        };
        for set in [module.hostcalls.as_deref(), Some(&self.hostcalls)]
            .into_iter()
            .flatten()
        {
            set.check_data(&*self.data, self.data_name)?;
        }
        let argv0 = self
            .program_name
            .take()
            .unwrap_or_else(|| module.name().to_string());
        let hostcalls = std::mem::take(&mut self.hostcalls);
        let fuel = self.fuel;
        let timeout = self.timeout;
        let store_caps = self.store_caps(limits);
        let (data, data_name) = (
            std::mem::replace(&mut self.data, Box::new(())),
            self.data_name,
        );
        let max_threads = self.max_threads.unwrap_or(threads::DEFAULT_MAX_THREADS);
        let ctx = self.wasi_ctx(argv0)?;
        // A threaded guest's context is shared by its threads' stores (see `threads`).
        let (ctx, shared_ctx) = match module.threaded() {
            Some(_) => (WasiCtxBuilder::empty().build(), Some(ctx)),
            None => (ctx, None),
        };
        let mut store =
            StoreData::store(&module.engine().0.engine, ctx, store_caps, data, data_name);
        let engine_fuel = module.engine().config().fuel;
        if engine_fuel {
            store
                .set_fuel(fuel.unwrap_or(u64::MAX))
                .map_err(|e| Error::host("cannot set fuel", e))?;
        }
        let pre = match (pre, module.threaded(), shared_ctx) {
            (Some(pre), _, _) => pre,
            (None, Some(memory), Some(ctx)) => {
                let build = threads::ThreadedBuild {
                    module: &module,
                    memory,
                    max_heap: limits.max_heap,
                    limits: ThreadLimits {
                        max_threads,
                        stack: module.engine().config().stack.0 as usize
                            + crate::engine::HOST_STACK,
                        store_caps,
                        fuel: engine_fuel.then(|| fuel.unwrap_or(u64::MAX)),
                    },
                    observed: linking.observed,
                    asynchronous,
                    hostcalls: &hostcalls,
                };
                threads::threaded(build, ctx, &mut store)?.1
            }
            _ => return Err(Error::internal("a threaded module without its context")),
        };
        let usage = match watch {
            Some(w) => watch_guest(w, &mut store, &module, &hostcalls, fuel)?,
            None => None,
        };
        // A threaded guest's other threads are traced and counted alike.
        if let Some(group) = store.data().threads.clone() {
            if let Some(observer) = store.data_mut().observer.as_mut() {
                group.set_watch(observer.share_with_threads());
            }
        }
        Ok(Prepared {
            parts: Parts {
                module,
                timeout,
                usage,
                async_yield: None,
                pre,
                fuel,
            },
            store,
        })
    }

    /// The caps of the guest's store: its maximum heap and table elements.
    pub(super) fn store_caps(&self, limits: Limits) -> (u64, u64) {
        let tables = self
            .max_table_elements
            .unwrap_or(crate::store::MAX_TABLE_ELEMENTS);
        (limits.max_heap.0, tables)
    }

    /// A timeout, a fuel budget and async runs need code compiled for them.
    pub(super) fn check_engine_support(
        &self,
        module: &Module,
        asynchronous: bool,
    ) -> Result<(), Error> {
        let config = module.engine().config();
        let lacks = |needed| Err(Error::EngineLacks { needed });
        if asynchronous && !config.timeout_capable {
            return lacks(EngineSetting::TimeoutForAsync);
        }
        if self.timeout.is_some() && !config.timeout_capable {
            return lacks(EngineSetting::TimeoutForTimeout);
        }
        if self.fuel.is_some() && !config.fuel {
            return lacks(EngineSetting::Fuel);
        }
        Ok(())
    }

    /// The guest's environment (the host's if inherited, then the variables set),
    /// checked: the same for a core module and a component.
    pub(super) fn guest_env(&mut self) -> Result<Vec<(String, String)>, Error> {
        let mut vars: Vec<(String, String)> = Vec::new();
        if self.inherit_env {
            vars.extend(
                std::env::vars_os()
                    .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
            );
        }
        for (k, v) in std::mem::take(&mut self.env) {
            vars.retain(|(key, _)| *key != k);
            vars.push((k, v));
        }
        for (k, v) in &vars {
            if k.is_empty() || k.contains('=') {
                return Err(Error::GuestArgument {
                    what: "environment variable",
                    value: k.clone(),
                    problem: ArgumentProblem::BadName,
                });
            }
            if k.contains('\0') || v.contains('\0') {
                return Err(Error::GuestArgument {
                    what: "environment variable",
                    value: format!("{k}={v}"),
                    problem: ArgumentProblem::NulByte,
                });
            }
        }
        Ok(vars)
    }

    /// The guest's arguments, `argv0` first, each checked (see [`no_nul`]).
    pub(super) fn guest_args(
        &mut self,
        argv0: String,
    ) -> impl Iterator<Item = Result<String, Error>> {
        std::iter::once(argv0)
            .chain(std::mem::take(&mut self.args))
            .map(|a| no_nul("argument", a))
    }

    /// The guest's WASI context: arguments and environment checked, preopens opened.
    fn wasi_ctx(mut self, argv0: String) -> Result<WasiCtx, Error> {
        let mut args = wasi::StringList::default();
        for a in self.guest_args(argv0) {
            args.push(&a?);
        }
        let mut env = wasi::StringList::default();
        for (k, v) in self.guest_env()? {
            env.push(&format!("{k}={v}"));
        }
        if args.blob.len() > u32::MAX as usize / 2 || env.blob.len() > u32::MAX as usize / 2 {
            return Err(Error::GuestArgument {
                what: "arguments",
                value: String::new(),
                problem: ArgumentProblem::TooLarge,
            });
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
        Ok(WasiCtxBuilder {
            args,
            env,
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
            preopens,
            sockets: self.sockets,
        }
        .build())
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
                    ..EngineConfig::default()
                })?;
                let cache = self.cache.as_ref();
                let module = Module::compile(&engine, name, &label, &bytes, cache)?;
                Ok((module, limits))
            }
            ModuleSource::Compiled(module) => {
                let config = module.engine().config();
                if self.wasm.is_some_and(|w| w != config.wasm) {
                    return Err(Error::EngineLacks {
                        needed: EngineSetting::WasmFeatures,
                    });
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
        rule: LimitRule::DiffersFromEngine { engine },
    })
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
    extra: &crate::hostcall::HostcallSet,
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
            return Err(Error::TraceFilter {
                name: Some(name.to_string()),
            });
        }
    }
    let usage = watch
        .stats
        .then(|| Usage::new(module.engine().config().fuel, fuel));
    let trace = watch.trace.map(|out| (out, watch.filter));
    store.data_mut().observer = Some(Box::new(Observer::new(watch.stats, trace)));
    Ok(usage)
}

/// Arguments and environment entries are C strings in the guest: no NUL inside.
fn no_nul(what: &'static str, s: String) -> Result<String, Error> {
    if s.contains('\0') {
        return Err(Error::GuestArgument {
            what,
            value: s,
            problem: ArgumentProblem::NulByte,
        });
    }
    Ok(s)
}
