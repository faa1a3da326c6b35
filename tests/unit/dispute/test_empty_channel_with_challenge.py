"""emptyChannelWithChallenge(state, sigHub, sigUser) — docs/protocol.md §6: the party that did not start
the dispute answers, while `block.timestamp < channelClosingTime`, with a newer double-signed
state; the channel is emptied on it at once (user paid, hub's share back to the reserve).

Every test opens alice's default channel (ETH hub 0 / user 1, TST hub 50 / user 100, stored
txCount (1, 1)) and starts a dispute on it."""

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

# The answer: alice paid the hub 0.25 ETH, the hub paid alice 20 TST.
ANSWER = {
    "wei_balances": (ETHER // 4, 3 * ETHER // 4),
    "token_balances": (30 * TOKEN, 120 * TOKEN),
    "tx_count": (3, 1),
}


@pytest.fixture
def dispute(funded, open_channel, hub, alice):
    """Opens alice's channel and starts a dispute by `initiator` ("hub" or "user"); returns
    (challenger, closing time)."""

    def start(initiator="hub"):
        open_channel(alice)
        by, other = (hub, alice) if initiator == "hub" else (alice, hub)
        tx = funded.startExit(alice, {"from": by})
        return other, tx.timestamp + CHALLENGE_PERIOD

    return start


@pytest.fixture
def answer(new_state, alice):
    return new_state(alice, **ANSWER)


def challenge(manager, state, sigs, caller, **tx):
    return manager.emptyChannelWithChallenge(state.to_tuple(), *sigs, {"from": caller, **tx})


# ------------------------------------------------------------------------------------ state


@pytest.mark.parametrize("initiator", ["hub", "user"])
def test_emptyChannelWithChallenge_state(
    funded, token, dispute, answer, sign_both, read_channel, read_globals, hub, alice, initiator
):
    challenger, _ = dispute(initiator)
    globals_before = read_globals()
    eth_before = {a: a.balance() for a in (hub, alice)}
    tokens_before = {a: token.balanceOf(a) for a in (hub, alice)}

    tx = challenge(funded, answer, sign_both(answer), challenger)

    assert read_channel(alice) == stored_channel(txCountGlobal=3, txCountChain=1)
    globals_after = read_globals()
    assert globals_after == {
        "totalChannelWei": globals_before["totalChannelWei"] - ETHER,
        "totalChannelToken": globals_before["totalChannelToken"] - 150 * TOKEN,
        # the hub's share returns to the reserve
        "reserveWei": globals_before["reserveWei"] + ETHER // 4,
        "reserveTokens": globals_before["reserveTokens"] + 30 * TOKEN,
        # the user's share leaves the contract
        "contractWei": globals_before["contractWei"] - 3 * ETHER // 4,
        "contractTokens": globals_before["contractTokens"] - 120 * TOKEN,
    }
    gas = {a: tx.gas_used * tx.gas_price if a == challenger else 0 for a in (hub, alice)}
    # the user is paid exactly its balance; the hub receives nothing directly
    assert alice.balance() == eth_before[alice] + 3 * ETHER // 4 - gas[alice]
    assert token.balanceOf(alice) == tokens_before[alice] + 120 * TOKEN
    assert hub.balance() == eth_before[hub] - gas[hub]
    assert token.balanceOf(hub) == tokens_before[hub]
    assert funded.creditWei(alice) == 0 and funded.creditToken(alice) == 0
    assert "DidCreditUser" not in tx.events
    assert event_args(tx, "DidEmptyChannel") == {
        "user": alice.address,
        "caller": challenger.address,
        "weiBalances": ANSWER["wei_balances"],
        "tokenBalances": ANSWER["token_balances"],
        "txCount": (3, 1),
        "threadRoot": ZERO_ROOT,
        "threadCount": 0,
    }


def test_emptyChannelWithChallenge_with_threads_enters_thread_dispute(
    funded, dispute, new_state, sign_both, read_channel, read_globals, alice
):
    challenger, closing = dispute("hub")
    # 0.25 ETH and 20 TST are locked in one thread: they stay in the channel
    state = new_state(
        alice,
        wei_balances=(ETHER // 4, ETHER // 2),
        token_balances=(30 * TOKEN, 100 * TOKEN),
        tx_count=(3, 1),
        thread_root=SOME_ROOT,
        thread_count=1,
    )
    globals_before = read_globals()

    tx = challenge(funded, state, sign_both(state), challenger)

    # the closing time is kept: it dates the nuke deadline
    assert read_channel(alice) == stored_in_thread_dispute(
        weiTotal=ETHER // 4, tokenTotal=20 * TOKEN, txCountGlobal=3, channelClosingTime=closing
    )
    assert_globals_moved(
        globals_before,
        read_globals(),
        totalChannelWei=-(3 * ETHER // 4),
        totalChannelToken=-130 * TOKEN,
        reserveWei=ETHER // 4,
        reserveTokens=30 * TOKEN,
    )
    event = event_args(tx, "DidEmptyChannel")
    assert (event["threadRoot"], event["threadCount"]) == (SOME_ROOT, 1)


PENDING = [
    # (pending user ETH [deposit, withdrawal], txCount, user's stored ETH before emptying)
    ((ETHER // 4, 0), (3, 1), 3 * ETHER // 4),  # executed deposit: applied
    ((0, ETHER // 4), (3, 2), 3 * ETHER // 4),  # unexecuted withdrawal: reverted (restored)
    ((ETHER // 4, 0), (3, 2), ETHER // 2),  # unexecuted deposit: not counted
    ((0, ETHER // 4), (3, 1), ETHER // 2),  # executed withdrawal: already deducted
]


@pytest.mark.parametrize(
    "pending,tx_count,paid",
    PENDING,
    ids=["deposit_apply", "withdrawal_revert", "deposit_revert", "withdrawal_apply"],
)
def test_emptyChannelWithChallenge_pays_after_apply_or_revert(
    funded, dispute, new_state, sign_both, read_channel, hub, alice, pending, tx_count, paid
):
    challenger, _ = dispute("hub")
    # One open thread keeps what the state leaves unassigned in the channel, so the payout shows
    # the apply/revert rule alone (with no thread the surplus would be paid too: §8).
    state = new_state(
        alice,
        wei_balances=(0, ETHER // 2),
        token_balances=(50 * TOKEN, 100 * TOKEN),
        pending_wei_updates=(0, 0, *pending),
        tx_count=tx_count,
        thread_root=SOME_ROOT,
        thread_count=1,
    )
    before = alice.balance()

    tx = challenge(funded, state, sign_both(state), challenger)

    assert alice.balance() == before + paid - tx.gas_used * tx.gas_price
    assert event_args(tx, "DidEmptyChannel")["weiBalances"] == (0, paid)
    after = read_channel(alice)
    assert (after["txCountGlobal"], after["txCountChain"]) == (3, 1)
    assert after["weiTotal"] == ETHER - paid


# ------------------------------------------------------------------------------------ time


def test_emptyChannelWithChallenge_accepts_one_second_before_closing(
    funded, dispute, answer, sign_both, read_channel, alice
):
    challenger, closing = dispute("hub")
    set_next_timestamp(closing - 1)

    tx = challenge(funded, answer, sign_both(answer), challenger)

    assert tx.timestamp == closing - 1
    assert read_channel(alice)["status"] == ChannelStatus.OPEN


@pytest.mark.parametrize("offset", [0, 1], ids=["at_closing", "closing_plus_1"])
def test_emptyChannelWithChallenge_reverts_when_window_closed(
    funded, dispute, answer, sign_both, read_channel, alice, offset
):
    challenger, closing = dispute("hub")
    set_next_timestamp(closing + offset)

    with reverts("ChallengeWindowClosed", closing, closing + offset):
        challenge(funded, answer, sign_both(answer), challenger)

    assert brownie.history[-1].timestamp == closing + offset
    assert read_channel(alice)["status"] == ChannelStatus.CHANNEL_DISPUTE


# ------------------------------------------------------------------------------------ reverts


@pytest.mark.parametrize("initiator", ["hub", "user"])
def test_emptyChannelWithChallenge_reverts_when_caller_is_exit_initiator(
    funded, dispute, answer, sign_both, hub, alice, initiator
):
    dispute(initiator)
    caller = hub if initiator == "hub" else alice

    with reverts("CallerIsExitInitiator", caller):
        challenge(funded, answer, sign_both(answer), caller)


@pytest.mark.parametrize("caller_name", ["stranger", "bob"], ids=["stranger", "other_user"])
def test_emptyChannelWithChallenge_reverts_when_caller_is_not_hub_or_user(
    funded, dispute, answer, sign_both, alice, bob, stranger, caller_name
):
    dispute("hub")
    caller = {"stranger": stranger, "bob": bob}[caller_name]

    with reverts("NotHubOrUser", caller, alice):
        challenge(funded, answer, sign_both(answer), caller)


def test_emptyChannelWithChallenge_reverts_when_channel_open(
    funded, open_channel, answer, sign_both, alice
):
    open_channel(alice)

    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        challenge(funded, answer, sign_both(answer), alice)


def test_emptyChannelWithChallenge_reverts_when_channel_in_thread_dispute(
    funded, open_channel, put_in_thread_dispute, new_state, sign_both, alice
):
    open_channel(alice)
    put_in_thread_dispute(alice)
    state = new_state(alice, tx_count=(3, 1))

    with reverts("WrongChannelStatus", alice, ChannelStatus.THREAD_DISPUTE):
        challenge(funded, state, sign_both(state), alice)


def test_emptyChannelWithChallenge_reverts_when_user_is_invalid(
    funded, answer, key_signer, hub, alice, invalid_user
):
    state = answer.evolve(user=invalid_user)

    with reverts("InvalidUser", invalid_user):
        challenge(
            funded, state, (key_signer.channel(state, hub), key_signer.channel(state, alice)), hub
        )


# Against a dispute started by the hub with a state at txCount (3, 1): every older or otherwise
# unusable answer is refused. Rows: (changes to the answer, error, args).
STALE_ANSWERS = [
    ({"tx_count": (3, 1)}, "StaleTxCount", (3, 3)),
    ({"tx_count": (2, 1)}, "StaleTxCount", (2, 3)),
    ({"tx_count": (1, 1)}, "StaleTxCount", (1, 3)),
    ({"tx_count": (4, 0)}, "StaleOnchainTxCount", (0, 1)),
    ({"timeout": 2**40}, "TimeSensitiveState", (2**40,)),
    (
        {"wei_balances": (ETHER // 2, 3 * ETHER // 4)},
        "BalancesExceedTotal",
        (ETHER // 2, 3 * ETHER // 4, ETHER),
    ),
    (
        {"token_balances": (50 * TOKEN, 101 * TOKEN)},
        "BalancesExceedTotal",
        (50 * TOKEN, 101 * TOKEN, 150 * TOKEN),
    ),
    (
        {
            "pending_token_updates": (0, 0, 0, 10 * TOKEN),
            "tx_count": (4, 2),
            "token_balances": (50 * TOKEN, 100 * TOKEN),
        },
        "BalancesExceedTotal",
        (50 * TOKEN, 110 * TOKEN, 150 * TOKEN),
    ),
]


@pytest.mark.parametrize(
    "changes,error,args",
    STALE_ANSWERS,
    ids=[
        "global_equal",
        "global_below",
        "global_far_below",
        "onchain_below",
        "timeout",
        "wei_exceeds_total",
        "token_exceeds_total",
        "exceeds_total_after_revert",
    ],
)
def test_emptyChannelWithChallenge_reverts_when_answer_is_stale_or_invalid(
    funded, open_channel, new_state, sign_both, hub, alice, changes, error, args
):
    open_channel(alice)
    exit_state = new_state(
        alice,
        wei_balances=(ETHER // 2, ETHER // 2),
        token_balances=(50 * TOKEN, 100 * TOKEN),
        tx_count=(3, 1),
    )
    funded.startExitWithUpdate(exit_state.to_tuple(), *sign_both(exit_state), {"from": hub})
    state = new_state(
        alice,
        **{
            "wei_balances": (0, ETHER),
            "token_balances": (50 * TOKEN, 100 * TOKEN),
            "tx_count": (4, 1),
            **changes,
        },
    )

    with reverts(error, *args):
        challenge(funded, state, sign_both(state), alice)


def test_emptyChannelWithChallenge_reverts_when_hub_signature_invalid(
    funded, dispute, answer, key_signer, alice
):
    challenger, _ = dispute("hub")
    sigs = (key_signer.channel(answer, alice), key_signer.channel(answer, alice))

    with reverts("InvalidHubSignature"):
        challenge(funded, answer, sigs, challenger)


def test_emptyChannelWithChallenge_reverts_when_user_signature_invalid(
    funded, dispute, answer, key_signer, hub, alice, bob
):
    challenger, _ = dispute("user")
    sigs = (key_signer.channel(answer, hub), key_signer.channel(answer, bob))

    with reverts("InvalidUserSignature", alice):
        challenge(funded, answer, sigs, challenger)
