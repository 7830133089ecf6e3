//! The WASI glue of async instances: the calls that can block, linked async over the
//! sync glue (link.rs).
//!
//! Each such call is first made as usual with its waits deferred ([`Waits::defer`]):
//! if it would block, it fails with `WouldBlock` (what it waits for) before any side
//! effect. The glue then awaits that on the executor (`async_wait::wait`) and makes the
//! call again, which now finds its descriptor ready or its clock passed. `poll_oneoff`
//! keeps its start time across the retry, so relative clocks are not waited twice.
//!
//! [`Waits::defer`]: super::wait::Waits::defer

use super::link::{enter, function_id, raw, RawValue, WasiView, MODULE};
use super::wait::WouldBlock;
use super::wasi_snapshot_preview1 as abi;
use super::{AbiMemory, WasiCtx};
use wasmtime::{Caller, Linker, WasmTy};

/// Defines `async3` to `async6`: register an ABI function taking that many wasm
/// arguments, tried without waiting and retried after an async wait. Observed instances
/// get each try observed (a retried call shows as two).
macro_rules! async_linkers {
    ($($name:ident($($arg:ident),*);)*) => {$(
        #[allow(non_snake_case)]
        fn $name<S: WasiView, F, $($arg,)* R>(
            linker: &mut Linker<S>,
            observed: bool,
            name: &str,
            f: F,
        ) -> wasmtime::Result<()>
        where
            F: Fn(&mut WasiCtx, &mut AbiMemory<'_>, $($arg),*) -> wiggle::error::Result<R>
                + Send
                + Sync
                + Copy
                + 'static,
            $($arg: WasmTy + RawValue + Send + Copy + 'static,)*
            R: WasmTy + RawValue + Send + 'static,
        {
            let id = function_id(name)
                .ok_or_else(|| wasmtime::format_err!("`{name}` is not a preview1 function"))?;
            let attempt = move |caller: &mut Caller<'_, S>, $($arg: $arg),*| -> wasmtime::Result<R> {
                let (mut memory, wasi) = enter(caller)?;
                wasi.waits.defer = true;
                let tried = f(wasi, &mut memory, $($arg),*);
                wasi.waits.defer = false;
                tried
            };
            linker.func_wrap_async(
                MODULE,
                name,
                move |mut caller: Caller<'_, S>, ($($arg,)*): ($($arg,)*)| {
                    Box::new(async move {
                        loop {
                            let tried = if observed {
                                S::observe(&mut caller, id, &[$(raw($arg)),*], |caller| {
                                    attempt(caller, $($arg),*)
                                })
                            } else {
                                attempt(&mut caller, $($arg),*)
                            };
                            let blocked = match tried {
                                Err(e) if e.is::<WouldBlock>() => e
                                    .downcast::<WouldBlock>()
                                    .expect("checked just now"),
                                done => return done,
                            };
                            let deadline = caller.data_mut().ctx().waits.deadline;
                            super::async_wait::wait(blocked, deadline).await?;
                        }
                    })
                },
            )?;
            Ok(())
        }
    )*};
}

async_linkers! {
    async3(A1, A2, A3);
    async4(A1, A2, A3, A4);
    async5(A1, A2, A3, A4, A5);
    async6(A1, A2, A3, A4, A5, A6);
}

/// Replaces, in a linker that has the sync glue, the calls that can block with their
/// async forms (observed, if `observed`).
pub fn add_blocking_async<S: WasiView>(
    linker: &mut Linker<S>,
    observed: bool,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    async4(linker, observed, "fd_read", abi::fd_read)?;
    async4(linker, observed, "fd_write", abi::fd_write)?;
    async4(linker, observed, "poll_oneoff", abi::poll_oneoff)?;
    async3(linker, observed, "sock_accept", abi::sock_accept)?;
    async6(linker, observed, "sock_recv", abi::sock_recv)?;
    async5(linker, observed, "sock_send", abi::sock_send)?;
    linker.allow_shadowing(false);
    Ok(())
}
