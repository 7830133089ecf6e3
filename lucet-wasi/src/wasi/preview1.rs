//! The preview1 trait: one short method per WASI function, delegating to its area.

use super::types::{Ciovec, Event, Fd, Fdstat, Filestat, Iovec, Prestat, Roflags, Subscription};
use super::wasi_snapshot_preview1::WasiSnapshotPreview1;
use super::{SysErr, WasiCtx};
use wiggle::{GuestMemory, GuestPtr};

type R<T> = Result<T, SysErr>;

/// Names the call in the trap of a bad pointer (see [`super::pointer`]).
fn call<T>(name: &'static str, result: R<T>) -> R<T> {
    result.map_err(|e| e.in_call(name))
}

impl WasiSnapshotPreview1 for WasiCtx {
    fn args_get(
        &mut self,
        m: &mut GuestMemory<'_>,
        argv: GuestPtr<GuestPtr<u8>>,
        buf: GuestPtr<u8>,
    ) -> R<()> {
        call("args_get", self.args_copy(m, argv, buf))
    }
    fn args_sizes_get(&mut self, _: &mut GuestMemory<'_>) -> R<(u32, u32)> {
        Ok(self.args_sizes())
    }
    fn environ_get(
        &mut self,
        m: &mut GuestMemory<'_>,
        env: GuestPtr<GuestPtr<u8>>,
        buf: GuestPtr<u8>,
    ) -> R<()> {
        call("environ_get", self.environ_copy(m, env, buf))
    }
    fn environ_sizes_get(&mut self, _: &mut GuestMemory<'_>) -> R<(u32, u32)> {
        Ok(self.environ_sizes())
    }

    fn clock_res_get(&mut self, _: &mut GuestMemory<'_>, id: u32) -> R<u64> {
        self.clock_res(id)
    }
    fn clock_time_get(&mut self, _: &mut GuestMemory<'_>, id: u32, _precision: u64) -> R<u64> {
        self.clock_time(id)
    }

