//! Tries to allocate the number of MiB given as its argument, and says how it went:
//! status 0 if it could, 3 if the allocator reported failure.
fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut v: Vec<u8> = Vec::new();
    match v.try_reserve_exact(mib << 20) {
        Ok(()) => {
            v.resize(mib << 20, 1);
            println!("allocated {mib} MiB");
        }
        Err(e) => {
            println!("allocation of {mib} MiB failed: {e}");
            std::process::exit(3);
        }
    }
}
