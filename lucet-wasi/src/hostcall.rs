//! Host functions the guest can import beside WASI: their context and registration.
//!
//! A [`Hostcall`] wraps a typed Rust closure; the `#[lucet_wasi::hostcall]` attribute
//! will generate one from a plain `fn`. Register it with
//! [`WasiInstanceBuilder::hostcall`](crate::WasiInstanceBuilder::hostcall).

use crate::instance::StoreData;
use std::any::Any;
use std::sync::Arc;
use wasmtime::{Caller, Extern, Linker, WasmRet, WasmTy};

/// What a host function sees while the guest calls it: the embedder's data and the
/// guest's memory.
pub struct HostContext<'a> {
    caller: Caller<'a, StoreData>,
}

/// A host function failed; the guest is ended with [`Error::HostFunction`](crate::Error::HostFunction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

impl<T: Into<String>> From<T> for HostError {
    fn from(message: T) -> HostError {
        HostError(message.into())
    }
}

/// Carries a failed host function out of the guest, with its name.
#[derive(Debug)]
pub(crate) struct HostcallFailed {
    pub(crate) function: String,
    pub(crate) error: HostError,
}

impl std::fmt::Display for HostcallFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "host function `{}` failed: {}",
            self.function, self.error
        )
    }
}

impl std::error::Error for HostcallFailed {}

impl HostContext<'_> {
    /// The embedder data given to the builder, if it is a `T`.
    pub fn data<T: Any>(&mut self) -> Option<&mut T> {
        self.caller.data_mut().data.as_mut()?.downcast_mut()
    }

    /// The guest's exported memory.
    pub fn memory(&mut self) -> Result<&mut [u8], HostError> {
        match self.caller.get_export("memory") {
            Some(Extern::Memory(m)) => Ok(m.data_mut(&mut self.caller)),
            _ => Err(HostError("the guest exports no memory".into())),
        }
    }

    /// The `len` guest bytes at `ptr`, bounds-checked.
    pub fn bytes(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], HostError> {
        let memory = self.memory()?;
        let range = (ptr as usize)..(ptr as usize).saturating_add(len as usize);
        let size = memory.len();
        memory.get_mut(range).ok_or_else(|| {
            HostError(format!(
                "guest range {ptr:#x}+{len} is outside its {size}-byte memory"
            ))
        })
    }

    /// The UTF-8 string of `len` bytes at `ptr`.
    pub fn str(&mut self, ptr: u32, len: u32) -> Result<&str, HostError> {
        let bytes = self.bytes(ptr, len)?;
        std::str::from_utf8(bytes)
            .map_err(|e| HostError(format!("guest string at {ptr:#x} is not UTF-8: {e}")))
    }

    /// Copies `data` into guest memory at `ptr`.
    pub fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), HostError> {
        self.bytes(ptr, data.len() as u32)?.copy_from_slice(data);
        Ok(())
    }
}

type LinkFn = dyn Fn(&mut Linker<StoreData>, &str, &str) -> wasmtime::Result<()> + Send + Sync;

/// How a host function is added to a linker (opaque).
#[doc(hidden)]
pub struct Linkable(Arc<LinkFn>);

/// A host function, importable by the guest as `module`.`name`. Cheap to clone.
///
/// ```
/// use lucet_wasi::{HostContext, HostError, Hostcall, WasiInstance};
/// let double = Hostcall::new("env", "double", |_cx: &mut HostContext<'_>, x: i32| -> Result<i32, HostError> {
///     Ok(x * 2)
/// });
/// let wat = r#"(module
///     (import "env" "double" (func $double (param i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "run") (result i32) (call $double (i32.const 21))))"#;
/// let mut instance = WasiInstance::builder().module_bytes(wat).hostcall(double).build()?;
/// assert_eq!(instance.call::<(), i32>("run", ())?, 42);
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Clone)]
pub struct Hostcall {
    pub(crate) module: Arc<str>,
    pub(crate) name: Arc<str>,
    link: Arc<LinkFn>,
}

impl Hostcall {
    /// Wraps `f`, a closure taking the context and up to eight wasm-typed arguments
    /// (`i32`, `i64`, `f32`, `f64`) and returning `Result` of a wasm-typed value (or `()`).
    pub fn new<Args, R>(module: &str, name: &str, f: impl IntoHostcall<Args, R>) -> Hostcall {
        Hostcall {
            module: module.into(),
            name: name.into(),
            link: f.into_link().0,
        }
    }

    /// The import module name.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The import field name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn link(&self, linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
        (self.link)(linker, &self.module, &self.name)
    }
}

/// Closures that can become a [`Hostcall`]: `Fn(&mut HostContext, A1, ..., An) ->
/// Result<R, HostError>` for up to eight arguments.
pub trait IntoHostcall<Args, R>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_link(self) -> Linkable;
}

macro_rules! into_hostcall {
    ($($arg:ident),*) => {
        impl<F, R, $($arg,)*> IntoHostcall<($($arg,)*), R> for F
        where
            F: Fn(&mut HostContext<'_>, $($arg),*) -> Result<R, HostError> + Send + Sync + 'static,
            R: WasmRet + 'static,
            $($arg: WasmTy + 'static,)*
        {
            #[allow(non_snake_case)]
            fn into_link(self) -> Linkable {
                let f = Arc::new(self);
                Linkable(Arc::new(move |linker: &mut Linker<StoreData>, module: &str, name: &str| {
                    let f = f.clone();
                    let function = format!("{module}::{name}");
                    linker.func_wrap(module, name, move |caller: Caller<'_, StoreData>, $($arg: $arg),*| -> wasmtime::Result<R> {
                        let mut cx = HostContext { caller };
                        f(&mut cx, $($arg),*).map_err(|error| {
                            wasmtime::Error::new(HostcallFailed { function: function.clone(), error })
                        })
                    })?;
                    Ok(())
                }))
            }
        }
    };
}

into_hostcall!();
into_hostcall!(A1);
into_hostcall!(A1, A2);
into_hostcall!(A1, A2, A3);
into_hostcall!(A1, A2, A3, A4);
into_hostcall!(A1, A2, A3, A4, A5);
into_hostcall!(A1, A2, A3, A4, A5, A6);
into_hostcall!(A1, A2, A3, A4, A5, A6, A7);
into_hostcall!(A1, A2, A3, A4, A5, A6, A7, A8);
