//! A reactor: a module without `main` whose exports the host calls many times, passing
//! data through guest memory — allocate in the guest, write the input, call, read the
//! output, free.
//!
//! ```text
//! clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
//!     -Wl,--export=malloc -Wl,--export=free -o greet.wasm examples/reactor/greet.c
//! cargo run --example reactor -- greet.wasm ada grace
//! ```
//!
//! `build()` instantiates the module and runs its `_initialize` (the C runtime's static
//! constructors) once, before any other export is called.

use lucet_wasi::{Error, WasiInstance};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let Some(module) = args.next() else {
        eprintln!("usage: reactor REACTOR.wasm NAME...");
        std::process::exit(2);
    };
    let mut guest = WasiInstance::builder().module_file(module)?.build()?;
    let constructed: i32 = guest.call("constructed", ())?;
    println!("constructors ran {constructed} time(s)");

    for name in args {
        let len = u32::try_from(name.len()).expect("a short name");
        // Allocate in the guest and write the input there.
        let input: u32 = guest.call("malloc", len)?;
        guest.write_bytes(input, name.as_bytes())?;
        // Call, then read the output the guest allocated.
        let output: u32 = guest.call("greet", (input, len))?;
        let output_len: u32 = guest.call("last_len", ())?;
        println!("{}", guest.read_string(output, output_len)?);
        guest.call::<u32, ()>("free", input)?;
        guest.call::<u32, ()>("free", output)?;
    }

    // Or write straight into guest memory.
    let buf: u32 = guest.call("malloc", 4u32)?;
    let memory = guest.memory_mut().expect("the reactor exports its memory");
    memory[buf as usize..][..4].copy_from_slice(&[1, 2, 3, 4]);
    let sum: u32 = guest.call("sum", (buf, 4u32))?;
    println!("sum of [1, 2, 3, 4] = {sum}");
    Ok(())
}
