use lucet_wasi::GuestType;

#[derive(Clone, Copy, GuestType)]
#[repr(C)]
struct Flags {
    on: bool,
    count: u8,
}

fn main() {}
