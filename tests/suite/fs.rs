//! The filesystem layer, end to end: guest programs (Rust through the raw ABI, C through
//! wasi-libc) against real host directories, checking the host side afterwards.

use crate::support::*;
use lucet_wasi::{Capture, Exit, Input, Output, WasiInstance};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Checks a battery's output: every check passed, at least `min` ran, and it finished.
fn passed(r: &Ran, min: usize) {
    let fails: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        fails.is_empty(),
        "failed checks:\n{}\n{}",
        fails.join("\n"),
        r.stderr
    );
    let oks = r.stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(
        oks >= min,
        "only {oks} checks ran:\n{}\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.ends_with("done\n"), "{}\n{}", r.stdout, r.stderr);
}

/// Every file below `dir` (symlinks not followed): path → (kind, contents or target, mtime).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (String, Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = fs::symlink_metadata(&p).unwrap();
            let (kind, data) = if meta.is_symlink() {
                (
                    "link",
                    fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                )
            } else if meta.is_dir() {
                todo.push(p.clone());
                ("dir", Vec::new())
            } else {
                ("file", fs::read(&p).unwrap())
            };
            out.insert(p, (kind.to_string(), data, meta.modified().unwrap()));
        }
    }
    out
}

/// Sets a file's mtime (and atime) to a fixed moment in the past.
fn age(path: &Path) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
        .unwrap();
}

#[test]
fn every_fd_and_path_call_behaves() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    fs::create_dir(&a).unwrap();
    fs::create_dir(&b).unwrap();
    let r = lucet([
        s(&rust_guest("fs")),
        "--dir".into(),
        format!("/a:{}", a.display()),
        "--dir".into(),
        format!("/b:{}", b.display()),
        "--".into(),
        "calls".into(),
    ]);
    passed(&r, 180);
    // What the guest did is visible on the host.
    assert_eq!(fs::read(b.join("moved")).unwrap(), b"12");
    assert_eq!(fs::read_link(a.join("sym")).unwrap(), Path::new("f.txt"));
    assert!(a.join("d1").is_dir() && a.join("d2/x").is_dir());
    assert!(!a.join("d").exists());
}

#[test]
fn escape_battery_never_touches_the_host_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let (sandbox, outside) = (tmp.path().join("sandbox"), tmp.path().join("outside"));
    fs::create_dir_all(sandbox.join("sub")).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(sandbox.join("file.txt"), "inside").unwrap();
    let secret = outside.join("secret");
    fs::write(&secret, "secret").unwrap();
    age(&secret);
    symlink(&secret, sandbox.join("link_abs")).unwrap();
    symlink("../outside/secret", sandbox.join("link_up")).unwrap();
    symlink("../outside", sandbox.join("link_updir")).unwrap();
    symlink("../outside/new_via_link", sandbox.join("link_dangling_out")).unwrap();
    symlink("../../outside", sandbox.join("sub/deep_up")).unwrap();
    symlink("../file.txt", sandbox.join("sub/link_file")).unwrap();
    symlink("file.txt", sandbox.join("link_in")).unwrap();
    symlink("loop2", sandbox.join("loop1")).unwrap();
    symlink("loop1", sandbox.join("loop2")).unwrap();
    let before = snapshot(tmp.path());

    let r = lucet([
        s(&rust_guest("fs")),
        "--dir".into(),
        format!("/sandbox:{}", sandbox.display()),
        "--".into(),
        "escape".into(),
        s(&secret),
    ]);
    passed(&r, 60);

    // Nothing was created, truncated, renamed or retimed anywhere: outside or inside.
    assert_eq!(snapshot(tmp.path()), before);
    assert!(!Path::new("/tmp/lucet-escape-new").exists());
    assert!(!Path::new("/tmp/lucet-escape-dir").exists());
}

#[test]
fn read_only_preopen_refuses_every_change() {
    let tmp = tempfile::tempdir().unwrap();
    let (ro, rw) = (tmp.path().join("ro"), tmp.path().join("rw"));
    fs::create_dir_all(ro.join("sub")).unwrap();
    fs::create_dir(&rw).unwrap();
    fs::write(ro.join("file.txt"), "original").unwrap();
    fs::write(ro.join("sub/inner.txt"), "inner").unwrap();
    symlink("file.txt", ro.join("link")).unwrap();
    age(&ro.join("file.txt"));
    age(&ro.join("sub/inner.txt"));
    let before = snapshot(&ro);

    let r = lucet([
        s(&rust_guest("fs")),
        "--dir".into(),
        format!("/ro:{}:ro", ro.display()),
        "--dir".into(),
        format!("/rw:{}", rw.display()),
        "--".into(),
        "readonly".into(),
    ]);
    passed(&r, 40);
    assert_eq!(snapshot(&ro), before, "the read-only tree changed");
    assert!(rw.join("mine").exists() && !rw.join("stolen").exists());
}

