//! Calls the host function `env.rendezvous` (async on the host: it waits for every other
//! guest of the test), then prints each argument with its result.
#[link(wasm_import_module = "env")]
extern "C" {
    fn rendezvous() -> u32;
}

fn main() {
    // SAFETY: a host function without arguments.
    let n = unsafe { rendezvous() };
    for arg in std::env::args().skip(1) {
        println!("{arg} {n}");
    }
}
