#!/usr/bin/env bash
# Sets everything up on a fresh machine, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The PostgreSQL tests (tests/test_example_films.py) use the server scripts/postgres.sh
# installs and starts; if it cannot, the run stops here rather than skip them.
TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
export TEST_POSTGRES_URL
exec .venv/bin/python -m pytest "$@"
