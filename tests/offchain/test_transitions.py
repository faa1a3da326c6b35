"""channel_manager.transitions: every helper raises txCount[0] by one; proposals and voids raise
txCount[1] by one, acknowledgements and payments keep it (docs/protocol.md §4)."""

from __future__ import annotations

import pytest

from channel_manager import transitions as T
from channel_manager.states import ChannelState

USER = "0x" + "11" * 20


@pytest.fixture
def acked() -> ChannelState:
    return ChannelState(USER, USER, wei_balances=(10, 20), token_balances=(30, 40), tx_count=(4, 2))


def test_propose_deposit_raises_both_counts(acked) -> None:
    new = T.propose_deposit(acked, user_wei=1, hub_token=2)
    assert new.tx_count == (5, 3)
    assert (new.pending_wei_updates, new.pending_token_updates) == ((0, 0, 1, 0), (2, 0, 0, 0))
    assert (new.wei_balances, new.token_balances) == (acked.wei_balances, acked.token_balances)


def test_propose_withdrawal_deducts_balances_and_raises_both_counts(acked) -> None:
    new = T.propose_withdrawal(acked, user_wei=5, hub_token=7, recipient="0x" + "22" * 20)
    assert new.tx_count == (5, 3)
    assert (new.wei_balances, new.token_balances) == ((10, 15), (23, 40))
    assert (new.pending_wei_updates, new.pending_token_updates) == ((0, 0, 0, 5), (0, 7, 0, 0))
    assert new.recipient == "0x" + "22" * 20


def test_acknowledge_applies_pending_and_keeps_onchain_count(acked) -> None:
    new = T.acknowledge(T.propose_deposit(acked, user_wei=1, hub_token=2))
    assert new.tx_count == (6, 3)
    assert (new.wei_balances, new.token_balances) == ((10, 21), (32, 40))
    assert not new.has_pending


def test_acknowledge_of_withdrawal_keeps_deducted_balances(acked) -> None:
    new = T.acknowledge(T.propose_withdrawal(acked, user_wei=5))
    assert (new.wei_balances, new.tx_count) == ((10, 15), (6, 3))


def test_void_pending_restores_withdrawal_and_raises_onchain_count(acked) -> None:
    new = T.void_pending(T.propose_withdrawal(acked, user_wei=5, timeout=100))
    assert new.tx_count == (6, 4)
    assert (new.wei_balances, new.timeout) == ((10, 20), 0)
    assert not new.has_pending


def test_pay_moves_value_and_keeps_onchain_count(acked) -> None:
    new = T.pay(acked, to_hub=True, wei=3, token=4)
    assert new.tx_count == (5, 2)
    assert (new.wei_balances, new.token_balances) == ((13, 17), (34, 36))


def test_swap_exchanges_both_assets(acked) -> None:
    new = T.swap(acked, user_sells_token=10, user_buys_wei=5)
    assert new.tx_count == (5, 2)
    assert (new.wei_balances, new.token_balances) == ((5, 25), (40, 30))


def test_pay_carries_pending_fields_unchanged(acked) -> None:
    proposal = T.propose_deposit(acked, user_wei=1)
    carried = T.pay(proposal, to_hub=True, wei=1)
    assert carried.pending_wei_updates == proposal.pending_wei_updates
    assert carried.tx_count == (6, 3)


def test_propose_refuses_while_pending(acked) -> None:
    with pytest.raises(ValueError):
        T.propose_deposit(T.propose_deposit(acked, user_wei=1), user_wei=1)


def test_pay_refuses_more_than_the_payer_holds(acked) -> None:
    with pytest.raises(ValueError):
        T.pay(acked, to_hub=True, wei=21)
