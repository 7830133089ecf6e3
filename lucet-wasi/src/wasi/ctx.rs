//! The per-instance WASI state: arguments, environment and the descriptor table.

use super::dir::DirFd;
use super::dir::MAX_LISTINGS;
use super::file::{FileFd, FileId};
use super::rights::preopen_rights;
use super::stdio::{HostStream, Input, Output};
use super::types::{Errno, Fd, Filetype};
use super::wait::Waits;
use super::SysErr;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::time::Instant;

/// The WASI state of one guest instance.
pub struct WasiCtx {
    pub(crate) args: StringList,
    pub(crate) env: StringList,
    pub(crate) fds: FdTable,
    /// How blocking calls wait: the running call's deadline (its timeout), and whether
    /// the async glue takes the waits over.
    pub(crate) waits: Waits,
    /// The start of a `poll_oneoff` whose wait was deferred to the async glue, for its
    /// retry: relative clocks count from the first try, so nothing is waited twice.
    pub(crate) poll_start: std::cell::Cell<Option<Instant>>,
}

impl WasiCtx {
    /// Sets when the guest's running call must end (its timeout), or none.
    /// The context as the instance started, for a restarted instance: see
    /// [`FdTable::restart`]. Arguments, environment and the streams' positions stay.
    pub(crate) fn restart(&mut self) {
        self.fds.restart();
        self.waits = Waits::default();
        self.poll_start.set(None);
    }

    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.waits.deadline = deadline;
    }
}

/// NUL-terminated strings laid out as `args_get`/`environ_get` copy them to the guest.
#[derive(Default, Clone)]
pub(crate) struct StringList {
    pub(crate) blob: Vec<u8>,
    pub(crate) count: u32,
}

/// The number a descriptor the instance started with had.
fn origin(entry: &Entry) -> Option<u32> {
    match entry {
        Entry::Stdin(s) => Some(s.origin),
        Entry::Stdout(s) => Some(s.origin),
        Entry::Dir(d) => d.origin,
        Entry::Socket(s) => s.origin,
        Entry::File(_) => None,
    }
}

impl StringList {
    pub(crate) fn push(&mut self, s: &str) {
        self.blob.extend_from_slice(s.as_bytes());
        self.blob.push(0);
        self.count += 1;
    }
}

/// One open descriptor.
pub(crate) enum Entry {
    Stdin(Stdio<Input>),
    Stdout(Stdio<Output>),
    Dir(DirFd),
    File(FileFd),
    Socket(super::tcp::Socket),
}

/// A standard stream.
pub(crate) struct Stdio<T> {
    pub(crate) stream: T,
    /// Whether the stream is a host pipe or socket (whose writes must wait for room),
    /// asked on the first write that needs to know.
    pub(crate) pipe: std::cell::OnceCell<bool>,
    /// Which stream it is: 0, 1 or 2, wherever the guest moved it.
    origin: u32,
}

impl<T> Stdio<T> {
    pub(crate) fn new(stream: T, origin: u32) -> Stdio<T> {
        Stdio {
            stream,
            pipe: std::cell::OnceCell::new(),
            origin,
        }
    }
}

impl Stdio<Input> {
    /// The file type the guest sees: the host's stdin's, if inherited (asked only when
    /// the guest asks, so an instance costs no `fstat`).
    pub(crate) fn filetype(&self) -> Filetype {
        match self.stream.host_fd() {
            Some(fd) => host_filetype(fd),
            None => Filetype::Unknown,
        }
    }
}

impl Stdio<Output> {
    /// The file type the guest sees: the host stream's, if inherited.
    pub(crate) fn filetype(&self) -> Filetype {
        match self.stream.host_fd() {
            Some(fd) => host_filetype(fd),
            None => Filetype::Unknown,
        }
    }
}

/// A preopened directory: every path the guest names is resolved below `dir`.
pub(crate) struct Preopen {
    pub(crate) dir: cap_std::fs::Dir,
    pub(crate) guest_path: String,
    /// No descriptor reached through it may change the filesystem.
    pub(crate) readonly: bool,
}

/// The most descriptors a guest may have open at once; one more is `mfile`.
pub(crate) const MAX_FDS: usize = 16384;

/// The descriptor table: index = fd.
pub(crate) struct FdTable {
    entries: Vec<Option<Entry>>,
    /// Counts `fd_readdir` calls: the clock of [`Listing::last_used`].
    pub(crate) readdir_calls: u64,
    /// What the guest closed of the descriptors it started with (stdio, preopens,
    /// listeners): kept for a restart, which gives them back at their first numbers.
    closed: Vec<Entry>,
}

