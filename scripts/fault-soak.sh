#!/usr/bin/env bash
# Fault soak: cctr-sim streams to the built cctr-bridge; the broker (persistence on) is
# SIGKILLed and restarted, later the bridge is SIGKILLed and restarted on the same spool.
# A persistent-session mosquitto_sub records every position; the analysis compares it with
# cctr-sim's --send-log: sent vs delivered (unique by payload id) vs duplicated, order per
# device, and for each missing frame how long before the bridge kill it was sent.
# Usage: scripts/fault-soak.sh [always|interval|never] [seconds, >= 50] [devices] [frames/s]
# Needs: swift build --product cctr-bridge && swift build --product cctr-sim (BIN=.build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
sync="${1:-always}"
seconds="${2:-60}"
devices="${3:-20}"
rate="${4:-200}"
bin="${BIN:-.build/debug}"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
now_ns() { date +%s%N; }
mqtt_port=$(free_port)
tcp_port=$(free_port)
metrics_port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\npersistence true\npersistence_location %s/\nautosave_interval 1\n' \
    "$mqtt_port" "$work" > "$work/mosquitto.conf"
[ "$(id -u)" = 0 ] && echo "user root" >> "$work/mosquitto.conf"
start_broker() { mosquitto -c "$work/mosquitto.conf" >> "$work/mosquitto.log" 2>&1 & broker=$!; wait_port "$mqtt_port"; }
start_bridge() {
    "$bin/cctr-bridge" serve --listen "tcp://127.0.0.1:$tcp_port" --metrics-listen "127.0.0.1:$metrics_port" \
        --mqtt-url "mqtt://127.0.0.1:$mqtt_port" --spool-dir "$work/spool" --spool-sync "$sync" --log-level warning \
        >> "$work/bridge.log" 2>&1 &
    bridge=$!
    wait_port "$tcp_port"
}
start_broker
# The observer: a persistent session, restarted if mosquitto_sub exits while the broker is down.
(while true; do
    stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -V mqttv5 -c -i soak-observer -x 3600 -q 1 \
        -t 'cctr/+/position' -F '%p' >> "$work/delivered" 2>/dev/null || true
    sleep 0.2
done) &
sleep 1.5  # the broker saves the observer's session (autosave 1 s)
start_bridge
"$bin/cctr-sim" --port "$tcp_port" --tcp "$devices" --rate "$rate" --duration "$seconds" \
    --heartbeat-every 0 --alarm-probability 0 --history-probability 0 --nofix-probability 0 \
    --send-log "$work/sent" --report json > "$work/sim.json" 2> "$work/sim.log" &
sim=$!
sleep 15; kill -KILL "$broker"; wait "$broker" 2>/dev/null || true; echo "broker SIGKILL at $(now_ns)" | tee -a "$work/events"
sleep 5; start_broker; echo "broker restarted at $(now_ns)" | tee -a "$work/events"
sleep 15; bridge_kill=$(now_ns); kill -KILL "$bridge"; wait "$bridge" 2>/dev/null || true; echo "bridge SIGKILL at $bridge_kill" | tee -a "$work/events"
sleep 2; start_bridge; echo "bridge restarted at $(now_ns)" | tee -a "$work/events"
wait "$sim"
last=-1
while true; do
    current=$(wc -l < "$work/delivered")
    [ "$current" = "$last" ] && break
    last=$current
    sleep 3
done
python3 - "$work/sent" "$work/delivered" "$bridge_kill" "$work/sim.json" "$sync" <<'PY'
import json, sys
sent_path, delivered_path, kill_ns, report_path, sync = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
sent = {}
for line in open(sent_path):
    device, seq, at = line.split()
    sent[(device, int(seq))] = int(at)
ids, duplicates, order_errors, arrived = set(), 0, 0, {}
for line in open(delivered_path):
    try:
        payload = json.loads(line)
    except ValueError:
        continue
    if payload["id"] in ids:
        duplicates += 1
        continue
    ids.add(payload["id"])
    device, seq = payload["device_id"], payload.get("odometer_m")
    if not seq:
        continue
    previous = arrived.setdefault(device, [])
    if previous and seq <= previous[-1]:
        order_errors += 1
    previous.append(seq)
delivered = {(d, s) for d, seqs in arrived.items() for s in seqs}
missing = sorted(set(sent) - delivered, key=lambda key: sent[key])
print(f"spool-sync {sync}: sent {len(sent)}, delivered {len(delivered & set(sent))} unique, duplicates {duplicates}, "
      f"missing {len(missing)}, out of order {order_errors}")
for key in missing[:20]:
    print(f"  missing {key[0]} #{key[1]}: sent {(kill_ns - sent[key]) / 1e6:.1f} ms before the bridge SIGKILL")
PY
