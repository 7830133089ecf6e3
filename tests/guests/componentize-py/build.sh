#!/usr/bin/env bash
# Builds app.py (beside this script) into a WASI 0.2 `wasi:cli/command` component, app.wasm,
# with componentize-py from PyPI: a pinned wheel whose sha256 is checked before it is installed.
# The WIT is world.wit (beside this script) plus the wasi:* packages copied from the
# workspace's own wasmtime-wasi crate (found with `cargo metadata`, offline), so the component
# imports exactly the WASI 0.2 version that crate provides.
#
# usage: tests/guests/componentize-py/build.sh [OUT_DIR [TOOL_DIR]]
#   OUT_DIR   gets app.wasm and the assembled wit/     (default: target/tmp/componentize-py/out)
#   TOOL_DIR  gets the wheel and its installed files    (default: target/tmp/componentize-py/tool)
# Needs: python3 (3.9+) with pip, cargo, x86_64 Linux; the network (PyPI) only on the first run.
# Takes about 5 s (2 cores); app.wasm is about 18.6 MB and differs a little from build to
# build (the snapshot of the initialised interpreter is not reproducible).
set -euo pipefail
export PIP_ROOT_USER_ACTION=ignore

VERSION=0.25.1
WHEEL=componentize_py-$VERSION-cp39-abi3-manylinux_2_28_x86_64.whl
SHA256=8623cd8cab8453cb0cd8bf03f3c7103420d06f2f3d360186a280a70a1ca5e89f

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$(mkdir -p "${1:-$root/target/tmp/componentize-py/out}" && cd "${1:-$root/target/tmp/componentize-py/out}" && pwd)
tool=$(mkdir -p "${2:-$root/target/tmp/componentize-py/tool}" && cd "${2:-$root/target/tmp/componentize-py/tool}" && pwd)

if [ "$(uname -sm)" != "Linux x86_64" ]; then
    echo "build.sh: the pinned wheel is for x86_64 Linux, not $(uname -sm)" >&2
    exit 1
fi

# (a) The pinned wheel, checked, installed into $tool/site.
sha_ok() { [ -f "$tool/$WHEEL" ] && echo "$SHA256  $tool/$WHEEL" | sha256sum --check --status; }
if ! sha_ok; then
    rm -f "$tool/$WHEEL"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        "componentize-py==$VERSION" --dest "$tool"
    if ! sha_ok; then
        echo "build.sh: $tool/$WHEEL is missing or its sha256 is not $SHA256" >&2
        exit 1
    fi
fi
if [ "$(cat "$tool/site/.installed" 2>/dev/null)" != "$SHA256" ]; then
    rm -rf "$tool/site"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-index \
        --target "$tool/site" "$tool/$WHEEL"
    echo "$SHA256" > "$tool/site/.installed"
fi

# (b) The WIT: world.wit, and wasmtime-wasi's wasi:* packages as deps/.
manifest=$(cargo metadata --format-version 1 --locked --offline --manifest-path "$root/Cargo.toml" |
    python3 -c 'import json, sys
print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "wasmtime-wasi"))')
rm -rf "$out/wit"
mkdir -p "$out/wit/deps"
cp "$(dirname "$manifest")"/src/p2/wit/deps/*.wit "$out/wit/deps/"
cp "$here/world.wit" "$out/wit/"

# (c) The component. The app is copied out first: the build runs it, and Python would leave
# __pycache__ beside it.
rm -rf "$out/src"
mkdir -p "$out/src"
cp "$here/app.py" "$out/src/"
cd "$out/src"
RUST_BACKTRACE=0 PYTHONPATH="$tool/site" python3 -c '
import sys
from componentize_py import script
sys.argv[0] = "componentize-py"
sys.exit(script())
' --quiet -d "$out/wit" -w py-command componentize --python-path "$out/src" app -o "$out/app.wasm"
echo "built $out/app.wasm ($(stat -c %s "$out/app.wasm") bytes) with componentize-py $VERSION"
