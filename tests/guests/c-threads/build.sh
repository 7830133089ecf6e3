#!/usr/bin/env bash
# Builds pthreads.c (or SRC) for wasm32-wasip1-threads (wasi-threads: shared imported memory,
# import wasi.thread-spawn, export wasi_thread_start).
#
# usage: build.sh OUT.wasm [SRC.c]
#
# Needs (install step, no network here):
#   apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32   # compiler, wasm-ld, builtins
#   rustup target add wasm32-wasip1-threads                        # libc.a + crt1-command.o
#   bash fetch-headers.sh                                          # wasi-libc headers (Debian trixie)
# Env: CLANG (default clang-19), WASI_THREADS_HEADERS (a wasi-libc include dir; default
# $HOME/.cache/lucet-wasi/wasi-libc-headers/usr/include/wasm32-wasi), MAX_MEMORY (bytes).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT.wasm [SRC.c]}"
src="${2:-$here/pthreads.c}"
clang="${CLANG:-clang-19}"
headers="${WASI_THREADS_HEADERS:-${HOME}/.cache/lucet-wasi/wasi-libc-headers/usr/include/wasm32-wasi}"
max_memory="${MAX_MEMORY:-67108864}"

libdir="$(rustc --print sysroot)/lib/rustlib/wasm32-wasip1-threads/lib/self-contained"
builtins="$("$clang" --print-resource-dir)/lib/wasi/libclang_rt.builtins-wasm32.a"
for f in "$libdir/libc.a" "$libdir/crt1-command.o" "$headers/pthread.h" "$builtins"; do
    [ -e "$f" ] || { echo "build.sh: missing $f (see the install step at the top of this script)" >&2; exit 1; }
done

# A throwaway sysroot in clang's layout for the wasm32-wasip1-threads triple.
sysroot=$(mktemp -d)
trap 'rm -rf "$sysroot"' EXIT
mkdir -p "$sysroot/include" "$sysroot/lib"
ln -s "$headers" "$sysroot/include/wasm32-wasip1-threads"
ln -s "$libdir" "$sysroot/lib/wasm32-wasip1-threads"

# -pthread: +atomics,+bulk-memory and _REENTRANT. -nodefaultlibs: no -lpthread (wasi-libc's
# libpthread.a is an empty archive that rustup does not ship) and no clang-19 builtins lookup
# under the wasip1-threads triple; libc and the builtins are named explicitly instead.
# clang-19 does not pass --shared-memory itself (clang-22 does); wasi-threads hosts need the
# memory imported and shared, and shared memory needs a maximum.
"$clang" --target=wasm32-wasip1-threads --sysroot="$sysroot" -pthread -O2 \
    "$src" -o "$out" \
    -nodefaultlibs -lc "$builtins" \
    -Wl,--shared-memory,--import-memory,--export-memory,--max-memory="$max_memory"
