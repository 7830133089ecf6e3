//! Heap, address-space and stack limits, and their validation.

use crate::error::LimitRule;
use crate::size::UNITS;
use crate::{Bytes, Error, GiB, MiB};
use std::str::FromStr;

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
/// let limits = Limits::default().max_heap(GiB(2));
/// assert!(limits.validate().is_ok());
/// assert_eq!(Limits::default().stack, MiB(8).into());
/// let bad = Limits::default().max_heap(3000);
/// assert_eq!(bad.validate().unwrap_err().to_string(), "max heap size 3000 bytes: not a multiple of 4 KiB");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum linear memory (default 4 GiB).
    pub max_heap: Bytes,
    /// Reserved address space per linear memory (default 8 GiB).
    pub heap_address_space: Bytes,
    /// Maximum wasm stack (default 8 MiB).
    pub stack: Bytes,
}

/// The granularity of every limit.
pub(crate) const PAGE: u64 = 4096;
/// The largest stack we run a guest with: the host thread must be able to hold it.
pub(crate) const MAX_STACK: Bytes = Bytes(1 << 30);

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
    /// Sets [`max_heap`](Self::max_heap).
    pub fn max_heap(mut self, size: impl Into<Bytes>) -> Self {
        self.max_heap = size.into();
        self
    }

    /// Sets [`heap_address_space`](Self::heap_address_space).
    pub fn heap_address_space(mut self, size: impl Into<Bytes>) -> Self {
        self.heap_address_space = size.into();
        self
    }

    /// Sets the maximum wasm [`stack`](Self::stack).
    pub fn stack(mut self, size: impl Into<Bytes>) -> Self {
        self.stack = size.into();
        self
    }

    /// Checks every limit; the error names the limit, its value and the rule broken.
    pub fn validate(&self) -> Result<(), Error> {
        check_size("max heap size", self.max_heap)?;
        check_size("heap address space", self.heap_address_space)?;
        check_stack(self.stack)?;
        if self.max_heap > self.heap_address_space {
            return Err(invalid(
                "max heap size",
                self.max_heap,
                LimitRule::AboveAddressSpace {
                    address_space: self.heap_address_space,
                },
            ));
        }
        Ok(())
    }
}

/// Checks the 4 KiB granularity of one size.
pub(crate) fn check_size(what: &'static str, size: Bytes) -> Result<(), Error> {
    if !size.0.is_multiple_of(PAGE) {
        return Err(invalid(what, size, LimitRule::NotPageMultiple));
    }
    Ok(())
}

/// Checks a wasm stack size: 4 KiB granularity, not zero, at most [`MAX_STACK`].
pub(crate) fn check_stack(stack: Bytes) -> Result<(), Error> {
    check_size("stack size", stack)?;
    if stack.0 == 0 {
        return Err(invalid("stack size", stack, LimitRule::Zero));
    }
    if stack > MAX_STACK {
        return Err(invalid(
            "stack size",
            stack,
            LimitRule::AboveMaximum { max: MAX_STACK },
        ));
    }
    Ok(())
}

fn invalid(what: &'static str, value: Bytes, rule: LimitRule) -> Error {
    Error::InvalidLimit { what, value, rule }
}

impl FromStr for Bytes {
    type Err = Error;

    /// Parses `2GiB`, `2 GiB`, `512MiB`, `64KiB`, `1GB` or `4096` (bytes).
    fn from_str(s: &str) -> Result<Bytes, Error> {
        let bad = |reason: &'static str| Error::InvalidSize {
            input: s.to_string(),
            reason,
        };
        let t = s.trim();
        let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        if digits == 0 {
            return Err(bad("expected a whole number of bytes, optionally with a unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB)"));
        }
        let number: u64 = t[..digits].parse().map_err(|_| bad("number too large"))?;
        let unit = t[digits..].trim_start().to_ascii_lowercase();
        let factor = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                bad("unknown unit (expected KiB, MiB, GiB, TiB, KB, MB, GB, TB or none for bytes)")
            })?;
        number
            .checked_mul(factor)
            .map(Bytes)
            .ok_or_else(|| bad("size too large"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        let cases = [
            ("2GiB", 2 << 30),
            ("2 GiB", 2 << 30),
            ("  2   gib ", 2 << 30),
            ("512MiB", 512 << 20),
            ("64KiB", 64 << 10),
            ("64kib", 64 << 10),
            ("1TiB", 1 << 40),
            ("4096", 4096),
            ("4096B", 4096),
            ("1KB", 1_000),
            ("3 MB", 3_000_000),
            ("2gb", 2_000_000_000),
            ("0", 0),
        ];
        for (text, bytes) in cases {
            assert_eq!(text.parse::<Bytes>().unwrap(), Bytes(bytes), "{text}");
        }
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        for (text, reason) in [
            ("", "expected a whole number"),
            ("GiB", "expected a whole number"),
            ("-1GiB", "expected a whole number"),
            ("1.5GiB", "unknown unit"),
            ("2 parsecs", "unknown unit"),
            ("2 GiB extra", "unknown unit"),
            ("99999999999999999999", "number too large"),
            ("20000000 TiB", "size too large"),
        ] {
            let err = text.parse::<Bytes>().unwrap_err().to_string();
            assert!(err.contains(reason), "{text:?}: {err}");
            assert!(err.contains(&format!("{text:?}")), "{text:?}: {err}");
        }
    }
}
