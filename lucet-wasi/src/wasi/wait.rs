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
#[derive(Clone, Copy, PartialEq, Eq)]
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

/// Waits until `fd` is ready (or has an error/hangup to report), or traps at `deadline`.
pub(crate) fn wait_for(
    fd: BorrowedFd<'_>,
    ready: Ready,
    deadline: Option<Instant>,
) -> Result<(), SysErr> {
    let mut fds = [PollFd::new(&fd, ready.flags())];
    poll_until(&mut fds, None, deadline)?;
    Ok(())
}

/// Polls `fds` until one is ready, `wake` passes (returns false then), or `deadline`
/// passes (a trap that ends the guest).
pub(crate) fn poll_until(
    fds: &mut [PollFd<'_>],
    wake: Option<Instant>,
    deadline: Option<Instant>,
) -> Result<bool, SysErr> {
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
