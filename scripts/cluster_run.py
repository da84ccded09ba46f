#!/usr/bin/env python3
"""Scale-out test: two bridges, one fleet, on a real broker cluster (scripts/cluster-test.sh).

Usage: cluster_run.py BIN_DIR {mosquitto|rabbitmq|ejabberd}

Two bridge instances, A and B, each with its own tracker port and spool. On RabbitMQ, A is
connected to node 1 and B to node 2 (each given the other node as its failover URL), and
the controller and the observer sit on the node that does not hold the tracker, so every
command and result crosses the cluster. ejabberd is run the same way: MQTT 5 but no `$share`
(it closes the connection on a `$share` SUBSCRIBE) and node-local retained messages. On
Mosquitto, both share one broker and `$share`.

Scenarios, each checked from what a tracker received on its socket and what an observer
subscribed to `<base>/#` saw:
  online     a command for a tracker on A, published on the other node: the tracker gets
             its frame once, the controller one final result;
  offline    a command for a device never seen: one `queued`; the device then connects to
             B and gets the frame once, with one final result;
  moving     a UDP device on A outside its reply window: the command is queued on A; the
             device then logs in on B over TCP and the command follows it there, once;
  failover   (clusters) trackers on A send numbered positions while node 1 is killed: A
             fails over to node 2, and the observer on node 2 gets every accepted position.
Loopback only; every wait has a deadline. Exit 0 when every check passed, 1 otherwise.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_brokers import EjabberdCluster, Mosquitto, RabbitCluster, free_port, port_open, wait_until  # noqa: E402
from processes import stop  # noqa: E402

BASE = "cctr"
CHECKS = []


def log(text):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {text}", flush=True)


def check(name, ok, detail=""):
    CHECKS.append((name, ok))
    log(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")


PASSWORD = {}


def mqtt_args(url):
    """mosquitto_pub/sub arguments for `mqtt://[user@]host:port` (the password of a user
    is the broker's, in PASSWORD)."""
    address = url.removeprefix("mqtt://")
    user, _, address = address.rpartition("@")
    host, port = address.rsplit(":", 1)
    credentials = ["-u", user, "-P", PASSWORD[user]] if user else []
    return ["-h", host, "-p", port, "-V", "mqttv311", *credentials]


def carscop_login(device_id, odometer=0):
    """A UB05 login + position frame naming `device_id` (15 characters)."""
    return (f"*040331141830UB05{device_id}061825A2934.0133N10627.2544E000.0040331309.6200000000L{odometer:06d}^").encode()


def carscop_position(odometer):
    """A UD00 live position; the odometer numbers it, so each one is a distinct payload."""
    return f"*040331141830UD00061825A2934.0133N10627.2544E000.0040331309.6200000000L{odometer:06d}^".encode()


class Observer:
    """`mosquitto_sub` on `<base>/#` at QoS 1; keeps every (topic, payload) it prints."""

    def __init__(self, url):
        self.messages = []
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            ["mosquitto_sub", *mqtt_args(url), "-q", "1", "-t", f"{BASE}/#", "-F", "%t\t%p", "-i", f"observer{os.getpid()}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            topic, _, payload = line.rstrip("\n").partition("\t")
            with self.lock:
                self.messages.append((topic, payload))

    def matching(self, topic):
        with self.lock:
            return [payload for t, payload in self.messages if t == topic]

    def json_on(self, topic):
        out = []
        for payload in self.matching(topic):
            try:
                out.append(json.loads(payload))
            except ValueError:
                pass
        return out

    def results(self, device_id, command_id):
        return [r for r in self.json_on(f"{BASE}/{device_id}/cmd/result") if r.get("id") == command_id]

    def stop(self):
        stop(self.process)


class Bridge:
    def __init__(self, bin_dir, workdir, instance, urls, extra=()):
        self.instance = instance
        self.port = free_port()
        self.metrics_port = free_port()
        spool = os.path.join(workdir, f"spool-{instance}")
        self.log_path = os.path.join(workdir, f"bridge-{instance}.log")
        args = [os.path.join(bin_dir, "cctr-bridge"), "serve", "--instance", instance,
                "--listen", f"127.0.0.1:{self.port}", "--metrics-listen", f"127.0.0.1:{self.metrics_port}",
                "--spool-dir", spool, "--spool-sync", "interval", "--udp-reply-window", "1",
                "--log-format", "text", *extra]
        for url in urls:
            args += ["--mqtt-url", url]
        env = dict(os.environ)
        if PASSWORD:
            env["CCTR_MQTT_PASSWORD"] = next(iter(PASSWORD.values()))
        self.process = subprocess.Popen(args, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT, env=env)
        wait_until(f"bridge {instance} to listen", lambda: port_open(self.port), 30)
        wait_until(f"bridge {instance} to be ready", self.ready, 60)

    def ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=2) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def stop(self):
        stop(self.process)

    def connected_to(self, url):
        """True when the log says the bridge connected to `url`'s port (at some time)."""
        port = url.rsplit(":", 1)[1]
        with open(self.log_path, errors="replace") as f:
            return any("connected to MQTT broker" in line and f":{port}" in line for line in f)

    def tail(self, lines=15):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])


