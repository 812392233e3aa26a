#!/usr/bin/env bash
# Build the wheel, install it in a fresh venv (no source tree on the path) and run the CLI:
# what `pip install customer2vec` gives a user. Fails on any deprecation warning printed while
# building or installing, and when `customer2vec --help` or a tiny synth + ingest + train fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh dev  # the builder (setuptools) comes from the project's own venv
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python=.venv/bin/python
log="$work/build.log"
"$python" -m pip wheel --no-deps --no-build-isolation -w "$work/dist" . >"$log" 2>&1 ||
  { cat "$log" >&2; exit 1; }
wheel="$(ls "$work"/dist/customer2vec-*.whl)"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel" >>"$log" 2>&1 ||
  { cat "$log" >&2; exit 1; }
if grep -i "deprecat" "$log" >&2; then
  echo "error: building or installing the wheel printed a deprecation warning (above)." >&2
  exit 1
fi
cd "$work"  # away from the source tree: only the installed wheel can answer
venv/bin/customer2vec --help >/dev/null
venv/bin/customer2vec --version
venv/bin/customer2vec -q synth --customers 200 --items 60 --out shop >/dev/null
venv/bin/customer2vec -q train shop --model item2vec --out i2v --param n_epochs=2 \
  --param n_factors=8 >/dev/null
item="$(venv/bin/python -c "import pandas; print(pandas.read_parquet('shop/items.parquet')['item_id'].iloc[0])")"
venv/bin/customer2vec -q similar i2v "$item" -n 3 >/dev/null
echo "ci-wheel: $(basename "$wheel") installs in a fresh venv and runs"
