#!/usr/bin/env bash
# One command for the performance comparison of docs/performance.md: builds release, starts a
# private mosquitto on a free loopback port and runs, side by side, the broker's raw limit
# (cctr-bench publish, QoS 0 and 1), the bridge end to end at QoS 1 without and with a spool
# (cctr-sim at rising rates), per-stage timings (--trace-stages) at 50% and 100%, the
# fleet-size table (100 to 50,000 trackers at one total rate), a 50,000-connection idle run
# and start-up timing. Prints the table and the targets (met or missed) and writes them with
# the raw JSON to $BENCH_OUT (default bench-results/).
#
# Bounded: about 9 minutes with the defaults. Environment:
#   BENCH_DURATION   seconds per throughput run (default 10)
#   BENCH_CONNECTIONS  trackers of the idle connection-scale run (default 50000)
#   BENCH_FLEET_SIZES  fleets of the fleet-size table (default 100,1000,10000,50000)
#   BENCH_FLEET_RATE   their total frames per second (default 2000)
#   BENCH_SKIP_BUILD=1 use the existing release build
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    swift build -c release >&2
fi
bin=$(swift build -c release --show-bin-path)
out=${BENCH_OUT:-bench-results}
mkdir -p "$out"
# The connection-scale and fleet runs need a descriptor per tracker in the bridge and in the
# simulator (50,000 by default): raise the hard limit where allowed (root), then the soft one.
# Runs that need more than the limit are skipped and say so.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
exec timeout --signal=TERM 1200 python3 scripts/bench_run.py "$bin" "$out"
