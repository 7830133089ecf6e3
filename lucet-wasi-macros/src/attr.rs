//! The attribute's arguments: `#[hostcall(module = "kv", name = "put")]`.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Error, LitStr, Meta, Token};

/// What the attribute says; `None` means the default.
#[derive(Default)]
pub struct Attrs {
    pub module: Option<LitStr>,
    pub name: Option<LitStr>,
}

pub fn parse(args: TokenStream) -> syn::Result<Attrs> {
    let metas = syn::punctuated::Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut attrs = Attrs::default();
    for meta in metas {
        let Meta::NameValue(nv) = &meta else {
            return Err(Error::new_spanned(
                &meta,
                "expected `module = \"...\"` or `name = \"...\"`",
            ));
        };
        let slot = if nv.path.is_ident("module") {
            &mut attrs.module
        } else if nv.path.is_ident("name") {
            &mut attrs.name
        } else {
            return Err(Error::new_spanned(
                &nv.path,
                "unknown #[hostcall] argument; expected `module = \"...\"` or `name = \"...\"`",
            ));
        };
        if slot.is_some() {
            return Err(Error::new_spanned(&nv.path, "this argument is given twice"));
        }
        let value = match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => s.clone(),
            other => return Err(Error::new_spanned(other, "expected a string literal")),
        };
        if value.value().is_empty() {
            return Err(Error::new_spanned(&value, "an import name cannot be empty"));
        }
        *slot = Some(value);
    }
    Ok(attrs)
}
