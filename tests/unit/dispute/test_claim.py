"""claim(to) and the credits behind it — docs/protocol.md §7: a dispute payout that the user refuses (a
contract rejecting ETH, a token blacklisting the user) is credited and the dispute completes;
the user later claims its credits to any address. Credits are never hub reserve.

Credited channels are opened like the default one: user 1 ETH and 100 tokens, hub 50 tokens."""

import pytest
from brownie import RejectingRecipient

from channel_manager import transitions
from channel_manager.contract_views import ChannelStatus
from channel_manager.states import ChannelState
from tests.helpers import ETHER, TOKEN, event_args, reverts

USER_WEI, USER_TOKEN, HUB_TOKEN = ETHER, 100 * TOKEN, 50 * TOKEN


@pytest.fixture
def eth_credited(funded, contract_user, open_contract_channel, hub, alice):
    """A RejectingRecipient user whose 1 ETH payout was refused: credited 1 ETH (its tokens
    were paid)."""
    wallet = contract_user(RejectingRecipient)
    open_contract_channel(wallet)
    funded.startExit(wallet, {"from": hub})
    wallet.emptyChannel({"from": alice})  # the wallet concedes at once
    return wallet


@pytest.fixture
def both_credited(blacklist_env, contract_user, open_contract_channel, hub, alice):
    """On the blacklisting deployment: a RejectingRecipient user that the token also
    blacklists, credited 1 ETH and 100 BLT."""
    env = blacklist_env
    wallet = contract_user(
        RejectingRecipient, manager=env.manager, asset=env.token, signer=env.signer
    )
    open_contract_channel(wallet, signer=env.signer)
    env.token.setBlacklisted(wallet, True, {"from": alice})
    env.manager.startExit(wallet, {"from": hub})
    wallet.emptyChannel({"from": alice})
    return wallet


# ------------------------------------------------------------------------------------ state


def test_claim_state(blacklist_env, both_credited, read_globals, bob):
    manager, token = blacklist_env.manager, blacklist_env.token
    wallet = both_credited
    assert (manager.creditWei(wallet), manager.creditToken(wallet)) == (USER_WEI, USER_TOKEN)
    globals_before = read_globals(manager, token)
    bob_eth, bob_tokens = bob.balance(), token.balanceOf(bob)
    wallet_holdings = (wallet.balance(), token.balanceOf(wallet))

    tx = wallet.claim(bob, {"from": bob})

    assert (manager.creditWei(wallet), manager.creditToken(wallet)) == (0, 0)
    assert bob.balance() == bob_eth + USER_WEI - tx.gas_used * tx.gas_price
    assert token.balanceOf(bob) == bob_tokens + USER_TOKEN
    assert (wallet.balance(), token.balanceOf(wallet)) == wallet_holdings
    # the credit leaves the contract; totals and reserves do not move
    assert read_globals(manager, token) == {
        **globals_before,
        "contractWei": globals_before["contractWei"] - USER_WEI,
        "contractTokens": globals_before["contractTokens"] - USER_TOKEN,
    }
    assert event_args(tx, "DidClaim") == {
        "user": wallet.address,
        "to": bob.address,
        "weiAmount": USER_WEI,
        "tokenAmount": USER_TOKEN,
    }


def test_claim_of_eth_credit_only_moves_no_tokens(funded, token, eth_credited, read_globals, bob):
    wallet = eth_credited
    globals_before = read_globals()
    bob_tokens = token.balanceOf(bob)

    tx = wallet.claim(bob, {"from": bob})

    assert (funded.creditWei(wallet), funded.creditToken(wallet)) == (0, 0)
    assert token.balanceOf(bob) == bob_tokens
    assert "Transfer" not in tx.events
    assert read_globals() == {
        **globals_before,
        "contractWei": globals_before["contractWei"] - USER_WEI,
    }
    assert event_args(tx, "DidClaim") == {
        "user": wallet.address,
        "to": bob.address,
        "weiAmount": USER_WEI,
        "tokenAmount": 0,
    }


