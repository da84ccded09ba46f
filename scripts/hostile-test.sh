#!/usr/bin/env bash
# The hostile-load test of docs/threat-model.md: 100 good trackers beside five phases of
# attack (none; a UDP flood; 50 garbage floods; the whole TCP side: 200 slow loris, the
# garbage floods, 20 endless 50 MB frames, 500 connects/s churn; all of it), ~20 s each, on
# loopback against a private mosquitto and a bridge with a spool. Prints a table per phase
# (p50, p99, connected, lost) and exits 1 when a target is missed (see scripts/hostile_run.py).
#
# Usage: scripts/hostile-test.sh [BIN_DIR]   (a directory holding release builds of
# cctr-bridge, cctr-sim and cctr-bench; without it, builds release first). Environment:
#   HOSTILE_SCRATCH        SwiftPM scratch path of that build (default .build)
#   HOSTILE_PHASE_SECONDS  seconds of good traffic per phase (default 20)
# Bounded: about 2 minutes with the defaults, 5 at most.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [[ -z "$bin" ]]; then
    scratch=${HOSTILE_SCRATCH:-.build}
    for product in cctr-bridge cctr-sim cctr-bench; do
        swift build -c release --scratch-path "$scratch" --product "$product" >&2
    done
    bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
fi
command -v mosquitto >/dev/null || { echo "hostile-test: mosquitto is not installed (scripts/install-deps.sh)" >&2; exit 2; }
# 100 trackers, 200 slow loris and the floods' connections, on both sides of loopback.
ulimit -n "$(ulimit -Hn)"
exec timeout --signal=TERM 300 python3 scripts/hostile_run.py "$bin"
