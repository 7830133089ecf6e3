//! Instruction-count driver (run under callgrind): one instance, `_start` run N times.
//! `icount wasi <wat> N` runs a WASI-only guest; `icount hostcall N [WAT]` the put/log
//! guest (`guests/hostcall_calls.wat`, or WAT: a threaded one runs once, N = 1).
use lucet_wasi::{hostcall, HostContext, Output, WasiInstance};

#[derive(Default)]
struct Kv {
    puts: u32,
    bytes: usize,
    logged: usize,
}

#[hostcall(module = "kv")]
fn put(kv: &mut Kv, key: &str, value: &[u8]) -> u32 {
    kv.puts += 1;
    kv.bytes += key.len() + value.len();
    kv.puts
}

#[hostcall]
fn log(cx: &mut HostContext<'_, Kv>, level: u32, msg: &str) {
    cx.data_mut().logged += level as usize + msg.len();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/guests/");
    let (mut instance, n) = match args[1].as_str() {
        "hostcall" => (
            WasiInstance::builder()
                .module_file(
                    args
                        .get(3)
                        .cloned()
                        .unwrap_or(format!("{dir}hostcall_calls.wat")),
                )
                .unwrap()
                .data(Kv::default())
                .hostcall(put)
                .hostcall(log)
                .stdout(Output::null())
                .build()
                .unwrap(),
            args[2].parse::<u32>().unwrap(),
        ),
        _ => (
            WasiInstance::builder()
                .module_file(format!("{dir}{}", args[2]))
                .unwrap()
                .stdout(Output::null())
                .build()
                .unwrap(),
            args[3].parse::<u32>().unwrap(),
        ),
    };
    for _ in 0..n {
        // The guest counts its puts from 0 on every run.
        if let Some(kv) = instance.data_mut::<Kv>() {
            kv.puts = 0;
        }
        instance.run("_start").unwrap();
    }
}
