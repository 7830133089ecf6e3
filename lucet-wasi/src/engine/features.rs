//! The WebAssembly 3.0 proposals an engine accepts, each switchable.

use crate::error::FeatureProblem;
use crate::Error;

/// The proposals standardised in WebAssembly 3.0 that Wasmtime supports, as switches of
/// an [`EngineConfig`](crate::EngineConfig). All are on by default; a module that uses a
/// switched-off proposal fails to load with a message naming it. Wasm 1.0 and 2.0
/// features (bulk memory, reference types, SIMD, multi-value, ...) are always on.
///
/// The names are those of the CLI's `--wasm` flag:
///
/// ```
/// use lucet_wasi::WasmFeatures;
/// let f = WasmFeatures::default().switch("exceptions=n,tail-call=n")?;
/// assert!(!f.exceptions && !f.tail_call && f.gc);
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WasmFeatures {
    /// `exceptions`: exception handling (`try_table`, `throw`, `throw_ref`, `exnref`).
    pub exceptions: bool,
    /// `gc`: garbage-collected structs and arrays (needs `function-references`).
    pub gc: bool,
    /// `tail-call`: `return_call`, `return_call_indirect`, `return_call_ref`.
    pub tail_call: bool,
    /// `function-references`: typed function references and `call_ref`.
    pub function_references: bool,
    /// `multi-memory`: more than one linear memory.
    pub multi_memory: bool,
    /// `memory64`: linear memories indexed by 64-bit addresses.
    pub memory64: bool,
    /// `relaxed-simd`: SIMD instructions with platform-dependent results.
    pub relaxed_simd: bool,
    /// `extended-const`: arithmetic in constant expressions.
    pub extended_const: bool,
    /// `threads`: atomics and shared memories, which multi-threaded guests
    /// (wasi-threads) need.
    pub threads: bool,
}

impl Default for WasmFeatures {
    fn default() -> Self {
        WasmFeatures {
            exceptions: true,
            gc: true,
            tail_call: true,
            function_references: true,
            multi_memory: true,
            memory64: true,
            relaxed_simd: true,
            extended_const: true,
            threads: true,
        }
    }
}

impl WasmFeatures {
    /// The switch names, in the order [`iter`](Self::iter) lists them.
    pub const NAMES: [&'static str; 9] = [
        "exceptions",
        "gc",
        "tail-call",
        "function-references",
        "multi-memory",
        "memory64",
        "relaxed-simd",
        "extended-const",
        "threads",
    ];

    /// The switch called `name`, if there is one.
    fn slot(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "exceptions" => &mut self.exceptions,
            "gc" => &mut self.gc,
            "tail-call" => &mut self.tail_call,
            "function-references" => &mut self.function_references,
            "multi-memory" => &mut self.multi_memory,
            "memory64" => &mut self.memory64,
            "relaxed-simd" => &mut self.relaxed_simd,
            "extended-const" => &mut self.extended_const,
            "threads" => &mut self.threads,
            _ => return None,
        })
    }

    /// Each switch with its state, in [`NAMES`](Self::NAMES) order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, bool)> {
        let mut copy = *self;
        Self::NAMES
            .map(|n| (n, *copy.slot(n).expect("every name has a slot")))
            .into_iter()
    }

    /// These features with some switched: a comma-separated list of `name=y` or
    /// `name=n` (also `yes`/`no`, `on`/`off`, `true`/`false`; a bare `name` is `y`).
    /// An unknown name or value is [`Error::WasmFeature`] naming it and the choices.
    pub fn switch(mut self, switches: &str) -> Result<Self, Error> {
        for item in switches.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, "y"));
            let on = match value.trim() {
                "y" | "yes" | "on" | "true" => true,
                "n" | "no" | "off" | "false" => false,
                other => {
                    return Err(Error::WasmFeature(FeatureProblem::BadValue {
                        name: name.to_string(),
                        value: other.to_string(),
                    }))
                }
            };
            let name = name.trim();
            *self.slot(name).ok_or_else(|| {
                Error::WasmFeature(FeatureProblem::UnknownName {
                    name: name.to_string(),
                    known: &Self::NAMES,
                })
            })? = on;
        }
        self.check()?;
        Ok(self)
    }

    /// Refuses combinations Wasmtime cannot honour.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.gc && !self.function_references {
            return Err(Error::WasmFeature(
                FeatureProblem::GcNeedsFunctionReferences,
            ));
        }
        Ok(())
    }

    /// Applies the switches to a Wasmtime configuration.
    pub(crate) fn apply(&self, c: &mut wasmtime::Config) {
        c.wasm_exceptions(self.exceptions)
            .wasm_gc(self.gc)
            .wasm_tail_call(self.tail_call)
            .wasm_function_references(self.function_references)
            .wasm_multi_memory(self.multi_memory)
            .wasm_memory64(self.memory64)
            .wasm_relaxed_simd(self.relaxed_simd)
            .wasm_extended_const(self.extended_const)
            .wasm_threads(self.threads)
            // Threaded instances create their shared memory.
            .shared_memory(self.threads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_parse_and_refuse_what_they_do_not_know() {
        let f = WasmFeatures::default()
            .switch("gc=n, memory64=off,relaxed-simd")
            .unwrap();
        assert!(!f.gc && !f.memory64 && f.relaxed_simd && f.exceptions);
        assert_eq!(f.iter().filter(|(_, on)| !on).count(), 2);
        let e = WasmFeatures::default().switch("threadz=y").unwrap_err();
        assert!(
            matches!(&e, Error::WasmFeature(FeatureProblem::UnknownName { name, .. }) if name == "threadz"),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("unknown wasm feature \"threadz\""),
            "{e}"
        );
        assert!(!WasmFeatures::default().switch("threads=n").unwrap().threads);
        let e = WasmFeatures::default().switch("gc=maybe").unwrap_err();
        assert!(e.to_string().contains("gc=maybe"), "{e}");
        let e = WasmFeatures::default()
            .switch("function-references=n")
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::WasmFeature(FeatureProblem::GcNeedsFunctionReferences)
            ),
            "{e:?}"
        );
    }
}
