#!/usr/bin/env bash
# Run every benchmark in bench/ (each writes its section of docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export KIVY_NO_ARGS=1 KIVY_NO_FILELOG=1 KIVY_LOG_MODE=PYTHON KIVY_NO_CONSOLELOG=1 KIVY_HOME="$PWD/.kivy"
scripts/services.sh
for b in bench/bench_*.py; do
  echo "== $b"
  .venv/bin/python "$b"
done
