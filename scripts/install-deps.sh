#!/usr/bin/env bash
# Installs what building, running and testing cctr-bridge needs, only when it is missing:
# Debian's libmosquitto-dev, libssl-dev, mosquitto, mosquitto-clients, systemd (for
# `systemd-analyze verify`) and chromium (the status page's browser test,
# scripts/browser_test.py), and the Python checkers of scripts/requirements-ci.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
dpkg -s libmosquitto-dev >/dev/null 2>&1 || missing+=(libmosquitto-dev)
# OpenSSL's headers: the bridge reads the certificate verification result of a failed TLS
# handshake to the broker (libmosquitto links libssl already; the runtime needs nothing new).
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
# The mosquitto package starts a system broker on 1883; tests and the demo use their own.
if ! python3 -c 'import jsonschema, rfc3339_validator, yaml, kubernetes_validate, check_jsonschema, websocket' 2>/dev/null; then
    python3 -m pip install --quiet -r scripts/requirements-ci.txt
fi
