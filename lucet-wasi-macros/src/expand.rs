//! The code `#[hostcall]` generates from a validated [`Hostcall`].
//!
//! For `fn put(kv: &mut Kv, key: &str) -> u32` in module `kv`:
//! - a hidden unit type `__lucet_wasi_hostcall_put` whose associated `call` is the
//!   original function, and a constant `put` of that type: `.hostcall(put)` takes it, and
//!   `put(..)` still calls the function (the type derefs to a fn pointer);
//! - `From<__lucet_wasi_hostcall_put> for lucet_wasi::Hostcall`, carrying a static
//!   signature and a link function that adds a `func_wrap` with the flattened wasm
//!   parameters (`key` → pointer, length) converting each through `GuestMemory`.

use crate::ast::{First, Hostcall, Kind, Return, Scalar};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};

impl Scalar {
    /// The wasm-side Rust type the closure receives.
    fn wasm(self) -> TokenStream {
        match self {
            Scalar::I32 => quote!(i32),
            Scalar::U32 => quote!(u32),
            Scalar::I64 => quote!(i64),
            Scalar::U64 => quote!(u64),
            Scalar::F32 => quote!(f32),
            Scalar::F64 => quote!(f64),
            Scalar::Bool => quote!(i32),
        }
    }

    fn variant(self) -> TokenStream {
        let v = match self {
            Scalar::I32 => "I32",
            Scalar::U32 => "U32",
            Scalar::I64 => "I64",
            Scalar::U64 => "U64",
            Scalar::F32 => "F32",
            Scalar::F64 => "F64",
            Scalar::Bool => "Bool",
        };
        let v = format_ident!("{v}");
        quote!(::lucet_wasi::__private_hostcall::Scalar::#v)
    }
}

pub fn hostcall(hc: &Hostcall<'_>) -> TokenStream {
    let item = hc.item;
    let vis = &item.vis;
    let ident = hc.ident;
    let hidden = format_ident!("__lucet_wasi_hostcall_{}", ident);
    let (module, name) = (&hc.module, &hc.name);
    let function = format!("{module}::{name}");
    let p = quote!(::lucet_wasi::__private_hostcall);
    let rust = rust_signature(&item.sig);

    let docs: Vec<_> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let doc_text = doc_text(&item.attrs);
    let attrs = &item.attrs;
    let sig = &item.sig;
    let block = &item.block;
    let inputs = &sig.inputs;
    let output = &sig.output;
    let mut call_sig = sig.clone();
    call_sig.ident = syn::Ident::new("call", ident.span());
    let arg_types: Vec<_> = inputs
        .iter()
        .map(|a| match a {
            syn::FnArg::Typed(t) => &*t.ty,
            syn::FnArg::Receiver(_) => unreachable!("receivers are refused by valid.rs"),
        })
        .collect();

    // The closure's wasm parameters, the conversions into Rust values, and the static
    // description of each guest-visible parameter.
    let mut wasm_params = Vec::new();
    // The same, as names and types apart (an async function takes them as a tuple).
    let mut wasm_names = Vec::new();
    // The wasm arguments one by one, for the trace of observed instances.
    let mut raw = Vec::new();
    let mut wasm_types = Vec::new();
    let mut copies = Vec::new();
    let mut borrows = Vec::new();
    let mut values = Vec::new();
    let mut described = Vec::new();
    for (i, param) in hc.params.iter().enumerate() {
        let v = format_ident!("__v{i}");
        let a = format_ident!("__a{i}");
        let n = format_ident!("__n{i}");
        let arg = &param.name;
        values.push(v.clone());
        let kind = match &param.kind {
            Kind::Scalar(s) => {
                let wasm = s.wasm();
                wasm_params.push(quote!(#a: #wasm));
                wasm_names.push(quote!(#a));
                raw.push(quote!(#a));
                wasm_types.push(wasm);
                copies.push(if *s == Scalar::Bool {
                    quote!(let #v = #a != 0;)
                } else {
                    quote!(let #v = #a;)
                });
                let s = s.variant();
                quote!(#p::ParamKind::Scalar(#s))
            }
            Kind::Str | Kind::String => {
                wasm_params.push(quote!(#a: u32, #n: u32));
                wasm_names.push(quote!(#a, #n));
                raw.push(quote!(#a));
                raw.push(quote!(#n));
                wasm_types.push(quote!(u32, u32));
                if matches!(param.kind, Kind::Str) {
                    borrows.push(quote!(let #v = __frame.memory.take_str(#arg, #a, #n)?;));
                } else {
                    copies.push(quote!(let #v = __frame.memory.copy_string(#arg, #a, #n)?;));
                }
                quote!(#p::ParamKind::Str)
            }
            Kind::Slice { elem, mutable } | Kind::Ref { elem, mutable } => {
                let is_slice = matches!(param.kind, Kind::Slice { .. });
                // The element type is named only as `<T as GuestType>`, so that one that
                // is not gets one error (the calls take the trait's witness, no bound).
                let w = quote!(<#elem as ::lucet_wasi::GuestType>::WITNESS);
                let take = match (is_slice, *mutable) {
                    (true, false) => quote!(take_slice(#arg, #a, #n, #w)),
                    (true, true) => quote!(take_slice_mut(#arg, #a, #n, #w)),
                    (false, false) => quote!(take_ref(#arg, #a, #w)),
                    (false, true) => quote!(take_mut(#arg, #a, #w)),
                };
                borrows.push(quote!(let #v = __frame.memory.#take?;));
                let described = if is_slice {
                    wasm_params.push(quote!(#a: u32, #n: u32));
                    wasm_names.push(quote!(#a, #n));
                    raw.push(quote!(#a));
                    raw.push(quote!(#n));
                    wasm_types.push(quote!(u32, u32));
                    quote!(Slice)
                } else {
                    wasm_params.push(quote!(#a: u32));
                    wasm_names.push(quote!(#a));
                    raw.push(quote!(#a));
                    wasm_types.push(quote!(u32));
                    quote!(Ptr)
                };
                quote!(#p::ParamKind::#described {
                    c: <#elem as ::lucet_wasi::GuestType>::C_NAME,
                    rust: <#elem as ::lucet_wasi::GuestType>::RUST_NAME,
                    mutable: #mutable,
                })
            }
            Kind::Vec { elem } => {
                wasm_params.push(quote!(#a: u32, #n: u32));
                wasm_names.push(quote!(#a, #n));
                raw.push(quote!(#a));
                raw.push(quote!(#n));
                wasm_types.push(quote!(u32, u32));
                let w = quote!(<#elem as ::lucet_wasi::GuestType>::WITNESS);
                copies.push(quote!(let #v = __frame.memory.copy_vec(#arg, #a, #n, #w)?;));
                quote!(#p::ParamKind::Slice {
                    c: <#elem as ::lucet_wasi::GuestType>::C_NAME,
                    rust: <#elem as ::lucet_wasi::GuestType>::RUST_NAME,
                    mutable: false,
                })
            }
            Kind::Context { .. } | Kind::Unsupported => {
                unreachable!("refused by valid.rs")
            }
        };
        described.push(quote!(#p::Param { name: #arg, kind: #kind }));
    }

    let (data_ty, takes_data, first_value) = match &hc.first {
        Some(First::Data(t)) => (
            quote!(#t),
            true,
            // A guard (a threaded instance's data is held for the call).
            Some(quote!(&mut *#p::data::<#t>(__frame.store)?)),
        ),
        Some(First::Context(t)) => (
            quote!(#t),
            true,
            Some(quote!(&mut #p::context::<#t>(__frame, #hidden::signature())?)),
        ),
        None => (quote!(()), false, None),
    };
    let first_arg = first_value.map(|f| quote!(#f,));

    let ret_ty = match output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, t) => quote!(#t),
    };
    let owned = matches!(hc.ret, Return::Owned);
    let returns = match hc.ret {
        Return::Unit | Return::Result(None) => quote!(#p::Returns::Nothing),
        Return::Scalar(s) | Return::Result(Some(s)) => {
            let s = s.variant();
            quote!(#p::Returns::Scalar(#s))
        }
        Return::Owned => quote!(<#ret_ty as #p::HostOwned>::RETURNS),
        Return::Unsupported(_) => unreachable!("refused by valid.rs"),
    };
    if owned {
        // The return area, a last parameter.
        wasm_params.push(quote!(__ret: u32));
        wasm_names.push(quote!(__ret));
        raw.push(quote!(__ret));
        wasm_types.push(quote!(u32));
    }
    let frame_binding = if hc.params.iter().any(|p| !matches!(p.kind, Kind::Scalar(_)))
        || matches!(hc.first, Some(First::Context(_)))
    {
        quote!(mut __frame)
    } else {
        quote!(__frame)
    };
    // The body of a sync call, given its frame: the arguments converted, the call.
    let call = quote!(#hidden::call(#first_arg #(#values),*));
    let body = if owned {
        quote!(#(#copies)* #(#borrows)* ::core::result::Result::Ok(#call))
    } else {
        quote!(#(#copies)* #(#borrows)* #p::HostReturn::into_wasm(#call))
    };
    let wasm_ret = if owned {
        quote!(<#ret_ty as #p::HostOwned>::Wasm)
    } else {
        quote!(<#ret_ty as #p::HostReturn>::Wasm)
    };
    let link = if hc.is_async() {
        let data_arg = match &hc.first {
            Some(First::Data(t)) => {
                Some(quote!(#p::data_async::<#t>(&mut __caller, #hidden::signature())?,))
            }
            _ => None,
        };
        let call = quote!(#hidden::call(#data_arg #(#values),*));
        let finish = if owned {
            quote! {
                let __items = #p::finish_owned::<#ret_ty>(#hidden::signature(), #call).await?;
                #p::place_async::<_, #ret_ty>(&mut __caller, #hidden::signature(), __ret, __items)
                    .await
            }
        } else {
            quote!(#p::finish(#hidden::signature(), #call).await)
        };
        let check =
            owned.then(|| quote!(#p::return_area(&mut __caller, #hidden::signature(), __ret)?;));
        quote! {
            ::lucet_wasi::__hostcall_async_link! {
            linker.func_wrap_async(
                #module,
                #name,
                |mut __caller: #p::HostCaller<'_>, (#(#wasm_names,)*): (#(#wasm_types,)*)| {
                    ::std::boxed::Box::new(async move {
                        #check
                        // Copied out of guest memory before the first `.await`.
                        let (#(#values,)*) =
                            #p::enter(&mut __caller, #hidden::signature(), |#frame_binding| {
                                #(#copies)*
                                ::core::result::Result::Ok((#(#values,)*))
                            })?;
                        #finish
                    })
                },
            )?;
            }
        }
    } else {
        let (run, run_observed) = if owned {
            (
                quote!(#p::owned::<_, #ret_ty>(&mut __caller, #hidden::signature(), __ret, |#frame_binding| { #body })),
                quote!(#p::owned_observed::<_, #ret_ty, _>(
                    &mut __caller,
                    #hidden::signature(),
                    [#(#p::raw(#raw)),*],
                    __ret,
                    |#frame_binding| { #body },
                )),
            )
        } else {
            (
                quote!(#p::enter(&mut __caller, #hidden::signature(), |#frame_binding| { #body })),
                quote!(#p::enter_observed(
                    &mut __caller,
                    #hidden::signature(),
                    [#(#p::raw(#raw)),*],
                    |#frame_binding| { #body },
                )),
            )
        };
        // In an async instance, the guest's allocator is called async.
        let for_async = owned.then(|| {
            quote! {
                ::lucet_wasi::__hostcall_if_async! {
                if mode.asynchronous {
                    linker.func_wrap_async(
                        #module,
                        #name,
                        |mut __caller: #p::HostCaller<'_>, (#(#wasm_names,)*): (#(#wasm_types,)*)| {
                            ::std::boxed::Box::new(async move {
                                #p::owned_async::<_, #ret_ty>(
                                    &mut __caller,
                                    #hidden::signature(),
                                    __ret,
                                    |#frame_binding| { #body },
                                )
                                .await
                            })
                        },
                    )?;
                    return ::core::result::Result::Ok(());
                }
                }
            }
        });
        quote! {
            #for_async
            if mode.observed {
                // Counted and traced: the arguments' bits go to the observer.
                linker.func_wrap(
                    #module,
                    #name,
                    |mut __caller: #p::HostCaller<'_>, #(#wasm_params),*| -> #p::WasmResult<#wasm_ret> {
                        #run_observed
                    },
                )?;
                return ::core::result::Result::Ok(());
            }
            linker.func_wrap(
                #module,
                #name,
                |mut __caller: #p::HostCaller<'_>, #(#wasm_params),*| -> #p::WasmResult<#wasm_ret> {
                    #run
                },
            )?;
        }
    };
    // An async fn is no fn pointer: it is called from Rust through its type.
    let deref = (!hc.is_async()).then(|| {
        quote! {
            impl ::core::ops::Deref for #hidden {
                type Target = fn(#(#arg_types),*) #output;
                fn deref(&self) -> &Self::Target {
                    const CALL: fn(#(#arg_types),*) #output = #hidden::call;
                    &CALL
                }
            }
        }
    });
    let constructor = if hc.is_async() {
        quote!(hostcall_async)
    } else {
        quote!(hostcall)
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug)]
        #vis struct #hidden;

        #(#docs)*
        #[allow(non_upper_case_globals)]
        #vis const #ident: #hidden = #hidden;

        impl #hidden {
            #(#attrs)*
            #[allow(clippy::too_many_arguments)]
            #vis #call_sig #block

            /// The import's module and name.
            #[allow(dead_code)]
            #vis const fn import(&self) -> (&'static str, &'static str) {
                (#module, #name)
            }

            fn signature() -> &'static #p::Signature {
                static SIGNATURE: #p::Signature = #p::Signature {
                    module: #module,
                    name: #name,
                    function: #function,
                    rust: #rust,
                    doc: #doc_text,
                    params: &[#(#described),*],
                    returns: #returns,
                };
                &SIGNATURE
            }

            #[allow(unused_variables)]
            fn link(linker: &mut #p::HostLinker, mode: #p::LinkMode) -> #p::WasmResult<()> {
                #link
                ::core::result::Result::Ok(())
            }

            const LINK: #p::HostLinkFn = #hidden::link;
        }

        #deref

        impl ::core::convert::From<#hidden> for ::lucet_wasi::Hostcall {
            fn from(_: #hidden) -> ::lucet_wasi::Hostcall {
                #p::#constructor::<#data_ty>(#hidden::signature(), &#hidden::LINK, #takes_data)
            }
        }
    }
}

/// The Rust signature as messages show it: `kv_get(key: &str, out: &mut [u8]) -> i32`.
fn rust_signature(sig: &syn::Signature) -> String {
    let params: Vec<String> = sig
        .inputs
        .iter()
        .map(|a| tidy(&a.to_token_stream().to_string()))
        .collect();
    let output = match &sig.output {
        syn::ReturnType::Default => String::new(),
        syn::ReturnType::Type(_, ty) => format!(" -> {}", tidy(&ty.to_token_stream().to_string())),
    };
    format!("{}({}){output}", sig.ident, params.join(", "))
}

/// Token-stream text as people write it (`& mut [u8]` → `&mut [u8]`).
fn tidy(s: &str) -> String {
    s.replace("& ", "&")
        .replace(" :", ":")
        .replace(" ,", ",")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace("' _", "'_")
}

/// The `///` lines of a function, one per line, without their leading space.
fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &a.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                let v = s.value();
                lines.push(v.strip_prefix(' ').unwrap_or(&v).to_string());
            }
        }
    }
    lines.join("\n")
}
