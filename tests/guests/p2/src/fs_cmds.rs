//! The programs that use the filesystem: `files`, `escape` and `write-ro`.
use crate::describe;
use std::fs;
use std::io::{self, Read, Write};

/// Prints `name: <what it gave>` or `name: <error>`.
fn step(name: &str, r: io::Result<String>) {
    match r {
        Ok(s) => println!("{name}: {s}"),
        Err(e) => println!("{name}: {}", describe(&e)),
    }
}

fn ok<T>(r: io::Result<T>) -> io::Result<String> {
    r.map(|_| "ok".to_string())
}

/// The entries of `dir`, sorted, each as `name` (a file), `name/` (a directory) or `name@`
/// (a symlink), separated by spaces; `(empty)` when there are none.
fn listing(dir: &str) -> io::Result<String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        let mut name = entry.file_name().to_string_lossy().into_owned();
        if ty.is_dir() {
            name.push('/');
        } else if ty.is_symlink() {
            name.push('@');
        }
        names.push(name);
    }
    names.sort();
    Ok(if names.is_empty() {
        "(empty)".into()
    } else {
        names.join(" ")
    })
}

/// File work inside the preopen `dir`, which should start empty and be writable.
pub fn files(dir: &str) {
    let p = |name: &str| format!("{dir}/{name}");
    step("list at start", listing(dir));
    step(
        "write notes.txt",
        ok(fs::write(p("notes.txt"), "hello from p2\n")),
    );
    step(
        "append notes.txt",
        ok(fs::OpenOptions::new()
            .append(true)
            .open(p("notes.txt"))
            .and_then(|mut f| f.write_all(b"second line\n"))),
    );
    step(
        "read notes.txt",
        fs::read_to_string(p("notes.txt")).map(|s| format!("{s:?}")),
    );
    step(
        "len notes.txt",
        fs::metadata(p("notes.txt")).map(|m| m.len().to_string()),
    );
    step(
        "rename notes.txt renamed.txt",
        ok(fs::rename(p("notes.txt"), p("renamed.txt"))),
    );
    step(
        "read notes.txt",
        fs::read_to_string(p("notes.txt")).map(|s| format!("{s:?}")),
    );
    step(
        "read renamed.txt",
        fs::read_to_string(p("renamed.txt")).map(|s| format!("{s:?}")),
    );
    step("create_dir sub", ok(fs::create_dir(p("sub"))));
    step("create_dir sub again", ok(fs::create_dir(p("sub"))));
    step(
        "write sub/inner.txt",
        ok(fs::write(p("sub/inner.txt"), [1u8, 2, 3])),
    );
    step("list", listing(dir));
    step("list sub", listing(&p("sub")));
    step(
        "read sub/inner.txt by File",
        fs::File::open(p("sub/inner.txt")).and_then(|mut f| {
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            Ok(format!("{buf:?}"))
        }),
    );
    step("remove_dir sub (not empty)", ok(fs::remove_dir(p("sub"))));
    step(
        "remove_file sub/inner.txt",
        ok(fs::remove_file(p("sub/inner.txt"))),
    );
    step("remove_dir sub", ok(fs::remove_dir(p("sub"))));
    step(
        "remove_file renamed.txt",
        ok(fs::remove_file(p("renamed.txt"))),
    );
    step(
        "remove_file renamed.txt again",
        ok(fs::remove_file(p("renamed.txt"))),
    );
    step("list at end", listing(dir));
    println!("files done");
}

/// `denied: <error>` if `r` failed, `ESCAPED: <what it gave>` if it did not.
fn attempt(name: &str, r: io::Result<String>) {
    match r {
        Ok(s) => println!("{name}: ESCAPED: {s}"),
        Err(e) => println!("{name}: denied: {}", describe(&e)),
    }
}

fn read_len(path: &str) -> io::Result<String> {
    fs::read(path).map(|b| format!("read {} bytes", b.len()))
}

#[allow(deprecated)]
fn symlink(target: &str, link: &str) -> io::Result<()> {
    fs::soft_link(target, link)
}

/// Tries to leave the preopen `dir`, which should be writable and hold nothing but, if the
/// host made it, a symlink `abs-link` to an absolute path outside. The host may put a file
/// `outside.txt` beside `dir`.
pub fn escape(dir: &str) {
    let p = |name: &str| format!("{dir}/{name}");
    step("create_dir sub", ok(fs::create_dir(p("sub"))));
    attempt("open DIR/../outside.txt", read_len(&p("../outside.txt")));
    attempt(
        "open DIR/sub/../../outside.txt",
        read_len(&p("sub/../../outside.txt")),
    );
    attempt("open /etc/passwd", read_len("/etc/passwd"));
    attempt(
        "read_dir DIR/..",
        fs::read_dir(p("..")).map(|d| format!("{} entries", d.count())),
    );
    attempt(
        "create DIR/../created.txt",
        ok(fs::write(p("../created.txt"), "x")),
    );
    // Symlinks the guest makes itself, pointing out of the preopen, then followed. (The
    // stable std::fs::soft_link is deprecated; std::os::wasi::fs::symlink_path is unstable.)
    step(
        "symlink abs-link -> /etc/passwd",
        ok(symlink("/etc/passwd", &p("abs-link"))),
    );
    step(
        "symlink rel-link -> ../outside.txt",
        ok(symlink("../outside.txt", &p("rel-link"))),
    );
    attempt("open DIR/abs-link", read_len(&p("abs-link")));
    attempt("open DIR/rel-link", read_len(&p("rel-link")));
    attempt("write DIR/rel-link", ok(fs::write(p("rel-link"), "x")));
    println!("escape done");
}

/// Tries to write in the preopen `dir`, which should be read-only.
pub fn write_ro(dir: &str) {
    let p = |name: &str| format!("{dir}/{name}");
    let wrote = |r: io::Result<()>, what: &str| match r {
        Ok(()) => println!("{what}: WROTE"),
        Err(e) => println!("{what}: denied: {}", describe(&e)),
    };
    wrote(fs::write(p("new.txt"), "x"), "create new.txt");
    wrote(fs::create_dir(p("newdir")), "create_dir newdir");
    println!("write-ro done");
}
