"""hubAuthorizedUpdate (docs/protocol.md §4, §5): the hub executes a user-signed state's pending updates;
both deposits come from the hub reserve, user withdrawals go to the state's recipient and hub
withdrawals return to the reserve."""

from __future__ import annotations

import pytest
from brownie import accounts, chain, reverts as brownie_reverts

from channel_manager import transitions
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from tests.helpers import ETHER, TOKEN, anvil_key, latest_timestamp, reverts, set_next_timestamp
from tests.unit.channel.conftest import SIGNATURE_MUTATIONS, applied_side, assert_update_event, fee_of

WEI_UNIT = ETHER // 10
TOKEN_UNIT = TOKEN

# alice's channel after `opened`: wei [hub 1 ETH, user 2 ETH] of 3 ETH; token [100, 200] of 300.
HUB_WEI, USER_WEI, HUB_TOKEN, USER_TOKEN = ETHER, 2 * ETHER, 100 * TOKEN, 200 * TOKEN


@pytest.fixture
def opened(open_channel, alice) -> ChannelState:
    """alice's acknowledged state (txCount [2, 1]; stored [1, 1])."""
    return open_channel(alice, user_wei=USER_WEI, user_token=USER_TOKEN, hub_wei=HUB_WEI, hub_token=HUB_TOKEN)


@pytest.fixture
def proposal(opened) -> ChannelState:
    """A valid next state for alice with deposits on both sides (txCount [3, 2])."""
    return transitions.propose_deposit(
        opened, user_wei=WEI_UNIT, user_token=10 * TOKEN, hub_wei=2 * WEI_UNIT, hub_token=20 * TOKEN
    )


def submit(manager, signer, state: ChannelState, sig_by=None, **tx):
    """hubAuthorizedUpdate signed by the user (or `sig_by`), sent by the hub."""
    sig = signer.channel(state, sig_by or state.user)
    return manager.hubAuthorizedUpdate(state.to_tuple(), sig, {"from": accounts[0], **tx})


# ---------------------------------------------------------------------------- success paths


def test_hubAuthorizedUpdate_state(funded, token, signer, hub, alice, carol, opened, observe):
    root = bytes.fromhex("ab" * 32)
    # ETH: hub deposits 5 and withdraws 2 (net +3, applied on-chain); user deposits 1 and
    # withdraws 4 (net −3, already deducted). Token: the mirror image.
    state = opened.evolve(
        recipient=str(carol),
        wei_balances=(HUB_WEI, USER_WEI - 3 * WEI_UNIT),
        token_balances=(HUB_TOKEN - 20 * TOKEN, USER_TOKEN),
        pending_wei_updates=(5 * WEI_UNIT, 2 * WEI_UNIT, 1 * WEI_UNIT, 4 * WEI_UNIT),
        pending_token_updates=(10 * TOKEN, 30 * TOKEN, 50 * TOKEN, 20 * TOKEN),
        tx_count=(3, 2),
        thread_root=root,
        thread_count=2,
    )
    before = observe(funded, token, alice, hub, alice, carol)

    tx = submit(funded, signer, state)

    after = observe(funded, token, alice, hub, alice, carol)
    assert before.balances == (HUB_WEI, USER_WEI, 3 * ETHER, HUB_TOKEN, USER_TOKEN, 300 * TOKEN)
    assert after.balances == (
        HUB_WEI + 3 * WEI_UNIT,
        USER_WEI - 3 * WEI_UNIT,
        3 * ETHER,
        HUB_TOKEN - 20 * TOKEN,
        USER_TOKEN + 30 * TOKEN,
        310 * TOKEN,
    )
    assert before.details == (1, 1, "0x" + "00" * 32, 0, "0x" + "00" * 20, 0, 0)
    assert after.details == (3, 2, "0x" + root.hex(), 2, "0x" + "00" * 20, 0, 0)
    assert (after.total_wei, after.total_token) == (before.total_wei, before.total_token + 10 * TOKEN)
    # Both deposits leave the reserve, the hub's withdrawal returns to it.
    assert after.reserve_wei == before.reserve_wei - 5 * WEI_UNIT - 1 * WEI_UNIT + 2 * WEI_UNIT
    assert after.reserve_token == before.reserve_token - 10 * TOKEN - 50 * TOKEN + 30 * TOKEN
    # Only the user's withdrawals leave the contract, to the recipient (not the user).
    assert after.eth[str(funded)] == before.eth[str(funded)] - 4 * WEI_UNIT
    assert after.tokens[str(funded)] == before.tokens[str(funded)] - 20 * TOKEN
    assert after.eth[str(carol)] == before.eth[str(carol)] + 4 * WEI_UNIT
    assert after.tokens[str(carol)] == before.tokens[str(carol)] + 20 * TOKEN
    assert after.eth[str(alice)] == before.eth[str(alice)]
    assert after.tokens[str(alice)] == before.tokens[str(alice)]
    assert after.eth[str(hub)] == before.eth[str(hub)] - fee_of(tx)
    assert after.tokens[str(hub)] == before.tokens[str(hub)]
    assert_update_event(tx, state, hub)


