//! `random_get`.

use super::errno::PointerRole;
use super::iov::{copy_out, shared_bytes, Scratch};
use super::types::Errno;
use super::AbiMemory;
use super::{DeadlineReached, SysErr, WasiCtx};
use std::time::Instant;
use wiggle::GuestPtr;

/// Randomness is drawn from the OS in chunks of at most this many bytes.
const CHUNK: usize = 64 * 1024;

impl WasiCtx {
    /// Fills guest memory with OS randomness, in place: no host buffer is sized by the guest.
    pub(super) fn random_get(
        &mut self,
        mem: &mut AbiMemory<'_>,
        buf: GuestPtr<u8>,
        len: u32,
    ) -> Result<(), SysErr> {
        if len == 0 {
            return Ok(());
        }
        let deadline = self.waits.deadline;
        let late = || deadline.is_some_and(|d| Instant::now() >= d);
        if let AbiMemory::Shared(cells) = mem {
            // Chunk by chunk through the thread's scratch buffer.
            let dest = shared_bytes(cells, buf.as_array(len)).role("buffer")?;
            let mut scratch = Scratch::take();
            for chunk in dest.chunks(CHUNK) {
                if late() {
                    return Err(SysErr::Trap(wasmtime::Error::new(DeadlineReached)));
                }
                let bytes = scratch.bytes(chunk.len());
                getrandom::fill(bytes).map_err(|_| Errno::Io)?;
                copy_out(bytes, chunk);
            }
            return Ok(());
        }
        let dest = mem
            .as_slice_mut(buf.as_array(len))
            .role("buffer")?
            .ok_or(Errno::Notsup)?;
        // A large request (up to 4 GiB) takes seconds: the deadline is checked between
        // chunks, so it ends the guest on time.
        for chunk in dest.chunks_mut(CHUNK) {
            if late() {
                return Err(SysErr::Trap(wasmtime::Error::new(DeadlineReached)));
            }
            getrandom::fill(chunk).map_err(|_| Errno::Io)?;
        }
        Ok(())
    }
}
