#!/usr/bin/env bash
# Makes sure a Redis server answers on 127.0.0.1 for Quaver's tests, then prints
# its URL on stdout:
#
#     export TEST_REDIS_URL=$(bash scripts/redis.sh)
#
# Installs Debian's redis-server package if it is missing and starts a server of
# its own (no persistence, loopback only) when none answers on the port. Safe to
# run again: when the server is up it only checks. Progress goes to stderr.
#
# Settings (environment): REDIS_PORT (6390).
set -euo pipefail

PORT="${REDIS_PORT:-6390}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
say() { echo "redis.sh: $*" >&2; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    say "installing redis-server from Debian's packages"
    $SUDO apt-get update -q >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2
fi

answers() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; }

if ! answers; then
    say "starting redis-server on 127.0.0.1:$PORT"
    dir="${TMPDIR:-/tmp}/quaver-redis-$PORT"
    mkdir -p "$dir"
    redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
        --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
    for _ in $(seq 1 50); do
        if answers; then break; fi
        sleep 0.1
    done
    if ! answers; then
        say "the server on port $PORT does not answer; see $dir/redis.log"
        exit 1
    fi
fi

echo "redis://127.0.0.1:$PORT/0"
