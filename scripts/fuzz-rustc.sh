#!/bin/sh
# The RUSTC of scripts/fuzz.sh: instruments lucet-wasi and the fuzz crate for libFuzzer
# (coverage counters, comparison tracing) and nothing else, so that every dependency is
# the one the suite's `cargo test` built already. (RUSTC, not RUSTC_WRAPPER: build scripts
# that compile C, through the cc crate, rerun when RUSTC_WRAPPER changes.)
rustc="${FUZZ_REAL_RUSTC:-rustc}"
case " $* " in
*" --crate-name lucet_wasi "* | *" --crate-name lucet_wasi_fuzz "* | *" --crate-name preview1 "* | \
    *" --crate-name hostcall "* | *" --crate-name trace "* | *" --crate-name parse "*)
    exec "$rustc" "$@" --cfg fuzzing -Cpasses=sancov-module \
        -Cllvm-args=-sanitizer-coverage-level=4 \
        -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
        -Cllvm-args=-sanitizer-coverage-pc-table \
        -Cllvm-args=-sanitizer-coverage-trace-compares
    ;;
esac
exec "$rustc" "$@"
