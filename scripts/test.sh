#!/usr/bin/env bash
# The test command: installs what is missing, then runs every check CI runs.
#   1. swift test: unit, integration (a real mosquitto on loopback), CLI and fault tests
#   2. cctr-bridge decode over the public sample frames and hostile input, every payload
#      validated against schemas/ (and the schemas' own examples)
#   3. the deployment files (systemd-analyze, Kubernetes and compose schemas, ACL)
#   4. the status page in headless Chromium against a live bridge (scripts/browser_test.py)
#   5. two bridges on one Mosquitto, a two-node RabbitMQ and a two-node ejabberd cluster
#      (scripts/cluster-test.sh: command routing, hand-over, broker failover)
#   6. 100 good trackers beside five phases of attack, 20 s each, against a release build
#      (scripts/hostile-test.sh: p99, connects and loss, the targets of docs/threat-model.md)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Every test talks to 127.0.0.1 only; a CI machine's http_proxy must not capture that.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

swift build --build-tests
# Serial: the integration and fault tests run real brokers and bridges; on 2 cores,
# running them side by side only makes them slower and their timing flakier.
swift test --skip-build --no-parallel 2>&1 | tee .build/test-output.txt

decoded=$(mktemp)
trap 'rm -f "$decoded"' EXIT
scripts/decode-samples.sh >"$decoded"
python3 scripts/validate_payloads.py --lines "$decoded"
python3 scripts/validate_payloads.py --examples
scripts/check_deploy.sh
python3 scripts/browser_test.py --bridge .build/debug/cctr-bridge
scripts/cluster-test.sh
scripts/hostile-test.sh
