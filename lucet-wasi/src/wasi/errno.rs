//! The error type of our syscall implementations and its mapping to `errno`.

use super::pointer::BadPointer;
use super::types::Errno;
use std::io;

/// What a syscall implementation can fail with: an errno for the guest, a bad guest
/// pointer (the trap of preview1's rules, see [`super::pointer`]), or another trap that
/// ends the guest, such as a timeout noticed while blocked in the host.
#[derive(Debug)]
pub(crate) enum SysErr {
    Errno(Errno),
    Pointer(BadPointer),
    Trap(wasmtime::Error),
}

impl SysErr {
    /// Names the preview1 function a bad pointer was passed to.
    pub(crate) fn in_call(self, call: &'static str) -> SysErr {
        match self {
            SysErr::Pointer(mut bad) => {
                bad.call = call;
                SysErr::Pointer(bad)
            }
            other => other,
        }
    }
}

impl From<Errno> for SysErr {
    fn from(e: Errno) -> Self {
        SysErr::Errno(e)
    }
}

impl From<wiggle::GuestError> for SysErr {
    fn from(e: wiggle::GuestError) -> Self {
        guest_error(e, "pointer")
    }
}

impl From<io::Error> for SysErr {
    fn from(e: io::Error) -> Self {
        SysErr::Errno(io_errno(&e))
    }
}

impl From<rustix::io::Errno> for SysErr {
    fn from(e: rustix::io::Errno) -> Self {
        SysErr::Errno(os_errno(e.raw_os_error()))
    }
}

