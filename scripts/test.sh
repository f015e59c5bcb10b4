#!/usr/bin/env bash
# Run the whole suite headless. Kivy renders with SDL's offscreen driver (no X); the few tests
# that need X (pynput, xdotool) get a private Xvfb from xvfb-run. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
export KIVY_NO_ARGS=1 KIVY_NO_FILELOG=1 KIVY_LOG_MODE=PYTHON KIVY_NO_CONSOLELOG=1
export KIVY_HOME="$PWD/.kivy"
export ONESTOP_ARTIFACTS="${ONESTOP_ARTIFACTS:-$PWD/test-artifacts}"
mkdir -p "$ONESTOP_ARTIFACTS" "$KIVY_HOME"
scripts/services.sh
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" .venv/bin/python -m pytest "$@"
