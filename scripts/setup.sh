#!/usr/bin/env bash
# Creates .venv (if needed) and installs Quaver with its test, bench, films, extensions, pubsub and docs extras.
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
    (cd examples/api && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
echo "setup.sh: installing or checking Quaver in .venv with its test, bench, films, extensions, pubsub and docs extras" >&2
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# pip's output goes to a log, shown only when the install fails (less the
# "WARNING: Location 'file:///...' is ignored" lines this machine's index set-up causes);
# on success only its ERROR lines (a dependency conflict) are shown.
pip_log="$(mktemp)"
if ! .venv/bin/python -m pip install -q -e '.[test,bench,films,extensions,pubsub,docs]' >"$pip_log" 2>&1; then
    grep -v "^WARNING: Location" "$pip_log" >&2 || true
    rm -f "$pip_log"
    echo "setup.sh: pip could not install Quaver (its output is above)" >&2
    exit 1
fi
grep "^ERROR" "$pip_log" >&2 || true
rm -f "$pip_log"
.venv/bin/python -c "import quaver, pytest, httpx, uvicorn, quart, starlette, websockets, playwright, asyncpg, trustme, aioquic, granian, sphinx, myst_parser"
