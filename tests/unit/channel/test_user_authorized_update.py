"""userAuthorizedUpdate (docs/protocol.md §4, §5): the user executes a hub-signed state's pending updates;
its own deposit comes with the call (ETH as msg.value, tokens pulled), the hub's from the
reserve as it was before the call; user withdrawals go to the recipient."""

from __future__ import annotations

import pytest
from brownie import accounts
from brownie import reverts as brownie_reverts

from channel_manager import transitions
from channel_manager.states import ChannelState
from tests.fixtures.authorized_updates import WEI_UNIT, submit_by_user
from tests.fixtures.channels import assert_update_event
from tests.fixtures.deployments import FEE_BASIS_POINTS
from tests.helpers import ETHER, TOKEN, fee_of, reverts

# ---------------------------------------------------------------------------- success paths


def test_userAuthorizedUpdate_state(funded, hub, alice, carol, submit_mixed_update):
    state, tx, before, after = submit_mixed_update(submit_by_user, bytes.fromhex("cd" * 32), 3)

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


def test_userAuthorizedUpdate_accepts_hub_deposit_equal_to_the_reserve(
    funded, signer, alice, new_state
):
    reserve_wei, reserve_token = funded.getHubReserveWei(), funded.getHubReserveTokens()
    state = new_state(
        alice,
        pending_wei_updates=(reserve_wei, 0, ETHER, 0),
        pending_token_updates=(reserve_token, 0, 0, 0),
        tx_count=(1, 1),
    )

    submit_by_user(funded, signer, state)

    assert (funded.getHubReserveWei(), funded.getHubReserveTokens()) == (0, 0)
    assert tuple(funded.getChannelBalances(alice)) == (
        reserve_wei,
        ETHER,
        reserve_wei + ETHER,
        reserve_token,
        0,
        reserve_token,
    )


def test_userAuthorizedUpdate_pulls_a_token_that_returns_nothing(no_return_env, alice, carol):
    manager, token, signer = no_return_env.manager, no_return_env.token, no_return_env.signer
    deposit = ChannelState(
        str(alice), str(alice), pending_token_updates=(0, 0, 100 * TOKEN, 0), tx_count=(1, 1)
    )
    submit_by_user(manager, signer, deposit)
    withdrawal = transitions.propose_withdrawal(
        transitions.acknowledge(deposit), user_token=30 * TOKEN, recipient=str(carol)
    )

    submit_by_user(manager, signer, withdrawal)

    assert token.balanceOf(alice) == 900 * TOKEN
    assert token.balanceOf(carol) == 30 * TOKEN
    assert tuple(manager.getChannelBalances(alice)) == (0, 0, 0, 0, 70 * TOKEN, 70 * TOKEN)
    assert manager.getHubReserveTokens() == 10_000 * TOKEN


def test_userAuthorizedUpdate_by_contract_wallet_user(funded, token, signer, hub, alice, wallet):
    """A contract user calls through its own code, with value, after approving the token."""
    token.mint(wallet, 50 * TOKEN, {"from": alice})
    wallet.execute(token, 0, token.approve.encode_input(funded, 50 * TOKEN), {"from": alice})
    state = ChannelState(
        wallet.address,
        wallet.address,
        pending_wei_updates=(ETHER, 0, 2 * ETHER, 0),
        pending_token_updates=(0, 0, 50 * TOKEN, 0),
        tx_count=(1, 1),
    )
    data = funded.userAuthorizedUpdate.encode_input(state.to_tuple(), signer.channel(state, hub))

    tx = wallet.execute(funded, 2 * ETHER, data, {"from": alice, "value": 2 * ETHER})

    assert tuple(funded.getChannelBalances(wallet)) == (
        ETHER,
        2 * ETHER,
        3 * ETHER,
        0,
        50 * TOKEN,
        50 * TOKEN,
    )
    assert token.balanceOf(wallet) == 0
    assert_update_event(tx, state, wallet)


# ---------------------------------------------------------------------------- caller and user


@pytest.mark.parametrize("caller_index", [0, 2, 9], ids=["hub", "other_user", "stranger"])
def test_userAuthorizedUpdate_reverts_when_caller_is_not_the_user(
    funded, signer, alice, proposal, caller_index
):
    caller = accounts[caller_index]
    with reverts("NotUser", caller, alice):
        submit_by_user(funded, signer, proposal, sender=caller)


def test_userAuthorizedUpdate_reverts_when_user_is_hub(funded, signer, hub):
    state = ChannelState(str(hub), str(hub), pending_wei_updates=(1, 0, 0, 0), tx_count=(1, 1))
    with reverts("InvalidUser", hub):
        submit_by_user(funded, signer, state, sender=hub)


@pytest.mark.parametrize("who", ["zero", "contract"])
def test_userAuthorizedUpdate_reverts_when_user_cannot_be_the_caller(funded, signer, alice, who):
    """Zero and the manager itself can never be msg.sender, so NotUser fires before InvalidUser."""
    user = {"zero": "0x" + "00" * 20, "contract": funded.address}[who]
    state = ChannelState(user, user, pending_wei_updates=(1, 0, 0, 0), tx_count=(1, 1))
    with reverts("NotUser", alice, user):
        submit_by_user(funded, signer, state, sender=alice)


# ---------------------------------------------------------------------------- deposit value


