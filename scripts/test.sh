#!/usr/bin/env bash
# Run the whole suite headless. Kivy renders with SDL's offscreen driver (no X); the few tests
# that need X (pynput, xdotool) get a private Xvfb from xvfb-run. With arguments, they go to one
# pytest run as they are. Without, the suite runs in two processes: the protocol, domain and
# server tests, then the tests that drive the Kivy front ends (which keep one window and their
# worker threads for the whole process), so timing-sensitive pty tests never share a process
# with the UI.
set -uo pipefail
cd "$(dirname "$0")/.."
export KIVY_NO_ARGS=1 KIVY_NO_FILELOG=1 KIVY_LOG_MODE=PYTHON KIVY_NO_CONSOLELOG=1
export KIVY_HOME="$PWD/.kivy"
export ONESTOP_ARTIFACTS="${ONESTOP_ARTIFACTS:-$PWD/test-artifacts}"
mkdir -p "$ONESTOP_ARTIFACTS" "$KIVY_HOME"
scripts/services.sh
run() { xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" .venv/bin/python -m pytest "$@"; }
# group NAME ARGS...: one pytest process, its output also kept in test-artifacts/NAME.log. If the
# process dies of a signal, the thread that crashed (from pytest's faulthandler) is printed again
# at the very end, where a clipped CI log still shows it.
crashed=()
group() {
  local name=$1; shift
  run "$@" 2>&1 | tee "$ONESTOP_ARTIFACTS/$name.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -gt 128 ]; then crashed+=("$name"); fi
  return "$rc"
}
if [ "$#" -gt 0 ]; then
  run "$@"
  exit $?
fi
UI_TESTS=(tests/test_kiosk_*.py tests/test_staff_ui.py tests/test_counter_*.py tests/test_diag_screens.py
          tests/test_diag_selftests.py tests/test_launch.py tests/test_autoplay.py tests/test_club_screens.py
          tests/test_club_demo.py tests/test_desk_demo.py tests/test_desk_console.py tests/test_desk_tech.py tests/test_desk_lobby.py
          tests/test_ward_*.py tests/test_club_orders_screen.py tests/test_club_valet_phones.py)
UI_TESTS+=(tests/test_desk_*ui*.py)   # the desk front ends' new screens (QC and follow-up, lobby steps)
UI_TESTS+=(tests/test_club_cashier_screen.py tests/test_club_evening_screens.py)   # the club cashier (issue 18)
# the card-terminal tests time ZVT dialogues over ptys: they get a process of their own
TERMINAL_TESTS=(tests/test_zvt_*.py tests/test_pay_cli.py tests/test_payment_*.py tests/test_cash.py)
ignore=()
for f in "${UI_TESTS[@]}" "${TERMINAL_TESTS[@]}"; do ignore+=("--ignore=$f"); done
group card-terminal -q "${TERMINAL_TESTS[@]}"
rc1=$?
group domain -q "${ignore[@]}"
rc2=$?
group front-end -q "${UI_TESTS[@]}"
rc3=$?
for name in "${crashed[@]}"; do
  echo "test.sh: the $name tests crashed; the crashing thread (all threads: $ONESTOP_ARTIFACTS/$name.log):"
  awk '/^Current thread/{p=1} p&&/^$/{exit} p' "$ONESTOP_ARTIFACTS/$name.log" | head -40
done
echo "test.sh: card-terminal tests exit $rc1, protocol/domain/server tests exit $rc2, front-end tests exit $rc3"
for rc in "$rc1" "$rc2" "$rc3"; do
  if [ "$rc" -ne 0 ]; then exit "$rc"; fi
done
exit 0