    fn fd_advise(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        off: u64,
        len: u64,
        advice: u32,
    ) -> R<()> {
        self.advise(fd, off, len, advice)
    }
    fn fd_allocate(&mut self, _: &mut GuestMemory<'_>, fd: Fd, off: u64, len: u64) -> R<()> {
        self.allocate(fd, off, len)
    }
    fn fd_close(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<()> {
        self.close(fd)
    }
    fn fd_datasync(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<()> {
        self.datasync(fd)
    }
    fn fd_fdstat_get(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<Fdstat> {
        self.fdstat(fd)
    }
    fn fd_fdstat_set_flags(&mut self, _: &mut GuestMemory<'_>, fd: Fd, flags: u32) -> R<()> {
        self.set_fdflags(fd, flags)
    }
    fn fd_fdstat_set_rights(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        base: u64,
        inheriting: u64,
    ) -> R<()> {
        self.set_rights(fd, base, inheriting)
    }
    fn fd_filestat_get(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<Filestat> {
        self.filestat(fd)
    }
    fn fd_filestat_set_size(&mut self, _: &mut GuestMemory<'_>, fd: Fd, size: u64) -> R<()> {
        self.set_size(fd, size)
    }
    fn fd_filestat_set_times(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        atim: u64,
        mtim: u64,
        flags: u32,
    ) -> R<()> {
        self.set_times(fd, atim, mtim, flags)
    }
    fn fd_pread(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
        off: u64,
    ) -> R<u32> {
        call("fd_pread", self.pread(m, fd, iovs, off))
    }
    fn fd_prestat_get(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<Prestat> {
        self.prestat(fd)
    }
    fn fd_prestat_dir_name(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        path: GuestPtr<u8>,
        len: u32,
    ) -> R<()> {
        call(
            "fd_prestat_dir_name",
            self.prestat_dir_name(m, fd, path, len),
        )
    }
    fn fd_pwrite(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        off: u64,
    ) -> R<u32> {
        call("fd_pwrite", self.pwrite(m, fd, iovs, off))
    }
    fn fd_read(&mut self, m: &mut GuestMemory<'_>, fd: Fd, iovs: GuestPtr<[Iovec]>) -> R<u32> {
        call("fd_read", self.read(m, fd, iovs))
    }
    fn fd_readdir(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        buf: GuestPtr<u8>,
        len: u32,
        cookie: u64,
    ) -> R<u32> {
        call("fd_readdir", self.readdir(m, fd, buf, len, cookie))
    }
    fn fd_renumber(&mut self, _: &mut GuestMemory<'_>, fd: Fd, to: Fd) -> R<()> {
        self.renumber(fd, to)
    }
    fn fd_seek(&mut self, _: &mut GuestMemory<'_>, fd: Fd, off: i64, whence: u32) -> R<u64> {
        self.seek(fd, off, whence)
    }
    fn fd_sync(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<()> {
        self.sync(fd)
    }
    fn fd_tell(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<u64> {
        self.tell(fd)
    }
    fn fd_write(&mut self, m: &mut GuestMemory<'_>, fd: Fd, iovs: GuestPtr<[Ciovec]>) -> R<u32> {
        call("fd_write", self.write(m, fd, iovs))
    }

    fn path_create_directory(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
    ) -> R<()> {
        call("path_create_directory", self.create_directory(m, fd, path))
    }
    fn path_filestat_get(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        flags: u32,
        path: GuestPtr<str>,
    ) -> R<Filestat> {
        call("path_filestat_get", self.path_filestat(m, fd, flags, path))
    }
    fn path_filestat_set_times(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        flags: u32,
        path: GuestPtr<str>,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> R<()> {
        call(
            "path_filestat_set_times",
            self.path_set_times(m, fd, flags, path, atim, mtim, fst_flags),
        )
    }
    fn path_link(
        &mut self,
        m: &mut GuestMemory<'_>,
        old_fd: Fd,
        old_flags: u32,
        old_path: GuestPtr<str>,
        new_fd: Fd,
        new_path: GuestPtr<str>,
    ) -> R<()> {
        call(
            "path_link",
            self.link(m, old_fd, old_flags, old_path, new_fd, new_path),
        )
    }
    fn path_open(
        &mut self,
        m: &mut GuestMemory<'_>,
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
            self.open(m, fd, dirflags, path, oflags, base, inheriting, fdflags),
        )
    }
    fn path_readlink(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
        buf: GuestPtr<u8>,
        len: u32,
    ) -> R<u32> {
        call("path_readlink", self.readlink(m, fd, path, buf, len))
    }
    fn path_remove_directory(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        path: GuestPtr<str>,
    ) -> R<()> {
        call("path_remove_directory", self.remove_directory(m, fd, path))
    }
    fn path_rename(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        old: GuestPtr<str>,
        new_fd: Fd,
        new: GuestPtr<str>,
    ) -> R<()> {
        call("path_rename", self.rename(m, fd, old, new_fd, new))
    }
    fn path_symlink(
        &mut self,
        m: &mut GuestMemory<'_>,
        old: GuestPtr<str>,
        fd: Fd,
        new: GuestPtr<str>,
    ) -> R<()> {
        call("path_symlink", self.symlink(m, old, fd, new))
    }
    fn path_unlink_file(&mut self, m: &mut GuestMemory<'_>, fd: Fd, path: GuestPtr<str>) -> R<()> {
        call("path_unlink_file", self.unlink_file(m, fd, path))
    }

    fn poll_oneoff(
        &mut self,
        m: &mut GuestMemory<'_>,
        subs: GuestPtr<Subscription>,
        events: GuestPtr<Event>,
        n: u32,
    ) -> R<u32> {
        call("poll_oneoff", self.poll(m, subs, events, n))
    }
    fn proc_exit(&mut self, _: &mut GuestMemory<'_>, status: u32) -> wasmtime::Error {
        self.exit(status)
    }
    fn proc_raise(&mut self, _: &mut GuestMemory<'_>, sig: u32) -> R<()> {
        self.raise(sig)
    }
    fn sched_yield(&mut self, _: &mut GuestMemory<'_>) -> R<()> {
        self.yield_now()
    }
    fn random_get(&mut self, m: &mut GuestMemory<'_>, buf: GuestPtr<u8>, len: u32) -> R<()> {
        call("random_get", self.random_fill(m, buf, len))
    }

    fn sock_accept(&mut self, _: &mut GuestMemory<'_>, fd: Fd, flags: u32) -> R<Fd> {
        self.accept(fd, flags)
    }
    fn sock_recv(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Iovec]>,
        flags: u32,
    ) -> R<(u32, Roflags)> {
        call("sock_recv", self.socket_recv(m, fd, iovs, flags))
    }
    fn sock_send(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        flags: u32,
    ) -> R<u32> {
        call("sock_send", self.socket_send(m, fd, iovs, flags))
    }
    fn sock_shutdown(&mut self, _: &mut GuestMemory<'_>, fd: Fd, how: u32) -> R<()> {
        self.socket_shutdown(fd, how)
    }
}
