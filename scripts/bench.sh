#!/usr/bin/env bash
# One command for the performance comparison of docs/performance.md: builds release, starts a
# private mosquitto on a free loopback port and runs, side by side, the broker's raw limit
# (cctr-bench publish, QoS 0 and 1), the bridge end to end at QoS 1 without and with a spool
# (cctr-sim at rising rates), a 10,000-connection run and start-up timing. Prints the table
# and writes it with the raw JSON to $BENCH_OUT (default bench-results/).
#
# Bounded: about 6 minutes with the defaults. Environment:
#   BENCH_DURATION   seconds per throughput run (default 10)
#   BENCH_CONNECTIONS  trackers of the connection-scale run (default 10000)
#   BENCH_SKIP_BUILD=1 use the existing release build
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    swift build -c release >&2
fi
bin=$(swift build -c release --show-bin-path)
out=${BENCH_OUT:-bench-results}
mkdir -p "$out"
# The connection-scale run needs a descriptor per tracker (bridge and simulator).
ulimit -n "$(ulimit -Hn)"
exec timeout --signal=TERM 1200 python3 scripts/bench_run.py "$bin" "$out"
