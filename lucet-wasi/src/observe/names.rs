//! Showing values: errno, flag and enum names, escaped bytes, and guest memory read
//! without trusting it.

use crate::wasi::types::{Errno, Rights};
use std::fmt::{self, Write as _};
use wiggle::bitflags::Flags;

/// The most bytes of a path (or other string) the trace shows.
pub(crate) const PATH_CAP: usize = 256;
/// The most bytes of data (a write's or read's buffer) the trace shows.
pub(crate) const DATA_CAP: usize = 32;
/// The most iovec entries the trace looks at (preview1 calls take no more): the
/// decoder's work per call is bounded whatever count the guest passes.
pub(crate) const IOV_MAX: u64 = 1024;

/// A value of a witx enumeration by its witx name in capitals (`REGULAR_FILE`, from
/// wiggle's `RegularFile`), or its number if it is none of them.
pub(crate) fn enum_name<E: TryFrom<i32> + fmt::Debug>(out: &mut String, v: u64) {
    match i32::try_from(v).ok().and_then(|v| E::try_from(v).ok()) {
        Some(e) => witx_name(out, &e),
        None => {
            let _ = write!(out, "{v}");
        }
    }
}

/// The errno's name, as `ENOENT`.
pub(crate) fn errno_name(out: &mut String, code: i32) {
    match Errno::try_from(code) {
        Ok(e) => {
            out.push('E');
            witx_name(out, &e);
        }
        Err(_) => {
            let _ = write!(out, "{code}");
        }
    }
}

/// Writes the witx name of a wiggle-generated enum value, in capitals: its Rust
/// name (`ProcessCputimeId`) in SHOUTY_SNAKE_CASE, and `2BIG` for the one wiggle renames.
fn witx_name(out: &mut String, value: &impl fmt::Debug) {
    let mut name = Name::default();
    let _ = write!(name, "{value:?}");
    let name = name.as_str();
    if name == "TooBig" {
        out.push_str("2BIG");
        return;
    }
    for (i, c) in name.char_indices() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
}

/// A short name written without allocating (longer ones are cut).
#[derive(Default)]
struct Name {
    bytes: [u8; 32],
    len: usize,
}

impl Name {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for Name {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let take = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// The flags of a witx flag type set in `v`, as `A|B`, unknown bits in hex, `0` for
/// none.
pub(crate) fn flag_names<F: Flags>(out: &mut String, v: u64)
where
    F::Bits: Into<u64>,
{
    if v == 0 {
        out.push('0');
        return;
    }
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push('|');
        }
        first = false;
    };
    let mut known = 0u64;
    for flag in F::FLAGS {
        let bits: u64 = flag.value().bits().into();
        known |= bits;
        if bits != 0 && v & bits == bits {
            sep(out);
            out.push_str(flag.name());
        }
    }
    if v & !known != 0 {
        sep(out);
        let _ = write!(out, "{:#x}", v & !known);
    }
}

/// Rights: by name when few are set; else as `ALL` less the ones missing
/// (`ALL&~(FD_WRITE|FD_ALLOCATE)`), as wasi-libc asks for nearly all of them.
pub(crate) fn rights(out: &mut String, v: u64) {
    let all = Rights::all().bits();
    let count = Rights::FLAGS.len();
    if v & !all != 0 || (v.count_ones() as usize) <= count / 2 {
        flag_names::<Rights>(out, v);
    } else if v == all {
        out.push_str("ALL");
    } else {
        out.push_str("ALL&~(");
        flag_names::<Rights>(out, all & !v);
        out.push(')');
    }
}

/// Bytes as a quoted string: printable ASCII as is, the rest escaped (`\n`, `\x1b`),
/// so that no guest data reaches a terminal raw. At most `cap` bytes, then `...`.
pub(crate) fn escaped(out: &mut String, bytes: &[u8], cap: usize) {
    out.push('"');
    escape_into(out, &bytes[..bytes.len().min(cap)]);
    out.push('"');
    if bytes.len() > cap {
        out.push_str("...");
    }
}

pub(crate) fn escape_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

// ----------------------------------------------------------------------------- memory

