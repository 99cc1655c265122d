#!/usr/bin/env bash
# Command 2: install everything (venv, pip, npm, Debian's Chromium) and run the whole test
# suite: the full suite on PostgreSQL with real Redis and Chromium, then again on SQLite
# (the embedded default) without the browser tests. With CI=true a missing PostgreSQL,
# Redis or Chromium fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
mkdir -p tests/artifacts
status=0
echo "==> pass 1/2: PostgreSQL + Redis + Chromium"
WUYE_TEST_DB=postgresql .venv/bin/pytest -p no:cacheprovider -m "not sqlite_only" "$@" || status=$?
echo "==> pass 2/2: SQLite (embedded default)"
WUYE_TEST_DB=sqlite .venv/bin/pytest -p no:cacheprovider -m "not browser and not postgres_only" -q "$@" || status=$?
exit $status
