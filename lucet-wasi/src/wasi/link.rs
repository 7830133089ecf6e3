//! Adds the preview1 functions to a linker: our own glue around wiggle's generated ABI
//! functions (`wasi_snapshot_preview1::*`), which convert the raw arguments and call
//! the `WasiSnapshotPreview1` implementation.
//!
//! Wiggle's own glue looks the `memory` export up by name and enters an async executor
//! on every call; this one takes the memory cached in the store at instantiation and
//! calls the ABI function directly.

use super::wasi_snapshot_preview1 as abi;
use super::WasiCtx;
use crate::observe::observe_wasi;
use crate::store::StoreData;
use crate::trace::{self, RawValue};
use wasmtime::{Caller, Linker, WasmTy};

/// The import module of every WASI function.
pub(super) const MODULE: &str = "wasi_snapshot_preview1";

/// The guest's memory and WASI state for one call.
#[inline]
pub(super) fn enter<'a>(
    caller: &'a mut Caller<'_, StoreData>,
) -> wasmtime::Result<(wiggle::GuestMemory<'a>, &'a mut WasiCtx)> {
    let Some(memory) = StoreData::memory(caller) else {
        wasmtime::bail!("the guest exports no memory, which WASI needs")
    };
    let (bytes, store) = memory.data_and_store_mut(caller);
    Ok((wiggle::GuestMemory::Unshared(bytes), &mut store.wasi))
}

/// Defines `link0` .. `link9`: register an ABI function taking that many wasm arguments.
///
/// `observed` registers the variant that counts and traces each call
/// (`crate::observe`), for the instances that asked for it; the plain variant is
/// the same code as if tracing did not exist.
macro_rules! linkers {
    ($($name:ident($($arg:ident),*);)*) => {$(
        #[allow(non_snake_case)]
        fn $name<F, $($arg,)* R>(
            linker: &mut Linker<StoreData>,
            observed: bool,
            name: &str,
            f: F,
        ) -> wasmtime::Result<()>
        where
            F: Fn(&mut WasiCtx, &mut wiggle::GuestMemory<'_>, $($arg),*) -> wiggle::error::Result<R>
                + Send
                + Sync
                + Copy
                + 'static,
            $($arg: WasmTy + RawValue,)*
            R: WasmTy + RawValue,
        {
            // The call itself, written once: the observing variant wraps this same
            // closure, so the ABI function keeps a single call site.
            let call = move |caller: &mut Caller<'_, StoreData>, $($arg: $arg),*| -> wasmtime::Result<R> {
                let (mut memory, wasi) = enter(caller)?;
                f(wasi, &mut memory, $($arg),*)
            };
            if observed {
                let id = trace::wasi_id(name)
                    .ok_or_else(|| wasmtime::format_err!("`{name}` is not a preview1 function"))?;
                linker.func_wrap(
                    MODULE,
                    name,
                    move |mut caller: Caller<'_, StoreData>, $($arg: $arg),*| -> wasmtime::Result<R> {
                        observe_wasi(&mut caller, id, &[$(raw($arg)),*], |caller| {
                            call(caller, $($arg),*)
                        })
                    },
                )?;
                return Ok(());
            }
            linker.func_wrap(
                MODULE,
                name,
                move |mut caller: Caller<'_, StoreData>, $($arg: $arg),*| -> wasmtime::Result<R> {
                    call(&mut caller, $($arg),*)
                },
            )?;
            Ok(())
        }
    )*};
}

/// An argument's bits for the trace.
#[inline]
fn raw(v: impl RawValue) -> u64 {
    v.raw().unwrap_or(0)
}

linkers! {
    link0();
    link1(A1);
    link2(A1, A2);
    link3(A1, A2, A3);
    link4(A1, A2, A3, A4);
    link5(A1, A2, A3, A4, A5);
    link6(A1, A2, A3, A4, A5, A6);
    link7(A1, A2, A3, A4, A5, A6, A7);
    link9(A1, A2, A3, A4, A5, A6, A7, A8, A9);
}

/// `proc_exit` returns nothing (it always ends the guest).
fn link_proc_exit(linker: &mut Linker<StoreData>, observed: bool) -> wasmtime::Result<()> {
    if observed {
        let id =
            trace::wasi_id("proc_exit").ok_or_else(|| wasmtime::format_err!("no proc_exit"))?;
        linker.func_wrap(
            MODULE,
            "proc_exit",
            move |mut caller: Caller<'_, StoreData>, status: i32| -> wasmtime::Result<()> {
                observe_wasi(&mut caller, id, &[raw(status)], |caller| {
                    let (mut memory, wasi) = enter(caller)?;
                    abi::proc_exit(wasi, &mut memory, status)
                })
            },
        )?;
        return Ok(());
    }
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |mut caller: Caller<'_, StoreData>, status: i32| -> wasmtime::Result<()> {
            let (mut memory, wasi) = enter(&mut caller)?;
            abi::proc_exit(wasi, &mut memory, status)
        },
    )?;
    Ok(())
}

