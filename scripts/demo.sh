#!/usr/bin/env bash
# Runs the bridge for real: installs what is missing, builds, starts a local mosquitto on a
# free loopback port unless CCTR_MQTT_URL names a broker, starts cctr-bridge and a few
# simulated trackers (cctr-sim), and shows the MQTT traffic until Ctrl-C (or for
# DEMO_SECONDS seconds), then stops everything it started.
#
#   scripts/demo.sh                      # local broker; carscop: 3 TCP + 1 UDP, H02: 2 text + 1 binary
#   CCTR_MQTT_URL=mqtt://broker:1883 scripts/demo.sh
#   DEMO_SECONDS=20 scripts/demo.sh      # stop by itself
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null

configuration=${DEMO_BUILD:-debug}
swift build -c "$configuration" --product cctr-bridge
swift build -c "$configuration" --product cctr-sim
bin=$(swift build -c "$configuration" --show-bin-path)

run=$(mktemp -d /tmp/cctr-demo.XXXXXX)
pids=()
# Stops what was started in reverse order, each before the next: the simulator and the
# bridge go before the broker, so the bridge publishes its offline state and exits cleanly
# instead of reconnecting to a broker that is already gone.
cleanup() {
    trap - EXIT INT TERM
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    rm -rf "$run"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ -z "${CCTR_MQTT_URL:-}" ]; then
    port=$(free_port)
    cat >"$run/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
max_queued_messages 0
set_tcp_nodelay true
CONF
    /usr/sbin/mosquitto -c "$run/mosquitto.conf" >"$run/mosquitto.log" 2>&1 &
    pids+=($!)
    export CCTR_MQTT_URL="mqtt://127.0.0.1:$port"
    for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    echo "local broker: $CCTR_MQTT_URL"
fi
broker=${CCTR_MQTT_URL#*://}
broker=${broker#*@}
device_port=${DEMO_DEVICE_PORT:-8888}

# The demo enables the TK103-style "position now" (AP00, answered by a UB04 position), which
# cctr-sim understands, to show the whole command loop: queued/sent, then acked.
python3 - "$run/commands.yaml" <<'PY'
import re, sys
text = open("deploy/commands.default.yaml").read()
text = re.sub(r"(  positionSingle:\n    - name: tk103\n      enabled: )false", r"\1true", text)
open(sys.argv[1], "w").write(text)
PY
"$bin/cctr-bridge" serve --listen "tcp://127.0.0.1:$device_port" --listen "udp://127.0.0.1:$device_port" \
    --spool-dir "$run/spool" --metrics-listen 127.0.0.1:0 --instance demo --commands "$run/commands.yaml" &
pids+=($!)
sleep 1
# Both protocols on the one port: 4 carscop trackers and 3 H02 ones (4000000005 over TCP,
# 4000000006 over UDP, 4000000007 sending binary frames over TCP).
"$bin/cctr-sim" --host 127.0.0.1 --port "$device_port" --tcp 3 --udp 1 --h02 3 --interval 2 \
    --alarm-probability 0.05 --history-probability 0.05 &
pids+=($!)

# A few seconds in, ask the first carscop tracker for its position and cut the engine of the
# first H02 one, as a controller would: both commands end acked by the trackers' replies.
(sleep 4 && mosquitto_pub -h "${broker%:*}" -p "${broker##*:}" -q 1 -t cctr/SIM000000000001/cmd \
    -m '{"id":"demo-1","type":"positionSingle"}' \
    && mosquitto_pub -h "${broker%:*}" -p "${broker##*:}" -q 1 -t cctr/4000000005/cmd \
    -m '{"id":"demo-2","type":"engineStop"}') &
pids+=($!)

echo "MQTT traffic on $broker (Ctrl-C to stop):"
if [ -n "${DEMO_SECONDS:-}" ]; then
    timeout "$DEMO_SECONDS" mosquitto_sub -h "${broker%:*}" -p "${broker##*:}" -v -t 'cctr/#' || true
else
    mosquitto_sub -h "${broker%:*}" -p "${broker##*:}" -v -t 'cctr/#'
fi
