"""channel_manager.rules.validate_channel_update: each broken rule is refused with its named
exception; the transition helpers' outputs are accepted."""

from __future__ import annotations

import pytest

from channel_manager import errors as E
from channel_manager import transitions as T
from channel_manager.rules import BalancesNotConserved, PendingChanged, validate_channel_update
from channel_manager.states import ChannelState

USER = "0x" + "11" * 20


@pytest.fixture
def acked() -> ChannelState:
    return ChannelState(USER, USER, wei_balances=(10, 20), token_balances=(30, 40), tx_count=(4, 2))


# ---------------------------------------------------------------- accepted


def test_accepts_first_deposit_proposal() -> None:
    validate_channel_update(
        None, T.propose_deposit(ChannelState(USER, USER), user_wei=5, hub_token=3)
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda s: T.pay(s, to_hub=True, wei=3),
        lambda s: T.swap(s, user_sells_token=10, user_buys_wei=5),
        lambda s: T.propose_deposit(s, user_wei=1, hub_wei=2),
        lambda s: T.propose_withdrawal(s, user_wei=5, hub_token=7),
    ],
    ids=["pay", "swap", "propose_deposit", "propose_withdrawal"],
)
def test_accepts_helper_outputs(acked, make) -> None:
    validate_channel_update(acked, make(acked))


def test_accepts_acknowledgement_of_executed_pending(acked) -> None:
    proposal = T.propose_deposit(acked, user_wei=1, hub_wei=2)
    validate_channel_update(proposal, T.acknowledge(proposal), pending_executed=True)


def test_accepts_void_of_expired_pending(acked) -> None:
    proposal = T.propose_withdrawal(acked, user_wei=5, timeout=100)
    validate_channel_update(proposal, T.void_pending(proposal), pending_executed=False)


def test_accepts_payment_carrying_pending(acked) -> None:
    proposal = T.propose_deposit(acked, user_wei=1)
    validate_channel_update(proposal, T.pay(proposal, to_hub=True, wei=1))


# ---------------------------------------------------------------- refused


def test_refuses_balances_not_conserved(acked) -> None:
    with pytest.raises(BalancesNotConserved):
        validate_channel_update(acked, acked.evolve(wei_balances=(10, 21), tx_count=(5, 2)))


def test_refuses_token_balances_not_conserved(acked) -> None:
    with pytest.raises(BalancesNotConserved):
        validate_channel_update(acked, acked.evolve(token_balances=(29, 40), tx_count=(5, 2)))


@pytest.mark.parametrize("nonce", [4, 3], ids=["equal", "lower"])
def test_refuses_nonce_not_higher(acked, nonce) -> None:
    with pytest.raises(E.StaleTxCount) as info:
        validate_channel_update(acked, acked.evolve(tx_count=(nonce, 2)))
    assert info.value.args == (nonce, 4)


def test_refuses_onchain_count_lowered(acked) -> None:
    with pytest.raises(E.StaleOnchainTxCount) as info:
        validate_channel_update(acked, acked.evolve(tx_count=(5, 1)))
    assert info.value.args == (1, 2)


def test_refuses_pending_changed_while_pending(acked) -> None:
    proposal = T.propose_deposit(acked, user_wei=1)
    changed = proposal.evolve(pending_wei_updates=(0, 0, 2, 0), tx_count=(6, 3))
    with pytest.raises(PendingChanged):
        validate_channel_update(proposal, changed)


def test_refuses_pending_introduced_without_onchain_bump(acked) -> None:
    proposal = T.propose_deposit(acked, user_wei=1).evolve(tx_count=(5, 2))
    with pytest.raises(PendingChanged):
        validate_channel_update(acked, proposal)


def test_refuses_carried_pending_with_onchain_bump(acked) -> None:
    proposal = T.propose_deposit(acked, user_wei=1)
    with pytest.raises(PendingChanged):
        validate_channel_update(proposal, proposal.evolve(tx_count=(6, 4)))


@pytest.mark.parametrize("now_offset", [0, 1], ids=["at_timeout", "after_timeout"])
def test_refuses_expired_timeout(acked, now_offset) -> None:
    proposal = T.propose_deposit(acked, user_wei=1, timeout=1_000)
    with pytest.raises(E.StateExpired) as info:
        validate_channel_update(acked, proposal, now=1_000 + now_offset)
    assert info.value.args == (1_000, 1_000 + now_offset)


def test_accepts_timeout_one_second_ahead(acked) -> None:
    validate_channel_update(acked, T.propose_deposit(acked, user_wei=1, timeout=1_000), now=999)


@pytest.mark.parametrize(
    "changes,value",
    [
        ({"wei_balances": (2**128, 0)}, 2**128),
        ({"pending_token_updates": (0, 0, 2**128, 0)}, 2**128),
        ({"tx_count": (2**64, 2)}, 2**64),
        ({"thread_count": 2**32, "thread_root": b"\x01" * 32}, 2**32),
    ],
    ids=["amount", "pending", "tx_count", "thread_count"],
)
def test_refuses_value_too_large(acked, changes, value) -> None:
    with pytest.raises(E.ValueTooLarge) as info:
        validate_channel_update(acked, acked.evolve(**changes))
    assert info.value.args == (value,)


def test_refuses_acknowledgement_with_onchain_bump(acked) -> None:
    proposal = T.propose_deposit(acked, user_wei=1)
    ack = T.acknowledge(proposal).evolve(tx_count=(6, 4))
    with pytest.raises(PendingChanged):
        validate_channel_update(proposal, ack, pending_executed=True)
