#!/usr/bin/env python3
"""The measurements behind scripts/hostile-test.sh (which builds and calls this).

Usage: hostile_run.py BIN_DIR. One private mosquitto and one bridge (spool on) on loopback;
per phase, 100 good TCP trackers (cctr-sim, one position a second each) beside an attack
(scripts/hostile_attackers.py at nice 19). Latency is what a tracker's user sees: from the
moment cctr-sim wrote a frame to the moment the subscriber (cctr-bench subscribe) got its
message from the broker, joined by device and sequence number. Every process started here
is stopped here.

Targets (exit 1 when one is missed):
- every phase: all 100 trackers connected and stayed connected, nothing lost;
- the whole TCP attack and everything at once: p99 <= 100 ms;
- the garbage floods alone: p99 <= 3 x the p99 without an attack.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from processes import stop

BIN = sys.argv[1]
SECONDS = float(os.environ.get("HOSTILE_PHASE_SECONDS", "20"))
TRACKERS = 100
HERE = os.path.dirname(os.path.abspath(__file__))
WORK = tempfile.mkdtemp(prefix="cctr-hostile-")
# Every process started here, so that an interrupted run (timeout's SIGTERM) stops them too.
CHILDREN = []
TCP_SIDE = ["loris", "garbage", "endless", "churn"]
PHASES = [
    ("none", []),
    ("UDP flood", ["udp"]),
    ("garbage floods", ["garbage"]),
    ("whole TCP side", TCP_SIDE),
    ("all of it", TCP_SIDE + ["udp"]),
]


def log(text):
    print(text, file=sys.stderr, flush=True)


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_tcp_and_udp_port():
    for _ in range(100):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free for both TCP and UDP")


def wait_until(what, condition, deadline_s=15.0):
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > deadline_s:
            raise RuntimeError(f"{what} not after {deadline_s} s")
        time.sleep(0.01)


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def spawn(args, **kwargs):
    process = subprocess.Popen(args, **kwargs)
    CHILDREN.append(process)
    return process


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def start_broker():
    port = free_port()
    conf = os.path.join(WORK, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nset_tcp_nodelay true\n"
                "persistence false\nlog_dest none\n")
    process = spawn(["mosquitto", "-c", conf])
    wait_until("mosquitto listening", lambda: port_open(port))
    return process, port


def start_bridge(broker_port):
    tracker_port, metrics_port = free_tcp_and_udp_port(), free_port()
    args = [f"{BIN}/cctr-bridge", "serve", "--listen", f"127.0.0.1:{tracker_port}",
            "--mqtt-url", f"mqtt://127.0.0.1:{broker_port}", "--metrics-listen", f"127.0.0.1:{metrics_port}",
            "--instance", "hostile", "--spool-dir", os.path.join(WORK, "spool")]
    stderr = open(os.path.join(WORK, "bridge.log"), "ab")
    process = spawn(args, stdout=subprocess.DEVNULL, stderr=stderr)

    def ready():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/readyz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until("bridge ready", ready)
    return process, tracker_port, metrics_port


def run_phase(index, name, kinds, broker_port, bridge, tracker_port, metrics_port):
    prefix = f"H{index}"
    send_log = os.path.join(WORK, f"{prefix}.sendlog")
    ready = os.path.join(WORK, f"{prefix}.ready")
    output = os.path.join(WORK, f"{prefix}.subscriber.json")
    attackers = None
    if kinds:
        # Attackers start first and outlive the trackers by a second: every good frame is
        # sent under attack, and the trackers connect while it is on.
        attackers = spawn(
            ["nice", "-n", "19", sys.executable, os.path.join(HERE, "hostile_attackers.py"),
             str(tracker_port), str(SECONDS + 3)] + kinds,
            stdout=subprocess.PIPE, text=True)
        time.sleep(2)
    before = metrics(metrics_port)
    cpu0, t0 = cpu_seconds(bridge.pid), time.monotonic()
    subscriber = spawn(
        [f"{BIN}/cctr-bench", "subscribe", "--port", str(broker_port), "--idle", "2", "--max-duration", str(SECONDS + 30),
         "--ready-file", ready, "--output", output, "--send-log", send_log],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until("subscriber ready", lambda: os.path.exists(ready))
    sim = spawn(
        [f"{BIN}/cctr-sim", "--port", str(tracker_port), "--tcp", str(TRACKERS), "--interval", "1",
         "--duration", str(SECONDS), "--id-prefix", prefix, "--heartbeat-every", "0", "--nofix-probability", "0",
         "--send-log", send_log, "--report", "json"],
        stdout=subprocess.PIPE, text=True)
    sim_out, _ = sim.communicate(timeout=SECONDS + 60)
    if sim.returncode != 0:
        raise RuntimeError(f"cctr-sim exited {sim.returncode}")
    cpu = 100 * (cpu_seconds(bridge.pid) - cpu0) / (time.monotonic() - t0)
    attack = {}
    if attackers:
        out, _ = attackers.communicate(timeout=30)
        attack = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    subscriber.wait(SECONDS + 60)
    after = metrics(metrics_port)
    elapsed = time.monotonic() - t0
    with open(output) as f:
        delivered = json.load(f)
    report = json.loads(sim_out)
    latency = delivered.get("latency_milliseconds") or {}
    # The same without the first 2 s of sends, when the trackers connect: tells a slow
    # accept path (late first frames) from slow frames.
    steady = delivered.get("steady_latency_milliseconds") or {}

    def delta(series):
        return int(after.get(series, 0) - before.get(series, 0))

    # Every dead letter is counted under its reason; those the limits cut are also counted
    # under "rate limited".
    limited_series = 'cctr_deadletters_total{reason="rate limited"}'
    rate_limited = delta(limited_series)
    published = sum(delta(k) for k in after if k.startswith("cctr_deadletters_total{") and k != limited_series) - rate_limited

    return {
        "phase": name, "kinds": kinds,
        "bridge_p99": bridge_p99(before, after),
        "p50": latency.get("p50"), "p99": latency.get("p99"), "max": latency.get("max"),
        "steady_p99": steady.get("p99"),
        "connected": report["connections_opened"] - report["connections_failed"] - report["connections_closed_by_peer"],
        "devices_seen": delivered["devices"], "sent": delivered.get("sent"), "lost": delivered.get("lost"),
        "bridge_cpu_percent": round(cpu),
        "deadletters_per_second": round(published / elapsed, 1),
        "deadletters_rate_limited": rate_limited,
        "closed_no_valid_frame": delta('cctr_connections_closed_total{reason="no valid frame"}'),
        "attack": attack,
    }


def bridge_p99(before, after):
    """The bridge's own share, from `cctr_publish_seconds`: the upper bound (ms) of the
    histogram bucket holding the 99th percentile of the phase's publishes, from the frame's
    acceptance to the broker's acknowledgement. Beside the end-to-end p99 it tells a slow
    bridge from a slow broker or subscriber."""
    buckets = []
    for series, value in after.items():
        if series.startswith("cctr_publish_seconds_bucket{") and 'le="' in series:
            bound = series.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), value - before.get(series, 0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    for bound, count in buckets:
        if count >= 0.99 * buckets[-1][1]:
            return bound * 1000


def table(results, baseline_p99):
    rows = ["| attack running beside 100 good trackers | p50 ms | p99 ms | max ms | p99 / none | p99 after 2 s | bridge's p99 ≤ | connected "
            "| lost | dead letters out/s (rate limited) | closed: no valid frame | bridge CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ratio = f"{r['p99'] / baseline_p99:.1f}×" if r["p99"] is not None and baseline_p99 else "-"
        rows.append(f"| {r['phase']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.0f} | {ratio} | {r['steady_p99']:.1f} | {r['bridge_p99']} | "
                    f"{r['connected']}/{TRACKERS} | {r['lost']} of {r['sent']} | "
                    f"{r['deadletters_per_second']} ({r['deadletters_rate_limited']}) | {r['closed_no_valid_frame']} | {r['bridge_cpu_percent']}% |")
    return "\n".join(rows)


def check(results):
    by_phase = {r["phase"]: r for r in results}
    baseline = by_phase["none"]["p99"]
    failures = []
    for r in results:
        if r["connected"] != TRACKERS or r["devices_seen"] != TRACKERS:
            failures.append(f"{r['phase']}: {r['connected']} trackers connected, {r['devices_seen']} seen")
        if r["lost"] != 0:
            failures.append(f"{r['phase']}: {r['lost']} of {r['sent']} positions lost")
    for phase in ("whole TCP side", "all of it"):
        if by_phase[phase]["p99"] > 100:
            failures.append(f"{phase}: p99 {by_phase[phase]['p99']:.1f} ms > 100 ms")
    garbage = by_phase["garbage floods"]["p99"]
    if garbage > 3 * baseline:
        failures.append(f"garbage floods: p99 {garbage:.1f} ms > 3 × {baseline:.1f} ms")
    return failures


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    try:
        _, broker_port = start_broker()
        bridge, tracker_port, metrics_port = start_bridge(broker_port)
        results = []
        for index, (name, kinds) in enumerate(PHASES):
            log(f"== {name} ({SECONDS:.0f} s, load {' '.join(open('/proc/loadavg').read().split()[:3])})")
            result = run_phase(index, name, kinds, broker_port, bridge, tracker_port, metrics_port)
            log(f"   {json.dumps(result, sort_keys=True)}")
            results.append(result)
        print(table(results, results[0]["p99"]))
        failures = check(results)
        for failure in failures:
            print(f"MISSED: {failure}")
        if not failures:
            print("all targets met")
        return 1 if failures else 0
    finally:
        # The bridge before the broker, so it disconnects cleanly; the rest first.
        for process in reversed(CHILDREN):
            stop(process)
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
