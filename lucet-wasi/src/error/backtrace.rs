//! [`WasmBacktrace`]: the wasm frames where a guest stopped, as data.

use std::fmt;

/// The wasm call stack where a guest stopped, innermost frame first.
///
/// `Display` prints one frame per line (`  0: name @ 0x1a2b`), the form the CLI shows
/// under `wasm backtrace:`; [`frames`](Self::frames) gives them as data.
///
/// ```
/// use lucet_wasi::{Error, WasiInstance};
/// let wat = r#"(module (func $inner unreachable) (func (export "_start") (call $inner)))"#;
/// let Err(Error::Trap { backtrace, .. }) = WasiInstance::builder().module_bytes(wat).run("_start") else {
///     panic!("expected a trap")
/// };
/// assert_eq!(backtrace.frames()[0].function.as_deref(), Some("inner"));
/// assert!(backtrace.to_string().starts_with("    0: inner @ 0x"));
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

/// One frame of a [`WasmBacktrace`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameInfo {
    /// The function's index in the module.
    pub func_index: u32,
    /// Its name from the module's name section, demangled (Rust and C++), if it has one.
    pub function: Option<String>,
    /// The byte offset in the module of the instruction executing, if known.
    pub module_offset: Option<usize>,
}

impl WasmBacktrace {
    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// Whether there are no frames (the run stopped outside wasm code).
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub(crate) fn capture(bt: &wasmtime::WasmBacktrace) -> WasmBacktrace {
        let frames = bt
            .frames()
            .iter()
            .map(|frame| FrameInfo {
                func_index: frame.func_index(),
                function: frame
                    .func_name()
                    .map(|name| format!("{:#}", rustc_demangle::demangle(name))),
                module_offset: frame.module_offset(),
            })
            .collect();
        WasmBacktrace { frames }
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, frame) in self.frames.iter().enumerate() {
            write!(f, "  {i:>3}: {frame}")?;
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Some(name) => f.write_str(name)?,
            None => write!(f, "<wasm function {}>", self.func_index)?,
        }
        match self.module_offset {
            Some(off) => write!(f, " @ {off:#x}"),
            None => Ok(()),
        }
    }
}
