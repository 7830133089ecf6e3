//! `sock_*`: TCP sockets handed to the guest by the host, and the connections accepted
//! from them.

use super::errno::PointerRole;
use super::fd::{gather, GATHER};
use super::types::{Ciovec, Errno, Fd, Fdflags, Iovec, Roflags};
use super::wait::{wait_for, Ready};
use super::{SysErr, WasiCtx};
use rustix::net::{RecvFlags, SendFlags};
use std::io::IoSlice;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use wiggle::{GuestMemory, GuestPtr};

/// A socket descriptor. Host sockets are always non-blocking; the guest's blocking calls
/// wait with `poll(2)`, so that a timeout can still end the guest.
pub(crate) struct Socket {
    kind: Kind,
    /// The guest asked for `nonblock`.
    pub(crate) nonblocking: bool,
}

enum Kind {
    Listener(TcpListener),
    Stream(TcpStream),
}

const RECV_PEEK: u32 = 1;
const RECV_WAITALL: u32 = 2;
const SHUT_RD: u32 = 1;
const SHUT_WR: u32 = 2;

impl Socket {
    pub(crate) fn listener(l: TcpListener) -> Socket {
        // Failing this only leaves a guest's non-blocking accept able to block.
        let _ = l.set_nonblocking(true);
        Socket {
            kind: Kind::Listener(l),
            nonblocking: false,
        }
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match &self.kind {
            Kind::Listener(l) => l.as_fd(),
            Kind::Stream(s) => s.as_fd(),
        }
    }

    fn stream(&self) -> Result<BorrowedFd<'_>, Errno> {
        match &self.kind {
            Kind::Stream(s) => Ok(s.as_fd()),
            Kind::Listener(_) => Err(Errno::Notconn),
        }
    }

    /// Receives into `buf` (at most one buffer per call, as a short read).
    pub(crate) fn recv(
        &self,
        deadline: Option<std::time::Instant>,
        buf: &mut [u8],
        flags: u32,
    ) -> Result<usize, SysErr> {
        if flags & !(RECV_PEEK | RECV_WAITALL) != 0 {
            return Err(Errno::Inval.into());
        }
        let fd = self.stream()?;
        let peek = if flags & RECV_PEEK != 0 {
            RecvFlags::PEEK
        } else {
            RecvFlags::empty()
        };
        let mut filled = 0;
        loop {
            if !self.nonblocking {
                // An async wait retries the whole call: never with data in hand.
                if filled > 0 && super::wait::deferring() {
                    break;
                }
                wait_for(fd, Ready::Read, deadline)?;
            }
            let got = match rustix::net::recv(fd, &mut buf[filled..], peek | RecvFlags::DONTWAIT) {
                Ok((n, _)) => n,
                Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) if !self.nonblocking => {
                    continue
                }
                Err(e) if filled == 0 => return Err(e.into()),
                Err(_) => break,
            };
            filled += got;
            // Wait-all keeps going until the buffer is full or the peer is done.
            if got == 0
                || flags & RECV_WAITALL == 0
                || peek.contains(RecvFlags::PEEK)
                || filled == buf.len()
            {
                break;
            }
        }
        Ok(filled)
    }

    /// Sends from `bufs` without raising SIGPIPE in the host.
    pub(crate) fn send(
        &self,
        deadline: Option<std::time::Instant>,
        bufs: &[IoSlice<'_>],
    ) -> Result<usize, SysErr> {
        let fd = self.stream()?;
        loop {
            if !self.nonblocking {
                wait_for(fd, Ready::Write, deadline)?;
            }
            let mut control = rustix::net::SendAncillaryBuffer::default();
            match rustix::net::sendmsg(
                fd,
                bufs,
                &mut control,
                SendFlags::NOSIGNAL | SendFlags::DONTWAIT,
            ) {
                Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) if !self.nonblocking => {
                    continue
                }
                r => return Ok(r?),
            }
        }
    }
}

/// The first non-empty guest buffer of a read: a socket read fills one buffer (a short
/// read), since a second one could block with data in hand.
pub(super) fn first_buffer<'m>(
    mem: &'m mut GuestMemory<'_>,
    iovs: GuestPtr<[Iovec]>,
) -> Result<Option<&'m mut [u8]>, SysErr> {
    if iovs.len() > super::fd::IOV_MAX {
        return Err(Errno::Inval.into());
    }
    for iov in iovs.iter() {
        let iov = iov.and_then(|iov| mem.read(iov)).role("iovec array")?;
        if iov.buf_len > 0 {
            let len = iov.buf_len.min(i32::MAX as u32);
            let bytes = mem
                .as_slice_mut(iov.buf.as_array(len))
                .role("iovec buffer")?
                .ok_or(Errno::Notsup)?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

impl WasiCtx {
    fn socket(&self, fd: Fd) -> Result<&Socket, SysErr> {
        match self.fds.get(fd)? {
            super::ctx::Entry::Socket(s) => Ok(s),
            _ => Err(Errno::Notsock.into()),
        }
    }

    pub(super) fn accept(&mut self, fd: Fd, flags: u32) -> Result<Fd, SysErr> {
        let flags = u16::try_from(flags)
            .ok()
            .and_then(Fdflags::from_bits)
            .ok_or(Errno::Inval)?;
        if !(flags - Fdflags::NONBLOCK).is_empty() {
            return Err(Errno::Inval.into());
        }
        let socket = self.socket(fd)?;
        let Kind::Listener(listener) = &socket.kind else {
            return Err(Errno::Inval.into());
        };
        let stream = loop {
            if !socket.nonblocking {
                wait_for(listener.as_fd(), Ready::Read, self.deadline)?;
            }
            let flags = rustix::net::SocketFlags::CLOEXEC | rustix::net::SocketFlags::NONBLOCK;
            let accepted = rustix::net::accept_with(listener.as_fd(), flags);
            match accepted {
                Ok(owned) => break TcpStream::from(owned),
                Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) if !socket.nonblocking => {
                    continue
                }
                Err(e) => return Err(e.into()),
            }
        };
        let entry = super::ctx::Entry::Socket(Socket {
            kind: Kind::Stream(stream),
            nonblocking: flags.contains(Fdflags::NONBLOCK),
        });
        Ok(self.fds.insert(entry)?)
    }

    pub(super) fn socket_recv(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
        flags: u32,
    ) -> Result<(u32, Roflags), SysErr> {
        let deadline = self.deadline;
        let socket = self.socket(fd)?;
        let n = match first_buffer(mem, iovs)? {
            Some(buf) => socket.recv(deadline, buf, flags)?,
            None => 0,
        };
        Ok((n as u32, Roflags::empty()))
    }

    pub(super) fn socket_send(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        flags: u32,
    ) -> Result<u32, SysErr> {
        if flags != 0 {
            return Err(Errno::Inval.into());
        }
        let socket = self.socket(fd)?;
        let mut slices = [IoSlice::new(&[]); GATHER];
        let n = gather(mem, iovs, &mut slices)?;
        if n == 0 {
            return Ok(0);
        }
        Ok(socket.send(self.deadline, &slices[..n])? as u32)
    }

    pub(super) fn socket_shutdown(&mut self, fd: Fd, how: u32) -> Result<(), SysErr> {
        let socket = self.socket(fd)?;
        let how = match how {
            SHUT_RD => rustix::net::Shutdown::Read,
            SHUT_WR => rustix::net::Shutdown::Write,
            h if h == SHUT_RD | SHUT_WR => rustix::net::Shutdown::Both,
            _ => return Err(Errno::Inval.into()),
        };
        rustix::net::shutdown(socket.stream()?, how)?;
        Ok(())
    }
}
