//! What a module's bytes are (by content, not file name), compiling them, and Wasmtime's
//! refusals in our terms.

use crate::engine::{Engine, EngineConfig};
use crate::error::PrecompiledProblem;
use crate::Error;
use std::path::Path;

/// A module's name from its path: the file name.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
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
    /// A component-model binary (a WASI 0.2 program, with the `components` feature).
    Component,
    /// Anything else.
    Unknown,
}

/// Tells a module's format from its first bytes.
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

/// Compiles `.wasm` or `.wat` bytes; anything else is refused with the reason.
pub(crate) fn compile(
    engine: &wasmtime::Engine,
    name: &str,
    bytes: &[u8],
) -> Result<wasmtime::Module, Error> {
    match detect(bytes) {
        Format::Binary | Format::Text => {
            let start = std::time::Instant::now();
            let invalid = |source: Box<dyn std::error::Error + Send + Sync>| Error::InvalidModule {
                name: name.to_string(),
                switched_off: None,
                source,
            };
            let wasm = wat::parse_bytes(bytes).map_err(|e| invalid(e.into()))?;
            // A threaded module's atomic waits become calls the instance can end.
            let wasm = match super::atomics::threading(&wasm) {
                Ok(None) => wasm,
                Ok(Some(_)) => std::borrow::Cow::Owned(
                    super::atomics::rewrite(&wasm).map_err(|e| invalid(e.into()))?,
                ),
                Err(unsupported) => {
                    return Err(invalid(
                        format!("threaded modules with {unsupported} are not supported").into(),
                    ))
                }
            };
            let module = wasmtime::Module::new(engine, &wasm).map_err(|e| invalid(e.into()))?;
            tracing::debug!(module = name, bytes = bytes.len(), took = ?start.elapsed(), "compiled");
            Ok(module)
        }
        Format::Precompiled => Err(Error::Precompiled {
            name: name.to_string(),
            problem: PrecompiledProblem::NeedsUnsafeLoader,
            source: None,
        }),
        Format::Component => Err(Error::Component {
            name: name.to_string(),
        }),
        Format::Unknown => Err(Error::NotWasm {
            name: name.to_string(),
        }),
    }
}

/// Reads a module file, naming the file in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Why Wasmtime refused a precompiled module with `e` on `engine`: found by trying the
/// engines that differ from it in one setting the CLI and the builder choose (timeout
/// support, a switched-off proposal), never by reading Wasmtime's message. `load` loads
/// the artifact on an engine.
pub(crate) fn precompiled_problem(
    engine: &Engine,
    load: impl Fn(&wasmtime::Engine) -> wasmtime::Result<()>,
) -> PrecompiledProblem {
    let config = engine.config();
    let loads_with = |other: EngineConfig| {
        Engine::shared(&other).is_ok_and(|other| load(&other.0.engine).is_ok())
    };
    if loads_with(EngineConfig {
        timeout_capable: !config.timeout_capable,
        ..*config
    }) {
        return PrecompiledProblem::TimeoutSupport {
            artifact: !config.timeout_capable,
        };
    }
    for (proposal, on) in config.wasm.iter() {
        let Ok(wasm) = config.wasm.switch(&format!("{proposal}=y")) else {
            continue;
        };
        if !on && loads_with(EngineConfig { wasm, ..*config }) {
            return PrecompiledProblem::ProposalOff { proposal };
        }
    }
    PrecompiledProblem::Incompatible
}

/// When a module is invalid and some proposals are switched off, finds the one whose
/// switch would make it valid and says so; otherwise returns the error as it is.
pub(crate) fn name_switched_off_proposal(engine: &Engine, bytes: &[u8], e: Error) -> Error {
    let Error::InvalidModule {
        name,
        switched_off: None,
        source,
    } = e
    else {
        return e;
    };
    let config = engine.config();
    for (proposal, on) in config.wasm.iter() {
        if on {
            continue;
        }
        let Ok(wasm) = config.wasm.switch(&format!("{proposal}=y")) else {
            continue;
        };
        let Ok(other) = Engine::shared(&EngineConfig { wasm, ..*config }) else {
            continue;
        };
        let valid = match detect(bytes) {
            Format::Binary => wasmtime::Module::validate(&other.0.engine, bytes).is_ok(),
            _ => wasmtime::Module::new(&other.0.engine, bytes).is_ok(),
        };
        if valid {
            return Error::InvalidModule {
                name,
                switched_off: Some(proposal),
                source,
            };
        }
    }
    Error::InvalidModule {
        name,
        switched_off: None,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(detect(b"\0asm\x01\0\0\0"), Format::Binary);
        assert_eq!(detect(b"\0asm\x0d\0\x01\0"), Format::Component);
        assert_eq!(detect(b"\0asm"), Format::Binary); // truncated: the compiler says why
        assert_eq!(detect(b"\x7fELF\x02\x01"), Format::Precompiled);
        assert_eq!(detect(b"(module)"), Format::Text);
        assert_eq!(detect(b"  \n\t(module (func))"), Format::Text);
        assert_eq!(detect(b";; a comment\n(module)"), Format::Text);
        assert_eq!(detect(b"module"), Format::Unknown);
        assert_eq!(detect(b""), Format::Unknown);
        assert_eq!(detect(b"\xff\xfe(module)"), Format::Unknown);
    }

    #[test]
    fn file_names_for_argv0() {
        assert_eq!(file_name(Path::new("/srv/apps/app.wasm")), "app.wasm");
        assert_eq!(file_name(Path::new("app.wat")), "app.wat");
        assert_eq!(file_name(Path::new("/")), "/");
    }
}
