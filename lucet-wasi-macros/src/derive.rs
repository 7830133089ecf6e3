//! `#[derive(GuestType)]`: plain `#[repr(C)]` structs readable and writable in guest
//! memory as they are.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error};

pub fn guest_type(input: &DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(Error::new_spanned(
            ident,
            "GuestType can only be derived for structs (enums and unions have invalid bit patterns)",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &input.generics,
            "GuestType cannot be derived for a generic struct",
        ));
    }
    let repr_c = input.attrs.iter().any(|a| {
        a.path().is_ident("repr")
            && a.parse_nested_meta(|m| {
                if m.path.is_ident("C") || m.path.is_ident("transparent") {
                    Ok(())
                } else {
                    Err(m.error("other repr"))
                }
            })
            .is_ok()
    });
    if !repr_c {
        return Err(Error::new_spanned(
            ident,
            "GuestType needs a fixed layout: add #[repr(C)] to the struct",
        ));
    }
    let types: Vec<_> = data.fields.iter().map(|f| &f.ty).collect();
    let checks = types.iter().map(
        |t| quote_spanned!(t.span()=> ::lucet_wasi::__private_hostcall::assert_guest_type::<#t>();),
    );
    let c_name = format!("struct {ident}");
    let rust_name = ident.to_string();
    let padding = format!(
        "`{ident}` has padding between or after its fields: reorder them, or add explicit \
         padding fields, so that every byte is a field"
    );
    Ok(quote! {
        // SAFETY: #[repr(C)], every field is a GuestType, and there is no padding (both
        // checked below at compile time).
        unsafe impl ::lucet_wasi::GuestType for #ident {
            const C_NAME: &'static str = #c_name;
            const RUST_NAME: &'static str = #rust_name;
        }
        const _: () = {
            #(#checks)*
            assert!(
                ::core::mem::size_of::<#ident>() == 0 #(+ ::core::mem::size_of::<#types>())*,
                #padding
            );
        };
    })
}
