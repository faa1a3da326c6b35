"""hubContractWithdraw (docs/protocol.md §2 reserve, §5): the hub takes ETH and tokens out of its reserve,
which is the contract balance minus channel totals minus unclaimed credits."""

from __future__ import annotations

import pytest
from brownie import accounts, web3

from tests.helpers import ETHER, TOKEN, fee_of, reverts


def test_hubContractWithdraw_state(funded, token, hub, alice, open_channel, observe):
    open_channel(
        alice, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=2 * ETHER, hub_token=50 * TOKEN
    )
    before = observe(funded, token, alice, hub)

    tx = funded.hubContractWithdraw(30 * ETHER, 4_000 * TOKEN, {"from": hub})

    after = observe(funded, token, alice, hub)
    assert (
        after.balances
        == before.balances
        == (2 * ETHER, ETHER, 3 * ETHER, 50 * TOKEN, 100 * TOKEN, 150 * TOKEN)
    )
    assert after.details == before.details
    assert (
        (after.total_wei, after.total_token)
        == (before.total_wei, before.total_token)
        == (3 * ETHER, 150 * TOKEN)
    )
    assert after.reserve_wei == before.reserve_wei - 30 * ETHER == 68 * ETHER
    assert after.reserve_token == before.reserve_token - 4_000 * TOKEN == 5_950 * TOKEN
    assert after.eth[str(funded)] == before.eth[str(funded)] - 30 * ETHER
    assert after.tokens[str(funded)] == before.tokens[str(funded)] - 4_000 * TOKEN
    assert after.eth[str(hub)] == before.eth[str(hub)] + 30 * ETHER - fee_of(tx)
    assert after.tokens[str(hub)] == before.tokens[str(hub)] + 4_000 * TOKEN
    assert tx.events["DidHubContractWithdraw"] == {
        "weiAmount": 30 * ETHER,
        "tokenAmount": 4_000 * TOKEN,
    }


def test_hubContractWithdraw_reserve_is_balance_minus_channel_totals(
    funded, token, alice, open_channel
):
    """A user deposit raises balance and total alike; a hub deposit moves reserve into the channel."""
    open_channel(
        alice, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=2 * ETHER, hub_token=50 * TOKEN
    )

    assert (
        funded.getHubReserveWei()
        == web3.eth.get_balance(funded.address) - funded.totalChannelWei()
        == 98 * ETHER
    )
    assert (
        funded.getHubReserveTokens()
        == token.balanceOf(funded) - funded.totalChannelToken()
        == 9_950 * TOKEN
    )


def test_hubContractWithdraw_accepts_the_whole_reserve(funded, token, hub, alice, open_channel):
    open_channel(
        alice, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=2 * ETHER, hub_token=50 * TOKEN
    )

    funded.hubContractWithdraw(98 * ETHER, 9_950 * TOKEN, {"from": hub})

    assert (funded.getHubReserveWei(), funded.getHubReserveTokens()) == (0, 0)
    assert web3.eth.get_balance(funded.address) == funded.totalChannelWei() == 3 * ETHER
    assert token.balanceOf(funded) == funded.totalChannelToken() == 150 * TOKEN


def test_hubContractWithdraw_of_nothing_only_logs(funded, token, hub, observe):
    before = observe(funded, token, hub, hub)

    tx = funded.hubContractWithdraw(0, 0, {"from": hub})

    after = observe(funded, token, hub, hub)
    assert after.tokens == before.tokens
    assert after.eth[str(funded)] == before.eth[str(funded)]
    assert tx.events["DidHubContractWithdraw"] == {"weiAmount": 0, "tokenAmount": 0}


def test_hubContractWithdraw_reserve_excludes_credits(
    funded, token, hub, bob, rejecting_wallet, signer, new_state
):
    """A refused dispute payout is credited to the user (docs/protocol.md §7); credits are never reserve."""
    deposit = new_state(rejecting_wallet, pending_wei_updates=(0, 0, ETHER, 0), tx_count=(1, 1))
    funded.hubAuthorizedUpdate(deposit.to_tuple(), signer.channel(deposit, bob), {"from": hub})
    rejecting_wallet.execute(
        funded, 0, funded.startExit.encode_input(rejecting_wallet), {"from": bob}
    )
    funded.emptyChannel(rejecting_wallet, {"from": hub})
    assert funded.creditWei(rejecting_wallet) == ETHER
    assert funded.totalChannelWei() == 0

    reserve = funded.getHubReserveWei()

    assert reserve == web3.eth.get_balance(funded.address) - ETHER == 99 * ETHER
    with reverts("InsufficientReserve", reserve + 1, reserve):
        funded.hubContractWithdraw(reserve + 1, 0, {"from": hub})


