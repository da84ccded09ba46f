#!/usr/bin/env bash
# Instructions per frame of the whole bridge process (event loops, decoding, hub, spool in
# `interval` mode, MQTT publishing and PUBACKs, timers), counted by valgrind's callgrind under
# a fixed workload: unlike CPU time, the count barely moves with the machine's load, so a
# regression of anything on the live path shows as a ratio to the baseline. Kernel work
# (the socket calls themselves) is not counted; `scripts/bench.sh` measures that as CPU time.
#
#   scripts/process-instructions.sh            # prints the table and the ratio to the baseline
#   scripts/process-instructions.sh --update   # also rewrites Benchmarks/process-instructions-baseline.txt
#   PROCESS_PROFILE=dir scripts/process-instructions.sh   # keeps callgrind.<protocol>.<seconds>
#                                              # in dir, for callgrind_annotate
#
# Workload, per protocol: a private mosquitto on a free loopback port, the release bridge
# under callgrind, and cctr-sim with 100 trackers (carscop over TCP, or H02 alternately over
# TCP and UDP) sending PROCESS_RATE frames/s in all (default 200) with a fixed seed. Each
# protocol runs twice, for SHORT and LONG seconds (default 10 and 30); the difference of
# the two counts over the difference of the frames sent cancels start-up and shutdown.
# Timers that tick with time (idle checks, the status board) are part of the figure, at
# this rate. About 3 minutes.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
rate=${PROCESS_RATE:-200}
short=${PROCESS_SHORT:-10}
long=${PROCESS_LONG:-30}
baseline=Benchmarks/process-instructions-baseline.txt
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    swift build -c release >&2
fi
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
broker=""
bridge=""
stop_processes() {
    [ -n "$bridge" ] && kill "$bridge" 2>/dev/null || true
    [ -n "$broker" ] && kill "$broker" 2>/dev/null || true
}
trap 'stop_processes; rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 that Swift emits; the count needs no symbols.
strip --strip-debug -o "$work/cctr-bridge" "$bin/cctr-bridge"
# valgrind 3.19 also writes to the mask passed to sigsuspend, and libdispatch's main thread
# (async main) passes one in read-only memory: valgrind dies with SIGSEGV. This preload
# hands the kernel a copy instead.
cat >"$work/sigsuspend.c" <<'SHIM'
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
SHIM
cc -shared -fPIC -O2 -o "$work/sigsuspend.so" "$work/sigsuspend.c"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {  # url seconds
    for _ in $(seq 1 $(($2 * 10))); do
        curl -sf "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "not ready: $1" >&2
    return 1
}

# One run: prints "<instructions> <frames sent> <frames decoded>". It runs in a command
# substitution's subshell, which does not inherit the EXIT trap: it stops its own processes.
run() {  # protocol seconds
    trap stop_processes EXIT
    local protocol=$1 seconds=$2 run_dir
    run_dir=$(mktemp -d "$work/run.XXXX")
    local broker_port tracker_port metrics_port
    broker_port=$(free_port)
    tracker_port=$(free_port)
    metrics_port=$(free_port)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nlog_dest none\n' \
        "$broker_port" >"$run_dir/mosquitto.conf"
    local out=/dev/null
    [ -n "${PROCESS_PROFILE:-}" ] && out="$PROCESS_PROFILE/callgrind.$protocol.$seconds"
    mosquitto -c "$run_dir/mosquitto.conf" &
    broker=$!
    LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$out" --log-file="$run_dir/valgrind.log" \
        "$work/cctr-bridge" serve --listen "127.0.0.1:$tracker_port" --mqtt-url "mqtt://127.0.0.1:$broker_port" \
        --metrics-listen "127.0.0.1:$metrics_port" \
        --spool-dir "$run_dir/spool" --spool-sync interval 2>"$run_dir/bridge.log" &
    bridge=$!
    wait_ready "http://127.0.0.1:$metrics_port/readyz" 120
    local devices=(--tcp 100)
    [ "$protocol" = h02 ] && devices=(--tcp 0 --h02 100)
    "$bin/cctr-sim" --port "$tracker_port" "${devices[@]}" --rate "$rate" --duration "$seconds" --seed 7 \
        --connect-rate 1000 --report json >"$run_dir/sim.json" 2>"$run_dir/sim.err"
    # Let the last frames reach the broker before stopping.
    local published=-1 sent
    sent=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["frames_total"])' "$run_dir/sim.json")
    for _ in $(seq 1 100); do
        published=$(curl -s "http://127.0.0.1:$metrics_port/metrics" \
            | awk '/^cctr_frames_total/ { sum += $2 } END { print sum + 0 }')
        [ "$published" -ge "$sent" ] && break
        sleep 0.2
    done
    kill -TERM "$bridge"
    wait "$bridge" || true
    bridge=""
    kill "$broker"
    wait "$broker" 2>/dev/null || true
    broker=""
    local collected
    collected=$(awk '/Collected/ { gsub(",", "", $4); print $4 }' "$run_dir/valgrind.log")
    [ -n "$collected" ] || { echo "no count from callgrind ($run_dir/valgrind.log)" >&2; cat "$run_dir/valgrind.log" >&2; exit 1; }
    echo "$collected $sent $published"
}

printf '%-8s %8s %18s %10s %10s\n' protocol frames "instructions/frame" baseline ratio
updated=""
for protocol in carscop h02; do
    # Assignments, not here-strings, so that a failed run stops the script (set -e).
    first=$(run "$protocol" "$short")
    second=$(run "$protocol" "$long")
    read -r i1 f1 p1 <<<"$first"
    read -r i2 f2 p2 <<<"$second"
    if [ "$p1" -lt "$f1" ] || [ "$p2" -lt "$f2" ]; then
        echo "the bridge fell behind under valgrind ($p1/$f1, $p2/$f2 frames decoded): lower PROCESS_RATE" >&2
        exit 1
    fi
    per_frame=$(( (i2 - i1) / (f2 - f1) ))
    base=$(awk -v p="$protocol" '$1 == p { print $2 }' "$baseline" 2>/dev/null || true)
    ratio="-"
    [ -n "$base" ] && ratio=$(python3 -c "print(f'{$per_frame / $base:.3f}')")
    printf '%-8s %8d %18d %10s %10s\n' "$protocol" "$((f2 - f1))" "$per_frame" "${base:--}" "$ratio"
    updated+="$protocol $per_frame"$'\n'
done
if [ "${1:-}" = "--update" ]; then
    {
        echo "# instructions/frame of the whole bridge process at $rate frames/s (scripts/process-instructions.sh --update)"
        printf '%s' "$updated"
    } >"$baseline"
    echo "baseline written to $baseline"
fi
