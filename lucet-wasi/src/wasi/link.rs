//! Adds the preview1 functions to a linker: our own glue around wiggle's generated ABI
//! functions (`wasi_snapshot_preview1::*`), which convert the raw arguments and call
//! the `WasiSnapshotPreview1` implementation.
//!
//! Wiggle's own glue looks the `memory` export up by name and enters an async executor
//! on every call; this one takes the memory the store cached at instantiation and calls
//! the ABI function directly. It is generic over the store's data ([`WasiView`]), so
//! this layer knows nothing of the engine, the instance or who observes calls.
//!
//! [`FUNCTIONS`] is the one list of the preview1 functions outside the witx: the linker
//! registers them from it, and the trace decodes their arguments with it.

use super::wasi_snapshot_preview1 as abi;
use super::{AbiMemory, SharedCtx, WasiCtx};
use wasmtime::{Caller, Linker, Memory, WasmRet, WasmTy};

/// The import module of every WASI function.
pub(crate) const MODULE: &str = "wasi_snapshot_preview1";

/// What the WASI glue needs of a store's data: its WASI context and the guest's memory,
/// and a hook around each call of an observed instance.
///
/// Each store has its own `WasiCtx` value; what several stores of one guest must share
/// (the descriptor table, arguments, clocks — guests with several threads, each a store of
/// its own) is to live behind shared handles inside it, so the glue stays the same.
pub trait WasiView: Sized + Send + 'static {
    /// This store's WASI context.
    fn ctx(&mut self) -> &mut WasiCtx;

    /// The guest's exported `memory`, cached at instantiation (`None` before: the glue
    /// then looks it up by name).
    fn memory(&self) -> Option<Memory>;

    /// The WASI context and shared memory of a threaded guest, for the threaded glue.
    fn shared(&self) -> Option<&SharedCtx> {
        None
    }

    /// Runs `call`, the WASI function [`FUNCTIONS`]`[id]` with the wasm arguments `args`,
    /// for an instance linked with [`Glue::Observed`]: the place to count and trace it.
    fn observe<R: RawValue>(
        caller: &mut Caller<'_, Self>,
        id: usize,
        args: &[u64],
        call: impl FnOnce(&mut Caller<'_, Self>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let _ = (id, args);
        call(caller)
    }
}

/// Which glue a linker gets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Glue {
    /// Each call goes straight to its implementation.
    Plain,
    /// Each call goes through [`WasiView::observe`].
    Observed,
    /// For a threaded guest: each call goes to the [`SharedCtx`] of [`WasiView::shared`].
    Threaded,
    /// [`Threaded`](Self::Threaded), through [`WasiView::observe`].
    ThreadedObserved,
}

/// A wasm value as observers see it: its bits, zero-extended.
#[doc(hidden)]
pub trait RawValue: Copy {
    /// The value's bits (floats as their bit patterns), or `None` for `()`.
    fn raw(self) -> Option<u64>;
}

macro_rules! raw {
    ($($t:ty => $e:expr),*) => {$(
        impl RawValue for $t {
            #[inline]
            fn raw(self) -> Option<u64> {
                #[allow(clippy::redundant_closure_call)]
                Some(($e)(self))
            }
        }
    )*};
}
raw!(
    i32 => |v: i32| v as u32 as u64,
    u32 => |v: u32| v as u64,
    i64 => |v: i64| v as u64,
    u64 => |v: u64| v,
    f32 => |v: f32| v.to_bits() as u64,
    f64 => |v: f64| v.to_bits()
);

impl RawValue for () {
    #[inline]
    fn raw(self) -> Option<u64> {
        None
    }
}

/// A wasm argument's bits.
#[inline]
pub(crate) fn raw(v: impl RawValue) -> u64 {
    v.raw().unwrap_or(0)
}

/// The guest's memory and WASI context for one call.
#[inline]
pub(crate) fn enter<'a, S: WasiView>(
    caller: &'a mut Caller<'_, S>,
) -> wasmtime::Result<(AbiMemory<'a>, &'a mut WasiCtx)> {
    let memory = match caller.data().memory() {
        Some(m) => m,
        None => match caller.get_export("memory") {
            Some(wasmtime::Extern::Memory(m)) => m,
            _ => wasmtime::bail!("the guest exports no memory, which WASI needs"),
        },
    };
    let (bytes, store) = memory.data_and_store_mut(caller);
    Ok((wiggle::GuestMemory::Unshared(bytes), store.ctx()))
}

/// How a WASI argument is shown by observers. Two-word kinds (`Str`, `Iovs`, ...) take
/// a pointer and a length; `Out` kinds are result pointers, shown after the call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Arg {
    Fd,
    U32,
    U64,
    I64,
    /// A pointer shown as an address.
    Ptr,
    /// A string (path): pointer, length.
    Str,
    /// Buffers the host reads (a write): pointer, count of `ciovec`s.
    Ciovs,
    /// Buffers the host fills (a read): pointer, count of `iovec`s.
    Iovs,
    /// A buffer: pointer, length.
    Buf,
    /// A buffer the call fills with a name (`fd_prestat_dir_name`): pointer, length.
    NameBuf,
    Clock,
    Whence,
    Advice,
    Signal,
    Lookup,
    Oflags,
    Rights,
    Fdflags,
    Fstflags,
    Riflags,
    Sdflags,
    /// A result pointer: its label and what it points at.
    Out(&'static str, Pointee),
}

