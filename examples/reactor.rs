//! Calling a reactor module's exports with typed arguments, and reading its memory.
//!
//! `cargo run --example reactor`

use lucet_wasi::WasiInstance;

fn main() -> Result<(), lucet_wasi::Error> {
    let mut instance = WasiInstance::builder()
        .module_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/reactor.wat"
        ))?
        .build()?;
    let sum: i32 = instance.call::<(i32, i32), i32>("add", (40, 2))?;
    println!("add(40, 2) = {sum}");
    let len = instance.call::<i32, i32>("greet", 4096)? as usize;
    let memory = instance.memory().expect("the reactor exports its memory");
    println!(
        "greet wrote {:?}",
        String::from_utf8_lossy(&memory[4096..4096 + len])
    );
    Ok(())
}
