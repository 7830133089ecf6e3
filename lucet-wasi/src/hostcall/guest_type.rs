//! [`GuestType`]: plain data shared with the guest as it is.

use std::marker::PhantomData;

/// Plain data that can be read from and written to guest memory as it is: every bit
/// pattern is a valid value, there is no padding, and the layout is the guest's
/// (little-endian, `#[repr(C)]`). Implemented for the integer and float types; derive it for your own `#[repr(C)]` structs with
/// [`#[derive(GuestType)]`](crate::GuestType), which checks those rules at compile time.
///
/// # Safety
///
/// Implement it only for `Copy` types without padding, pointers or invalid bit patterns
/// (no `bool`, `char`, enums or references). The derive checks this for you.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be shared with the guest as plain memory (it is not a GuestType)",
    note = "GuestType covers the integer and float types and #[repr(C)] structs with #[derive(GuestType)]; bool, char, enums and references have invalid bit patterns",
    note = "if `{Self}` is the embedder data given to `.data(..)`, take it as the first parameter, mutably: `&mut {Self}`"
)]
pub unsafe trait GuestType: Copy + 'static {
    /// The type's name in generated guest bindings (`uint32_t`, `struct Point`, ...).
    #[doc(hidden)]
    const C_NAME: &'static str;
    /// The type's name in generated Rust guest bindings.
    #[doc(hidden)]
    const RUST_NAME: &'static str;
    /// Proof that `Self` is a `GuestType`, for the generated code (which then names the
    /// trait once per argument, so that a type that is not one gets one error).
    #[doc(hidden)]
    const WITNESS: Witness<Self> = Witness(PhantomData);
}

/// Proof that `T` is a [`GuestType`]: only the trait makes one.
#[doc(hidden)]
pub struct Witness<T: ?Sized>(PhantomData<fn() -> T>);

impl<T: ?Sized> Clone for Witness<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Witness<T> {}

macro_rules! guest_primitive {
    ($($t:ty => $c:literal),* $(,)?) => {$(
        // SAFETY: integers and floats have no padding and no invalid bit patterns.
        unsafe impl GuestType for $t {
            const C_NAME: &'static str = $c;
            const RUST_NAME: &'static str = stringify!($t);
        }
    )*};
}

guest_primitive! {
    u8 => "uint8_t", i8 => "int8_t", u16 => "uint16_t", i16 => "int16_t",
    u32 => "uint32_t", i32 => "int32_t", u64 => "uint64_t", i64 => "int64_t",
    f32 => "float", f64 => "double",
}
