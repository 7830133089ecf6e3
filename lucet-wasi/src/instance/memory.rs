//! A [`WasiInstance`]'s guest memory from the host side: raw, typed, and copies in and
//! out at guest addresses, bounds-checked.

use crate::hostcall::{Borrows, GuestMemory};
use crate::{Error, WasiInstance};
use std::cell::UnsafeCell;

impl WasiInstance {
    /// The guest's exported linear memory `memory`, if it has one (a component has
    /// none: its memories are its own). A threaded guest's
    /// memory is shared, written by its threads at any moment: no Rust slice of it is
    /// handed out (this is `None`); copy in and out with [`read_bytes`](Self::read_bytes)
    /// and [`write_bytes`](Self::write_bytes), or use [`guest_memory`](Self::guest_memory).
    pub fn memory(&self) -> Option<&[u8]> {
        let inner = self.inner.as_ref()?;
        Some(inner.store.data().memory?.data(&inner.store))
    }

    /// The guest's exported linear memory `memory`, writable: what the host writes here
    /// the guest reads in its next call.
    pub fn memory_mut(&mut self) -> Option<&mut [u8]> {
        let inner = self.inner.as_mut()?;
        Some(inner.store.data().memory?.data_mut(&mut inner.store))
    }

    /// Typed, bounds-checked access to guest memory, as host functions have it
    /// ([`GuestMemory::read`], [`write`](GuestMemory::write), [`str`](GuestMemory::str),
    /// ...). Without an exported memory, every non-empty access is an error. For a
    /// threaded guest, its shared memory, through copies (see [`GuestMemory`]): what is
    /// written through a `bytes_mut`/`slice_mut` view reaches guest memory at the view's
    /// next access, or at the instance's next `guest_memory`, `read_bytes`, `write_bytes`
    /// or `run`.
    pub fn guest_memory(&mut self) -> GuestMemory<'_> {
        // The copies a previous view made are no longer borrowed: written back, freed.
        self.copies.clear();
        self.borrows = Borrows::new();
        let Some(inner) = self.inner.as_mut() else {
            return GuestMemory::absent(&mut self.borrows);
        };
        if inner.store.data().threads.is_some() {
            let group = inner.store.data().threads.as_ref().expect("threaded");
            let cells = group.wasi.memory().data();
            return GuestMemory::shared(cells, &mut self.borrows, &self.copies);
        }
        match inner.store.data().memory {
            Some(memory) => GuestMemory::new(memory.data_mut(&mut inner.store), &mut self.borrows),
            None => GuestMemory::absent(&mut self.borrows),
        }
    }

    /// Copies `bytes` into guest memory at `ptr`; out of bounds is an error, and nothing
    /// is written. Works for a threaded guest's shared memory too.
    pub fn write_bytes(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Error> {
        self.refuse_component("guest memory access")?;
        self.copies.clear();
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        if let Some(cells) = self.shared_range(ptr, len)? {
            // SAFETY: in bounds; the guest's threads may write the same bytes (their
            // race), but no reference to them is made.
            unsafe {
                std::ptr::copy(
                    bytes.as_ptr(),
                    UnsafeCell::raw_get(cells.as_ptr()),
                    bytes.len(),
                )
            };
            return Ok(());
        }
        self.guest_memory()
            .bytes_mut(ptr, len)?
            .copy_from_slice(bytes);
        Ok(())
    }

    /// Copies `len` bytes out of guest memory at `ptr` (a threaded guest's shared
    /// memory too).
    pub fn read_bytes(&mut self, ptr: u32, len: u32) -> Result<Vec<u8>, Error> {
        self.refuse_component("guest memory access")?;
        self.copies.clear();
        if let Some(cells) = self.shared_range(ptr, len)? {
            let mut out = vec![0; cells.len()];
            // SAFETY: as for `write_bytes`, the other way.
            unsafe { std::ptr::copy(cells.as_ptr().cast::<u8>(), out.as_mut_ptr(), out.len()) };
            return Ok(out);
        }
        Ok(self.guest_memory().bytes(ptr, len)?.to_vec())
    }

    /// Copies the UTF-8 string of `len` bytes at `ptr` out of guest memory.
    pub fn read_string(&mut self, ptr: u32, len: u32) -> Result<String, Error> {
        self.refuse_component("guest memory access")?;
        if self.threads().is_some() {
            let bytes = self.read_bytes(ptr, len)?;
            return String::from_utf8(bytes).map_err(|e| {
                Error::from(crate::HostcallError::NotUtf8 {
                    arg: None,
                    ptr,
                    valid_up_to: e.utf8_error().valid_up_to(),
                })
            });
        }
        Ok(self.guest_memory().str(ptr, len)?.to_string())
    }

    /// For a threaded guest, the cells of its shared memory at `ptr`, `len` bytes,
    /// bounds-checked; `None` for any other guest.
    fn shared_range(&self, ptr: u32, len: u32) -> Result<Option<&[UnsafeCell<u8>]>, Error> {
        let Some(group) = self
            .inner
            .as_ref()
            .and_then(|i| i.store.data().threads.as_ref())
        else {
            return Ok(None);
        };
        let cells = group.wasi.memory().data();
        let end = ptr as u64 + len as u64;
        if end > cells.len() as u64 {
            return Err(Error::from(crate::HostcallError::OutOfBounds {
                arg: None,
                ptr,
                len: len as u64,
                memory: cells.len(),
            }));
        }
        Ok(Some(&cells[ptr as usize..end as usize]))
    }

    /// The size of the guest's exported `memory` in bytes, if it has one.
    pub(crate) fn memory_size(&self) -> Option<u64> {
        self.memory().map(|m| m.len() as u64)
    }
}
