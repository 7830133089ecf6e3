//! Linking modules: against WASI once per module, against host functions once per
//! module or per instance, and the errors a link reports.

use crate::engine::Engine;
use crate::hostcall::HostcallSet;
use crate::module::Module;
use crate::store::StoreData;
use crate::Error;
use wasmtime::{ExternType, InstancePre, Linker};

impl Module {
    /// This module with `hostcalls` linked beside WASI (and beside the host functions it
    /// already had), once for all its instances: an instance of the result costs what a
    /// WASI-only instance does. The compiled code is shared, not copied.
    ///
    /// Fails if two host functions have the same import, or one does not match the type
    /// the module imports it with; the embedder data each needs is checked when an
    /// instance is built.
    pub fn with_hostcalls(&self, hostcalls: &HostcallSet) -> Result<Module, Error> {
        let mut all = self.hostcalls.as_deref().cloned().unwrap_or_default();
        hostcalls.iter().for_each(|h| all.push(*h));
        let pre = self.link(&all)?;
        Ok(self.relinked(pre, all))
    }

    /// Links the module against WASI and `hostcalls`.
    pub(crate) fn link(&self, hostcalls: &HostcallSet) -> Result<InstancePre<StoreData>, Error> {
        let mut linker = self.engine.linker()?.clone();
        hostcalls.link(&mut linker)?;
        linker
            .instantiate_pre(&self.inner)
            .map_err(|e| link_error(&self.engine, &linker, &self.inner, e))
    }

    /// The module linked against WASI (and the host functions given to
    /// [`with_hostcalls`](Self::with_hostcalls)), resolved once and shared by all its
    /// instances.
    pub(crate) fn instance_pre(&self) -> Result<&InstancePre<StoreData>, Error> {
        if let Some(pre) = self.pre.get() {
            return Ok(pre);
        }
        let linker = self.engine.linker()?;
        let pre = linker
            .instantiate_pre(&self.inner)
            .map_err(|e| link_error(&self.engine, linker, &self.inner, e))?;
        Ok(self.pre.get_or_init(|| pre))
    }

    #[cfg(feature = "async")]
    /// The linked module of an async instance: WASI with its blocking calls made async, the
    /// module's host functions and `extra`.
    pub(crate) fn instance_pre_async(
        &self,
        extra: &HostcallSet,
    ) -> Result<InstancePre<StoreData>, Error> {
        if extra.is_empty() {
            if let Some(pre) = self.pre_async.get() {
                return Ok(pre.clone());
            }
        }
        let engine = self.engine();
        let mut linker = crate::wasi::linker_async(engine)?.clone();
        let mut all = self.hostcalls.as_deref().cloned().unwrap_or_default();
        extra.iter().for_each(|h| all.push(*h));
        all.link(&mut linker)?;
        let pre = linker
            .instantiate_pre(&self.inner)
            .map_err(|e| link_error(engine, &linker, &self.inner, e))?;
        if extra.is_empty() {
            return Ok(self.pre_async.get_or_init(|| pre).clone());
        }
        Ok(pre)
    }
}

impl Module {
    /// The module linked with the observing variant of WASI and of its host functions
    /// (those attached to it and `extra`), which count and trace calls: a linker of its
    /// own, so that instances without an observer run the plain glue.
    pub(crate) fn link_observed(
        &self,
        extra: &HostcallSet,
    ) -> Result<InstancePre<StoreData>, Error> {
        let mut linker = Linker::new(&self.engine.0.engine);
        crate::wasi::add_to_linker_observed(&mut linker)
            .map_err(|e| Error::host("cannot set up WASI", e))?;
        let mut all = self.hostcalls.as_deref().cloned().unwrap_or_default();
        extra.iter().for_each(|h| all.push(*h));
        all.link_observed(&mut linker)?;
        linker
            .instantiate_pre(&self.inner)
            .map_err(|e| link_error(&self.engine, &linker, &self.inner, e))
    }
}

/// Names the first import the linker cannot satisfy; else reports the linker's message.
pub(crate) fn link_error(
    engine: &Engine,
    linker: &Linker<StoreData>,
    module: &wasmtime::Module,
    e: wasmtime::Error,
) -> Error {
    let mut store = StoreData::scratch(&engine.0.engine);
    for import in module.imports() {
        if linker.get_by_import(&mut store, &import).is_none() {
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
        reason: format!("{e:#}"),
    }
}
