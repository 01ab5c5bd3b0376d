#!/usr/bin/env bash
# The type check and the lint, with the versions the test extra pins (run by
# scripts/test.sh before the tests; needs .venv from scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "check.sh: mypy --strict src/quaver"
.venv/bin/mypy --strict --no-error-summary src/quaver
echo "check.sh: ruff check (the package, tests, examples, benchmarks, scripts, docs)"
.venv/bin/ruff check --quiet
