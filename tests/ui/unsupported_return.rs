use lucet_wasi::hostcall;

#[hostcall]
fn name(id: u32) -> String {
    format!("user {id}")
}

fn main() {}
