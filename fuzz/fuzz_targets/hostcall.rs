//! See `fuzz/src/lib.rs`: a guest running the calls an input encodes
//! (WASI and `#[hostcall]` functions).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lucet_wasi_fuzz::{Harness, Mode};
use std::cell::RefCell;

thread_local! {
    static HARNESS: RefCell<Harness> = RefCell::new(Harness::new(Mode::Hostcall));
}

fuzz_target!(|data: &[u8]| {
    HARNESS.with(|h| h.borrow_mut().run(data, Mode::Hostcall));
});
