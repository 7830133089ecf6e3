//! `poll_oneoff`.

use super::types::{Errno, Event, Subscription};
use super::{SysErr, WasiCtx};
use wiggle::GuestPtr;

impl WasiCtx {
    /// An empty subscription list is `inval`; waiting arrives with the sandbox issue.
    pub(super) fn poll(
        &mut self,
        _subs: GuestPtr<Subscription>,
        _events: GuestPtr<Event>,
        nsubscriptions: u32,
    ) -> Result<u32, SysErr> {
        if nsubscriptions == 0 {
            return Err(Errno::Inval.into());
        }
        Err(Errno::Notsup.into())
    }
}
