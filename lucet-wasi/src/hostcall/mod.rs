//! Host functions the guest imports beside WASI: the runtime side of
//! [`#[hostcall]`](crate::hostcall).
//!
//! The attribute turns a plain Rust `fn` into a [`Hostcall`]: a value named like the
//! function, registered with [`WasiInstanceBuilder::hostcall`](crate::WasiInstanceBuilder::hostcall)
//! or collected into a [`HostcallSet`] and attached once to a compiled
//! [`Module`](crate::Module) with [`Module::with_hostcalls`](crate::Module::with_hostcalls).
//! Each call converts the guest's arguments with the checks of [`GuestMemory`], runs the
//! function, and ends the instance with [`Error::HostFunction`](crate::Error::HostFunction)
//! if anything fails.

mod bindings;
mod context;
mod copies;
mod data;
mod guest_type;
mod memory;
#[doc(hidden)]
pub mod private;
mod set;
mod signature;

pub use crate::error::HostcallError;
pub use context::{GuestOutput, HostContext};
pub(crate) use copies::Copies;
pub use guest_type::GuestType;
pub(crate) use memory::Borrows;
pub use memory::GuestMemory;
pub use set::HostcallSet;
#[doc(hidden)]
pub use signature::{Owned, Param, ParamKind, Returns, Scalar, Signature};

use crate::Error;
use std::any::{Any, TypeId};
use std::panic::{catch_unwind, AssertUnwindSafe};
use wasmtime::{Caller, Linker};

/// A host function, importable by the guest as `module`.`name`: what
/// [`#[hostcall]`](crate::hostcall) makes of a `fn`. Cheap to copy around.
///
/// ```
/// use lucet_wasi::{hostcall, Hostcall};
/// #[hostcall(module = "math", name = "twice")]
/// fn double(x: i32) -> i32 { x * 2 }
/// let h = Hostcall::from(double);
/// assert_eq!((h.module(), h.name()), ("math", "twice"));
/// assert_eq!(double(21), 42); // still callable from Rust
/// ```
#[derive(Clone, Copy)]
pub struct Hostcall {
    sig: &'static Signature,
    data: Option<DataType>,
    /// The generated function that adds it to a linker: a `LinkFn<S>` for the store
    /// data type `S` of the crate's instances (this module knows no store type).
    link: &'static (dyn Any + Send + Sync),
    /// An `async fn`: only async instances can link it.
    asynchronous: bool,
}

/// Adds a host function to a linker of stores with data `S`, as `LinkMode` asks.
pub type LinkFn<S> = fn(&mut Linker<S>, LinkMode) -> wasmtime::Result<()>;

/// How a host function is linked.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkMode {
    /// The variant that counts and traces calls ([`private::HostView::observe`]).
    pub observed: bool,
    /// For an instance run async: a function that calls back into the guest (to place
    /// an owned result) is linked async.
    pub asynchronous: bool,
}

/// The embedder data type a host function takes.
#[derive(Clone, Copy)]
struct DataType {
    id: TypeId,
    name: &'static str,
}

impl Hostcall {
    /// The import module name (`env` unless the attribute says otherwise).
    pub fn module(&self) -> &'static str {
        self.sig.module
    }

    /// The import name (the function's name unless the attribute says otherwise).
    pub fn name(&self) -> &'static str {
        self.sig.name
    }

    /// Its guest-side signature, for generating bindings.
    #[doc(hidden)]
    pub fn signature(&self) -> &'static Signature {
        self.sig
    }

    /// Whether it is an `async fn` (only instances built with `build_async` take it).
    pub(crate) fn is_async(&self) -> bool {
        self.asynchronous
    }

    /// Whether it returns an owned value (placed with the guest's allocator).
    pub(crate) fn returns_owned(&self) -> bool {
        matches!(self.sig.returns, Returns::Owned { .. })
    }

    /// Adds the function to `linker`, as `mode` asks.
    pub(crate) fn add_to_linker<S: 'static>(
        &self,
        linker: &mut Linker<S>,
        mode: LinkMode,
    ) -> Result<(), Error> {
        let Some(link) = self.link.downcast_ref::<LinkFn<S>>() else {
            return Err(Error::internal(format!(
                "host function `{}` was made for another store type",
                self.sig.function
            )));
        };
        link(linker, mode).map_err(|source| Error::Link {
            import: Some(self.sig.function.to_string()),
            source: source.into(),
        })
    }

    /// Refuses embedder data of another type than the function takes.
    pub(crate) fn check_data(
        &self,
        data: &(dyn Any + Send),
        name: &'static str,
    ) -> Result<(), Error> {
        match self.data {
            Some(want) if want.id != data.type_id() => Err(Error::HostFunction {
                function: self.sig.function.to_string(),
                cause: HostcallError::WrongData {
                    expected: want.name,
                    found: name,
                },
                backtrace: Default::default(),
            }),
            _ => Ok(()),
        }
    }
}

/// Carries a failed host function out of the guest, with its name.
#[derive(Debug)]
pub(crate) struct HostcallFailed {
    pub(crate) function: &'static str,
    pub(crate) cause: HostcallError,
}

impl std::fmt::Display for HostcallFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host function `{}`: {}", self.function, self.cause)
    }
}

impl std::error::Error for HostcallFailed {}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".into()
    }
}
