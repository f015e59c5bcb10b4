#!/usr/bin/env bash
# Install what onestop needs on Debian 12 / Raspberry Pi OS (64-bit), idempotently:
# the apt packages that are missing, then .venv with onestop (and its test tools for "test").
#   scripts/bootstrap.sh demo   what the kiosk and the demo need
#   scripts/bootstrap.sh test   that, plus what the test suite needs (browser, PostgreSQL, Xvfb)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-test}

APT_PACKAGES=(
  python3-venv python3-dev gcc pkg-config
  # Kivy offscreen/EGL rendering and input
  libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri libmtdev1
  # smart cards: pcscd and headers for pyscard; vpcd only for the virtual card in tests/demo
  pcscd libpcsclite-dev vsmartcard-vpcd iproute2
  # CJK fonts: Noto Sans CJK (SC/TC faces are extracted), HanaMin/BabelStone for rare characters
  fonts-noto-cjk fonts-hanazono fonts-babelstone-han
  # WeasyPrint (the desk's PDF/A archive copies and monthly report): Pango for text layout
  libpango-1.0-0 libpangoft2-1.0-0
)
TEST_APT_PACKAGES=(
  # X-only tests (pynput, xdotool), the IT dashboard browser test, namespaces for pcscd
  xvfb xauth xdotool chromium chromium-driver iproute2 util-linux
  # the central sync server tests: PostgreSQL 15 (with btree_gist); initdb/pg_ctl for a private instance
  postgresql
  # the club's role calls: a real MQTT broker (127.0.0.1:1883, and private ones the tests restart)
  mosquitto
)
if [ "$MODE" = "test" ]; then
  APT_PACKAGES+=("${TEST_APT_PACKAGES[@]}")
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.onestop-installed-$MODE
extra=""; [ "$MODE" = "test" ] && extra="[test]"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || ! .venv/bin/python -c "import kiosk, drivers, pos, sync" 2>/dev/null; then
  echo "bootstrap: installing onestop$extra into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$extra"
  touch "$stamp"
fi
