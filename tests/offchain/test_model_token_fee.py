"""docs/protocol.md §5: a token deposit must deliver exactly what the state asks
(`TokenTransferShortfall(amount, received)`); a fee-on-transfer token keeps back at most the
amount it moves. The model, told the token's fee, refuses as the contract does. No chain."""

from __future__ import annotations

import pytest

from channel_manager import errors as E
from channel_manager import transitions
from tests.offchain.model_world import ALICE, HUB, ModelWorld


def token_deposit(fee: int, amount: int):
    w = ModelWorld()
    w.model.world.token_fee = fee
    proposal = transitions.propose_deposit(w.newest(ALICE), user_token=amount)
    return w, lambda: w.call("user_authorized_update", ALICE, proposal, w.sign(proposal, HUB), 0)


@pytest.mark.parametrize(
    "fee,amount,received",
    [(1, 5, 4), (5, 5, 0), (10, 3, 0)],
    ids=["one-unit", "fee-equals-amount", "fee-above-amount"],
)
def test_short_token_pull_is_refused_with_what_arrived(fee, amount, received):
    _, deposit = token_deposit(fee, amount)
    with pytest.raises(E.TokenTransferShortfall) as info:
        deposit()
    assert info.value.revert_text() == f"TokenTransferShortfall: {amount}, {received}"


def test_token_without_fee_is_accepted():
    w, deposit = token_deposit(0, 5)
    deposit()
    assert w.model.channels[ALICE].token_user == 5
