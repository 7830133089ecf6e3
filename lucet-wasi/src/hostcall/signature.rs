//! The guest-side signature of a host function, for bindings and messages.

/// A host function's guest-side signature (the ABI `#[hostcall]` documents), described for the
/// generated bindings and error messages. Built by the attribute.
#[doc(hidden)]
#[derive(Debug)]
pub struct Signature {
    /// Import module.
    pub module: &'static str,
    /// Import name.
    pub name: &'static str,
    /// `module::name`, as errors name it.
    pub function: &'static str,
    /// The Rust function's signature, as messages show it.
    pub rust: &'static str,
    /// Its doc comment (the `///` lines), copied into the guest bindings.
    pub doc: &'static str,
    /// The guest-visible parameters, in order (the data or context parameter excluded).
    pub params: &'static [Param],
    /// What it returns.
    pub returns: Returns,
}

/// What a host function returns to the guest.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Returns {
    /// Nothing.
    Nothing,
    /// One wasm value.
    Scalar(Scalar),
    /// An owned list or string (`Vec<T>`, `String`, or either in an `Option`): placed in
    /// memory the guest's `cabi_realloc` allocates, its pointer and length written to a
    /// return area the guest passes as a last parameter. An optional one also returns
    /// whether it is there (an `i32`, 0 or 1).
    Owned {
        /// What it holds.
        elem: Owned,
        /// Whether it is an `Option`.
        optional: bool,
    },
}

impl Returns {
    /// The scalar result, if it is one.
    pub fn scalar(self) -> Option<Scalar> {
        match self {
            Returns::Scalar(s) => Some(s),
            Returns::Owned { optional: true, .. } => Some(Scalar::Bool),
            _ => None,
        }
    }
}

/// What an owned result holds.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Owned {
    /// UTF-8 text (`String`): pointer and byte length.
    Str,
    /// A list (`Vec<T>`): pointer and element count.
    List {
        /// Element type name in C.
        c: &'static str,
        /// Element type name in Rust.
        rust: &'static str,
    },
}

/// One guest-visible parameter.
#[doc(hidden)]
#[derive(Debug)]
pub struct Param {
    /// The Rust parameter's name.
    pub name: &'static str,
    /// How it crosses the ABI.
    pub kind: ParamKind,
}

/// How a parameter crosses the ABI.
#[doc(hidden)]
#[derive(Debug)]
pub enum ParamKind {
    /// One wasm value.
    Scalar(Scalar),
    /// `&str` or `String`: pointer and byte length.
    Str,
    /// `&[T]`, `&mut [T]` or `Vec<T>`: pointer and element count.
    Slice {
        /// Element type name in C.
        c: &'static str,
        /// Element type name in Rust.
        rust: &'static str,
        /// Whether the host writes it.
        mutable: bool,
    },
    /// `&T` or `&mut T`: one pointer.
    Ptr {
        /// Pointee type name in C.
        c: &'static str,
        /// Pointee type name in Rust.
        rust: &'static str,
        /// Whether the host writes it.
        mutable: bool,
    },
}

/// A scalar parameter or result type.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Scalar {
    /// `i32`
    I32,
    /// `u32`
    U32,
    /// `i64`
    I64,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `bool` (an `i32`: 0 or 1 out, non-zero in is true)
    Bool,
}
