//! `args_*` and `environ_*`.

use super::ctx::StringList;
use super::errno::PointerRole;
use super::AbiMemory;
use super::{SysErr, WasiCtx};
use wiggle::GuestPtr;

impl WasiCtx {
    pub(super) fn args_sizes_get(&self) -> (u32, u32) {
        sizes(&self.args)
    }

    pub(super) fn environ_sizes_get(&self) -> (u32, u32) {
        sizes(&self.env)
    }

    pub(super) fn args_get(
        &self,
        mem: &mut AbiMemory<'_>,
        ptrs: GuestPtr<GuestPtr<u8>>,
        buf: GuestPtr<u8>,
    ) -> Result<(), SysErr> {
        copy_out(&self.args, mem, ptrs, buf)
    }

    pub(super) fn environ_get(
        &self,
        mem: &mut AbiMemory<'_>,
        ptrs: GuestPtr<GuestPtr<u8>>,
        buf: GuestPtr<u8>,
    ) -> Result<(), SysErr> {
        copy_out(&self.env, mem, ptrs, buf)
    }
}

fn sizes(list: &StringList) -> (u32, u32) {
    // The builder refuses lists whose blob does not fit in a u32.
    (list.count, list.blob.len() as u32)
}

/// Writes one pointer per string into `ptrs` and the NUL-terminated strings into `buf`.
fn copy_out(
    list: &StringList,
    mem: &mut AbiMemory<'_>,
    ptrs: GuestPtr<GuestPtr<u8>>,
    buf: GuestPtr<u8>,
) -> Result<(), SysErr> {
    if list.blob.is_empty() {
        return Ok(());
    }
    // The strings first: once they fit, every pointer to one of them is in range.
    mem.copy_from_slice(&list.blob, buf.as_array(list.blob.len() as u32))
        .role("string buffer")?;
    let mut offset = 0u32;
    let mut slot = ptrs;
    for s in list.blob.split_inclusive(|&b| b == 0) {
        let string = buf.add(offset).role("string buffer")?;
        mem.write(slot, string).role("pointer array")?;
        slot = slot.add(1).role("pointer array")?;
        offset += s.len() as u32;
    }
    Ok(())
}
