#!/usr/bin/env bash
# Mosquitto from Debian's packages; checked by starting it once on a free 127.0.0.1 port.
set -euo pipefail
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
fi
bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser %s\n' "$port" "$(id -un)" > "$dir/m.conf"
"$bin" -c "$dir/m.conf" & pid=$!
for _ in $(seq 50); do
    if python3 -c "import socket,sys; sys.exit(socket.socket().connect_ex(('127.0.0.1', $port)))"; then
        kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
        echo "mosquitto: $("$bin" -h 2>/dev/null | head -1)"
        exit 0
    fi
    sleep 0.1
done
echo "mosquitto did not start on 127.0.0.1:$port" >&2
exit 1
