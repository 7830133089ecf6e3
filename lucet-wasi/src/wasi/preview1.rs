//! The preview1 trait: one short method per WASI function. Each converts what wiggle
//! hands it and calls the inherent `WasiCtx` method of the same name, in the file of
//! its area (`fd_read` → `fd.rs`, `path_open` → `path.rs`, `environ_get` → `args.rs`).

use super::types::{
    Ciovec, Errno, Event, Fd, Fdstat, Filestat, Iovec, Prestat, Roflags, Subscription,
    UserErrorConversion,
};
use super::wasi_snapshot_preview1::WasiSnapshotPreview1;
use super::AbiMemory;
use super::{SysErr, WasiCtx};
use wiggle::GuestPtr;

type R<T> = Result<T, SysErr>;

/// Names the call in the trap of a bad pointer (see [`super::pointer`]).
fn call<T>(name: &'static str, result: R<T>) -> R<T> {
    result.map_err(|e| e.in_call(name))
}

impl WasiSnapshotPreview1 for WasiCtx {
    fn args_get(
        &mut self,
        m: &mut AbiMemory<'_>,
        argv: GuestPtr<GuestPtr<u8>>,
        buf: GuestPtr<u8>,
    ) -> R<()> {
        call("args_get", WasiCtx::args_get(self, m, argv, buf))
    }
    fn args_sizes_get(&mut self, _: &mut AbiMemory<'_>) -> R<(u32, u32)> {
        Ok(WasiCtx::args_sizes_get(self))
    }
    fn environ_get(
        &mut self,
        m: &mut AbiMemory<'_>,
        env: GuestPtr<GuestPtr<u8>>,
        buf: GuestPtr<u8>,
    ) -> R<()> {
        call("environ_get", WasiCtx::environ_get(self, m, env, buf))
    }
    fn environ_sizes_get(&mut self, _: &mut AbiMemory<'_>) -> R<(u32, u32)> {
        Ok(WasiCtx::environ_sizes_get(self))
    }

    fn clock_res_get(&mut self, _: &mut AbiMemory<'_>, id: u32) -> R<u64> {
        WasiCtx::clock_res_get(self, id)
    }
    fn clock_time_get(&mut self, _: &mut AbiMemory<'_>, id: u32, _precision: u64) -> R<u64> {
        WasiCtx::clock_time_get(self, id)
    }

