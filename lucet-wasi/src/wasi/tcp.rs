//! A socket descriptor: a listener or a connected stream, always non-blocking on the
//! host, with the guest's blocking calls waiting in `poll(2)`.

use super::types::Errno;
use super::wait::{wait_for, Ready, Waits};
use super::SysErr;
use rustix::net::{RecvFlags, SendFlags};
use std::io::IoSlice;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};

/// A socket descriptor. Host sockets are always non-blocking; the guest's blocking calls
/// wait with `poll(2)`, so that a timeout can still end the guest.
pub(crate) struct Socket {
    kind: Kind,
    /// The guest asked for `nonblock`.
    pub(crate) nonblocking: bool,
    /// A listener's first descriptor number (`None` for accepted streams).
    pub(crate) origin: Option<u32>,
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
    pub(crate) fn listener(l: TcpListener, origin: u32) -> Socket {
        // Failing this only leaves a guest's non-blocking accept able to block.
        let _ = l.set_nonblocking(true);
        Socket {
            kind: Kind::Listener(l),
            nonblocking: false,
            origin: Some(origin),
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

    /// Runs `op`, a non-blocking call on `fd`. For a socket the guest did not make
    /// non-blocking, first waits until `fd` is `ready` (a passed deadline is the trap
    /// that ends the guest), and again while `op` answers "would block" or "interrupted".
    /// The outer result is the wait's, the inner one `op`'s.
    fn io<T>(
        &self,
        fd: BorrowedFd<'_>,
        ready: Ready,
        waits: Waits,
        mut op: impl FnMut() -> Result<T, rustix::io::Errno>,
    ) -> Result<Result<T, rustix::io::Errno>, SysErr> {
        loop {
            if !self.nonblocking {
                wait_for(fd, ready, waits)?;
            }
            match op() {
                Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) if !self.nonblocking => {}
                r => return Ok(r),
            }
        }
    }

    /// Receives into `buf` (at most one buffer per call, as a short read).
    pub(crate) fn recv(&self, waits: Waits, buf: &mut [u8], flags: u32) -> Result<usize, SysErr> {
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
            // An async wait retries the whole call: never with data in hand.
            if filled > 0 && !self.nonblocking && waits.defer {
                break;
            }
            let chunk = &mut buf[filled..];
            let got = match self.io(fd, Ready::Read, waits, || {
                rustix::net::recv(fd, &mut *chunk, peek | RecvFlags::DONTWAIT)
            })? {
                Ok((n, _)) => n,
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
    pub(crate) fn send(&self, waits: Waits, bufs: &[IoSlice<'_>]) -> Result<usize, SysErr> {
        let fd = self.stream()?;
        let sent = self.io(fd, Ready::Write, waits, || {
            let mut control = rustix::net::SendAncillaryBuffer::default();
            rustix::net::sendmsg(
                fd,
                bufs,
                &mut control,
                SendFlags::NOSIGNAL | SendFlags::DONTWAIT,
            )
        })?;
        Ok(sent?)
    }

    /// Accepts a connection on a listener (`inval` on a stream), waiting for one unless
    /// the guest made the listener non-blocking; the new socket is non-blocking for the
    /// guest if `nonblocking`.
    pub(crate) fn accept(&self, waits: Waits, nonblocking: bool) -> Result<Socket, SysErr> {
        let Kind::Listener(listener) = &self.kind else {
            return Err(Errno::Inval.into());
        };
        let flags = rustix::net::SocketFlags::CLOEXEC | rustix::net::SocketFlags::NONBLOCK;
        let owned = self.io(listener.as_fd(), Ready::Read, waits, || {
            rustix::net::accept_with(listener.as_fd(), flags)
        })??;
        let stream = TcpStream::from(owned);
        Ok(Socket {
            kind: Kind::Stream(stream),
            nonblocking,
            origin: None,
        })
    }

    /// Shuts down reading (`how` 1), writing (2) or both (3); `inval` otherwise.
    pub(crate) fn shutdown(&self, how: u32) -> Result<(), SysErr> {
        let how = match how {
            SHUT_RD => rustix::net::Shutdown::Read,
            SHUT_WR => rustix::net::Shutdown::Write,
            h if h == SHUT_RD | SHUT_WR => rustix::net::Shutdown::Both,
            _ => return Err(Errno::Inval.into()),
        };
        rustix::net::shutdown(self.stream()?, how)?;
        Ok(())
    }
}
