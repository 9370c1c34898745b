# Two commands do all the set-up on a fresh Debian 12 machine with Python 3.11:
#   make demo   - install, then run the whole hall (headless when there is no screen)
#   make test   - install (with test extras and test data), then run the whole suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
HALL   := $(VENV)/bin/hall

.PHONY: setup setup-test demo test bench clean

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh --test

demo: setup
	$(HALL) up --demo $(if $(DISPLAY),,--headless)

test: setup-test
	$(PY) -m pytest -q -p no:cacheprovider

bench: setup
	$(HALL) bench push --devices 1000 --broker mosquitto

clean:
	rm -rf $(VENV) var .pytest_cache
