//! Linking a module for its instances: against WASI and the module's host functions
//! once per module, against the host functions a builder adds per instance, for sync
//! or async runs, plain or observed; and the errors a link reports.

use crate::error::Misuse;
use crate::hostcall::private::ALLOCATOR;
use crate::hostcall::{HostcallSet, LinkMode};
use crate::module::Module;
use crate::store::StoreData;
use crate::wasi::{self, Glue};
use crate::Error;
use std::sync::OnceLock;
use wasmtime::{ExternType, InstancePre, Linker};

/// The WASI linkers of a module, built on first use and shared by its clones and
/// relinked copies (which have its engine).
#[derive(Default)]
pub(crate) struct Linkers {
    plain: OnceLock<Linker<StoreData>>,
    /// With the calls that can block linked async (`async` feature).
    #[cfg(feature = "async")]
    asynchronous: OnceLock<Linker<StoreData>>,
    /// For threaded modules: every thread's calls go to the instance's shared context.
    threaded: OnceLock<Linker<StoreData>>,
}

/// How an instance is linked.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Linking {
    /// For async runs: the WASI calls that wait are async, async host functions allowed.
    pub(crate) asynchronous: bool,
    /// With the glue that counts and traces calls.
    pub(crate) observed: bool,
}

impl Module {
    /// This module with `hostcalls` linked beside WASI (and beside the host functions it
    /// already had), once for all its instances: an instance of the result costs what a
    /// WASI-only instance does. The compiled code is shared, not copied.
    ///
    /// Fails if two host functions have the same import, or one does not match the type
    /// the module imports it with; the embedder data each needs is checked when an
    /// instance is built.
    pub fn with_hostcalls(&self, hostcalls: &HostcallSet) -> Result<Module, Error> {
        if self.is_component() {
            return Err(Error::Misuse(Misuse::NotForComponents {
                what: "host functions (#[hostcall])",
            }));
        }
        let all = self.hostcalls_with(hostcalls);
        if self.threaded().is_some() {
            // Linked for each instance, beside its shared memory: checked here.
            all.check_unique()?;
            self.check_allocator(&all)?;
            return Ok(self.relinked(None, all));
        }
        let pre = self.link_with(self.wasi_linker()?.clone(), &all, Linking::default())?;
        Ok(self.relinked(Some(pre), all))
    }

    /// The module linked for an instance that adds the host functions `extra`, as
    /// `linking` asks. Plain linkings without `extra` are made once per module and
    /// shared by all its instances; the others are made for the instance.
    pub(crate) fn linked(
        &self,
        extra: &HostcallSet,
        linking: Linking,
    ) -> Result<InstancePre<StoreData>, Error> {
        if !linking.asynchronous {
            self.refuse_async_hostcalls(extra)?;
        }
        match linking {
            Linking {
                observed: true,
                asynchronous,
            } => {
                let mut linker = Linker::new(&self.engine.0.engine);
                wasi::add_to_linker(&mut linker, Glue::Observed).map_err(wasi_setup)?;
                if asynchronous {
                    self.add_async_glue(&mut linker, true)?;
                }
                self.link_with(linker, &self.hostcalls_with(extra), linking)
            }
            Linking {
                observed: false,
                asynchronous: false,
            } => {
                if extra.is_empty() {
                    return self.instance_pre().cloned();
                }
                let linker = self.wasi_linker()?.clone();
                self.link_with(linker, &self.hostcalls_with(extra), linking)
            }
            Linking {
                observed: false,
                asynchronous: true,
            } => self.instance_pre_async(extra),
        }
    }

    /// The module linked against WASI (and the host functions given to
    /// [`with_hostcalls`](Self::with_hostcalls)), resolved once and shared by all its
    /// instances.
    pub(crate) fn instance_pre(&self) -> Result<&InstancePre<StoreData>, Error> {
        if let Some(pre) = self.pre.get() {
            return Ok(pre);
        }
        let linker = self.wasi_linker()?;
        let pre = linker
            .instantiate_pre(self.core()?)
            .map_err(|e| self.link_error(linker, &HostcallSet::new(), e))?;
        Ok(self.pre.get_or_init(|| pre))
    }

