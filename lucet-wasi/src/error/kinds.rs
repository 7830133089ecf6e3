//! The kinds some [`Error`](super::Error) variants carry: what exactly is wrong, as data
//! a caller can match on. Each prints as the reason part of its variant's message.

use crate::Bytes;
use std::fmt;

/// The rule a limit breaks: [`Error::InvalidLimit`](super::Error::InvalidLimit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitRule {
    /// Limits are multiples of 4 KiB.
    NotPageMultiple,
    /// The stack cannot be empty.
    Zero,
    /// Above the largest value allowed.
    AboveMaximum {
        /// The largest value allowed.
        max: Bytes,
    },
    /// The maximum heap is larger than the address space reserved for it.
    AboveAddressSpace {
        /// The heap address space.
        address_space: Bytes,
    },
    /// Set on a builder for a compiled module whose engine has another value; it is
    /// engine-wide.
    DiffersFromEngine {
        /// The engine's value.
        engine: Bytes,
    },
}

impl fmt::Display for LimitRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitRule::NotPageMultiple => f.write_str("not a multiple of 4 KiB"),
            LimitRule::Zero => f.write_str("must not be zero"),
            LimitRule::AboveMaximum { max } => write!(f, "larger than the maximum of {max}"),
            LimitRule::AboveAddressSpace { address_space } => {
                write!(f, "larger than the heap address space ({address_space})")
            }
            LimitRule::DiffersFromEngine { engine } => write!(
                f,
                "the compiled module's engine has {engine}; it is engine-wide: set it in the \
                 EngineConfig the module is compiled with"
            ),
        }
    }
}

/// Why a precompiled module cannot be loaded: [`Error::Precompiled`](super::Error::Precompiled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrecompiledProblem {
    /// Precompiled code is native code: it loads only through the `unsafe` loaders.
    NeedsUnsafeLoader,
    /// It does not carry this user's seal: precompiled elsewhere, by another user,
    /// without one, or changed since.
    NotSealed,
    /// The bytes are not a precompiled module (or are truncated or corrupt).
    NotAnArtifact,
    /// It is a precompiled component, and the `components` feature is off.
    Component,
    /// It was compiled with timeout support (`artifact: true`) and the engine has none,
    /// or the reverse.
    TimeoutSupport {
        /// Whether the artifact has interruption checks.
        artifact: bool,
    },
    /// It was compiled with this WebAssembly proposal on, and the engine has it off.
    ProposalOff {
        /// The proposal's `--wasm` name.
        proposal: &'static str,
    },
    /// Another incompatibility with the engine (version, target, settings): the
    /// error's source says which.
    Incompatible,
}

impl fmt::Display for PrecompiledProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrecompiledProblem::NeedsUnsafeLoader => f.write_str(
                "precompiled modules are native code and load only through the unsafe \
                 Module::from_precompiled_file (the CLI runs them directly)",
            ),
            PrecompiledProblem::NotSealed => f.write_str(
                "not sealed by this user's `lucet-wasi compile` (made elsewhere, by another \
                 user, or changed since); precompiled modules are native code: run it with \
                 --allow-precompiled only if you trust it",
            ),
            PrecompiledProblem::NotAnArtifact => {
                f.write_str("truncated, corrupt or not precompiled (not a Wasmtime artifact)")
            }
            PrecompiledProblem::Component => f.write_str(
                "it is a precompiled WASI 0.2 component, and this lucet-wasi was built \
                     without the `components` feature",
            ),
            PrecompiledProblem::TimeoutSupport { artifact: false } => f.write_str(
                "it was compiled without timeout support, but this engine has it \
                 (EngineConfig { timeout_capable: true }); compile it with \
                 `lucet-wasi compile --timeout-capable`",
            ),
            PrecompiledProblem::TimeoutSupport { artifact: true } => f.write_str(
                "it was compiled with timeout support (`lucet-wasi compile \
                 --timeout-capable`), but this engine has none; load it with EngineConfig \
                 { timeout_capable: true }",
            ),
            PrecompiledProblem::ProposalOff { proposal } => write!(
                f,
                "it was compiled with the WebAssembly `{proposal}` proposal on, but it is \
                 switched off here (--wasm {proposal}=n); run it with the switches it was \
                 compiled with, or compile it again with these"
            ),
            PrecompiledProblem::Incompatible => {
                f.write_str("made by another version or configuration")
            }
        }
    }
}

