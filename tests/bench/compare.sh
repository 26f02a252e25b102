#!/usr/bin/env bash
# Regenerates docs/BENCHMARKS.md: rbmc beside OpenIPMI's ipmi_sim, in one
# run, on this machine (see tests/bench/compare.rs), and its latency plot
# (docs/benchmarks-latency.png). Installs what is missing (openipmi for the
# peer, dbus for the bus the suite runs on, gnuplot-nox for the plot),
# builds the workspace in release mode, and runs the comparison.
# Extra arguments go to `rbmc-bench compare` (--sessions, --seconds, --rounds,
# --idle-seconds).
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v ipmi_sim >/dev/null 2>&1 || missing+=(openipmi)
command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus)
command -v gnuplot >/dev/null 2>&1 || missing+=(gnuplot-nox)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cargo build --release --workspace --bins
target/release/rbmc-bench compare --write docs/BENCHMARKS.md "$@"
