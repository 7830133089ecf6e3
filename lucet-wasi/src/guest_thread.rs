//! The threads guests run on. A guest needs a native stack that holds its whole wasm
//! stack, more than callers' threads usually have; creating such a thread per run would
//! dominate the cost of a small run. Instead each calling thread keeps a worker thread
//! (one per stack size it has needed) and hands it the run: the worker exits when its
//! caller thread does.

use crate::Error;
use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

type Job = Box<dyn FnOnce() -> Box<dyn Any + Send> + Send>;
type Done = std::thread::Result<Box<dyn Any + Send>>;

struct Worker {
    stack: usize,
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Done>,
}

thread_local! {
    static WORKERS: RefCell<Vec<Worker>> = const { RefCell::new(Vec::new()) };
}

impl Worker {
    fn spawn(stack: usize) -> Result<Worker, Error> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel::<Done>();
        std::thread::Builder::new()
            .name("lucet-wasi-guest".into())
            .stack_size(stack)
            .spawn(move || {
                for job in job_rx {
                    if done_tx.send(catch_unwind(AssertUnwindSafe(job))).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| {
                Error::Host(format!(
                    "cannot start a guest thread with {stack} bytes of stack: {e}"
                ))
            })?;
        Ok(Worker { stack, jobs, done })
    }
}

/// Runs `f` on a thread with at least `stack` bytes of native stack and returns its
/// result; a panic in `f` is an internal error, not a crash of the caller.
pub(crate) fn run<T: Send + 'static>(
    stack: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    let mut job: Job = Box::new(move || Box::new(f()) as Box<dyn Any + Send>);
    let done = WORKERS.with(|workers| {
        let mut workers = workers.borrow_mut();
        loop {
            let index = match workers.iter().position(|w| w.stack >= stack) {
                Some(i) => i,
                None => {
                    workers.push(Worker::spawn(stack)?);
                    workers.len() - 1
                }
            };
            match workers[index].jobs.send(job) {
                Ok(()) => {
                    return workers[index]
                        .done
                        .recv()
                        .map_err(|_| Error::Host("internal error: a guest thread exited".into()))
                }
                // That worker is gone: drop it and use another.
                Err(mpsc::SendError(returned)) => {
                    workers.swap_remove(index);
                    job = returned;
                }
            }
        }
    })?;
    let value = done.map_err(|_| Error::Host("internal error: a guest thread panicked".into()))?;
    value
        .downcast::<T>()
        .map(|v| *v)
        .map_err(|_| Error::Host("internal error: a guest thread returned another type".into()))
}
