"""Re-entrance (docs/protocol.md §10.8): a recipient that calls back into the manager while it is being
paid gets nothing extra — the re-entrant call reverts with OpenZeppelin's
ReentrancyGuardReentrantCall — and the outer call completes with exactly its own effects."""

import pytest
from brownie import ReentrantRecipient
from eth_utils import keccak

from channel_manager import transitions
from channel_manager.contract_views import ChannelStatus
from tests.helpers import ETHER, TOKEN, event_args

REENTRANT_CALL = "0x" + keccak(text="ReentrancyGuardReentrantCall()")[:4].hex()
WITHDRAWAL = 4 * ETHER // 10


@pytest.fixture
def recipient(contract_user):
    return contract_user(ReentrantRecipient)


def _reentry_calls(manager, proposal, sig_hub, sig_user, alice, recipient):
    """Calls a recipient might try while it holds control, by name."""
    return {
        "replay_user_update": manager.userAuthorizedUpdate.encode_input(
            proposal.to_tuple(), sig_hub
        ),
        "replay_hub_update": manager.hubAuthorizedUpdate.encode_input(
            proposal.to_tuple(), sig_user
        ),
        "start_exit": manager.startExit.encode_input(alice),
        "empty_channel": manager.emptyChannel.encode_input(alice),
        "claim": manager.claim.encode_input(recipient),
        "hub_contract_withdraw": manager.hubContractWithdraw.encode_input(1, 0),
    }


@pytest.mark.parametrize("path", ["user_authorized", "hub_authorized"])
@pytest.mark.parametrize(
    "call",
    [
        "replay_user_update",
        "replay_hub_update",
        "start_exit",
        "empty_channel",
        "claim",
        "hub_contract_withdraw",
    ],
)
def test_reentrant_withdrawal_recipient_gets_nothing_extra(
    funded,
    token,
    open_channel,
    key_signer,
    recipient,
    read_channel,
    read_globals,
    hub,
    alice,
    path,
    call,
):
    acknowledged = open_channel(alice)  # ETH user 1, TST hub 50 / user 100; txCount (2, 1)
    proposal = transitions.propose_withdrawal(
        acknowledged, user_wei=WITHDRAWAL, recipient=recipient.address
    )
    sig_hub, sig_user = key_signer.both(proposal, hub)
    recipient.setReentryCall(
        _reentry_calls(funded, proposal, sig_hub, sig_user, alice, recipient)[call], {"from": alice}
    )
    globals_before = read_globals()

    if path == "user_authorized":
        tx = funded.userAuthorizedUpdate(proposal.to_tuple(), sig_hub, {"from": alice})
    else:
        tx = funded.hubAuthorizedUpdate(proposal.to_tuple(), sig_user, {"from": hub})

    # the re-entrant call was made and refused by the guard
    assert recipient.reentered()
    assert not recipient.reentrySucceeded()
    assert recipient.reentryResult() == REENTRANT_CALL
    # the recipient got exactly the withdrawal, once
    assert recipient.received() == WITHDRAWAL
    assert recipient.balance() == WITHDRAWAL
    assert funded.creditWei(recipient) == 0
    # the outer update had its own effects and no other
    channel = read_channel(alice)
    assert (channel["weiUser"], channel["weiTotal"]) == (ETHER - WITHDRAWAL, ETHER - WITHDRAWAL)
    assert (channel["txCountGlobal"], channel["txCountChain"], channel["status"]) == (
        3,
        2,
        ChannelStatus.OPEN,
    )
    assert read_globals() == {
        **globals_before,
        "totalChannelWei": globals_before["totalChannelWei"] - WITHDRAWAL,
        "contractWei": globals_before["contractWei"] - WITHDRAWAL,
    }
    assert event_args(tx, "DidUpdateChannel")["txCount"] == (3, 2)


@pytest.mark.parametrize("call", ["empty_channel", "claim", "start_exit"])
def test_reentrant_user_during_dispute_payout_gets_nothing_extra(
    funded, token, recipient, open_contract_channel, read_channel, read_globals, hub, alice, call
):
    """The re-entering party is the channel's user, paid by emptyChannel (bounded gas)."""
    open_contract_channel(recipient)  # user 1 ETH / 100 TST, hub 50 TST
    data = {
        "empty_channel": funded.emptyChannel.encode_input(recipient),
        "claim": funded.claim.encode_input(recipient),
        "start_exit": funded.startExit.encode_input(recipient),
    }[call]
    recipient.setReentryCall(data, {"from": alice})
    funded.startExit(recipient, {"from": hub})
    globals_before = read_globals()

    # the user concedes at once; its payout (100,000 gas forwarded) re-enters
    tx = recipient.emptyChannel({"from": alice, "gas_limit": 1_000_000})

    assert recipient.reentered()
    assert not recipient.reentrySucceeded()
    assert recipient.reentryResult() == REENTRANT_CALL
    assert recipient.received() == ETHER
    assert funded.creditWei(recipient) == 0
    assert "DidCreditUser" not in tx.events
    channel = read_channel(recipient)
    assert (channel["status"], channel["weiTotal"], channel["tokenTotal"]) == (
        ChannelStatus.OPEN,
        0,
        0,
    )
    assert read_globals() == {
        "totalChannelWei": globals_before["totalChannelWei"] - ETHER,
        "totalChannelToken": globals_before["totalChannelToken"] - 150 * TOKEN,
        "reserveWei": globals_before["reserveWei"],
        "reserveTokens": globals_before["reserveTokens"] + 50 * TOKEN,
        "contractWei": globals_before["contractWei"] - ETHER,
        "contractTokens": globals_before["contractTokens"] - 100 * TOKEN,
    }