def test_claim_of_token_credit_to_self_after_unlisting(blacklist_env, read_globals, hub, alice):
    env = blacklist_env
    env.open(alice)
    env.token.setBlacklisted(alice, True, {"from": hub})
    env.manager.startExit(alice, {"from": hub})
    env.manager.emptyChannel(alice, {"from": alice})
    env.token.setBlacklisted(alice, False, {"from": hub})
    tokens_before = env.token.balanceOf(alice)

    tx = env.manager.claim(alice, {"from": alice})

    assert env.token.balanceOf(alice) == tokens_before + USER_TOKEN
    assert env.manager.creditToken(alice) == 0
    assert event_args(tx, "DidClaim") == {
        "user": alice.address,
        "to": alice.address,
        "weiAmount": 0,
        "tokenAmount": USER_TOKEN,
    }


# ------------------------------------------------------------------------------------ credits


def test_refused_eth_payout_is_credited(
    funded, token, contract_user, open_contract_channel, read_channel, read_globals, hub, alice
):
    wallet = contract_user(RejectingRecipient)
    open_contract_channel(wallet)
    funded.startExit(wallet, {"from": hub})
    globals_before = read_globals()
    wallet_tokens = token.balanceOf(wallet)

    tx = wallet.emptyChannel({"from": alice})

    # the dispute completed
    assert read_channel(wallet)["status"] == ChannelStatus.OPEN
    assert read_channel(wallet)["weiTotal"] == 0
    # the ETH stays in the contract as the wallet's credit; the tokens were paid
    assert (funded.creditWei(wallet), funded.creditToken(wallet)) == (USER_WEI, 0)
    assert wallet.balance() == 0
    assert token.balanceOf(wallet) == wallet_tokens + USER_TOKEN
    assert read_globals() == {
        "totalChannelWei": globals_before["totalChannelWei"] - USER_WEI,
        "totalChannelToken": globals_before["totalChannelToken"] - USER_TOKEN - HUB_TOKEN,
        # crediting does not touch the reserve: only the hub's own share returns to it
        "reserveWei": globals_before["reserveWei"],
        "reserveTokens": globals_before["reserveTokens"] + HUB_TOKEN,
        "contractWei": globals_before["contractWei"],
        "contractTokens": globals_before["contractTokens"] - USER_TOKEN,
    }
    assert event_args(tx, "DidCreditUser") == {
        "user": wallet.address,
        "weiAmount": USER_WEI,
        "tokenAmount": 0,
    }


def test_blacklisted_token_payout_is_credited(
    blacklist_env, read_channel, read_globals, hub, alice
):
    env = blacklist_env
    env.open(alice)
    env.token.setBlacklisted(alice, True, {"from": hub})
    env.manager.startExit(alice, {"from": hub})
    globals_before = read_globals(env.manager, env.token)
    alice_eth, alice_tokens = alice.balance(), env.token.balanceOf(alice)

    tx = env.manager.emptyChannel(alice, {"from": alice})

    assert read_channel(alice, env.manager)["status"] == ChannelStatus.OPEN
    assert (env.manager.creditWei(alice), env.manager.creditToken(alice)) == (0, USER_TOKEN)
    assert alice.balance() == alice_eth + USER_WEI - tx.gas_used * tx.gas_price
    assert env.token.balanceOf(alice) == alice_tokens
    assert read_globals(env.manager, env.token) == {
        "totalChannelWei": globals_before["totalChannelWei"] - USER_WEI,
        "totalChannelToken": globals_before["totalChannelToken"] - USER_TOKEN - HUB_TOKEN,
        "reserveWei": globals_before["reserveWei"],
        "reserveTokens": globals_before["reserveTokens"] + HUB_TOKEN,
        "contractWei": globals_before["contractWei"] - USER_WEI,
        "contractTokens": globals_before["contractTokens"],
    }
    assert event_args(tx, "DidCreditUser") == {
        "user": alice.address,
        "weiAmount": 0,
        "tokenAmount": USER_TOKEN,
    }


