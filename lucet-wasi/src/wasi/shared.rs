//! One WASI context for the threads of one guest (wasi-threads): each thread is a store
//! of its own, and every store's calls go to the same [`SharedCtx`].
//!
//! A call takes the context's lock, runs with its waits deferred (as the async glue
//! does: a call that would block fails with `WouldBlock` before any side effect), and
//! gives the lock back; a call that would block then waits — without the lock, so the
//! other threads' calls go on — for its descriptors, its clock, the deadline, or the
//! end of the instance, and is made again. Guest memory is the shared memory, seen
//! through wiggle's `GuestMemory::Shared`: no Rust reference into it is ever made.

use super::wait::{DeadlineReached, Ready, WouldBlock};
use super::{AbiMemory, WasiCtx};
use rustix::event::{PollFd, PollFlags, Timespec};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
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
        let until = match (blocked.wake, deadline) {
            (Some(w), Some(d)) => Some(w.min(d)),
            (w, d) => w.or(d),
        };
        let ending = self.ending.fd.as_fd();
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(blocked.fds.len() + 1);
        fds.push(PollFd::new(&ending, PollFlags::IN));
        for (fd, ready) in &blocked.fds {
            let flags = match ready {
                Ready::Read => PollFlags::IN,
                Ready::Write => PollFlags::OUT,
            };
            fds.push(PollFd::new(fd, flags));
        }
        loop {
            let now = Instant::now();
            if self.has_ended() {
                return Err(wasmtime::Error::new(InstanceEnded));
            }
            if deadline.is_some_and(|d| now >= d) {
                return Err(wasmtime::Error::new(DeadlineReached));
            }
            if until.is_some_and(|u| now >= u) {
                return Ok(());
            }
            let timeout = until.map(|u| timespec(u - now));
            match rustix::event::poll(&mut fds, timeout.as_ref()) {
                Ok(0) => continue,
                Ok(_) if fds[0].revents().is_empty() => return Ok(()),
                Ok(_) => continue,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn timespec(d: Duration) -> Timespec {
    // Round up so a wait never ends early.
    let d = d + Duration::from_nanos(999);
    Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: d.subsec_nanos() as _,
    }
}
