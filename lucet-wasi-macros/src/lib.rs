//! The `#[lucet_wasi::hostcall]` attribute (implemented in a later issue).
