//! One WASI context for the threads of one guest (wasi-threads): each thread is a store
//! of its own, and every store's calls go to the same [`SharedCtx`].
//!
//! A call takes the context's lock, runs with its waits deferred (as the async glue
//! does: a call that would block fails with `WouldBlock` before any side effect), and
//! gives the lock back; a call that would block then waits — without the lock, so the
//! other threads' calls go on — for its descriptors, its clock, the deadline, or the
//! end of the instance, and is made again. Guest memory is the shared memory, seen
//! through wiggle's `GuestMemory::Shared`: no Rust reference into it is ever made.

use super::wait::{poll_until, Ready, Waits, WouldBlock};
use super::{AbiMemory, SysErr, WasiCtx};
use rustix::event::{PollFd, PollFlags};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;
use wasmtime::SharedMemory;

/// The WASI context and memory the threads of one guest share.
pub struct SharedCtx {
    ctx: Mutex<WasiCtx>,
    memory: SharedMemory,
    /// Ends every wait of every thread when the instance ends.
    ending: Ending,
}

/// The instance ended (another thread exited, trapped or returned from `_start`) while
/// this thread was in a WASI call: it unwinds the thread.
#[derive(Debug, Clone, Copy)]
pub struct InstanceEnded;

impl std::fmt::Display for InstanceEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the instance ended while this thread was in a WASI call")
    }
}

impl std::error::Error for InstanceEnded {}

/// Whether the instance has ended, and a descriptor that becomes readable when it does,
/// for the waits in `poll(2)` to wake on.
struct Ending {
    ended: AtomicBool,
    /// An eventfd, written once when the instance ends.
    fd: OwnedFd,
}

impl SharedCtx {
    /// The context `ctx` over `memory`, for all the threads of one guest.
    pub(crate) fn new(ctx: WasiCtx, memory: SharedMemory) -> std::io::Result<SharedCtx> {
        let fd = rustix::event::eventfd(
            0,
            rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
        )?;
        Ok(SharedCtx {
            ctx: Mutex::new(ctx),
            memory,
            ending: Ending {
                ended: AtomicBool::new(false),
                fd,
            },
        })
    }

    /// The shared memory.
    pub(crate) fn memory(&self) -> &SharedMemory {
        &self.memory
    }

    /// The context, locked (for the instance's own uses between runs: flushing, the
    /// deadline).
    pub(crate) fn lock(&self) -> MutexGuard<'_, WasiCtx> {
        self.ctx.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends every wait, now and later: the calls blocked in one return
    /// [`InstanceEnded`], and so does every call made after.
    pub(crate) fn end(&self) {
        if !self.ending.ended.swap(true, Ordering::SeqCst) {
            let _ = rustix::io::write(&self.ending.fd, &1u64.to_ne_bytes());
        }
    }

    /// Whether [`end`](Self::end) was called.
    pub(crate) fn has_ended(&self) -> bool {
        self.ending.ended.load(Ordering::SeqCst)
    }

    /// Makes one WASI call `f` for one thread (see the module's documentation).
    pub(crate) fn call<R>(
        &self,
        f: impl Fn(&mut WasiCtx, &mut AbiMemory<'_>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        loop {
            if self.has_ended() {
                return Err(wasmtime::Error::new(InstanceEnded));
            }
            let (blocked, deadline) = {
                let mut ctx = self.lock();
                ctx.waits.defer = true;
                let mut memory = AbiMemory::Shared(self.memory.data());
                let tried = f(&mut ctx, &mut memory);
                ctx.waits.defer = false;
                match tried {
                    Err(e) if e.is::<WouldBlock>() => (
                        e.downcast::<WouldBlock>().expect("checked just now"),
                        ctx.waits.deadline,
                    ),
                    done => return done,
                }
            };
            self.wait(blocked, deadline)?;
        }
    }

    /// Waits, without the lock, until what `blocked` waits for is ready, its wake-up
    /// time or the `deadline` passes, or the instance ends.
    fn wait(&self, blocked: WouldBlock, deadline: Option<Instant>) -> wasmtime::Result<()> {
        let ending = self.ending.fd.as_fd();
        let mut fds = Vec::with_capacity(blocked.fds.len() + 1);
        let mut interests = Vec::with_capacity(blocked.fds.len() + 1);
        fds.push(PollFd::new(&ending, PollFlags::IN));
        interests.push(Ready::Read);
        for (fd, ready) in &blocked.fds {
            fds.push(PollFd::new(fd, ready.flags()));
            interests.push(*ready);
        }
        let waits = Waits {
            deadline,
            defer: false,
        };
        match poll_until(&mut fds, &interests, blocked.wake, waits) {
            _ if self.has_ended() => Err(wasmtime::Error::new(InstanceEnded)),
            Ok(_) => Ok(()),
            Err(SysErr::Trap(e)) => Err(e),
            Err(other) => Err(wasmtime::format_err!("waiting in a WASI call: {other:?}")),
        }
    }
}