    fn fd_advise(
        &mut self,
        _: &mut AbiMemory<'_>,
        fd: Fd,
        off: u64,
        len: u64,
        advice: u32,
    ) -> R<()> {
        WasiCtx::fd_advise(self, fd, off, len, advice)
    }
    fn fd_allocate(&mut self, _: &mut AbiMemory<'_>, fd: Fd, off: u64, len: u64) -> R<()> {
        WasiCtx::fd_allocate(self, fd, off, len)
    }
    fn fd_close(&mut self, _: &mut AbiMemory<'_>, fd: Fd) -> R<()> {
        WasiCtx::fd_close(self, fd)
    }
    fn fd_datasync(&mut self, _: &mut AbiMemory<'_>, fd: Fd) -> R<()> {
        WasiCtx::fd_datasync(self, fd)
    }
    fn fd_fdstat_get(&mut self, _: &mut AbiMemory<'_>, fd: Fd) -> R<Fdstat> {
        WasiCtx::fd_fdstat_get(self, fd)
    }
    fn fd_fdstat_set_flags(&mut self, _: &mut AbiMemory<'_>, fd: Fd, flags: u32) -> R<()> {
        WasiCtx::fd_fdstat_set_flags(self, fd, flags)
    }
    fn fd_fdstat_set_rights(
        &mut self,
        _: &mut AbiMemory<'_>,
        fd: Fd,
        base: u64,
        inheriting: u64,
    ) -> R<()> {
        WasiCtx::fd_fdstat_set_rights(self, fd, base, inheriting)
    }
    fn fd_filestat_get(&mut self, _: &mut AbiMemory<'_>, fd: Fd) -> R<Filestat> {
        WasiCtx::fd_filestat_get(self, fd)
    }
    fn fd_filestat_set_size(&mut self, _: &mut AbiMemory<'_>, fd: Fd, size: u64) -> R<()> {
        WasiCtx::fd_filestat_set_size(self, fd, size)
    }
    fn fd_filestat_set_times(
        &mut self,
        _: &mut AbiMemory<'_>,
        fd: Fd,
        atim: u64,
        mtim: u64,
        flags: u32,
    ) -> R<()> {
        WasiCtx::fd_filestat_set_times(self, fd, atim, mtim, flags)
    }
    fn fd_pread(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
        off: u64,
    ) -> R<u32> {
        call("fd_pread", WasiCtx::fd_pread(self, m, fd, iovs, off))
    }
    fn fd_prestat_get(&mut self, _: &mut AbiMemory<'_>, fd: Fd) -> R<Prestat> {
        WasiCtx::fd_prestat_get(self, fd)
    }
    fn fd_prestat_dir_name(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<u8>,
        len: u32,
    ) -> R<()> {
        call(
            "fd_prestat_dir_name",
            WasiCtx::fd_prestat_dir_name(self, m, fd, path, len),
        )
    }
    fn fd_pwrite(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        off: u64,
    ) -> R<u32> {
        call("fd_pwrite", WasiCtx::fd_pwrite(self, m, fd, iovs, off))
    }
    fn fd_read(&mut self, m: &mut AbiMemory<'_>, fd: Fd, iovs: GuestPtr<[Iovec]>) -> R<u32> {
        call("fd_read", WasiCtx::fd_read(self, m, fd, iovs))
    }
    fn fd_readdir(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        buf: GuestPtr<u8>,
        len: u32,
        cookie: u64,
    ) -> R<u32> {
        call(
            "fd_readdir",
            WasiCtx::fd_readdir(self, m, fd, buf, len, cookie),
        )
    }
    fn fd_renumber(&mut self, _: &mut AbiMemory<'_>, fd: Fd, to: Fd) -> R<()> {
        WasiCtx::fd_renumber(self, fd, to)
    }
    fn fd_seek(&mut self, _: &mut AbiMemory<'_>, fd: Fd, off: i64, whence: u32) -> R<u64> {
        WasiCtx::fd_seek(self, fd, off, whence)
    }
    fn fd_sync(&mut self, _: &mut AbiMemory<'_>, fd: Fd) -> R<()> {
        WasiCtx::fd_sync(self, fd)
    }
    fn fd_tell(&mut self, _: &mut AbiMemory<'_>, fd: Fd) -> R<u64> {
        WasiCtx::fd_tell(self, fd)
    }
    fn fd_write(&mut self, m: &mut AbiMemory<'_>, fd: Fd, iovs: GuestPtr<[Ciovec]>) -> R<u32> {
        call("fd_write", WasiCtx::fd_write(self, m, fd, iovs))
    }

