"""The rules hubAuthorizedUpdate and userAuthorizedUpdate share (docs/protocol.md §4, §5), each
test run once per entry point (ids `hub` and `user`). What only one of them does — who sends,
where deposits come from, the exact state changes — is in test_hub_authorized_update.py and
test_user_authorized_update.py."""

from __future__ import annotations

import pytest
from brownie import chain

from channel_manager import transitions
from channel_manager.contract_views import ChannelStatus, channel_details
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from tests.fixtures.authorized_updates import (
    APPLY_CASES,
    ENTRIES,
    HUB_TOKEN,
    HUB_WEI,
    OPENED_AMOUNTS,
    STALE_GLOBAL,
    TAMPERED,
    TOKEN_UNIT,
    USER_TOKEN,
    USER_WEI,
    VALUE_TOO_LARGE,
    WEI_UNIT,
    Entry,
)
from tests.fixtures.channels import applied_side, tx_counts
from tests.fixtures.signatures import SIGNATURE_MUTATIONS, mutate_signature
from tests.helpers import ETHER, TOKEN, ZERO_ADDRESS, latest_timestamp, reverts, set_next_timestamp


@pytest.fixture(params=ENTRIES.values(), ids=ENTRIES.keys())
def entry(request) -> Entry:
    return request.param


def entry_cases(cases: dict[tuple[str, str], object]) -> list:
    """`pytest.param`s of a table keyed by (entry id, case id), ids `entry-case`."""
    return [
        pytest.param(ENTRIES[who], *values, id=f"{who}-{case}")
        for (who, case), values in cases.items()
    ]


# ---------------------------------------------------------------------------- success paths


@pytest.mark.parametrize("pending", APPLY_CASES.values(), ids=APPLY_CASES.keys())
def test_authorizedUpdate_applies_pending_per_side(
    funded, token, signer, alice, carol, opened, observe, entry, pending
):
    hub_dep, hub_wd, user_dep, user_wd = pending

    def signed_side(balance, dep, wd, unit):
        return balance - max(wd - dep, 0) * unit

    wei = (
        signed_side(HUB_WEI, hub_dep, hub_wd, WEI_UNIT),
        signed_side(USER_WEI, user_dep, user_wd, WEI_UNIT),
    )
    tok = (
        signed_side(HUB_TOKEN, hub_dep, hub_wd, TOKEN_UNIT),
        signed_side(USER_TOKEN, user_dep, user_wd, TOKEN_UNIT),
    )
    state = opened.evolve(
        recipient=str(carol),
        wei_balances=wei,
        token_balances=tok,
        pending_wei_updates=tuple(p * WEI_UNIT for p in pending),
        pending_token_updates=tuple(p * TOKEN_UNIT for p in pending),
        tx_count=(3, 2),
    )
    before = observe(funded, token, alice, alice, carol)

    entry.submit(funded, signer, state)

    after = observe(funded, token, alice, alice, carol)
    net = hub_dep + user_dep - hub_wd - user_wd
    assert after.balances == (
        applied_side(wei[0], hub_dep * WEI_UNIT, hub_wd * WEI_UNIT),
        applied_side(wei[1], user_dep * WEI_UNIT, user_wd * WEI_UNIT),
        3 * ETHER + net * WEI_UNIT,
        applied_side(tok[0], hub_dep * TOKEN_UNIT, hub_wd * TOKEN_UNIT),
        applied_side(tok[1], user_dep * TOKEN_UNIT, user_wd * TOKEN_UNIT),
        300 * TOKEN + net * TOKEN_UNIT,
    )
    assert after.total_wei == before.total_wei + net * WEI_UNIT
    assert after.total_token == before.total_token + net * TOKEN_UNIT
    # The hub executing: both deposits come from the reserve; the user executing: its own
    # deposit comes with the call (tokens pulled from its wallet).
    from_reserve = hub_dep + (user_dep if entry.user_deposit_from_reserve else 0)
    assert after.reserve_wei == before.reserve_wei + (hub_wd - from_reserve) * WEI_UNIT
    assert after.reserve_token == before.reserve_token + (hub_wd - from_reserve) * TOKEN_UNIT
    assert after.eth[str(carol)] == before.eth[str(carol)] + user_wd * WEI_UNIT
    assert after.tokens[str(carol)] == before.tokens[str(carol)] + user_wd * TOKEN_UNIT
    if not entry.user_deposit_from_reserve:
        assert after.tokens[str(alice)] == before.tokens[str(alice)] - user_dep * TOKEN_UNIT


def test_authorizedUpdate_executes_pending_updates_exactly_once(
    funded, signer, alice, proposal, entry
):
    entry.submit(funded, signer, proposal)
    balances = tuple(funded.getChannelBalances(alice))

    with reverts("StaleTxCount", 3, 3):
        entry.submit(funded, signer, proposal)
    assert tuple(funded.getChannelBalances(alice)) == balances


