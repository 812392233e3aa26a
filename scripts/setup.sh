#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install customer2vec into it, once per pyproject change.
# Usage: bash scripts/setup.sh [dev]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
group="${1:-}"

if [[ ! -x .venv/bin/python ]]; then
  python=""
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [[ -n "$candidate" ]] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"; break
    fi
  done
  if [[ -z "$python" ]]; then
    echo "error: customer2vec needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
    exit 1
  fi
  echo "setup: creating .venv with $($python --version)" >&2
  "$python" -m venv .venv
fi

want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-${group:-run}"
if [[ "$(cat .venv/.setup-stamp 2>/dev/null)" != *"$want"* ]]; then
  echo "setup: installing customer2vec${group:+ and $group tools} into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
  if [[ "$group" == dev ]]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[demo,viz,serve]" --group dev
  else
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[demo,viz,serve]"
  fi
  # A dev install also satisfies a plain run, so remember both. (An `if`, not `&&`: a false
  # test as the block's last command would make the script exit 1 under `set -e`.)
  {
    echo "$want"
    if [[ "$group" == dev ]]; then echo "${want%-dev}-run"; fi
  } > .venv/.setup-stamp
fi
