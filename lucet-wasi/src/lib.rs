#![doc = include_str!("../../README.md")]
#![warn(missing_docs)]

#[cfg(not(target_endian = "little"))]
compile_error!("lucet-wasi shares guest memory with host functions as is: it needs a little-endian host, as wasm is");

// Lets the crate's own tests use `#[hostcall]`, whose expansion names `::lucet_wasi`.
extern crate self as lucet_wasi;

mod backtrace;
mod build;
mod builder;
mod cache;
mod engine;
mod error;
mod features;
#[cfg(feature = "async")]
mod fiber_stack;
mod format;
mod guest_memory;
mod guest_stack;
mod hostcall;
mod instance;
mod limits;
mod link;
mod module;
mod observe;
mod outcome;
#[cfg(feature = "async")]
mod run_async;
mod setup;
mod size;
mod stats;
mod store;
mod trace;
mod wasi;

pub use backtrace::{Backtrace, Frame};
pub use builder::WasiInstanceBuilder;
pub use cache::CompileCache;
pub use engine::{Engine, EngineConfig};
pub use error::Error;
pub use features::WasmFeatures;
#[doc(hidden)]
pub use hostcall::private as __private_hostcall;
pub use hostcall::{
    GuestMemory, GuestOutput, GuestType, HostContext, Hostcall, HostcallError, HostcallSet,
};
pub use instance::WasiInstance;
pub use limits::{check_size, Limits, MAX_STACK, PAGE};
pub use module::Module;
pub use outcome::Exit;
pub use size::{Bytes, GiB, KiB, MiB, TiB};
pub use stats::RunStats;
#[doc(hidden)]
pub use trace::RawValue;
pub use trace::TraceFilter;
pub use wasi::{Capture, Input, Output};

/// Passes the link code of an async `#[hostcall]` through, or, without the `async`
/// feature, says that it needs it.
#[doc(hidden)]
#[cfg(feature = "async")]
#[macro_export]
macro_rules! __hostcall_async_link {
    ($($t:tt)*) => { $($t)* };
}

/// Passes the link code of an async `#[hostcall]` through, or, without the `async`
/// feature, says that it needs it.
#[doc(hidden)]
#[cfg(not(feature = "async"))]
#[macro_export]
macro_rules! __hostcall_async_link {
    ($($t:tt)*) => {
        ::core::compile_error!(
            "an async #[hostcall] needs the `async` feature of lucet-wasi: \
             lucet-wasi = { features = [\"async\"] }"
        )
    };
}