def test_credits_accumulate_over_disputes(funded, eth_credited, key_signer, hub, alice):
    wallet = eth_credited
    # a second deposit of 0.5 ETH on the emptied channel (stored txCount (1, 1))
    proposal = transitions.propose_deposit(
        ChannelState(wallet.address, wallet.address, tx_count=(1, 1)), user_wei=ETHER // 2
    )
    wallet.userAuthorizedUpdate(
        proposal.to_tuple(), key_signer.channel(proposal, hub), {"from": alice, "value": ETHER // 2}
    )
    funded.startExit(wallet, {"from": hub})

    tx = wallet.emptyChannel({"from": alice})

    assert funded.creditWei(wallet) == USER_WEI + ETHER // 2
    assert event_args(tx, "DidCreditUser") == {
        "user": wallet.address,
        "weiAmount": ETHER // 2,
        "tokenAmount": 0,
    }


def test_credits_are_not_reserve(funded, token, eth_credited, hub, bob):
    """The hub can withdraw its whole reserve and not one wei more: the credit stays claimable."""
    wallet = eth_credited
    reserve_wei, reserve_tokens = funded.getHubReserveWei(), funded.getHubReserveTokens()
    assert funded.balance() == reserve_wei + funded.totalChannelWei() + USER_WEI

    with reverts("InsufficientReserve", reserve_wei + 1, reserve_wei):
        funded.hubContractWithdraw(reserve_wei + 1, 0, {"from": hub})

    funded.hubContractWithdraw(reserve_wei, reserve_tokens, {"from": hub})
    assert funded.getHubReserveWei() == 0
    assert funded.balance() == funded.totalChannelWei() + USER_WEI
    bob_eth = bob.balance()

    wallet.claim(bob, {"from": hub})

    assert bob.balance() == bob_eth + USER_WEI
    assert funded.balance() == funded.totalChannelWei()


# ------------------------------------------------------------------------------------ reverts


def test_claim_reverts_when_nothing_to_claim(funded, alice):
    with reverts("NothingToClaim", alice):
        funded.claim(alice, {"from": alice})


def test_claim_reverts_when_already_claimed(funded, eth_credited, alice, bob):
    eth_credited.claim(bob, {"from": alice})

    with reverts("NothingToClaim", eth_credited):
        eth_credited.claim(bob, {"from": alice})


def test_claim_reverts_when_caller_claims_anothers_credit(funded, eth_credited, stranger):
    """Credits belong to the credited user: naming it as `to` gives a stranger nothing."""
    with reverts("NothingToClaim", stranger):
        funded.claim(eth_credited, {"from": stranger})

    with reverts("NothingToClaim", stranger):
        funded.claim(stranger, {"from": stranger})


def test_claim_reverts_when_recipient_rejects_eth_and_keeps_credit(
    funded, eth_credited, contract_user, read_globals, alice
):
    other = contract_user(RejectingRecipient)
    globals_before = read_globals()

    with reverts("TransferFailed", other):
        eth_credited.claim(other, {"from": alice})

    assert (funded.creditWei(eth_credited), funded.creditToken(eth_credited)) == (USER_WEI, 0)
    assert read_globals() == globals_before


def test_claim_reverts_when_claiming_to_the_rejecting_wallet_itself(funded, eth_credited, alice):
    with reverts("TransferFailed", eth_credited):
        eth_credited.claim(eth_credited, {"from": alice})

    assert funded.creditWei(eth_credited) == USER_WEI


def test_claim_reverts_when_recipient_is_blacklisted_and_keeps_both_credits(
    blacklist_env, both_credited, read_globals, alice, carol
):
    env = blacklist_env
    env.token.setBlacklisted(carol, True, {"from": alice})
    globals_before = read_globals(env.manager, env.token)
    carol_eth = carol.balance()

    with reverts("TransferFailed", carol):
        both_credited.claim(carol, {"from": alice})

    # the whole claim reverted: the ETH part was not paid either
    assert (env.manager.creditWei(both_credited), env.manager.creditToken(both_credited)) == (
        USER_WEI,
        USER_TOKEN,
    )
    assert carol.balance() == carol_eth
    assert read_globals(env.manager, env.token) == globals_before
