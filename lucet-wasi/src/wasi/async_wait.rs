//! Awaiting a deferred wait ([`WouldBlock`]) on the tokio reactor and timer, so that a
//! guest blocked in WASI leaves its thread to other tasks.

use super::wait::{DeadlineReached, Ready, WouldBlock};
use std::future::{poll_fn, Future};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// The longest a wait lasts for a descriptor epoll cannot watch, before the call is
/// retried.
const RETRY: Duration = Duration::from_millis(10);

/// Waits until one of the descriptors is ready, the wake-up time passes, or the
/// instance's `deadline` passes (an error that ends the guest with its timeout). A
/// descriptor epoll cannot watch (a regular file) does not block `poll(2)` either, so
/// the retry finds it ready; should one still be refused, the wait lasts at most
/// [`RETRY`], so the call is retried without spinning.
pub(crate) async fn wait(blocked: WouldBlock, deadline: Option<Instant>) -> wasmtime::Result<()> {
    let mut until = match (blocked.wake, deadline) {
        (Some(w), Some(d)) => Some(w.min(d)),
        (w, d) => w.or(d),
    };
    let mut watched = Vec::with_capacity(blocked.fds.len());
    for (fd, ready) in blocked.fds {
        let interest = match ready {
            Ready::Read => Interest::READABLE,
            Ready::Write => Interest::WRITABLE,
        };
        // SAFETY: `AsyncFd` owns the descriptor (a duplicate made for this wait) and
        // deregisters it before closing it.
        match unsafe { AsyncFd::register_with_interest(fd, interest) } {
            Ok(watch) => watched.push((watch, ready)),
            Err(_) => {
                let retry = Instant::now() + RETRY;
                until = Some(until.map_or(retry, |u| u.min(retry)));
            }
        }
    }
    let mut sleep = until.map(|at| Box::pin(tokio::time::sleep_until(at.into())));
    poll_fn(|cx| {
        for (watch, ready) in &watched {
            let polled = match ready {
                Ready::Read => watch.poll_read_ready(cx).map(drop),
                Ready::Write => watch.poll_write_ready(cx).map(drop),
            };
            if polled.is_ready() {
                return Poll::Ready(());
            }
        }
        match &mut sleep {
            Some(s) => s.as_mut().poll(cx),
            None => Poll::Pending,
        }
    })
    .await;
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(wasmtime::Error::new(DeadlineReached));
    }
    Ok(())
}
