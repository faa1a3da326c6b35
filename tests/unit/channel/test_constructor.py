"""constructor (docs/protocol.md §2): hub non-zero, token with code, 1 ≤ challengePeriod ≤ 365 days,
otherwise InvalidConfiguration; immutables and the EIP-5267 domain."""

from __future__ import annotations

import pytest
from brownie import ChannelManager, chain

from tests.helpers import CHALLENGE_PERIOD, ZERO_ADDRESS, reverts

YEAR = 365 * 24 * 3600


def test_constructor_state(hub, token):
    manager = ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub})

    assert manager.hub() == hub
    assert manager.challengePeriod() == CHALLENGE_PERIOD
    assert manager.approvedToken() == token
    assert (manager.totalChannelWei(), manager.totalChannelToken()) == (0, 0)
    assert (manager.getHubReserveWei(), manager.getHubReserveTokens()) == (0, 0)


def test_constructor_exposes_eip712_domain(hub, token):
    manager = ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub})

    fields, name, version, chain_id, verifying_contract, salt, extensions = manager.eip712Domain()

    assert bytes(fields) == b"\x0f"  # name, version, chainId, verifyingContract
    assert (name, version) == ("ChannelManager", "1")
    assert chain_id == chain.id
    assert verifying_contract == manager.address
    assert bytes(salt) == bytes(32)
    assert list(extensions) == []


@pytest.mark.parametrize("period", [1, YEAR], ids=["one_second", "365_days"])
def test_constructor_accepts_challenge_period_bounds(hub, token, period):
    manager = ChannelManager.deploy(hub, period, token, {"from": hub})
    assert manager.challengePeriod() == period


def test_constructor_reverts_when_hub_is_zero(hub, token):
    with reverts("InvalidConfiguration", ZERO_ADDRESS, CHALLENGE_PERIOD, token):
        ChannelManager.deploy(ZERO_ADDRESS, CHALLENGE_PERIOD, token, {"from": hub})


@pytest.mark.parametrize("period", [0, YEAR + 1], ids=["zero", "365_days_plus_one_second"])
def test_constructor_reverts_when_challenge_period_out_of_range(hub, token, period):
    with reverts("InvalidConfiguration", hub, period, token):
        ChannelManager.deploy(hub, period, token, {"from": hub})


@pytest.mark.parametrize("which", ["eoa", "zero"])
def test_constructor_reverts_when_token_has_no_code(hub, stranger, which):
    no_code = {"eoa": str(stranger), "zero": ZERO_ADDRESS}[which]
    with reverts("InvalidConfiguration", hub, CHALLENGE_PERIOD, no_code):
        ChannelManager.deploy(hub, CHALLENGE_PERIOD, no_code, {"from": hub})
