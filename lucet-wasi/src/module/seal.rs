//! Sealed artifacts: a precompiled module is native code, so one is run without being
//! asked (`lucet-wasi app.cwasm`, [`Module::from_sealed_file`](super::Module::from_sealed_file))
//! only if this user's own lucet-wasi made it. `lucet-wasi compile` and
//! [`Module::serialize_sealed`](super::Module::serialize_sealed) append a trailer to the
//! artifact: a magic string and an HMAC-SHA256 of everything before it, keyed with a
//! secret only this user can read (`$XDG_CONFIG_HOME/lucet-wasi/seal.key`, else
//! `~/.config/lucet-wasi/seal.key`, 32 random bytes made with mode 0600 on first use).
//! Anything else — a file from elsewhere, another user's, one changed after it was
//! made — fails the check. Wasmtime ignores the trailer (it reads the ELF by its headers).

use crate::Error;
use hmac::{Hmac, Mac};
use rustix::fs::{Mode, OFlags};
use sha2::Sha256;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt};
use std::path::PathBuf;

/// Starts the trailer.
const MAGIC: [u8; 16] = *b"lucet-wasi-seal1";
/// Bytes of the MAC.
const MAC_LEN: usize = 32;
/// Bytes of the trailer.
const TRAILER: u64 = (MAGIC.len() + MAC_LEN) as u64;
/// Bytes of the key.
pub(super) const KEY_LEN: usize = 32;
/// Bytes hashed per read.
const CHUNK: usize = 1 << 20;

/// Where this user's key lives, if there is a home for it.
fn key_path() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = var("XDG_CONFIG_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".config")))?
        .join("lucet-wasi");
    Some(dir.join("seal.key"))
}

/// This user's key: read, or, if `create`, made on first use. `None` if there is none
/// (and none was to be made).
pub(super) fn key(create: bool) -> Result<Option<[u8; KEY_LEN]>, Error> {
    let Some(path) = key_path() else {
        return match create {
            true => Err(Error::internal(
                "no place for the key that seals precompiled modules: set HOME or XDG_CONFIG_HOME",
            )),
            false => Ok(None),
        };
    };
    let unusable = |e: std::io::Error| {
        Error::host(format!("cannot use the sealing key {}", path.display()), e)
    };
    let open = |flags: OFlags, mode: Mode| {
        rustix::fs::open(&path, flags | OFlags::NOFOLLOW | OFlags::CLOEXEC, mode).map(File::from)
    };
    match open(OFlags::RDONLY, Mode::empty()) {
        Ok(mut file) => {
            let meta = file.metadata().map_err(unusable)?;
            if meta.uid() != rustix::process::geteuid().as_raw() || meta.mode() & 0o077 != 0 {
                return Err(unusable(std::io::Error::other(format!(
                    "it must be the user's own with mode 0600 (it has mode {:o})",
                    meta.mode() & 0o777
                ))));
            }
            let mut key = [0; KEY_LEN];
            file.read_exact(&mut key).map_err(unusable)?;
            Ok(Some(key))
        }
        Err(rustix::io::Errno::NOENT) if create => {
            if let Some(dir) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(unusable)?;
            }
            let mut key = [0; KEY_LEN];
            getrandom::fill(&mut key)
                .map_err(|e| unusable(std::io::Error::other(e.to_string())))?;
            // Written whole under a name of its own, then linked into place: a process
            // that reads the key never sees half of it, and two that make one at once
            // agree on the first.
            let tmp = path.with_extension(format!("{}.{:x}", std::process::id(), key[0]));
            let made = (|| {
                let mut file = File::from(rustix::fs::open(
                    &tmp,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )?);
                file.write_all(&key)?;
                file.sync_all()?;
                std::fs::hard_link(&tmp, &path)
            })();
            let _ = std::fs::remove_file(&tmp);
            match made {
                Ok(()) => Ok(Some(key)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self::key(false),
                Err(e) => Err(unusable(e)),
            }
        }
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(unusable(e.into())),
    }
}

pub(super) fn mac(key: &[u8; KEY_LEN]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

/// Appends the seal to a freshly serialized artifact (making the key on first use).
pub(crate) fn seal(artifact: &mut Vec<u8>) -> Result<(), Error> {
    let key = key(true)?.ok_or_else(|| Error::internal("no sealing key"))?;
    let mut mac = mac(&key);
    mac.update(artifact);
    artifact.extend_from_slice(&MAGIC);
    artifact.extend_from_slice(&mac.finalize().into_bytes());
    Ok(())
}

/// Whether the open artifact `file` carries this user's seal over its current contents.
///
/// Checking reads the whole file (a 220 MB artifact takes ~130 ms), so a file found
/// sealed is remembered: a record named after its device and inode holds a MAC of its
/// identity (device, inode, size, modification and change times, seal). A later run that
/// finds the same identity skips the reading. Any write to the file changes its change
/// time, which only the kernel sets, and a record cannot be made without the key: a
/// changed file is read and checked again.
pub(crate) fn is_sealed(file: &File) -> Result<bool, Error> {
    let io = |e| Error::host("cannot read the precompiled module", e);
    let meta = file.metadata().map_err(io)?;
    let Some(body) = meta.len().checked_sub(TRAILER) else {
        return Ok(false);
    };
    let mut trailer = [0u8; TRAILER as usize];
    file.read_exact_at(&mut trailer, body).map_err(io)?;
    let (magic, tag) = trailer.split_at(MAGIC.len());
    if magic != MAGIC {
        return Ok(false);
    }
    let Some(key) = key(false)? else {
        return Ok(false);
    };
    let identity = identity(&key, &meta, tag);
    let record = key_path().and_then(|k| {
        let dir = k.parent()?.join("verified");
        Some((
            dir.clone(),
            dir.join(format!("{:x}-{:x}", meta.dev(), meta.ino())),
        ))
    });
    if let Some((_, path)) = &record {
        if std::fs::read(path).is_ok_and(|r| identity.clone().verify_slice(&r).is_ok()) {
            return Ok(true);
        }
    }
    let mut mac = mac(&key);
    let mut buf = vec![0u8; CHUNK];
    let mut at = 0;
    while at < body {
        let n = (body - at).min(CHUNK as u64) as usize;
        file.read_exact_at(&mut buf[..n], at).map_err(io)?;
        mac.update(&buf[..n]);
        at += n as u64;
    }
    if mac.verify_slice(tag).is_err() {
        return Ok(false);
    }
    if let Some((dir, path)) = record {
        // Best effort: without the record, the next run reads the file again.
        let _ = remember(&dir, &path, &identity.finalize().into_bytes());
    }
    Ok(true)
}

/// The MAC of a file's identity and seal: what a record holds.
fn identity(key: &[u8; KEY_LEN], meta: &std::fs::Metadata, tag: &[u8]) -> Hmac<Sha256> {
    let mut mac = mac(key);
    mac.update(b"lucet-wasi-verified1");
    for v in [
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime() as u64,
        meta.mtime_nsec() as u64,
        meta.ctime() as u64,
        meta.ctime_nsec() as u64,
    ] {
        mac.update(&v.to_le_bytes());
    }
    mac.update(tag);
    mac
}

/// Writes a record whole, under a name of its own, then renames it into place.
fn remember(dir: &std::path::Path, path: &std::path::Path, record: &[u8]) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, record)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