/// A setting the engine of a module lacks for what the builder asks:
/// [`Error::EngineLacks`](super::Error::EngineLacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineSetting {
    /// Interruption checks, for a timeout.
    TimeoutForTimeout,
    /// Interruption checks, for async runs (where a busy guest yields).
    TimeoutForAsync,
    /// Fuel metering, for a fuel budget.
    Fuel,
    /// Interruption checks, for a threaded module (how its threads are stopped).
    TimeoutForThreads,
    /// The wasm features asked for (they are engine-wide).
    WasmFeatures,
}

impl fmt::Display for EngineSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EngineSetting::TimeoutForTimeout => {
                "a timeout needs an engine with EngineConfig { timeout_capable: true, .. } \
                 (this module's engine compiled it without interruption checks)"
            }
            EngineSetting::TimeoutForAsync => {
                "async runs need an engine with EngineConfig { timeout_capable: true, .. }: \
                 its interruption checks are where a busy guest yields to the executor"
            }
            EngineSetting::Fuel => {
                "a fuel budget needs an engine with EngineConfig { fuel: true, .. }"
            }
            EngineSetting::TimeoutForThreads => {
                "a threaded module (one that imports a shared memory) needs an engine with \
                 EngineConfig { timeout_capable: true, .. }: its interruption checks are how \
                 the instance stops all its threads when it ends"
            }
            EngineSetting::WasmFeatures => {
                "the wasm features differ from the module's engine: they are engine-wide, \
                 set them in the EngineConfig"
            }
        })
    }
}

/// Why an instance ended, so that it runs no more: what [`Error::Ended`](super::Error::Ended)
/// carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndCause {
    /// The guest trapped.
    Trapped,
    /// A host function failed (`module::name`, as the guest imports it).
    HostFunctionFailed {
        /// The function.
        function: String,
    },
    /// The guest ran past its timeout.
    TimedOut,
    /// The guest used up its fuel.
    OutOfFuel,
    /// The guest called `proc_exit`.
    Exited {
        /// Its exit status.
        status: u32,
    },
    /// A threaded guest's entry point returned: its other threads were stopped with it.
    Returned,
}

impl fmt::Display for EndCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndCause::Trapped => f.write_str("it trapped"),
            EndCause::HostFunctionFailed { function } => {
                write!(f, "host function `{function}` failed")
            }
            EndCause::TimedOut => f.write_str("it timed out"),
            EndCause::OutOfFuel => f.write_str("it ran out of fuel"),
            EndCause::Exited { status } => write!(f, "it exited with status {status}"),
            EndCause::Returned => f.write_str("its entry point returned, ending its threads"),
        }
    }
}

impl EndCause {
    /// The cause of an instance's end, if a run or call that failed with `e` ends it.
    pub(crate) fn of(e: &super::Error) -> Option<EndCause> {
        use super::Error;
        Some(match e {
            Error::Trap { .. } => EndCause::Trapped,
            Error::HostFunction { function, .. } => EndCause::HostFunctionFailed {
                function: function.clone(),
            },
            Error::Timeout { .. } => EndCause::TimedOut,
            Error::OutOfFuel { .. } => EndCause::OutOfFuel,
            Error::Exited { status } => EndCause::Exited { status: *status },
            _ => return None,
        })
    }
}

