//! The preview1 trait: one short method per WASI function, delegating to its area.

use super::types::{
    Ciovec, Errno, Event, Fd, Fdstat, Filestat, Iovec, Prestat, Roflags, Subscription,
};
use super::wasi_snapshot_preview1::WasiSnapshotPreview1;
use super::{SysErr, WasiCtx};
use wiggle::{GuestMemory, GuestPtr};

type R<T> = Result<T, SysErr>;

impl WasiSnapshotPreview1 for WasiCtx {
    fn args_get(
        &mut self,
        m: &mut GuestMemory<'_>,
        argv: GuestPtr<GuestPtr<u8>>,
        buf: GuestPtr<u8>,
    ) -> R<()> {
        self.args_copy(m, argv, buf)
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
        self.environ_copy(m, env, buf)
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
        _off: u64,
        _len: u64,
        _advice: u32,
    ) -> R<()> {
        Err(self.not_a_file(fd))
    }
    fn fd_allocate(&mut self, _: &mut GuestMemory<'_>, fd: Fd, _off: u64, _len: u64) -> R<()> {
        Err(self.not_a_file(fd))
    }
    fn fd_close(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<()> {
        self.close(fd)
    }
    fn fd_datasync(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<()> {
        Err(self.not_a_file(fd))
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
        _base: u64,
        _inheriting: u64,
    ) -> R<()> {
        self.fds.get(fd)?;
        Err(Errno::Notsup.into())
    }
    fn fd_filestat_get(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<Filestat> {
        self.filestat(fd)
    }
    fn fd_filestat_set_size(&mut self, _: &mut GuestMemory<'_>, fd: Fd, _size: u64) -> R<()> {
        Err(self.not_a_file(fd))
    }
    fn fd_filestat_set_times(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _atim: u64,
        _mtim: u64,
        _flags: u32,
    ) -> R<()> {
        Err(self.not_a_file(fd))
    }
    fn fd_pread(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _iovs: GuestPtr<[Iovec]>,
        _off: u64,
    ) -> R<u32> {
        Err(self.not_a_file(fd))
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
        self.prestat_dir_name(m, fd, path, len)
    }
    fn fd_pwrite(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _iovs: GuestPtr<[Ciovec]>,
        _off: u64,
    ) -> R<u32> {
        Err(self.not_a_file(fd))
    }
    fn fd_read(&mut self, m: &mut GuestMemory<'_>, fd: Fd, iovs: GuestPtr<[Iovec]>) -> R<u32> {
        self.read(m, fd, iovs)
    }
    fn fd_readdir(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _buf: GuestPtr<u8>,
        _len: u32,
        _cookie: u64,
    ) -> R<u32> {
        Err(self.dir_op(fd))
    }
    fn fd_renumber(&mut self, _: &mut GuestMemory<'_>, fd: Fd, to: Fd) -> R<()> {
        self.fds.get(fd)?;
        self.fds.get(to)?;
        Err(Errno::Notsup.into())
    }
    fn fd_seek(&mut self, _: &mut GuestMemory<'_>, fd: Fd, _off: i64, _whence: u32) -> R<u64> {
        Err(self.not_a_file(fd))
    }
    fn fd_sync(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<()> {
        Err(self.not_a_file(fd))
    }
    fn fd_tell(&mut self, _: &mut GuestMemory<'_>, fd: Fd) -> R<u64> {
        Err(self.not_a_file(fd))
    }
    fn fd_write(&mut self, m: &mut GuestMemory<'_>, fd: Fd, iovs: GuestPtr<[Ciovec]>) -> R<u32> {
        self.write(m, fd, iovs)
    }

    fn path_create_directory(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _path: GuestPtr<str>,
    ) -> R<()> {
        Err(self.path_op(fd))
    }
    fn path_filestat_get(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _flags: u32,
        _path: GuestPtr<str>,
    ) -> R<Filestat> {
        Err(self.path_op(fd))
    }
    fn path_filestat_set_times(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _flags: u32,
        _path: GuestPtr<str>,
        _atim: u64,
        _mtim: u64,
        _fst_flags: u32,
    ) -> R<()> {
        Err(self.path_op(fd))
    }
    fn path_link(
        &mut self,
        _: &mut GuestMemory<'_>,
        old_fd: Fd,
        _old_flags: u32,
        _old_path: GuestPtr<str>,
        _new_fd: Fd,
        _new_path: GuestPtr<str>,
    ) -> R<()> {
        Err(self.path_op(old_fd))
    }
    fn path_open(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _dirflags: u32,
        _path: GuestPtr<str>,
        _oflags: u32,
        _base: u64,
        _inheriting: u64,
        _fdflags: u32,
    ) -> R<Fd> {
        Err(self.path_op(fd))
    }
    fn path_readlink(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _path: GuestPtr<str>,
        _buf: GuestPtr<u8>,
        _len: u32,
    ) -> R<u32> {
        Err(self.path_op(fd))
    }
    fn path_remove_directory(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _path: GuestPtr<str>,
    ) -> R<()> {
        Err(self.path_op(fd))
    }
    fn path_rename(
        &mut self,
        _: &mut GuestMemory<'_>,
        fd: Fd,
        _old: GuestPtr<str>,
        _new_fd: Fd,
        _new: GuestPtr<str>,
    ) -> R<()> {
        Err(self.path_op(fd))
    }
    fn path_symlink(
        &mut self,
        _: &mut GuestMemory<'_>,
        _old: GuestPtr<str>,
        fd: Fd,
        _new: GuestPtr<str>,
    ) -> R<()> {
        Err(self.path_op(fd))
    }
    fn path_unlink_file(&mut self, _: &mut GuestMemory<'_>, fd: Fd, _path: GuestPtr<str>) -> R<()> {
        Err(self.path_op(fd))
    }

    fn poll_oneoff(
        &mut self,
        m: &mut GuestMemory<'_>,
        subs: GuestPtr<Subscription>,
        events: GuestPtr<Event>,
        n: u32,
    ) -> R<u32> {
        self.poll(m, subs, events, n)
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
        self.random_fill(m, buf, len)
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
        self.socket_recv(m, fd, iovs, flags)
    }
    fn sock_send(
        &mut self,
        m: &mut GuestMemory<'_>,
        fd: Fd,
        iovs: GuestPtr<[Ciovec]>,
        flags: u32,
    ) -> R<u32> {
        self.socket_send(m, fd, iovs, flags)
    }
    fn sock_shutdown(&mut self, _: &mut GuestMemory<'_>, fd: Fd, how: u32) -> R<()> {
        self.socket_shutdown(fd, how)
    }
}
