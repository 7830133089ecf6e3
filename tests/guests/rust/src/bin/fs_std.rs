//! A Rust program using std::fs as programs do, with preopens /rw (empty, writable) and
//! /ro (read-only, holding `data.txt`). Prints `ok <name>` or `FAIL <name>: ...`, then `done`.
use std::fmt::Debug;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};

fn check<T: PartialEq + Debug>(name: &str, got: T, want: T) {
    if got == want {
        println!("ok {name}");
    } else {
        println!("FAIL {name}: got {got:?}, want {want:?}");
    }
}

/// The WASI errno of a failed call (wasi-libc's numbering: ENOTCAPABLE is 76).
fn errno<T>(r: std::io::Result<T>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

fn main() {
    check("write", fs::write("/rw/a.txt", "one\n").is_ok(), true);
    let mut f = fs::OpenOptions::new().append(true).open("/rw/a.txt").unwrap();
    check("append", f.write_all(b"two\n").is_ok(), true);
    drop(f);
    check("read_to_string", fs::read_to_string("/rw/a.txt").ok(), Some("one\ntwo\n".into()));
    let mut f = fs::File::open("/rw/a.txt").unwrap();
    f.seek(SeekFrom::Start(4)).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    check("seek and read", s, "two\n".to_string());
    check("metadata len", fs::metadata("/rw/a.txt").map(|m| m.len()).ok(), Some(8));
    check("create_dir_all", fs::create_dir_all("/rw/x/y/z").is_ok(), true);
    check("copy", fs::copy("/rw/a.txt", "/rw/x/y/z/b.txt").ok(), Some(8));
    check("rename", fs::rename("/rw/x/y/z/b.txt", "/rw/b.txt").is_ok(), true);
    check("hard_link", fs::hard_link("/rw/b.txt", "/rw/c.txt").is_ok(), true);
    check("symlink_metadata", fs::symlink_metadata("/rw/b.txt").map(|m| m.file_type().is_file()).ok(), Some(true));
    let mut names: Vec<String> = fs::read_dir("/rw")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    check("read_dir", names, vec!["a.txt".to_string(), "b.txt".into(), "c.txt".into(), "x".into()]);
    check("remove_dir_all", fs::remove_dir_all("/rw/x").is_ok(), true);
    check("remove_file", fs::remove_file("/rw/c.txt").is_ok(), true);
    check("not found", fs::read("/rw/c.txt").map_err(|e| e.kind()).err(), Some(std::io::ErrorKind::NotFound));
    check("set_len", fs::OpenOptions::new().write(true).open("/rw/a.txt").and_then(|f| f.set_len(2)).is_ok(), true);
    check("after set_len", fs::read("/rw/a.txt").ok(), Some(b"on".to_vec()));

    check("ro read", fs::read_to_string("/ro/data.txt").ok(), Some("data\n".into()));
    check("ro read_dir", fs::read_dir("/ro").map(|d| d.count()).ok(), Some(1));
    check("ro metadata", fs::metadata("/ro/data.txt").map(|m| m.len()).ok(), Some(5));
    check("ro write", errno(fs::write("/ro/data.txt", "x")), Some(76));
    check("ro create", errno(fs::File::create("/ro/new")), Some(76));
    check("ro append", errno(fs::OpenOptions::new().append(true).open("/ro/data.txt")), Some(76));
    check("ro create_dir", errno(fs::create_dir("/ro/d")), Some(76));
    check("ro remove", errno(fs::remove_file("/ro/data.txt")), Some(76));
    check("ro rename out", errno(fs::rename("/ro/data.txt", "/rw/stolen")), Some(76));
    check("ro copy in", errno(fs::copy("/rw/a.txt", "/ro/copied")), Some(76));
    println!("done");
}
