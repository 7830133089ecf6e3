//! A [`WasiInstance`]'s guest memory from the host side: raw, typed, and copies in and
//! out at guest addresses, bounds-checked.

use crate::hostcall::GuestMemory;
use crate::{Error, WasiInstance};

impl WasiInstance {
    /// The guest's exported linear memory `memory`, if it has one.
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
    /// ...). Without an exported memory, every non-empty access is an error.
    pub fn guest_memory(&mut self) -> GuestMemory<'_> {
        match self.memory_mut() {
            Some(bytes) => GuestMemory::new(bytes),
            None => GuestMemory::absent(),
        }
    }

    /// Copies `bytes` into guest memory at `ptr`; out of bounds is an error, and nothing
    /// is written.
    pub fn write_bytes(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Error> {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.guest_memory()
            .bytes_mut(ptr, len)?
            .copy_from_slice(bytes);
        Ok(())
    }

    /// Copies `len` bytes out of guest memory at `ptr`.
    pub fn read_bytes(&mut self, ptr: u32, len: u32) -> Result<Vec<u8>, Error> {
        Ok(self.guest_memory().bytes(ptr, len)?.to_vec())
    }

    /// Copies the UTF-8 string of `len` bytes at `ptr` out of guest memory.
    pub fn read_string(&mut self, ptr: u32, len: u32) -> Result<String, Error> {
        Ok(self.guest_memory().str(ptr, len)?.to_string())
    }

    /// The size of the guest's exported `memory` in bytes, if it has one.
    pub(crate) fn memory_size(&self) -> Option<u64> {
        self.memory().map(|m| m.len() as u64)
    }
}
