"""Brokers for scripts/cluster_run.py, started on loopback from a temp dir and stopped by pid.

- `Mosquitto`: one node, `$share` available.
- `RabbitCluster`: Debian's rabbitmq-server with its MQTT plugin, N nodes joined into one
  cluster (MQTT 3.1.1 only, no `$share`, retained messages per node).
Each exposes `urls` (one `mqtt://127.0.0.1:PORT` per node), `kill(node)` and `stop()`.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

RABBIT_BIN = "/usr/lib/rabbitmq/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(what, condition, deadline_s):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {deadline_s:.0f} s waiting for {what}")


class Mosquitto:
    kind = "mosquitto"

    def __init__(self, workdir):
        self.port = free_port()
        conf = os.path.join(workdir, "mosquitto.conf")
        with open(conf, "w") as f:
            # Unlimited queues: the defaults (1000 messages, 100 in flight) drop QoS 1
            # messages to a slow subscriber without a word, which a loss check would blame
            # on the bridge.
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                    "max_queued_messages 0\nmax_inflight_messages 0\npersistence false\n")
        self.process = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until("mosquitto", lambda: port_open(self.port), 10)
        self.urls = [f"mqtt://127.0.0.1:{self.port}"]

    def kill(self, node):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class RabbitCluster:
    """N RabbitMQ nodes `cctrN@localhost`, each with its own ports, config, data and logs
    under `workdir`, sharing one Erlang cookie through a private HOME; node 2.. join node 1.
    Erlang's port mapper (epmd) is started on a private port so that nothing outside the
    test is touched, and stopped with the nodes."""

    kind = "rabbitmq"

    def __init__(self, workdir, nodes=2, log=print):
        self.workdir = workdir
        self.log = log
        self.home = os.path.join(workdir, "home")
        os.makedirs(self.home)
        cookie = os.path.join(self.home, ".erlang.cookie")
        with open(cookie, "w") as f:
            f.write("CCTRCLUSTERTEST" + str(os.getpid()))
        os.chmod(cookie, 0o400)
        self.epmd_port = free_port()
        self.epmd = subprocess.Popen(["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.nodes = []
        try:
            self._start_cluster(nodes)
        except BaseException:
            self.stop()
            raise

    def _start_cluster(self, nodes):
        for index in range(1, nodes + 1):
            self.nodes.append(self._configure(index))
        for node in self.nodes:
            self._start(node)
        for node in self.nodes:
            self._await_startup(node)
        for node in self.nodes[1:]:
            self._ctl(node, "stop_app")
            self._ctl(node, "join_cluster", self.nodes[0]["name"])
            self._ctl(node, "start_app", timeout=120)
        # An MQTT session's queue lives on the node the client first connected to; with that
        # node down, another node accepts the CONNECT but closes the connection at SUBSCRIBE
        # (the queue's home node is down). Mirroring the session queues, as docs/scaling.md
        # tells operators to, lets a bridge fail over with its queued commands.
        self._ctl(self.nodes[0], "set_policy", "--apply-to", "queues", "cctr-mqtt-sessions",
                  "^mqtt-subscription-", '{"ha-mode":"all","ha-sync-mode":"automatic"}')
        for node in self.nodes:
            wait_until(f"MQTT on {node['name']}", lambda: port_open(node["mqtt"]), 60)
        self.urls = [f"mqtt://127.0.0.1:{node['mqtt']}" for node in self.nodes]

    def _configure(self, index):
        name = f"cctr{index}@localhost"
        base = os.path.join(self.workdir, f"node{index}")
        os.makedirs(base)
        node = {"name": name, "base": base, "amqp": free_port(), "dist": free_port(), "mqtt": free_port()}
        with open(os.path.join(base, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{node['amqp']}\n"
                    f"mqtt.listeners.tcp.default = 127.0.0.1:{node['mqtt']}\n"
                    "mqtt.allow_anonymous = true\nloopback_users = none\n"
                    "management_agent.disable_metrics_collector = true\n")
        with open(os.path.join(base, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        return node

    def _env(self, node):
        env = dict(os.environ)
        env.update({
            "HOME": self.home,
            "RABBITMQ_NODENAME": node["name"],
            "RABBITMQ_NODE_PORT": str(node["amqp"]),
            "RABBITMQ_DIST_PORT": str(node["dist"]),
            "RABBITMQ_CONFIG_FILE": os.path.join(node["base"], "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(node["base"], "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": os.path.join(node["base"], "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(node["base"], "log"),
            "RABBITMQ_PID_FILE": os.path.join(node["base"], "rabbit.pid"),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        })
        return env

    def _start(self, node):
        subprocess.run([f"{RABBIT_BIN}/rabbitmq-server", "-detached"], env=self._env(node), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def _ctl(self, node, *args, timeout=60, check=True):
        result = subprocess.run([f"{RABBIT_BIN}/rabbitmqctl", "-n", node["name"], *args], env=self._env(node),
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {node['name']}: {result.stderr.strip()[-400:]}")
        return result

    def _await_startup(self, node, deadline_s=300):
        """`-detached` returns before the node registers with epmd, and `await_startup`
        fails at once on a node not registered yet: retry until it waits for real."""
        deadline = time.monotonic() + deadline_s
        while True:
            result = self._ctl(node, "await_startup", timeout=deadline_s, check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node['name']} did not start: {result.stderr.strip()[-400:]}")
            time.sleep(1)

    def _pid(self, node):
        try:
            with open(os.path.join(node["base"], "rabbit.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def kill(self, index):
        """SIGKILL node `index` (0-based), as a crashed machine would go."""
        pid = self._pid(self.nodes[index])
        if pid:
            os.kill(pid, signal.SIGKILL)
        wait_until(f"{self.nodes[index]['name']} to die", lambda: not port_open(self.nodes[index]["mqtt"]), 20)

    def stop(self):
        """By pid: SIGTERM (the node shuts down cleanly), SIGKILL after 15 s; then epmd.
        `rabbitmqctl stop` takes up to a minute a node, for data that is deleted anyway."""
        pids = [pid for pid in (self._pid(node) for node in self.nodes) if pid and _alive(pid)]
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.epmd.kill()
        self.epmd.wait()


def _alive(pid):
    """True while `pid` runs (a zombie left by `-detached`, whose parent is gone, counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def rabbitmq_available():
    return os.path.exists(f"{RABBIT_BIN}/rabbitmq-server") and shutil.which("erl") is not None


class EjabberdCluster:
    """N ejabberd nodes with `mod_mqtt` joined into one cluster: MQTT 5 with response
    topics, but no `$share` (a `$share` SUBSCRIBE closes the connection) and retained
    messages kept on the node that took them. Runs as the `ejabberd` user (ejabberdctl
    switches to it), so its directory is handed to that user. Clients log in as
    `bridge` / `secret`."""

    kind = "ejabberd"
    user, password = "bridge", "secret"

    def __init__(self, workdir, nodes=2, log=print):
        self.base = os.path.join(workdir, "ejabberd")
        os.makedirs(self.base)
        os.chmod(workdir, 0o755)
        # ejabberdctl starts Erlang's port mapper on its default port when none runs; stop
        # it at the end only then.
        self.own_epmd = not port_open(4369)
        self.nodes = []
        try:
            self._start_cluster(nodes)
        except BaseException:
            self.stop()
            raise

    def _start_cluster(self, nodes):
        for index in range(1, nodes + 1):
            node = {"name": f"cctrej{index}x{os.getpid()}@localhost", "dir": os.path.join(self.base, f"node{index}"),
                    "mqtt": free_port()}
            for sub in ("spool", "logs"):
                os.makedirs(os.path.join(node["dir"], sub))
            with open(os.path.join(node["dir"], "ejabberd.yml"), "w") as f:
                f.write("hosts: [localhost]\nloglevel: warning\nauth_method: [internal]\n"
                        f"listen:\n  - {{port: {node['mqtt']}, ip: \"127.0.0.1\", module: mod_mqtt}}\n"
                        "modules:\n  mod_mqtt:\n    access_publish: {\"#\": [allow]}\n"
                        "    access_subscribe: {\"#\": [allow]}\n")
            self.nodes.append(node)
        subprocess.run(["chown", "-R", "ejabberd", self.base], check=True)
        for node in self.nodes:
            self._ctl(node, "start")
        for node in self.nodes:
            wait_until(f"{node['name']} to start", lambda: self._ctl(node, "status", check=False).returncode == 0, 60)
        for node in self.nodes[1:]:
            self._ctl(node, "join_cluster", self.nodes[0]["name"])
        self._ctl(self.nodes[0], "register", self.user, "localhost", self.password)
        for node in self.nodes:
            wait_until(f"MQTT on {node['name']}", lambda: port_open(node["mqtt"]), 30)
        self.urls = [f"mqtt://{self.user}@127.0.0.1:{node['mqtt']}" for node in self.nodes]

    def _ctl(self, node, *args, check=True):
        d = node["dir"]
        result = subprocess.run(
            ["ejabberdctl", "--node", node["name"], "--spool", f"{d}/spool", "--logs", f"{d}/logs",
             "--config", f"{d}/ejabberd.yml", "--config-dir", d, *args],
            capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"ejabberdctl {' '.join(args)} on {node['name']}: {result.stdout.strip()[-400:]}")
        return result

    def _pids(self, node):
        result = subprocess.run(["pgrep", "-f", "--", f"-sname {node['name'].split('@')[0]}|-name {node['name']}"],
                                capture_output=True, text=True)
        return [int(pid) for pid in result.stdout.split()]

    def kill(self, index):
        for pid in self._pids(self.nodes[index]):
            os.kill(pid, signal.SIGKILL)
        wait_until(f"{self.nodes[index]['name']} to die", lambda: not port_open(self.nodes[index]["mqtt"]), 20)

    def stop(self):
        for node in self.nodes:
            if port_open(node["mqtt"]):
                self._ctl(node, "stop", check=False)
        for node in self.nodes:
            for pid in self._pids(node):
                os.kill(pid, signal.SIGKILL)
        if self.own_epmd:
            epmd = subprocess.run(["pgrep", "-x", "epmd"], capture_output=True, text=True).stdout.split()
            for pid in epmd:
                os.kill(int(pid), signal.SIGTERM)
