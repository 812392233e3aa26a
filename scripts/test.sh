#!/usr/bin/env bash
# Set everything up (first run only), then lint and run the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"` or `-k ingest`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench

exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
