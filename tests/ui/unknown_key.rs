use lucet_wasi::hostcall;

#[hostcall(modul = "kv")]
fn put(value: u32) -> u32 {
    value
}

fn main() {}
