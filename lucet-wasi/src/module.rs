//! Engines, and loading, compiling and precompiling modules.

use crate::{Error, Limits};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;
use wasmtime::{Config, Engine, Precompiled};

/// How often the epoch ticker of an engine ticks: the granularity of timeouts.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// An engine and its configuration-wide state. Address-space reservation and stack size
/// are engine-wide settings in Wasmtime, so there is one engine per such pair.
pub(crate) struct EngineHandle {
    pub(crate) engine: Engine,
    ticker: Once,
}

impl EngineHandle {
    /// Starts the thread that advances this engine's epoch (once; only engines that run a
    /// guest with a timeout pay for it). It ends when the engine is dropped.
    pub(crate) fn start_ticker(&self) {
        self.ticker.call_once(|| {
            let weak = self.engine.weak();
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

/// The engine for these limits, created on first use and shared afterwards.
pub(crate) fn engine_for(limits: &Limits) -> Result<Arc<EngineHandle>, Error> {
    type Key = (u64, u64);
    static ENGINES: OnceLock<Mutex<HashMap<Key, Arc<EngineHandle>>>> = OnceLock::new();
    let key = (limits.heap_address_space.0, limits.stack.0);
    let mut engines = ENGINES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(handle) = engines.get(&key) {
        return Ok(handle.clone());
    }
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .memory_reservation(limits.heap_address_space.0)
        .max_wasm_stack(limits.stack.0 as usize)
        // Unused (no async), but Wasmtime requires it to be at least the wasm stack.
        .async_stack_size(limits.stack.0 as usize);
    let engine =
        Engine::new(&config).map_err(|e| Error::Host(format!("cannot create engine: {e:#}")))?;
    let handle = Arc::new(EngineHandle {
        engine,
        ticker: Once::new(),
    });
    engines.insert(key, handle.clone());
    Ok(handle)
}

/// What a module's bytes are, judged by content rather than file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A core wasm binary (`\0asm`, version 1).
    Binary,
    /// WAT text.
    Text,
    /// A module precompiled by `lucet-wasi compile` (a Wasmtime ELF artifact).
    Precompiled,
    /// A component-model binary: not a WASI preview1 program.
    Component,
    /// Anything else.
    Unknown,
}

pub(crate) fn detect(bytes: &[u8]) -> Format {
    if let Some(rest) = bytes.strip_prefix(b"\0asm") {
        return match rest.get(..4) {
            Some([_, _, 1, 0]) => Format::Component,
            _ => Format::Binary,
        };
    }
    if bytes.starts_with(b"\x7fELF") {
        return Format::Precompiled;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let t = text.trim_start();
            if t.starts_with('(') || t.starts_with(";;") {
                Format::Text
            } else {
                Format::Unknown
            }
        }
        Err(_) => Format::Unknown,
    }
}

/// Compiles (or, for a precompiled artifact, loads) a module on `engine`.
///
/// Precompiled artifacts contain native code and are trusted as such: load only ones you
/// made with `lucet-wasi compile` (or [`precompile`]). Their header, version and engine
/// configuration are checked; truncated or foreign artifacts are refused.
pub(crate) fn compile(
    engine: &Engine,
    name: &str,
    bytes: &[u8],
) -> Result<wasmtime::Module, Error> {
    let invalid = |e: wasmtime::Error| Error::InvalidModule {
        name: name.to_string(),
        reason: format!("{e:#}"),
    };
    match detect(bytes) {
        Format::Binary | Format::Text => wasmtime::Module::new(engine, bytes).map_err(invalid),
        Format::Precompiled => {
            let precompiled = |reason: String| Error::Precompiled {
                name: name.to_string(),
                reason,
            };
            match Engine::detect_precompiled(bytes) {
                Some(Precompiled::Module) => {}
                Some(Precompiled::Component) => {
                    return Err(precompiled(
                        "it is a precompiled component, not a module".into(),
                    ))
                }
                None => {
                    return Err(precompiled(
                        "truncated or corrupt (not a Wasmtime artifact)".into(),
                    ))
                }
            }
            // SAFETY: a precompiled artifact is native code and trusted like a native
            // binary (documented on `Module` and in the CLI help). Wasmtime checks its
            // structure, version and configuration before use.
            unsafe { wasmtime::Module::deserialize(engine, bytes) }
                .map_err(|e| precompiled(format!("{e:#}")))
        }
        Format::Component => Err(Error::InvalidModule {
            name: name.to_string(),
            reason: "this is a WebAssembly component; lucet-wasi runs core modules (wasm32-wasip1)"
                .into(),
        }),
        Format::Unknown => Err(Error::NotWasm {
            name: name.to_string(),
        }),
    }
}

/// Compiles a `.wasm` or `.wat` module ahead of time into an artifact that loads without
/// compiling, for these limits (the address-space reservation shapes the code).
///
/// ```
/// let wat = r#"(module (func (export "_start")))"#;
/// let artifact = lucet_wasi::precompile(wat.as_bytes(), &lucet_wasi::Limits::default()).unwrap();
/// assert!(artifact.starts_with(b"\x7fELF"));
/// ```
pub fn precompile(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, Error> {
    limits.validate()?;
    let name = "<input>";
    match detect(bytes) {
        Format::Binary | Format::Text => {}
        Format::Precompiled => {
            return Err(Error::InvalidModule {
                name: name.into(),
                reason: "already precompiled".into(),
            })
        }
        Format::Component | Format::Unknown => {
            // Let `compile` produce the precise message.
            let handle = engine_for(limits)?;
            compile(&handle.engine, name, bytes)?;
        }
    }
    let handle = engine_for(limits)?;
    handle
        .engine
        .precompile_module(bytes)
        .map_err(|e| Error::InvalidModule {
            name: name.into(),
            reason: format!("{e:#}"),
        })
}

/// Reads a module file, naming the file in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
