//! `proc_exit`, `proc_raise` and `sched_yield`.

use super::types::Errno;
use super::{SysErr, WasiCtx};

/// The guest called `proc_exit` with this status. It unwinds the guest as an error and
/// is turned into [`crate::Exit::Exited`] by the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitRequested(pub u32);

impl std::fmt::Display for ExitRequested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "guest exited with status {}", self.0)
    }
}

impl std::error::Error for ExitRequested {}

/// The highest `signal` number of preview1 (`sys`).
const MAX_SIGNAL: u32 = 30;

impl WasiCtx {
    pub(super) fn proc_exit(&mut self, status: u32) -> wasmtime::Error {
        wasmtime::Error::new(ExitRequested(status))
    }

    /// Signals are not delivered to guests: a valid signal is `notsup`, garbage `inval`.
    pub(super) fn proc_raise(&mut self, sig: u32) -> Result<(), SysErr> {
        if sig > MAX_SIGNAL {
            return Err(Errno::Inval.into());
        }
        Err(Errno::Notsup.into())
    }

    pub(super) fn sched_yield(&mut self) -> Result<(), SysErr> {
        std::thread::yield_now();
        Ok(())
    }
}
