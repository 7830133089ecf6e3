use lucet_wasi::hostcall;

#[hostcall]
fn lookup(id: u32) -> Option<u32> {
    Some(id)
}

fn main() {}
