//! `sock_*`: TCP sockets handed to the guest by the host, and the connections accepted
//! from them. (The socket descriptor itself: `tcp.rs`.)

use super::ctx::Entry;
use super::iov::{gather, read_first, Scratch, GATHER};
use super::tcp::Socket;
use super::types::{Ciovec, Errno, Fd, Fdflags, Iovec, Roflags};
use super::AbiMemory;
use super::{SysErr, WasiCtx};
use std::io::IoSlice;
use wiggle::GuestPtr;

impl WasiCtx {
    fn socket(&self, fd: Fd) -> Result<&Socket, SysErr> {
        match self.fds.get(fd)? {
            Entry::Socket(s) => Ok(s),
            _ => Err(Errno::Notsock.into()),
        }
    }

    pub(super) fn sock_accept(&mut self, fd: Fd, flags: u32) -> Result<Fd, SysErr> {
        let flags = u16::try_from(flags)
            .ok()
            .and_then(Fdflags::from_bits)
            .ok_or(Errno::Inval)?;
        if !(flags - Fdflags::NONBLOCK).is_empty() {
            return Err(Errno::Inval.into());
        }
        let socket = self.socket(fd)?;
        let accepted = socket.accept(self.waits, flags.contains(Fdflags::NONBLOCK))?;
        Ok(self.fds.insert(Entry::Socket(accepted))?)
    }

    pub(super) fn sock_recv(
        &mut self,
        mem: &mut AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
        flags: u32,
    ) -> Result<(u32, Roflags), SysErr> {
        let waits = self.waits;
        let socket = self.socket(fd)?;
        let n = read_first(mem, iovs, |buf| socket.recv(waits, buf, flags))?;
        Ok((n as u32, Roflags::empty()))
    }

    pub(super) fn sock_send(
        &mut self,
        mem: &AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        flags: u32,
    ) -> Result<u32, SysErr> {
        if flags != 0 {
            return Err(Errno::Inval.into());
        }
        let socket = self.socket(fd)?;
        let mut scratch = Scratch::take();
        let mut slices = [IoSlice::new(&[]); GATHER];
        let n = gather(mem, iovs, &mut slices, &mut scratch)?;
        if n == 0 {
            return Ok(0);
        }
        Ok(socket.send(self.waits, &slices[..n])? as u32)
    }

    pub(super) fn sock_shutdown(&mut self, fd: Fd, how: u32) -> Result<(), SysErr> {
        self.socket(fd)?.shutdown(how)
    }
}
