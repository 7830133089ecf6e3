use lucet_wasi::hostcall;

#[hostcall]
fn greet(name: &String) -> u32 {
    name.len() as u32
}

fn main() {}
