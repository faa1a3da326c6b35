# One entry point. `make demo` plays a channel's life on a local chain; `make test` runs the
# default test suite. Both set the project up first (idempotent, a second run costs ~1 s).
SHELL := /bin/bash
ROOT := $(CURDIR)
export PATH := $(ROOT)/node_modules/.bin:$(ROOT)/.venv/bin:$(PATH)
export SOLCX_BINARY_PATH := $(ROOT)/.solcx
export PYTHONWARNINGS := ignore::FutureWarning
NETWORK ?= anvil
PYTEST_ARGS ?=

.PHONY: setup compile demo test gas fuzz coverage clean

setup:
	@tools/setup.sh

compile: setup
	brownie compile

demo: setup
	brownie run scripts/demo.py --network $(NETWORK)

test: setup
	brownie test --network $(NETWORK) $(PYTEST_ARGS)

gas: setup
	brownie run scripts/gas_benchmark.py --network $(NETWORK)

clean:
	rm -rf build reports .hypothesis .pytest_cache
