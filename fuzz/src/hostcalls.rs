//! Host functions taking every kind of argument `#[hostcall]` decodes: strings, byte and
//! typed slices (shared and `&mut`, so overlaps), owned copies, structs by reference,
//! floats and bools, the context's memory API, an `Err` result, and owned results
//! (placed with the guest's `cabi_realloc`).

use lucet_wasi::{hostcall, hostcalls, GuestType, HostContext, HostcallSet};

/// The embedder data of the hostcall target.
#[derive(Default)]
pub struct State {
    calls: u64,
}

/// A struct with no padding, as `#[derive(GuestType)]` asks.
#[derive(Clone, Copy, GuestType)]
#[repr(C)]
pub struct Pair {
    a: u32,
    b: u32,
    c: u64,
}

#[derive(Debug)]
pub struct Odd(u32);

impl std::fmt::Display for Odd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "odd {}", self.0)
    }
}

impl std::error::Error for Odd {}

#[hostcall(module = "fz")]
fn str_len(s: &str) -> u32 {
    s.chars().count() as u32
}

#[hostcall(module = "fz")]
fn owned(s: String, v: Vec<u64>) -> u32 {
    (s.len() + v.iter().filter(|x| **x & 1 == 1).count()) as u32
}

#[hostcall(module = "fz")]
fn fill(out: &mut [u8], byte: u32) -> u32 {
    out.fill(byte as u8);
    out.len() as u32
}

#[hostcall(module = "fz")]
fn copy(dst: &mut [u8], src: &[u8]) -> u32 {
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
    n as u32
}

#[hostcall(module = "fz")]
fn pair(_cx: &mut HostContext<'_, State>, p: &mut Pair, q: &Pair) -> u64 {
    p.a = p.a.wrapping_add(q.b);
    p.c ^= q.c;
    u64::from(p.a)
}

#[hostcall(module = "fz")]
fn pairs(ps: &mut [Pair], more: &[u64]) -> u32 {
    for (p, m) in ps.iter_mut().zip(more) {
        p.c = p.c.wrapping_add(*m);
    }
    ps.len() as u32
}

#[hostcall(module = "fz")]
fn scalars(x: f64, y: f32, b: bool, n: i64) -> f64 {
    if b {
        x * f64::from(y) + n as f64
    } else {
        x
    }
}

#[hostcall(module = "fz")]
fn context(cx: &mut HostContext<'_, State>, ptr: u32, len: u32) -> u32 {
    cx.data_mut().calls += 1;
    let copied = cx.memory().bytes(ptr, len).map(<[u8]>::to_vec);
    let Ok(bytes) = copied else { return 1 };
    let _ = cx.memory_mut().write(ptr, &0xfeed_u32);
    let _ = cx.memory().read::<Pair>(ptr);
    let _ = cx.memory().str(ptr, len);
    let _ = cx.memory().slice::<u64>(ptr, len / 8);
    let _ = std::io::Write::write_all(&mut cx.stdout(), &bytes[..bytes.len().min(64)]);
    0
}

#[hostcall(module = "fz")]
fn fails(state: &mut State, x: u32) -> Result<u32, Odd> {
    state.calls += 1;
    if x % 2 == 1 {
        Err(Odd(x))
    } else {
        Ok(x / 2)
    }
}

/// An owned result: placed with the guest's allocator (a bump pointer in its memory,
/// which other calls may overwrite).
#[hostcall(module = "fz")]
fn echo(s: &str, times: u32) -> String {
    s.repeat(times as usize % 8)
}

/// An optional owned list of structs, or a failure.
#[hostcall(module = "fz")]
fn maybe(state: &mut State, n: u32) -> Result<Option<Vec<Pair>>, Odd> {
    state.calls += 1;
    match n % 3 {
        0 => Ok(None),
        1 => Ok(Some(
            (0..n % 64)
                .map(|i| Pair {
                    a: i,
                    b: n,
                    c: u64::from(i) << 32,
                })
                .collect(),
        )),
        _ => Err(Odd(n)),
    }
}

/// The set linked into the hostcall target's guest.
pub fn set() -> HostcallSet {
    hostcalls![str_len, owned, fill, copy, pair, pairs, scalars, context, fails, echo, maybe]
}

/// Their imports as the guest declares them: module, name, wasm parameters (`i` i32,
/// `I` i64, `f` f32, `F` f64) and result, which the guest drops.
pub const IMPORTS: &[(&str, &str, &str, &str)] = &[
    ("fz", "str_len", "ii", "i"),
    ("fz", "owned", "iiii", "i"),
    ("fz", "fill", "iii", "i"),
    ("fz", "copy", "iiii", "i"),
    ("fz", "pair", "ii", "I"),
    ("fz", "pairs", "iiii", "i"),
    ("fz", "scalars", "FfiI", "F"),
    ("fz", "context", "ii", "i"),
    ("fz", "fails", "i", "i"),
    ("fz", "echo", "iiii", ""),
    ("fz", "maybe", "ii", "i"),
];
