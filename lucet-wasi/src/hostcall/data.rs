//! The embedder data and WASI context a host-function call works with: an unthreaded
//! instance's, borrowed from its store; a threaded instance's, shared by its threads —
//! the data behind [`SharedData`]'s lock, which serialises the calls that take it, and
//! the WASI context behind its own.
//!
//! Between runs a threaded instance holds its data itself (so that
//! [`WasiInstance::data`](crate::WasiInstance::data) can hand out a reference); it lends
//! it to its threads for a run, or for the code its build runs, and takes it back after.

use crate::error::HostcallError;
use crate::wasi::{InstanceEnded, SharedCtx, WasiCtx};
use std::any::Any;
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};

/// A threaded instance's embedder data: one value for all its threads.
pub(crate) struct SharedData {
    state: Mutex<State>,
    changed: Condvar,
    value: UnsafeCell<Box<dyn Any + Send>>,
    name: &'static str,
}

// SAFETY: `value` is reached only by its holder (`State::holder`), one at a time, and
// it is `Send`.
unsafe impl Sync for SharedData {}

struct State {
    holder: Holder,
    /// The instance has ended: no call takes the data again.
    closed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Holder {
    /// The instance, between runs.
    Instance,
    /// Nobody: a thread's call may take it.
    Free,
    /// A thread's call ([`DataGuard`]).
    Call,
}

impl SharedData {
    /// The embedder data `value` (of type `name`), held by the instance.
    pub(crate) fn new(value: Box<dyn Any + Send>, name: &'static str) -> SharedData {
        SharedData {
            state: Mutex::new(State {
                holder: Holder::Instance,
                closed: false,
            }),
            changed: Condvar::new(),
            value: UnsafeCell::new(value),
            name,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The data for one call, once no other call has it; fails once the instance has
    /// ended (the thread is being stopped).
    pub(crate) fn lock(&self) -> Result<DataGuard<'_>, HostcallError> {
        let mut state = self.state();
        loop {
            if state.closed {
                return Err(HostcallError::Failed(Box::new(InstanceEnded)));
            }
            if state.holder == Holder::Free {
                state.holder = Holder::Call;
                return Ok(DataGuard { data: self });
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The instance lets its threads' calls take the data (until [`reclaim`](Self::reclaim)).
    pub(crate) fn lend(&self) {
        let mut state = self.state();
        if state.holder == Holder::Instance {
            state.holder = Holder::Free;
        }
        self.changed.notify_all();
    }

    /// The instance takes the data back, once the call that has it (if any) returns.
    pub(crate) fn reclaim(&self) {
        let mut state = self.state();
        while state.holder == Holder::Call {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.holder = Holder::Instance;
    }

    /// No call takes the data any more: the calls waiting for it fail.
    pub(crate) fn close(&self) {
        self.state().closed = true;
        self.changed.notify_all();
    }

    /// The data's type name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The data, if the instance holds it.
    ///
    /// # Safety
    /// Only the instance calls this, and it gives out no other reference to the data
    /// while this one lives (it borrows itself as this does, shared).
    pub(crate) unsafe fn get(&self) -> Option<&(dyn Any + Send)> {
        let held = self.state().holder == Holder::Instance;
        // SAFETY: held by the instance: no call reaches the data until it lends it,
        // which the caller's borrow rules out while this reference lives.
        held.then(|| unsafe { &**self.value.get() })
    }

    /// The data, writable, if the instance holds it.
    ///
    /// # Safety
    /// As for [`get`](Self::get), with the instance borrowed exclusively.
    // The `&mut` comes from the `UnsafeCell`, under the exclusive borrow of the instance
    // that owns this (the group is shared with its threads, which cannot reach the data now).
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut(&self) -> Option<&mut (dyn Any + Send)> {
        let held = self.state().holder == Holder::Instance;
        // SAFETY: as in `get`, and the caller's exclusive borrow makes this the only one.
        held.then(|| unsafe { &mut **self.value.get() })
    }
}

/// One call's hold on a threaded instance's data; released when dropped.
pub struct DataGuard<'a> {
    data: &'a SharedData,
}

impl Drop for DataGuard<'_> {
    fn drop(&mut self) {
        self.data.state().holder = Holder::Free;
        self.data.changed.notify_all();
    }
}

/// The embedder data one call has.
pub enum DataRef<'a> {
    /// An unthreaded instance's, in its store.
    Own(&'a mut (dyn Any + Send)),
    /// A threaded instance's, held for the call.
    Locked(DataGuard<'a>),
}

impl<'a> DataRef<'a> {
    /// The data as a `T` (named `found` in the error if it is not one).
    #[inline]
    pub(crate) fn downcast<T: Any>(
        self,
        found: &'static str,
    ) -> Result<DataMut<'a, T>, HostcallError> {
        let wrong = || HostcallError::WrongData {
            expected: std::any::type_name::<T>(),
            found,
        };
        match self {
            DataRef::Own(data) => Ok(DataMut {
                value: data.downcast_mut().ok_or_else(wrong)?,
                _guard: None,
            }),
            DataRef::Locked(guard) => {
                // SAFETY: the guard holds the data for the call; the reference lives in
                // the `DataMut` beside it, which hands out only borrows of itself.
                let value = unsafe { &mut **guard.data.value.get() };
                Ok(DataMut {
                    value: value.downcast_mut().ok_or_else(wrong)?,
                    _guard: Some(guard),
                })
            }
        }
    }
}

/// The embedder data as a host function's `&mut T`, held for the call.
pub struct DataMut<'a, T> {
    value: &'a mut T,
    _guard: Option<DataGuard<'a>>,
}

impl<T> Deref for DataMut<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.value
    }
}

impl<T> DerefMut for DataMut<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.value
    }
}

/// The WASI context one call has: its store's, or a threaded instance's shared one
/// (locked for each use).
pub enum WasiRef<'a> {
    /// An unthreaded instance's.
    Own(&'a mut WasiCtx),
    /// A threaded instance's.
    Shared(&'a SharedCtx),
}

impl WasiRef<'_> {
    /// The same context, for a shorter borrow.
    pub(crate) fn reborrow(&mut self) -> WasiRef<'_> {
        match self {
            WasiRef::Own(ctx) => WasiRef::Own(ctx),
            WasiRef::Shared(shared) => WasiRef::Shared(shared),
        }
    }

    /// Runs `f` on the context.
    pub(crate) fn with<R>(&mut self, f: impl FnOnce(&mut WasiCtx) -> R) -> R {
        match self {
            WasiRef::Own(ctx) => f(ctx),
            WasiRef::Shared(shared) => f(&mut shared.lock()),
        }
    }
}