    /// The linked module of an async instance: WASI with its blocking calls made async, the
    /// module's host functions and `extra`.
    fn instance_pre_async(&self, extra: &HostcallSet) -> Result<InstancePre<StoreData>, Error> {
        #[cfg(feature = "async")]
        {
            if extra.is_empty() {
                if let Some(pre) = self.pre_async.get() {
                    return Ok(pre.clone());
                }
            }
            let linker = match self.shared.linkers.asynchronous.get() {
                Some(l) => l.clone(),
                None => {
                    let mut linker = self.wasi_linker()?.clone();
                    self.add_async_glue(&mut linker, false)?;
                    self.shared
                        .linkers
                        .asynchronous
                        .get_or_init(|| linker)
                        .clone()
                }
            };
            let pre = self.link_with(
                linker,
                &self.hostcalls_with(extra),
                Linking {
                    asynchronous: true,
                    observed: false,
                },
            )?;
            if extra.is_empty() {
                return Ok(self.pre_async.get_or_init(|| pre).clone());
            }
            Ok(pre)
        }
        #[cfg(not(feature = "async"))]
        {
            let _ = extra;
            Err(Error::internal("async instances need the `async` feature"))
        }
    }

    /// Replaces the WASI calls that can block with their async forms.
    fn add_async_glue(&self, linker: &mut Linker<StoreData>, observed: bool) -> Result<(), Error> {
        #[cfg(feature = "async")]
        return wasi::add_blocking_async(linker, observed).map_err(wasi_setup);
        #[cfg(not(feature = "async"))]
        {
            let _ = (linker, observed);
            Err(Error::internal("async instances need the `async` feature"))
        }
    }

    /// The WASI linker of a threaded module's instances (see `wasi::SharedCtx`), to which
    /// each instance adds its shared memory and threads: built once, or, `observed`,
    /// for the instance.
    pub(crate) fn threaded_linker(&self, observed: bool) -> Result<Linker<StoreData>, Error> {
        let glue = if observed {
            Glue::ThreadedObserved
        } else {
            Glue::Threaded
        };
        if !observed {
            if let Some(l) = self.shared.linkers.threaded.get() {
                return Ok(l.clone());
            }
        }
        let mut linker = Linker::new(&self.engine.0.engine);
        wasi::add_to_linker(&mut linker, glue).map_err(wasi_setup)?;
        if observed {
            return Ok(linker);
        }
        Ok(self.shared.linkers.threaded.get_or_init(|| linker).clone())
    }

    /// A threaded instance's `linker` with the module's host functions and `extra`
    /// added (the `observed` variants if so), resolved for this module.
    pub(crate) fn instantiate_with(
        &self,
        linker: Linker<StoreData>,
        extra: &HostcallSet,
        observed: bool,
    ) -> Result<InstancePre<StoreData>, Error> {
        self.refuse_async_hostcalls(extra)?;
        let linking = Linking {
            observed,
            asynchronous: false,
        };
        self.link_with(linker, &self.hostcalls_with(extra), linking)
    }

    /// The plain WASI linker, built once.
    fn wasi_linker(&self) -> Result<&Linker<StoreData>, Error> {
        if let Some(l) = self.shared.linkers.plain.get() {
            return Ok(l);
        }
        let mut linker = Linker::new(&self.engine.0.engine);
        wasi::add_to_linker(&mut linker, Glue::Plain).map_err(wasi_setup)?;
        Ok(self.shared.linkers.plain.get_or_init(|| linker))
    }

    /// `linker` with `hostcalls` added, resolved for this module.
    fn link_with(
        &self,
        mut linker: Linker<StoreData>,
        hostcalls: &HostcallSet,
        linking: Linking,
    ) -> Result<InstancePre<StoreData>, Error> {
        hostcalls.check_unique()?;
        let mode = LinkMode {
            observed: linking.observed,
            asynchronous: linking.asynchronous,
        };
        for h in hostcalls.iter() {
            h.add_to_linker(&mut linker, mode)?;
        }
        self.check_allocator(hostcalls)?;
        linker
            .instantiate_pre(self.core()?)
            .map_err(|e| self.link_error(&linker, hostcalls, e))
    }

    /// The module's own host functions and `extra`.
    fn hostcalls_with(&self, extra: &HostcallSet) -> HostcallSet {
        let mut all = self.hostcalls.as_deref().cloned().unwrap_or_default();
        extra.iter().for_each(|h| all.push(*h));
        all
    }

