//! # lucet-wasi
//!
//! Run WebAssembly programs compiled for WASI (`wasi_snapshot_preview1`: Rust's
//! `wasm32-wasip1`, C through wasi-libc, and others) in a sandbox, on the Wasmtime engine
//! with a WASI syscall layer of its own.
//!
//! One expression runs a program:
//!
//! ```
//! use lucet_wasi::{WasiInstance, GiB, MiB};
//! let exit = WasiInstance::builder()
//!     .module_file("../examples/hello.wat")?
//!     .preopen(".", ".")
//!     .max_heap(GiB(2))
//!     .stack(MiB(8))
//!     .run("_start")?;
//! assert_eq!(exit, lucet_wasi::Exit::Returned);
//! # Ok::<(), lucet_wasi::Error>(())
//! ```
//!
//! To serve many requests, compile a [`Module`] once and build a fresh, isolated
//! instance per request ([`WasiInstance::builder`]`().module(&module)`): each costs only
//! instantiation. Stdio can be captured ([`Capture`]), fed from bytes ([`Input::bytes`])
//! or any reader/writer. Every failure is one [`Error`] variant.
//!
//! ```
//! use lucet_wasi::{WasiInstance, Exit, Input, Output, MiB};
//! // A guest that exits with the number of arguments it was given.
//! let wat = r#"(module
//!     (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
//!     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
//!     (memory (export "memory") 1)
//!     (func (export "_start")
//!         (drop (call $sizes (i32.const 0) (i32.const 4)))
//!         (call $exit (i32.load (i32.const 0)))))"#;
//! let exit = WasiInstance::builder()
//!     .module_bytes(wat)
//!     .arg("one")
//!     .arg("two")
//!     .stdin(Input::null())
//!     .stdout(Output::null())
//!     .max_heap(MiB(1))
//!     .stack(MiB(1))
//!     .run("_start")?;
//! assert_eq!(exit, Exit::Exited(3)); // argv[0] and two arguments
//! # Ok::<(), lucet_wasi::Error>(())
//! ```

#![warn(missing_docs)]

mod error;
mod guest_stack;
mod hostcall;
mod instance;
mod limits;
mod module;
mod size;
mod wasi;

pub use error::Error;
pub use hostcall::{HostContext, HostError, Hostcall, IntoHostcall};
pub use instance::{Exit, WasiInstance, WasiInstanceBuilder};
pub use limits::{check_size, Limits, MAX_STACK, PAGE};
pub use module::{Engine, EngineConfig, Module};
pub use size::{Bytes, GiB, KiB, MiB, TiB};
pub use wasi::{Capture, ExitRequested, Input, Output, WasiCtx};

/// The README's examples compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