#[test]
fn read_only_preopen_through_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let (ro, rw) = (tmp.path().join("ro"), tmp.path().join("rw"));
    fs::create_dir_all(ro.join("sub")).unwrap();
    fs::create_dir(&rw).unwrap();
    fs::write(ro.join("file.txt"), "original").unwrap();
    fs::write(ro.join("sub/inner.txt"), "inner").unwrap();
    symlink("file.txt", ro.join("link")).unwrap();
    let before = snapshot(&ro);
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module_file(rust_guest("fs"))
        .unwrap()
        .preopen_readonly("/ro", &ro)
        .preopen("/rw", &rw)
        .arg("readonly")
        .stdin(Input::null())
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!(exit, Exit::Returned);
    let text = out.text();
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.ends_with("done\n"), "{text}");
    assert_eq!(snapshot(&ro), before);
}

#[test]
fn readdir_of_10000_entries_with_every_buffer_size() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        fs::File::create(tmp.path().join(format!("f{i:05}"))).unwrap();
    }
    let r = lucet([
        s(&rust_guest("fs")),
        "--dir".into(),
        format!("/big:{}", tmp.path().display()),
        "--".into(),
        "readdir".into(),
    ]);
    passed(&r, 20);
}

#[test]
fn c_program_reads_writes_and_lists_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("file.txt"), "hello from the host\n").unwrap();
    fs::create_dir(tmp.path().join("subdir")).unwrap();
    let out = cli()
        .current_dir(tmp.path())
        .arg(c_guest("fs_example"))
        .args(["--dir", ".:.", "--", "file.txt"])
        .output()
        .unwrap();
    let r = ran(out);
    assert_eq!(r.status, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "read 20 bytes: hello from the host\n\
         wrote copy.txt\n\
         .\n..\ncopy.txt\nfile.txt\nsubdir\n"
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("copy.txt")).unwrap(),
        "HELLO FROM THE HOST\nappended\n"
    );
}

#[test]
fn c_program_exercises_the_calls_through_libc() {
    let tmp = tempfile::tempdir().unwrap();
    let (rw, ro) = (tmp.path().join("rw"), tmp.path().join("ro"));
    fs::create_dir(&rw).unwrap();
    fs::create_dir(&ro).unwrap();
    fs::write(ro.join("data.txt"), "data\n").unwrap();
    age(&ro.join("data.txt"));
    let before = snapshot(&ro);
    let r = lucet([
        s(&c_guest("fs_libc")),
        "--dir".into(),
        format!("/sandbox:{}", rw.display()),
        "--dir".into(),
        format!("/ro:{}:ro", ro.display()),
    ]);
    passed(&r, 60);
    assert_eq!(snapshot(&ro), before);
}

/// `--dir PATH:ro` is PATH, read-only (before: the guest path PATH mapped read-write to a
/// host directory named `ro`); `PATH:rw` is PATH, writable.
#[test]
fn a_bare_path_with_a_mode_is_that_path() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("file.txt"), "hello from the host\n").unwrap();
    let run = |spec: &str| {
        ran(cli()
            .current_dir(tmp.path())
            .arg(c_guest("fs_example"))
            .args(["--dir", spec, "--", "file.txt"])
            .output()
            .unwrap())
    };
    let r = run(".:ro");
    assert_eq!(r.status, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "read 20 bytes: hello from the host\n");
    assert!(r.stderr.starts_with("fopen: "), "{}", r.stderr);
    assert!(!tmp.path().join("copy.txt").exists());
    assert!(!tmp.path().join("ro").exists());
    let r = run(".:rw");
    assert_eq!(r.status, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(tmp.path().join("copy.txt").exists());
}

#[test]
fn dir_flag_takes_a_read_only_suffix() {
    let tmp = tempfile::tempdir().unwrap();
    let hello = s(&root().join("examples/hello.wat"));
    let ok = lucet(["--dir", &format!("/x:{}:ro", tmp.path().display()), &hello]);
    assert_eq!(ok.status, 0, "{}", ok.stderr);
    let bad = lucet(["--dir", "/x::ro", &hello]);
    assert_eq!(bad.status, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("GUEST:HOST:ro"), "{}", bad.stderr);
    // A host path may contain `:`.
    let colon = tmp.path().join("a:b");
    fs::create_dir(&colon).unwrap();
    for spec in [
        format!("/y:{}", colon.display()),
        format!("/y:{}:ro", colon.display()),
    ] {
        let ok = lucet(["--dir", &spec, &hello]);
        assert_eq!(ok.status, 0, "{spec}: {}", ok.stderr);
    }
}