impl Arg {
    /// How many wasm arguments it takes.
    pub(crate) fn words(self) -> usize {
        match self {
            Arg::Str | Arg::Ciovs | Arg::Iovs | Arg::Buf | Arg::NameBuf => 2,
            _ => 1,
        }
    }
}

/// What a result pointer points at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pointee {
    U32,
    U64,
    Fd,
    Fdstat,
    Filestat,
    Prestat,
    Roflags,
}

/// One preview1 function: its name and its arguments.
pub(crate) struct Function {
    pub(crate) name: &'static str,
    pub(crate) args: &'static [Arg],
}

/// The id of the preview1 function `name`: its index in [`FUNCTIONS`].
pub(crate) fn function_id(name: &str) -> Option<usize> {
    FUNCTIONS.iter().position(|f| f.name == name)
}

/// An ABI function of wiggle's that takes the wasm arguments `P` and returns `R`.
trait AbiFn<P, R>: Send + Sync + Copy + 'static {
    fn register<S: WasiView>(
        self,
        linker: &mut Linker<S>,
        glue: Glue,
        id: usize,
    ) -> wasmtime::Result<()>;
}

/// Implements [`AbiFn`] for ABI functions of each arity.
macro_rules! abi_fn {
    ($($arg:ident),*) => {
        #[allow(non_snake_case)]
        impl<F, $($arg,)* R> AbiFn<($($arg,)*), R> for F
        where
            F: Fn(&mut WasiCtx, &mut AbiMemory<'_>, $($arg),*) -> wiggle::error::Result<R>
                + Send
                + Sync
                + Copy
                + 'static,
            $($arg: WasmTy + RawValue,)*
            R: WasmRet + RawValue,
        {
            fn register<S: WasiView>(
                self,
                linker: &mut Linker<S>,
                glue: Glue,
                id: usize,
            ) -> wasmtime::Result<()> {
                let name = FUNCTIONS[id].name;
                // The call itself, written once: the observing variant wraps this same
                // closure, so the ABI function keeps a single call site.
                let call = move |caller: &mut Caller<'_, S>, $($arg: $arg),*| -> wasmtime::Result<R> {
                    let (mut memory, wasi) = enter(caller)?;
                    self(wasi, &mut memory, $($arg),*)
                };
                let threaded = move |caller: &mut Caller<'_, S>, $($arg: $arg),*| -> wasmtime::Result<R> {
                    match caller.data().shared() {
                        Some(shared) => shared.call(|wasi, memory| self(wasi, memory, $($arg),*)),
                        None => wasmtime::bail!("internal error: threaded glue in an unthreaded store"),
                    }
                };
                match glue {
                    Glue::Plain => linker.func_wrap(
                        MODULE,
                        name,
                        move |mut caller: Caller<'_, S>, $($arg: $arg),*| -> wasmtime::Result<R> {
                            call(&mut caller, $($arg),*)
                        },
                    )?,
                    Glue::Observed => linker.func_wrap(
                        MODULE,
                        name,
                        move |mut caller: Caller<'_, S>, $($arg: $arg),*| -> wasmtime::Result<R> {
                            S::observe(&mut caller, id, &[$(raw($arg)),*], |caller| {
                                call(caller, $($arg),*)
                            })
                        },
                    )?,
                    Glue::Threaded => linker.func_wrap(
                        MODULE,
                        name,
                        move |mut caller: Caller<'_, S>, $($arg: $arg),*| -> wasmtime::Result<R> {
                            threaded(&mut caller, $($arg),*)
                        },
                    )?,
                    Glue::ThreadedObserved => linker.func_wrap(
                        MODULE,
                        name,
                        move |mut caller: Caller<'_, S>, $($arg: $arg),*| -> wasmtime::Result<R> {
                            S::observe(&mut caller, id, &[$(raw($arg)),*], |caller| {
                                threaded(caller, $($arg),*)
                            })
                        },
                    )?,
                };
                Ok(())
            }
        }
    };
}

abi_fn!();
abi_fn!(A1);
abi_fn!(A1, A2);
abi_fn!(A1, A2, A3);
abi_fn!(A1, A2, A3, A4);
abi_fn!(A1, A2, A3, A4, A5);
abi_fn!(A1, A2, A3, A4, A5, A6);
abi_fn!(A1, A2, A3, A4, A5, A6, A7);
abi_fn!(A1, A2, A3, A4, A5, A6, A7, A8, A9);

