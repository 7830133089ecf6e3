//! The WASI linker of async instances: the sync one (link.rs), with the calls that can
//! block linked async.
//!
//! Each such call is first made as usual, with waits deferred (`wait::Defer`): if it
//! would block, it fails with `WouldBlock` (what it waits for) before any side effect.
//! The glue then awaits that on the executor (`async_wait::wait`) and makes the call
//! again, which now finds its descriptor ready or its clock passed. `poll_oneoff`
//! keeps its start time across the retry, so relative clocks are not waited twice.

use super::link::{enter, MODULE};
use super::wait::{Defer, WouldBlock};
use super::wasi_snapshot_preview1 as abi;
use super::WasiCtx;
use crate::engine::Engine;
use crate::store::StoreData;
use crate::Error;
use wasmtime::{Caller, Linker, WasmTy};

/// The async WASI linker of `engine`, built once.
pub(crate) fn linker_async(engine: &Engine) -> Result<&Linker<StoreData>, Error> {
    if let Some(l) = engine.0.linker_async.get() {
        return Ok(l);
    }
    let mut linker = engine.linker()?.clone();
    linker.allow_shadowing(true);
    add_blocking(&mut linker).map_err(|e| Error::host("cannot set up WASI", e))?;
    linker.allow_shadowing(false);
    Ok(engine.0.linker_async.get_or_init(|| linker))
}

/// Defines `async3`, `async4`, `async6`: register an ABI function taking that many wasm
/// arguments, tried without waiting and retried after an async wait.
macro_rules! async_linkers {
    ($($name:ident($($arg:ident),*);)*) => {$(
        #[allow(non_snake_case)]
        fn $name<F, $($arg,)* R>(
            linker: &mut Linker<StoreData>,
            name: &str,
            f: F,
        ) -> wasmtime::Result<()>
        where
            F: Fn(&mut WasiCtx, &mut wiggle::GuestMemory<'_>, $($arg),*) -> wiggle::error::Result<R>
                + Send
                + Sync
                + Copy
                + 'static,
            $($arg: WasmTy + Send + Copy + 'static,)*
            R: WasmTy + Send + 'static,
        {
            linker.func_wrap_async(
                MODULE,
                name,
                move |mut caller: Caller<'_, StoreData>, ($($arg,)*): ($($arg,)*)| {
                    Box::new(async move {
                        loop {
                            let tried = {
                                let (mut memory, wasi) = enter(&mut caller)?;
                                let _defer = Defer::enter();
                                f(wasi, &mut memory, $($arg),*)
                            };
                            let blocked = match tried {
                                Err(e) if e.is::<WouldBlock>() => e
                                    .downcast::<WouldBlock>()
                                    .expect("checked just now"),
                                done => return done,
                            };
                            let deadline = caller.data().wasi.deadline;
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
    async6(A1, A2, A3, A4, A5, A6);
}

/// Replaces the calls that can block with their async forms.
fn add_blocking(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    async4(linker, "fd_read", abi::fd_read)?;
    async4(linker, "poll_oneoff", abi::poll_oneoff)?;
    async3(linker, "sock_accept", abi::sock_accept)?;
    async6(linker, "sock_recv", abi::sock_recv)?;
    Ok(())
}
