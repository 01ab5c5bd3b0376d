#!/usr/bin/env bash
# Runs the films benchmark by hand (CI does not): installs what it needs
# (the project's extras, wrk, PostgreSQL), then bench.py with any arguments
# given here, e.g. `bash bench/films/run.sh --rounds 5`. `load` as the first
# argument runs the load run (load.py) instead, on that same PostgreSQL
# unless --database-url says otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
if ! command -v wrk >/dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi
DATABASE_URL="$(bash scripts/postgres.sh)"
export DATABASE_URL
if [ "${1:-}" = "load" ]; then
    shift
    exec .venv/bin/python bench/films/load.py --database-url "$DATABASE_URL" "$@"
fi
exec .venv/bin/python bench/films/bench.py "$@"
