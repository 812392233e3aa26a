#!/usr/bin/env bash
# Run the README's first command (the demo) exactly as written, in a fresh clone of this
# repository with no .venv, as a new user would. Used by .ci/run; the clone is removed after.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command=$(awk '/^```/{n++; next} n==1' README.md | sed 's/^[$ ]*//' | grep -v '^#' | grep -v '^$' | head -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q . "$tmp/project"
echo "first-run: '$command' in a fresh clone ($tmp/project)" >&2
start=$(date +%s)
if ! (cd "$tmp/project" && bash -c "$command") >"$tmp/first-run.log" 2>&1; then
  echo "first-run: FAILED; the last lines of its output:" >&2
  tail -40 "$tmp/first-run.log" >&2
  exit 1
fi
echo "first-run: passed in $(($(date +%s) - start)) s; the last lines of its output:" >&2
tail -8 "$tmp/first-run.log" >&2
