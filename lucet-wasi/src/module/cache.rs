//! The compile cache: compiled modules kept on disk, keyed by what shapes the code, so
//! the second run of a `.wasm` only maps the result.
//!
//! An entry is two files named by its key: `KEY.cwasm`, Wasmtime's serialized module,
//! and `KEY.sum`, an HMAC-SHA256 of that file keyed with this user's secret (the key that
//! seals precompiled modules, `seal.rs`): nobody without it can make an entry that
//! passes. Both are written to a temporary file and renamed into place, never modified
//! where they are, so a process that maps an entry keeps the bytes it checked even if
//! another replaces it. A load hashes the artifact and compares: a truncated, corrupted,
//! half-replaced or foreign entry is compiled again and rewritten, never run. The key is
//! the SHA-256 of the module's bytes, the engine's code-shaping settings (Wasmtime's
//! `precompile_compatibility_hash`) and lucet-wasi's version.
//!
//! The directory is opened once, without following a link in its last component, and
//! checked on that descriptor (owner, mode); every entry is then opened, written and
//! renamed relative to it, so swapping a link on the way to it changes nothing after
//! the check.

use super::seal;
use crate::engine::Engine;
use crate::error::CacheProblem;
use crate::Error;
use hmac::Mac;
use rustix::fs::{Mode, OFlags};
use sha2::{Digest, Sha256};
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A directory of compiled modules, shared by every process of the same user. Entries
/// are checked with this user's secret key (the one that seals `lucet-wasi compile`'s
/// output, made on first use under `$XDG_CONFIG_HOME` or `~/.config`); where there is no
/// place for it, modules are compiled as without a cache.
///
/// ```
/// use lucet_wasi::{CompileCache, Engine, EngineConfig, Module};
/// let dir = tempfile::tempdir().unwrap();
/// let cache = CompileCache::new(dir.path().join("cache"))?;
/// let engine = Engine::shared(&EngineConfig::default())?;
/// let wat = "(module (func (export \"_start\")))";
/// let first = Module::from_bytes_cached(&engine, wat, &cache)?;   // compiles, stores
/// let second = Module::from_bytes_cached(&engine, wat, &cache)?;  // maps the entry
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CompileCache {
    dir: PathBuf,
    /// The directory, opened once and checked: entries are reached through it.
    fd: Arc<OwnedFd>,
}

impl CompileCache {
    /// Uses `dir` (created with mode 0700 if missing). Refused if another user owns it or
    /// may write to it: its entries are native code that will be run.
    pub fn new(dir: impl Into<PathBuf>) -> Result<CompileCache, Error> {
        let dir = dir.into();
        let refuse = |problem, source| Error::Cache {
            dir: dir.clone(),
            problem,
            source,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| refuse(CacheProblem::CannotCreate, Some(e)))?;
        let fd = rustix::fs::open(
            &dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| refuse(CacheProblem::CannotInspect, Some(e.into())))?;
        let meta = rustix::fs::fstat(&fd)
            .map_err(|e| refuse(CacheProblem::CannotInspect, Some(e.into())))?;
        if meta.st_uid != rustix::process::geteuid().as_raw() {
            return Err(refuse(CacheProblem::OwnedByOther, None));
        }
        if meta.st_mode & 0o022 != 0 {
            return Err(refuse(
                CacheProblem::WritableByOthers {
                    mode: meta.st_mode & 0o777,
                },
                None,
            ));
        }
        Ok(CompileCache {
            dir,
            fd: Arc::new(fd),
        })
    }

    /// The default location: `$LUCET_WASI_CACHE_DIR`, else `$XDG_CACHE_HOME/lucet-wasi`,
    /// else `$HOME/.cache/lucet-wasi`.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        var("LUCET_WASI_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("lucet-wasi")))
            .or_else(|| var("HOME").map(|d| d.join(".cache/lucet-wasi")))
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for `bytes` compiled on `engine`, compiling and storing it on a miss.
    /// Failing to store is not an error: the module is compiled either way.
    pub(crate) fn compiled<A: Artifact>(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compile: impl FnOnce() -> Result<A, Error>,
    ) -> Result<A, Error> {
        let key = hex(&key::<A>(engine, bytes));
        let (artifact, sum) = (format!("{key}.cwasm"), format!("{key}.sum"));
        // Without this user's secret there is nothing to check an entry with: no cache.
        let secret = seal::key(true).ok().flatten();
        if let Some(module) = secret.and_then(|s| self.load(engine, &s, &artifact, &sum)) {
            tracing::debug!(key = &key[..16], "compile cache hit");
            return Ok(module);
        }
        tracing::debug!(key = &key[..16], "compile cache miss");
        let module = compile()?;
        if let (Some(secret), Ok(serialized)) = (secret, module.serialize()) {
            let tag = hex(&entry_mac(&secret)
                .chain_update(&serialized)
                .finalize()
                .into_bytes());
            // The artifact first: a sum that names it is only ever written after it.
            let _ = self
                .write_whole(&artifact, &serialized)
                .and_then(|()| self.write_whole(&sum, tag.as_bytes()));
        }
        Ok(module)
    }
}

