//! The integration tests, one crate: real guest programs (Rust, C, WAT) through the
//! library, the `#[hostcall]` macro and the CLI. Guests are built once for the whole
//! crate by `support`. (`robustness.rs` is its own crate: it counts every heap
//! allocation of its process.)

mod support;

#[cfg(feature = "async")]
mod async_run;
mod bad_pointers;
mod cli;
#[cfg(feature = "components")]
mod components;
mod corpus;
mod ended;
mod fs;
mod hostcall;
mod library;
mod macro_ui;
mod owned;
mod poll_sockets;
mod reactor;
mod sdk;
mod threads;
mod trace;
mod wasm3;
