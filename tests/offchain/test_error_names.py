"""channel_manager.errors names exactly the contract's custom errors: the model's refusals and the
chain's reverts can only be compared if the two lists agree (read from the interface source, no
chain). The off-chain-only refusals are not among them."""

from __future__ import annotations

import re
from pathlib import Path

from channel_manager import errors as E
from channel_manager.rules import ReceiverBalanceLowered, ThreadTxCountNotRaised

INTERFACE = Path(__file__).resolve().parents[2] / "interfaces" / "IChannelManager.sol"


def interface_errors() -> set[str]:
    return set(re.findall(r"^\s*error\s+(\w+)\s*\(", INTERFACE.read_text(), flags=re.MULTILINE))


def test_error_classes_are_exactly_the_interface_errors():
    assert set(E.ERRORS) == interface_errors()


def test_offchain_refusals_are_not_contract_errors():
    names = interface_errors()
    for cls in (ThreadTxCountNotRaised, ReceiverBalanceLowered, E.OffchainRuleBroken):
        assert cls.__name__ not in names
        assert not issubclass(cls, tuple(E.ERRORS.values()))
