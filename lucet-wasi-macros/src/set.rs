//! `hostcalls![a, b, ...]`: a `HostcallSet` whose imports are checked for duplicates at
//! compile time.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Error, Path, Token};

pub fn hostcalls(input: TokenStream) -> syn::Result<TokenStream> {
    let paths = Punctuated::<Path, Token![,]>::parse_terminated.parse2(input)?;
    let paths: Vec<&Path> = paths.iter().collect();
    let mut checks = Vec::new();
    for (i, b) in paths.iter().enumerate() {
        for a in &paths[..i] {
            let (sa, sb) = (name(a), name(b));
            if sa == sb {
                return Err(Error::new_spanned(
                    b,
                    format!("`{sb}` is in this set twice"),
                ));
            }
            let before = format!("host functions `{sa}` and `{sb}` are both imported as `");
            let after = "`: give one another name with #[hostcall(name = \"...\")]";
            checks.push(quote_spanned! {b.span()=>
                if ::lucet_wasi::__private_hostcall::same_import(#a.import(), #b.import()) {
                    const MESSAGE: ::lucet_wasi::__private_hostcall::ConstMessage =
                        ::lucet_wasi::__private_hostcall::ConstMessage::join(&[
                            #before, #b.import().0, "::", #b.import().1, #after,
                        ]);
                    ::core::panic!("{}", MESSAGE.as_str());
                }
            });
        }
    }
    Ok(quote! {{
        const _: () = { #(#checks)* };
        ::lucet_wasi::HostcallSet::new() #(.with(#paths))*
    }})
}

fn name(p: &Path) -> String {
    p.to_token_stream().to_string().replace(' ', "")
}
