"""Property: a disputed thread's two-slot record (96-bit amounts packed beside the closing time,
the settled flags and the txCount) holds any storable thread exactly. Whatever the amounts (up
to 2^96 - 1 each), the receiver's share and the txCount (up to 2^64 - 1): getThread returns
the state stored by the dispute and by the challenge (a challenge that pays nothing more is
refused), and settling both sides pays each party
exactly its final balance and releases the whole thread from both channels."""

from __future__ import annotations

from brownie import web3
from brownie.test import given, strategy
from hypothesis import HealthCheck, example, settings

from channel_manager.contract_views import ChannelStatus, channel_balances, channel_details
from tests.fixtures.threads import ThreadWorld, stored_thread
from tests.helpers import reverts, set_next_timestamp

MAX_THREAD_AMOUNT = 2**96 - 1
GWEI = 10**9


@given(
    token_amount=strategy("uint256", min_value=1, max_value=MAX_THREAD_AMOUNT),
    wei_amount=strategy("uint256", min_value=0, max_value=2 * 10**18),
    token_share=strategy("uint256", min_value=0, max_value=10**6),
    wei_share=strategy("uint256", min_value=0, max_value=10**6),
    tx_count=strategy("uint256", min_value=1, max_value=2**64 - 1),
)
@example(
    token_amount=MAX_THREAD_AMOUNT, wei_amount=0, token_share=10**6, wei_share=0, tx_count=2**64 - 1
)
@example(
    token_amount=MAX_THREAD_AMOUNT, wei_amount=GWEI, token_share=1, wei_share=10**6 - 1, tx_count=1
)
@example(token_amount=1, wei_amount=2 * 10**18, token_share=0, wei_share=10**6, tx_count=2**32)
# Only the autouse isolation fixture is function-scoped; brownie's `given` reverts the chain
# between examples, so sharing it across examples is safe.
@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_thread_record_round_trips_and_settles_exactly(
    funded,
    token,
    signer,
    hub,
    alice,
    bob,
    token_amount,
    wei_amount,
    token_share,
    wei_share,
    tx_count,
):
    world = ThreadWorld(funded, token, signer, hub)
    token.mint(alice, token_amount, {"from": alice})
    token.mint(funded, token_amount, {"from": hub})  # the hub's collateral for bob's side
    world.open_channel(alice, user_wei=wei_amount, user_token=token_amount, hub_wei=0, hub_token=0)
    world.open_channel(bob, user_wei=0, user_token=0, hub_wei=wei_amount, hub_token=token_amount)
    initial = world.open_thread(alice, bob, 1, wei=wei_amount, token=token_amount)
    world.dispute(alice)
    world.dispute(bob)

    tx = world.exit_thread(alice, initial)
    closing = int(tx.events["DidStartExitThread"]["threadClosingTime"])
    assert world.thread(initial) == stored_thread((wei_amount, 0), (token_amount, 0), 0, closing)

    paid_wei = wei_amount * wei_share // 10**6
    paid_token = token_amount * token_share // 10**6
    final = initial.evolve(
        wei_balances=(wei_amount - paid_wei, paid_wei),
        token_balances=(token_amount - paid_token, paid_token),
        tx_count=tx_count,
    )
    if paid_wei == 0 and paid_token == 0:
        # Nothing paid: not newer than the record (receiver balances order thread states, §8).
        with reverts("ThreadStateNotNewer", 0, 0, 0, 0):
            world.challenge(final, bob)
        tx_count = 0
    else:
        world.challenge(final, bob)
    assert world.thread(initial) == {
        "weiBalances": list(final.wei_balances),
        "tokenBalances": list(final.token_balances),
        "txCount": tx_count,
        "threadClosingTime": closing,
        "emptied": [False, False],
    }

    eth_before = {u: web3.eth.get_balance(str(u)) for u in (alice, bob)}
    tokens_before = {u: int(token.balanceOf(u)) for u in (alice, bob)}
    set_next_timestamp(closing)
    sender_tx = world.empty(alice, initial)
    receiver_tx = world.empty(bob, initial)

    for user, tx, (wei, tok) in (
        (alice, sender_tx, (wei_amount - paid_wei, token_amount - paid_token)),
        (bob, receiver_tx, (paid_wei, paid_token)),
    ):
        fee = tx.gas_used * tx.gas_price
        assert web3.eth.get_balance(str(user)) - eth_before[user] == wei - fee
        assert int(token.balanceOf(user)) - tokens_before[user] == tok
        balances = channel_balances(funded, str(user))
        assert (balances.wei_total, balances.token_total) == (0, 0)  # the thread left both
        assert channel_details(funded, str(user)).status == ChannelStatus.OPEN
    assert world.thread(initial)["emptied"] == [True, True]
    assert world.thread(initial)["txCount"] == tx_count
