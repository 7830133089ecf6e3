//! [`HostcallError`]: why a host function failed.

/// Why a host function failed: the `cause` of [`Error::HostFunction`](crate::Error::HostFunction).
///
/// A host function can also return it (or any error) itself: `?` on the
/// [`GuestMemory`](crate::GuestMemory) accessors ends the call with their cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostcallError {
    /// A guest pointer and length reach past the end of guest memory (or overflow).
    #[error("{}guest range {ptr:#x}+{len} is outside the guest's {memory}-byte memory", arg_prefix(*.arg))]
    OutOfBounds {
        /// The argument it was passed as (`None` for an access through the context).
        arg: Option<&'static str>,
        /// The guest pointer.
        ptr: u32,
        /// The length in bytes.
        len: u64,
        /// The memory's size in bytes.
        memory: usize,
    },
    /// A typed guest pointer is not aligned for its type.
    #[error("{}guest pointer {ptr:#x} is not {align}-byte aligned", arg_prefix(*.arg))]
    Misaligned {
        /// The argument it was passed as.
        arg: Option<&'static str>,
        /// The guest pointer.
        ptr: u32,
        /// The alignment its type needs.
        align: usize,
    },
    /// A guest string is not UTF-8.
    #[error("{}guest string at {ptr:#x} is not UTF-8 (valid up to byte {valid_up_to})", arg_prefix(*.arg))]
    NotUtf8 {
        /// The argument it was passed as.
        arg: Option<&'static str>,
        /// The guest pointer.
        ptr: u32,
        /// How many leading bytes are valid.
        valid_up_to: usize,
    },
    /// Two borrows of guest memory overlap where one of them is written: Rust
    /// references may not alias, so the call is refused rather than copied.
    #[error("{}overlaps argument `{other}` in guest memory, and one of them is mutable", arg_prefix(*.arg))]
    Overlap {
        /// The argument refused (`None` for an access through the context).
        arg: Option<&'static str>,
        /// The argument it overlaps.
        other: &'static str,
    },
    /// More arguments borrow guest memory at once than the checks can track: a function
    /// takes at most this many borrowed arguments (`&str`, `&[T]`, `&T`, ...).
    #[error("{}more than {max} borrowed arguments in one call", arg_prefix(Some(*.arg)))]
    TooManyBorrows {
        /// The argument refused.
        arg: &'static str,
        /// The most borrows one call may hold.
        max: usize,
    },
    /// The function reads guest memory, but the guest exports no `memory`.
    #[error("the guest exports no memory")]
    NoMemory,
    /// The function returns an owned value, but the guest exports no allocator to place
    /// it with: `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr` (the generated
    /// bindings define one). Linking checks for it first, so this is rare.
    #[error("returns an owned value, but the guest exports no `cabi_realloc(i32, i32, i32, i32) -> i32` to place it with")]
    NoAllocator,
    /// The guest's allocator could not give the bytes an owned result needs: it returned
    /// 0, or the result is larger than a 32-bit memory can hold.
    #[error(
        "the guest's `cabi_realloc` could not allocate {size} bytes (align {align}) for the result"
    )]
    AllocFailed {
        /// The bytes asked for.
        size: u64,
        /// Their alignment.
        align: u32,
    },
    /// The guest's allocator returned memory the result cannot be placed in: outside the
    /// guest's memory, or misaligned.
    #[error("the guest's `cabi_realloc` returned {ptr:#x} for {size} bytes (align {align}), which is not an aligned range of the guest's {memory}-byte memory")]
    BadAllocation {
        /// What it returned.
        ptr: u32,
        /// The bytes asked for.
        size: u32,
        /// Their alignment.
        align: u32,
        /// The memory's size in bytes.
        memory: usize,
    },
    /// The instance's embedder data is not of the type the function takes.
    #[error("needs embedder data of type `{expected}`, but the instance was given `{found}` (set it with `.data(...)`)")]
    WrongData {
        /// The type the function takes.
        expected: &'static str,
        /// The type given to the builder (`()` when none was).
        found: &'static str,
    },
    /// The function panicked. The panic was caught, so that only this instance ends,
    /// but it first went through the process's panic hook (which prints it, by
    /// default, or aborts under `panic = "abort"`).
    #[error("panicked: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },
    /// The function returned `Err`; the original error, downcastable with
    /// [`downcast_ref`](Self::downcast_ref), and the [`source`](std::error::Error::source)
    /// of this one (the message is its message).
    #[error("{0}")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl HostcallError {
    /// The error a host function returned, if it is an `E`.
    ///
    /// ```
    /// use lucet_wasi::HostcallError;
    /// let e = HostcallError::Failed(Box::new(std::fmt::Error));
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            HostcallError::Failed(e) => e.downcast_ref(),
            _ => None,
        }
    }

    /// Wraps what a host function returned; a `HostcallError` it passed on stays itself.
    pub(crate) fn returned(e: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        match e.downcast::<HostcallError>() {
            Ok(own) => *own,
            Err(other) => HostcallError::Failed(other),
        }
    }
}

fn arg_prefix(arg: Option<&'static str>) -> String {
    arg.map(|a| format!("argument `{a}`: ")).unwrap_or_default()
}
