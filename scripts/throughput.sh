#!/usr/bin/env bash
# End-to-end throughput of the bridge per spool mode: cctr-sim -> cctr-bridge -> mosquitto ->
# a counting mosquitto_sub, same offered load for each of: no --spool-dir (memory),
# --spool-sync never, interval, always.
# Usage: scripts/throughput.sh [bin-dir] [frames/s offered] [seconds] [devices]
# Build first: swift build -c release --product cctr-bridge && swift build -c release --product cctr-sim
# Prints one line per mode: frames sent, messages delivered, delivered/s between the first
# and the last arrival, and the time the last message needed after the simulator stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/release}"
rate="${2:-5000}"
seconds="${3:-15}"
devices="${4:-100}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

for mode in memory never interval always; do
    work=$(mktemp -d)
    mqtt_port=$(free_port)
    tcp_port=$(free_port)
    metrics_port=$(free_port)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nset_tcp_nodelay true\n' "$mqtt_port" > "$work/mosquitto.conf"
    [ "$(id -u)" = 0 ] && echo "user root" >> "$work/mosquitto.conf"
    mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
    broker=$!
    wait_port "$mqtt_port"
    # %U: arrival time (Unix seconds with nanoseconds), one line per message.
    stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -q 1 -t 'cctr/+/position' -F '%U' > "$work/arrivals" &
    subscriber=$!
    spool=()
    [ "$mode" != memory ] && spool=(--spool-dir "$work/spool" --spool-sync "$mode")
    "$bin/cctr-bridge" serve --listen "tcp://127.0.0.1:$tcp_port" --mqtt-url "mqtt://127.0.0.1:$mqtt_port" \
        --metrics-listen "127.0.0.1:$metrics_port" --frame-rate-limit 0 --log-level warning "${spool[@]}" > "$work/bridge.log" 2>&1 &
    bridge=$!
    wait_port "$tcp_port"
    sleep 1
    "$bin/cctr-sim" --port "$tcp_port" --tcp "$devices" --rate "$rate" --duration "$seconds" \
        --heartbeat-every 0 --alarm-probability 0 --history-probability 0 --nofix-probability 0 \
        --report json > "$work/sim.json" 2> "$work/sim.log"
    stopped=$(date +%s.%N)
    # Wait until nothing new arrived for 2 s.
    last=-1
    while true; do
        now=$(wc -l < "$work/arrivals")
        [ "$now" = "$last" ] && break
        last=$now
        sleep 2
    done
    kill "$bridge" "$subscriber" 2>/dev/null || true
    wait "$bridge" 2>/dev/null || true
    kill "$broker" 2>/dev/null || true
    wait "$broker" "$subscriber" 2>/dev/null || true
    python3 - "$mode" "$work/sim.json" "$work/arrivals" "$stopped" <<'PY'
import json, sys
mode, report, arrivals, stopped = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], float(sys.argv[4])
times = sorted(float(line) for line in open(arrivals) if line.strip())
sent = report.get("framesTotal", report.get("frames_total"))
span = times[-1] - times[0] if len(times) > 1 else 0
print(f"{mode:9s} sent {sent} delivered {len(times)} rate {len(times) / span if span else 0:.0f} msg/s "
      f"over {span:.1f} s, last arrival {times[-1] - stopped if times else 0:+.2f} s after the simulator stopped")
PY
    rm -rf "$work"
done