    fn path_create_directory(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
    ) -> R<()> {
        call(
            "path_create_directory",
            WasiCtx::path_create_directory(self, m, fd, path),
        )
    }
    fn path_filestat_get(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        flags: u32,
        path: GuestPtr<str>,
    ) -> R<Filestat> {
        call(
            "path_filestat_get",
            WasiCtx::path_filestat_get(self, m, fd, flags, path),
        )
    }
    fn path_filestat_set_times(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        flags: u32,
        path: GuestPtr<str>,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> R<()> {
        call(
            "path_filestat_set_times",
            WasiCtx::path_filestat_set_times(self, m, fd, flags, path, atim, mtim, fst_flags),
        )
    }
    fn path_link(
        &mut self,
        m: &mut AbiMemory<'_>,
        old_fd: Fd,
        old_flags: u32,
        old_path: GuestPtr<str>,
        new_fd: Fd,
        new_path: GuestPtr<str>,
    ) -> R<()> {
        call(
            "path_link",
            WasiCtx::path_link(self, m, old_fd, old_flags, old_path, new_fd, new_path),
        )
    }
    fn path_open(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        dirflags: u32,
        path: GuestPtr<str>,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdflags: u32,
    ) -> R<Fd> {
        call(
            "path_open",
            WasiCtx::path_open(
                self, m, fd, dirflags, path, oflags, base, inheriting, fdflags,
            ),
        )
    }
    fn path_readlink(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
        buf: GuestPtr<u8>,
        len: u32,
    ) -> R<u32> {
        call(
            "path_readlink",
            WasiCtx::path_readlink(self, m, fd, path, buf, len),
        )
    }
    fn path_remove_directory(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
    ) -> R<()> {
        call(
            "path_remove_directory",
            WasiCtx::path_remove_directory(self, m, fd, path),
        )
    }
    fn path_rename(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        old: GuestPtr<str>,
        new_fd: Fd,
        new: GuestPtr<str>,
    ) -> R<()> {
        call(
            "path_rename",
            WasiCtx::path_rename(self, m, fd, old, new_fd, new),
        )
    }
    fn path_symlink(
        &mut self,
        m: &mut AbiMemory<'_>,
        old: GuestPtr<str>,
        fd: Fd,
        new: GuestPtr<str>,
    ) -> R<()> {
        call("path_symlink", WasiCtx::path_symlink(self, m, old, fd, new))
    }
    fn path_unlink_file(&mut self, m: &mut AbiMemory<'_>, fd: Fd, path: GuestPtr<str>) -> R<()> {
        call(
            "path_unlink_file",
            WasiCtx::path_unlink_file(self, m, fd, path),
        )
    }

    fn poll_oneoff(
        &mut self,
        m: &mut AbiMemory<'_>,
        subs: GuestPtr<Subscription>,
        events: GuestPtr<Event>,
        n: u32,
    ) -> R<u32> {
        call(
            "poll_oneoff",
            WasiCtx::poll_oneoff(self, m, subs, events, n),
        )
    }
    fn proc_exit(&mut self, _: &mut AbiMemory<'_>, status: u32) -> wasmtime::Error {
        WasiCtx::proc_exit(self, status)
    }
    fn proc_raise(&mut self, _: &mut AbiMemory<'_>, sig: u32) -> R<()> {
        WasiCtx::proc_raise(self, sig)
    }
    fn sched_yield(&mut self, _: &mut AbiMemory<'_>) -> R<()> {
        WasiCtx::sched_yield(self)
    }
    fn random_get(&mut self, m: &mut AbiMemory<'_>, buf: GuestPtr<u8>, len: u32) -> R<()> {
        call("random_get", WasiCtx::random_get(self, m, buf, len))
    }

    fn sock_accept(&mut self, _: &mut AbiMemory<'_>, fd: Fd, flags: u32) -> R<Fd> {
        WasiCtx::sock_accept(self, fd, flags)
    }
    fn sock_recv(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
        flags: u32,
    ) -> R<(u32, Roflags)> {
        call("sock_recv", WasiCtx::sock_recv(self, m, fd, iovs, flags))
    }
    fn sock_send(
        &mut self,
        m: &mut AbiMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        flags: u32,
    ) -> R<u32> {
        call("sock_send", WasiCtx::sock_send(self, m, fd, iovs, flags))
    }
    fn sock_shutdown(&mut self, _: &mut AbiMemory<'_>, fd: Fd, how: u32) -> R<()> {
        WasiCtx::sock_shutdown(self, fd, how)
    }
}

/// How a failed call reaches the guest: an errno, or a trap for a bad pointer.
impl UserErrorConversion for WasiCtx {
    fn errno_from_sys_err(&mut self, e: SysErr) -> wiggle::error::Result<Errno> {
        match e {
            SysErr::Errno(errno) => Ok(errno),
            SysErr::Pointer(bad) => Err(wasmtime::Error::new(bad)),
            SysErr::Trap(trap) => Err(trap),
        }
    }
}