/// Guest memory as the trace reads it: every access checked, nothing trusted. A threaded
/// guest's shared memory is read by copy (its threads may write it meanwhile), a few
/// bytes at a time: what a line shows.
#[derive(Clone, Copy)]
pub(crate) enum Mem<'a> {
    Plain(&'a [u8]),
    Shared(&'a [std::cell::UnsafeCell<u8>]),
}

impl<'a> Mem<'a> {
    pub(crate) fn bytes(self, ptr: u64, len: u64) -> Option<std::borrow::Cow<'a, [u8]>> {
        let start = usize::try_from(ptr).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        match self {
            Mem::Plain(bytes) => bytes.get(start..end).map(std::borrow::Cow::Borrowed),
            Mem::Shared(cells) => {
                let cells = cells.get(start..end)?;
                let mut copy = vec![0; cells.len()];
                // SAFETY: in bounds; no reference to the shared bytes is made.
                unsafe {
                    std::ptr::copy(cells.as_ptr().cast::<u8>(), copy.as_mut_ptr(), copy.len())
                };
                Some(std::borrow::Cow::Owned(copy))
            }
        }
    }

    pub(crate) fn u8(self, ptr: u64) -> Option<u8> {
        Some(self.bytes(ptr, 1)?[0])
    }

    pub(crate) fn u16(self, ptr: u64) -> Option<u16> {
        Some(u16::from_le_bytes(
            self.bytes(ptr, 2)?.as_ref().try_into().ok()?,
        ))
    }

    pub(crate) fn u32(self, ptr: u64) -> Option<u32> {
        Some(u32::from_le_bytes(
            self.bytes(ptr, 4)?.as_ref().try_into().ok()?,
        ))
    }

    pub(crate) fn u64(self, ptr: u64) -> Option<u64> {
        Some(u64::from_le_bytes(
            self.bytes(ptr, 8)?.as_ref().try_into().ok()?,
        ))
    }

    /// Up to `cap` bytes of the string at `ptr`, and whether it is all there.
    pub(crate) fn string(
        self,
        ptr: u64,
        len: u64,
        cap: usize,
    ) -> Option<std::borrow::Cow<'a, [u8]>> {
        self.bytes(ptr, len.min(cap as u64))
    }

    /// The first `limit` bytes (at most [`DATA_CAP`]) of the buffers of an iovec array,
    /// copied into `buf`; the count copied, or `None` if the array is out of bounds.
    /// Looks at no more than the first [`IOV_MAX`] entries, whatever `count` says.
    pub(crate) fn gather(
        self,
        iovs: u64,
        count: u64,
        limit: u64,
        buf: &mut [u8; DATA_CAP],
    ) -> Option<usize> {
        let mut n = 0;
        let limit = limit.min(DATA_CAP as u64) as usize;
        for i in 0..count.min(IOV_MAX) {
            if n >= limit {
                break;
            }
            let entry = iovs.checked_add(i.checked_mul(8)?)?;
            let (ptr, len) = (self.u32(entry)?, self.u32(entry.checked_add(4)?)?);
            let take = (len as usize).min(limit - n);
            let data = self.bytes(u64::from(ptr), take as u64)?;
            buf[n..n + take].copy_from_slice(&data);
            n += take;
        }
        Some(n)
    }

    /// The total length of an iovec array's buffers; `None` if out of bounds. Looks at
    /// no more than the first [`IOV_MAX`] entries.
    pub(crate) fn total(self, iovs: u64, count: u64) -> Option<u64> {
        let mut total = 0u64;
        for i in 0..count.min(IOV_MAX) {
            total = total.saturating_add(u64::from(self.u32(iovs.checked_add(i * 8 + 4)?)?));
        }
        Some(total)
    }
}

pub(crate) fn fault(out: &mut String, ptr: u64) {
    let _ = write!(out, "{ptr:#x} <fault>");
}

/// A string argument: quoted and escaped, `...` after the first [`PATH_CAP`] bytes.
pub(crate) fn string_arg(out: &mut String, mem: Mem<'_>, ptr: u64, len: u64) {
    match mem.string(ptr, len, PATH_CAP) {
        Some(s) => {
            escaped(out, &s, PATH_CAP);
            if len > PATH_CAP as u64 {
                out.push_str("...");
            }
        }
        None => fault(out, ptr),
    }
}
