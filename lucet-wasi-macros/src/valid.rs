//! Every misuse of `#[hostcall]`, reported as a `syn::Error` on the offending tokens.

use crate::ast::{First, Hostcall, Kind, Return};
use syn::{Error, FnArg};

/// The most arguments that may borrow guest memory (the runtime tracks them inline).
pub const MAX_BORROWED: usize = 16;

const PARAMS: &str = "supported parameter types: i32, u32, i64, u64, f32, f64, bool, &str, \
     String, &[T], &mut [T], Vec<T>, &T and &mut T (T: GuestType, e.g. u8 or a \
     #[derive(GuestType)] struct); and first, optionally, the embedder data `&mut T` or \
     `&mut HostContext<'_, T>`";

const RETURNS: &str = "supported return types: (), i32, u32, i64, u64, f32, f64, bool; the \
     owned Vec<T> (T: GuestType), String, Option<Vec<T>> and Option<String> (placed in memory \
     the guest allocates); or Result<_, E> of one of them with E: Into<Box<dyn Error + Send + \
     Sync>>";

pub fn check(hc: &Hostcall<'_>) -> syn::Result<()> {
    let sig = &hc.item.sig;
    if let Some(u) = &sig.unsafety {
        return Err(Error::new_spanned(
            u,
            "a #[hostcall] function cannot be `unsafe`: the guest cannot uphold its contract",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(Error::new_spanned(
            abi,
            "a #[hostcall] function is a plain Rust fn; remove the `extern` ABI",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(Error::new_spanned(
            &sig.generics,
            "a #[hostcall] function cannot be generic: the guest imports one concrete signature",
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(Error::new_spanned(
            v,
            "a #[hostcall] function cannot be variadic",
        ));
    }
    for arg in &sig.inputs {
        if let FnArg::Receiver(r) = arg {
            return Err(Error::new_spanned(
                r,
                "a #[hostcall] function cannot take `self`: write a free function and give it \
                 state with `.data(...)` and a first parameter `&mut T`",
            ));
        }
    }
    let mut borrowed = 0;
    for p in &hc.params {
        if let Some(l) = p.lifetime {
            return Err(Error::new_spanned(
                l,
                "guest memory is borrowed only for the call: leave the lifetime out",
            ));
        }
        match &p.kind {
            Kind::Context { mutable: false, .. } => return Err(Error::new_spanned(
                p.ty,
                "take the context mutably, as the first parameter: `cx: &mut HostContext<'_, T>`",
            )),
            Kind::Context { .. } => {
                return Err(Error::new_spanned(
                    p.ty,
                    "the context parameter must come first: `cx: &mut HostContext<'_, T>`",
                ))
            }
            Kind::Unsupported => {
                return Err(Error::new_spanned(
                    p.ty,
                    format!("unsupported #[hostcall] parameter type; {PARAMS}"),
                ))
            }
            Kind::Ref { elem, .. } | Kind::Slice { elem, .. }
                if last_ident(elem) == Some("String") =>
            {
                return Err(Error::new_spanned(
                    p.ty,
                    "text crosses as `&str` (borrowed from guest memory) or `String` (a copy): \
                     write one of those instead of a reference to a `String`",
                ))
            }
            Kind::Ref { elem, .. } | Kind::Slice { elem, .. }
                if last_ident(elem) == Some("Vec") =>
            {
                return Err(Error::new_spanned(
                    p.ty,
                    "a list crosses as `&[T]` / `&mut [T]` (borrowed from guest memory) or \
                     `Vec<T>` (a copy): write one of those instead of a reference to a `Vec`",
                ))
            }
            Kind::Str | Kind::Slice { .. } | Kind::Ref { .. } if hc.is_async() => {
                return Err(Error::new_spanned(
                    p.ty,
                    "an async #[hostcall] cannot borrow guest memory across `.await`: take \
                     `String` or `Vec<T>` (copied before the call) instead of `&str`, `&[T]`, \
                     `&mut [T]`, `&T` or `&mut T`",
                ))
            }
            Kind::Str | Kind::Slice { .. } | Kind::Ref { .. } => borrowed += 1,
            Kind::Scalar(_) | Kind::String | Kind::Vec { .. } => {}
        }
        if borrowed > MAX_BORROWED {
            return Err(Error::new_spanned(
                p.ty,
                format!("at most {MAX_BORROWED} parameters may borrow guest memory"),
            ));
        }
    }
    if let (true, Some(First::Context(_))) = (hc.is_async(), &hc.first) {
        if let Some(FnArg::Typed(first)) = sig.inputs.first() {
            return Err(Error::new_spanned(
                &first.ty,
                "an async #[hostcall] cannot take a HostContext (it borrows guest memory, \
                 which cannot live across `.await`): take the embedder data as `&mut T`",
            ));
        }
    }
    if let Return::Unsupported(ty) = &hc.ret {
        return Err(Error::new_spanned(
            ty,
            format!("unsupported #[hostcall] return type; {RETURNS}"),
        ));
    }
    Ok(())
}

/// The last segment of a path type (`String` for `std::string::String`).
fn last_ident(ty: &syn::Type) -> Option<&'static str> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?.ident.to_string();
    ["String", "Vec"].into_iter().find(|n| *n == last)
}
