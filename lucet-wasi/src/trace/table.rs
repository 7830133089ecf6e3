//! The table of WASI functions: each one's name and how its arguments are shown.

/// The most bytes of a path (or other string) the trace shows.
pub(crate) const PATH_CAP: usize = 256;
/// The most bytes of data (a write's or read's buffer) the trace shows.
pub(crate) const DATA_CAP: usize = 32;

/// How a WASI argument is shown. Two-word kinds (`Str`, `Iovs`, ...) take a pointer
/// and a length; `Out*` kinds are result pointers, shown after the call.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum A {
    Fd,
    U32,
    U64,
    I64,
    /// A pointer shown as an address.
    Ptr,
    /// A string (path): pointer, length.
    Str,
    /// Buffers the host reads (a write): pointer, count of `ciovec`s.
    Ciovs,
    /// Buffers the host fills (a read): pointer, count of `iovec`s.
    Iovs,
    /// A buffer: pointer, length.
    Buf,
    /// A buffer the call fills with a name (`fd_prestat_dir_name`): pointer, length.
    NameBuf,
    Clock,
    Whence,
    Advice,
    Signal,
    Lookup,
    Oflags,
    Rights,
    Fdflags,
    Fstflags,
    Riflags,
    Sdflags,
    /// A result pointer: its label and what it points at.
    Out(&'static str, O),
}

/// What a result pointer points at.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum O {
    U32,
    U64,
    Fd,
    Fdstat,
    Filestat,
    Prestat,
    Roflags,
}

pub(crate) use A::*;

/// One preview1 function: its name and how to show its wasm arguments.
pub(crate) struct Desc {
    pub(crate) name: &'static str,
    pub(crate) args: &'static [A],
}

pub(crate) const fn d(name: &'static str, args: &'static [A]) -> Desc {
    Desc { name, args }
}

/// Every preview1 function; the index is the id the observing glue passes along.
pub(crate) static WASI: [Desc; 46] = [
    d("args_get", &[Ptr, Ptr]),
    d(
        "args_sizes_get",
        &[Out("argc", O::U32), Out("argv_buf_size", O::U32)],
    ),
    d("environ_get", &[Ptr, Ptr]),
    d(
        "environ_sizes_get",
        &[Out("count", O::U32), Out("buf_size", O::U32)],
    ),
    d("clock_res_get", &[Clock, Out("resolution", O::U64)]),
    d("clock_time_get", &[Clock, U64, Out("time", O::U64)]),
    d("fd_advise", &[Fd, U64, U64, Advice]),
    d("fd_allocate", &[Fd, U64, U64]),
    d("fd_close", &[Fd]),
    d("fd_datasync", &[Fd]),
    d("fd_fdstat_get", &[Fd, Out("stat", O::Fdstat)]),
    d("fd_fdstat_set_flags", &[Fd, Fdflags]),
    d("fd_fdstat_set_rights", &[Fd, Rights, Rights]),
    d("fd_filestat_get", &[Fd, Out("stat", O::Filestat)]),
    d("fd_filestat_set_size", &[Fd, U64]),
    d("fd_filestat_set_times", &[Fd, U64, U64, Fstflags]),
    d("fd_pread", &[Fd, Iovs, U64, Out("nread", O::U32)]),
    d("fd_prestat_get", &[Fd, Out("prestat", O::Prestat)]),
    d("fd_prestat_dir_name", &[Fd, NameBuf]),
    d("fd_pwrite", &[Fd, Ciovs, U64, Out("nwritten", O::U32)]),
    d("fd_read", &[Fd, Iovs, Out("nread", O::U32)]),
    d("fd_readdir", &[Fd, Buf, U64, Out("bufused", O::U32)]),
    d("fd_renumber", &[Fd, Fd]),
    d("fd_seek", &[Fd, I64, Whence, Out("offset", O::U64)]),
    d("fd_sync", &[Fd]),
    d("fd_tell", &[Fd, Out("offset", O::U64)]),
    d("fd_write", &[Fd, Ciovs, Out("nwritten", O::U32)]),
    d("path_create_directory", &[Fd, Str]),
    d(
        "path_filestat_get",
        &[Fd, Lookup, Str, Out("stat", O::Filestat)],
    ),
    d(
        "path_filestat_set_times",
        &[Fd, Lookup, Str, U64, U64, Fstflags],
    ),
    d("path_link", &[Fd, Lookup, Str, Fd, Str]),
    d(
        "path_open",
        &[
            Fd,
            Lookup,
            Str,
            Oflags,
            Rights,
            Rights,
            Fdflags,
            Out("fd", O::Fd),
        ],
    ),
    d("path_readlink", &[Fd, Str, Buf, Out("bufused", O::U32)]),
    d("path_remove_directory", &[Fd, Str]),
    d("path_rename", &[Fd, Str, Fd, Str]),
    d("path_symlink", &[Str, Fd, Str]),
    d("path_unlink_file", &[Fd, Str]),
    d("poll_oneoff", &[Ptr, Ptr, U32, Out("nevents", O::U32)]),
    d("proc_exit", &[U32]),
    d("proc_raise", &[Signal]),
    d("sched_yield", &[]),
    d("random_get", &[Buf]),
    d("sock_accept", &[Fd, Fdflags, Out("fd", O::Fd)]),
    d(
        "sock_recv",
        &[
            Fd,
            Iovs,
            Riflags,
            Out("nread", O::U32),
            Out("flags", O::Roflags),
        ],
    ),
    d("sock_send", &[Fd, Ciovs, U32, Out("nwritten", O::U32)]),
    d("sock_shutdown", &[Fd, Sdflags]),
];

/// How many preview1 functions there are.
pub(crate) const WASI_CALLS: usize = WASI.len();

/// The id of the preview1 function `name`, for the glue to register with.
pub(crate) fn wasi_id(name: &str) -> Option<usize> {
    WASI.iter().position(|d| d.name == name)
}

/// Whether `name` is a preview1 function.
pub(crate) fn is_wasi(name: &str) -> bool {
    wasi_id(name).is_some()
}
