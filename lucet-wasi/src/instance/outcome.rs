//! How a run ended: [`Exit`] for a normal end, or the [`Error`] a failed run maps to.

use crate::error::WasmBacktrace;
use crate::hostcall::HostcallFailed;
use crate::wasi::{BadPointer, DeadlineReached, ExitRequested};
use crate::Error;
use std::time::Duration;
use wasmtime::Trap;

/// How a guest's run ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The entry point returned.
    Returned,
    /// The guest called `proc_exit` with this status.
    Exited(u32),
}

impl Exit {
    /// The process exit status this outcome stands for: 0 for a return, else the
    /// guest's status (the OS keeps it modulo 256).
    ///
    /// ```
    /// use lucet_wasi::Exit;
    /// assert_eq!(Exit::Returned.code(), 0);
    /// assert_eq!(Exit::Exited(42).code(), 42);
    /// ```
    pub fn code(&self) -> i32 {
        match *self {
            Exit::Returned => 0,
            Exit::Exited(n) => n as i32,
        }
    }
}

/// Turns the error a guest ended with into an exit, a trap or a timeout. `memory` is the
/// size of the guest's memory, for the message of a bad pointer.
pub(crate) fn outcome(
    e: wasmtime::Error,
    timeout: Option<Duration>,
    memory: Option<u64>,
) -> Result<Exit, Error> {
    let e = match e.downcast::<wasmtime::PoolConcurrencyLimitError>() {
        Ok(source) => return Err(Error::PoolExhausted { source }),
        Err(e) => e,
    };
    if let Some(ExitRequested(status)) = e.downcast_ref::<ExitRequested>() {
        return Ok(Exit::Exited(*status));
    }
    // A component's `exit` (0 or 1) or `exit-with-code`.
    #[cfg(feature = "components")]
    if let Some(wasmtime_wasi::I32Exit(status)) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Ok(Exit::Exited(*status as u32));
    }
    if let (Some(DeadlineReached), Some(after)) = (e.downcast_ref::<DeadlineReached>(), timeout) {
        return Err(Error::Timeout { after });
    }
    let wasm_backtrace = e.downcast_ref::<wasmtime::WasmBacktrace>();
    let backtrace = wasm_backtrace
        .map(WasmBacktrace::capture)
        .unwrap_or_default();
    // The backtrace is in the chain as the context Wasmtime adds; it is printed on its own.
    let context = wasm_backtrace.map(|bt| bt.to_string());
    let e = match e.downcast::<HostcallFailed>() {
        Ok(failed) => {
            return Err(Error::HostFunction {
                function: failed.function.to_string(),
                cause: failed.cause,
                backtrace,
            })
        }
        Err(e) => e,
    };
    // A bad pointer, found by our syscall code or by wiggle's glue: one line.
    let bad_pointer = e.downcast_ref::<BadPointer>().cloned().or_else(|| {
        e.downcast_ref::<wiggle::GuestError>()
            .and_then(|g| BadPointer::from_guest_error(g, "pointer"))
    });
    if let Some(bad) = bad_pointer {
        return Err(Error::Trap {
            message: bad.message(memory),
            backtrace,
            thread: None,
        });
    }
    if let Some(g) = e.downcast_ref::<wiggle::GuestError>() {
        // Other glue errors (a value it cannot convert): the call and the problem.
        let message = match g {
            wiggle::GuestError::InFunc { funcname, err, .. } => format!("{funcname}: {err}"),
            other => other.to_string(),
        };
        return Err(Error::Trap {
            message,
            backtrace,
            thread: None,
        });
    }
    match (e.downcast_ref::<Trap>(), timeout) {
        (Some(Trap::Interrupt), Some(after)) => Err(Error::Timeout { after }),
        (Some(Trap::OutOfFuel), _) => Err(Error::OutOfFuel { backtrace }),
        (Some(trap), _) => Err(Error::Trap {
            message: trap
                .to_string()
                .trim_start_matches("wasm trap: ")
                .to_string(),
            backtrace,
            thread: None,
        }),
        // Any other error a host function ended the guest with: its causes on one line,
        // without the backtrace context.
        (None, _) => Err(Error::Trap {
            message: e
                .chain()
                .map(|c| c.to_string())
                .filter(|c| Some(c) != context.as_ref())
                .collect::<Vec<_>>()
                .join(": "),
            backtrace,
            thread: None,
        }),
    }
}

/// The `tracing` event for how a run ended.
pub(crate) fn log_outcome(exit: &Result<Exit, Error>) {
    match exit {
        Ok(Exit::Returned) => tracing::debug!(status = 0, "returned"),
        Ok(Exit::Exited(status)) => tracing::debug!(status, "exited"),
        Err(e) => tracing::debug!(error = %e, "failed"),
    }
}