#[test]
fn random_arguments_to_every_call_give_errnos_and_stay_inside() {
    let tmp = tempfile::tempdir().unwrap();
    let (sandbox, outside) = (tmp.path().join("sandbox"), tmp.path().join("outside"));
    fs::create_dir(&sandbox).unwrap();
    fs::create_dir(&outside).unwrap();
    let secret = outside.join("secret");
    fs::write(&secret, "secret").unwrap();
    age(&secret);
    symlink("../outside/secret", sandbox.join("link_up")).unwrap();
    symlink("../outside", sandbox.join("link_updir")).unwrap();
    let before = snapshot(&outside);
    let r = lucet([
        "--max-heap-size".to_string(),
        "64MiB".into(),
        s(&rust_guest("fs")),
        "--dir".into(),
        format!("/sandbox:{}", sandbox.display()),
        "--".into(),
        "fuzz".into(),
        "20000".into(),
    ]);
    passed(&r, 1);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(snapshot(&outside), before);
    let mut top: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    top.sort();
    assert_eq!(top, ["outside", "sandbox"]);
}

#[test]
fn rust_std_fs_works_on_writable_and_read_only_preopens() {
    let tmp = tempfile::tempdir().unwrap();
    let (rw, ro) = (tmp.path().join("rw"), tmp.path().join("ro"));
    fs::create_dir(&rw).unwrap();
    fs::create_dir(&ro).unwrap();
    fs::write(ro.join("data.txt"), "data\n").unwrap();
    let before = snapshot(&ro);
    let r = lucet([
        s(&rust_guest("fs_std")),
        "--dir".into(),
        format!("/rw:{}", rw.display()),
        "--dir".into(),
        format!("/ro:{}:ro", ro.display()),
    ]);
    passed(&r, 26);
    assert_eq!(snapshot(&ro), before);
    assert_eq!(fs::read(rw.join("b.txt")).unwrap(), b"one\ntwo\n");
    assert!(!rw.join("stolen").exists());
}

/// The tree `fs_dirs.c` lists: `a.txt`, `link -> a.txt`, `d1/b.txt`, `d1/d2/c.txt`,
/// `d1/d2/e/`.
fn listing_tree(root: &Path) {
    fs::create_dir_all(root.join("d1/d2/e")).unwrap();
    fs::write(root.join("a.txt"), "a").unwrap();
    fs::write(root.join("d1/b.txt"), "b").unwrap();
    fs::write(root.join("d1/d2/c.txt"), "c").unwrap();
    symlink("a.txt", root.join("link")).unwrap();
}

#[test]
fn c_listings_carry_real_inodes_at_the_root_and_below() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    listing_tree(&root);
    let r = lucet([
        s(&c_guest("fs_dirs")),
        "--dir".into(),
        format!("/sandbox:{}", root.display()),
    ]);
    // scandir: 3 + 13 entries; readdir: 3 x 2 + 3 checks per entry but `..` (2);
    // nftw: 1 + 8 entries; the temp tree: 3.
    passed(&r, 16 + 42 + 9 + 3);
    let listings: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| {
            ["scandir ", "readdir ", "nftw "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    assert_eq!(
        listings,
        [
            "scandir /sandbox: . .. a.txt d1 link",
            "readdir /sandbox: . .. a.txt d1 link",
            "scandir /sandbox/d1: . .. b.txt d2",
            "readdir /sandbox/d1: . .. b.txt d2",
            "scandir /sandbox/d1/d2: . .. c.txt e",
            "readdir /sandbox/d1/d2: . .. c.txt e",
            "nftw /sandbox D 0",
            "nftw /sandbox/a.txt F 1",
            "nftw /sandbox/d1 D 1",
            "nftw /sandbox/d1/b.txt F 2",
            "nftw /sandbox/d1/d2 D 2",
            "nftw /sandbox/d1/d2/c.txt F 3",
            "nftw /sandbox/d1/d2/e D 3",
            "nftw /sandbox/link SL 1",
        ],
        "{}",
        r.stdout
    );
    assert!(!root.join("tmp").exists(), "the guest's temp tree is left");
}

#[test]
fn raw_listings_never_show_inode_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    listing_tree(&root);
    let r = lucet([
        s(&rust_guest("fs")),
        "--dir".into(),
        format!("/sandbox:{}", root.display()),
        "--".into(),
        "inodes".into(),
    ]);
    passed(&r, 20);
    // The guest prints `ino DIR NAME N` for every entry it listed: `..` of the preopen
    // (however reached) is the preopen itself, below it the parent; every other name
    // its own inode.
    use std::os::unix::fs::MetadataExt;
    let ino = |p: &Path| fs::symlink_metadata(p).unwrap().ino();
    let root = root.canonicalize().unwrap();
    let mut seen = 0;
    for line in r.stdout.lines().filter_map(|l| l.strip_prefix("ino ")) {
        let parts: Vec<&str> = line.split(' ').collect();
        let (dir, name, got) = (parts[0], parts[1], parts[2].parse::<u64>().unwrap());
        let host_dir = root.join(dir).canonicalize().unwrap();
        let want = match name {
            "." => ino(&host_dir),
            ".." if host_dir == root => ino(&root),
            ".." => ino(host_dir.parent().unwrap()),
            _ => ino(&host_dir.join(name)),
        };
        assert_ne!(got, 0, "{dir} {name}");
        assert_eq!(got, want, "{dir} {name}");
        seen += 1;
    }
    assert_eq!(seen, 5 + 5 + 4 + 4 + 4 + 5, "{}", r.stdout);
}

