//! [`GuestSetup`]: the guest's arguments, environment, preopens and stdio, checked and
//! opened into its WASI context.

use crate::wasi::{self, Input, Output, WasiCtx, WasiCtxBuilder};
use crate::Error;
use std::path::PathBuf;

/// What the guest's WASI context is made of.
pub(crate) struct GuestSetup {
    pub(crate) argv0: String,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) inherit_env: bool,
    pub(crate) preopens: Vec<(String, PathBuf, bool)>,
    pub(crate) sockets: Vec<std::net::TcpListener>,
    pub(crate) stdin: Input,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
}

impl GuestSetup {
    /// Checks arguments and environment, opens the preopens.
    pub(crate) fn wasi_ctx(self) -> Result<WasiCtx, Error> {
        let mut args = wasi::StringList::default();
        for a in std::iter::once(self.argv0).chain(self.args) {
            args.push(&no_nul("argument", a)?);
        }
        let mut vars: Vec<(String, String)> = Vec::new();
        if self.inherit_env {
            vars.extend(
                std::env::vars_os()
                    .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
            );
        }
        for (k, v) in self.env {
            vars.retain(|(key, _)| *key != k);
            vars.push((k, v));
        }
        let mut env = wasi::StringList::default();
        for (k, v) in vars {
            if k.is_empty() || k.contains('=') {
                return Err(Error::InvalidArgument(format!(
                    "environment variable name {k:?}: must be non-empty and contain no '='"
                )));
            }
            env.push(&no_nul("environment variable", format!("{k}={v}"))?);
        }
        if args.blob.len() > u32::MAX as usize / 2 || env.blob.len() > u32::MAX as usize / 2 {
            return Err(Error::InvalidArgument(
                "arguments or environment too large".into(),
            ));
        }
        let mut preopens = Vec::with_capacity(self.preopens.len());
        for (guest, host, readonly) in self.preopens {
            match wasi::open_preopen(&host) {
                Ok(dir) => preopens.push(wasi::Preopen {
                    dir,
                    guest_path: guest,
                    readonly,
                }),
                Err(source) => {
                    return Err(Error::Preopen {
                        guest,
                        host,
                        source,
                    })
                }
            }
        }
        Ok(WasiCtxBuilder {
            args,
            env,
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
            preopens,
            sockets: self.sockets,
        }
        .build())
    }
}

/// Arguments and environment entries are C strings in the guest: no NUL inside.
fn no_nul(what: &str, s: String) -> Result<String, Error> {
    if s.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{what} {s:?}: contains a NUL byte"
        )));
    }
    Ok(s)
}
