#!/usr/bin/env bash
# Sets everything up on a fresh machine, type-checks and lints, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The type check (mypy --strict) and the lint (ruff) come first: either failing stops the run.
bash scripts/check.sh
# The PostgreSQL tests (tests/test_example_films.py) use the server scripts/postgres.sh
# installs and starts; if it cannot, the run stops here rather than skip them.
TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
export TEST_POSTGRES_URL
# Redis for quart-rate-limiter's stores (tests/test_extensions.py), from Debian's package.
TEST_REDIS_URL="$(bash scripts/redis.sh)"
export TEST_REDIS_URL
exec .venv/bin/python -m pytest "$@"
