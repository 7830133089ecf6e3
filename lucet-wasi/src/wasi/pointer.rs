//! The one trap of the syscall layer: a bad guest pointer.
//!
//! Preview1's pointers are `i32` offsets into the exported `memory`, and "if a
//! misaligned pointer is passed to a function, the function shall trap" (WASI's
//! `legacy/tools/witx-docs.md`, section "Pointers"). An out-of-bounds pointer is treated
//! the same way, as a wasm load or store out of bounds traps. That is one outcome for
//! every pointer a call must read or write: input pointers (paths, iovec arrays,
//! subscriptions, buffers) and result pointers alike, in our code and in wiggle's
//! generated glue. The trap names the call, what the pointer was for, the
//! pointer and the problem, on one line:
//!
//! ```text
//! clock_time_get: result pointer 0x7f84a1bc (8 bytes) is outside the guest's 1.1 MiB memory
//! ```
//!
//! A pointer the call does not dereference (a result of a call that fails, a buffer of
//! length 0) is not checked. Bad values that are not pointers stay errnos: invalid
//! UTF-8 in a path is `ilseq`, out-of-range flags and enums are `inval`.

use wiggle::GuestError;

/// What is wrong with a guest pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// `start..start+len` is not inside guest memory.
    OutOfBounds { start: u32, len: u32 },
    /// `start` is not a multiple of `align`.
    Misaligned { start: u32, align: u32 },
    /// The range's end does not fit in 32 bits.
    Overflow,
}

/// A guest pointer a call had to dereference and could not. It ends the guest: the
/// instance reports it as [`Error::Trap`](crate::Error::Trap) with [`message`](Self::message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPointer {
    /// The preview1 function (empty until the call layer names it).
    pub(crate) call: &'static str,
    /// What the pointer was for: `result pointer`, `path`, `iovec array`, ...
    pub(crate) role: &'static str,
    pub(crate) problem: Problem,
}

impl BadPointer {
    /// The pointer problem in a wiggle error, if it is one; `role` says what the
    /// pointer was for (the generated glue's errors say it themselves).
    pub(crate) fn from_guest_error(e: &GuestError, role: &'static str) -> Option<BadPointer> {
        let problem = match e {
            GuestError::InFunc {
                funcname,
                location,
                err,
                ..
            } => {
                // The glue's locations are `write <type>` (a result) and `read <type>`.
                let role = if location.starts_with("write") {
                    "result pointer"
                } else {
                    role
                };
                return BadPointer::from_guest_error(err, role).map(|mut b| {
                    b.call = funcname;
                    b
                });
            }
            GuestError::PtrOutOfBounds(r) => Problem::OutOfBounds {
                start: r.start,
                len: r.len,
            },
            GuestError::PtrNotAligned(r, align) => Problem::Misaligned {
                start: r.start,
                align: *align,
            },
            GuestError::PtrOverflow => Problem::Overflow,
            _ => return None,
        };
        Some(BadPointer {
            call: "",
            role,
            problem,
        })
    }

    /// The one-line trap message, given the size of the guest's memory (if known).
    pub(crate) fn message(&self, memory: Option<u64>) -> String {
        let call = if self.call.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.call)
        };
        let role = self.role;
        match self.problem {
            Problem::OutOfBounds { start, len } => {
                let size = match memory {
                    Some(m) => format!("the guest's {} memory", approx(m)),
                    None => "guest memory".into(),
                };
                let bytes = if len == 1 { "byte" } else { "bytes" };
                format!("{call}{role} {start:#x} ({len} {bytes}) is outside {size}")
            }
            Problem::Misaligned { start, align } => {
                format!("{call}{role} {start:#x} is not {align}-byte aligned")
            }
            Problem::Overflow => {
                format!("{call}{role} reaches past the end of the 32-bit address space")
            }
        }
    }
}

impl std::fmt::Display for BadPointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(None))
    }
}

impl std::error::Error for BadPointer {}

/// A memory size to one decimal in the largest fitting binary unit: `64 KiB`, `1.1 MiB`.
fn approx(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["bytes", "KiB", "MiB", "GiB"] {
        if value < 1024.0 || unit == "GiB" {
            return if value.fract() == 0.0 {
                format!("{value} {unit}")
            } else {
                format!("{value:.1} {unit}")
            };
        }
        value /= 1024.0;
    }
    unreachable!("the loop returns at GiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_call_role_pointer_and_memory() {
        let glue = GuestError::InFunc {
            modulename: "wasi_snapshot_preview1",
            funcname: "clock_time_get",
            location: "write Timestamp",
            err: Box::new(GuestError::PtrOutOfBounds(wiggle::Region {
                start: 0x7f84a1bc,
                len: 8,
            })),
        };
        let bad = BadPointer::from_guest_error(&glue, "pointer").unwrap();
        assert_eq!(
            bad.message(Some(17 * 65536)),
            "clock_time_get: result pointer 0x7f84a1bc (8 bytes) is outside the guest's 1.1 MiB memory"
        );
        let misaligned = BadPointer {
            call: "fd_write",
            role: "iovec array",
            problem: Problem::Misaligned { start: 3, align: 4 },
        };
        assert_eq!(
            misaligned.message(None),
            "fd_write: iovec array 0x3 is not 4-byte aligned"
        );
        assert_eq!(approx(65536), "64 KiB");
        assert_eq!(approx(0), "0 bytes");
        assert!(BadPointer::from_guest_error(&GuestError::InvalidFlagValue("x"), "p").is_none());
    }
}
