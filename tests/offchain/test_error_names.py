"""channel_manager.errors names exactly the contract's custom errors: the model's refusals and the
chain's reverts can only be compared if the two lists agree (read from the interface source and
from the compiled ABI, no chain). The off-chain-only refusals are not among them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from channel_manager import errors as E
from channel_manager.rules import ReceiverBalanceLowered, ThreadTxCountNotRaised

ROOT = Path(__file__).resolve().parents[2]
INTERFACE = ROOT / "interfaces" / "IChannelManager.sol"
# brownie compiles interfaces/ before any test runs (build/ is not in git)
INTERFACE_ABI = ROOT / "build" / "interfaces" / "IChannelManager.json"


def interface_errors() -> set[str]:
    return set(re.findall(r"^\s*error\s+(\w+)\s*\(", INTERFACE.read_text(), flags=re.MULTILINE))


def test_error_classes_are_exactly_the_interface_errors():
    assert set(E.ERRORS) == interface_errors()


def test_error_classes_are_exactly_the_abi_errors():
    abi = json.loads(INTERFACE_ABI.read_text())["abi"]
    assert set(E.ERRORS) == {item["name"] for item in abi if item["type"] == "error"}


def test_error_classes_are_written_out_under_their_own_names():
    for name, cls in E.ERRORS.items():
        assert getattr(E, name) is cls
        assert (cls.__module__, cls.__qualname__) == (E.__name__, name)
        assert issubclass(cls, E.ChannelError) and cls.__doc__


def test_offchain_refusals_are_not_contract_errors():
    names = interface_errors()
    for cls in (ThreadTxCountNotRaised, ReceiverBalanceLowered, E.OffchainRuleBroken):
        assert cls.__name__ not in names
        assert not issubclass(cls, tuple(E.ERRORS.values()))
