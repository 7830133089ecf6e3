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

#[cfg(feature = "async")]
mod async_call;
mod bindings;
mod context;
mod error;
mod memory;
mod observe;

pub use context::{GuestOutput, HostContext};
pub use error::HostcallError;
pub use memory::{GuestMemory, GuestType};

use crate::store::StoreData;
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
    link: LinkFn,
    /// An `async fn`: only async instances can link it.
    asynchronous: bool,
}

/// Adds the function to a linker; `true`: the variant that counts and traces calls.
type LinkFn = fn(&mut Linker<StoreData>, bool) -> wasmtime::Result<()>;

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

    pub(crate) fn link(&self, linker: &mut Linker<StoreData>, observed: bool) -> Result<(), Error> {
        (self.link)(linker, observed).map_err(|e| Error::Link {
            reason: format!("host function `{}`: {e:#}", self.sig.function),
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
            }),
            _ => Ok(()),
        }
    }
}

/// Host functions to attach together, to a [`Module`](crate::Module) or a builder, and
/// to generate the guest's import declarations from.
///
/// [`hostcalls!`](crate::hostcalls) builds one and refuses, at compile time, two
/// functions with the same import name.
///
/// ```
/// use lucet_wasi::{hostcall, hostcalls};
/// #[hostcall(module = "kv")]
/// fn put(key: &str, value: &[u8]) -> u32 { (key.len() + value.len()) as u32 }
/// #[hostcall]
/// fn log(level: u32, msg: &str) { println!("{level}: {msg}") }
/// let set = hostcalls![put, log];
/// assert!(set.c_header().contains("uint32_t kv_put(const char *key, size_t key_len, const uint8_t *value, size_t value_len);"));
/// assert!(set.rust_externs().contains("pub fn log(level: u32, msg: *const u8, msg_len: usize);"));
/// ```
#[derive(Clone, Default)]
pub struct HostcallSet {
    calls: Vec<Hostcall>,
}

impl HostcallSet {
    /// An empty set.
    pub fn new() -> HostcallSet {
        HostcallSet::default()
    }

    /// Adds a host function (duplicates are refused when the set is attached).
    pub fn with(mut self, hostcall: impl Into<Hostcall>) -> HostcallSet {
        self.calls.push(hostcall.into());
        self
    }

    /// Adds a host function (duplicates are refused when the set is attached).
    pub fn push(&mut self, hostcall: impl Into<Hostcall>) {
        self.calls.push(hostcall.into());
    }

