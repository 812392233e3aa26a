#!/usr/bin/env bash
# Set everything up (first run only) and run the main job: `customer2vec demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/customer2vec demo "$@"
