#!/usr/bin/env bash
# Install a Java runtime (Debian's OpenJDK 17, headless) for the Spark tests (tests/spark,
# marked `spark`: ingest and corpora on Spark local[2] must match DuckDB's), when missing.
set -euo pipefail

if command -v java >/dev/null 2>&1 || [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
  exit 0
fi
sudo=""
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "error: java is missing and installing it needs root or sudo." >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "ci-java: installing openjdk-17-jre-headless (apt-get)" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  openjdk-17-jre-headless