/// A call that does not fit the instance's state: [`Error::Misuse`](super::Error::Misuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misuse {
    /// `_initialize` of a reactor runs once, when the instance is built.
    InitializeAgain,
    /// A sync `run`/`call` of an instance built with `build_async`.
    SyncRunOfAsyncInstance,
    /// `run_async`/`call_async` of an instance built with `build`.
    AsyncRunOfSyncInstance,
    /// An async build or run outside a tokio runtime.
    NoTokioRuntime,
    /// The instance has no guest left: an async run was cancelled or an internal error
    /// lost it.
    InstanceLost,
    /// Something threaded instances (of modules importing a shared memory) do not do
    /// yet: `what` names it.
    NotForThreaded {
        /// What was asked.
        what: &'static str,
    },
    /// Something that applies to core modules only, asked of a WASI 0.2 component:
    /// `what` names it.
    NotForComponents {
        /// What was asked.
        what: &'static str,
    },
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Misuse::InitializeAgain => {
                "`_initialize` already ran when the instance was built (reactors are \
                 initialised once, before any other export is called)"
            }
            Misuse::SyncRunOfAsyncInstance => {
                "this instance was built with build_async(): run it with run_async() or \
                 call_async()"
            }
            Misuse::AsyncRunOfSyncInstance => {
                "this instance was built with build(): build it with build_async() to run \
                 it with run_async() or call_async()"
            }
            Misuse::NoTokioRuntime => {
                "build_async, run_async and call_async need a tokio runtime (with time and \
                 IO enabled)"
            }
            Misuse::InstanceLost => {
                "this instance has no guest left: an earlier run was cancelled (its future \
                 dropped) or failed"
            }
            Misuse::NotForComponents { what } => {
                return write!(
                    f,
                    "{what}: for core modules only, not for WASI 0.2 components (a component \
                     runs its `wasi:cli/run` with run(\"_start\"))"
                )
            }
            Misuse::NotForThreaded { what } => {
                return write!(
                    f,
                    "{what} is not supported for threaded instances (of modules that import a \
                     shared memory) yet"
                )
            }
        })
    }
}

/// What is wrong with an argument or environment variable for the guest:
/// [`Error::GuestArgument`](super::Error::GuestArgument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgumentProblem {
    /// It contains a NUL byte (the guest receives C strings).
    NulByte,
    /// An environment variable's name is empty or contains `=`.
    BadName,
    /// Arguments or environment together are too large for the guest.
    TooLarge,
}

/// What is wrong with a `--wasm` switch list: [`Error::WasmFeature`](super::Error::WasmFeature).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeatureProblem {
    /// No proposal has this name.
    UnknownName {
        /// The name given.
        name: String,
        /// The names known.
        known: &'static [&'static str],
    },
    /// The value is neither y nor n.
    BadValue {
        /// The proposal.
        name: String,
        /// The value given.
        value: String,
    },
    /// `gc` is on and `function-references` off.
    GcNeedsFunctionReferences,
}

impl fmt::Display for FeatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureProblem::UnknownName { name, known } => {
                write!(
                    f,
                    "unknown wasm feature {name:?} (known: {})",
                    known.join(", ")
                )
            }
            FeatureProblem::BadValue { name, value } => {
                write!(f, "wasm feature {name}={value}: the value must be y or n")
            }
            FeatureProblem::GcNeedsFunctionReferences => f.write_str(
                "wasm feature gc needs function-references (switch gc off too, or keep \
                 function-references on)",
            ),
        }
    }
}

/// Why a compile-cache directory is not used: [`Error::Cache`](super::Error::Cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheProblem {
    /// It cannot be created.
    CannotCreate,
    /// Its metadata cannot be read.
    CannotInspect,
    /// Another user owns it.
    OwnedByOther,
    /// Other users may write to it.
    WritableByOthers {
        /// Its permission bits.
        mode: u32,
    },
}

impl fmt::Display for CacheProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheProblem::CannotCreate => f.write_str("cannot create it"),
            CacheProblem::CannotInspect => f.write_str("cannot inspect it"),
            CacheProblem::OwnedByOther => f.write_str("owned by another user"),
            CacheProblem::WritableByOthers { mode } => write!(
                f,
                "writable by other users (mode {mode:o}): its entries are native code"
            ),
        }
    }
}
