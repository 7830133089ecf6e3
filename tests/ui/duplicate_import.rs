use lucet_wasi::{hostcall, hostcalls};

#[hostcall(module = "kv")]
fn put(value: u32) -> u32 {
    value
}

#[hostcall(module = "kv", name = "put")]
fn put_twice(value: u32) -> u32 {
    value * 2
}

fn main() {
    let _set = hostcalls![put, put_twice];
}
