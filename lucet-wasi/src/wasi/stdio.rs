//! Standard input, output and error of a guest.

use super::iov::retry;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, PoisonError};

/// Where a guest's standard input comes from.
///
/// ```
/// use lucet_wasi::Input;
/// let _from_bytes = Input::bytes("line one\nline two\n");
/// let _nothing = Input::null();
/// ```
pub struct Input(pub(crate) InputKind);

pub(crate) enum InputKind {
    /// The host process's stdin.
    Inherit,
    /// End of file at once.
    Null,
    /// Any reader (bytes are a `Cursor`).
    Reader(Box<dyn Read + Send>),
    /// A host descriptor (pipe, socket, terminal, file).
    Fd(std::os::fd::OwnedFd),
}

impl Input {
    /// The host process's own standard input.
    pub fn inherit() -> Input {
        Input(InputKind::Inherit)
    }
    /// An input that is at end of file from the start.
    pub fn null() -> Input {
        Input(InputKind::Null)
    }
    /// An input that yields these bytes, then end of file.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Input {
        Input::reader(io::Cursor::new(bytes.into()))
    }
    /// An input read from any reader: the embedder's code, which lucet-wasi calls as it
    /// is. A reader that blocks holds the guest until it returns, past a timeout too,
    /// which then ends the guest at once; give a pipe or socket as
    /// [`from_fd`](Self::from_fd) to have its reads wait no longer than the timeout.
    pub fn reader(reader: impl Read + Send + 'static) -> Input {
        Input(InputKind::Reader(Box::new(reader)))
    }

    /// An input read from a host descriptor: a pipe's read end, a socket, a terminal or
    /// a file. Unlike a [`reader`](Self::reader), the guest can `poll_oneoff` it, and
    /// in async runs waiting for its data does not block the executor.
    ///
    /// ```
    /// use lucet_wasi::Input;
    /// let (read_end, _write_end) = std::io::pipe()?;
    /// let _from_pipe = Input::from_fd(read_end);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_fd(fd: impl Into<std::os::fd::OwnedFd>) -> Input {
        Input(InputKind::Fd(fd.into()))
    }

    /// Whether it is the host process's own stdin.
    #[cfg(feature = "components")]
    pub(crate) fn is_inherited(&self) -> bool {
        matches!(self.0, InputKind::Inherit)
    }

    /// The host descriptor it reads, if any: what `poll_oneoff` and async waits watch.
    pub(crate) fn host_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match &self.0 {
            InputKind::Inherit => Some(rustix::stdio::stdin()),
            InputKind::Fd(fd) => Some(fd.as_fd()),
            _ => None,
        }
    }

    /// Reads into `buf`, retrying on `EINTR`.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        retry(|| match &mut self.0 {
            InputKind::Inherit => {
                rustix::io::read(io::stdin().as_fd(), &mut *buf).map_err(io::Error::from)
            }
            InputKind::Null => Ok(0),
            InputKind::Reader(r) => r.read(buf),
            InputKind::Fd(fd) => rustix::io::read(&*fd, &mut *buf).map_err(io::Error::from),
        })
    }
}

/// Where a guest's standard output or standard error goes.
///
/// ```
/// use lucet_wasi::Output;
/// let _to_a_file = Output::writer(std::io::sink());
/// let _discarded = Output::null();
/// ```
pub struct Output(pub(crate) OutputKind);

pub(crate) enum OutputKind {
    /// The host process's stdout (1) or stderr (2).
    Inherit(HostStream),
    /// Discard everything.
    Null,
    /// Any writer.
    Writer(Box<dyn Write + Send>),
    /// A memory buffer.
    Capture(Capture),
    /// A host descriptor (pipe, socket, terminal, file).
    Fd(std::os::fd::OwnedFd),
}

/// A memory buffer that collects what a guest writes to an [`Output`]. Clones share the
/// buffer, so keep one and hand [`Output::capture`] to the builder.
///
/// ```
/// use lucet_wasi::{Capture, Output, WasiInstance};
/// let wat = r#"(module
///     (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 16) "\20\00\00\00\03\00\00\00") ;; iovec: 3 bytes at 32
///     (data (i32.const 32) "hi\n")
///     (func (export "_start") (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))))"#;
/// let stdout = Capture::new();
/// WasiInstance::builder().module_bytes(wat).stdout(Output::capture(&stdout)).run("_start")?;
/// assert_eq!(stdout.text(), "hi\n");
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// An empty buffer.
    pub fn new() -> Capture {
        Capture::default()
    }

    /// A copy of everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// Everything written so far as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Takes everything written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Appends to the buffer, so that a `Capture` can also take a trace
/// ([`WasiInstanceBuilder::trace`](crate::WasiInstanceBuilder::trace)).
impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Copy)]
pub(crate) enum HostStream {
    Stdout,
    Stderr,
}

impl Output {
    /// The host process's own stdout (for the guest's stdout) or stderr (for its stderr).
    pub fn inherit() -> Output {
        Output(OutputKind::Inherit(HostStream::Stdout))
    }
    /// Discards everything written.
    pub fn null() -> Output {
        Output(OutputKind::Null)
    }
    /// Sends everything written to `writer`: the embedder's code, which lucet-wasi calls
    /// as it is. A writer that blocks (a full pipe inside it) holds the guest until it
    /// returns, past a timeout too, which then ends the guest at once; give a pipe or
    /// socket as [`from_fd`](Self::from_fd) to have its writes wait no longer than the
    /// timeout (and, in async runs, on the executor).
    pub fn writer(writer: impl Write + Send + 'static) -> Output {
        Output(OutputKind::Writer(Box::new(writer)))
    }