    /// The host functions, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Hostcall> {
        self.calls.iter()
    }

    /// How many host functions the set holds.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Refuses two functions with the same import.
    pub(crate) fn check_unique(&self) -> Result<(), Error> {
        for (i, a) in self.calls.iter().enumerate() {
            if let Some(b) = self.calls[..i]
                .iter()
                .find(|b| (b.module(), b.name()) == (a.module(), a.name()))
            {
                return Err(Error::DuplicateHostcall {
                    module: b.module().to_string(),
                    name: b.name().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Adds every function of the set to `linker`.
    pub(crate) fn link(&self, linker: &mut Linker<StoreData>) -> Result<(), Error> {
        self.check_unique()?;
        self.calls.iter().try_for_each(|h| h.link(linker, false))
    }

    /// Adds every function of the set to `linker`, in the variant that counts and
    /// traces calls.
    pub(crate) fn link_observed(&self, linker: &mut Linker<StoreData>) -> Result<(), Error> {
        self.check_unique()?;
        self.calls.iter().try_for_each(|h| h.link(linker, true))
    }

    /// Refuses embedder data that a function of the set cannot take.
    pub(crate) fn check_data(
        &self,
        data: &(dyn Any + Send),
        name: &'static str,
    ) -> Result<(), Error> {
        self.calls.iter().try_for_each(|h| h.check_data(data, name))
    }
}

impl<H: Into<Hostcall>> FromIterator<H> for HostcallSet {
    fn from_iter<I: IntoIterator<Item = H>>(iter: I) -> Self {
        HostcallSet {
            calls: iter.into_iter().map(Into::into).collect(),
        }
    }
}

/// A host function's guest-side signature: the ABI of DESIGN §4b, described for the
/// generated bindings and error messages. Built by the attribute.
#[doc(hidden)]
#[derive(Debug)]
pub struct Signature {
    /// Import module.
    pub module: &'static str,
    /// Import name.
    pub name: &'static str,
    /// `module::name`, as errors name it.
    pub function: &'static str,
    /// The guest-visible parameters, in order (the data or context parameter excluded).
    pub params: &'static [Param],
    /// The result, if any.
    pub result: Option<Scalar>,
}

/// One guest-visible parameter.
#[doc(hidden)]
#[derive(Debug)]
pub struct Param {
    /// The Rust parameter's name.
    pub name: &'static str,
    /// How it crosses the ABI.
    pub kind: ParamKind,
}

/// How a parameter crosses the ABI.
#[doc(hidden)]
#[derive(Debug)]
pub enum ParamKind {
    /// One wasm value.
    Scalar(Scalar),
    /// `&str` or `String`: pointer and byte length.
    Str,
    /// `&[T]`, `&mut [T]` or `Vec<T>`: pointer and element count.
    Slice {
        /// Element type name in C.
        c: &'static str,
        /// Element type name in Rust.
        rust: &'static str,
        /// Whether the host writes it.
        mutable: bool,
    },
    /// `&T` or `&mut T`: one pointer.
    Ptr {
        /// Pointee type name in C.
        c: &'static str,
        /// Pointee type name in Rust.
        rust: &'static str,
        /// Whether the host writes it.
        mutable: bool,
    },
}

/// A scalar parameter or result type.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Scalar {
    /// `i32`
    I32,
    /// `u32`
    U32,
    /// `i64`
    I64,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `bool` (an `i32`: 0 or 1 out, non-zero in is true)
    Bool,
}

/// What the code generated by `#[hostcall]` calls. Not a public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "async")]
    pub use super::async_call::*;
    use super::*;
    pub use super::{Param, ParamKind, Scalar, Signature};
    pub use crate::store::StoreData;

    /// The caller type of generated host functions.
    pub type HostCaller<'a> = Caller<'a, StoreData>;
    /// The linker type generated host functions are added to.
    pub type HostLinker = Linker<StoreData>;
    pub use wasmtime::Result as WasmResult;

    /// What one call works with: guest memory and the store's data.
    pub struct Frame<'a> {
        /// The guest's memory.
        pub memory: GuestMemory<'a>,
        /// Everything else.
        pub store: &'a mut StoreData,
    }

    /// Describes a generated host function.
    pub fn hostcall<T: Any>(sig: &'static Signature, link: LinkFn, takes_data: bool) -> Hostcall {
        Hostcall {
            sig,
            data: takes_data.then(|| DataType {
                id: TypeId::of::<T>(),
                name: std::any::type_name::<T>(),
            }),
            link,
            asynchronous: false,
        }
    }

    /// Describes a generated async host function.
    pub fn hostcall_async<T: Any>(
        sig: &'static Signature,
        link: LinkFn,
        takes_data: bool,
    ) -> Hostcall {
        Hostcall {
            sig,
            data: takes_data.then(|| DataType {
                id: TypeId::of::<T>(),
                name: std::any::type_name::<T>(),
            }),
            link,
            asynchronous: true,
        }
    }

    /// [`enter`] for an instance that counts or traces calls: `args` are the call's
    /// wasm arguments' bits.
    pub fn enter_observed<R: crate::RawValue, const N: usize>(
        caller: &mut HostCaller<'_>,
        sig: &'static Signature,
        args: [u64; N],
        body: impl FnOnce(Frame<'_>) -> Result<R, HostcallError>,
    ) -> wasmtime::Result<R> {
        observe::observe_hostcall(caller, sig, &args, |caller| enter(caller, sig, body))
    }

    /// Runs one call of a host function: sets up its [`Frame`], catches panics, and
    /// turns a failure into the error that ends the instance.
    #[inline]
    pub fn enter<R>(
        caller: &mut HostCaller<'_>,
        sig: &'static Signature,
        body: impl FnOnce(Frame<'_>) -> Result<R, HostcallError>,
    ) -> wasmtime::Result<R> {
        let frame = match StoreData::memory(caller) {
            Some(m) => {
                let (bytes, store) = m.data_and_store_mut(&mut *caller);
                Frame {
                    memory: GuestMemory::new(bytes),
                    store,
                }
            }
            None => Frame {
                memory: GuestMemory::absent(),
                store: caller.data_mut(),
            },
        };
        let cause = match catch_unwind(AssertUnwindSafe(|| body(frame))) {
            Ok(Ok(r)) => return Ok(r),
            Ok(Err(cause)) => cause,
            Err(panic) => HostcallError::Panicked {
                message: panic_message(&*panic),
            },
        };
        Err(wasmtime::Error::new(HostcallFailed {
            function: sig.function,
            cause,
        }))
    }

    /// The embedder data as the function's `&mut T` parameter.
    #[inline]
    pub fn data<T: Any>(store: &mut StoreData) -> Result<&mut T, HostcallError> {
        let found = store.data_name;
        store.data.downcast_mut().ok_or(HostcallError::WrongData {
            expected: std::any::type_name::<T>(),
            found,
        })
    }

    /// The function's `&mut HostContext<'_, T>` parameter.
    #[inline]
    pub fn context<'a, T: Any>(
        frame: Frame<'a>,
        sig: &'static Signature,
    ) -> Result<HostContext<'a, T>, HostcallError> {
        let StoreData {
            wasi,
            data,
            data_name,
            ..
        } = frame.store;
        let found = *data_name;
        let data = data.downcast_mut().ok_or(HostcallError::WrongData {
            expected: std::any::type_name::<T>(),
            found,
        })?;
        Ok(HostContext::new(data, frame.memory, wasi, sig.function))
    }

    /// Converts what a host function returns into its wasm result.
    pub trait HostReturn {
        /// The wasm result type.
        type Wasm: wasmtime::WasmRet + crate::RawValue;
        /// Converts, or fails the call.
        fn into_wasm(self) -> Result<Self::Wasm, HostcallError>;
    }

    macro_rules! direct {
        ($($t:ty),*) => {$(
            impl HostReturn for $t {
                type Wasm = $t;
                #[inline]
                fn into_wasm(self) -> Result<$t, HostcallError> { Ok(self) }
            }
        )*};
    }
    direct!((), i32, u32, i64, u64, f32, f64);

    impl HostReturn for bool {
        type Wasm = i32;
        #[inline]
        fn into_wasm(self) -> Result<i32, HostcallError> {
            Ok(self as i32)
        }
    }

    impl<R, E> HostReturn for Result<R, E>
    where
        R: HostReturn,
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        type Wasm = R::Wasm;
        #[inline]
        fn into_wasm(self) -> Result<R::Wasm, HostcallError> {
            match self {
                Ok(r) => r.into_wasm(),
                Err(e) => Err(HostcallError::returned(e.into())),
            }
        }
    }

    /// Whether two imports are the same, for the compile-time check of `hostcalls!`.
    pub const fn same_import(a: (&str, &str), b: (&str, &str)) -> bool {
        same(a.0, b.0) && same(a.1, b.1)
    }

    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// A wasm argument's bits, for the trace.
    #[inline]
    pub fn raw(v: impl crate::RawValue) -> u64 {
        v.raw().unwrap_or(0)
    }

    /// Compile-time check that a derived [`GuestType`]'s field is one too.
    pub const fn assert_guest_type<T: GuestType>() {}
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
