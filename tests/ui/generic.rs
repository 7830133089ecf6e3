use lucet_wasi::hostcall;

#[hostcall]
fn store<T: Copy>(value: u32) -> u32 {
    value
}

fn main() {}
