//! Embedding with captured output: run a guest, read what it printed.
//!
//! `cargo run --example capture` (runs `examples/hello.wat`).

use lucet_wasi::{Capture, Exit, Input, Output, WasiInstance};

fn main() -> Result<(), lucet_wasi::Error> {
    let stdout = Capture::new();
    let exit = WasiInstance::builder()
        .module_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/hello.wat"
        ))?
        .args(["captured", "world"])
        .stdin(Input::null())
        .stdout(Output::capture(&stdout))
        .run("_start")?;
    assert_eq!(exit, Exit::Returned);
    println!("the guest said: {:?}", stdout.text());
    Ok(())
}
