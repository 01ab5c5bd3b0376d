#!/usr/bin/env bash
# Sets everything up on a fresh machine, then serves the example app on port 5000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd examples/disks
exec ../../.venv/bin/python app.py