APPLY_CASES = {
    # (hubDeposit, hubWithdrawal, userDeposit, userWithdrawal) in units, same for ETH and token
    "hub_net_deposit_user_net_withdrawal": (5, 2, 1, 4),
    "hub_net_withdrawal_user_net_deposit": (1, 4, 5, 2),
    "deposit_equals_withdrawal": (3, 3, 2, 2),
    "deposits_only": (3, 0, 2, 0),
    "withdrawals_only": (0, 3, 0, 2),
}


@pytest.mark.parametrize("pending", APPLY_CASES.values(), ids=APPLY_CASES.keys())
def test_hubAuthorizedUpdate_applies_pending_per_side(funded, token, signer, alice, carol, opened, observe, pending):
    hub_dep, hub_wd, user_dep, user_wd = pending

    def signed_side(balance, dep, wd, unit):
        return balance - max(wd - dep, 0) * unit

    wei = (signed_side(HUB_WEI, hub_dep, hub_wd, WEI_UNIT), signed_side(USER_WEI, user_dep, user_wd, WEI_UNIT))
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
    before = observe(funded, token, alice, carol)

    submit(funded, signer, state)

    after = observe(funded, token, alice, carol)
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
    assert after.reserve_wei == before.reserve_wei + (hub_wd - hub_dep - user_dep) * WEI_UNIT
    assert after.reserve_token == before.reserve_token + (hub_wd - hub_dep - user_dep) * TOKEN_UNIT
    assert after.eth[str(carol)] == before.eth[str(carol)] + user_wd * WEI_UNIT
    assert after.tokens[str(carol)] == before.tokens[str(carol)] + user_wd * TOKEN_UNIT


def test_hubAuthorizedUpdate_accepts_a_state_without_pending_at_the_same_onchain_count(
    funded, token, signer, alice, opened, observe
):
    state = transitions.pay(opened, to_hub=True, wei=WEI_UNIT, token=5 * TOKEN)  # txCount [3, 1]
    before = observe(funded, token, alice)

    submit(funded, signer, state)

    after = observe(funded, token, alice)
    assert after.balances == (
        HUB_WEI + WEI_UNIT, USER_WEI - WEI_UNIT, 3 * ETHER, HUB_TOKEN + 5 * TOKEN, USER_TOKEN - 5 * TOKEN, 300 * TOKEN
    )
    assert after.details[:2] == (3, 1)
    assert (after.total_wei, after.total_token, after.reserve_wei, after.reserve_token) == (
        before.total_wei, before.total_token, before.reserve_wei, before.reserve_token
    )


def test_hubAuthorizedUpdate_accepts_deposits_equal_to_the_reserve(funded, signer, bob, new_state):
    reserve_wei, reserve_token = funded.getHubReserveWei(), funded.getHubReserveTokens()
    state = new_state(bob, pending_wei_updates=(reserve_wei - 1, 0, 1, 0),
                      pending_token_updates=(0, 0, reserve_token, 0), tx_count=(1, 1))

    submit(funded, signer, state)

    assert (funded.getHubReserveWei(), funded.getHubReserveTokens()) == (0, 0)
    assert tuple(funded.getChannelBalances(bob)) == (reserve_wei - 1, 1, reserve_wei, 0, reserve_token, reserve_token)


def test_hubAuthorizedUpdate_accepts_the_largest_storable_tx_count(funded, signer, alice, opened):
    state = opened.evolve(tx_count=(2**64 - 1, 1))

    submit(funded, signer, state)

    assert tuple(funded.getChannelDetails(alice))[:2] == (2**64 - 1, 1)


