"""startExitWithUpdate(state, sigHub, sigUser) — docs/protocol.md §6: a dispute started with a
double-signed, timeout-free state newer than the stored one. Pending updates are applied when
txCount[1] equals the stored onchain count and reverted when it is greater (docs/protocol.md §4). Only
txCount[0], threadRoot and threadCount are stored with the balances; no total, no reserve and
no balance outside the channel changes.

Every test opens alice's channel with ETH hub 1 / user 1 (total 2) and TST hub 50 / user 100
(total 150); the stored txCount is (1, 1).
"""

import pytest

from channel_manager.contract_views import ChannelStatus
from channel_manager.eip712 import Domain
from tests.fixtures.channels import SOME_ROOT, assert_only_exit_event, stored_channel
from tests.fixtures.signatures import high_s
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, Signer, event_args, reverts

WEI_TOTAL = 2 * ETHER
TOKEN_TOTAL = 150 * TOKEN


@pytest.fixture
def opened(open_channel, alice):
    """alice's channel: ETH (1, 1) of 2, TST (50, 100) of 150, stored txCount (1, 1)."""
    return open_channel(
        alice, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=ETHER, hub_token=50 * TOKEN
    )


def submit(manager, state, sigs, caller):
    return manager.startExitWithUpdate(state.to_tuple(), *sigs, {"from": caller})


# ------------------------------------------------------------------------------------ state


