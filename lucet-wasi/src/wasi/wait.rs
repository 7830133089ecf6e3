//! Blocking waits that still honour the instance's deadline.

use super::SysErr;
use rustix::event::{PollFd, PollFlags, Timespec};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

/// The guest's call ran into its instance's deadline while blocked in the host.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineReached;

impl std::fmt::Display for DeadlineReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline reached while blocked in a host call")
    }
}

impl std::error::Error for DeadlineReached {}

/// What to wait for on a descriptor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ready {
    Read,
    Write,
}

impl Ready {
    pub(crate) fn flags(self) -> PollFlags {
        match self {
            Ready::Read => PollFlags::IN,
            Ready::Write => PollFlags::OUT,
        }
    }
}

/// How the blocking calls of one guest wait: until when, and whether at all.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Waits {
    /// When the running call must end (the instance's timeout): a call blocked in the
    /// host wakes up by then and ends the guest.
    pub(crate) deadline: Option<Instant>,
    /// Set by the async glue around each call it makes: a call that would wait fails
    /// with [`WouldBlock`] instead (before any side effect), for the glue to await what
    /// it waits for on the executor and make the call again.
    pub(crate) defer: bool,
}

/// Waits until `fd` is ready (or has an error/hangup to report), or traps at the
/// deadline.
pub(crate) fn wait_for(fd: BorrowedFd<'_>, ready: Ready, waits: Waits) -> Result<(), SysErr> {
    let mut fds = [PollFd::new(&fd, ready.flags())];
    poll_until(&mut fds, &[ready], None, waits)?;
    Ok(())
}

/// Polls `fds` until one is ready, `wake` passes (returns false then), or the deadline
/// passes (a trap that ends the guest). With [`Waits::defer`], it does not wait: what it
/// would wait for is returned as [`WouldBlock`]; `interests` are what each of `fds`
/// waits for.
pub(crate) fn poll_until(
    fds: &mut [PollFd<'_>],
    interests: &[Ready],
    wake: Option<Instant>,
    waits: Waits,
) -> Result<bool, SysErr> {
    let deadline = waits.deadline;
    if waits.defer {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(SysErr::Trap(wasmtime::Error::new(DeadlineReached)));
        }
        if !fds.is_empty() && poll_now(fds)? {
            return Ok(true);
        }
        if wake.is_some_and(|w| Instant::now() >= w) {
            return Ok(false);
        }
        return Err(would_block(fds, interests, wake));
    }
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Err(SysErr::Trap(wasmtime::Error::new(DeadlineReached)));
        }
        if wake.is_some_and(|w| now >= w) {
            return Ok(false);
        }
        let until = match (wake, deadline) {
            (Some(w), Some(d)) => Some(w.min(d)),
            (w, d) => w.or(d),
        };
        let timeout = until.map(|u| timespec(u - now));
        match rustix::event::poll(fds, timeout.as_ref()) {
            Ok(0) => continue,
            Ok(_) => return Ok(true),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
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

/// What a deferred wait waits for: any of `fds` ready, or `wake` (whichever first).
/// Descriptors are duplicates, so they outlive the call that made them.
#[derive(Debug)]
#[cfg_attr(not(feature = "async"), allow(dead_code))]
pub(crate) struct WouldBlock {
    pub(crate) fds: Vec<(std::os::fd::OwnedFd, Ready)>,
    pub(crate) wake: Option<Instant>,
}

impl std::fmt::Display for WouldBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("internal error: a deferred wait escaped the async glue")
    }
}

impl std::error::Error for WouldBlock {}

/// The deferred form of a wait on `fds` (with their interests) until `wake`.
fn would_block(fds: &[PollFd<'_>], interests: &[Ready], wake: Option<Instant>) -> SysErr {
    let mut dups = Vec::with_capacity(fds.len());
    for (p, ready) in fds.iter().zip(interests) {
        match rustix::io::fcntl_dupfd_cloexec(p, 0) {
            Ok(fd) => dups.push((fd, *ready)),
            Err(e) => return e.into(),
        }
    }
    SysErr::Trap(wasmtime::Error::new(WouldBlock { fds: dups, wake }))
}

/// Whether a call ended in a deferred wait (which the async glue retries: not a result).
pub(crate) fn is_deferred(e: &wasmtime::Error) -> bool {
    e.is::<WouldBlock>()
}

/// Whether `r` is a deferred wait.
pub(crate) fn is_would_block<T>(r: &Result<T, SysErr>) -> bool {
    matches!(r, Err(SysErr::Trap(e)) if e.is::<WouldBlock>())
}

/// Polls without waiting; `Ok(true)` if any is ready.
fn poll_now(fds: &mut [PollFd<'_>]) -> Result<bool, SysErr> {
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        match rustix::event::poll(fds, Some(&zero)) {
            Ok(n) => return Ok(n > 0),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