def test_hubAuthorizedUpdate_pays_recipient_in_a_token_that_returns_nothing(no_return_env, hub, alice, carol):
    manager, token, signer = no_return_env.manager, no_return_env.token, no_return_env.signer
    deposit = ChannelState(str(alice), str(alice), pending_token_updates=(0, 0, 100 * TOKEN, 0), tx_count=(1, 1))
    manager.hubAuthorizedUpdate(deposit.to_tuple(), signer.channel(deposit, alice), {"from": hub})
    withdrawal = transitions.propose_withdrawal(
        transitions.acknowledge(deposit), user_token=40 * TOKEN, recipient=str(carol)
    )

    manager.hubAuthorizedUpdate(withdrawal.to_tuple(), signer.channel(withdrawal, alice), {"from": hub})

    assert token.balanceOf(carol) == 40 * TOKEN
    assert tuple(manager.getChannelBalances(alice)) == (0, 0, 0, 0, 60 * TOKEN, 60 * TOKEN)
    assert manager.getHubReserveTokens() == 10_000 * TOKEN - 100 * TOKEN


def test_hubAuthorizedUpdate_executes_pending_updates_exactly_once(funded, signer, alice, proposal):
    submit(funded, signer, proposal)
    balances = tuple(funded.getChannelBalances(alice))

    with reverts("StaleTxCount", 3, 3):
        submit(funded, signer, proposal)
    assert tuple(funded.getChannelBalances(alice)) == balances


# ---------------------------------------------------------------------------- caller and user


@pytest.mark.parametrize("caller_index", [1, 9], ids=["user", "stranger"])
def test_hubAuthorizedUpdate_reverts_when_caller_is_not_hub(funded, signer, proposal, caller_index):
    caller = accounts[caller_index]
    with reverts("NotHub", caller):
        funded.hubAuthorizedUpdate(proposal.to_tuple(), signer.channel(proposal, proposal.user), {"from": caller})


@pytest.mark.parametrize("who", ["zero", "hub", "contract"])
def test_hubAuthorizedUpdate_reverts_when_user_is_invalid(funded, hub, who):
    user = {"zero": "0x" + "00" * 20, "hub": str(hub), "contract": funded.address}[who]
    state = ChannelState(user, user, pending_wei_updates=(1, 0, 0, 0), tx_count=(1, 1))
    with reverts("InvalidUser", user):
        funded.hubAuthorizedUpdate(state.to_tuple(), b"\x01" * 65, {"from": hub})


def test_hubAuthorizedUpdate_is_not_payable(funded, signer, hub, proposal):
    with brownie_reverts():
        funded.hubAuthorizedUpdate(
            proposal.to_tuple(), signer.channel(proposal, proposal.user), {"from": hub, "value": 1}
        )


# ---------------------------------------------------------------------------- status and time


def test_hubAuthorizedUpdate_reverts_when_channel_is_in_channel_dispute(funded, signer, alice, proposal):
    funded.startExit(alice, {"from": alice})

    with reverts("WrongChannelStatus", alice, 1):
        submit(funded, signer, proposal)


def test_hubAuthorizedUpdate_reverts_when_channel_is_in_thread_dispute(funded, signer, hub, alice, opened):
    with_thread = opened.evolve(tx_count=(3, 1), thread_root=b"\x11" * 32, thread_count=1)
    submit(funded, signer, with_thread)
    funded.startExit(alice, {"from": alice})
    funded.emptyChannel(alice, {"from": hub})
    assert tuple(funded.getChannelDetails(alice))[6] == 2
    later = with_thread.evolve(tx_count=(4, 1))

    with reverts("WrongChannelStatus", alice, 2):
        submit(funded, signer, later)


def test_hubAuthorizedUpdate_accepts_a_state_one_second_before_its_timeout(funded, signer, alice, proposal):
    timeout = latest_timestamp() + 100
    state = proposal.evolve(timeout=timeout)
    set_next_timestamp(timeout - 1)

    tx = submit(funded, signer, state)

    assert tx.timestamp == timeout - 1
    assert tuple(funded.getChannelDetails(alice))[:2] == (3, 2)