    /// Writes to a host descriptor: a pipe's write end, a socket, a terminal or a file.
    /// A write into a full pipe or socket waits no longer than the instance's timeout,
    /// and in async runs it waits on the executor; the guest can `poll_oneoff` it.
    ///
    /// ```
    /// use lucet_wasi::Output;
    /// let (_read_end, write_end) = std::io::pipe()?;
    /// let _to_pipe = Output::from_fd(write_end);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_fd(fd: impl Into<std::os::fd::OwnedFd>) -> Output {
        Output(OutputKind::Fd(fd.into()))
    }

    /// Collects everything written into `capture`, to read after the run.
    pub fn capture(capture: &Capture) -> Output {
        Output(OutputKind::Capture(capture.clone()))
    }

    /// Points an inherited output at the host stream it stands for.
    pub(crate) fn for_stream(mut self, stream: HostStream) -> Output {
        if let OutputKind::Inherit(s) = &mut self.0 {
            *s = stream;
        }
        self
    }

    /// Writes from `bufs`, retrying on `EINTR`. Host streams are written unbuffered and
    /// without taking Rust's stdout lock: the guest does its own buffering.
    pub(crate) fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        retry(|| match &mut self.0 {
            OutputKind::Inherit(HostStream::Stdout) => write_fd(io::stdout().as_fd(), bufs),
            OutputKind::Inherit(HostStream::Stderr) => write_fd(io::stderr().as_fd(), bufs),
            OutputKind::Null => Ok(bufs.iter().map(|b| b.len()).sum()),
            OutputKind::Fd(fd) => write_fd(fd.as_fd(), bufs),
            OutputKind::Writer(w) => w.write_vectored(bufs),
            OutputKind::Capture(c) => {
                let mut buf = c.lock();
                let n = bufs.iter().map(|b| b.len()).sum();
                buf.try_reserve(n)
                    .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
                bufs.iter().for_each(|b| buf.extend_from_slice(b));
                Ok(n)
            }
        })
    }

    /// Flushes a writer; host streams are unbuffered.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            OutputKind::Writer(w) => w.flush(),
            _ => Ok(()),
        }
    }

    /// The host descriptor it writes, if any: what `poll_oneoff` and deadline-bounded
    /// writes watch.
    pub(crate) fn host_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match &self.0 {
            OutputKind::Inherit(HostStream::Stdout) => Some(rustix::stdio::stdout()),
            OutputKind::Inherit(HostStream::Stderr) => Some(rustix::stdio::stderr()),
            OutputKind::Fd(fd) => Some(fd.as_fd()),
            _ => None,
        }
    }
}

/// One `write(2)` for a single buffer (the kernel imports no iovec array), else `writev`.
fn write_fd(fd: std::os::fd::BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    match bufs {
        [one] => rustix::io::write(fd, one),
        _ => rustix::io::writev(fd, bufs),
    }
    .map_err(io::Error::from)
}

/// A write to `output` that must not block past the deadline of `waits` nor, in async
/// runs, block the executor; or `None` to write as usual. For a host pipe or socket
/// (`pipe`, asked once per stream): waits until it is writable (the deadline passing
/// is the trap that ends the guest; an async run awaits it on the executor), then
/// writes at most `PIPE_BUF` bytes, which a writable pipe takes without blocking (copied
/// into a buffer on the stack). Other outputs (files, terminals, the embedder's
/// writers) are written as usual.
pub(crate) fn write_before_deadline(
    output: &mut Output,
    pipe: &std::cell::OnceCell<bool>,
    bufs: &[IoSlice<'_>],
    waits: super::wait::Waits,
) -> Result<Option<usize>, super::SysErr> {
    let Some(fd) = output.host_fd() else {
        return Ok(None);
    };
    let is_pipe = *pipe.get_or_init(|| {
        let kind = rustix::fs::fstat(fd).map(|st| rustix::fs::FileType::from_raw_mode(st.st_mode));
        matches!(
            kind,
            Ok(rustix::fs::FileType::Fifo | rustix::fs::FileType::Socket)
        )
    });
    if !is_pipe {
        return Ok(None);
    }
    super::wait::wait_for(fd, super::wait::Ready::Write, waits)?;
    let mut chunk = [0; PIPE_BUF];
    let chunk = pipe_chunk(bufs, &mut chunk);
    Ok(Some(output.write_vectored(&[IoSlice::new(chunk)])?))
}

/// What a writable pipe takes without blocking.
pub(crate) const PIPE_BUF: usize = 4096;

/// The first `PIPE_BUF` bytes of `bufs`, gathered into `chunk`.
pub(crate) fn pipe_chunk<'c>(bufs: &[IoSlice<'_>], chunk: &'c mut [u8; PIPE_BUF]) -> &'c [u8] {
    let mut n = 0;
    for buf in bufs {
        let take = buf.len().min(PIPE_BUF - n);
        chunk[n..n + take].copy_from_slice(&buf[..take]);
        n += take;
        if n == PIPE_BUF {
            break;
        }
    }
    &chunk[..n]
}