    /// A host function returning an owned value places it with the guest's allocator:
    /// a guest that imports one must export `cabi_realloc` with the right type.
    fn check_allocator(&self, hostcalls: &HostcallSet) -> Result<(), Error> {
        let module = self.core()?;
        let Some(h) = hostcalls.iter().find(|h| {
            h.returns_owned()
                && module
                    .imports()
                    .any(|i| i.module() == h.module() && i.name() == h.name())
        }) else {
            return Ok(());
        };
        let i32 = wasmtime::ValType::I32;
        let ok = match module.get_export(ALLOCATOR) {
            Some(ExternType::Func(f)) => {
                f.params().len() == 4
                    && f.params().all(|p| p.matches(&i32))
                    && f.results().len() == 1
                    && f.results().all(|r| r.matches(&i32))
            }
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let sig = h.signature();
        Err(Error::Link {
            import: Some(sig.function.to_string()),
            source: format!(
                "the host function `{}` returns an owned value, which is placed in memory the \
                 guest allocates: the guest must export `{ALLOCATOR}(old_ptr: i32, old_size: i32, \
                 align: i32, new_size: i32) -> i32` (the generated C header and Rust bindings \
                 define one)",
                sig.rust
            )
            .into(),
        })
    }

    /// A sync instance cannot take an async host function.
    fn refuse_async_hostcalls(&self, extra: &HostcallSet) -> Result<(), Error> {
        let own = self.hostcalls.as_deref().into_iter().flat_map(|s| s.iter());
        match own.chain(extra.iter()).find(|h| h.is_async()) {
            Some(h) => Err(Error::AsyncHostcall {
                function: h.signature().function.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Names the first import the linker cannot satisfy, by name or by type; else
    /// reports the linker's error.
    fn link_error(
        &self,
        linker: &Linker<StoreData>,
        extra: &HostcallSet,
        e: wasmtime::Error,
    ) -> Error {
        let Ok(module) = self.core() else {
            return Error::Link {
                import: None,
                source: e.into(),
            };
        };
        let mut store = StoreData::scratch(&self.engine.0.engine);
        for import in module.imports() {
            let found = linker.get_by_import(&mut store, &import);
            if let (Some(wasmtime::Extern::Func(f)), ExternType::Func(want)) = (&found, import.ty())
            {
                let have = f.ty(&store);
                if !have.matches(&want) {
                    let function = format!("{}::{}", import.module(), import.name());
                    let host = self.hostcall_named(&function, extra).map_or_else(
                        || "the host's function".to_string(),
                        |s| format!("the host function `{}`", s.rust),
                    );
                    let message = format!(
                        "the guest imports it as {}; {host} takes {}",
                        wasm_type(&want),
                        wasm_type(&have)
                    );
                    return Error::Link {
                        import: Some(function),
                        source: message.into(),
                    };
                }
            }
            if found.is_none() {
                let kind = match import.ty() {
                    ExternType::Func(_) => "function",
                    ExternType::Memory(_) => "memory",
                    ExternType::Table(_) => "table",
                    ExternType::Global(_) => "global",
                    ExternType::Tag(_) => "tag",
                };
                return Error::UnknownImport {
                    module: import.module().to_string(),
                    field: import.name().to_string(),
                    kind,
                };
            }
        }
        Error::Link {
            import: None,
            source: e.into(),
        }
    }
}

impl Module {
    /// The signature of the host function imported as `function`, among the module's
    /// and `extra`.
    fn hostcall_named(
        &self,
        function: &str,
        extra: &HostcallSet,
    ) -> Option<&'static crate::hostcall::Signature> {
        let own = self.hostcalls.as_deref().into_iter().flat_map(|s| s.iter());
        own.chain(extra.iter())
            .map(|h| h.signature())
            .find(|s| s.function == function)
    }
}

/// A function type as messages show it: `(i32, i32) -> i32`.
fn wasm_type(ty: &wasmtime::FuncType) -> String {
    let list = |types: &mut dyn Iterator<Item = wasmtime::ValType>| {
        types.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
    };
    let params = list(&mut ty.params());
    let results: Vec<String> = ty.results().map(|t| t.to_string()).collect();
    match results.as_slice() {
        [] => format!("({params})"),
        [one] => format!("({params}) -> {one}"),
        _ => format!("({params}) -> ({})", results.join(", ")),
    }
}

fn wasi_setup(e: wasmtime::Error) -> Error {
    Error::host("cannot set up WASI", e)
}
