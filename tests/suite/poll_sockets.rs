//! poll_oneoff, blocking calls under a timeout, and sockets handed to the guest.

use crate::support::*;
use lucet_wasi::{Capture, Exit, Input, Output, WasiInstance};
use std::io::{Read, Write};
use std::process::Stdio;

fn no_failures(stdout: &str) {
    let failures: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with("ok "))
        .filter(|l| *l != "done")
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(stdout.ends_with("done\n"), "{stdout}");
}

#[test]
fn clock_subscriptions_on_every_clock() {
    let r = lucet([s(&rust_guest("poll")), "clocks".into()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    no_failures(&r.stdout);
}

#[test]
fn idle_stdin_is_not_reported_ready() {
    let mut child = cli()
        .arg(rust_guest("poll"))
        .arg("stdin-idle")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep stdin open (and empty) until the guest is done.
    let stdin = child.stdin.take().unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(0));
    no_failures(&String::from_utf8_lossy(&out.stdout));
}

#[test]
fn stdin_with_data_is_reported_ready() {
    let mut cmd = cli();
    cmd.arg(rust_guest("poll")).arg("stdin-data");
    let out = run_with_stdin(cmd, b"hello");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    no_failures(&String::from_utf8_lossy(&out.stdout));
}

#[test]
fn sleep_lasts_at_least_the_requested_time() {
    let r = lucet([s(&rust_guest("sleep")), "200".into()]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "slept at least 200 ms\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn timeout_ends_a_sleeping_guest() {
    let r = lucet(["--timeout", "1s", &s(&rust_guest("sleep")), "60000"]);
    assert_eq!(r.status, 124, "{}", r.stderr);
    assert_eq!(r.stderr, "error: guest timed out after 1s\n");
}

#[test]
fn guest_echoes_over_a_preopened_listener() {
    echo_through(rust_guest("echo_server"));
}

#[test]
fn c_guest_echoes_over_a_preopened_listener() {
    echo_through(c_guest("echo"));
}

#[test]
fn socket_calls_and_their_errors() {
    let (addr, out, server) = serve(rust_guest("sock_calls"));
    // Connect only once the guest has tried a non-blocking accept with nobody waiting.
    while !out.text().contains("listening") {
        assert!(!server.is_finished(), "guest ended early:\n{}", out.text());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"ping").unwrap();
    let mut pong = Vec::new();
    conn.read_to_end(&mut pong).unwrap();
    assert_eq!(pong, b"pong");
    drop(conn);
    assert_eq!(server.join().unwrap().unwrap(), Exit::Returned);
    no_failures(&out.text().replace("listening\n", ""));
}

/// Runs `guest` on a thread with a listener on a free loopback port preopened at fd 3;
/// returns the address, the guest's captured stdout, and the running guest.
fn serve(
    guest: std::path::PathBuf,
) -> (
    std::net::SocketAddr,
    Capture,
    std::thread::JoinHandle<Result<Exit, lucet_wasi::Error>>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let out = Capture::new();
    let stdout = Output::capture(&out);
    let server = std::thread::spawn(move || {
        WasiInstance::builder()
            .module_file(guest)
            .unwrap()
            .preopen_socket(listener)
            .stdin(Input::null())
            .stdout(stdout)
            .timeout(std::time::Duration::from_secs(60))
            .run("_start")
    });
    (addr, out, server)
}

fn echo_through(guest: std::path::PathBuf) {
    let (addr, out, server) = serve(guest);
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    let writer = {
        let mut conn = conn.try_clone().unwrap();
        let payload = payload.clone();
        std::thread::spawn(move || {
            conn.write_all(&payload).unwrap();
            conn.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut echoed = Vec::new();
    conn.read_to_end(&mut echoed).unwrap();
    writer.join().unwrap();
    assert!(
        echoed == payload,
        "echoed {} bytes, sent {}",
        echoed.len(),
        payload.len()
    );
    assert_eq!(server.join().unwrap().unwrap(), Exit::Returned);
    assert_eq!(out.text(), "echoed 100000 bytes\n");
}

#[test]
fn tcplisten_flag_binds_or_says_why_not() {
    let hello = s(&root().join("examples/hello.wat"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let r = lucet(["--tcplisten", &format!("127.0.0.1:{port}"), &hello]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{}",
        r.stderr
    );
    let r = lucet(["--tcplisten", "localhost-ish", &hello]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("--tcplisten"), "{}", r.stderr);
    let r = lucet(["--tcplisten", "127.0.0.1:0", &hello]);
    assert_eq!(r.status, 0, "{}", r.stderr);
}
