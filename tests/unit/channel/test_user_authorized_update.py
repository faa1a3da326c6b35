"""userAuthorizedUpdate (docs/protocol.md §4, §5): the user executes a hub-signed state's pending updates;
its own deposit comes with the call (ETH as msg.value, tokens pulled), the hub's from the
reserve as it was before the call; user withdrawals go to the recipient."""

from __future__ import annotations

import pytest
from brownie import accounts, chain, reverts as brownie_reverts

from channel_manager import transitions
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from tests.helpers import ETHER, TOKEN, anvil_key, latest_timestamp, reverts, set_next_timestamp
from tests.unit.channel.conftest import FEE_BASIS_POINTS, SIGNATURE_MUTATIONS, applied_side, assert_update_event, fee_of
from tests.unit.channel.test_hub_authorized_update import APPLY_CASES, TAMPERED, VALUE_TOO_LARGE

WEI_UNIT = ETHER // 10
TOKEN_UNIT = TOKEN
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


def submit(manager, signer, state: ChannelState, sig_by=None, sender=None, value=None):
    """userAuthorizedUpdate signed by the hub (or `sig_by`), sent by the user with its deposit."""
    sig = signer.channel(state, sig_by or accounts[0])
    value = state.pending_wei_updates[2] if value is None else value
    return manager.userAuthorizedUpdate(state.to_tuple(), sig, {"from": sender or state.user, "value": value})


# ---------------------------------------------------------------------------- success paths