/// Registers an ABI function under its id.
fn register<S: WasiView, P, R>(
    linker: &mut Linker<S>,
    glue: Glue,
    id: usize,
    f: impl AbiFn<P, R>,
) -> wasmtime::Result<()> {
    f.register(linker, glue, id)
}

/// Lists the preview1 functions once: [`FUNCTIONS`] (name and arguments of each) and
/// [`add_to_linker`], which registers each under its index there.
macro_rules! preview1 {
    ($($name:ident($($arg:expr),*);)*) => {
        /// How many preview1 functions there are.
        pub(crate) const FUNCTION_COUNT: usize = [$(stringify!($name)),*].len();

        /// Every preview1 function, in the witx's order; the index is its id.
        pub(crate) static FUNCTIONS: [Function; FUNCTION_COUNT] = {
            #[allow(unused_imports)]
            use Arg::*;
            [$(Function { name: stringify!($name), args: &[$($arg),*] }),*]
        };

        /// Adds every preview1 function to `linker`, with the `glue` asked for.
        pub fn add_to_linker<S: WasiView>(linker: &mut Linker<S>, glue: Glue) -> wasmtime::Result<()> {
            let mut id = 0;
            $(
                debug_assert_eq!(FUNCTIONS[id].name, stringify!($name));
                register(linker, glue, id, abi::$name)?;
                id += 1;
            )*
            let _ = id;
            Ok(())
        }
    };
}

preview1! {
    args_get(Ptr, Ptr);
    args_sizes_get(Out("argc", Pointee::U32), Out("argv_buf_size", Pointee::U32));
    environ_get(Ptr, Ptr);
    environ_sizes_get(Out("count", Pointee::U32), Out("buf_size", Pointee::U32));
    clock_res_get(Clock, Out("resolution", Pointee::U64));
    clock_time_get(Clock, U64, Out("time", Pointee::U64));
    fd_advise(Fd, U64, U64, Advice);
    fd_allocate(Fd, U64, U64);
    fd_close(Fd);
    fd_datasync(Fd);
    fd_fdstat_get(Fd, Out("stat", Pointee::Fdstat));
    fd_fdstat_set_flags(Fd, Fdflags);
    fd_fdstat_set_rights(Fd, Rights, Rights);
    fd_filestat_get(Fd, Out("stat", Pointee::Filestat));
    fd_filestat_set_size(Fd, U64);
    fd_filestat_set_times(Fd, U64, U64, Fstflags);
    fd_pread(Fd, Iovs, U64, Out("nread", Pointee::U32));
    fd_prestat_get(Fd, Out("prestat", Pointee::Prestat));
    fd_prestat_dir_name(Fd, NameBuf);
    fd_pwrite(Fd, Ciovs, U64, Out("nwritten", Pointee::U32));
    fd_read(Fd, Iovs, Out("nread", Pointee::U32));
    fd_readdir(Fd, Buf, U64, Out("bufused", Pointee::U32));
    fd_renumber(Fd, Fd);
    fd_seek(Fd, I64, Whence, Out("offset", Pointee::U64));
    fd_sync(Fd);
    fd_tell(Fd, Out("offset", Pointee::U64));
    fd_write(Fd, Ciovs, Out("nwritten", Pointee::U32));
    path_create_directory(Fd, Str);
    path_filestat_get(Fd, Lookup, Str, Out("stat", Pointee::Filestat));
    path_filestat_set_times(Fd, Lookup, Str, U64, U64, Fstflags);
    path_link(Fd, Lookup, Str, Fd, Str);
    path_open(Fd, Lookup, Str, Oflags, Rights, Rights, Fdflags, Out("fd", Pointee::Fd));
    path_readlink(Fd, Str, Buf, Out("bufused", Pointee::U32));
    path_remove_directory(Fd, Str);
    path_rename(Fd, Str, Fd, Str);
    path_symlink(Str, Fd, Str);
    path_unlink_file(Fd, Str);
    poll_oneoff(Ptr, Ptr, U32, Out("nevents", Pointee::U32));
    proc_exit(U32);
    proc_raise(Signal);
    sched_yield();
    random_get(Buf);
    sock_accept(Fd, Fdflags, Out("fd", Pointee::Fd));
    sock_recv(Fd, Iovs, Riflags, Out("nread", Pointee::U32), Out("flags", Pointee::Roflags));
    sock_send(Fd, Ciovs, U32, Out("nwritten", Pointee::U32));
    sock_shutdown(Fd, Sdflags);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each function's arguments, in wasm words, match what its ABI function takes.
    #[test]
    fn every_function_is_listed_once_with_its_arity() {
        let mut names: Vec<_> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FUNCTIONS.len());
        assert_eq!(FUNCTIONS.len(), 46);
        for f in &FUNCTIONS {
            // `Out` arguments are pointers: one word each, like the rest.
            assert!(
                f.args.iter().map(|a| a.words()).sum::<usize>() <= 9,
                "{}",
                f.name
            );
        }
        assert_eq!(function_id("args_get"), Some(0));
        assert_eq!(function_id("nope"), None);
    }
}
