//! The compile cache: compiled modules kept on disk, keyed by what shapes the code, so
//! the second run of a `.wasm` only maps the result.
//!
//! An entry is two files named by its key: `KEY.cwasm`, Wasmtime's serialized module,
//! and `KEY.sum`, the SHA-256 of that file. Both are written to a temporary file and
//! renamed into place, never modified where they are, so a process that maps an entry
//! keeps the bytes it checked even if another replaces it. A load hashes the artifact
//! and compares: a truncated, corrupted or half-replaced entry is compiled again and
//! rewritten, never run. The key is the SHA-256 of the module's bytes, the engine's
//! code-shaping settings (Wasmtime's `precompile_compatibility_hash`) and lucet-wasi's
//! version.

use crate::engine::Engine;
use crate::error::CacheProblem;
use crate::Error;
use sha2::{Digest, Sha256};
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A directory of compiled modules, shared by every process of the same user.
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
        let meta = fs::metadata(&dir).map_err(|e| refuse(CacheProblem::CannotInspect, Some(e)))?;
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(refuse(CacheProblem::OwnedByOther, None));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(refuse(
                CacheProblem::WritableByOthers {
                    mode: meta.mode() & 0o777,
                },
                None,
            ));
        }
        Ok(CompileCache { dir })
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
    pub(crate) fn module(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compile: impl FnOnce() -> Result<wasmtime::Module, Error>,
    ) -> Result<wasmtime::Module, Error> {
        let key = hex(&key(engine, bytes));
        let artifact = self.dir.join(format!("{key}.cwasm"));
        let sum = self.dir.join(format!("{key}.sum"));
        if let Some(module) = load(engine, &artifact, &sum) {
            tracing::debug!(key = &key[..16], "compile cache hit");
            return Ok(module);
        }
        tracing::debug!(key = &key[..16], "compile cache miss");
        let module = compile()?;
        if let Ok(serialized) = module.serialize() {
            let digest = hex(&Sha256::digest(&serialized));
            // The artifact first: a sum that names it is only ever written after it.
            let _ = write_whole(&artifact, &serialized)
                .and_then(|()| write_whole(&sum, digest.as_bytes()));
        }
        Ok(module)
    }
}

/// Feeds `Hash` output into SHA-256.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        unreachable!("only used through `write`")
    }
}

fn key(engine: &Engine, bytes: &[u8]) -> [u8; 32] {
    let mut h = ShaHasher(Sha256::new());
    h.write(b"lucet-wasi compile cache 1\0");
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    engine.0.engine.precompile_compatibility_hash().hash(&mut h);
    h.write(&(bytes.len() as u64).to_le_bytes());
    h.write(bytes);
    h.0.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored entry whose artifact matches its sum; `None` for a miss or a bad entry.
fn load(engine: &Engine, artifact: &Path, sum: &Path) -> Option<wasmtime::Module> {
    let want = fs::read(sum).ok()?;
    let file = fs::File::open(artifact).ok()?;
    // Hash what will be mapped: the open file, which a rename cannot change under us.
    let mut hasher = Sha256::new();
    io::copy(
        &mut io::BufReader::with_capacity(1 << 16, &file),
        &mut HashWriter(&mut hasher),
    )
    .ok()?;
    if hex(&hasher.finalize()).as_bytes() != want.as_slice() {
        return None;
    }
    // SAFETY: the artifact was serialized by this program for an engine with the same
    // compatibility hash (part of the key), in a directory only this user can write, and
    // its contents match the sum written after it. Entries are replaced by rename, never
    // modified in place, so the mapped file is the one just checked.
    unsafe { wasmtime::Module::deserialize_open_file(&engine.0.engine, file) }.ok()
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `path` whole: into a temporary file beside it, then renamed into place.
fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