/// Turns a plain Rust `fn` into a host function that the guest imports beside WASI.
///
/// ```
/// use lucet_wasi::{hostcall, HostContext, WasiInstance};
/// use std::collections::HashMap;
///
/// #[derive(Default)]
/// struct Kv { map: HashMap<String, Vec<u8>> }
///
/// /// Stores `value` under `key`; returns how many keys there are.
/// #[hostcall(module = "kv")]                  // imported as kv.put
/// fn put(kv: &mut Kv, key: &str, value: &[u8]) -> u32 {
///     kv.map.insert(key.to_string(), value.to_vec());
///     kv.map.len() as u32
/// }
///
/// #[hostcall]                                  // imported as env.scale
/// fn scale(x: f64, factor: f32) -> f64 { x * factor as f64 }
///
/// let wat = r#"(module
///     (import "kv" "put" (func $put (param i32 i32 i32 i32) (result i32)))
///     (import "env" "scale" (func $scale (param f64 f32) (result f64)))
///     (memory (export "memory") 1)
///     (data (i32.const 16) "colour" "blue")
///     (func (export "run") (result f64)
///         (drop (call $put (i32.const 16) (i32.const 6) (i32.const 22) (i32.const 4)))
///         (call $scale (f64.const 1.5) (f32.const 2))))"#;
/// let mut instance = WasiInstance::builder()
///     .module_bytes(wat)
///     .data(Kv::default())
///     .hostcall(put)
///     .hostcall(scale)
///     .build()?;
/// assert_eq!(instance.call::<(), f64>("run", ())?, 3.0);
/// assert_eq!(instance.data::<Kv>().unwrap().map["colour"], b"blue");
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
///
/// **Attribute:** `#[hostcall]` imports the function as `env`.`fn_name`;
/// `#[hostcall(module = "kv", name = "put")]` chooses either part.
///
/// **What it makes:** a constant with the function's name that
/// [`.hostcall(put)`](WasiInstanceBuilder::hostcall), [`HostcallSet::with`] and
/// [`hostcalls!`] take; `put(...)` still calls the function from Rust.
///
/// **First parameter (optional):** `&mut T`, the embedder data given to
/// [`.data(T)`](WasiInstanceBuilder::data), or `cx: &mut HostContext<'_, T>` for the data,
/// guest memory and the guest's stdout/stderr. An instance whose data is not a `T` is
/// refused when it is built ([`Error::HostFunction`] with [`HostcallError::WrongData`]).
/// A first parameter `&mut T` is always the data: to take a guest pointer first, take the
/// context before it.
///
/// **The guest ABI** (what a guest in any language declares), parameters in order:
///
/// | Rust parameter | wasm parameters |
/// |---|---|
/// | `i32`, `u32` / `i64`, `u64` / `f32` / `f64` | `i32` / `i64` / `f32` / `f64` |
/// | `bool` | `i32` (any non-zero value is `true`) |
/// | `&str`, `String` | `i32` pointer, `i32` length in bytes (UTF-8 checked) |
/// | `&[T]`, `&mut [T]`, `Vec<T>` | `i32` pointer, `i32` count of `T`s |
/// | `&T`, `&mut T` | `i32` pointer |
///
/// `T` is any [`GuestType`]: the integer and float types, or a `#[repr(C)]` struct with
/// `#[derive(GuestType)]`; pointers to it must be aligned for it. Borrowed arguments point
/// straight into guest memory (no copy); `String` and `Vec<T>` are copies. The result is
/// none for `()`, one value for a scalar (`bool` → `i32` 0 or 1), and for `Result<R, E>`
/// that of `R`.
///
/// **Failures end the instance** with [`Error::HostFunction`] naming the function: a
/// pointer or length outside guest memory ([`HostcallError::OutOfBounds`]), a misaligned
/// typed pointer, invalid UTF-8, a `&mut` argument overlapping another borrowed argument
/// ([`HostcallError::Overlap`]: aliased references are never made, and nothing is copied
/// behind your back), a panic, or an `Err(e)` returned (`e` is kept:
/// [`HostcallError::downcast_ref`]). To give the *guest* an error code instead, return it
/// as a plain value (`-> i32`).
///
/// **`async fn`** (feature `async`): an async host function awaits (timers, channels,
/// network) without blocking the executor, in instances built with
/// `build_async` (a sync instance refuses it with
/// [`Error::AsyncHostcall`]). Its arguments are copied out of guest memory before it
/// starts, so it takes `String`, `Vec<T>` and scalars, and the embedder data `&mut T`;
/// borrowed arguments and the context, which point into guest memory, cannot live across
/// `.await` and are refused at compile time. It is not callable as a plain fn from Rust.
///
/// **Refused at compile time**, each with a message on the offending tokens:
/// `unsafe` or `extern` functions, generics, `self`, a context parameter not in first
/// position, unsupported parameter or return types, named lifetimes, borrowed arguments
/// of an `async fn`, and unknown attribute arguments; [`hostcalls!`] also refuses two
/// functions with the same import.
pub use lucet_wasi_macros::hostcall;

/// Derives [`GuestType`](trait@GuestType) for a `#[repr(C)]` struct whose fields are all
/// `GuestType`s and that has no padding (both checked at compile time), so host
/// functions can take `&T`, `&mut T`, `&[T]` or `Vec<T>` of it.
///
/// ```
/// use lucet_wasi::{hostcall, GuestType};
/// #[derive(Clone, Copy, GuestType)]
/// #[repr(C)]
/// struct Point { x: f32, y: f32 }
///
/// /// Moves every point by (dx, dy).
/// #[hostcall]
/// fn shift(points: &mut [Point], dx: f32, dy: f32) {
///     for p in points { p.x += dx; p.y += dy; }
/// }
/// ```
pub use lucet_wasi_macros::GuestType;

/// A [`HostcallSet`] of `#[hostcall]` functions; two with the same import module and
/// name are a compile-time error.
///
/// ```
/// use lucet_wasi::{hostcall, hostcalls, Engine, EngineConfig, Module, WasiInstance};
/// #[hostcall] fn one() -> i32 { 1 }
/// #[hostcall] fn two() -> i32 { 2 }
/// let engine = Engine::shared(&EngineConfig::default())?;
/// let module = Module::from_bytes(&engine, r#"(module
///     (import "env" "one" (func $one (result i32)))
///     (import "env" "two" (func $two (result i32)))
///     (func (export "sum") (result i32) (i32.add (call $one) (call $two))))"#)?
///     .with_hostcalls(&hostcalls![one, two])?;   // linked once, for every instance
/// let mut instance = WasiInstance::builder().module(&module).build()?;
/// assert_eq!(instance.call::<(), i32>("sum", ())?, 3);
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
pub use lucet_wasi_macros::hostcalls;