impl FdTable {
    /// Puts `entry` in the lowest free slot, as POSIX does; `mfile` when the table is full.
    pub(crate) fn insert(&mut self, entry: Entry) -> Result<Fd, Errno> {
        let index = match self.entries.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.entries.len() < MAX_FDS => {
                self.entries.push(None);
                self.entries.len() - 1
            }
            None => return Err(Errno::Mfile),
        };
        self.entries[index] = Some(entry);
        Ok(Fd::from(index as u32))
    }

    /// Moves the entry at `from` to `to`, closing what `to` held.
    pub(crate) fn renumber(&mut self, from: Fd, to: Fd) -> Result<(), SysErr> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(());
        }
        let entry = self.remove(from)?;
        let displaced = self.entries[u32::from(to) as usize].replace(entry);
        self.closing(displaced.expect("checked above"))
    }

    /// Closes `fd`.
    pub(crate) fn close(&mut self, fd: Fd) -> Result<(), SysErr> {
        let entry = self.remove(fd)?;
        self.closing(entry)
    }

    /// A descriptor the guest closes: an output is flushed; one it started with is kept
    /// for a restart.
    fn closing(&mut self, mut entry: Entry) -> Result<(), SysErr> {
        let flushed = match &mut entry {
            Entry::Stdout(out) => out.stream.flush(),
            _ => Ok(()),
        };
        if origin(&entry).is_some() {
            self.closed.push(entry);
        }
        Ok(flushed?)
    }

    /// The table as the instance started: its first descriptors back at their numbers
    /// (a standard stream dropped some other way is a null one), every other one closed.
    pub(crate) fn restart(&mut self) {
        let first: Vec<(u32, Entry)> = std::mem::take(&mut self.entries)
            .into_iter()
            .flatten()
            .chain(self.closed.drain(..))
            .filter_map(|e| origin(&e).map(|o| (o, e)))
            .collect();
        let len = first
            .iter()
            .map(|(o, _)| *o as usize + 1)
            .max()
            .unwrap_or(0);
        self.entries.resize_with(len.max(3), || None);
        for (origin, mut entry) in first {
            if let Entry::Dir(d) = &mut entry {
                d.listing = None;
            }
            self.entries[origin as usize] = Some(entry);
        }
        // Only a standard stream can be missing (the guest cannot close the others away).
        for (n, slot) in self.entries.iter_mut().enumerate().take(3) {
            slot.get_or_insert_with(|| match n {
                0 => Entry::Stdin(Stdio::new(Input::null(), 0)),
                _ => Entry::Stdout(Stdio::new(Output::null(), n as u32)),
            });
        }
        self.readdir_calls = 0;
    }

    pub(crate) fn get(&self, fd: Fd) -> Result<&Entry, Errno> {
        self.entries
            .get(u32::from(fd) as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    pub(crate) fn get_mut(&mut self, fd: Fd) -> Result<&mut Entry, Errno> {
        self.entries
            .get_mut(u32::from(fd) as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    pub(crate) fn remove(&mut self, fd: Fd) -> Result<Entry, Errno> {
        let slot = self
            .entries
            .get_mut(u32::from(fd) as usize)
            .ok_or(Errno::Badf)?;
        let entry = slot.take().ok_or(Errno::Badf)?;
        while matches!(self.entries.last(), Some(None)) {
            self.entries.pop();
        }
        Ok(entry)
    }

    /// Closes the least recently read directory listings while more than
    /// [`MAX_LISTINGS`] are open.
    pub(crate) fn evict_listings(&mut self) {
        while self.listings().count() > MAX_LISTINGS {
            let Some(oldest) = self.listings().map(|l| l.last_used).min() else {
                return;
            };
            for entry in self.entries.iter_mut().flatten() {
                if let Entry::Dir(d) = entry {
                    if d.listing.as_ref().is_some_and(|l| l.last_used == oldest) {
                        d.listing = None;
                    }
                }
            }
        }
    }

    fn listings(&self) -> impl Iterator<Item = &super::dir::Listing> {
        self.entries.iter().flatten().filter_map(|e| match e {
            Entry::Dir(d) => d.listing.as_deref(),
            _ => None,
        })
    }

    /// What the trace calls `fd` when it knows no path for it: a preopen's guest path,
    /// `stdin`, `stdout`, `stderr`, `socket`.
    pub(crate) fn trace_name(&self, fd: u32) -> Option<&str> {
        match self.entries.get(fd as usize)?.as_ref()? {
            Entry::Stdin(_) => Some("stdin"),
            Entry::Stdout(_) if fd == 2 => Some("stderr"),
            Entry::Stdout(_) => Some("stdout"),
            Entry::Dir(d) => d.preopen.as_deref(),
            Entry::File(_) => None,
            Entry::Socket(_) => Some("socket"),
        }
    }

    /// The output stream at `fd`, if it still is one.
    pub(crate) fn output(&mut self, fd: u32) -> Option<&mut Output> {
        match self.entries.get_mut(fd as usize) {
            Some(Some(Entry::Stdout(out))) => Some(&mut out.stream),
            _ => None,
        }
    }

    /// Flushes the guest's outputs (writers may buffer).
    pub(crate) fn flush_outputs(&mut self) -> io::Result<()> {
        for entry in self.entries.iter_mut().flatten() {
            if let Entry::Stdout(out) = entry {
                out.stream.flush()?;
            }
        }
        Ok(())
    }
}

/// Gathers everything a [`WasiCtx`] is made of.
pub(crate) struct WasiCtxBuilder {
    pub(crate) args: StringList,
    pub(crate) env: StringList,
    pub(crate) stdin: Input,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) sockets: Vec<std::net::TcpListener>,
}

impl WasiCtxBuilder {
    /// No arguments, environment or preopens, and null stdio.
    pub(crate) fn empty() -> WasiCtxBuilder {
        WasiCtxBuilder {
            args: StringList::default(),
            env: StringList::default(),
            stdin: Input::null(),
            stdout: Output::null(),
            stderr: Output::null(),
            preopens: Vec::new(),
            sockets: Vec::new(),
        }
    }

    pub(crate) fn build(self) -> WasiCtx {
        let stdout = self.stdout.for_stream(HostStream::Stdout);
        let stderr = self.stderr.for_stream(HostStream::Stderr);
        let mut entries = Vec::with_capacity(3 + self.preopens.len());
        entries.push(Some(Entry::Stdin(Stdio::new(self.stdin, 0))));
        for (out, origin) in [(stdout, 1), (stderr, 2)] {
            entries.push(Some(Entry::Stdout(Stdio::new(out, origin))));
        }
        let first = entries.len() as u32;
        entries.extend(self.preopens.into_iter().zip(first..).map(|(p, origin)| {
            let (rights, inheriting) = preopen_rights(p.readonly);
            Some(Entry::Dir(DirFd {
                origin: Some(origin),
                root: FileId::of_dir(&p.dir),
                dir: p.dir,
                rights,
                inheriting,
                preopen: Some(p.guest_path),
                listing: None,
            }))
        }));
        let first = entries.len() as u32;
        entries.extend(
            self.sockets
                .into_iter()
                .zip(first..)
                .map(|(l, origin)| Some(Entry::Socket(super::tcp::Socket::listener(l, origin)))),
        );
        WasiCtx {
            args: self.args,
            env: self.env,
            fds: FdTable {
                entries,
                readdir_calls: 0,
                closed: Vec::new(),
            },
            waits: Waits::default(),
            poll_start: std::cell::Cell::new(None),
        }
    }
}

/// Opens a host directory for a preopen. This is the one place the sandbox is entered
/// from a host path; everything the guest reaches afterwards is relative to a `Dir`.
pub(crate) fn open_preopen(host: &Path) -> io::Result<cap_std::fs::Dir> {
    cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())
}

/// What a host stdio descriptor is, in WASI's terms (pipes have no WASI type).
fn host_filetype(fd: BorrowedFd<'_>) -> Filetype {
    use rustix::fs::FileType as F;
    match rustix::fs::fstat(fd) {
        Ok(st) => match F::from_raw_mode(st.st_mode) {
            F::RegularFile => Filetype::RegularFile,
            F::Directory => Filetype::Directory,
            F::CharacterDevice => Filetype::CharacterDevice,
            F::BlockDevice => Filetype::BlockDevice,
            F::Socket => Filetype::SocketStream,
            F::Symlink => Filetype::SymbolicLink,
            _ => Filetype::Unknown,
        },
        Err(_) => Filetype::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> FdTable {
        WasiCtxBuilder::empty().build().fds
    }

    fn stdin() -> Entry {
        Entry::Stdin(Stdio::new(Input::null(), 0))
    }

    /// At most `MAX_LISTINGS` directory streams stay open, the most recently read ones.
    #[test]
    fn listings_are_bounded_in_number() {
        let tmp = tempfile::tempdir().unwrap();
        let mut fds = table();
        for i in 0..40u64 {
            let dir = cap_std::fs::Dir::open_ambient_dir(tmp.path(), cap_std::ambient_authority())
                .unwrap();
            let mut listing = super::super::dir::Listing::open(&dir, None).unwrap();
            listing.last_used = i + 1;
            fds.insert(Entry::Dir(DirFd {
                origin: None,
                dir,
                rights: super::super::types::Rights::empty(),
                inheriting: super::super::types::Rights::empty(),
                preopen: None,
                listing: Some(listing),
                root: None,
            }))
            .unwrap();
            fds.evict_listings();
        }
        let mut held: Vec<u64> = fds.listings().map(|l| l.last_used).collect();
        held.sort();
        assert_eq!(held, (25..=40).collect::<Vec<u64>>());
    }

    #[test]
    fn fds_are_the_lowest_free_slot_and_bad_ones_are_badf() {
        let mut fds = table();
        // 0, 1, 2 are the standard streams.
        assert_eq!(fds.insert(stdin()).unwrap(), Fd::from(3));
        assert_eq!(fds.insert(stdin()).unwrap(), Fd::from(4));
        fds.remove(Fd::from(3)).unwrap();
        assert_eq!(fds.insert(stdin()).unwrap(), Fd::from(3));
        for bad in [5, 1000, u32::MAX] {
            assert_eq!(fds.get(Fd::from(bad)).err(), Some(Errno::Badf), "{bad}");
            assert_eq!(fds.remove(Fd::from(bad)).err(), Some(Errno::Badf), "{bad}");
        }
        fds.remove(Fd::from(4)).unwrap();
        assert_eq!(fds.remove(Fd::from(4)).err(), Some(Errno::Badf));
        // The table shrinks past trailing holes.
        assert_eq!(fds.entries.len(), 4);
    }

    #[test]
    fn renumber_moves_and_closes_the_replaced_entry() {
        let mut fds = table();
        let a = fds.insert(stdin()).unwrap();
        let b = fds.insert(stdin()).unwrap();
        let badf = |r: Result<(), SysErr>| matches!(r, Err(SysErr::Errno(Errno::Badf)));
        assert!(fds.renumber(a, b).is_ok());
        assert_eq!(fds.get(a).err(), Some(Errno::Badf));
        assert!(fds.get(b).is_ok());
        assert!(fds.renumber(b, b).is_ok());
        assert!(badf(fds.renumber(b, Fd::from(99))));
        assert!(badf(fds.renumber(Fd::from(99), b)));
    }

    /// A restart gives back the first descriptors at their numbers, wherever the guest
    /// moved them or if it closed them, and closes the rest.
    #[test]
    fn restart_gives_back_the_first_descriptors() {
        let tmp = tempfile::tempdir().unwrap();
        let mut fds = WasiCtxBuilder {
            args: StringList::default(),
            env: StringList::default(),
            stdin: Input::null(),
            stdout: Output::null(),
            stderr: Output::null(),
            preopens: vec![Preopen {
                dir: open_preopen(tmp.path()).unwrap(),
                guest_path: "/sb".into(),
                readonly: false,
            }],
            sockets: Vec::new(),
        }
        .build()
        .fds;
        let preopen = Fd::from(3);
        let other = fds
            .insert(Entry::Dir(DirFd {
                origin: None,
                dir: open_preopen(tmp.path()).unwrap(),
                rights: super::super::types::Rights::empty(),
                inheriting: super::super::types::Rights::empty(),
                preopen: None,
                listing: None,
                root: None,
            }))
            .unwrap();
        fds.renumber(preopen, Fd::from(1)).unwrap(); // the preopen over stdout
        fds.close(Fd::from(0)).unwrap();
        fds.restart();
        assert_eq!(fds.entries.len(), 4);
        assert!(matches!(fds.get(Fd::from(0)), Ok(Entry::Stdin(s)) if s.origin == 0));
        assert!(matches!(fds.get(Fd::from(1)), Ok(Entry::Stdout(s)) if s.origin == 1));
        assert!(matches!(fds.get(Fd::from(2)), Ok(Entry::Stdout(s)) if s.origin == 2));
        assert!(
            matches!(fds.get(preopen), Ok(Entry::Dir(d)) if d.preopen.as_deref() == Some("/sb"))
        );
        assert_eq!(u32::from(other), 4);
        assert!(
            fds.get(other).is_err(),
            "a descriptor the guest opened stays closed"
        );
    }

    #[test]
    fn a_full_table_is_mfile() {
        let mut fds = table();
        while fds.entries.len() < MAX_FDS {
            fds.insert(stdin()).unwrap();
        }
        assert_eq!(fds.insert(stdin()).err(), Some(Errno::Mfile));
        fds.remove(Fd::from(10)).unwrap();
        assert_eq!(fds.insert(stdin()).unwrap(), Fd::from(10));
    }
}
