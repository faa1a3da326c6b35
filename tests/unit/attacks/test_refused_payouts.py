"""A dispute is never blocked by its own payout (docs/protocol.md §7, §10.5): a user contract that
rejects ETH, burns all the gas it is given or answers with a return bomb, and a token that
blacklists the user, all end with the dispute completed and the refused amount credited —
with a transaction gas limit of 1,000,000.

Channels are opened like the default one: user 1 ETH / 100 tokens, hub 50 tokens."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, GasBurningRecipient, RejectingRecipient, ReturnBombRecipient, web3

from channel_manager import transitions
from channel_manager.contract_views import ChannelStatus
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, event_args, set_next_timestamp

GAS_LIMIT = 1_000_000
HOSTILE = {
    "rejects_eth": RejectingRecipient,
    "burns_gas": GasBurningRecipient,
    "return_bomb": ReturnBombRecipient,
}


def _empty(manager, wallet, acknowledged, path, key_signer, hub, stranger, alice):
    """Runs a dispute on `wallet`'s channel to its end along `path`; returns the emptying tx and
    what the user is owed in it (wei, tokens)."""
    if path == "empty_channel_after_window":
        closing = manager.startExit(wallet, {"from": hub}).timestamp + CHALLENGE_PERIOD
        set_next_timestamp(closing)
        return manager.emptyChannel(wallet, {"from": stranger, "gas_limit": GAS_LIMIT}), (
            ETHER,
            100 * TOKEN,
        )
    if path == "empty_channel_by_hub_conceding":
        wallet.startExit({"from": alice})
        return manager.emptyChannel(wallet, {"from": hub, "gas_limit": GAS_LIMIT}), (
            ETHER,
            100 * TOKEN,
        )
    # the wallet exits on the stored state; the hub answers with the newer one (hub paid 10 TST)
    wallet.startExit({"from": alice})
    newer = transitions.pay(acknowledged, to_hub=False, token=10 * TOKEN)
    tx = manager.emptyChannelWithChallenge(
        newer.to_tuple(), *key_signer.both(newer, hub), {"from": hub, "gas_limit": GAS_LIMIT}
    )
    return tx, (ETHER, 110 * TOKEN)


PATHS = [
    "empty_channel_after_window",
    "empty_channel_by_hub_conceding",
    "empty_channel_with_challenge",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_dispute_completes_and_credits_when_user_refuses_eth(
    funded,
    token,
    contract_user,
    open_contract_channel,
    key_signer,
    read_channel,
    read_globals,
    hub,
    alice,
    stranger,
    kind,
    path,
):
    wallet = contract_user(HOSTILE[kind])
    acknowledged = open_contract_channel(wallet)
    wallet_tokens = token.balanceOf(wallet)
    globals_before = read_globals()

    tx, (owed_wei, owed_tokens) = _empty(
        funded, wallet, acknowledged, path, key_signer, hub, stranger, alice
    )

    assert tx.status == 1 and tx.gas_used < GAS_LIMIT
    channel = read_channel(wallet)
    assert (channel["status"], channel["weiTotal"], channel["tokenTotal"]) == (
        ChannelStatus.OPEN,
        0,
        0,
    )
    assert channel["exitInitiator"] == ZERO_ADDRESS
    # ETH refused → credited; the standard token cannot refuse → paid
    assert (funded.creditWei(wallet), funded.creditToken(wallet)) == (owed_wei, 0)
    assert wallet.balance() == 0
    assert token.balanceOf(wallet) == wallet_tokens + owed_tokens
    assert event_args(tx, "DidCreditUser") == {
        "user": wallet.address,
        "weiAmount": owed_wei,
        "tokenAmount": 0,
    }
    hub_tokens = 150 * TOKEN - owed_tokens
    assert read_globals() == {
        "totalChannelWei": globals_before["totalChannelWei"] - ETHER,
        "totalChannelToken": globals_before["totalChannelToken"] - 150 * TOKEN,
        "reserveWei": globals_before["reserveWei"],
        "reserveTokens": globals_before["reserveTokens"] + hub_tokens,
        "contractWei": globals_before["contractWei"],
        "contractTokens": globals_before["contractTokens"] - owed_tokens,
    }


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_refusing_user_claims_its_credit_elsewhere(
    funded, contract_user, open_contract_channel, hub, alice, bob, kind
):
    wallet = contract_user(HOSTILE[kind])
    open_contract_channel(wallet)
    funded.startExit(wallet, {"from": hub})
    wallet.emptyChannel({"from": alice, "gas_limit": GAS_LIMIT})
    bob_eth = bob.balance()

    wallet.claim(bob, {"from": alice})

    assert bob.balance() == bob_eth + ETHER
    assert funded.creditWei(wallet) == 0


def test_dispute_completes_and_credits_when_token_blacklists_user(
    blacklist_env, read_channel, read_globals, hub, alice, stranger
):
    env = blacklist_env
    env.open(alice)
    env.token.setBlacklisted(alice, True, {"from": hub})
    closing = env.manager.startExit(alice, {"from": hub}).timestamp + CHALLENGE_PERIOD
    globals_before = read_globals(env.manager, env.token)
    alice_eth = alice.balance()
    set_next_timestamp(closing)

    tx = env.manager.emptyChannel(alice, {"from": stranger, "gas_limit": GAS_LIMIT})

    assert tx.status == 1
    assert read_channel(alice, env.manager)["status"] == ChannelStatus.OPEN
    assert (env.manager.creditWei(alice), env.manager.creditToken(alice)) == (0, 100 * TOKEN)
    assert alice.balance() == alice_eth + ETHER
    assert event_args(tx, "DidCreditUser") == {
        "user": alice.address,
        "weiAmount": 0,
        "tokenAmount": 100 * TOKEN,
    }
    globals_after = read_globals(env.manager, env.token)
    assert globals_after["reserveTokens"] == globals_before["reserveTokens"] + 50 * TOKEN
    assert globals_after["contractTokens"] == globals_before["contractTokens"]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_dispute_completes_when_both_payouts_refused(
    blacklist_env, contract_user, open_contract_channel, read_channel, hub, alice, stranger, kind
):
    """Worst case: both payouts fail (hostile ETH recipient, blacklisted by the token) and the
    transaction still fits in 1,000,000 gas."""
    env = blacklist_env
    wallet = contract_user(HOSTILE[kind], manager=env.manager, asset=env.token, signer=env.signer)
    open_contract_channel(wallet, signer=env.signer)
    env.token.setBlacklisted(wallet, True, {"from": alice})
    closing = env.manager.startExit(wallet, {"from": hub}).timestamp + CHALLENGE_PERIOD
    set_next_timestamp(closing)

    tx = env.manager.emptyChannel(wallet, {"from": stranger, "gas_limit": GAS_LIMIT})

    assert tx.status == 1 and tx.gas_used < GAS_LIMIT
    assert read_channel(wallet, env.manager)["status"] == ChannelStatus.OPEN
    assert (env.manager.creditWei(wallet), env.manager.creditToken(wallet)) == (ETHER, 100 * TOKEN)
    assert event_args(tx, "DidCreditUser") == {
        "user": wallet.address,
        "weiAmount": ETHER,
        "tokenAmount": 100 * TOKEN,
    }


# ------------------------------------------------------------------------------------ the helpers


def test_hostile_recipients_are_really_hostile(contract_user, alice):
    """The helpers do what their names say, so the tests above are not vacuous."""
    rejecting = contract_user(RejectingRecipient)
    burner = contract_user(GasBurningRecipient)
    bomb = contract_user(ReturnBombRecipient)

    with brownie.reverts("EthRejected: 1"):
        alice.transfer(rejecting, 1, gas_limit=100_000)
    # a gas burner takes everything it is given
    with brownie.reverts():
        alice.transfer(burner, 1, gas_limit=500_000)
    assert brownie.history[-1].gas_used == 500_000
    # a return bomb given 5,000,000 gas answers with more than 1 MB of revert data
    response = web3.provider.make_request(
        "eth_call",
        [
            {"from": alice.address, "to": bomb.address, "value": hex(1), "gas": hex(5_000_000)},
            "latest",
        ],
    )
    data = response["error"]["data"]
    assert (len(data) - 2) // 2 > 1_000_000
