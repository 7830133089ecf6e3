//! The async side of `#[hostcall]` (`async` feature): what the code generated for an
//! `async fn` calls. Its arguments are copied out of guest memory before the first
//! `.await` (guest memory cannot be borrowed across it); its future is polled on the
//! guest's fiber, with panics caught like those of sync host functions.

use super::owned::{allocator, request, write};
use super::{enter, failed, panic_message, return_area, Frame, HostOwned, Signature};
use super::{DataRef, HostParts, HostReturn, HostView};
use crate::hostcall::HostcallError;
use std::any::Any;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;
use wasmtime::Caller;

/// The embedder data as an async function's `&mut T` parameter.
pub fn data_async<'a, T: Any>(
    caller: &'a mut Caller<'_, impl HostView>,
    sig: &'static Signature,
) -> wasmtime::Result<&'a mut T> {
    let HostParts {
        data,
        data_name: found,
        ..
    } = caller
        .data_mut()
        .parts()
        .map_err(|cause| failed(sig, cause))?;
    // Threaded instances are not run async: their data is never behind a lock here.
    let DataRef::Own(data) = data else {
        return Err(failed(
            sig,
            HostcallError::Failed("async host functions cannot run in a threaded instance".into()),
        ));
    };
    data.downcast_mut().ok_or_else(|| {
        failed(
            sig,
            HostcallError::WrongData {
                expected: std::any::type_name::<T>(),
                found,
            },
        )
    })
}

/// Awaits an async host function's future, catching its panics, and converts what it
/// returns into its wasm result (or the error that ends the instance).
pub async fn finish<R: HostReturn>(
    sig: &'static Signature,
    future: impl Future<Output = R>,
) -> wasmtime::Result<R::Wasm> {
    settle(sig, future, R::into_wasm).await
}

/// Awaits an async host function's future as [`finish`] does, for an owned result: its
/// elements, to place with [`place_async`].
pub async fn finish_owned<O: HostOwned>(
    sig: &'static Signature,
    future: impl Future<Output = O>,
) -> wasmtime::Result<Option<O::Items>> {
    settle(sig, future, O::into_items).await
}

/// Awaits `future` with its panics caught, and converts what it returns with `convert`;
/// a panic or a failed conversion is the error that ends the instance.
async fn settle<R, T>(
    sig: &'static Signature,
    future: impl Future<Output = R>,
    convert: impl FnOnce(R) -> Result<T, HostcallError>,
) -> wasmtime::Result<T> {
    let mut future = std::pin::pin!(future);
    let polled = poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(r)) => Poll::Ready(Ok(r)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        },
    )
    .await;
    let cause = match polled {
        Ok(r) => match convert(r) {
            Ok(t) => return Ok(t),
            Err(cause) => cause,
        },
        Err(panic) => HostcallError::Panicked {
            message: panic_message(&*panic),
        },
    };
    Err(failed(sig, cause))
}

/// `owned` for an instance run async, where the guest's allocator is
/// called async.
pub async fn owned_async<S: HostView, O: HostOwned>(
    caller: &mut Caller<'_, S>,
    sig: &'static Signature,
    ret: u32,
    body: impl FnOnce(Frame<'_, S>) -> Result<O, HostcallError>,
) -> wasmtime::Result<O::Wasm> {
    return_area(caller, sig, ret)?;
    let items = enter(caller, sig, |frame| body(frame)?.into_items())?;
    place_async::<S, O>(caller, sig, ret, items).await
}

/// `place` for an instance run async.
pub async fn place_async<S: HostView, O: HostOwned>(
    caller: &mut Caller<'_, S>,
    sig: &'static Signature,
    ret: u32,
    items: Option<O::Items>,
) -> wasmtime::Result<O::Wasm> {
    let Some(items) = items else {
        return Ok(O::wasm(false));
    };
    let ptr = match request::<O::Elem>(items.as_ref().len()).map_err(|c| failed(sig, c))? {
        None => 0,
        Some(args) => {
            allocator(caller, sig)?
                .call_async(&mut *caller, args)
                .await?
        }
    };
    write(caller, sig, ret, items.as_ref(), ptr)?;
    Ok(O::wasm(true))
}
