"""emptyChannel(user) — docs/protocol.md §6: empties a disputed channel on its stored state. Before the
closing time only the party that did not start the dispute may (ChallengeWindowOpen for the
initiator and for anyone else); from the closing time on, anyone may.

Tests open alice's channel with ETH hub 0.5 / user 1 (total 1.5) and TST hub 50 / user 100
(total 150), stored txCount (1, 1)."""

import brownie
import pytest

from channel_manager.contract_views import ChannelStatus
from tests.fixtures.channels import (
    SOME_ROOT,
    assert_globals_moved,
    stored_channel,
    stored_in_thread_dispute,
)
from tests.helpers import (
    CHALLENGE_PERIOD,
    ETHER,
    TOKEN,
    ZERO_ROOT,
    event_args,
    reverts,
    set_next_timestamp,
)

WEI_HUB, WEI_USER = ETHER // 2, ETHER
TOKEN_HUB, TOKEN_USER = 50 * TOKEN, 100 * TOKEN


@pytest.fixture
def dispute(funded, open_channel, hub, alice):
    """Opens alice's channel and starts a dispute by `initiator`; returns the closing time."""

    def start(initiator="hub"):
        open_channel(
            alice, user_wei=WEI_USER, user_token=TOKEN_USER, hub_wei=WEI_HUB, hub_token=TOKEN_HUB
        )
        tx = funded.startExit(alice, {"from": hub if initiator == "hub" else alice})
        return tx.timestamp + CHALLENGE_PERIOD

    return start


# (who empties, seconds after the closing time or None for "at once"), for a hub-started dispute
WHO_AND_WHEN = [
    ("user", None),  # the non-initiator concedes at once
    ("user", -1),  # … up to the last second of the window
    ("stranger", 0),  # anyone from the closing time on
    ("hub", 0),  # including the initiator
    ("stranger", 1),
    ("hub", CHALLENGE_PERIOD * 20),  # and long after
]


@pytest.mark.parametrize(
    "who,offset",
    WHO_AND_WHEN,
    ids=[
        "non_initiator_at_once",
        "non_initiator_closing_minus_1",
        "stranger_at_closing",
        "initiator_at_closing",
        "stranger_closing_plus_1",
        "initiator_much_later",
    ],
)
def test_emptyChannel_state(
    funded, token, dispute, read_channel, read_globals, hub, alice, stranger, who, offset
):
    closing = dispute("hub")
    caller = {"user": alice, "stranger": stranger, "hub": hub}[who]
    globals_before = read_globals()
    eth_before = {a: a.balance() for a in (hub, alice, stranger)}
    tokens_before = {a: token.balanceOf(a) for a in (hub, alice, stranger)}
    if offset is not None:
        set_next_timestamp(closing + offset)

    tx = funded.emptyChannel(alice, {"from": caller})

    if offset is not None:
        assert tx.timestamp == closing + offset
    assert read_channel(alice) == stored_channel(txCountGlobal=1, txCountChain=1)
    assert read_globals() == {
        "totalChannelWei": globals_before["totalChannelWei"] - WEI_HUB - WEI_USER,
        "totalChannelToken": globals_before["totalChannelToken"] - TOKEN_HUB - TOKEN_USER,
        "reserveWei": globals_before["reserveWei"] + WEI_HUB,
        "reserveTokens": globals_before["reserveTokens"] + TOKEN_HUB,
        "contractWei": globals_before["contractWei"] - WEI_USER,
        "contractTokens": globals_before["contractTokens"] - TOKEN_USER,
    }
    gas = {a: tx.gas_used * tx.gas_price if a == caller else 0 for a in (hub, alice, stranger)}
    assert {a: a.balance() for a in (hub, alice, stranger)} == {
        hub: eth_before[hub] - gas[hub],
        alice: eth_before[alice] + WEI_USER - gas[alice],
        stranger: eth_before[stranger] - gas[stranger],
    }
    assert {a: token.balanceOf(a) for a in (hub, alice, stranger)} == {
        hub: tokens_before[hub],
        alice: tokens_before[alice] + TOKEN_USER,
        stranger: tokens_before[stranger],
    }
    assert "DidCreditUser" not in tx.events
    assert event_args(tx, "DidEmptyChannel") == {
        "user": alice.address,
        "caller": caller.address,
        "weiBalances": (WEI_HUB, WEI_USER),
        "tokenBalances": (TOKEN_HUB, TOKEN_USER),
        "txCount": (1, 1),
        "threadRoot": ZERO_ROOT,
        "threadCount": 0,
    }