@pytest.mark.parametrize("offset", [0, 1], ids=["at_timeout", "after_timeout"])
def test_hubAuthorizedUpdate_reverts_when_state_expired(funded, signer, proposal, offset):
    timeout = latest_timestamp() + 100
    state = proposal.evolve(timeout=timeout)
    set_next_timestamp(timeout + offset)

    with reverts("StateExpired", timeout, timeout + offset):
        submit(funded, signer, state)


# ---------------------------------------------------------------------------- txCount rules


STALE_GLOBAL = {"equal_to_stored": (1, 1), "below_stored": (0, 1)}


@pytest.mark.parametrize("tx_count", STALE_GLOBAL.values(), ids=STALE_GLOBAL.keys())
def test_hubAuthorizedUpdate_reverts_when_global_tx_count_not_higher(funded, signer, opened, tx_count):
    state = opened.evolve(tx_count=tx_count)
    with reverts("StaleTxCount", tx_count[0], 1):
        submit(funded, signer, state)


def test_hubAuthorizedUpdate_reverts_when_onchain_tx_count_lowered(funded, signer, opened):
    state = opened.evolve(tx_count=(5, 0))
    with reverts("StaleOnchainTxCount", 0, 1):
        submit(funded, signer, state)


def test_hubAuthorizedUpdate_reverts_when_new_pending_keeps_the_onchain_count(funded, signer, proposal):
    state = proposal.evolve(tx_count=(3, 1))
    with reverts("PendingAlreadyExecuted", 1, 1):
        submit(funded, signer, state)


def test_hubAuthorizedUpdate_reverts_when_executed_pending_is_replayed_at_higher_nonce(
    funded, signer, alice, proposal
):
    """The v1 double-deposit: a later state legitimately carries the same pending fields and
    txCount[1] until acknowledged (docs/protocol.md §4); submitting it after execution must not re-execute."""
    submit(funded, signer, proposal)
    balances, reserve = tuple(funded.getChannelBalances(alice)), funded.getHubReserveWei()
    carried = transitions.pay(proposal, to_hub=True, wei=1)  # txCount [4, 2], same pending

    with reverts("PendingAlreadyExecuted", 2, 2):
        submit(funded, signer, carried)
    assert tuple(funded.getChannelBalances(alice)) == balances
    assert funded.getHubReserveWei() == reserve