def test_authorizedUpdate_accepts_a_state_one_second_before_its_timeout(
    funded, signer, alice, proposal, entry
):
    timeout = latest_timestamp() + 100
    state = proposal.evolve(timeout=timeout)
    set_next_timestamp(timeout - 1)

    tx = entry.submit(funded, signer, state)

    assert tx.timestamp == timeout - 1
    assert tx_counts(channel_details(funded, str(alice))) == (3, 2)


# ---------------------------------------------------------------------------- status and time


# Who starts the dispute that blocks the update (the other party than the entry's sender).
DISPUTE_STARTER = {"hubAuthorizedUpdate": "alice", "userAuthorizedUpdate": "hub"}


def test_authorizedUpdate_reverts_when_channel_is_in_channel_dispute(
    funded, signer, hub, alice, proposal, entry
):
    starter = {"alice": alice, "hub": hub}[DISPUTE_STARTER[entry.name]]
    funded.startExit(alice, {"from": starter})

    with reverts("WrongChannelStatus", alice, ChannelStatus.CHANNEL_DISPUTE):
        entry.submit(funded, signer, proposal)


@pytest.mark.parametrize("offset", [0, 1], ids=["at_timeout", "after_timeout"])
def test_authorizedUpdate_reverts_when_state_expired(funded, signer, proposal, entry, offset):
    timeout = latest_timestamp() + 100
    state = proposal.evolve(timeout=timeout)
    set_next_timestamp(timeout + offset)

    with reverts("StateExpired", timeout, timeout + offset):
        entry.submit(funded, signer, state)


# ---------------------------------------------------------------------------- txCount rules


@pytest.mark.parametrize("tx_count", STALE_GLOBAL.values(), ids=STALE_GLOBAL.keys())
def test_authorizedUpdate_reverts_when_global_tx_count_not_higher(
    funded, signer, opened, entry, tx_count
):
    with reverts("StaleTxCount", tx_count[0], 1):
        entry.submit(funded, signer, opened.evolve(tx_count=tx_count))


def test_authorizedUpdate_reverts_when_onchain_tx_count_lowered(funded, signer, opened, entry):
    with reverts("StaleOnchainTxCount", 0, 1):
        entry.submit(funded, signer, opened.evolve(tx_count=(5, 0)))


def test_authorizedUpdate_reverts_when_new_pending_keeps_the_onchain_count(
    funded, signer, proposal, entry
):
    with reverts("PendingAlreadyExecuted", 1, 1):
        entry.submit(funded, signer, proposal.evolve(tx_count=(3, 1)))


# ---------------------------------------------------------------------------- balances and funds


BALANCES_ABOVE_STORED_TOTAL = {
    # (entry, asset): (changes to `opened`, BalancesExceedTotal's arguments)
    ("hub", "eth"): (
        {"wei_balances": (HUB_WEI + 1, USER_WEI)},
        (HUB_WEI + 1, USER_WEI, 3 * ETHER),
    ),
    ("hub", "token"): (
        {"token_balances": (HUB_TOKEN, USER_TOKEN + 1)},
        (HUB_TOKEN, USER_TOKEN + 1, 300 * TOKEN),
    ),
    ("user", "eth"): (
        {"wei_balances": (HUB_WEI, USER_WEI + 1)},
        (HUB_WEI, USER_WEI + 1, 3 * ETHER),
    ),
    ("user", "token"): (
        {"token_balances": (HUB_TOKEN + 1, USER_TOKEN)},
        (HUB_TOKEN + 1, USER_TOKEN, 300 * TOKEN),
    ),
}


