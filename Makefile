# onestop: the two commands a new user needs.
#   make demo   set up (apt packages, .venv) and run the kiosk with every device simulated
#   make test   set up and run the whole test suite, headless
# Both can be run again safely; setup only does what is missing.

.PHONY: demo test setup bench clean

# the demo opens in a normal 1280x800 window, so a desktop user can close it;
# `make demo ARGS=` runs it as a real kiosk (full screen, ESC and close refused)
ARGS ?= --windowed --size 1280x800

demo:
	scripts/bootstrap.sh demo
	.venv/bin/onestop demo $(ARGS)

test:
	scripts/bootstrap.sh test
	scripts/test.sh $(TESTARGS)

setup:
	scripts/bootstrap.sh test

bench: setup
	scripts/bench.sh

clean:
	rm -rf .venv .kivy test-artifacts .pytest_cache .setup-stamp