# ---------------------------------------------------------------------------- balances and funds


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_hubAuthorizedUpdate_reverts_when_balances_exceed_stored_total(funded, signer, opened, asset):
    if asset == "eth":
        state = opened.evolve(wei_balances=(HUB_WEI + 1, USER_WEI), tx_count=(3, 1))
        expected = (HUB_WEI + 1, USER_WEI, 3 * ETHER)
    else:
        state = opened.evolve(token_balances=(HUB_TOKEN, USER_TOKEN + 1), tx_count=(3, 1))
        expected = (HUB_TOKEN, USER_TOKEN + 1, 300 * TOKEN)
    with reverts("BalancesExceedTotal", *expected):
        submit(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_hubAuthorizedUpdate_reverts_when_applied_balances_exceed_new_total(funded, signer, bob, new_state, asset):
    """docs/protocol.md §5 post-check: a fresh channel with hubDeposit = userWithdrawal = 10 would pay the
    user out of the hub's deposit and keep hub = 10 in a channel of total 0."""
    pending = (10, 0, 0, 10)
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = new_state(bob, tx_count=(1, 1), **{field: pending})

    with reverts("BalancesExceedTotal", 10, 0, 0):
        submit(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_hubAuthorizedUpdate_reverts_when_deposits_exceed_reserve(funded, signer, bob, new_state, asset):
    reserve = 100 * ETHER if asset == "eth" else 10_000 * TOKEN
    pending = (reserve // 2, 0, reserve // 2 + 1, 0)  # each alone fits; together they do not
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = new_state(bob, tx_count=(1, 1), **{field: pending})

    with reverts("InsufficientReserve", reserve + 1, reserve):
        submit(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_hubAuthorizedUpdate_reverts_when_reserve_is_counted_net_of_hub_withdrawal(
    funded, signer, hub, opened, asset
):
    """Gross: a hub deposit must be covered by the reserve even if the hub withdraws as much."""
    funded.hubContractWithdraw(funded.getHubReserveWei(), funded.getHubReserveTokens(), {"from": hub})
    amount = HUB_WEI if asset == "eth" else HUB_TOKEN
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = opened.evolve(tx_count=(3, 2), **{field: (amount, amount, 0, 0)})

    with reverts("InsufficientReserve", amount, 0):
        submit(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_hubAuthorizedUpdate_reverts_when_withdrawals_exceed_channel_funds(funded, signer, opened, asset):
    if asset == "eth":
        state = opened.evolve(wei_balances=(HUB_WEI, USER_WEI - 1), pending_wei_updates=(0, 0, 0, 2), tx_count=(3, 2))
        expected = (3 * ETHER + 1, 3 * ETHER)
    else:
        state = opened.evolve(
            token_balances=(HUB_TOKEN, USER_TOKEN), pending_token_updates=(0, 5, 0, 0), tx_count=(3, 2)
        )
        expected = (300 * TOKEN + 5, 300 * TOKEN)
    with reverts("InsufficientChannelFunds", *expected):
        submit(funded, signer, state)


VALUE_TOO_LARGE = {
    "wei_balance_2^128": ({"wei_balances": (2**128, 0)}, 2**128),
    "token_balance_2^128": ({"token_balances": (0, 2**128)}, 2**128),
    "hub_wei_deposit_2^128": ({"pending_wei_updates": (2**128, 0, 0, 0)}, 2**128),
    "user_token_withdrawal_2^128": ({"pending_token_updates": (0, 0, 0, 2**128)}, 2**128),
    "global_tx_count_2^64": ({"tx_count": (2**64, 2)}, 2**64),
    "onchain_tx_count_2^64": ({"tx_count": (3, 2**64)}, 2**64),
    "thread_count_2^32": ({"thread_count": 2**32}, 2**32),
}


@pytest.mark.parametrize("changes,value", VALUE_TOO_LARGE.values(), ids=VALUE_TOO_LARGE.keys())
def test_hubAuthorizedUpdate_reverts_when_value_too_large(funded, signer, proposal, changes, value):
    state = proposal.evolve(**changes)
    with reverts("ValueTooLarge", value):
        submit(funded, signer, state)


def test_hubAuthorizedUpdate_reverts_when_recipient_refuses_eth(funded, signer, opened, rejecting_wallet):
    state = transitions.propose_withdrawal(opened, user_wei=WEI_UNIT, recipient=rejecting_wallet.address)
    with reverts("TransferFailed", rejecting_wallet):
        submit(funded, signer, state)


# ---------------------------------------------------------------------------- signatures


TAMPERED = {
    "user": lambda s, others: s.evolve(user=others["bob"]),
    "recipient": lambda s, others: s.evolve(recipient=others["carol"]),
    "wei_balances": lambda s, others: s.evolve(wei_balances=(s.wei_balances[0] + 1, s.wei_balances[1] - 1)),
    "token_balances": lambda s, others: s.evolve(token_balances=(s.token_balances[0] - 1, s.token_balances[1] + 1)),
    "pending_wei_updates": lambda s, others: s.evolve(
        pending_wei_updates=(s.pending_wei_updates[0] + 1, *s.pending_wei_updates[1:])
    ),
    "pending_token_updates": lambda s, others: s.evolve(
        pending_token_updates=(*s.pending_token_updates[:2], s.pending_token_updates[2] + 1, 0)
    ),
    "tx_count_global": lambda s, others: s.evolve(tx_count=(s.tx_count[0] + 1, s.tx_count[1])),
    "tx_count_onchain": lambda s, others: s.evolve(tx_count=(s.tx_count[0], s.tx_count[1] + 1)),
    "thread_root": lambda s, others: s.evolve(thread_root=b"\x22" * 32),
    "thread_count": lambda s, others: s.evolve(thread_count=1),
    "timeout": lambda s, others: s.evolve(timeout=2**40),
}


@pytest.mark.parametrize("field", TAMPERED.keys())
def test_hubAuthorizedUpdate_reverts_when_signed_field_tampered(
    funded, signer, hub, alice, bob, carol, open_channel, proposal, field
):
    # bob's channel is stored exactly like alice's, so only the signature can catch the swap.
    open_channel(bob, user_wei=USER_WEI, user_token=USER_TOKEN, hub_wei=HUB_WEI, hub_token=HUB_TOKEN)
    tampered = TAMPERED[field](proposal, {"bob": str(bob), "carol": str(carol)})
    assert tampered != proposal

    with reverts("InvalidUserSignature", tampered.user):
        funded.hubAuthorizedUpdate(tampered.to_tuple(), signer.channel(proposal, alice), {"from": hub})


@pytest.mark.parametrize("key_of", ["bob", "hub"])
def test_hubAuthorizedUpdate_reverts_when_signed_by_another_key(funded, signer, hub, alice, bob, proposal, key_of):
    with reverts("InvalidUserSignature", alice):
        submit(funded, signer, proposal, sig_by={"bob": bob, "hub": hub}[key_of])


def test_hubAuthorizedUpdate_reverts_when_signed_for_another_contract(funded, hub, alice, other_manager, proposal):
    sig = sign_channel_state(anvil_key(1), Domain(chain.id, other_manager.address), proposal)
    with reverts("InvalidUserSignature", alice):
        funded.hubAuthorizedUpdate(proposal.to_tuple(), sig, {"from": hub})


def test_hubAuthorizedUpdate_reverts_when_signed_for_another_chain(funded, hub, alice, proposal):
    sig = sign_channel_state(anvil_key(1), Domain(1, funded.address), proposal)
    with reverts("InvalidUserSignature", alice):
        funded.hubAuthorizedUpdate(proposal.to_tuple(), sig, {"from": hub})


@pytest.mark.parametrize("mutation", SIGNATURE_MUTATIONS.keys())
def test_hubAuthorizedUpdate_reverts_when_user_signature_malformed(
    funded, signer, hub, alice, proposal, mutate_signature, mutation
):
    sig = mutate_signature(mutation, signer.channel(proposal, alice))
    with reverts("InvalidUserSignature", alice):
        funded.hubAuthorizedUpdate(proposal.to_tuple(), sig, {"from": hub})


# ---------------------------------------------------------------------------- contract-wallet user


@pytest.fixture
def wallet_deposit(wallet) -> ChannelState:
    return ChannelState(
        wallet.address, wallet.address, pending_wei_updates=(0, 0, ETHER, 0),
        pending_token_updates=(5 * TOKEN, 0, 0, 0), tx_count=(1, 1),
    )


def test_hubAuthorizedUpdate_accepts_erc1271_signature_of_contract_user(
    funded, signer, hub, alice, wallet, wallet_deposit
):
    tx = funded.hubAuthorizedUpdate(wallet_deposit.to_tuple(), signer.channel(wallet_deposit, alice), {"from": hub})

    assert tuple(funded.getChannelBalances(wallet)) == (0, ETHER, ETHER, 5 * TOKEN, 0, 5 * TOKEN)
    assert_update_event(tx, wallet_deposit, hub)


@pytest.mark.parametrize("length", [0, 3, 64, 100])
def test_hubAuthorizedUpdate_passes_contract_user_signature_of_any_length(
    funded, hub, alice, wallet, wallet_deposit, length
):
    sig = bytes(range(length))
    wallet.approveSignature(funded.channelStateDigest(wallet_deposit.to_tuple()), sig, {"from": alice})

    funded.hubAuthorizedUpdate(wallet_deposit.to_tuple(), sig, {"from": hub})

    assert tuple(funded.getChannelDetails(wallet))[:2] == (1, 1)


def test_hubAuthorizedUpdate_reverts_when_contract_user_rejects_signature(
    funded, signer, hub, alice, wallet, wallet_deposit
):
    wallet.setRejectSignatures(True, {"from": alice})
    with reverts("InvalidUserSignature", wallet):
        funded.hubAuthorizedUpdate(wallet_deposit.to_tuple(), signer.channel(wallet_deposit, alice), {"from": hub})


def test_hubAuthorizedUpdate_reverts_when_contract_user_signature_is_by_another_key(
    funded, signer, hub, bob, wallet, wallet_deposit
):
    with reverts("InvalidUserSignature", wallet):
        funded.hubAuthorizedUpdate(wallet_deposit.to_tuple(), signer.channel(wallet_deposit, bob), {"from": hub})


def test_hubAuthorizedUpdate_reverts_when_unapproved_odd_length_signature_for_contract_user(
    funded, hub, wallet, wallet_deposit
):
    with reverts("InvalidUserSignature", wallet):
        funded.hubAuthorizedUpdate(wallet_deposit.to_tuple(), bytes(range(100)), {"from": hub})
