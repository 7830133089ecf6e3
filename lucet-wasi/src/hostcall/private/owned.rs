//! Owned results (`Vec<T>`, `String`, either in an `Option`, each also inside a
//! `Result`): what the code generated for such a host function calls.
//!
//! The ABI: the guest passes, as its last argument, a pointer to a return area of two
//! `u32`s (aligned to 4). The host checks it before the function runs; afterwards it
//! asks the guest's exported allocator,
//! `cabi_realloc(old_ptr: 0, old_size: 0, align, size) -> ptr` (the component model's),
//! for the bytes, copies the result there, and writes the pointer and the length (bytes
//! for a string, elements for a list) into the return area. An empty result allocates
//! nothing: pointer 0, length 0. An `Option` also returns whether it is there (`i32` 1
//! or 0; the return area is written only for 1).

use super::{enter, failed, with_frame, Frame, HostView};
use crate::hostcall::{GuestMemory, GuestType, HostcallError, Owned, Returns, Signature};
use crate::wasi::RawValue;
use std::mem::{align_of, size_of};
use wasmtime::{Caller, Extern, TypedFunc};

/// The guest's `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`.
pub type Allocator = TypedFunc<(u32, u32, u32, u32), u32>;

/// The name the guest exports its allocator under.
pub const ALLOCATOR: &str = "cabi_realloc";

/// A host function's return type that is placed in guest memory.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned to the guest",
    note = "owned results are Vec<T> (T: GuestType), String, an Option of either, or a Result of one of those"
)]
pub trait HostOwned {
    /// The element type placed in guest memory.
    type Elem: GuestType;
    /// What holds the elements.
    type Items: AsRef<[Self::Elem]> + Send;
    /// The wasm result: `()`, or `i32` (whether it is there) for an `Option`.
    type Wasm: wasmtime::WasmRet + RawValue + Send;
    /// How the signature describes it.
    const RETURNS: Returns;
    /// The elements, `None` for an absent `Option`, or the function's failure.
    fn into_items(self) -> Result<Option<Self::Items>, HostcallError>;
    /// The wasm result when the value is there (`true`) or not.
    fn wasm(present: bool) -> Self::Wasm;
}

impl<T: GuestType + Send> HostOwned for Vec<T> {
    type Elem = T;
    type Items = Vec<T>;
    type Wasm = ();
    const RETURNS: Returns = Returns::Owned {
        elem: Owned::List {
            c: T::C_NAME,
            rust: T::RUST_NAME,
        },
        optional: false,
    };
    #[inline]
    fn into_items(self) -> Result<Option<Vec<T>>, HostcallError> {
        Ok(Some(self))
    }
    #[inline]
    fn wasm(_: bool) {}
}

impl HostOwned for String {
    type Elem = u8;
    type Items = String;
    type Wasm = ();
    const RETURNS: Returns = Returns::Owned {
        elem: Owned::Str,
        optional: false,
    };
    #[inline]
    fn into_items(self) -> Result<Option<String>, HostcallError> {
        Ok(Some(self))
    }
    #[inline]
    fn wasm(_: bool) {}
}

impl<O: HostOwned<Wasm = ()>> HostOwned for Option<O> {
    type Elem = O::Elem;
    type Items = O::Items;
    type Wasm = i32;
    const RETURNS: Returns = match O::RETURNS {
        Returns::Owned { elem, .. } => Returns::Owned {
            elem,
            optional: true,
        },
        other => other,
    };
    #[inline]
    fn into_items(self) -> Result<Option<O::Items>, HostcallError> {
        match self {
            Some(o) => o.into_items(),
            None => Ok(None),
        }
    }
    #[inline]
    fn wasm(present: bool) -> i32 {
        present as i32
    }
}

impl<O, E> HostOwned for Result<O, E>
where
    O: HostOwned,
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    type Elem = O::Elem;
    type Items = O::Items;
    type Wasm = O::Wasm;
    const RETURNS: Returns = O::RETURNS;
    #[inline]
    fn into_items(self) -> Result<Option<O::Items>, HostcallError> {
        match self {
            Ok(o) => o.into_items(),
            Err(e) => Err(HostcallError::returned(e.into())),
        }
    }
    #[inline]
    fn wasm(present: bool) -> O::Wasm {
        O::wasm(present)
    }
}

