//! The `#[lucet_wasi::hostcall]` attribute, `#[derive(lucet_wasi::GuestType)]` and
//! `lucet_wasi::hostcalls!`. Use them through `lucet_wasi`, which documents them.
//!
//! Each is written as parse (`ast.rs`, `attr.rs`) → validate with spans (`valid.rs`) →
//! expand (`expand.rs`, `derive.rs`, `set.rs`).

mod ast;
mod attr;
mod derive;
mod expand;
mod set;
mod valid;

use proc_macro::TokenStream;

/// Turns a `fn` into a host function the guest imports beside WASI. See `lucet_wasi::hostcall`.
#[proc_macro_attribute]
pub fn hostcall(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(input as syn::ItemFn);
    attr::parse(args.into())
        .and_then(|attrs| ast::Hostcall::parse(&item, attrs))
        .and_then(|hc| valid::check(&hc).map(|()| expand::hostcall(&hc)))
        .unwrap_or_else(|e| {
            // Keep the function, so its own uses do not add errors of their own.
            let mut out = e.to_compile_error();
            out.extend(quote::quote!(#[allow(dead_code)] #item));
            out
        })
        .into()
}

/// Marks a `#[repr(C)]` struct of plain data as readable and writable in guest memory.
/// See `lucet_wasi::GuestType`.
#[proc_macro_derive(GuestType)]
pub fn derive_guest_type(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::guest_type(&input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// A `HostcallSet` of `#[hostcall]` functions, refusing duplicate imports at compile
/// time. See `lucet_wasi::hostcalls!`.
#[proc_macro]
pub fn hostcalls(input: TokenStream) -> TokenStream {
    set::hostcalls(input.into())
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}
