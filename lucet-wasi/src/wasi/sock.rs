//! `sock_*`: sockets handed to the guest by the host.

use super::types::{Errno, Fd};
use super::{SysErr, WasiCtx};

impl WasiCtx {
    /// No descriptor is a socket until the host preopens one: `badf` or `notsock`.
    pub(super) fn sock_op(&self, fd: Fd) -> SysErr {
        match self.fds.get(fd) {
            Err(e) => e.into(),
            Ok(_) => Errno::Notsock.into(),
        }
    }
}