/// Adds every preview1 function; the number after `link` is its count of wasm arguments.
pub(crate) fn add_to_linker(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    add_all(linker, false)
}

/// Adds every preview1 function in the variant that counts and traces calls.
pub(crate) fn add_to_linker_observed(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    add_all(linker, true)
}

fn add_all(linker: &mut Linker<StoreData>, observed: bool) -> wasmtime::Result<()> {
    link2(linker, observed, "args_get", abi::args_get)?;
    link2(linker, observed, "args_sizes_get", abi::args_sizes_get)?;
    link2(linker, observed, "environ_get", abi::environ_get)?;
    link2(
        linker,
        observed,
        "environ_sizes_get",
        abi::environ_sizes_get,
    )?;
    link2(linker, observed, "clock_res_get", abi::clock_res_get)?;
    link3(linker, observed, "clock_time_get", abi::clock_time_get)?;
    link4(linker, observed, "fd_advise", abi::fd_advise)?;
    link3(linker, observed, "fd_allocate", abi::fd_allocate)?;
    link1(linker, observed, "fd_close", abi::fd_close)?;
    link1(linker, observed, "fd_datasync", abi::fd_datasync)?;
    link2(linker, observed, "fd_fdstat_get", abi::fd_fdstat_get)?;
    link2(
        linker,
        observed,
        "fd_fdstat_set_flags",
        abi::fd_fdstat_set_flags,
    )?;
    link3(
        linker,
        observed,
        "fd_fdstat_set_rights",
        abi::fd_fdstat_set_rights,
    )?;
    link2(linker, observed, "fd_filestat_get", abi::fd_filestat_get)?;
    link2(
        linker,
        observed,
        "fd_filestat_set_size",
        abi::fd_filestat_set_size,
    )?;
    link4(
        linker,
        observed,
        "fd_filestat_set_times",
        abi::fd_filestat_set_times,
    )?;
    link5(linker, observed, "fd_pread", abi::fd_pread)?;
    link2(linker, observed, "fd_prestat_get", abi::fd_prestat_get)?;
    link3(
        linker,
        observed,
        "fd_prestat_dir_name",
        abi::fd_prestat_dir_name,
    )?;
    link5(linker, observed, "fd_pwrite", abi::fd_pwrite)?;
    link4(linker, observed, "fd_read", abi::fd_read)?;
    link5(linker, observed, "fd_readdir", abi::fd_readdir)?;
    link2(linker, observed, "fd_renumber", abi::fd_renumber)?;
    link4(linker, observed, "fd_seek", abi::fd_seek)?;
    link1(linker, observed, "fd_sync", abi::fd_sync)?;
    link2(linker, observed, "fd_tell", abi::fd_tell)?;
    link4(linker, observed, "fd_write", abi::fd_write)?;
    link3(
        linker,
        observed,
        "path_create_directory",
        abi::path_create_directory,
    )?;
    link5(
        linker,
        observed,
        "path_filestat_get",
        abi::path_filestat_get,
    )?;
    link7(
        linker,
        observed,
        "path_filestat_set_times",
        abi::path_filestat_set_times,
    )?;
    link7(linker, observed, "path_link", abi::path_link)?;
    link9(linker, observed, "path_open", abi::path_open)?;
    link6(linker, observed, "path_readlink", abi::path_readlink)?;
    link3(
        linker,
        observed,
        "path_remove_directory",
        abi::path_remove_directory,
    )?;
    link6(linker, observed, "path_rename", abi::path_rename)?;
    link5(linker, observed, "path_symlink", abi::path_symlink)?;
    link3(linker, observed, "path_unlink_file", abi::path_unlink_file)?;
    link4(linker, observed, "poll_oneoff", abi::poll_oneoff)?;
    link_proc_exit(linker, observed)?;
    link1(linker, observed, "proc_raise", abi::proc_raise)?;
    link0(linker, observed, "sched_yield", abi::sched_yield)?;
    link2(linker, observed, "random_get", abi::random_get)?;
    link3(linker, observed, "sock_accept", abi::sock_accept)?;
    link6(linker, observed, "sock_recv", abi::sock_recv)?;
    link5(linker, observed, "sock_send", abi::sock_send)?;
    link2(linker, observed, "sock_shutdown", abi::sock_shutdown)?;
    Ok(())
}
