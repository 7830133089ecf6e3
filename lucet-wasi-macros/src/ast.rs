//! The parsed model of a `#[hostcall]` function: each parameter classified by how it
//! crosses the guest ABI. Anything unclassifiable is kept, for `valid.rs` to report.

use crate::attr::Attrs;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Lifetime, Pat, PathArguments, ReturnType, Type};

/// The wasm scalar types a parameter or result may have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    Bool,
}

impl Scalar {
    fn of(ty: &Type) -> Option<Scalar> {
        let Type::Path(p) = ty else { return None };
        if p.qself.is_some() {
            return None;
        }
        let ident = p.path.get_ident()?;
        Some(match ident.to_string().as_str() {
            "i32" => Scalar::I32,
            "u32" => Scalar::U32,
            "i64" => Scalar::I64,
            "u64" => Scalar::U64,
            "f32" => Scalar::F32,
            "f64" => Scalar::F64,
            "bool" => Scalar::Bool,
            _ => return None,
        })
    }
}

/// How one parameter crosses the ABI.
pub enum Kind {
    Scalar(Scalar),
    /// `&str`: pointer, length; borrowed.
    Str,
    /// `String`: pointer, length; copied.
    String,
    /// `&[T]` / `&mut [T]`: pointer, count; borrowed.
    Slice {
        elem: Type,
        mutable: bool,
    },
    /// `Vec<T>`: pointer, count; copied.
    Vec {
        elem: Type,
    },
    /// `&T` / `&mut T`: pointer; borrowed.
    Ref {
        elem: Type,
        mutable: bool,
    },
    /// `&mut HostContext<'_, T>` (`mutable` false for a `&HostContext`, an error).
    Context {
        data: Type,
        mutable: bool,
    },
    /// Anything else.
    Unsupported,
}

pub struct Param<'a> {
    /// The name used in messages and bindings.
    pub name: String,
    pub ty: &'a Type,
    pub kind: Kind,
    /// A named lifetime on the reference (`&'a str`), an error.
    pub lifetime: Option<&'a Lifetime>,
}

/// What the optional first parameter gives the function.
pub enum First {
    /// `&mut T`: the embedder data.
    Data(Type),
    /// `&mut HostContext<'_, T>`.
    Context(Type),
}

pub enum Return {
    Unit,
    Scalar(Scalar),
    /// `Result<(), E>` or `Result<scalar, E>` (any path ending in `Result`).
    Result(Option<Scalar>),
    /// `Vec<T>`, `String`, an `Option` of either, or a `Result` of one of those: placed in
    /// guest memory (the runtime's `HostOwned` takes it from there).
    Owned,
    Unsupported(Box<Type>),
}

pub struct Hostcall<'a> {
    pub item: &'a ItemFn,
    pub ident: &'a Ident,
    pub module: String,
    pub name: String,
    pub first: Option<First>,
    /// The guest-visible parameters (the first one excluded if it is data or context).
    pub params: Vec<Param<'a>>,
    pub ret: Return,
}

impl<'a> Hostcall<'a> {
    /// Whether it is an `async fn`.
    pub fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }

    pub fn parse(item: &'a ItemFn, attrs: Attrs) -> syn::Result<Hostcall<'a>> {
        let ident = &item.sig.ident;
        let mut params = Vec::new();
        for (i, arg) in item.sig.inputs.iter().enumerate() {
            // A receiver is reported by valid.rs.
            let FnArg::Typed(pt) = arg else { continue };
            let name = match &*pt.pat {
                Pat::Ident(p) => p.ident.to_string().trim_start_matches("r#").to_string(),
                _ => format!("arg{i}"),
            };
            let (kind, lifetime) = classify(&pt.ty);
            params.push(Param {
                name,
                ty: &pt.ty,
                kind,
                lifetime,
            });
        }
        let first = match params.first().map(|p| &p.kind) {
            Some(Kind::Context {
                data,
                mutable: true,
            }) => Some(First::Context(data.clone())),
            Some(Kind::Ref {
                elem,
                mutable: true,
            }) => Some(First::Data(elem.clone())),
            _ => None,
        };
        if first.is_some() {
            params.remove(0);
        }
        let ret = match &item.sig.output {
            ReturnType::Default => Return::Unit,
            ReturnType::Type(_, ty) => classify_return(ty),
        };
        Ok(Hostcall {
            item,
            ident,
            module: attrs.module.map_or_else(|| "env".into(), |m| m.value()),
            name: attrs.name.map_or_else(
                || ident.to_string().trim_start_matches("r#").to_string(),
                |n| n.value(),
            ),
            first,
            params,
            ret,
        })
    }
}

/// The last segment of a plain path type, with its generic arguments.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn type_args(seg: &syn::PathSegment) -> Vec<&Type> {
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn unit() -> Type {
    syn::parse_quote!(())
}

fn classify(ty: &Type) -> (Kind, Option<&Lifetime>) {
    if let Some(s) = Scalar::of(ty) {
        return (Kind::Scalar(s), None);
    }
    if let Type::Reference(r) = ty {
        let lifetime = r.lifetime.as_ref().filter(|l| l.ident != "_");
        let mutable = r.mutability.is_some();
        let kind = match &*r.elem {
            Type::Path(p) if p.path.is_ident("str") && !mutable => Kind::Str,
            Type::Slice(s) => Kind::Slice {
                elem: (*s.elem).clone(),
                mutable,
            },
            elem => match last_segment(elem) {
                Some(seg) if seg.ident == "HostContext" => Kind::Context {
                    data: type_args(seg).first().map_or_else(unit, |t| (*t).clone()),
                    mutable,
                },
                Some(_) if !matches!(elem, Type::Path(p) if p.path.is_ident("str")) => Kind::Ref {
                    elem: elem.clone(),
                    mutable,
                },
                _ => Kind::Unsupported,
            },
        };
        return (kind, lifetime);
    }
    let kind = match last_segment(ty) {
        Some(seg) if seg.ident == "String" && seg.arguments.is_empty() => Kind::String,
        Some(seg) if seg.ident == "Vec" => match type_args(seg).as_slice() {
            [elem] => Kind::Vec {
                elem: (*elem).clone(),
            },
            _ => Kind::Unsupported,
        },
        _ => Kind::Unsupported,
    };
    (kind, None)
}

fn classify_return(ty: &Type) -> Return {
    if matches!(ty, Type::Tuple(t) if t.elems.is_empty()) {
        return Return::Unit;
    }
    if let Some(s) = Scalar::of(ty) {
        return Return::Scalar(s);
    }
    if is_owned(ty, true) {
        return Return::Owned;
    }
    if let Some(seg) = last_segment(ty) {
        if seg.ident == "Result" {
            match type_args(seg).first() {
                Some(Type::Tuple(t)) if t.elems.is_empty() => return Return::Result(None),
                Some(ok) => {
                    if let Some(s) = Scalar::of(ok) {
                        return Return::Result(Some(s));
                    }
                    if is_owned(ok, true) {
                        return Return::Owned;
                    }
                }
                None => {}
            }
        }
    }
    Return::Unsupported(Box::new(ty.clone()))
}

/// `Vec<_>`, `String`, or (if `option`) an `Option` of either.
fn is_owned(ty: &Type, option: bool) -> bool {
    match last_segment(ty) {
        Some(seg) if seg.ident == "String" => seg.arguments.is_empty(),
        Some(seg) if seg.ident == "Vec" => type_args(seg).len() == 1,
        Some(seg) if option && seg.ident == "Option" => {
            matches!(type_args(seg).as_slice(), [inner] if is_owned(inner, false))
        }
        _ => false,
    }
}
