use lucet_wasi::hostcall;

struct Kv {
    entries: u32,
}

#[hostcall]
fn count(kv: &Kv) -> u32 {
    kv.entries
}

fn main() {}
