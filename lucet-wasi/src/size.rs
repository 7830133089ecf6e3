//! Byte sizes: `KiB(64)`, `MiB(8)`, `GiB(2)`, and size strings such as `"2 GiB"`.

use std::fmt;

/// A size in bytes. Build one from a unit ([`KiB`], [`MiB`], [`GiB`], [`TiB`]), from a
/// plain `u64` of bytes, or parse it from a string.
///
/// ```
/// use lucet_wasi::{Bytes, GiB, MiB};
/// assert_eq!(Bytes::from(MiB(8)), Bytes(8 * 1024 * 1024));
/// assert_eq!("2 GiB".parse::<Bytes>().unwrap(), GiB(2).into());
/// assert_eq!("512mib".parse::<Bytes>().unwrap(), MiB(512).into());
/// assert_eq!("4096".parse::<Bytes>().unwrap(), Bytes(4096));
/// assert_eq!("1 KB".parse::<Bytes>().unwrap(), Bytes(1000));
/// assert_eq!(GiB(4).to_string(), "4 GiB");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident = $factor:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl From<$name> for Bytes {
            /// Saturates at `u64::MAX` bytes.
            fn from(n: $name) -> Bytes {
                Bytes(n.0.saturating_mul($factor))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                Bytes::from(*self).fmt(f)
            }
        }
    };
}

unit!(
    /// Kibibytes: 1 KiB = 1024 bytes.
    KiB = 1 << 10
);
unit!(
    /// Mebibytes: 1 MiB = 1024 KiB.
    MiB = 1 << 20
);
unit!(
    /// Gibibytes: 1 GiB = 1024 MiB.
    GiB = 1 << 30
);
unit!(
    /// Tebibytes: 1 TiB = 1024 GiB.
    TiB = 1 << 40
);

impl From<u64> for Bytes {
    fn from(n: u64) -> Bytes {
        Bytes(n)
    }
}

impl Bytes {
    /// The number of bytes.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Units a size string may carry (case-insensitive): binary units are powers of 1024,
/// decimal ones powers of 1000, no unit (or `B`) is bytes.
pub(crate) const UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
];

impl fmt::Display for Bytes {
    /// The largest binary unit that divides the size exactly, else bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            if n != 0 && n.is_multiple_of(1u64 << shift) {
                return write!(f, "{} {unit}", n >> shift);
            }
        }
        write!(f, "{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(Bytes(0).to_string(), "0 bytes");
        assert_eq!(Bytes(3000).to_string(), "3000 bytes");
        assert_eq!(Bytes(4096).to_string(), "4 KiB");
        assert_eq!(Bytes(3 << 20).to_string(), "3 MiB");
        assert_eq!(Bytes((1 << 30) + 4096).to_string(), "1048580 KiB");
        assert_eq!(TiB(2).to_string(), "2 TiB");
        assert_eq!(Bytes::from(GiB(u64::MAX)), Bytes(u64::MAX));
    }
}
