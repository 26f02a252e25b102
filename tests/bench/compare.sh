#!/usr/bin/env bash
# Regenerates docs/BENCHMARKS.md: rbmc beside OpenIPMI's ipmi_sim, in one
# run, on this machine (see tests/bench/compare.rs). Installs openipmi when
# missing, builds the workspace in release mode, and runs the comparison.
# Extra arguments go to `rbmc-bench compare` (--sessions, --seconds, --rounds).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v ipmi_sim >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openipmi
fi
cargo build --release --workspace --bins
target/release/rbmc-bench compare --write docs/BENCHMARKS.md "$@"
