//! `poll_oneoff`: clock and descriptor subscriptions.

use super::clock;
use super::ctx::Entry;
use super::errno::PointerRole;
use super::types::{
    Errno, Event, EventFdReadwrite, Eventrwflags, Eventtype, Fd, Subclockflags, Subscription,
    SubscriptionClock, SubscriptionU,
};
use super::wait::{is_would_block, poll_until, Ready, Waits};
use super::AbiMemory;
use super::{SysErr, WasiCtx};
use rustix::event::{PollFd, PollFlags};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};
use wiggle::GuestPtr;

/// More subscriptions than this in one call is `inval`.
const MAX_SUBSCRIPTIONS: u32 = 4096;

/// How a descriptor subscription can be answered.
enum Readiness<'a> {
    /// At once, with this error (`success` if ready) and byte count.
    Now(Errno, u64),
    /// When the host descriptor is ready.
    Host(BorrowedFd<'a>),
}

impl WasiCtx {
    /// Waits until at least one subscription is satisfied, then reports every satisfied
    /// one. Clock-only polls (sleeps) allocate nothing; a call that would outlive the
    /// instance's deadline ends the guest at the deadline.
    pub(super) fn poll_oneoff(
        &mut self,
        mem: &mut AbiMemory<'_>,
        subs: GuestPtr<Subscription>,
        events: GuestPtr<Event>,
        n: u32,
    ) -> Result<u32, SysErr> {
        if n == 0 || n > MAX_SUBSCRIPTIONS {
            return Err(Errno::Inval.into());
        }
        let subs = subs.as_array(n);
        let start = self.poll_start.take().unwrap_or_else(Instant::now);

        // Pass 1: what is ready now, the earliest clock, and the host descriptors to watch.
        let mut pollfds: Vec<PollFd<'_>> = Vec::new();
        let mut interests: Vec<Ready> = Vec::new();
        let mut wake: Option<Instant> = None;
        let mut ready_now = false;
        for sub in subs.iter() {
            match sub.and_then(|s| mem.read(s)).role("subscription array")?.u {
                SubscriptionU::Clock(c) => {
                    if let Some(at) = clock_deadline(&c, start)? {
                        ready_now |= at <= start;
                        wake = Some(wake.map_or(at, |w| w.min(at)));
                    }
                }
                SubscriptionU::FdRead(s) => match self.readiness(s.file_descriptor, Ready::Read) {
                    Readiness::Now(..) => ready_now = true,
                    Readiness::Host(fd) => {
                        pollfds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
                        interests.push(Ready::Read);
                    }
                },
                SubscriptionU::FdWrite(s) => {
                    match self.readiness(s.file_descriptor, Ready::Write) {
                        Readiness::Now(..) => ready_now = true,
                        Readiness::Host(fd) => {
                            pollfds.push(PollFd::from_borrowed_fd(fd, PollFlags::OUT));
                            interests.push(Ready::Write);
                        }
                    }
                }
            }
        }
        if ready_now {
            if !pollfds.is_empty() {
                poll_until(
                    &mut pollfds,
                    &interests,
                    Some(start),
                    Waits {
                        deadline: None,
                        ..self.waits
                    },
                )?;
                rustix::event::poll(
                    &mut pollfds,
                    Some(&rustix::event::Timespec {
                        tv_sec: 0,
                        tv_nsec: 0,
                    }),
                )?;
            }
        } else {
            let waited = poll_until(&mut pollfds, &interests, wake, self.waits);
            if is_would_block(&waited) {
                self.poll_start.set(Some(start));
            }
            waited?;
        }

        // Pass 2: one event per satisfied subscription, in subscription order.
        let now = Instant::now();
        let mut host_fds = pollfds.iter();
        let mut count = 0u32;
        for sub in subs.iter() {
            let sub = sub.and_then(|s| mem.read(s)).role("subscription array")?;
            let fired = match sub.u {
                SubscriptionU::Clock(c) => {
                    clock_deadline(&c, start)?.filter(|at| *at <= now).map(|_| {
                        event(
                            sub.userdata,
                            Eventtype::Clock,
                            Errno::Success,
                            0,
                            Eventrwflags::empty(),
                        )
                    })
                }
                SubscriptionU::FdRead(s) => {
                    self.fd_event(s.file_descriptor, Ready::Read, &mut host_fds, sub.userdata)
                }
                SubscriptionU::FdWrite(s) => {
                    self.fd_event(s.file_descriptor, Ready::Write, &mut host_fds, sub.userdata)
                }
            };
            if let Some(ev) = fired {
                let slot = events.add(count).role("event array")?;
                mem.write(slot, ev).role("event array")?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// The event of a descriptor subscription, if it fired. Host descriptors take their
    /// poll results from `host_fds`, in subscription order.
    fn fd_event<'p>(
        &self,
        fd: Fd,
        want: Ready,
        host_fds: &mut impl Iterator<Item = &'p PollFd<'p>>,
        userdata: u64,
    ) -> Option<Event> {
        let type_ = match want {
            Ready::Read => Eventtype::FdRead,
            Ready::Write => Eventtype::FdWrite,
        };
        match self.readiness(fd, want) {
            Readiness::Now(error, nbytes) => {
                Some(event(userdata, type_, error, nbytes, Eventrwflags::empty()))
            }
            Readiness::Host(fd) => {
                let revents = host_fds.next().map_or(PollFlags::empty(), PollFd::revents);
                if !revents
                    .intersects(want.flags() | PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL)
                {
                    return None;
                }
                let nbytes = match want {
                    Ready::Read => rustix::io::ioctl_fionread(fd).unwrap_or(0),
                    Ready::Write => 0,
                };
                let flags = if revents.contains(PollFlags::HUP) {
                    Eventrwflags::FD_READWRITE_HANGUP
                } else {
                    Eventrwflags::empty()
                };
                Some(event(userdata, type_, Errno::Success, nbytes, flags))
            }
        }
    }

    /// Whether a descriptor is ready for `want` now, or must be polled on the host.
    fn readiness(&self, fd: Fd, want: Ready) -> Readiness<'_> {
        let entry = match self.fds.get(fd) {
            Ok(entry) => entry,
            Err(e) => return Readiness::Now(e, 0),
        };
        match (entry, want) {
            (Entry::Stdin(s), Ready::Read) if s.stream.host_fd().is_some() => {
                Readiness::Host(s.stream.host_fd().expect("checked just now"))
            }
            (Entry::Stdin(_), Ready::Read) => Readiness::Now(Errno::Success, 0),
            (Entry::Stdout(s), Ready::Write) => match s.stream.host_fd() {
                Some(fd) => Readiness::Host(fd),
                None => Readiness::Now(Errno::Success, 0),
            },
            (Entry::Socket(s), _) => Readiness::Host(s.fd()),
            // Regular files never block: ready at once, with the bytes left to read.
            (Entry::File(f), Ready::Read) => match f.need(super::types::Rights::FD_READ) {
                Ok(()) => Readiness::Now(Errno::Success, bytes_left(&f.file)),
                Err(e) => Readiness::Now(e, 0),
            },
            (Entry::File(f), Ready::Write) => match f.need(super::types::Rights::FD_WRITE) {
                Ok(()) => Readiness::Now(Errno::Success, 0),
                Err(e) => Readiness::Now(e, 0),
            },
            _ => Readiness::Now(Errno::Badf, 0),
        }
    }
}

/// Bytes between a file's position and its end.
fn bytes_left(file: &cap_std::fs::File) -> u64 {
    let pos = rustix::fs::seek(file, rustix::fs::SeekFrom::Current(0)).unwrap_or(0);
    let len = file.metadata().map_or(0, |m| m.len());
    len.saturating_sub(pos)
}

fn event(userdata: u64, type_: Eventtype, error: Errno, nbytes: u64, flags: Eventrwflags) -> Event {
    Event {
        userdata,
        error,
        type_,
        fd_readwrite: EventFdReadwrite { nbytes, flags },
    }
}

/// When a clock subscription fires, or `None` for never (beyond any representable time).
/// The CPU-time clocks are waited for in wall time: a thread blocked here uses no CPU, so
/// its own CPU clock would never get there (the event may fire before that CPU clock
/// reaches the timeout; it never fires before the same span of wall time).
fn clock_deadline(c: &SubscriptionClock, start: Instant) -> Result<Option<Instant>, Errno> {
    let id = c.id as u32;
    let from_now = if c.flags.contains(Subclockflags::SUBSCRIPTION_CLOCK_ABSTIME) {
        c.timeout.saturating_sub(clock::now(id)?)
    } else {
        clock::now(id)?; // validates the clock
        c.timeout
    };
    Ok(start.checked_add(Duration::from_nanos(from_now)))
}