/// Feeds `Hash` output into SHA-256.
/// What the cache keeps: compiled core modules and components.
pub(crate) trait Artifact: Sized {
    /// Part of the key: a module and a component never share an entry.
    const KIND: &'static [u8];
    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
    /// Maps the artifact open as `file`.
    ///
    /// # Safety
    ///
    /// As for [`wasmtime::Module::deserialize_open_file`]: `file` holds an artifact this
    /// user's lucet-wasi made, unchanged while it is mapped.
    unsafe fn load(engine: &wasmtime::Engine, file: fs::File) -> wasmtime::Result<Self>;
}

impl Artifact for wasmtime::Module {
    const KIND: &'static [u8] = b"module\0";
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        wasmtime::Module::serialize(self)
    }
    unsafe fn load(engine: &wasmtime::Engine, file: fs::File) -> wasmtime::Result<Self> {
        // SAFETY: forwarded to our caller.
        unsafe { wasmtime::Module::deserialize_open_file(engine, file) }
    }
}

#[cfg(feature = "components")]
impl Artifact for wasmtime::component::Component {
    const KIND: &'static [u8] = b"component\0";
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        wasmtime::component::Component::serialize(self)
    }
    unsafe fn load(engine: &wasmtime::Engine, file: fs::File) -> wasmtime::Result<Self> {
        use std::os::fd::AsRawFd;
        // Wasmtime maps a component from a path only: this one names the open file
        // itself, so the file checked is the file mapped whatever is renamed meanwhile.
        let path = format!("/proc/self/fd/{}", file.as_raw_fd());
        // SAFETY: forwarded to our caller.
        let component = unsafe { wasmtime::component::Component::deserialize_file(engine, &path) };
        drop(file);
        component
    }
}

struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        unreachable!("only used through `write`")
    }
}

fn key<A: Artifact>(engine: &Engine, bytes: &[u8]) -> [u8; 32] {
    let mut h = ShaHasher(Sha256::new());
    h.write(b"lucet-wasi compile cache 1\0");
    h.write(A::KIND);
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    engine.0.engine.precompile_compatibility_hash().hash(&mut h);
    h.write(&(bytes.len() as u64).to_le_bytes());
    h.write(bytes);
    h.0.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CompileCache {
    /// Opens the entry file `name`, not following a link.
    fn open(&self, name: &str) -> io::Result<fs::File> {
        let fd = rustix::fs::openat(
            &*self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(fs::File::from(fd))
    }

    /// A stored entry whose artifact matches its sum; `None` for a miss or a bad entry.
    fn load<A: Artifact>(
        &self,
        engine: &Engine,
        secret: &[u8; seal::KEY_LEN],
        artifact: &str,
        sum: &str,
    ) -> Option<A> {
        let mut want = Vec::with_capacity(64);
        self.open(sum).ok()?.take(65).read_to_end(&mut want).ok()?;
        let file = self.open(artifact).ok()?;
        // Check what will be mapped: the open file, which a rename cannot change under us.
        let mut mac = entry_mac(secret);
        io::copy(
            &mut io::BufReader::with_capacity(1 << 16, &file),
            &mut MacWriter(&mut mac),
        )
        .ok()?;
        if hex(&mac.finalize().into_bytes()).as_bytes() != want.as_slice() {
            return None;
        }
        // SAFETY: the artifact was serialized by this user's lucet-wasi (its sum is a MAC
        // under this user's secret) for an engine with the same compatibility hash (part
        // of the key), and its contents match the sum written after it. Entries are
        // replaced by rename, never modified in place, so the mapped file is the one just
        // checked.
        unsafe { A::load(&engine.0.engine, file) }.ok()
    }

    /// Writes the entry file `name` whole: into a temporary file beside it, then renamed
    /// into place.
    fn write_whole(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let tmp = format!("{name}.tmp{}", std::process::id());
        let result = (|| {
            let mut f = fs::File::from(rustix::fs::openat(
                &*self.fd,
                &tmp,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?);
            f.write_all(bytes)?;
            rustix::fs::renameat(&*self.fd, &tmp, &*self.fd, name)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = rustix::fs::unlinkat(&*self.fd, &tmp, rustix::fs::AtFlags::empty());
        }
        result
    }
}

/// The MAC of an entry's artifact, under this user's secret.
fn entry_mac(secret: &[u8; seal::KEY_LEN]) -> hmac::Hmac<Sha256> {
    let mut mac = seal::mac(secret);
    mac.update(b"lucet-wasi compile cache entry 1\0");
    mac
}

struct MacWriter<'a>(&'a mut hmac::Hmac<Sha256>);

impl Write for MacWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
