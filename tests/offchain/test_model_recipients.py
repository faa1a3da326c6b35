"""docs/protocol.md §5, §7: the contract itself is never a recipient (`InvalidRecipient`), for
authorized updates (whether or not they withdraw) and for `claim`, where zero is refused too.
The model checks it where the contract does. No chain."""

from __future__ import annotations

import pytest

from channel_manager import errors as E
from channel_manager import transitions
from channel_manager.aliases import ZERO_ADDRESS
from channel_manager.model import World
from tests.offchain.model_world import ALICE, BOB, CONTRACT, HUB, PERIOD, STRANGER, ModelWorld


@pytest.fixture
def world() -> ModelWorld:
    w = ModelWorld()
    w.fund(ALICE, user_wei=10, hub_wei=5)
    return w


def to_contract(w: ModelWorld, **withdrawal: int):
    """alice's next state naming the contract as recipient (a withdrawal, or none at all)."""
    prev = w.newest(ALICE)
    if withdrawal:
        return transitions.propose_withdrawal(prev, recipient=CONTRACT, **withdrawal)
    g, c = prev.tx_count
    return prev.evolve(recipient=CONTRACT, tx_count=(g + 1, c))


@pytest.mark.parametrize("withdrawal", [{"user_wei": 3}, {}], ids=["withdrawing", "no-withdrawal"])
def test_hub_authorized_update_reverts_when_recipient_is_the_contract(world, withdrawal):
    s = to_contract(world, **withdrawal)
    with pytest.raises(E.InvalidRecipient) as info:
        world.call("hub_authorized_update", HUB, s, world.sign(s, ALICE))
    assert info.value.revert_text() == f"InvalidRecipient: {CONTRACT.lower()}"


@pytest.mark.parametrize("withdrawal", [{"user_wei": 3}, {}], ids=["withdrawing", "no-withdrawal"])
def test_user_authorized_update_reverts_when_recipient_is_the_contract(world, withdrawal):
    s = to_contract(world, **withdrawal)
    with pytest.raises(E.InvalidRecipient):
        world.call("user_authorized_update", ALICE, s, world.sign(s, HUB), 0)


def test_invalid_recipient_comes_after_the_channel_checks_and_before_the_state_checks(world):
    """hub: NotHub, InvalidUser / WrongChannelStatus, then InvalidRecipient before StateExpired,
    StaleTxCount and the signature. user: NotUser, the channel, InvalidRecipient, then
    WrongDepositValue."""
    stale = world.newest(ALICE).evolve(recipient=CONTRACT, timeout=world.now)  # expired, stale
    with pytest.raises(E.NotHub):
        world.call("hub_authorized_update", ALICE, stale, b"")
    with pytest.raises(E.InvalidRecipient):
        world.call("hub_authorized_update", HUB, stale, b"")
    with pytest.raises(E.NotUser):
        world.call("user_authorized_update", STRANGER, stale, b"", 1)
    with pytest.raises(E.InvalidRecipient):
        world.call("user_authorized_update", ALICE, stale, b"", 1)  # wrong msg.value too
    world.call("start_exit", HUB, ALICE)
    with pytest.raises(E.WrongChannelStatus):
        world.call("hub_authorized_update", HUB, stale, b"")
    with pytest.raises(E.WrongChannelStatus):
        world.call("user_authorized_update", ALICE, stale, b"", 1)


def test_claim_reverts_when_recipient_is_zero_or_the_contract_even_without_credit(world):
    for to in (ZERO_ADDRESS, CONTRACT):
        with pytest.raises(E.InvalidRecipient) as info:
            world.call("claim", BOB, to)
        assert info.value.args == (to,)
    with pytest.raises(E.NothingToClaim):
        world.call("claim", BOB, BOB)


def test_claim_of_a_credit_refuses_the_contract_and_keeps_the_credit():
    w = ModelWorld()
    w.model.world = World(refuses_eth={ALICE})
    w.fund(ALICE, user_wei=10)
    w.call("start_exit", ALICE, ALICE)
    w.wait(PERIOD)
    w.call("empty_channel", STRANGER, ALICE)
    assert w.model.credit_wei[ALICE] == 10
    with pytest.raises(E.InvalidRecipient):
        w.call("claim", ALICE, CONTRACT)
    assert w.model.credit_wei[ALICE] == 10
    out = w.call("claim", ALICE, BOB)
    assert out.paid_wei == {BOB: 10} and ALICE not in w.model.credit_wei
    w.assert_solvent()
