use lucet_wasi::GuestType;

#[derive(Clone, Copy, GuestType)]
#[repr(C)]
struct Padded {
    tag: u8,
    value: u32,
}

fn main() {}
