"""Views (docs/protocol.md §9): reserve views never revert, untouched channels read as zero, credits start
at zero, and the digest views equal the off-chain package's EIP-712 digests."""

from __future__ import annotations

from brownie import accounts, chain

from channel_manager.contract_views import ChannelStatus, channel_details, thread_record
from channel_manager.eip712 import Domain, channel_digest, thread_digest
from channel_manager.states import ChannelState, ThreadState
from tests.helpers import ETHER, TOKEN, ZERO_ADDRESS, reverts


def test_getHubReserveTokens_is_zero_when_token_balance_reverts(reverting_env):
    manager, token = reverting_env.manager, reverting_env.token
    assert manager.getHubReserveTokens() == 500 * TOKEN
    token.setBroken(True, {"from": accounts[0]})

    assert manager.getHubReserveTokens() == 0
    assert manager.getHubReserveWei() == ETHER


def test_hubContractWithdraw_sees_no_token_reserve_when_balance_reverts(reverting_env, hub):
    reverting_env.token.setBroken(True, {"from": hub})
    with reverts("InsufficientReserve", 1, 0):
        reverting_env.manager.hubContractWithdraw(0, 1, {"from": hub})


def test_getChannelBalances_of_untouched_user_is_zero(funded, stranger):
    assert tuple(funded.getChannelBalances(stranger)) == (0, 0, 0, 0, 0, 0)


def test_getChannelDetails_of_untouched_user_is_zero(funded, stranger):
    assert channel_details(funded, str(stranger)) == (
        0,
        0,
        bytes(32),
        0,
        ZERO_ADDRESS,
        0,
        ChannelStatus.OPEN,
    )


def test_credits_of_untouched_user_are_zero(funded, alice):
    assert (funded.creditWei(alice), funded.creditToken(alice)) == (0, 0)


def test_getThread_of_undisputed_thread_is_zero(funded, alice, bob):
    assert thread_record(funded, str(alice), str(bob), 0) == (
        (0, 0),
        (0, 0),
        0,
        0,
        (False, False),
    )


def test_channelStateDigest_equals_package_digest(funded, alice, carol):
    state = ChannelState(
        str(alice),
        str(carol),
        (1, 2),
        (3, 4),
        (5, 6, 7, 8),
        (9, 10, 11, 12),
        (13, 14),
        b"\x5a" * 32,
        15,
        16,
    )
    expected = channel_digest(Domain(chain.id, funded.address), state)
    assert bytes(funded.channelStateDigest(state.to_tuple())) == expected


def test_threadStateDigest_equals_package_digest(funded, alice, bob):
    state = ThreadState(str(alice), str(bob), 7, (100, 0), (200, 0), 0)
    expected = thread_digest(Domain(chain.id, funded.address), state)
    assert bytes(funded.threadStateDigest(state.to_tuple())) == expected


def test_digests_differ_between_deployments(funded, other_manager, alice):
    state = ChannelState(str(alice), str(alice), tx_count=(1, 0))
    assert bytes(funded.channelStateDigest(state.to_tuple())) != bytes(
        other_manager.channelStateDigest(state.to_tuple())
    )
