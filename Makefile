# One entry point. `make demo` plays a channel's life on a local chain; `make test` runs the
# default test suite. Both set the project up first (idempotent, a second run costs ~1 s).
SHELL := /bin/bash
ROOT := $(CURDIR)
export PATH := $(ROOT)/node_modules/.bin:$(ROOT)/.venv/bin:$(PATH)
export SOLCX_BINARY_PATH := $(ROOT)/.solcx
export PYTHONWARNINGS := ignore::FutureWarning
NETWORK ?= anvil
PYTEST_ARGS ?=

.PHONY: setup compile demo lint test gas coverage fuzz mutation slither clean

setup:
	@tools/setup.sh

compile: setup
	brownie compile

demo: setup
	.venv/bin/python tools/run_script.py scripts/demo.py --network $(NETWORK)

# The lint gate, run first by `make test` (so CI enforces it): ruff's lint and formatting over
# the Python tree, strict mypy on the channel_manager package, solhint on the contract and its
# interface (settings: pyproject.toml, .solhint.json).
lint: setup
	ruff check .
	ruff format --check .
	mypy
	solhint --max-warnings 0 contracts/ChannelManager.sol interfaces/IChannelManager.sol

test: setup lint
	brownie test --network $(NETWORK) $(PYTEST_ARGS)

# The breakdown table needs opcode traces, so the benchmark runs on a steps-tracing anvil
# (port 8548); the figures are the same as on `anvil` (the snapshot gate runs there).
gas: setup
	tools/ensure_network.sh anvil-gas 8548
	.venv/bin/python tools/run_script.py research/gas_benchmark.py --network anvil-gas

# Branch coverage of ChannelManager.sol (anvil with steps tracing; ~5-6x a plain run).
coverage: setup
	tools/coverage.sh

# A sharded fuzz campaign on Dask, one single-threaded worker process per local core; the report
# lands in campaigns/<timestamp>/ (docs/fuzzing-campaigns.md). E.g. FUZZ_ARGS="--steps 1000000".
FUZZ_ARGS ?= --budget-seconds 600
fuzz: setup
	.venv/bin/python research/campaign.py $(FUZZ_ARGS)

# Known-bad contract edits the fuzzing engine must kill: 30,000 steps each, both oracles, one
# campaign per local core at a time (docs/fuzzing-rediscovery.md).
mutation: setup
	.venv/bin/python research/mutation_check.py --workers $(shell nproc)

slither: setup
	.venv/bin/python tools/run_slither.py

clean:
	rm -rf build reports .hypothesis .pytest_cache
