//! Calls every kind of host function of tests/hostcall.rs through the Rust declarations
//! that `HostcallSet::rust_externs` generated (src/hostcalls.rs), printing each result.

include!("../hostcalls.rs");

/// The same layout as the host's `Point`.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Point {
    x: f32,
    y: f32,
}

fn main() {
    unsafe {
        let (k, v) = ("colour", b"blue");
        println!("put {}", kv::put(k.as_ptr(), k.len(), v.as_ptr(), v.len()));
        let (k, v) = ("size", b"xl");
        println!("put {}", kv::put(k.as_ptr(), k.len(), v.as_ptr(), v.len()));
        let mut buf = [b'.'; 8];
        let n = kv::get("colour".as_ptr(), 6, buf.as_mut_ptr(), buf.len());
        println!("get {n} {}", String::from_utf8_lossy(&buf));
        println!("get {}", kv::get("nope".as_ptr(), 4, buf.as_mut_ptr(), buf.len()));
        let msg = "hello host";
        env::log(2, msg.as_ptr(), msg.len());
        println!("scale {}", env::scale(1.5, 2.0));
        println!("negate {} {}", env::negate(true), env::negate(false));
        println!("mix {}", env::mix(-3, 1 << 40, u64::MAX));
        let mut points = [Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }];
        env::shift(points.as_mut_ptr(), points.len(), 0.5, -1.0);
        println!("shift {:?}", points);
        let mut c = Point::default();
        println!("centroid {} {:?}", env::centroid(points.as_ptr(), points.len(), &mut c), c);
        let (text, bytes) = ("héllo", [1u8, 2, 3]);
        println!("owned {}", env::owned(text.as_ptr(), text.len(), bytes.as_ptr(), bytes.len()));
        println!("checked_div {}", env::checked_div(7, 2));
        let mut squares = [0u32; 4];
        env::squares(squares.as_mut_ptr() as u32, 4);
        println!("squares {:?}", squares);
    }
}
