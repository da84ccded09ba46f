#!/usr/bin/env bash
# Validates everything under deploy/ without Docker, Kubernetes or Home Assistant:
#   - the systemd unit with `systemd-analyze verify`;
#   - every YAML file parses (PyYAML), and the example config names only known options;
#   - Kubernetes manifests against the Kubernetes JSON schemas shipped in the
#     kubernetes-validate wheel (offline, --strict: unknown fields fail);
#   - the compose file against the compose-spec JSON schema shipped in check-jsonschema;
#   - the Mosquitto ACL grants exactly the contract's broker permissions and mosquitto
#     accepts the config (when mosquitto is installed).
# Needs: pip install -r scripts/requirements-ci.txt; systemd (apt-get install systemd).
# Prints one line per check and `N passed, M failed`; exits 1 on any failure.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     /' <<<"$2"; }
check() { # check NAME COMMAND...: pass when the command exits 0; show its output otherwise.
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# systemd: `verify` also checks that ExecStart's binary exists, and this machine has no
# installed cctr-bridge. Verify a copy whose ExecStart points at a stub executable
# (same arguments), so every other directive is checked as written.
unit=deploy/systemd/cctr-bridge.service
if command -v systemd-analyze >/dev/null; then
    printf '#!/bin/sh\nexit 0\n' >"$work/cctr-bridge"
    chmod +x "$work/cctr-bridge"
    sed "s#^ExecStart=/usr/local/bin/cctr-bridge #ExecStart=$work/cctr-bridge #" "$unit" >"$work/cctr-bridge.service"
    check "systemd-analyze verify $unit" bash -c "out=\$(systemd-analyze verify '$work/cctr-bridge.service' 2>&1); rc=\$?; echo \"\$out\"; [ \$rc -eq 0 ] && [ -z \"\$out\" ]"
    check "$unit keeps the contract's ExecStart" grep -qx 'ExecStart=/usr/local/bin/cctr-bridge serve --config /etc/cctr-bridge/config.yaml --spool-dir /var/lib/cctr-bridge/spool' "$unit"
else
    fail "systemd-analyze not installed (apt-get install systemd)"
fi

# Every YAML file parses.
while IFS= read -r f; do
    check "YAML parses: $f" python3 -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$f"
done < <(find deploy -name '*.yaml' -o -name '*.yml' | sort)

# The example config: every key is an option of the contract's command-line table.
check "deploy/config.example.yaml keys are known options" python3 - <<'PY'
import sys, yaml
options = """listen mqtt-url http-token mqtt-ca-file mqtt-cert-file mqtt-key-file mqtt-session-expiry topic-base
instance metrics-listen spool-dir spool-sync spool-sync-interval spool-max-bytes spool-full commands
device-tz speed-unit max-frame-bytes idle-timeout status-interval publish-raw allowlist ha-discovery
ha-prefix owntracks-base share-group shutdown-timeout mqtt-password-file device-password command-ttl
command-ttl-max udp-reply-window held-frames-max held-frames-age max-connections max-connections-per-ip
frame-rate-limit log-format log-level""".split()
keys = {o.replace("-", ".") for o in options}
config = yaml.safe_load(open("deploy/config.example.yaml"))
unknown = sorted(set(config) - keys - {"devices"})
missing = sorted(keys - set(config))
bad_devices = [d for d, s in config["devices"].items() if set(s) - {"tz", "speed_unit", "password", "name"}]
if unknown or missing or bad_devices:
    sys.exit(f"unknown keys {unknown}, missing keys {missing}, bad device settings {bad_devices}")
PY

# Kubernetes manifests.
if command -v kubernetes-validate >/dev/null; then
    for f in deploy/kubernetes/*.yaml; do
        check "kubernetes-validate --strict $f" kubernetes-validate --strict --quiet "$f"
    done
else
    fail "kubernetes-validate not installed (pip install -r scripts/requirements-ci.txt)"
fi
check "deploy/kubernetes: replicas, instance names, spools, probes, ports and affinity the docs promise" python3 - <<'PY'
import sys, yaml
docs = [d for f in ("statefulset", "service", "pdb") for d in yaml.safe_load_all(open(f"deploy/kubernetes/{f}.yaml"))]
dep = next(d for d in docs if d["kind"] == "StatefulSet")
c = dep["spec"]["template"]["spec"]["containers"][0]
problems = []
if dep["spec"]["replicas"] < 2:
    problems.append("the StatefulSet should run several replicas")
instance = next((e for e in c["env"] if e["name"] == "CCTR_INSTANCE"), {})
if instance.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
    problems.append("CCTR_INSTANCE must come from the pod name")
if [t["metadata"]["name"] for t in dep["spec"].get("volumeClaimTemplates", [])] != ["spool"]:
    problems.append("each replica needs its own spool volume claim")
pdb = next(d for d in docs if d["kind"] == "PodDisruptionBudget")
if pdb["spec"].get("maxUnavailable") != 1:
    problems.append("the PodDisruptionBudget should allow one replica down at a time")
if c["livenessProbe"]["httpGet"]["path"] != "/healthz" or c["readinessProbe"]["httpGet"]["path"] != "/readyz":
    problems.append("probes must use /healthz and /readyz")
if "0.0.0.0:9888" not in c["args"]:
    problems.append("--metrics-listen 0.0.0.0:9888 missing")
if not c["securityContext"].get("readOnlyRootFilesystem"):
    problems.append("root filesystem must be read-only")
svc = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "cctr-bridge")
if svc["spec"].get("sessionAffinity") != "ClientIP":
    problems.append("tracker Service needs sessionAffinity ClientIP (UDP sessions)")
if {(p["port"], p["protocol"]) for p in svc["spec"]["ports"]} != {(8888, "TCP"), (8888, "UDP")}:
    problems.append("tracker Service must expose 8888 TCP and UDP")
sys.exit("; ".join(problems) or None)
PY

# Compose file.
if command -v check-jsonschema >/dev/null; then
    check "compose-spec schema: deploy/docker/compose.yaml" check-jsonschema --builtin-schema vendor.compose-spec deploy/docker/compose.yaml
else
    fail "check-jsonschema not installed (pip install -r scripts/requirements-ci.txt)"
fi

# Dockerfile: the promises made in the docs (no Docker engine here to build it).
check "Dockerfile: stages, user, ports, healthcheck" bash -c '
f=deploy/docker/Dockerfile
grep -q "^FROM swift:.* AS build" $f && grep -q "^FROM debian:bookworm-slim" $f &&
grep -q "libmosquitto-dev" $f && grep -q "libmosquitto1" $f && grep -q "^USER 10001" $f &&
grep -q "^EXPOSE 8888/tcp 8888/udp 9888/tcp" $f && grep -q "/healthz" $f &&
grep -qx ".build\*" .dockerignore'

# Mosquitto: the ACL grants exactly the contract's permissions; mosquitto loads the config.
check "deploy/mosquitto/acl grants exactly the contract's permissions" python3 - <<'PY'
import sys
expected = {
    "cctr-bridge": {("topic", "readwrite", "cctr/#"), ("topic", "read", "homeassistant/status"),
                    ("topic", "write", "homeassistant/device/#"), ("topic", "write", "owntracks/#"),
                    ("topic", "write", "reply/#")},
    "controller": {("topic", "write", "cctr/+/cmd"), ("topic", "read", "cctr/+/cmd/result"),
                   ("pattern", "read", "reply/%u/#")},
    "dashboard": {("topic", "read", "cctr/#")},
}
grants, user = {}, None
for line in open("deploy/mosquitto/acl"):
    words = line.split()
    if not words or words[0].startswith("#"):
        continue
    if words[0] == "user":
        user = words[1]
        grants.setdefault(user, set())
    else:
        grants.setdefault(user, set()).add(tuple(words))
if grants != expected:
    sys.exit(f"ACL differs: {grants}")
PY
if command -v mosquitto >/dev/null; then
    cp deploy/mosquitto/acl "$work/acl"
    mosquitto_passwd -b -c "$work/passwd" cctr-bridge check >/dev/null 2>&1 || : >"$work/passwd"
    chmod 0600 "$work/passwd"
    mkdir -p "$work/data"
    sed -e "s#/etc/mosquitto/passwd#$work/passwd#" -e "s#/etc/mosquitto/acl#$work/acl#" \
        -e "s#/mosquitto/data/#$work/data/#" -e 's#^listener 1883#listener 18883 127.0.0.1#' \
        deploy/mosquitto/mosquitto.conf >"$work/mosquitto.conf"
    # Run as the current user: as root, mosquitto would switch to user mosquitto, which
    # cannot read the temporary directory.
    echo "user $(id -un)" >>"$work/mosquitto.conf"
    # mosquitto has no config-test flag: start it on a loopback port, expect it to be
    # running after a second, then stop it.
    check "mosquitto loads deploy/mosquitto/mosquitto.conf" bash -c "
        mosquitto -c '$work/mosquitto.conf' >'$work/mosquitto.log' 2>&1 & pid=\$!
        sleep 1
        if kill -0 \$pid 2>/dev/null; then kill \$pid; wait \$pid; exit 0; fi
        cat '$work/mosquitto.log'; exit 1"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
