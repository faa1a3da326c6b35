"""Makes `brownie test --coverage` work on eth-brownie 1.22.2 (TOOLCHAIN.md).

1.22.2 ships `brownie.test.coverage` and `brownie.test.output` compiled with mypyc; on Python
3.11 the compiled versions crash at the coverage summary ("dict object expected; got list").
The same release also ships their pure-Python sources beside them. This plugin loads those
sources in place of the compiled modules and points every brownie module that already
imported them at the pure ones, before any transaction is recorded.

Loaded as a pytest plugin, either from the command line (what tools/coverage.sh does):

    brownie test --coverage --network anvil-cov -p tests.coverage_plugin

or from tests/conftest.py with `pytest_plugins = ["tests.coverage_plugin"]`. It only acts when
`--coverage` is on; without it, it does nothing. Under coverage it also keeps view calls as
`eth_call` (see `pytest_sessionstart`).
Coverage on anvil also needs steps tracing (`steps_tracing: true`, anvil `--steps-tracing`),
else every transaction reports no coverage.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import brownie.test

from tests.fixtures.confirmation_race import wait_for_receipts

#: Brownie modules that hold `coverage` / `output` as attributes after importing them.
_HOLDERS = (
    "brownie.network.transaction",
    "brownie.test.managers.base",
    "brownie.test.managers.master",
    "brownie.test.managers.runner",
)

_swapped = False


def _load_pure(name: str) -> ModuleType:
    """Import `brownie.test.<name>` from its .py source (not the compiled .so beside it)."""
    full_name = f"brownie.test.{name}"
    path = Path(brownie.test.__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(full_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[full_name] = module
    spec.loader.exec_module(module)
    return module


def use_pure_python_coverage() -> None:
    """Swap brownie's compiled coverage and output modules for their pure-Python sources."""
    global _swapped
    if _swapped:
        return
    coverage = _load_pure("coverage")
    output = _load_pure("output")  # `from .coverage import CoverageEval` now finds the pure one
    brownie.test.coverage = coverage  # type: ignore[attr-defined]
    brownie.test.output = output  # type: ignore[attr-defined]
    for name in _HOLDERS:
        holder = sys.modules.get(name)
        if holder is None:
            continue
        if hasattr(holder, "coverage"):
            holder.coverage = coverage  # type: ignore[attr-defined]
        if hasattr(holder, "output"):
            holder.output = output  # type: ignore[attr-defined]
    wait_for_receipts()  # also loaded for every run (tests/fixtures/confirmation_race.py)
    _patch_immutable_check()
    _swapped = True


def _matches_with_immutables(actual: bytes, expected: bytes) -> bool:
    """`actual` is `expected` with immutables filled in: same length, and every differing byte
    lies in a run of at least 32 zero bytes of `expected` (solc's immutable placeholders)."""
    if len(actual) != len(expected):
        return False
    in_placeholder = bytearray(len(expected))
    run_start = None
    for i, byte in enumerate(expected + b"\x01"):
        if byte == 0 and i < len(expected):
            run_start = i if run_start is None else run_start
            continue
        if run_start is not None and i - run_start >= 32:
            in_placeholder[run_start:i] = b"\x01" * (i - run_start)
        run_start = None
    return all(
        a == e or in_placeholder[i] for i, (a, e) in enumerate(zip(actual, expected, strict=True))
    )


def _patch_immutable_check() -> None:
    """Brownie compares deployed code with the build byte for byte, ignoring only metadata and
    library links; ChannelManager has immutables (hub, challenge period, token, EIP-712 cache),
    so the check fails and brownie deletes the build's pcMap — no trace, no coverage at all.
    Accept code that differs from the build only inside immutable placeholders."""
    import brownie.network.contract as contract_module
    from brownie import web3

    original = contract_module._verify_deployed_code
    if getattr(original, "_accepts_immutables", False):
        return

    def verify(address, expected_bytecode, language):  # type: ignore[no-untyped-def]
        if original(address, expected_bytecode, language):
            return True
        expected_hex = expected_bytecode.removeprefix("0x")
        if language != "Solidity" or "_" in expected_hex:
            return False
        actual = bytes(web3.eth.get_code(address))
        return _matches_with_immutables(actual, bytes.fromhex(expected_hex))

    verify._accepts_immutables = True  # type: ignore[attr-defined]
    contract_module._verify_deployed_code = verify


def _coverage_requested(args: list[str]) -> bool:
    return "--coverage" in args or "-C" in args


def pytest_load_initial_conftests(early_config, parser, args):  # type: ignore[no-untyped-def]
    """Command-line plugins (`-p`) see the arguments here, before brownie starts its runner."""
    if _coverage_requested(list(args)) or _coverage_requested(list(sys.argv)):
        use_pure_python_coverage()


def pytest_configure(config):  # type: ignore[no-untyped-def]
    """Conftest-listed plugins arrive after the initial hooks: decide from the parsed option."""
    if getattr(config.option, "coverage", False) or _coverage_requested(list(sys.argv)):
        use_pure_python_coverage()


def pytest_sessionstart(session):  # type: ignore[no-untyped-def]
    """Keep view calls as `eth_call` under coverage.

    Brownie's default under `--coverage` sends every contract *call* as a transaction (and
    undoes it) to trace it. That mines a block per view call, which consumes a timestamp pinned
    with `evm_setNextBlockTimestamp` before the transaction under test (the deadline tests then
    fail with the wrong block time), and makes view-heavy property tests (the merkle
    cross-checks) run for hours. So coverage counts what transactions execute; external view
    functions' own lines are reported separately by tools/coverage.sh.
    """
    if getattr(session.config.option, "coverage", False):
        from brownie._config import CONFIG

        CONFIG.argv["always_transact"] = False