/// Says what a guest pointer was for, should dereferencing it fail.
pub(crate) trait PointerRole<T> {
    /// `role` names the pointer in the trap message: `path`, `iovec array`, ...
    fn role(self, role: &'static str) -> Result<T, SysErr>;
}

impl<T> PointerRole<T> for Result<T, wiggle::GuestError> {
    fn role(self, role: &'static str) -> Result<T, SysErr> {
        self.map_err(|e| guest_error(e, role))
    }
}

/// A bad pointer traps; malformed values are errnos (`inval`, `ilseq`, `overflow`).
fn guest_error(e: wiggle::GuestError, role: &'static str) -> SysErr {
    use wiggle::GuestError as G;
    if let Some(bad) = BadPointer::from_guest_error(&e, role) {
        return SysErr::Pointer(bad);
    }
    SysErr::Errno(match e {
        G::InFunc { err, .. } => return guest_error(*err, role),
        G::InvalidUtf8(_) => Errno::Ilseq,
        G::TryFromIntError(_) => Errno::Overflow,
        _ => Errno::Inval,
    })
}

/// The errno for a host I/O error. cap-std reports a path that would leave the sandbox
/// as `PermissionDenied` without an OS error number: that is `notcapable`, the errno we
/// answer for every sandbox escape and every missing right.
pub(crate) fn io_errno(e: &io::Error) -> Errno {
    match e.raw_os_error() {
        Some(code) => os_errno(code),
        None => match e.kind() {
            io::ErrorKind::NotFound => Errno::Noent,
            io::ErrorKind::PermissionDenied => Errno::Notcapable,
            io::ErrorKind::AlreadyExists => Errno::Exist,
            io::ErrorKind::WouldBlock => Errno::Again,
            io::ErrorKind::InvalidInput => Errno::Inval,
            io::ErrorKind::BrokenPipe => Errno::Pipe,
            io::ErrorKind::Interrupted => Errno::Intr,
            io::ErrorKind::Unsupported => Errno::Notsup,
            io::ErrorKind::OutOfMemory => Errno::Nomem,
            _ => Errno::Io,
        },
    }
}

/// The errno for a host OS error number.
pub(crate) fn os_errno(code: i32) -> Errno {
    use rustix::io::Errno as E;
    let e = E::from_raw_os_error(code);
    match e {
        E::TOOBIG => Errno::TooBig,
        E::ACCESS => Errno::Acces,
        E::ADDRINUSE => Errno::Addrinuse,
        E::ADDRNOTAVAIL => Errno::Addrnotavail,
        E::AFNOSUPPORT => Errno::Afnosupport,
        E::AGAIN => Errno::Again,
        E::ALREADY => Errno::Already,
        E::BADF => Errno::Badf,
        E::BADMSG => Errno::Badmsg,
        E::BUSY => Errno::Busy,
        E::CANCELED => Errno::Canceled,
        E::CHILD => Errno::Child,
        E::CONNABORTED => Errno::Connaborted,
        E::CONNREFUSED => Errno::Connrefused,
        E::CONNRESET => Errno::Connreset,
        E::DEADLK => Errno::Deadlk,
        E::DESTADDRREQ => Errno::Destaddrreq,
        E::DOM => Errno::Dom,
        E::DQUOT => Errno::Dquot,
        E::EXIST => Errno::Exist,
        E::FAULT => Errno::Fault,
        E::FBIG => Errno::Fbig,
        E::HOSTUNREACH => Errno::Hostunreach,
        E::IDRM => Errno::Idrm,
        E::ILSEQ => Errno::Ilseq,
        E::INPROGRESS => Errno::Inprogress,
        E::INTR => Errno::Intr,
        E::INVAL => Errno::Inval,
        E::IO => Errno::Io,
        E::ISCONN => Errno::Isconn,
        E::ISDIR => Errno::Isdir,
        E::LOOP => Errno::Loop,
        E::MFILE => Errno::Mfile,
        E::MLINK => Errno::Mlink,
        E::MSGSIZE => Errno::Msgsize,
        E::MULTIHOP => Errno::Multihop,
        E::NAMETOOLONG => Errno::Nametoolong,
        E::NETDOWN => Errno::Netdown,
        E::NETRESET => Errno::Netreset,
        E::NETUNREACH => Errno::Netunreach,
        E::NFILE => Errno::Nfile,
        E::NOBUFS => Errno::Nobufs,
        E::NODEV => Errno::Nodev,
        E::NOENT => Errno::Noent,
        E::NOEXEC => Errno::Noexec,
        E::NOLCK => Errno::Nolck,
        E::NOLINK => Errno::Nolink,
        E::NOMEM => Errno::Nomem,
        E::NOMSG => Errno::Nomsg,
        E::NOPROTOOPT => Errno::Noprotoopt,
        E::NOSPC => Errno::Nospc,
        E::NOSYS => Errno::Nosys,
        E::NOTCONN => Errno::Notconn,
        E::NOTDIR => Errno::Notdir,
        E::NOTEMPTY => Errno::Notempty,
        E::NOTRECOVERABLE => Errno::Notrecoverable,
        E::NOTSOCK => Errno::Notsock,
        E::NOTSUP => Errno::Notsup,
        E::NOTTY => Errno::Notty,
        E::NXIO => Errno::Nxio,
        E::OVERFLOW => Errno::Overflow,
        E::OWNERDEAD => Errno::Ownerdead,
        E::PERM => Errno::Perm,
        E::PIPE => Errno::Pipe,
        E::PROTO => Errno::Proto,
        E::PROTONOSUPPORT => Errno::Protonosupport,
        E::PROTOTYPE => Errno::Prototype,
        E::RANGE => Errno::Range,
        E::ROFS => Errno::Rofs,
        E::SPIPE => Errno::Spipe,
        E::SRCH => Errno::Srch,
        E::STALE => Errno::Stale,
        E::TIMEDOUT => Errno::Timedout,
        E::TXTBSY => Errno::Txtbsy,
        E::XDEV => Errno::Xdev,
        _ => Errno::Io,
    }
}

impl wiggle::GuestErrorType for Errno {
    fn success() -> Self {
        Errno::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_map_to_their_preview1_errno() {
        use rustix::io::Errno as E;
        for (os, wasi) in [
            (E::NOENT, Errno::Noent),
            (E::EXIST, Errno::Exist),
            (E::NOTDIR, Errno::Notdir),
            (E::ISDIR, Errno::Isdir),
            (E::NOTEMPTY, Errno::Notempty),
            (E::LOOP, Errno::Loop),
            (E::BADF, Errno::Badf),
            (E::INVAL, Errno::Inval),
            (E::ACCESS, Errno::Acces),
            (E::PERM, Errno::Perm),
            (E::NAMETOOLONG, Errno::Nametoolong),
            (E::AGAIN, Errno::Again),
            (E::PIPE, Errno::Pipe),
            (E::CONNRESET, Errno::Connreset),
        ] {
            assert_eq!(os_errno(os.raw_os_error()), wasi, "{os:?}");
        }
    }

    #[test]
    fn io_errors_without_a_code_map_by_kind() {
        // cap-std's refusal of a path that would leave the sandbox.
        let escape = io::Error::new(io::ErrorKind::PermissionDenied, "outside the sandbox");
        assert_eq!(io_errno(&escape), Errno::Notcapable);
        assert_eq!(io_errno(&io::ErrorKind::NotFound.into()), Errno::Noent);
        assert_eq!(io_errno(&io::ErrorKind::OutOfMemory.into()), Errno::Nomem);
        assert_eq!(io_errno(&io::ErrorKind::Other.into()), Errno::Io);
        // An OS code wins over the kind.
        assert_eq!(
            io_errno(&io::Error::from_raw_os_error(
                rustix::io::Errno::ISDIR.raw_os_error()
            )),
            Errno::Isdir
        );
    }
}