/// Runs a call of a host function with an owned result: checks the return area `ret`,
/// runs `body` as [`enter`] does, and places what it returns.
#[inline]
pub fn owned<S: HostView, O: HostOwned>(
    caller: &mut Caller<'_, S>,
    sig: &'static Signature,
    ret: u32,
    body: impl FnOnce(Frame<'_, S>) -> Result<O, HostcallError>,
) -> wasmtime::Result<O::Wasm> {
    return_area(caller, sig, ret)?;
    let items = enter(caller, sig, |frame| body(frame)?.into_items())?;
    place::<S, O>(caller, sig, ret, items)
}

/// [`owned`] for an instance that counts or traces calls.
pub fn owned_observed<S: HostView, O: HostOwned, const N: usize>(
    caller: &mut Caller<'_, S>,
    sig: &'static Signature,
    args: [u64; N],
    ret: u32,
    body: impl FnOnce(Frame<'_, S>) -> Result<O, HostcallError>,
) -> wasmtime::Result<O::Wasm> {
    S::observe(caller, sig, &args, |caller| owned(caller, sig, ret, body))
}

/// Checks that the return area at `ret` is in the guest's memory and aligned, before
/// the function runs (so that a bad one fails before anything is done).
pub fn return_area<S: HostView>(
    caller: &mut Caller<'_, S>,
    sig: &'static Signature,
    ret: u32,
) -> wasmtime::Result<()> {
    with_frame(caller, |mut frame| {
        frame
            .memory
            .take_slice_mut(RETURN_AREA, ret, 2, u32::WITNESS)
            .map(drop)
    })
    .map_err(|cause| failed(sig, cause))
}

/// How messages name the return area.
const RETURN_AREA: &str = "(return area)";

/// Places `items` in guest memory (sync instances).
pub fn place<S: HostView, O: HostOwned>(
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
        Some(args) => allocator(caller, sig)?.call(&mut *caller, args)?,
    };
    write(caller, sig, ret, items.as_ref(), ptr)?;
    Ok(O::wasm(true))
}

/// The allocator's arguments for `count` elements of `T`: `None` if empty.
pub(super) fn request<T>(count: usize) -> Result<Option<(u32, u32, u32, u32)>, HostcallError> {
    if count == 0 {
        return Ok(None);
    }
    let size = count as u64 * size_of::<T>() as u64;
    let align = align_of::<T>() as u32;
    match u32::try_from(size) {
        Ok(size) => Ok(Some((0, 0, align, size))),
        Err(_) => Err(HostcallError::AllocFailed { size, align }),
    }
}

/// The guest's allocator, looked up on first use and kept in the store.
pub(super) fn allocator<S: HostView>(
    caller: &mut Caller<'_, S>,
    sig: &'static Signature,
) -> wasmtime::Result<Allocator> {
    if let Some(a) = caller.data_mut().allocator() {
        return Ok(a.clone());
    }
    let found = match caller.get_export(ALLOCATOR) {
        Some(Extern::Func(f)) => f.typed::<(u32, u32, u32, u32), u32>(&*caller).ok(),
        _ => None,
    };
    let Some(a) = found else {
        return Err(failed(sig, HostcallError::NoAllocator));
    };
    *caller.data_mut().allocator() = Some(a.clone());
    Ok(a)
}

/// Copies `items` to `ptr`, which the allocator returned (0 if empty), and writes the
/// pointer and length into the return area.
pub(super) fn write<S: HostView, T: GuestType>(
    caller: &mut Caller<'_, S>,
    sig: &'static Signature,
    ret: u32,
    items: &[T],
    ptr: u32,
) -> wasmtime::Result<()> {
    with_frame(caller, |frame| place_in(frame.memory, ret, items, ptr))
        .map_err(|cause| failed(sig, cause))
}

/// [`write`] in the guest's memory `guest`.
fn place_in<T: GuestType>(
    mut guest: GuestMemory<'_>,
    ret: u32,
    items: &[T],
    ptr: u32,
) -> Result<(), HostcallError> {
    let memory_size = guest.size();
    let count = items.len() as u32;
    let bytes = std::mem::size_of_val(items);
    if !items.is_empty() {
        let align = align_of::<T>() as u32;
        if ptr == 0 {
            return Err(HostcallError::AllocFailed {
                size: bytes as u64,
                align,
            });
        }
        match guest.take_slice_mut(ALLOCATOR, ptr, count, T::WITNESS) {
            Ok(dst) => dst.copy_from_slice(items),
            Err(_) => {
                return Err(HostcallError::BadAllocation {
                    ptr,
                    size: bytes as u32,
                    align,
                    memory: memory_size,
                })
            }
        }
    }
    let area = guest.take_slice_mut(RETURN_AREA, ret, 2, u32::WITNESS)?;
    area.copy_from_slice(&[ptr, count]);
    Ok(())
}
