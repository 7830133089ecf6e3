//! The `wasi_snapshot_preview1` syscall layer.
//!
//! `wiggle` generates the ABI glue and the [`WasiSnapshotPreview1`] trait from our witx;
//! `preview1.rs` implements that trait as one short method per WASI function, each
//! delegating to the area that owns it (one file per area).

mod args;
#[cfg(feature = "async")]
mod async_wait;
mod clock;
mod ctx;
mod dir;
mod errno;
mod fd;
mod fd_meta;
mod file;
mod host_meta;
mod iov;
mod link;
#[cfg(feature = "async")]
mod link_async;
mod path;
mod pointer;
mod poll;
mod preview1;
mod proc;
mod random;
mod rights;
mod shared;
mod sock;
mod stdio;
mod tcp;
mod wait;

/// Guest memory as wiggle's generated ABI functions take it (not the crate's own
/// [`GuestMemory`](crate::GuestMemory), which host functions get).
pub(crate) type AbiMemory<'a> = wiggle::GuestMemory<'a>;

pub(crate) use ctx::WasiCtx;
pub(crate) use ctx::{open_preopen, Preopen, StringList, WasiCtxBuilder};
pub(crate) use errno::SysErr;
pub use link::RawValue;
pub(crate) use link::{
    add_to_linker, function_id, Arg, Glue, Pointee, WasiView, FUNCTIONS, FUNCTION_COUNT,
};
#[cfg(feature = "async")]
pub(crate) use link_async::add_blocking_async;
pub(crate) use pointer::BadPointer;
pub(crate) use proc::ExitRequested;
pub(crate) use shared::InstanceEnded;
pub use shared::SharedCtx;
#[cfg(feature = "components")]
pub(crate) use stdio::HostStream;
pub use stdio::{Capture, Input, Output};
pub(crate) use wait::{is_deferred, DeadlineReached};

// The generated ABI functions mirror preview1's signatures, some of which are long.
#[allow(clippy::too_many_arguments)]
mod generated {
    use super::SysErr;
    wiggle::from_witx!({
        witx: ["witx/wasi_snapshot_preview1.witx"],
        errors: { errno => SysErr },
        // Our own linker glue (link.rs); no per-call tracing spans.
        wasmtime: false,
        tracing: false,
    });
}
pub(crate) use generated::{types, wasi_snapshot_preview1};

#[allow(unused_imports)]
pub(crate) use wasi_snapshot_preview1::WasiSnapshotPreview1;