@pytest.mark.parametrize("entry,changes,expected", entry_cases(BALANCES_ABOVE_STORED_TOTAL))
def test_authorizedUpdate_reverts_when_balances_exceed_stored_total(
    funded, signer, opened, entry, changes, expected
):
    state = opened.evolve(tx_count=(3, 1), **changes)
    with reverts("BalancesExceedTotal", *expected):
        entry.submit(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_authorizedUpdate_reverts_when_applied_balances_exceed_new_total(
    funded, signer, bob, new_state, entry, asset
):
    """docs/protocol.md §5 post-check: a fresh channel with hubDeposit = userWithdrawal = 10
    would pay the user out of the hub's deposit and keep hub = 10 in a channel of total 0."""
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = new_state(bob, tx_count=(1, 1), **{field: (10, 0, 0, 10)})

    with reverts("BalancesExceedTotal", 10, 0, 0):
        entry.submit(funded, signer, state)


WITHDRAWALS_ABOVE_CHANNEL_FUNDS = {
    # (entry, asset): (changes to `opened`, InsufficientChannelFunds' arguments)
    ("hub", "eth"): (
        {"wei_balances": (HUB_WEI, USER_WEI - 1), "pending_wei_updates": (0, 0, 0, 2)},
        (3 * ETHER + 1, 3 * ETHER),
    ),
    ("hub", "token"): (
        {"token_balances": (HUB_TOKEN, USER_TOKEN), "pending_token_updates": (0, 5, 0, 0)},
        (300 * TOKEN + 5, 300 * TOKEN),
    ),
    ("user", "eth"): (
        {"pending_wei_updates": (0, 1, 0, 0)},
        (3 * ETHER + 1, 3 * ETHER),
    ),
    ("user", "token"): (
        {"token_balances": (HUB_TOKEN, USER_TOKEN - 1), "pending_token_updates": (0, 0, 0, 2)},
        (300 * TOKEN + 1, 300 * TOKEN),
    ),
}


@pytest.mark.parametrize("entry,changes,expected", entry_cases(WITHDRAWALS_ABOVE_CHANNEL_FUNDS))
def test_authorizedUpdate_reverts_when_withdrawals_exceed_channel_funds(
    funded, signer, opened, entry, changes, expected
):
    state = opened.evolve(tx_count=(3, 2), **changes)
    with reverts("InsufficientChannelFunds", *expected):
        entry.submit(funded, signer, state)


@pytest.mark.parametrize("changes,value", VALUE_TOO_LARGE.values(), ids=VALUE_TOO_LARGE.keys())
def test_authorizedUpdate_reverts_when_value_too_large(
    funded, signer, proposal, entry, changes, value
):
    with reverts("ValueTooLarge", value):
        entry.submit(funded, signer, proposal.evolve(**changes))


def test_authorizedUpdate_accepts_the_zero_recipient(funded, signer, alice, proposal, entry):
    """Only the contract itself is refused as a recipient (docs/decisions.md): a state may name
    the zero address, here one that withdraws nothing."""
    state = proposal.evolve(recipient=ZERO_ADDRESS)

    entry.submit(funded, signer, state)

    assert tx_counts(channel_details(funded, str(alice))) == (3, 2)


def test_authorizedUpdate_reverts_when_recipient_refuses_eth(
    funded, signer, opened, rejecting_wallet, entry
):
    state = transitions.propose_withdrawal(
        opened, user_wei=WEI_UNIT, recipient=rejecting_wallet.address
    )
    with reverts("TransferFailed", rejecting_wallet):
        entry.submit(funded, signer, state)


# ---------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("field", TAMPERED.keys())
def test_authorizedUpdate_reverts_when_signed_field_tampered(
    funded, signer, hub, alice, bob, carol, open_channel, proposal, entry, field
):
    # bob's channel is stored exactly like alice's, so only the signature can catch the swap.
    open_channel(bob, **OPENED_AMOUNTS)
    tampered: ChannelState = TAMPERED[field](proposal, {"bob": str(bob), "carol": str(carol)})
    assert tampered != proposal

    with reverts(*entry.signature_error(tampered)):
        entry.submit_signed(funded, tampered, signer.channel(proposal, entry.counterparty(alice)))


# The wrong signers tried per entry point (never the counterparty itself).
OTHER_KEYS = {
    ("hub", "bob"): ("bob",),
    ("hub", "hub"): ("hub",),
    ("user", "user"): ("alice",),
    ("user", "other_user"): ("bob",),
}


@pytest.mark.parametrize("entry,key_of", entry_cases(OTHER_KEYS))
def test_authorizedUpdate_reverts_when_signed_by_another_key(
    funded, signer, hub, alice, bob, proposal, entry, key_of
):
    with reverts(*entry.signature_error(proposal)):
        entry.submit(
            funded, signer, proposal, sig_by={"alice": alice, "bob": bob, "hub": hub}[key_of]
        )


def test_authorizedUpdate_reverts_when_signed_for_another_contract(
    funded, signer, alice, other_manager, proposal, entry
):
    key = signer.keys[str(entry.counterparty(alice))]
    sig = sign_channel_state(key, Domain(chain.id, other_manager.address), proposal)
    with reverts(*entry.signature_error(proposal)):
        entry.submit_signed(funded, proposal, sig)


def test_authorizedUpdate_reverts_when_signed_for_another_chain(
    funded, signer, alice, proposal, entry
):
    key = signer.keys[str(entry.counterparty(alice))]
    sig = sign_channel_state(key, Domain(1, funded.address), proposal)
    with reverts(*entry.signature_error(proposal)):
        entry.submit_signed(funded, proposal, sig)


@pytest.mark.parametrize("mutation", SIGNATURE_MUTATIONS.keys())
def test_authorizedUpdate_reverts_when_signature_malformed(
    funded, signer, hub, alice, proposal, entry, mutation
):
    sig = mutate_signature(mutation, signer.channel(proposal, entry.counterparty(alice)))
    with reverts(*entry.signature_error(proposal)):
        entry.submit_signed(funded, proposal, sig)
