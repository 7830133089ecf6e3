#!/usr/bin/env bash
# Runs the whole test suite of lucet-wasi, first installing what it needs if missing:
# the wasm32-wasip1, wasm32-wasip1-threads and wasm32-wasip2 Rust targets (Rust guests), Debian's clang-19 + wasi-libc (C guests),
# clang-22 and pip (the real-program corpus, tests/corpus.rs), Debian trixie's wasi-libc headers
# (C pthreads guests, tests/guests/c-threads/fetch-headers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

for target in wasm32-wasip1 wasm32-wasip1-threads wasm32-wasip2; do
    if ! rustup target list --installed | grep -qx "$target"; then
        rustup target add "$target"
    fi
done
for component in clippy rustfmt; do
    if ! rustup component list --installed | grep -q "^$component"; then
        rustup component add "$component"
    fi
done
# clang-22 builds the corpus's Lua with wasm exceptions; pip fetches pinned PyPI wheels.
c_packages="clang-19 lld-19 llvm-19 wasi-libc libclang-rt-19-dev-wasm32 clang-22 lld-22 libclang-rt-22-dev-wasm32"
if ! python3 -m pip --version >/dev/null 2>&1; then
    c_packages="$c_packages python3-pip"
fi
if ! dpkg -s $c_packages >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y $c_packages
fi

# The wasi-libc headers the C pthreads guest builds with (tests/guests/c-threads).
bash tests/guests/c-threads/fetch-headers.sh

cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
# The crate's docs are its README: the copy inside the package must be the same.
cmp README.md lucet-wasi/README.md || { echo "lucet-wasi/README.md differs from README.md: cp README.md lucet-wasi/README.md"; exit 1; }
# The library without the CLI's dependencies.
if cargo tree -p lucet-wasi --no-default-features -e normal | grep -q "^.* clap v"; then
    echo "clap is a dependency of the library without the cli feature"; exit 1
fi
# Everything, the `async` feature included; then the library without it.
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy -p lucet-wasi --all-targets -- -D warnings
cargo clippy -p lucet-wasi --lib --no-default-features -- -D warnings
cargo clippy --manifest-path fuzz/Cargo.toml --target-dir target --lib --bins -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --quiet
RUSTDOCFLAGS="-D warnings" cargo doc -p lucet-wasi --no-deps --quiet
# Both crates package and build from their packages alone (README copy, no paths outside).
cargo package --workspace --allow-dirty --quiet
# No import cycle among files or top-level modules, and each module imports only the
# layers below it (README, "Layout").
python3 scripts/import_cycles.py --self-test
python3 scripts/import_cycles.py
log=$(mktemp)
trap 'rm -f "$log" "$log.fuzz"' EXIT
cargo test --workspace --all-features 2>&1 | tee "$log"
# A smoke run of the fuzzers (fuzz/, scripts/fuzz.sh): 10 s each, from an empty corpus;
# any crash, hang or sandbox change fails the run.
if ! bash scripts/fuzz.sh 10 >"$log.fuzz" 2>&1; then
    cat "$log.fuzz"
    echo "tests: fuzz smoke run failed"
    exit 1
fi
tail -n 4 "$log.fuzz"
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
