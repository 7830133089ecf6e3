//! A WASI 0.2 component's instance: built from the builder's settings (what a core
//! module would get from them), instantiated, and run once through its `wasi:cli/run`.

use super::outcome::{log_outcome, outcome};
use super::{arm_deadline, WasiInstance, START};
use crate::component::{self, Setup, State};
use crate::error::{EndCause, Misuse};
use crate::hostcall::{Borrows, Copies};
use crate::module::Module;
use crate::observe::{RunStats, Span, Usage};
use crate::{Bytes, Error, Exit, Limits, WasiInstanceBuilder};
use std::io::Write as _;
use std::time::Instant;
use wasmtime::Store;
use wasmtime_wasi::p2::bindings::Command;

/// A component instance: its store and its instantiated command.
pub(super) struct Guest {
    store: Store<State>,
    command: Command,
}

/// Builds an instance of the component `module` as the builder says.
pub(super) fn build(
    mut builder: WasiInstanceBuilder,
    module: Module,
    limits: Limits,
) -> Result<WasiInstance, Error> {
    let refuse = |what| Err(Error::Misuse(Misuse::NotForComponents { what }));
    if !builder.hostcalls.is_empty() {
        return refuse("host functions (#[hostcall])");
    }
    if !builder.sockets.is_empty() {
        return refuse("preopened sockets (--tcplisten, preopen_socket)");
    }
    builder.check_engine_support(&module, false)?;
    module.check_initial_memory(limits.max_heap)?;
    let code = module
        .component()
        .ok_or_else(|| Error::internal("a core module reached component code"))?;
    let pre = code.linked()?;
    let mut usage = None;
    if let Some(watch) = builder.watch.take() {
        if let Some(mut out) = watch.trace {
            // Said once, where the trace would be: nothing is traced yet.
            let _ = writeln!(
                out,
                "lucet-wasi: {} is a WASI 0.2 component: its calls are not traced (only \
                 preview1 modules' are)",
                module.name()
            );
        }
        if watch.stats {
            usage = Some(Usage::new(module.engine().config().fuel, builder.fuel));
        }
    }
    let argv0 = builder
        .program_name
        .take()
        .unwrap_or_else(|| module.name().to_string());
    let args = builder.guest_args(argv0).collect::<Result<_, _>>()?;
    let env = builder.guest_env()?;
    let setup = Setup {
        args,
        env,
        preopens: std::mem::take(&mut builder.preopens),
        stdin: std::mem::replace(&mut builder.stdin, crate::Input::null()),
        stdout: std::mem::replace(&mut builder.stdout, crate::Output::null()),
        stderr: std::mem::replace(&mut builder.stderr, crate::Output::null()),
        caps: builder.store_caps(limits),
    };
    let mut store = component::store(&module.engine().0.engine, setup)?;
    if module.engine().config().fuel {
        store
            .set_fuel(builder.fuel.unwrap_or(u64::MAX))
            .map_err(|e| Error::host("cannot set fuel", e))?;
    }
    let timeout = builder.timeout;
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    arm_deadline(&module, deadline, &mut store);
    let span = usage.is_some().then(Span::start);
    let instantiated = component::instantiate(pre, &mut store, deadline)?;
    if let (Some(span), Some(usage)) = (span, &mut usage) {
        span.end(usage);
    }
    let command = match instantiated {
        Some(Ok(command)) => command,
        None => {
            return Err(Error::Timeout {
                after: timeout.unwrap_or_default(),
            })
        }
        Some(Err(e)) => {
            let memory = Some(store.data().heap_peak());
            return Err(super::failed_call(outcome(e, timeout, memory)));
        }
    };
    tracing::debug!(module = module.name(), "instantiated a component");
    Ok(WasiInstance {
        inner: None,
        component: Some(Box::new(Guest { store, command })),
        module,
        timeout,
        async_yield: None,
        usage,
        ended: None,
        pre: None,
        fuel: builder.fuel,
        copies: Copies::default(),
        borrows: Borrows::new(),
    })
}

impl WasiInstance {
    /// Runs a component's `wasi:cli/run` (asked for as `_start`), once.
    pub(super) fn run_component(&mut self, entry: &str) -> Result<Exit, Error> {
        self.refuse_ended()?;
        if entry != START {
            return Err(Error::NoSuchExport {
                name: entry.to_string(),
            });
        }
        let Some(guest) = self.component.as_mut() else {
            return Err(Error::Misuse(Misuse::InstanceLost));
        };
        let deadline = self.timeout.and_then(|t| Instant::now().checked_add(t));
        arm_deadline(&self.module, deadline, &mut guest.store);
        let span = self.usage.is_some().then(Span::start);
        tracing::debug!(module = self.module.name(), "running a component");
        let result = component::run(&guest.command, &mut guest.store, deadline)?;
        if let (Some(span), Some(usage)) = (span, &mut self.usage) {
            span.end(usage);
        }
        let exit = match result {
            Some(Ok(Ok(()))) => Ok(Exit::Returned),
            // `wasi:cli/run` returned its error: a failed command, status 1.
            Some(Ok(Err(()))) => Ok(Exit::Exited(1)),
            Some(Err(e)) => outcome(e, self.timeout, Some(guest.store.data().heap_peak())),
            // Stopped while it waited in a WASI call.
            None => Err(Error::Timeout {
                after: self.timeout.unwrap_or_default(),
            }),
        };
        // A command runs once.
        self.ended = Some(match &exit {
            Ok(Exit::Exited(status)) => EndCause::Exited { status: *status },
            Ok(Exit::Returned) => EndCause::Returned,
            Err(e) => EndCause::of(e).unwrap_or(EndCause::Trapped),
        });
        log_outcome(&exit);
        exit
    }

    /// A component instance's statistics: time, peak memory and fuel (its calls are not
    /// counted).
    pub(super) fn component_stats(&self, usage: &Usage) -> Option<RunStats> {
        let guest = self.component.as_ref()?;
        Some(RunStats {
            wall: usage.wall,
            cpu: usage.cpu,
            peak_memory: Bytes(guest.store.data().heap_peak()),
            fuel_used: usage
                .fuel_budget
                .zip(guest.store.get_fuel().ok())
                .map(|(budget, left)| budget.saturating_sub(left)),
            calls_not_counted: true,
            ..Default::default()
        })
    }
}