def test_emptyChannel_by_hub_before_closing_when_user_started(
    funded, dispute, read_channel, hub, alice
):
    closing = dispute("user")
    set_next_timestamp(closing - 1)

    tx = funded.emptyChannel(alice, {"from": hub})

    assert tx.timestamp == closing - 1
    assert read_channel(alice)["status"] == ChannelStatus.OPEN
    assert event_args(tx, "DidEmptyChannel")["caller"] == hub.address


def test_emptyChannel_with_threads_enters_thread_dispute(
    funded, open_channel, new_state, sign_both, read_channel, read_globals, hub, alice, stranger
):
    open_channel(
        alice, user_wei=WEI_USER, user_token=TOKEN_USER, hub_wei=WEI_HUB, hub_token=TOKEN_HUB
    )
    # 0.5 ETH and 30 TST locked in one thread
    state = new_state(
        alice,
        wei_balances=(ETHER // 4, 3 * ETHER // 4),
        token_balances=(20 * TOKEN, 100 * TOKEN),
        tx_count=(2, 1),
        thread_root=SOME_ROOT,
        thread_count=1,
    )
    closing = (
        funded.startExitWithUpdate(state.to_tuple(), *sign_both(state), {"from": hub}).timestamp
        + CHALLENGE_PERIOD
    )
    globals_before = read_globals()
    set_next_timestamp(closing)

    tx = funded.emptyChannel(alice, {"from": stranger})

    assert read_channel(alice) == stored_in_thread_dispute(
        weiTotal=ETHER // 2, tokenTotal=30 * TOKEN, txCountGlobal=2, channelClosingTime=closing
    )
    assert_globals_moved(
        globals_before,
        read_globals(),
        totalChannelWei=-ETHER,
        totalChannelToken=-120 * TOKEN,
        reserveWei=ETHER // 4,
        reserveTokens=20 * TOKEN,
    )
    event = event_args(tx, "DidEmptyChannel")
    assert (event["threadRoot"], event["threadCount"], event["txCount"]) == (SOME_ROOT, 1, (2, 1))


# ------------------------------------------------------------------------------------ reverts


@pytest.mark.parametrize("who", ["initiator", "stranger"])
@pytest.mark.parametrize("initiator", ["hub", "user"])
def test_emptyChannel_reverts_when_window_open_at_closing_minus_1(
    funded, dispute, read_channel, hub, alice, stranger, initiator, who
):
    closing = dispute(initiator)
    caller = stranger if who == "stranger" else (hub if initiator == "hub" else alice)
    set_next_timestamp(closing - 1)

    with reverts("ChallengeWindowOpen", closing, closing - 1):
        funded.emptyChannel(alice, {"from": caller})

    assert brownie.history[-1].timestamp == closing - 1
    assert read_channel(alice)["status"] == ChannelStatus.CHANNEL_DISPUTE


@pytest.mark.parametrize("who", ["initiator", "stranger", "other_user"])
def test_emptyChannel_reverts_when_window_open_right_after_start(
    funded, dispute, hub, alice, bob, stranger, who
):
    closing = dispute("hub")
    caller = {"initiator": hub, "stranger": stranger, "other_user": bob}[who]
    start = closing - CHALLENGE_PERIOD
    set_next_timestamp(start + 1)

    with reverts("ChallengeWindowOpen", closing, start + 1):
        funded.emptyChannel(alice, {"from": caller})


def test_emptyChannel_reverts_when_user_is_invalid(funded, hub, invalid_user):
    with reverts("InvalidUser", invalid_user):
        funded.emptyChannel(invalid_user, {"from": hub})


def test_emptyChannel_reverts_when_channel_open(funded, open_channel, hub, alice):
    open_channel(alice)

    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        funded.emptyChannel(alice, {"from": hub})


def test_emptyChannel_reverts_when_already_emptied(funded, dispute, hub, alice):
    dispute("hub")
    funded.emptyChannel(alice, {"from": alice})

    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        funded.emptyChannel(alice, {"from": alice})


def test_emptyChannel_reverts_when_channel_in_thread_dispute(
    funded, open_channel, put_in_thread_dispute, hub, alice
):
    open_channel(alice)
    put_in_thread_dispute(alice)

    with reverts("WrongChannelStatus", alice, ChannelStatus.THREAD_DISPUTE):
        funded.emptyChannel(alice, {"from": hub})
