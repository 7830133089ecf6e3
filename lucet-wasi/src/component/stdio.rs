//! A component's standard streams: the builder's [`Input`] and [`Output`] (inherited,
//! null, bytes, a reader or writer, a capture, a host descriptor) as the streams
//! wasmtime-wasi's `wasi:cli/stdin`, `stdout` and `stderr` hand out. Reads and writes
//! go through the same code a core module's do, and block the guest as they would.

use crate::wasi::{Input, Output};
use std::io::{IoSlice, IsTerminal as _};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

/// The most bytes one read hands the guest, whatever it asks for: a read is never
/// sized by the guest beyond this.
const MAX_READ: usize = 64 * 1024;

/// How much the guest may write at once (it is told so by `check-write`).
const MAX_WRITE: usize = 64 * 1024;

/// A guest output, shared by every stream the guest opens on it.
#[derive(Clone)]
pub(crate) struct SharedOutput(Arc<Mutex<Output>>);

impl SharedOutput {
    pub(crate) fn new(output: Output) -> SharedOutput {
        SharedOutput(Arc::new(Mutex::new(output)))
    }

    fn write_all(&self, mut bytes: &[u8]) -> std::io::Result<()> {
        let mut output = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        while !bytes.is_empty() {
            match output.write_vectored(&[IoSlice::new(bytes)])? {
                0 => return Err(std::io::ErrorKind::WriteZero.into()),
                n => bytes = &bytes[n..],
            }
        }
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

/// A stream's failure as wasmtime-wasi reports it to the guest.
fn failed(e: std::io::Error) -> StreamError {
    StreamError::LastOperationFailed(wasmtime::Error::new(e))
}

impl IsTerminal for SharedOutput {
    /// Whether it writes to a terminal (an inherited stream or a descriptor that is one).
    fn is_terminal(&self) -> bool {
        let output = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        output.host_fd().is_some_and(|fd| fd.is_terminal())
    }
}

impl StdoutStream for SharedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for SharedOutput {
    /// Always ready: a write blocks until it is done.
    async fn ready(&mut self) {}
}

impl OutputStream for SharedOutput {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.write_all(&bytes).map_err(failed)
    }

    fn flush(&mut self) -> StreamResult<()> {
        SharedOutput::flush(self).map_err(failed)
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_WRITE)
    }
}

impl tokio::io::AsyncWrite for SharedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(SharedOutput::flush(&self))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The guest's input, shared by every stream the guest opens on it.
#[derive(Clone)]
pub(crate) struct SharedInput(Arc<Mutex<Input>>);

impl SharedInput {
    pub(crate) fn new(input: Input) -> SharedInput {
        SharedInput(Arc::new(Mutex::new(input)))
    }

    fn read_into(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read(buf)
    }
}

impl IsTerminal for SharedInput {
    /// Whether it reads a terminal (an inherited stdin or a descriptor that is one).
    fn is_terminal(&self) -> bool {
        let input = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        input.host_fd().is_some_and(|fd| fd.is_terminal())
    }
}

impl StdinStream for SharedInput {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for SharedInput {
    /// Always ready: a read blocks until data or end of file.
    async fn ready(&mut self) {}
}

impl InputStream for SharedInput {
    fn read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        let mut buf = vec![0; size.min(MAX_READ)];
        if buf.is_empty() {
            return Ok(bytes::Bytes::new());
        }
        match self.read_into(&mut buf).map_err(failed)? {
            0 => Err(StreamError::Closed),
            n => {
                buf.truncate(n);
                Ok(buf.into())
            }
        }
    }
}

impl tokio::io::AsyncRead for SharedInput {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = match self.read_into(buf.initialize_unfilled()) {
            Ok(n) => n,
            Err(e) => return Poll::Ready(Err(e)),
        };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}
