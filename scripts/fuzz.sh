#!/usr/bin/env bash
# Runs lucet-wasi's coverage-guided fuzzers (libFuzzer; fuzz/): each target for SECONDS
# (default 60), one after the other, then prints each one's executions, coverage and guest
# calls. Stable Rust: lucet-wasi is instrumented through scripts/fuzz-rustc.sh, and the
# dependencies are those of the suite's debug build (same target directory), with debug
# assertions on.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets: preview1 hostcall trace parse
#
# Inputs that crash are written to fuzz/artifacts/TARGET/ and make the script fail;
# reproduce one with `target/debug/TARGET fuzz/artifacts/TARGET/crash-...`. The corpus
# grows in fuzz/corpus/TARGET/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(preview1 hostcall trace parse); fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
RUSTC="$PWD/scripts/fuzz-rustc.sh" cargo build --quiet \
    --manifest-path fuzz/Cargo.toml --bins
status=0
summary=""
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log="fuzz/artifacts/$t/last.log"
    echo "== $t: ${seconds}s"
    if ! "$CARGO_TARGET_DIR/debug/$t" "fuzz/corpus/$t" \
        -max_total_time="$seconds" -len_control=0 -timeout=10 -rss_limit_mb=4096 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1; then
        status=1
        tail -n 40 "$log"
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
    calls=$(grep -o '[0-9]* guest calls made' "$log" | grep -o '^[0-9]*' || echo "-")
    crashes=$(find "fuzz/artifacts/$t" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
    summary+=$(printf '%-9s %10s runs  %6s edges  %12s guest calls  %s findings' \
        "$t" "$runs" "$cov" "$calls" "$crashes")$'\n'
done
printf '%s' "$summary"
exit $status
