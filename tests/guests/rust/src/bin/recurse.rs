//! Recurses without bound: the wasm stack limit must stop it with a trap.
#[inline(never)]
fn deeper(n: u64, pad: [u64; 8]) -> u64 {
    let pad = std::hint::black_box(pad);
    deeper(n + 1, pad) + pad[(n % 8) as usize]
}

fn main() {
    println!("{}", deeper(0, [1; 8]));
}
