//! Engines: the Wasmtime settings that are engine-wide, shared engines, the epoch
//! ticker that timeouts need, the wasm features and limits, and the stacks guests run on.

mod features;
mod limits;
mod stack;

pub use features::WasmFeatures;
pub use limits::Limits;
pub(crate) use limits::{check_size, check_stack, PAGE};
pub(crate) use stack::{run_on_guest_stack, HOST_STACK};

use crate::{Bytes, Error, GiB, MiB};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;
use wasmtime::Config;

/// How often the epoch ticker of an engine ticks: the granularity of timeouts.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Settings that are engine-wide in Wasmtime, so they are chosen per [`Engine`] rather
/// than per instance: every module compiled on an engine and every instance of those
/// modules shares them.
///
/// The fields can be read; set them with the methods of the same name:
///
/// ```
/// use lucet_wasi::{EngineConfig, GiB, MiB};
/// let config = EngineConfig::default().heap_address_space(GiB(4)).timeout_capable(true);
/// assert_eq!(config.stack, MiB(8).into());
/// assert!(config.timeout_capable && config.pooling.is_none());
/// assert_eq!(config.pool_keep_resident, MiB(16).into());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
    /// With [`pooling`](Self::pooling): how much of each slot's linear memory (and
    /// table) stays mapped when an instance is dropped, its touched pages reset in place
    /// for the next instance, instead of being given back to the kernel and faulted in
    /// again (default 16 MiB: a Rust guest's 1 MiB stack, its data and a working heap).
    pub pool_keep_resident: Bytes,
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
            pool_keep_resident: MiB(16).into(),
        }
    }
}

impl EngineConfig {
    /// Sets [`heap_address_space`](Self::heap_address_space) (default 8 GiB).
    pub fn heap_address_space(mut self, size: impl Into<Bytes>) -> Self {
        self.heap_address_space = size.into();
        self
    }

    /// Sets the maximum wasm [`stack`](Self::stack) (default 8 MiB).
    pub fn stack(mut self, size: impl Into<Bytes>) -> Self {
        self.stack = size.into();
        self
    }

    /// Sets [`pooling`](Self::pooling): `Some(n)` slots, or `None` (default).
    pub fn pooling(mut self, slots: Option<u32>) -> Self {
        self.pooling = slots;
        self
    }

    /// Sets [`fuel`](Self::fuel) metering (default off).
    pub fn fuel(mut self, on: bool) -> Self {
        self.fuel = on;
        self
    }

    /// Sets [`timeout_capable`](Self::timeout_capable) (default off).
    pub fn timeout_capable(mut self, on: bool) -> Self {
        self.timeout_capable = on;
        self
    }

    /// Sets [`pool_per_thread`](Self::pool_per_thread) (default off).
    pub fn pool_per_thread(mut self, on: bool) -> Self {
        self.pool_per_thread = on;
        self
    }

    /// Sets [`pool_keep_resident`](Self::pool_keep_resident) (default 16 MiB).
    pub fn pool_keep_resident(mut self, size: impl Into<Bytes>) -> Self {
        self.pool_keep_resident = size.into();
        self
    }

    /// Sets the [`wasm`](Self::wasm) features (default: all).
    pub fn wasm(mut self, features: WasmFeatures) -> Self {
        self.wasm = features;
        self
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
    /// One of a thread's own engines (`pool_per_thread`).
    pub(crate) thread_local: bool,
}

impl Engine {
    /// Creates an engine with this configuration.
    pub fn new(config: &EngineConfig) -> Result<Engine, Error> {
        check_size("heap address space", config.heap_address_space)?;
        check_stack(config.stack)?;
        let mut c = Config::new();
        c.epoch_interruption(config.timeout_capable)
            .memory_reservation(config.heap_address_space.0)
            .max_wasm_stack(config.stack.0 as usize)
            // The fibers of async runs hold the wasm stack and the host calls made from it;
            // sync runs do not use it.
            .async_stack_size(config.stack.0 as usize + stack::HOST_STACK)
            .consume_fuel(config.fuel);
        config.wasm.check()?;
        config.wasm.apply(&mut c);
        if let Some(slots) = config.pooling {
            let keep = usize::try_from(config.pool_keep_resident.0).unwrap_or(usize::MAX);
            let mut pool = wasmtime::PoolingAllocationConfig::new();
            pool.total_core_instances(slots)
                .total_memories(slots)
                .total_tables(slots)
                .max_memory_size(config.heap_address_space.0.min(1 << 32) as usize)
                // A slot's first pages are zeroed in place when it is freed rather than
                // given back to the kernel: the next instance finds them mapped, with no
                // page faults and none of the TLB-shootdown IPIs and mm-lock contention
                // that unmapping costs every other thread.
                .linear_memory_keep_resident(keep)
                .table_keep_resident(keep)
                // Linux 6.7+: reset only the pages the instance touched (PAGEMAP_SCAN),
                // so a large resident size costs what the guest used, not its size.
                .pagemap_scan(wasmtime::Enabled::Auto);
            // One fiber stack per slot for async runs and components, not Wasmtime's
            // default of 1000.
            #[cfg(any(feature = "async", feature = "components"))]
            pool.total_stacks(slots);
            c.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        } else {
            // Fiber stacks of async runs and components, reused from run to run.
            #[cfg(any(feature = "async", feature = "components"))]
            c.with_host_stack(stack::fiber_stacks());
        }
        let engine =
            wasmtime::Engine::new(&c).map_err(|e| Error::host("cannot create engine", e))?;
        Ok(Engine(Arc::new(EngineHandle {
            engine,
            config: *config,
            ticker: Once::new(),
            thread_local: false,
        })))
    }

    /// This thread's own engine for `config` (see [`EngineConfig::pool_per_thread`]).
    pub(crate) fn thread_local(config: &EngineConfig) -> Result<Engine, Error> {
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
}
