//! `path_*`: operations on names below a directory descriptor.
//!
//! The filesystem layer arrives with the sandbox issue; until then each call checks its
//! descriptor (`badf`, `notdir`) and answers `notsup` for a directory.

use super::types::Fd;
use super::{SysErr, WasiCtx};

impl WasiCtx {
    pub(super) fn path_op(&self, fd: Fd) -> SysErr {
        self.dir_op(fd)
    }
}
