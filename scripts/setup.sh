#!/usr/bin/env bash
# Creates .venv (if needed) and installs Quaver with its test and bench extras.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[test,bench]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import quaver, pytest, httpx, uvicorn, quart, starlette" 