#[test]
fn rust_remove_dir_all_of_a_deep_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let rw = tmp.path().join("rw");
    fs::create_dir_all(rw.join("keep")).unwrap();
    fs::write(rw.join("keep/target.txt"), "keep\n").unwrap();
    let depth = 40;
    let mut level = rw.join("deep");
    for i in 0..depth {
        level.push(format!("l{i}"));
        fs::create_dir_all(&level).unwrap();
        fs::write(level.join("file"), "x").unwrap();
        // Symlinks to a file outside the tree and to a directory: unlinked, not followed.
        symlink(
            format!("{}keep/target.txt", "../".repeat(i + 2)),
            level.join("link_out"),
        )
        .unwrap();
        symlink(rw.join("keep"), level.join("link_dir")).unwrap();
    }
    let r = lucet([
        s(&rust_guest("remove_tree")),
        "--dir".into(),
        format!("/rw:{}", rw.display()),
        "--".into(),
        depth.to_string(),
    ]);
    passed(&r, depth + 9);
    assert!(!rw.join("deep").exists() && !rw.join("own").exists());
    assert_eq!(
        fs::read_to_string(rw.join("keep/target.txt")).unwrap(),
        "keep\n"
    );
}

/// Runs the CLI, failing the test if it has not ended within `limit` (a guest blocked in
/// the host would otherwise hang the test run).
fn lucet_within(limit: Duration, args: &[String]) -> Ran {
    use std::process::Stdio;
    let mut child = cli()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ran(child.wait_with_output().unwrap())
}

#[test]
fn directories_are_never_opened_for_writing() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("dir")).unwrap();
    fs::write(tmp.path().join("file"), "data").unwrap();
    let r = lucet([
        s(&rust_guest("fs")),
        "--dir".into(),
        format!("/p:{}", tmp.path().display()),
        "--".into(),
        "isdir".into(),
    ]);
    passed(&r, 42);
}

/// Makes a FIFO at `path` (preview1 has no call that makes one).
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

#[test]
fn fifos_are_refused_at_once_with_or_without_a_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("file"), "data").unwrap();
    mkfifo(&tmp.path().join("fifo"));
    symlink("fifo", tmp.path().join("fifo_link")).unwrap();
    let dir = format!("/p:{}", tmp.path().display());
    for timeout in [&["--timeout", "30s"][..], &[]] {
        let mut args: Vec<String> = timeout.iter().map(|a| a.to_string()).collect();
        args.extend([s(&rust_guest("fs")), "--dir".into(), dir.clone()]);
        args.extend(["--".into(), "fifo".into()]);
        let r = lucet_within(Duration::from_secs(60), &args);
        passed(&r, 26);
    }
}

#[test]
fn c_program_open_edges() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("dir")).unwrap();
    fs::write(tmp.path().join("file"), "data").unwrap();
    mkfifo(&tmp.path().join("fifo"));
    let args = [
        "--timeout".to_string(),
        "30s".into(),
        s(&c_guest("fs_edges")),
        "--dir".into(),
        format!("/sandbox:{}", tmp.path().display()),
    ];
    let r = lucet_within(Duration::from_secs(60), &args);
    passed(&r, 21);
    assert_eq!(fs::read(tmp.path().join("file")).unwrap(), b"datax");
}