@pytest.mark.parametrize("initiator", ["hub", "user"])
def test_startExitWithUpdate_state(
    funded, opened, new_state, sign_both, read_channel, watch_money, hub, alice, initiator
):
    caller = hub if initiator == "hub" else alice
    # A later state: alice paid the hub, 0.2 ETH and 10 TST are locked in one thread.
    state = new_state(
        alice,
        wei_balances=(6 * ETHER // 10, 12 * ETHER // 10),
        token_balances=(45 * TOKEN, 95 * TOKEN),
        tx_count=(5, 1),
        thread_root=SOME_ROOT,
        thread_count=1,
    )
    only_gas_spent = watch_money(hub, alice)

    tx = submit(funded, state, sign_both(state), caller)

    closing = tx.timestamp + CHALLENGE_PERIOD
    assert read_channel(alice) == stored_channel(
        weiHub=6 * ETHER // 10,
        weiUser=12 * ETHER // 10,
        weiTotal=WEI_TOTAL,
        tokenHub=45 * TOKEN,
        tokenUser=95 * TOKEN,
        tokenTotal=TOKEN_TOTAL,
        txCountGlobal=5,
        txCountChain=1,
        threadRoot=SOME_ROOT,
        threadCount=1,
        exitInitiator=caller.address,
        channelClosingTime=closing,
        status=ChannelStatus.CHANNEL_DISPUTE,
    )
    only_gas_spent(tx, caller)
    assert_only_exit_event(
        tx,
        alice,
        caller,
        {
            "weiBalances": (6 * ETHER // 10, 12 * ETHER // 10),
            "tokenBalances": (45 * TOKEN, 95 * TOKEN),
            "txCount": (5, 1),
            "threadRoot": SOME_ROOT,
            "threadCount": 1,
            "channelClosingTime": closing,
        },
    )


# Pending-update matrix (docs/protocol.md §4). State balances are ETH (0.5, 0.5), TST (20, 40); the side
# under test carries the pending pair on both assets; the expected adjustment is added to that
# side's balance. Rows: (side, deposit, withdrawal, executed, adjustment), amounts in tenths of
# an ETH and in units of 10 TST.
# (deposit, withdrawal, adjustment when applied, adjustment when reverted)
PENDING_CASES = [
    (3, 1, 2, 0),  # deposit > withdrawal: apply adds the net deposit, revert leaves the balance
    (1, 3, 0, 2),  # deposit < withdrawal: apply leaves it (deducted off-chain), revert restores it
    (2, 2, 0, 0),  # deposit == withdrawal (the "<=" branch): nothing either way
]
PENDING_MATRIX = [
    (side, deposit, withdrawal, executed, applied if executed else reverted)
    for deposit, withdrawal, applied, reverted in PENDING_CASES
    for side in ("hub", "user")
    for executed in (True, False)
]


def _matrix_id(row):
    side, deposit, withdrawal, executed, _ = row
    relation = {1: "deposit_gt_withdrawal", -1: "deposit_lt_withdrawal", 0: "deposit_eq_withdrawal"}
    sign = (deposit > withdrawal) - (deposit < withdrawal)
    return f"{side}-{relation[sign]}-{'apply' if executed else 'revert'}"


@pytest.mark.parametrize("row", PENDING_MATRIX, ids=[_matrix_id(r) for r in PENDING_MATRIX])
def test_startExitWithUpdate_applies_or_reverts_pending(
    funded, token, opened, new_state, sign_both, read_channel, read_globals, hub, alice, row
):
    side, deposit, withdrawal, executed, adjustment = row
    wei_unit, token_unit = ETHER // 10, 10 * TOKEN
    pending = (0, 0, deposit, withdrawal) if side == "user" else (deposit, withdrawal, 0, 0)
    state = new_state(
        alice,
        wei_balances=(5 * wei_unit, 5 * wei_unit),
        token_balances=(2 * token_unit, 4 * token_unit),
        pending_wei_updates=tuple(p * wei_unit for p in pending),
        pending_token_updates=tuple(p * token_unit for p in pending),
        # same onchain count: the updates were executed (apply); higher: they were not (revert)
        tx_count=(2, 1 if executed else 2),
    )
    globals_before = read_globals()
    token_before = {a: token.balanceOf(a) for a in (hub, alice)}
    alice_eth = alice.balance()

    tx = submit(funded, state, sign_both(state), hub)

    index = 0 if side == "hub" else 1
    wei = [5 * wei_unit, 5 * wei_unit]
    tok = [2 * token_unit, 4 * token_unit]
    wei[index] += adjustment * wei_unit
    tok[index] += adjustment * token_unit
    after = read_channel(alice)
    assert (after["weiHub"], after["weiUser"]) == tuple(wei)
    assert (after["tokenHub"], after["tokenUser"]) == tuple(tok)
    # totals, reserve and all balances outside the channel are untouched
    assert (after["weiTotal"], after["tokenTotal"]) == (WEI_TOTAL, TOKEN_TOTAL)
    assert read_globals() == globals_before
    assert {a: token.balanceOf(a) for a in (hub, alice)} == token_before
    assert alice.balance() == alice_eth
    # only txCount[0] is stored: the onchain count stays 1 even when the state says 2
    assert (after["txCountGlobal"], after["txCountChain"]) == (2, 1)
    event = event_args(tx, "DidStartExitChannel")
    assert (event["weiBalances"], event["tokenBalances"]) == (tuple(wei), tuple(tok))
    assert event["txCount"] == (2, 1)


def test_startExitWithUpdate_keeps_stored_onchain_count(
    funded, opened, new_state, sign_both, read_channel, hub, alice
):
    """A state without pending updates but a higher txCount[1] (a voided proposal): only
    txCount[0] is stored."""
    state = new_state(
        alice,
        wei_balances=(ETHER, ETHER),
        token_balances=(50 * TOKEN, 100 * TOKEN),
        tx_count=(3, 4),
    )

    submit(funded, state, sign_both(state), alice)

    after = read_channel(alice)
    assert (after["txCountGlobal"], after["txCountChain"]) == (3, 1)


def test_startExitWithUpdate_accepts_balances_equal_to_total_after_apply(
    funded, opened, new_state, sign_both, read_channel, hub, alice
):
    """Boundary of the post-check: hub + user == total after applying is allowed."""
    state = new_state(
        alice,
        wei_balances=(ETHER, ETHER // 2),
        token_balances=(50 * TOKEN, 90 * TOKEN),
        pending_wei_updates=(0, 0, ETHER // 2, 0),
        pending_token_updates=(0, 0, 10 * TOKEN, 0),
        tx_count=(2, 1),
    )

    submit(funded, state, sign_both(state), hub)

    after = read_channel(alice)
    assert after["weiHub"] + after["weiUser"] == after["weiTotal"] == WEI_TOTAL
    assert after["tokenHub"] + after["tokenUser"] == after["tokenTotal"] == TOKEN_TOTAL


# ------------------------------------------------------------------------------------ reverts


@pytest.mark.parametrize("timeout", [1, 2**40], ids=["past_timeout", "future_timeout"])
def test_startExitWithUpdate_reverts_when_state_has_timeout(
    funded, opened, new_state, sign_both, hub, alice, timeout
):
    state = new_state(
        alice,
        wei_balances=(ETHER, ETHER),
        token_balances=(50 * TOKEN, 100 * TOKEN),
        tx_count=(2, 1),
        timeout=timeout,
    )

    with reverts("TimeSensitiveState", timeout):
        submit(funded, state, sign_both(state), hub)


STALE_COUNTS = [
    # (txCount, error, args) against the stored (1, 1)
    ((1, 1), "StaleTxCount", (1, 1)),
    ((0, 1), "StaleTxCount", (0, 1)),
    ((1, 2), "StaleTxCount", (1, 1)),
    ((2, 0), "StaleOnchainTxCount", (0, 1)),
]


@pytest.mark.parametrize(
    "tx_count,error,args",
    STALE_COUNTS,
    ids=["global_equal", "global_below", "global_equal_onchain_higher", "onchain_below"],
)
def test_startExitWithUpdate_reverts_when_state_is_stale(
    funded, opened, new_state, sign_both, hub, alice, tx_count, error, args
):
    state = new_state(
        alice,
        wei_balances=(ETHER, ETHER),
        token_balances=(50 * TOKEN, 100 * TOKEN),
        tx_count=tx_count,
    )

    with reverts(error, *args):
        submit(funded, state, sign_both(state), hub)


EXCEEDING = [
    # (fields, expected BalancesExceedTotal args)
    (
        {"wei_balances": (15 * ETHER // 10, 6 * ETHER // 10)},
        (15 * ETHER // 10, 6 * ETHER // 10, WEI_TOTAL),
    ),
    ({"token_balances": (100 * TOKEN, 60 * TOKEN)}, (100 * TOKEN, 60 * TOKEN, TOKEN_TOTAL)),
    # within the total as signed, over it once the pending updates are applied (txCount[1] equal)
    (
        {
            "wei_balances": (ETHER, ETHER),
            "pending_wei_updates": (0, 0, ETHER // 2, 0),
            "tx_count": (2, 1),
        },
        (ETHER, 15 * ETHER // 10, WEI_TOTAL),
    ),
    (
        {
            "token_balances": (50 * TOKEN, 100 * TOKEN),
            "pending_token_updates": (10 * TOKEN, 0, 0, 0),
            "tx_count": (2, 1),
        },
        (60 * TOKEN, 100 * TOKEN, TOKEN_TOTAL),
    ),
    # … or once they are reverted (txCount[1] higher)
    (
        {
            "wei_balances": (ETHER, ETHER),
            "pending_wei_updates": (0, ETHER // 4, 0, 0),
            "tx_count": (2, 2),
        },
        (5 * ETHER // 4, ETHER, WEI_TOTAL),
    ),
    (
        {
            "token_balances": (50 * TOKEN, 100 * TOKEN),
            "pending_token_updates": (0, 0, 0, 10 * TOKEN),
            "tx_count": (2, 2),
        },
        (50 * TOKEN, 110 * TOKEN, TOKEN_TOTAL),
    ),
]


@pytest.mark.parametrize(
    "fields,args",
    EXCEEDING,
    ids=[
        "wei_as_signed",
        "token_as_signed",
        "wei_after_apply",
        "token_after_apply",
        "wei_after_revert",
        "token_after_revert",
    ],
)
def test_startExitWithUpdate_reverts_when_balances_exceed_total(
    funded, opened, new_state, sign_both, hub, alice, fields, args
):
    base = {
        "wei_balances": (ETHER, ETHER),
        "token_balances": (50 * TOKEN, 100 * TOKEN),
        "tx_count": (2, 1),
    }
    state = new_state(alice, **{**base, **fields})

    with reverts("BalancesExceedTotal", *args):
        submit(funded, state, sign_both(state), hub)


BAD_SIGNATURES = ["wrong_key", "other_state", "empty", "compact_64_bytes", "high_s", "v_0_or_1"]


def _bad_signature(kind, signer, state, good_signer, wrong_signer):
    good = signer.channel(state, good_signer)
    if kind == "wrong_key":
        return signer.channel(state, wrong_signer)
    if kind == "other_state":
        return signer.channel(state.evolve(tx_count=(9, 1)), good_signer)
    if kind == "empty":
        return b""
    if kind == "compact_64_bytes":
        return good[:64]
    if kind == "high_s":
        return high_s(good)
    return good[:64] + bytes([good[64] - 27])


@pytest.fixture
def plain_state(new_state, alice):
    return new_state(
        alice,
        wei_balances=(ETHER, ETHER),
        token_balances=(50 * TOKEN, 100 * TOKEN),
        tx_count=(2, 1),
    )


@pytest.mark.parametrize("kind", BAD_SIGNATURES)
def test_startExitWithUpdate_reverts_when_hub_signature_invalid(
    funded, opened, plain_state, key_signer, hub, alice, kind
):
    sig_hub = _bad_signature(kind, key_signer, plain_state, hub, alice)

    with reverts("InvalidHubSignature"):
        submit(funded, plain_state, (sig_hub, key_signer.channel(plain_state, alice)), alice)


@pytest.mark.parametrize("kind", BAD_SIGNATURES)
def test_startExitWithUpdate_reverts_when_user_signature_invalid(
    funded, opened, plain_state, key_signer, hub, alice, bob, kind
):
    sig_user = _bad_signature(kind, key_signer, plain_state, alice, bob)

    with reverts("InvalidUserSignature", alice):
        submit(funded, plain_state, (key_signer.channel(plain_state, hub), sig_user), hub)


def test_startExitWithUpdate_reverts_when_signed_for_another_domain(
    funded, opened, plain_state, key_signer, hub, alice
):
    other = Signer(Domain(key_signer.domain.chain_id + 1, funded.address), key_signer.keys)

    with reverts("InvalidHubSignature"):
        submit(funded, plain_state, other.both(plain_state, hub), hub)


# Each signed field changed after signing, to a value that passes every earlier check.
TAMPERED = {
    "user": None,  # set in the test: bob, whose channel is opened like alice's
    "recipient": None,  # bob
    "wei_balances": (ETHER // 2, 12 * ETHER // 10),
    "token_balances": (40 * TOKEN, 95 * TOKEN),
    "pending_wei_updates": (0, 0, 0, ETHER // 10),
    "pending_token_updates": (0, TOKEN, 0, 0),
    "tx_count": (3, 1),
    "thread_root": SOME_ROOT,
    "thread_count": 1,
    "timeout": 0,  # signed with a timeout, submitted without one
}


@pytest.mark.parametrize("stale_sig", ["hub", "user"])
@pytest.mark.parametrize("field", list(TAMPERED))
def test_startExitWithUpdate_reverts_when_signed_field_tampered(
    funded, opened, open_channel, new_state, key_signer, hub, alice, bob, field, stale_sig
):
    open_channel(bob, user_wei=ETHER, user_token=100 * TOKEN, hub_wei=ETHER, hub_token=50 * TOKEN)
    signed = new_state(
        alice,
        wei_balances=(ETHER // 2, ETHER),
        token_balances=(40 * TOKEN, 90 * TOKEN),
        tx_count=(2, 1),
        timeout=2**40 if field == "timeout" else 0,
    )
    value = bob.address if field in ("user", "recipient") else TAMPERED[field]
    submitted = signed.evolve(**{field: value})
    assert submitted != signed
    if stale_sig == "hub":
        # both signatures cover the signed state: the hub's, checked first, fails
        sigs, error, args = (
            (key_signer.channel(signed, hub), key_signer.channel(signed, alice)),
            "InvalidHubSignature",
            (),
        )
    else:
        # the hub signed the submitted state, the user only the original
        sigs, error, args = (
            (key_signer.channel(submitted, hub), key_signer.channel(signed, alice)),
            "InvalidUserSignature",
            (submitted.user,),
        )

    with reverts(error, *args):
        submit(funded, submitted, sigs, hub)


@pytest.mark.parametrize("caller_name", ["stranger", "bob"], ids=["stranger", "other_user"])
def test_startExitWithUpdate_reverts_when_caller_is_not_hub_or_user(
    funded, opened, plain_state, sign_both, alice, bob, stranger, caller_name
):
    caller = {"stranger": stranger, "bob": bob}[caller_name]

    with reverts("NotHubOrUser", caller, alice):
        submit(funded, plain_state, sign_both(plain_state), caller)


def test_startExitWithUpdate_reverts_when_user_is_invalid(
    funded, plain_state, key_signer, hub, alice, invalid_user
):
    state = plain_state.evolve(user=invalid_user)
    sigs = (key_signer.channel(state, hub), key_signer.channel(state, alice))

    with reverts("InvalidUser", invalid_user):
        submit(funded, state, sigs, hub)


def test_startExitWithUpdate_reverts_when_channel_in_channel_dispute(
    funded, opened, plain_state, sign_both, hub, alice
):
    funded.startExit(alice, {"from": hub})

    with reverts("WrongChannelStatus", alice, ChannelStatus.CHANNEL_DISPUTE):
        submit(funded, plain_state, sign_both(plain_state), alice)


def test_startExitWithUpdate_reverts_when_channel_in_thread_dispute(
    funded, opened, plain_state, put_in_thread_dispute, sign_both, hub, alice
):
    put_in_thread_dispute(alice)
    state = plain_state.evolve(tx_count=(3, 1), wei_balances=(0, 0), token_balances=(0, 0))

    with reverts("WrongChannelStatus", alice, ChannelStatus.THREAD_DISPUTE):
        submit(funded, state, sign_both(state), hub)
