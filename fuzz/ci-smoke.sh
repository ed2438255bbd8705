#!/usr/bin/env bash
# A short run of every fuzz target, for CI: each target runs until RUNS executions or SECONDS
# seconds, whichever comes first, from the committed seeds (and the local corpus, when there is
# one). Any crash fails the script (the input is left in fuzz/artifacts/<target>/).
#
#   fuzz/ci-smoke.sh                  # all targets, 200k runs / 20 s each
#   RUNS=50000 SECONDS_PER_TARGET=10 fuzz/ci-smoke.sh error_body options
#
# Needs the nightly toolchain (libFuzzer's instrumentation) and cargo-fuzz. cargo-fuzz is installed
# when missing. A missing nightly is installed under CI=true (through rustup; without rustup that
# is a failure): CI never skips the smoke test. Elsewhere the script says so and exits 0.
set -euo pipefail

cd "$(dirname "$0")/.."

RUNS="${RUNS:-200000}"
SECONDS_PER_TARGET="${SECONDS_PER_TARGET:-20}"
# The same build flags as the long runs in fuzz/README.md (no sanitizer, debug assertions on).
BUILD_FLAGS=(--sanitizer none --debug-assertions)

in_ci=false
if [ "${CI:-}" = "true" ]; then
    in_ci=true
fi

# `cargo +nightly` through rustup; without rustup, a cargo that is itself nightly.
if command -v rustup >/dev/null 2>&1; then
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        if ! $in_ci; then
            echo "fuzz smoke test skipped: the nightly toolchain is not installed (rustup toolchain install nightly)"
            exit 0
        fi
        echo "installing the nightly toolchain"
        rustup toolchain install nightly --profile minimal
    fi
    CARGO=(cargo +nightly)
elif rustc --version 2>/dev/null | grep -q nightly; then
    CARGO=(cargo)
elif $in_ci; then
    echo "fuzz smoke test FAILED: CI needs a nightly toolchain, and there is neither rustup nor a nightly rustc" >&2
    exit 1
else
    echo "fuzz smoke test skipped: no nightly toolchain (neither rustup nor a nightly rustc)"
    exit 0
fi

if ! "${CARGO[@]}" fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <("${CARGO[@]}" fuzz list)
fi

"${CARGO[@]}" fuzz build "${BUILD_FLAGS[@]}"

status=0
for target in "${targets[@]}"; do
    echo "=== $target: up to $RUNS runs or $SECONDS_PER_TARGET s"
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus"
    args=("$corpus" "fuzz/seeds/$target")
    # The minimized inputs of bugs found so far: each run replays them first.
    if [ -d "fuzz/regressions/$target" ]; then
        args+=("fuzz/regressions/$target")
    fi
    dict="fuzz/dicts/$target.dict"
    flags=(-runs="$RUNS" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1)
    if [ -f "$dict" ]; then
        flags+=(-dict="$dict")
    fi
    # libFuzzer reports every new input: keep that in a log, show the summary (or the end on failure).
    log="fuzz/artifacts/$target.smoke.log"
    mkdir -p fuzz/artifacts
    if "${CARGO[@]}" fuzz run "${BUILD_FLAGS[@]}" "$target" "${args[@]}" -- "${flags[@]}" >"$log" 2>&1; then
        grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    else
        tail -n 60 "$log"
        echo "=== $target: FAILED (see fuzz/artifacts/$target/ and $log)"
        status=1
    fi
done
exit "$status"
