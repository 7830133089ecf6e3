//! The Rust plugin of examples/plugin.rs: the same program as examples/plugin/plugin.c,
//! declaring its imports with what `plugin --rust-externs` prints (plugin_imports.rs).
//! Built for wasm32-wasip1 as a bin of tests/guests/rust.

include!("plugin_imports.rs");

fn put(key: &str, value: &str) -> u32 {
    unsafe { kv::put(key.as_ptr(), key.len(), value.as_ptr(), value.len()) }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks_exact(2) {
        let n = put(&pair[0], &pair[1]);
        println!("plugin: put {}, now {n} keys", pair[0]);
    }
    let mut buf = [0u8; 64];
    let len = unsafe { kv::get("colour".as_ptr(), 6, buf.as_mut_ptr(), buf.len()) };
    if len == u32::MAX {
        println!("plugin: no colour");
    } else {
        let shown = &buf[..(len as usize).min(buf.len())];
        println!("plugin: colour is {}", String::from_utf8_lossy(shown));
    }
    let msg = "hello from Rust";
    unsafe { env::log(1, msg.as_ptr(), msg.len()) };
    println!("plugin: scale(1.5, 4) = {}", unsafe { env::scale(1.5, 4.0) });
}
