//! Calls every kind of host function of tests/hostcall.rs through the safe Rust bindings
//! that `HostcallSet::rust_bindings` generated (src/hostcalls_safe.rs), printing each
//! result: the same calls as hostcall_kinds, without `unsafe`.

include!("../hostcalls_safe.rs");

/// The same layout as the host's `Point`.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Point {
    x: f32,
    y: f32,
}

fn main() {
    println!("put {}", kv::put("colour", b"blue"));
    println!("put {}", kv::put("size", b"xl"));
    let mut buf = [b'.'; 8];
    let n = kv::get("colour", &mut buf);
    println!("get {n} {}", String::from_utf8_lossy(&buf));
    println!("get {}", kv::get("nope", &mut buf));
    env::log(2, "hello host");
    println!("scale {}", env::scale(1.5, 2.0));
    println!("negate {} {}", env::negate(true), env::negate(false));
    println!("mix {}", env::mix(-3, 1 << 40, u64::MAX));
    let mut points = [Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }];
    env::shift(&mut points, 0.5, -1.0);
    println!("shift {:?}", points);
    let mut c = Point::default();
    println!("centroid {} {:?}", env::centroid(&points, &mut c), c);
    println!("owned {}", env::owned("héllo", &[1u8, 2, 3]));
    println!("checked_div {}", env::checked_div(7, 2));
    let mut squares = [0u32; 4];
    env::squares(squares.as_mut_ptr() as u32, 4);
    println!("squares {:?}", squares);
}
