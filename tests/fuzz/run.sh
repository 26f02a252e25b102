#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that takes outside bytes
# (cargo-fuzz, libFuzzer): builds the targets in tests/fuzz/fuzz_targets
# with nightly into target/fuzz, then runs each for SECONDS.
#
#   bash tests/fuzz/run.sh            # 300 s per target (the docs' figures)
#   bash tests/fuzz/run.sh 30         # 30 s per target
#   bash tests/fuzz/run.sh --smoke    # 10 s per target: the README test command
#
# The corpus grows in target/fuzz/corpus/TARGET, seeded from
# tests/fuzz/seeds/TARGET (and configs/ for config_file). A crash stops the
# run with its input in target/fuzz/artifacts/TARGET; reproduce it with
# `cargo +nightly fuzz run --fuzz-dir tests/fuzz TARGET FILE`, fix it, and
# add the input to tests/fuzz/seeds/TARGET so every later run replays it.
# Figures for each target (runs, coverage, corpus) go to
# target/fuzz/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=300
case "${1:-}" in
    --smoke) seconds=10 ;;
    "") ;;
    *) seconds=$1 ;;
esac

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

export CARGO_TARGET_DIR="$PWD/target/fuzz"
fuzz=(cargo +nightly fuzz)
"${fuzz[@]}" build --fuzz-dir tests/fuzz

summary="$CARGO_TARGET_DIR/summary.txt"
: >"$summary"
for target in $("${fuzz[@]}" list --fuzz-dir tests/fuzz); do
    corpus="$CARGO_TARGET_DIR/corpus/$target"
    artifacts="$CARGO_TARGET_DIR/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    seeds=()
    [ -d "tests/fuzz/seeds/$target" ] && seeds+=("tests/fuzz/seeds/$target")
    [ "$target" = config_file ] && seeds+=(configs)
    log="$CARGO_TARGET_DIR/$target.log"
    echo "fuzz: $target for ${seconds}s"
    if ! "${fuzz[@]}" run --fuzz-dir tests/fuzz "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: $target failed; the input is in $artifacts" >&2
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo '?')
    corp=$(echo "$last" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*' || echo '?')
    printf '%-16s %4ss  runs %10s  edges %6s  corpus %6s  crashes 0\n' \
        "$target" "$seconds" "$runs" "$cov" "$corp" | tee -a "$summary"
done