class TCPTracker:
    """One tracker connection: sends frames, keeps every byte the bridge writes back."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.received = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.received += data

    def send(self, frame):
        self.sock.sendall(frame)

    def count(self, needle):
        with self.lock:
            return self.received.count(needle)

    def close(self):
        self.sock.close()


def publish(url, topic, payload):
    subprocess.run(["mosquitto_pub", *mqtt_args(url), "-q", "1", "-t", topic, "-m", payload], check=True, timeout=30)


def command(command_id, data):
    return json.dumps({"id": command_id, "type": "custom", "params": {"data": data}})


def wait_for(what, condition, deadline_s=20):
    try:
        wait_until(what, condition, deadline_s)
        return True
    except TimeoutError as error:
        log(str(error))
        return False


def online_on(observer, device_id, instance):
    return any(s.get("state") == "online" and s.get("instance") == instance
               for s in observer.json_on(f"{BASE}/{device_id}/status"))


def settle():
    """Time for a duplicate to show up, if there were going to be one."""
    time.sleep(3)


def one_final(observer, device_id, command_id):
    finals = [r for r in observer.results(device_id, command_id) if r.get("final")]
    return len(finals) == 1, f"{len(finals)} final results: {[r.get('status') for r in finals]}"


def scenario_online(a, controllers, observer):
    device = "CLUSTERONLINE01"
    tracker = TCPTracker(a.port)
    tracker.send(carscop_login(device))
    check("online: tracker logged in on A", wait_for("status online on A", lambda: online_on(observer, device, a.instance)))
    for index, (where, url) in enumerate(controllers):
        command_id = f"online-{index}"
        data = f"PINGONLINE{index}"
        publish(url, f"{BASE}/{device}/cmd", command(command_id, data))
        got = wait_for(f"{data} at the tracker", lambda: tracker.count(data.encode()) >= 1)
        settle()
        check(f"online: command published {where} reached the tracker once",
              got and tracker.count(data.encode()) == 1, f"seen {tracker.count(data.encode())} times")
        ok, detail = one_final(observer, device, command_id)
        check(f"online: command published {where} has one final result", ok, detail)
    tracker.close()


def scenario_offline(b, controller_url, observer):
    device = "CLUSTEROFFLIN01"
    publish(controller_url, f"{BASE}/{device}/cmd", command("offline-1", "PINGOFFLINE"))
    wait_for("a queued result", lambda: observer.results(device, "offline-1"))
    settle()
    queued = [r for r in observer.results(device, "offline-1") if r.get("status") == "queued"]
    check("offline: one queued result", len(queued) == 1, f"{len(queued)} queued")
    tracker = TCPTracker(b.port)
    tracker.send(carscop_login(device))
    got = wait_for("the queued command at the tracker on B", lambda: tracker.count(b"PINGOFFLINE") >= 1)
    settle()
    check("offline: the device connecting to B gets the command once", got and tracker.count(b"PINGOFFLINE") == 1,
          f"seen {tracker.count(b'PINGOFFLINE')} times")
    ok, detail = one_final(observer, device, "offline-1")
    check("offline: one final result", ok, detail)
    tracker.close()


def scenario_moving(a, b, controller_url, observer):
    device = "CLUSTERMOVING01"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(carscop_login(device), ("127.0.0.1", a.port))
    check("moving: UDP device online on A", wait_for("status online on A", lambda: online_on(observer, device, a.instance)))
    time.sleep(1.5)  # the behaviour under test: the device is now outside A's 1 s UDP reply window
    publish(controller_url, f"{BASE}/{device}/cmd", command("moving-1", "PINGMOVING"))
    wait_for("a queued result", lambda: any(r.get("status") == "queued" for r in observer.results(device, "moving-1")))
    tracker = TCPTracker(b.port)
    tracker.send(carscop_login(device, odometer=1))
    got = wait_for("the command at the tracker on B", lambda: tracker.count(b"PINGMOVING") >= 1)
    settle()
    check("moving: the queued command followed the device from A to B, once",
          got and tracker.count(b"PINGMOVING") == 1, f"seen {tracker.count(b'PINGMOVING')} times")
    ok, detail = one_final(observer, device, "moving-1")
    check("moving: one final result", ok, detail)
    tracker.close()
    udp.close()


def scenario_failover(a, cluster, observer):
    node_1, node_2 = cluster.urls[0], cluster.urls[1]
    check("failover: bridge A starts on node 1", a.connected_to(node_1) and not a.connected_to(node_2))
    devices = [f"CLUSTERFAIL{index:04d}" for index in range(10)]
    trackers = []
    for device in devices:
        tracker = TCPTracker(a.port)
        tracker.send(carscop_login(device))
        trackers.append(tracker)
    wait_for("trackers online", lambda: all(online_on(observer, d, a.instance) for d in devices))
    sent = 0
    start = time.monotonic()
    killed = False
    odometer = 0
    while time.monotonic() - start < 12:
        odometer += 1
        for tracker in trackers:
            tracker.send(carscop_position(odometer))
            sent += 1
        if not killed and time.monotonic() - start > 4:
            log("killing node 1 while the trackers send")
            cluster.kill(0)
            killed = True
        time.sleep(0.1)
    log(f"sent {sent} positions ({odometer} per tracker)")
    check("failover: bridge A moved to node 2", wait_for("A on node 2", lambda: a.connected_to(node_2), 30))

    def delivered():
        seen = set()
        for device in devices:
            for position in observer.json_on(f"{BASE}/{device}/position"):
                seen.add((device, position.get("odometer_m")))
        # the login frames carry odometer 0 and are positions too
        return {key for key in seen if key[1]}

    got = wait_for("every accepted position on node 2", lambda: len(delivered()) >= sent, 90)
    check("failover: the observer on node 2 got every accepted position", got,
          f"{len(delivered())} of {sent} distinct positions")
    for tracker in trackers:
        tracker.close()


def main():
    bin_dir, kind = sys.argv[1], sys.argv[2]
    workdir = tempfile.mkdtemp(prefix=f"cctr-cluster-{kind}-")
    brokers = bridges = observer = None
    started = time.monotonic()
    try:
        if kind == "rabbitmq":
            log("starting a two-node RabbitMQ cluster (about 30 s to a few minutes)")
            brokers = RabbitCluster(workdir)
        elif kind == "ejabberd":
            log("starting a two-node ejabberd cluster")
            brokers = EjabberdCluster(workdir)
            PASSWORD[brokers.user] = brokers.password
        else:
            brokers = Mosquitto(workdir)
        urls = brokers.urls
        log(f"{kind} up after {time.monotonic() - started:.0f} s: {' '.join(urls)}")
        node_a, node_b = urls[0], urls[-1]
        # Subscribed before the bridges start: on RabbitMQ a wildcard subscription gets no
        # retained messages, so the observer must see every status live.
        observer = Observer(node_b)
        time.sleep(1)
        bridges = [Bridge(bin_dir, workdir, "A", [node_a, node_b]), Bridge(bin_dir, workdir, "B", [node_b, node_a])]
        a, b = bridges
        wait_for("the observer to see both bridges online",
                 lambda: observer.matching(f"{BASE}/bridge/A/state") and observer.matching(f"{BASE}/bridge/B/state"), 10)
        # Live ownership needs both bridges subscribed before the trackers arrive.
        if len(urls) > 1:
            controllers = [("on the node without the tracker", node_b), ("on the tracker's node", node_a)]
        else:
            controllers = [("on the broker", node_a)]
        scenario_online(a, controllers, observer)
        scenario_offline(b, node_a, observer)
        scenario_moving(a, b, node_a, observer)
        if len(urls) > 1:
            scenario_failover(a, brokers, observer)
    except Exception as error:  # a broken setup is a failed check, with the reason
        check(f"{kind}: setup and scenarios ran", False, f"{type(error).__name__}: {error}")
    finally:
        for bridge in bridges or []:
            if not all(ok for _, ok in CHECKS):
                log(f"last lines of bridge {bridge.instance}'s log:\n{bridge.tail()}")
            bridge.stop()
        if observer:
            observer.stop()
        if brokers:
            brokers.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    failed = [name for name, ok in CHECKS if not ok]
    log(f"{kind}: {len(CHECKS) - len(failed)} passed, {len(failed)} failed in {time.monotonic() - started:.0f} s")
    return 1 if failed or not CHECKS else 0


if __name__ == "__main__":
    sys.exit(main())
