//! [`HostContext`]: what a host function that asks for it sees of its instance.

use super::data::{DataMut, WasiRef};
use super::memory::GuestMemory;
use std::io::{self, IoSlice, Write};

/// The context of one host-function call: the embedder data (`T`, given to
/// [`WasiInstanceBuilder::data`](crate::WasiInstanceBuilder::data)), the guest's memory,
/// and the guest's standard output and error.
///
/// Take it as the first parameter, `cx: &mut HostContext<'_, T>`; use `()` for `T` when
/// the function needs no data.
///
/// In a threaded guest (wasi-threads) every thread may call host functions at once; the
/// calls that take the embedder data (as a context or as `&mut T`) take it one at a
/// time, each for the whole call. Its memory is copied in and out (see [`GuestMemory`]).
///
/// ```
/// use lucet_wasi::{hostcall, Capture, HostContext, Output, WasiInstance};
/// use std::io::Write;
/// #[hostcall]
/// fn log(cx: &mut HostContext<'_, Vec<String>>, level: u32, msg: &str) {
///     writeln!(cx.stdout(), "[{level}] {msg}").unwrap(); // where the guest prints
///     cx.data_mut().push(msg.to_string());
/// }
/// let wat = r#"(module
///     (import "env" "log" (func $log (param i32 i32 i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 8) "hi")
///     (func (export "_start") (call $log (i32.const 2) (i32.const 8) (i32.const 2))))"#;
/// let out = Capture::new();
/// let mut instance = WasiInstance::builder()
///     .module_bytes(wat)
///     .data(Vec::<String>::new())
///     .stdout(Output::capture(&out))
///     .hostcall(log)
///     .build()?;
/// instance.run("_start")?;
/// assert_eq!(out.text(), "[2] hi\n");
/// assert_eq!(instance.data::<Vec<String>>().unwrap(), &["hi"]);
/// # Ok::<(), lucet_wasi::Error>(())
/// ```
pub struct HostContext<'a, T> {
    data: DataMut<'a, T>,
    memory: GuestMemory<'a>,
    wasi: WasiRef<'a>,
    function: &'static str,
}

impl<'a, T> HostContext<'a, T> {
    pub(crate) fn new(
        data: DataMut<'a, T>,
        memory: GuestMemory<'a>,
        wasi: WasiRef<'a>,
        function: &'static str,
    ) -> Self {
        HostContext {
            data,
            memory,
            wasi,
            function,
        }
    }

    /// The embedder data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The embedder data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// The guest's memory.
    pub fn memory(&self) -> &GuestMemory<'a> {
        &self.memory
    }

    /// The guest's memory, writable.
    pub fn memory_mut(&mut self) -> &mut GuestMemory<'a> {
        &mut self.memory
    }

    /// The embedder data and the guest's memory at once.
    pub fn parts(&mut self) -> (&mut T, &mut GuestMemory<'a>) {
        (&mut self.data, &mut self.memory)
    }

    /// The guest's standard output (descriptor 1), wherever the instance sends it.
    pub fn stdout(&mut self) -> GuestOutput<'_> {
        GuestOutput {
            wasi: self.wasi.reborrow(),
            fd: 1,
        }
    }

    /// The guest's standard error (descriptor 2), wherever the instance sends it.
    pub fn stderr(&mut self) -> GuestOutput<'_> {
        GuestOutput {
            wasi: self.wasi.reborrow(),
            fd: 2,
        }
    }

    /// `module::name` of the function being called.
    pub fn function(&self) -> &'static str {
        self.function
    }
}

/// The guest's standard output or error, as an [`io::Write`]. If the guest has closed
/// or replaced the descriptor, writes fail with [`io::ErrorKind::BrokenPipe`].
pub struct GuestOutput<'a> {
    wasi: WasiRef<'a>,
    fd: u32,
}

impl GuestOutput<'_> {
    /// Runs `f` on the output stream.
    fn with<R>(
        &mut self,
        f: impl FnOnce(&mut crate::wasi::Output) -> io::Result<R>,
    ) -> io::Result<R> {
        let fd = self.fd;
        self.wasi.with(|wasi| match wasi.fds.output(fd) {
            Some(out) => f(out),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("the guest's descriptor {fd} is no longer its output"),
            )),
        })
    }
}

impl Write for GuestOutput<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with(|out| out.write_vectored(&[IoSlice::new(buf)]))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.with(|out| out.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with(|out| out.flush())
    }
}
