#!/usr/bin/env bash
# Creates .venv (if needed) and installs Quaver with its test, bench, films, extensions and pubsub extras.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser test (tests/test_example_chat.py) drives Debian's chromium through Playwright.
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
# examples/chat behind a proxy (tests/test_example_chat.py) runs Debian's nginx.
bash scripts/nginx.sh
# examples/api serves Swagger UI's scripts from the swagger-ui-dist npm package (no CDN).
if [ ! -f examples/api/node_modules/swagger-ui-dist/swagger-ui-bundle.js ]; then
    if ! command -v npm >/dev/null; then
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO apt-get update -q
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm
    fi
    (cd examples/api && npm install --no-audit --no-fund --loglevel=error)
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[test,bench,films,extensions,pubsub]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import quaver, pytest, httpx, uvicorn, quart, starlette, websockets, playwright, asyncpg, trustme, aioquic, granian" 