def test_userAuthorizedUpdate_state(funded, token, signer, hub, alice, carol, opened, observe):
    root = bytes.fromhex("cd" * 32)
    state = opened.evolve(
        recipient=str(carol),
        wei_balances=(HUB_WEI, USER_WEI - 3 * WEI_UNIT),
        token_balances=(HUB_TOKEN - 20 * TOKEN, USER_TOKEN),
        pending_wei_updates=(5 * WEI_UNIT, 2 * WEI_UNIT, 1 * WEI_UNIT, 4 * WEI_UNIT),
        pending_token_updates=(10 * TOKEN, 30 * TOKEN, 50 * TOKEN, 20 * TOKEN),
        tx_count=(3, 2),
        thread_root=root,
        thread_count=3,
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
    assert after.details == (3, 2, "0x" + root.hex(), 3, "0x" + "00" * 20, 0, 0)
    assert (after.total_wei, after.total_token) == (before.total_wei, before.total_token + 10 * TOKEN)
    # Only the hub's deposit leaves the reserve; the hub's withdrawal returns to it.
    assert after.reserve_wei == before.reserve_wei - 5 * WEI_UNIT + 2 * WEI_UNIT
    assert after.reserve_token == before.reserve_token - 10 * TOKEN + 30 * TOKEN
    # The user's deposit comes in, its withdrawal goes to the recipient.
    assert after.eth[str(funded)] == before.eth[str(funded)] + 1 * WEI_UNIT - 4 * WEI_UNIT
    assert after.tokens[str(funded)] == before.tokens[str(funded)] + 50 * TOKEN - 20 * TOKEN
    assert after.eth[str(alice)] == before.eth[str(alice)] - 1 * WEI_UNIT - fee_of(tx)
    assert after.tokens[str(alice)] == before.tokens[str(alice)] - 50 * TOKEN
    assert after.eth[str(carol)] == before.eth[str(carol)] + 4 * WEI_UNIT
    assert after.tokens[str(carol)] == before.tokens[str(carol)] + 20 * TOKEN
    assert after.eth[str(hub)] == before.eth[str(hub)]
    assert after.tokens[str(hub)] == before.tokens[str(hub)]
    assert_update_event(tx, state, alice)


@pytest.mark.parametrize("pending", APPLY_CASES.values(), ids=APPLY_CASES.keys())
def test_userAuthorizedUpdate_applies_pending_per_side(funded, token, signer, alice, carol, opened, observe, pending):
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
    before = observe(funded, token, alice, alice, carol)

    submit(funded, signer, state)

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
    assert after.reserve_wei == before.reserve_wei + (hub_wd - hub_dep) * WEI_UNIT
    assert after.reserve_token == before.reserve_token + (hub_wd - hub_dep) * TOKEN_UNIT
    assert after.eth[str(carol)] == before.eth[str(carol)] + user_wd * WEI_UNIT
    assert after.tokens[str(carol)] == before.tokens[str(carol)] + user_wd * TOKEN_UNIT
    assert after.tokens[str(alice)] == before.tokens[str(alice)] - user_dep * TOKEN_UNIT


def test_userAuthorizedUpdate_accepts_hub_deposit_equal_to_the_reserve(funded, signer, alice, new_state):
    reserve_wei, reserve_token = funded.getHubReserveWei(), funded.getHubReserveTokens()
    state = new_state(alice, pending_wei_updates=(reserve_wei, 0, ETHER, 0),
                      pending_token_updates=(reserve_token, 0, 0, 0), tx_count=(1, 1))

    submit(funded, signer, state)

    assert (funded.getHubReserveWei(), funded.getHubReserveTokens()) == (0, 0)
    assert tuple(funded.getChannelBalances(alice)) == (
        reserve_wei, ETHER, reserve_wei + ETHER, reserve_token, 0, reserve_token
    )


def test_userAuthorizedUpdate_pulls_a_token_that_returns_nothing(no_return_env, alice, carol):
    manager, token, signer = no_return_env.manager, no_return_env.token, no_return_env.signer
    deposit = ChannelState(str(alice), str(alice), pending_token_updates=(0, 0, 100 * TOKEN, 0), tx_count=(1, 1))
    submit(manager, signer, deposit)
    withdrawal = transitions.propose_withdrawal(
        transitions.acknowledge(deposit), user_token=30 * TOKEN, recipient=str(carol)
    )

    submit(manager, signer, withdrawal)

    assert token.balanceOf(alice) == 900 * TOKEN
    assert token.balanceOf(carol) == 30 * TOKEN
    assert tuple(manager.getChannelBalances(alice)) == (0, 0, 0, 0, 70 * TOKEN, 70 * TOKEN)
    assert manager.getHubReserveTokens() == 10_000 * TOKEN


def test_userAuthorizedUpdate_executes_pending_updates_exactly_once(funded, signer, alice, proposal):
    submit(funded, signer, proposal)
    balances = tuple(funded.getChannelBalances(alice))

    with reverts("StaleTxCount", 3, 3):
        submit(funded, signer, proposal)
    assert tuple(funded.getChannelBalances(alice)) == balances


def test_userAuthorizedUpdate_by_contract_wallet_user(funded, token, signer, hub, alice, wallet):
    """A contract user calls through its own code, with value, after approving the token."""
    token.mint(wallet, 50 * TOKEN, {"from": alice})
    wallet.execute(token, 0, token.approve.encode_input(funded, 50 * TOKEN), {"from": alice})
    state = ChannelState(
        wallet.address, wallet.address, pending_wei_updates=(ETHER, 0, 2 * ETHER, 0),
        pending_token_updates=(0, 0, 50 * TOKEN, 0), tx_count=(1, 1),
    )
    data = funded.userAuthorizedUpdate.encode_input(state.to_tuple(), signer.channel(state, hub))

    tx = wallet.execute(funded, 2 * ETHER, data, {"from": alice, "value": 2 * ETHER})

    assert tuple(funded.getChannelBalances(wallet)) == (ETHER, 2 * ETHER, 3 * ETHER, 0, 50 * TOKEN, 50 * TOKEN)
    assert token.balanceOf(wallet) == 0
    assert_update_event(tx, state, wallet)


# ---------------------------------------------------------------------------- caller and user


@pytest.mark.parametrize("caller_index", [0, 2, 9], ids=["hub", "other_user", "stranger"])
def test_userAuthorizedUpdate_reverts_when_caller_is_not_the_user(funded, signer, alice, proposal, caller_index):
    caller = accounts[caller_index]
    with reverts("NotUser", caller, alice):
        submit(funded, signer, proposal, sender=caller)


def test_userAuthorizedUpdate_reverts_when_user_is_hub(funded, signer, hub):
    state = ChannelState(str(hub), str(hub), pending_wei_updates=(1, 0, 0, 0), tx_count=(1, 1))
    with reverts("InvalidUser", hub):
        submit(funded, signer, state, sender=hub)


@pytest.mark.parametrize("who", ["zero", "contract"])
def test_userAuthorizedUpdate_reverts_with_not_user_for_users_that_cannot_call(funded, signer, alice, who):
    """Zero and the manager itself can never be msg.sender, so NotUser fires before InvalidUser."""
    user = {"zero": "0x" + "00" * 20, "contract": funded.address}[who]
    state = ChannelState(user, user, pending_wei_updates=(1, 0, 0, 0), tx_count=(1, 1))
    with reverts("NotUser", alice, user):
        submit(funded, signer, state, sender=alice)


# ---------------------------------------------------------------------------- deposit value


WRONG_VALUES = {"one_wei_less": -1, "one_wei_more": 1}


@pytest.mark.parametrize("delta", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
def test_userAuthorizedUpdate_reverts_when_value_differs_from_user_deposit(funded, signer, proposal, delta):
    expected = proposal.pending_wei_updates[2]
    with reverts("WrongDepositValue", expected + delta, expected):
        submit(funded, signer, proposal, value=expected + delta)


def test_userAuthorizedUpdate_reverts_when_value_sent_without_user_deposit(funded, signer, opened):
    state = transitions.propose_deposit(opened, hub_wei=WEI_UNIT)
    with reverts("WrongDepositValue", 1, 0):
        submit(funded, signer, state, value=1)


# ---------------------------------------------------------------------------- status and time


def test_userAuthorizedUpdate_reverts_when_channel_is_in_dispute(funded, signer, hub, alice, proposal):
    funded.startExit(alice, {"from": hub})

    with reverts("WrongChannelStatus", alice, 1):
        submit(funded, signer, proposal)


def test_userAuthorizedUpdate_accepts_a_state_one_second_before_its_timeout(funded, signer, alice, proposal):
    timeout = latest_timestamp() + 100
    state = proposal.evolve(timeout=timeout)
    set_next_timestamp(timeout - 1)

    tx = submit(funded, signer, state)

    assert tx.timestamp == timeout - 1
    assert tuple(funded.getChannelDetails(alice))[:2] == (3, 2)


@pytest.mark.parametrize("offset", [0, 1], ids=["at_timeout", "after_timeout"])
def test_userAuthorizedUpdate_reverts_when_state_expired(funded, signer, proposal, offset):
    timeout = latest_timestamp() + 100
    state = proposal.evolve(timeout=timeout)
    set_next_timestamp(timeout + offset)

    with reverts("StateExpired", timeout, timeout + offset):
        submit(funded, signer, state)


# ---------------------------------------------------------------------------- txCount rules


STALE_GLOBAL = {"equal_to_stored": (1, 1), "below_stored": (0, 1)}


@pytest.mark.parametrize("tx_count", STALE_GLOBAL.values(), ids=STALE_GLOBAL.keys())
def test_userAuthorizedUpdate_reverts_when_global_tx_count_not_higher(funded, signer, opened, tx_count):
    with reverts("StaleTxCount", tx_count[0], 1):
        submit(funded, signer, opened.evolve(tx_count=tx_count))


def test_userAuthorizedUpdate_reverts_when_onchain_tx_count_lowered(funded, signer, opened):
    with reverts("StaleOnchainTxCount", 0, 1):
        submit(funded, signer, opened.evolve(tx_count=(5, 0)))


def test_userAuthorizedUpdate_reverts_when_new_pending_keeps_the_onchain_count(funded, signer, proposal):
    with reverts("PendingAlreadyExecuted", 1, 1):
        submit(funded, signer, proposal.evolve(tx_count=(3, 1)))


def test_userAuthorizedUpdate_reverts_when_executed_deposit_is_replayed_at_higher_nonce(
    funded, signer, hub, alice, new_state
):
    """The v1 double-deposit: the opening deposit, carried into a later hub-signed state at a
    higher global count, must not credit the hub's deposit a second time."""
    deposit = new_state(alice, pending_wei_updates=(ETHER, 0, ETHER, 0), tx_count=(1, 1))
    submit(funded, signer, deposit)
    carried = transitions.pay(deposit, to_hub=False, wei=0)  # txCount [2, 1], same pending
    reserve, balances = funded.getHubReserveWei(), tuple(funded.getChannelBalances(alice))

    with reverts("PendingAlreadyExecuted", 1, 1):
        submit(funded, signer, carried)
    assert funded.getHubReserveWei() == reserve
    assert tuple(funded.getChannelBalances(alice)) == balances


# ---------------------------------------------------------------------------- balances, reserve, funds


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_userAuthorizedUpdate_reverts_when_balances_exceed_stored_total(funded, signer, opened, asset):
    if asset == "eth":
        state = opened.evolve(wei_balances=(HUB_WEI, USER_WEI + 1), tx_count=(3, 1))
        expected = (HUB_WEI, USER_WEI + 1, 3 * ETHER)
    else:
        state = opened.evolve(token_balances=(HUB_TOKEN + 1, USER_TOKEN), tx_count=(3, 1))
        expected = (HUB_TOKEN + 1, USER_TOKEN, 300 * TOKEN)
    with reverts("BalancesExceedTotal", *expected):
        submit(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_userAuthorizedUpdate_reverts_when_applied_balances_exceed_new_total(funded, signer, bob, new_state, asset):
    """docs/protocol.md §5 post-check: fresh channel, hubDeposit = userWithdrawal = 10, hub balance 10."""
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = new_state(bob, tx_count=(1, 1), **{field: (10, 0, 0, 10)})

    with reverts("BalancesExceedTotal", 10, 0, 0):
        submit(funded, signer, state)


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_userAuthorizedUpdate_reverts_when_hub_deposit_exceeds_reserve(funded, signer, bob, new_state, asset):
    reserve = 100 * ETHER if asset == "eth" else 10_000 * TOKEN
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = new_state(bob, tx_count=(1, 1), **{field: (reserve + 1, 0, 0, 0)})

    with reverts("InsufficientReserve", reserve + 1, reserve):
        submit(funded, signer, state)


def test_userAuthorizedUpdate_reverts_when_users_own_eth_would_back_the_hub_deposit(
    empty_manager, empty_signer, hub, alice, new_state
):
    """The v1 theft: reserve 1 ETH, alice sends 5 ETH and asks the hub to match 2 ETH. The
    reserve before the call is 1 ETH; alice's in-flight 5 ETH must not count."""
    hub.transfer(empty_manager, ETHER)
    state = new_state(alice, pending_wei_updates=(2 * ETHER, 0, 5 * ETHER, 0), tx_count=(1, 1))

    with reverts("InsufficientReserve", 2 * ETHER, ETHER):
        submit(empty_manager, empty_signer, state)


def test_userAuthorizedUpdate_reverts_when_users_own_tokens_would_back_the_hub_deposit(
    empty_manager, empty_signer, token, hub, alice, new_state
):
    token.mint(empty_manager, 1 * TOKEN, {"from": hub})
    token.mint(alice, 5 * TOKEN, {"from": alice})
    token.approve(empty_manager, 5 * TOKEN, {"from": alice})
    state = new_state(alice, pending_token_updates=(2 * TOKEN, 0, 5 * TOKEN, 0), tx_count=(1, 1))

    with reverts("InsufficientReserve", 2 * TOKEN, TOKEN):
        submit(empty_manager, empty_signer, state)


def test_userAuthorizedUpdate_user_deposit_needs_no_reserve(empty_manager, empty_signer, alice, new_state):
    state = new_state(alice, pending_wei_updates=(0, 0, 5 * ETHER, 0), tx_count=(1, 1))

    submit(empty_manager, empty_signer, state)

    assert tuple(empty_manager.getChannelBalances(alice)) == (0, 5 * ETHER, 5 * ETHER, 0, 0, 0)
    assert empty_manager.getHubReserveWei() == 0


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_userAuthorizedUpdate_reverts_when_withdrawals_exceed_channel_funds(funded, signer, opened, asset):
    if asset == "eth":
        state = opened.evolve(pending_wei_updates=(0, 1, 0, 0), tx_count=(3, 2))
        expected = (3 * ETHER + 1, 3 * ETHER)
    else:
        state = opened.evolve(token_balances=(HUB_TOKEN, USER_TOKEN - 1), pending_token_updates=(0, 0, 0, 2),
                              tx_count=(3, 2))
        expected = (300 * TOKEN + 1, 300 * TOKEN)
    with reverts("InsufficientChannelFunds", *expected):
        submit(funded, signer, state)


def test_userAuthorizedUpdate_reverts_when_token_delivers_less(fee_env, alice):
    manager, signer = fee_env.manager, fee_env.signer
    state = ChannelState(str(alice), str(alice), pending_token_updates=(0, 0, 100 * TOKEN, 0), tx_count=(1, 1))
    received = 100 * TOKEN - 100 * TOKEN * FEE_BASIS_POINTS // 10_000

    with reverts("TokenTransferShortfall", 100 * TOKEN, received):
        submit(manager, signer, state)


def test_userAuthorizedUpdate_reverts_when_token_allowance_missing(funded, token, signer, alice, proposal):
    token.approve(funded, 0, {"from": alice})
    needed = proposal.pending_token_updates[2]

    with brownie_reverts(f"ERC20InsufficientAllowance: {funded.address.lower()}, 0, {needed}"):
        submit(funded, signer, proposal)


def test_userAuthorizedUpdate_reverts_when_recipient_refuses_eth(funded, signer, opened, rejecting_wallet):
    state = transitions.propose_withdrawal(opened, user_wei=WEI_UNIT, recipient=rejecting_wallet.address)
    with reverts("TransferFailed", rejecting_wallet):
        submit(funded, signer, state)


@pytest.mark.parametrize("changes,value", VALUE_TOO_LARGE.values(), ids=VALUE_TOO_LARGE.keys())
def test_userAuthorizedUpdate_reverts_when_value_too_large(funded, signer, proposal, changes, value):
    with reverts("ValueTooLarge", value):
        submit(funded, signer, proposal.evolve(**changes))


# ---------------------------------------------------------------------------- hub signature


@pytest.mark.parametrize("field", TAMPERED.keys())
def test_userAuthorizedUpdate_reverts_when_signed_field_tampered(
    funded, signer, hub, bob, carol, open_channel, proposal, field
):
    open_channel(bob, user_wei=USER_WEI, user_token=USER_TOKEN, hub_wei=HUB_WEI, hub_token=HUB_TOKEN)
    tampered = TAMPERED[field](proposal, {"bob": str(bob), "carol": str(carol)})
    assert tampered != proposal

    with reverts("InvalidHubSignature"):
        funded.userAuthorizedUpdate(
            tampered.to_tuple(),
            signer.channel(proposal, hub),
            {"from": tampered.user, "value": tampered.pending_wei_updates[2]},
        )


@pytest.mark.parametrize("key_of", ["user", "other_user"])
def test_userAuthorizedUpdate_reverts_when_signed_by_another_key(funded, signer, alice, bob, proposal, key_of):
    with reverts("InvalidHubSignature"):
        submit(funded, signer, proposal, sig_by={"user": alice, "other_user": bob}[key_of])


def test_userAuthorizedUpdate_reverts_when_signed_for_another_contract(funded, alice, other_manager, proposal):
    sig = sign_channel_state(anvil_key(0), Domain(chain.id, other_manager.address), proposal)
    with reverts("InvalidHubSignature"):
        funded.userAuthorizedUpdate(proposal.to_tuple(), sig, {"from": alice, "value": proposal.pending_wei_updates[2]})


def test_userAuthorizedUpdate_reverts_when_signed_for_another_chain(funded, alice, proposal):
    sig = sign_channel_state(anvil_key(0), Domain(1, funded.address), proposal)
    with reverts("InvalidHubSignature"):
        funded.userAuthorizedUpdate(proposal.to_tuple(), sig, {"from": alice, "value": proposal.pending_wei_updates[2]})


@pytest.mark.parametrize("mutation", SIGNATURE_MUTATIONS.keys())
def test_userAuthorizedUpdate_reverts_when_hub_signature_malformed(
    funded, signer, hub, alice, proposal, mutate_signature, mutation
):
    sig = mutate_signature(mutation, signer.channel(proposal, hub))
    with reverts("InvalidHubSignature"):
        funded.userAuthorizedUpdate(proposal.to_tuple(), sig, {"from": alice, "value": proposal.pending_wei_updates[2]})