@pytest.mark.parametrize("caller_index", [1, 9], ids=["user", "stranger"])
def test_hubContractWithdraw_reverts_when_caller_is_not_hub(funded, caller_index):
    caller = accounts[caller_index]
    with reverts("NotHub", caller):
        funded.hubContractWithdraw(1, 0, {"from": caller})


def test_hubContractWithdraw_reverts_when_eth_exceeds_reserve(funded, hub, alice, open_channel):
    open_channel(
        alice, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=2 * ETHER, hub_token=50 * TOKEN
    )

    with reverts("InsufficientReserve", 98 * ETHER + 1, 98 * ETHER):
        funded.hubContractWithdraw(98 * ETHER + 1, 0, {"from": hub})


def test_hubContractWithdraw_reverts_when_tokens_exceed_reserve(funded, hub, alice, open_channel):
    open_channel(
        alice, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=2 * ETHER, hub_token=50 * TOKEN
    )

    with reverts("InsufficientReserve", 9_950 * TOKEN + 1, 9_950 * TOKEN):
        funded.hubContractWithdraw(0, 9_950 * TOKEN + 1, {"from": hub})


def test_hubContractWithdraw_reverts_when_reserve_is_empty(empty_manager, hub):
    with reverts("InsufficientReserve", 1, 0):
        empty_manager.hubContractWithdraw(1, 0, {"from": hub})


def test_hubContractWithdraw_reverts_when_user_deposits_are_all_there_is(
    empty_manager, token, hub, alice, empty_signer, new_state
):
    """The contract holds only alice's deposit: the hub may take none of it."""
    token.mint(alice, 100 * TOKEN, {"from": alice})
    token.approve(empty_manager, 100 * TOKEN, {"from": alice})
    proposal = new_state(
        alice,
        pending_wei_updates=(0, 0, ETHER, 0),
        pending_token_updates=(0, 0, 100 * TOKEN, 0),
        tx_count=(1, 1),
    )
    manager = empty_manager
    manager.userAuthorizedUpdate(
        proposal.to_tuple(), empty_signer.channel(proposal, hub), {"from": alice, "value": ETHER}
    )
    assert (manager.totalChannelWei(), manager.totalChannelToken()) == (ETHER, 100 * TOKEN)

    with reverts("InsufficientReserve", 1, 0):
        manager.hubContractWithdraw(1, 0, {"from": hub})
    with reverts("InsufficientReserve", 1, 0):
        manager.hubContractWithdraw(0, 1, {"from": hub})


def test_receive_adds_sent_eth_to_reserve(empty_manager, hub, stranger):
    manager = empty_manager
    stranger.transfer(manager, 3 * ETHER)

    assert manager.getHubReserveWei() == 3 * ETHER
    assert manager.totalChannelWei() == 0
    manager.hubContractWithdraw(3 * ETHER, 0, {"from": hub})
    assert web3.eth.get_balance(manager.address) == 0


def test_tokens_sent_directly_become_reserve(empty_manager, token, hub, stranger):
    manager = empty_manager
    hub_before = token.balanceOf(hub)
    token.mint(stranger, 7 * TOKEN, {"from": stranger})
    token.transfer(manager, 7 * TOKEN, {"from": stranger})

    assert manager.getHubReserveTokens() == 7 * TOKEN
    manager.hubContractWithdraw(0, 7 * TOKEN, {"from": hub})
    assert token.balanceOf(hub) == hub_before + 7 * TOKEN
    assert manager.getHubReserveTokens() == 0


def test_hubContractWithdraw_pays_a_token_that_returns_nothing(no_return_env, hub):
    manager, token = no_return_env.manager, no_return_env.token
    hub_before = token.balanceOf(hub)

    manager.hubContractWithdraw(0, 600 * TOKEN, {"from": hub})

    assert token.balanceOf(hub) == hub_before + 600 * TOKEN
    assert manager.getHubReserveTokens() == 9_400 * TOKEN
