#!/usr/bin/env bash
# Scale-out test (issue 13, docs/scaling.md): two bridge instances and simulated trackers
# on a real broker, checking that commands reach the instance holding the tracker exactly
# once, follow a tracker that moves, and that a bridge fails over to another node losing
# nothing. Runs on one Mosquitto (with `$share`), on a two-node RabbitMQ cluster (MQTT 3.1.1,
# no `$share`, retained messages per node) and on a two-node ejabberd cluster (MQTT 5, a
# `$share` SUBSCRIBE closes the connection). Installs rabbitmq-server and ejabberd when
# missing; a cluster part is skipped, with the reason printed, only when that install fails.
# Loopback only; each broker part is bounded in time.
#   scripts/cluster-test.sh [mosquitto] [rabbitmq] [ejabberd]      (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(mosquitto rabbitmq ejabberd)

bin_dir=$(swift build --show-bin-path)
[ -x "$bin_dir/cctr-bridge" ] || swift build --product cctr-bridge

status=0
for kind in "${kinds[@]}"; do
    package=""
    case "$kind" in
        rabbitmq) [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || package=rabbitmq-server ;;
        ejabberd) command -v ejabberdctl >/dev/null 2>&1 || [ -x /usr/sbin/ejabberdctl ] || package=ejabberd ;;
    esac
    if [ -n "$package" ]; then
        echo "installing $package"
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO=sudo
        if ! { $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "$package"; }; then
            echo "SKIPPED $kind: the $package package could not be installed"
            continue
        fi
    fi
    # The Debian packages start system nodes on the default ports; ours use their own.
    timeout 900 python3 scripts/cluster_run.py "$bin_dir" "$kind" || status=1
done
exit $status
