use lucet_wasi::hostcall;

// An async host function may take owned copies (String, Vec<T>) and scalars, but no
// borrow of guest memory: it could not live across `.await`.
#[hostcall]
async fn fetch(key: &str, n: u32) -> u32 {
    key.len() as u32 + n
}

fn main() {}
