//! Heap, address-space and stack limits, and their validation.

use crate::{Bytes, Error, GiB, KiB, MiB};

/// The resource limits of a guest.
///
/// * `max_heap` caps linear-memory growth: `memory.grow` beyond it fails (the guest's
///   allocator sees out-of-memory); a module whose initial memory exceeds it is refused.
/// * `heap_address_space` is the virtual address space reserved for a linear memory.
/// * `stack` bounds the wasm stack: deeper recursion traps.
///
/// Each is a multiple of 4 KiB, and `max_heap <= heap_address_space`.
///
/// ```
/// use lucet_wasi::{Limits, GiB, MiB};
/// let limits = Limits { max_heap: GiB(2).into(), ..Limits::default() };
/// assert!(limits.validate().is_ok());
/// assert_eq!(Limits::default().stack, MiB(8).into());
/// let bad = Limits { max_heap: 3000.into(), ..Limits::default() };
/// assert_eq!(bad.validate().unwrap_err().to_string(), "max heap size 3000 bytes: not a multiple of 4 KiB");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Maximum linear memory (default 4 GiB).
    pub max_heap: Bytes,
    /// Reserved address space per linear memory (default 8 GiB).
    pub heap_address_space: Bytes,
    /// Maximum wasm stack (default 8 MiB).
    pub stack: Bytes,
}

/// The granularity of every limit.
pub const PAGE: u64 = 4096;
/// The largest stack we run a guest with: the host thread must be able to hold it.
pub const MAX_STACK: Bytes = Bytes(1 << 30);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_heap: GiB(4).into(),
            heap_address_space: GiB(8).into(),
            stack: MiB(8).into(),
        }
    }
}

impl Limits {
    /// Checks every limit; the error names the limit, its value and the rule broken.
    pub fn validate(&self) -> Result<(), Error> {
        check_size("max heap size", self.max_heap)?;
        check_size("heap address space", self.heap_address_space)?;
        check_size("stack size", self.stack)?;
        if self.stack.0 == 0 {
            return Err(invalid("stack size", self.stack, "must not be zero".into()));
        }
        if self.stack > MAX_STACK {
            return Err(invalid(
                "stack size",
                self.stack,
                format!("larger than the maximum of {MAX_STACK}"),
            ));
        }
        if self.max_heap > self.heap_address_space {
            return Err(invalid(
                "max heap size",
                self.max_heap,
                format!(
                    "larger than the heap address space ({})",
                    self.heap_address_space
                ),
            ));
        }
        Ok(())
    }
}

/// Checks the 4 KiB granularity of one size.
pub fn check_size(what: &'static str, size: Bytes) -> Result<(), Error> {
    if !size.0.is_multiple_of(PAGE) {
        return Err(invalid(what, size, format!("not a multiple of {}", KiB(4))));
    }
    Ok(())
}

/// Checks a wasm stack size: 4 KiB granularity, not zero, at most [`MAX_STACK`].
pub(crate) fn check_stack(stack: Bytes) -> Result<(), Error> {
    check_size("stack size", stack)?;
    if stack.0 == 0 {
        return Err(invalid("stack size", stack, "must not be zero".into()));
    }
    if stack > MAX_STACK {
        return Err(invalid(
            "stack size",
            stack,
            format!("larger than the maximum of {MAX_STACK}"),
        ));
    }
    Ok(())
}

fn invalid(what: &'static str, value: Bytes, reason: String) -> Error {
    Error::InvalidLimit {
        what,
        value,
        reason,
    }
}
