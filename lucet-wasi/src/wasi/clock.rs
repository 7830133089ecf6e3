//! `clock_res_get` and `clock_time_get`.

use super::types::Errno;
use super::{SysErr, WasiCtx};
use rustix::time::{ClockId, Timespec};

/// The host clock behind a WASI `clockid`; anything else is `inval`.
fn host_clock(id: u32) -> Result<ClockId, Errno> {
    Ok(match id {
        0 => ClockId::Realtime,
        1 => ClockId::Monotonic,
        2 => ClockId::ProcessCPUTime,
        3 => ClockId::ThreadCPUTime,
        _ => return Err(Errno::Inval),
    })
}

fn nanos(t: Timespec) -> Result<u64, Errno> {
    let secs = u64::try_from(t.tv_sec).map_err(|_| Errno::Overflow)?;
    let nsec = u64::try_from(t.tv_nsec).map_err(|_| Errno::Overflow)?;
    secs.checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(nsec))
        .ok_or(Errno::Overflow)
}

/// Reads a clock in nanoseconds (used by `poll_oneoff` too).
pub(crate) fn now(id: u32) -> Result<u64, Errno> {
    nanos(rustix::time::clock_gettime(host_clock(id)?))
}

impl WasiCtx {
    pub(super) fn clock_res_get(&self, id: u32) -> Result<u64, SysErr> {
        // A resolution of 0 would be a lie; report at least 1 ns.
        Ok(nanos(rustix::time::clock_getres(host_clock(id)?))?.max(1))
    }

    pub(super) fn clock_time_get(&self, id: u32) -> Result<u64, SysErr> {
        Ok(now(id)?)
    }
}
