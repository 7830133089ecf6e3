use lucet_wasi::hostcall;

struct Counter(u32);

impl Counter {
    #[hostcall]
    fn bump(&mut self, by: u32) -> u32 {
        self.0 += by;
        self.0
    }
}

fn main() {}
