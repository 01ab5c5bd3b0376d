#!/usr/bin/env bash
# The wire benchmark by hand (CI does not): wrk from Debian's packages, then run.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi
exec .venv/bin/python bench/wire/run.py "$@"
