//! Exercises poll_oneoff through the raw ABI. Mode from argv[1]:
//! `clocks` (all clock kinds, relative and absolute, several at once, errors),
//! `stdin-idle` (stdin has no data yet: only a clock fires), `stdin-data` (stdin has
//! data: fd_read fires with its byte count). Prints `ok <check>` / `FAIL <check>: ...`.
use std::fmt::Debug;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn poll_oneoff(subs: *const Sub, events: *mut Event, n: usize, out: *mut usize) -> u16;
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
}

#[repr(C, align(8))]
#[derive(Clone, Copy, Default)]
struct Sub {
    userdata: u64,
    tag: u8,
    _pad: [u8; 7],
    // clock: id, timeout, precision, flags; fd: descriptor in the first word.
    id_or_fd: u32,
    _pad2: u32,
    timeout: u64,
    precision: u64,
    flags: u16,
    _pad3: [u8; 6],
}

#[repr(C, align(8))]
#[derive(Clone, Copy, Default, Debug)]
struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    _pad: [u8; 5],
    nbytes: u64,
    flags: u16,
    _pad2: [u8; 6],
}

const CLOCK: u8 = 0;
const FD_READ: u8 = 1;
const FD_WRITE: u8 = 2;
const ABSTIME: u16 = 1;
const BADF: u16 = 8;
const INVAL: u16 = 28;

fn clock(userdata: u64, id: u32, timeout: u64, flags: u16) -> Sub {
    Sub { userdata, tag: CLOCK, id_or_fd: id, timeout, flags, ..Sub::default() }
}

fn fd(userdata: u64, tag: u8, fd: u32) -> Sub {
    Sub { userdata, tag, id_or_fd: fd, ..Sub::default() }
}

fn now(id: u32) -> u64 {
    let mut t = 0;
    assert_eq!(unsafe { clock_time_get(id, 1, &mut t) }, 0);
    t
}

/// Polls; returns (errno, events).
fn poll(subs: &[Sub]) -> (u16, Vec<Event>) {
    let mut events = vec![Event::default(); subs.len().max(1)];
    let mut n = 0;
    let errno = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len(), &mut n) };
    events.truncate(n);
    (errno, events)
}

fn check<T: PartialEq + Debug>(name: &str, got: T, want: T) {
    if got == want {
        println!("ok {name}");
    } else {
        println!("FAIL {name}: got {got:?}, want {want:?}");
    }
}

const MS: u64 = 1_000_000;

fn clocks() {
    for id in 0..4u32 {
        let start = now(1);
        let (e, ev) = poll(&[clock(10 + id as u64, id, 20 * MS, 0)]);
        check(&format!("relative clock {id}: errno"), e, 0);
        check(&format!("relative clock {id}: one event"), ev.len(), 1);
        check(&format!("relative clock {id}: userdata"), ev[0].userdata, 10 + id as u64);
        check(&format!("relative clock {id}: type"), ev[0].kind, CLOCK);
        if id < 2 {
            check(&format!("relative clock {id}: waited"), now(1) - start >= 20 * MS, true);
        }
    }
    let start = now(1);
    let (_, ev) = poll(&[clock(1, 1, start + 30 * MS, ABSTIME)]);
    check("absolute monotonic fires", ev.len(), 1);
    check("absolute monotonic waited", now(1) >= start + 30 * MS, true);
    let start = now(1);
    let (_, ev) = poll(&[clock(2, 0, now(0) - 1_000 * MS, ABSTIME)]);
    check("absolute realtime in the past fires at once", (ev.len(), now(1) - start < 1_000 * MS), (1, true));
    let (_, ev) = poll(&[clock(3, 0, now(0) + 40 * MS, ABSTIME)]);
    check("absolute realtime fires", ev.len(), 1);

    let start = now(1);
    let (_, ev) = poll(&[clock(100, 1, 10_000 * MS, 0), clock(200, 1, 15 * MS, 0), clock(300, 0, 20_000 * MS, 0)]);
    check("several clocks: only the earliest fires", ev.iter().map(|e| e.userdata).collect::<Vec<_>>(), vec![200]);
    check("several clocks: waited for it", now(1) - start >= 15 * MS, true);

    check("bad clock id", poll(&[clock(1, 9, MS, 0)]).0, INVAL);
    check("no subscriptions", unsafe { poll_oneoff(std::ptr::null(), std::ptr::null_mut(), 0, &mut 0) }, INVAL);
    let mut bad_tag = clock(1, 1, MS, 0);
    bad_tag.tag = 7;
    check("bad subscription tag", poll(&[bad_tag]).0, INVAL);

    // Descriptors: stdout is writable at once; a bad descriptor reports badf at once.
    let (_, ev) = poll(&[fd(5, FD_WRITE, 1), clock(6, 1, 10_000 * MS, 0)]);
    check("stdout writable", ev.iter().map(|e| (e.userdata, e.kind, e.error)).collect::<Vec<_>>(), vec![(5, FD_WRITE, 0)]);
    let (_, ev) = poll(&[fd(7, FD_READ, 999)]);
    check("bad fd", ev.iter().map(|e| (e.userdata, e.error)).collect::<Vec<_>>(), vec![(7, BADF)]);
}

fn stdin_idle() {
    let start = now(1);
    let (e, ev) = poll(&[fd(1, FD_READ, 0), clock(2, 1, 100 * MS, 0)]);
    check("idle stdin: errno", e, 0);
    check("idle stdin: only the clock fires", ev.iter().map(|e| e.userdata).collect::<Vec<_>>(), vec![2]);
    check("idle stdin: waited", now(1) - start >= 100 * MS, true);
}

fn stdin_data() {
    let (_, ev) = poll(&[fd(1, FD_READ, 0), clock(2, 1, 10_000 * MS, 0)]);
    check("stdin data: fd_read fires", ev.iter().map(|e| (e.userdata, e.kind, e.error)).collect::<Vec<_>>(), vec![(1, FD_READ, 0)]);
    check("stdin data: byte count", ev[0].nbytes, 5);
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("clocks") => clocks(),
        Some("stdin-idle") => stdin_idle(),
        Some("stdin-data") => stdin_data(),
        other => panic!("unknown mode {other:?}"),
    }
    println!("done");
}
