#!/usr/bin/env bash
# Install Debian's Chromium for the explorer page's browser test
# (tests/api/test_explorer_page.py drives /usr/bin/chromium with Playwright), when missing.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
sudo=""
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "error: /usr/bin/chromium is missing and installing it needs root or sudo." >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "ci-browser: installing chromium (apt-get)" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
