# onestop: the two commands a new user needs.
#   make demo   set up (apt packages, .venv) and run the kiosk with every device simulated
#   make test   set up and run the whole test suite, headless
# Both can be run again safely; setup only does what is missing.

.PHONY: demo test setup bench clean

demo: setup
	.venv/bin/onestop demo $(ARGS)

test: setup
	scripts/test.sh $(ARGS)

setup:
	scripts/bootstrap.sh

bench: setup
	scripts/bench.sh

clean:
	rm -rf .venv .kivy test-artifacts .pytest_cache .setup-stamp
