use lucet_wasi::hostcall;

#[hostcall]
async fn fetch(key: u32) -> u32 {
    key
}

fn main() {}
