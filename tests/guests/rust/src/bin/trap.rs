//! Traps (`unreachable`) two named calls deep, so backtraces have names to show.
#[inline(never)]
fn fail_here(depth: u32) {
    if depth == 0 {
        core::arch::wasm32::unreachable();
    }
    fail_here(std::hint::black_box(depth - 1));
}

#[inline(never)]
fn outer_caller() {
    fail_here(std::hint::black_box(1));
}

fn main() {
    println!("about to trap");
    outer_caller();
}