WRONG_VALUES = {"one_wei_less": -1, "one_wei_more": 1}


@pytest.mark.parametrize("delta", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
def test_userAuthorizedUpdate_reverts_when_value_differs_from_user_deposit(
    funded, signer, proposal, delta
):
    expected = proposal.pending_wei_updates[2]
    with reverts("WrongDepositValue", expected + delta, expected):
        submit_by_user(funded, signer, proposal, value=expected + delta)


def test_userAuthorizedUpdate_reverts_when_value_sent_without_user_deposit(funded, signer, opened):
    state = transitions.propose_deposit(opened, hub_wei=WEI_UNIT)
    with reverts("WrongDepositValue", 1, 0):
        submit_by_user(funded, signer, state, value=1)


# ---------------------------------------------------------------------------- status and time


# ---------------------------------------------------------------------------- txCount rules


def test_userAuthorizedUpdate_reverts_when_executed_deposit_is_replayed_at_higher_nonce(
    funded, signer, hub, alice, new_state
):
    """The v1 double-deposit: the opening deposit, carried into a later hub-signed state at a
    higher global count, must not credit the hub's deposit a second time."""
    deposit = new_state(alice, pending_wei_updates=(ETHER, 0, ETHER, 0), tx_count=(1, 1))
    submit_by_user(funded, signer, deposit)
    carried = transitions.pay(deposit, to_hub=False, wei=0)  # txCount [2, 1], same pending
    reserve, balances = funded.getHubReserveWei(), tuple(funded.getChannelBalances(alice))

    with reverts("PendingAlreadyExecuted", 1, 1):
        submit_by_user(funded, signer, carried)
    assert funded.getHubReserveWei() == reserve
    assert tuple(funded.getChannelBalances(alice)) == balances


# ---------------------------------------------------------------------------- balances, reserve, funds


@pytest.mark.parametrize("asset", ["eth", "token"])
def test_userAuthorizedUpdate_reverts_when_hub_deposit_exceeds_reserve(
    funded, signer, bob, new_state, asset
):
    reserve = 100 * ETHER if asset == "eth" else 10_000 * TOKEN
    field = "pending_wei_updates" if asset == "eth" else "pending_token_updates"
    state = new_state(bob, tx_count=(1, 1), **{field: (reserve + 1, 0, 0, 0)})

    with reverts("InsufficientReserve", reserve + 1, reserve):
        submit_by_user(funded, signer, state)


def test_userAuthorizedUpdate_reverts_when_users_own_eth_would_back_the_hub_deposit(
    empty_manager, empty_signer, hub, alice, new_state
):
    """The v1 theft: reserve 1 ETH, alice sends 5 ETH and asks the hub to match 2 ETH. The
    reserve before the call is 1 ETH; alice's in-flight 5 ETH must not count."""
    hub.transfer(empty_manager, ETHER)
    state = new_state(alice, pending_wei_updates=(2 * ETHER, 0, 5 * ETHER, 0), tx_count=(1, 1))

    with reverts("InsufficientReserve", 2 * ETHER, ETHER):
        submit_by_user(empty_manager, empty_signer, state)


def test_userAuthorizedUpdate_reverts_when_users_own_tokens_would_back_the_hub_deposit(
    empty_manager, empty_signer, token, hub, alice, new_state
):
    token.mint(empty_manager, 1 * TOKEN, {"from": hub})
    token.mint(alice, 5 * TOKEN, {"from": alice})
    token.approve(empty_manager, 5 * TOKEN, {"from": alice})
    state = new_state(alice, pending_token_updates=(2 * TOKEN, 0, 5 * TOKEN, 0), tx_count=(1, 1))

    with reverts("InsufficientReserve", 2 * TOKEN, TOKEN):
        submit_by_user(empty_manager, empty_signer, state)


def test_userAuthorizedUpdate_user_deposit_needs_no_reserve(
    empty_manager, empty_signer, alice, new_state
):
    state = new_state(alice, pending_wei_updates=(0, 0, 5 * ETHER, 0), tx_count=(1, 1))

    submit_by_user(empty_manager, empty_signer, state)

    assert tuple(empty_manager.getChannelBalances(alice)) == (0, 5 * ETHER, 5 * ETHER, 0, 0, 0)
    assert empty_manager.getHubReserveWei() == 0


def test_userAuthorizedUpdate_reverts_when_token_delivers_less(fee_env, alice):
    manager, signer = fee_env.manager, fee_env.signer
    state = ChannelState(
        str(alice), str(alice), pending_token_updates=(0, 0, 100 * TOKEN, 0), tx_count=(1, 1)
    )
    received = 100 * TOKEN - 100 * TOKEN * FEE_BASIS_POINTS // 10_000

    with reverts("TokenTransferShortfall", 100 * TOKEN, received):
        submit_by_user(manager, signer, state)


def test_userAuthorizedUpdate_reverts_when_token_allowance_missing(
    funded, token, signer, alice, proposal
):
    token.approve(funded, 0, {"from": alice})
    needed = proposal.pending_token_updates[2]

    with brownie_reverts(f"ERC20InsufficientAllowance: {funded.address.lower()}, 0, {needed}"):
        submit_by_user(funded, signer, proposal)


# ---------------------------------------------------------------------------- hub signature
