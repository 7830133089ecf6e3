use lucet_wasi::GuestType;

#[derive(Clone, Copy, GuestType)]
struct Point {
    x: f32,
    y: f32,
}

fn main() {}
