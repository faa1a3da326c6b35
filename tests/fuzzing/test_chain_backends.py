"""Each backend of the `Chain` interface (revm and anvil, by the `chain` fixture): deployment,
calls, decoded reverts, exact timestamps, snapshots, code and EIP-7702 delegation."""

from __future__ import annotations

import pytest
import rlp
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from channel_manager import transitions
from channel_manager.contract_views import ChannelDetails, ChannelStatus
from channel_manager.devkeys import anvil_key
from channel_manager.errors import ERRORS
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from fuzzing.artifacts import Artifact
from fuzzing.chain.base import CallReverted, ChainError, calldata_floor
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN


def create_address(sender: str, nonce: int) -> str:
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def details(d) -> ChannelDetails:
    return ChannelDetails.decode(d.chain.call(d.manager, "getChannelDetails", d.alice))


def deposit(d, user: str, wei: int = ETHER, token: int = 10 * TOKEN):
    """userAuthorizedUpdate of a first deposit; returns (the proposal stored on chain, result)."""
    proposal = transitions.propose_deposit(ChannelState(user, user), user_wei=wei, user_token=token)
    sig_hub = sign_channel_state(d.key(d.hub), d.domain, proposal)
    result = d.chain.transact(
        d.manager, "userAuthorizedUpdate", proposal.to_tuple(), sig_hub, sender=user, value=wei
    )
    assert result.success, result.revert_text()
    return proposal, result


def test_deploy_lands_at_create_address_and_answers_views(deployed):
    d = deployed
    assert d.token.address == create_address(d.hub, 7)
    assert d.manager.address == create_address(d.hub, 8)
    assert d.chain.call(d.manager, "hub") == d.hub
    assert d.chain.call(d.manager, "challengePeriod") == CHALLENGE_PERIOD
    assert d.chain.call(d.manager, "approvedToken") == d.token.address
    assert d.manager.deployment.success and d.manager.deployment.gas_used > 1_000_000
    assert len(d.chain.code(d.manager)) == len(d.manager.artifact.deployed_bytecode)


def test_transaction_moves_value_exactly_and_decodes_events(deployed):
    d = deployed
    hub_eth = d.chain.balance(d.hub)
    result = d.chain.transact(d.manager, "hubContractWithdraw", ETHER, 10 * TOKEN, sender=d.hub)
    assert result.success and result.error is None
    assert result.events_named("DidHubContractWithdraw")[0].args == {
        "weiAmount": ETHER,
        "tokenAmount": 10 * TOKEN,
    }
    transfer = result.events_named("Transfer")[0]
    assert transfer.address == d.token.address
    assert transfer.args == {"from": d.manager.address, "to": d.hub, "value": 10 * TOKEN}
    assert d.chain.balance(d.hub) == hub_eth + ETHER  # gas price 0: no fee
    assert d.chain.call(d.manager, "getHubReserveWei") == 9 * ETHER


def test_revert_is_decoded_to_the_custom_error_and_changes_nothing(deployed):
    d = deployed
    result = d.chain.transact(d.manager, "startExit", d.alice, sender=d.stranger)
    assert not result.success
    assert (result.error, result.error_args) == ("NotHubOrUser", (d.stranger, d.alice))
    assert result.revert_text() == ERRORS["NotHubOrUser"](d.stranger, d.alice).revert_text()
    too_much = d.chain.transact(d.manager, "hubContractWithdraw", 11 * ETHER, 0, sender=d.hub)
    assert too_much.reverted_with("InsufficientReserve", 11 * ETHER, 10 * ETHER)
    assert d.chain.call(d.manager, "getHubReserveWei") == 10 * ETHER
    assert details(d).status == ChannelStatus.OPEN  # still Open


def test_signed_update_is_applied(deployed):
    d = deployed
    proposal, result = deposit(d, d.alice)
    assert result.events_named("DidUpdateChannel")
    assert d.chain.call(d.manager, "getChannelBalances", d.alice) == (
        0,
        ETHER,
        ETHER,
        0,
        10 * TOKEN,
        10 * TOKEN,
    )
    assert (details(d).tx_count_global, details(d).tx_count_chain) == proposal.tx_count == (1, 1)
    assert d.chain.call(d.manager, "totalChannelWei") == ETHER


def test_transactions_run_at_exactly_the_time_set(deployed):
    d = deployed
    deposit(d, d.alice)
    start = d.chain.time + 100
    d.chain.set_time(start)
    exit_ = d.chain.transact(d.manager, "startExit", d.alice, sender=d.hub)
    assert exit_.success and exit_.timestamp == start
    closing = start + CHALLENGE_PERIOD
    assert details(d).closing_time == closing
    d.chain.set_time(closing - 1)
    early = d.chain.transact(d.manager, "emptyChannel", d.alice, sender=d.hub)
    assert early.reverted_with("ChallengeWindowOpen", closing, closing - 1)
    assert early.timestamp == closing - 1
    d.chain.advance(1)
    on_time = d.chain.transact(d.manager, "emptyChannel", d.alice, sender=d.hub)
    assert on_time.success and on_time.timestamp == closing
    assert on_time.events_named("DidEmptyChannel")


def test_several_transactions_share_a_timestamp_and_time_can_go_back(deployed):
    d = deployed
    d.chain.set_time(1_800_000_000)
    first = d.chain.transact(d.manager, "hubContractWithdraw", 1, 0, sender=d.hub)
    second = d.chain.transact(d.manager, "hubContractWithdraw", 1, 0, sender=d.hub)
    assert first.timestamp == second.timestamp == 1_800_000_000
    d.chain.set_time(1_750_000_000)
    back = d.chain.transact(d.manager, "hubContractWithdraw", 1, 0, sender=d.hub)
    assert back.success and back.timestamp == 1_750_000_000


def test_snapshot_restores_state_time_and_nonce_and_stays_usable(deployed):
    d = deployed
    snap = d.chain.snapshot()
    time, nonce, hub_eth = d.chain.time, d.chain.nonce(d.hub), d.chain.balance(d.hub)
    for _ in range(2):
        d.chain.advance(50)
        assert d.chain.transact(d.manager, "hubContractWithdraw", ETHER, 0, sender=d.hub).success
        later = d.chain.snapshot()
        deposit(d, d.alice)
        assert d.chain.call(d.manager, "getHubReserveWei") == 9 * ETHER
        d.chain.revert(snap)
        assert d.chain.call(d.manager, "getHubReserveWei") == 10 * ETHER
        assert d.chain.call(d.manager, "getChannelBalances", d.alice) == (0,) * 6
        assert (d.chain.time, d.chain.nonce(d.hub), d.chain.balance(d.hub)) == (
            time,
            nonce,
            hub_eth,
        )
        with pytest.raises(ChainError, match="snapshot"):
            d.chain.revert(later)


def test_calldata_floor_is_charged(deployed):
    """EIP-7623: 4,000 non-zero calldata bytes cost at least 21,000 + 40 × 4,000 gas even
    when the call reverts at once (the token has no fallback)."""
    data = b"\x01" * 4000
    result = deployed.chain.send(deployed.hub, deployed.token, data=data)
    assert not result.success and result.error == ""
    assert result.gas_used == calldata_floor(data) == 181_000


def test_out_of_gas_is_a_halt_that_uses_all_gas(deployed):
    d = deployed
    result = d.chain.transact(d.manager, "hubContractWithdraw", ETHER, 0, sender=d.hub, gas=25_000)
    assert not result.success
    assert (result.error, result.gas_used) == ("Halt", 25_000)
    assert d.chain.call(d.manager, "getHubReserveWei") == 10 * ETHER


def test_transactions_the_chain_refuses_raise(deployed):
    d = deployed
    poor = "0x00000000000000000000000000000000DeaDBeef"
    with pytest.raises(ChainError):
        d.chain.send(poor, d.hub, 1)  # no ETH to send
    with pytest.raises(ChainError, match=r"code|Caller"):
        d.chain.send(d.manager, d.hub, 0)  # a sender with code (EIP-3607)


def test_set_code_installs_a_contract(deployed, artifacts):
    d = deployed
    target = "0x000000000000000000000000000000000000C0DE"
    d.chain.set_code(target, d.token.artifact.deployed_bytecode)
    assert d.chain.code(target) == d.token.artifact.deployed_bytecode
    assert d.chain.call(d.chain.at(target, d.token.artifact), "totalSupply") == 0  # own storage
    d.chain.set_code(target, b"")
    assert d.chain.code(target) == b""


def test_delegated_eoa_runs_its_delegate_and_still_sends(deployed, artifacts):
    """EIP-7702: alice delegates to a RejectingRecipient. She can still send transactions,
    and a payout to her runs the delegate's receive(), which refuses it: the manager credits
    her instead (docs/protocol.md §7)."""
    d = deployed
    deposit(d, d.alice)
    rejecting = d.chain.deploy(artifacts["RejectingRecipient"], d.manager, d.alice, sender=d.hub)
    d.chain.delegate(d.alice, rejecting)
    assert d.chain.code(d.alice) == bytes.fromhex("ef0100") + bytes.fromhex(rejecting.address[2:])
    exit_ = d.chain.transact(d.manager, "startExit", d.alice, sender=d.alice)
    assert exit_.success
    d.chain.advance(CHALLENGE_PERIOD)
    emptied = d.chain.transact(d.manager, "emptyChannel", d.alice, sender=d.hub)
    assert emptied.success
    assert emptied.events_named("DidCreditUser")[0].args == {
        "user": d.alice,
        "weiAmount": ETHER,
        "tokenAmount": 0,
    }
    assert d.chain.call(d.manager, "creditWei", d.alice) == ETHER
    d.chain.delegate(d.alice, None)
    assert d.chain.code(d.alice) == b""
    claimed = d.chain.transact(d.manager, "claim", d.alice, sender=d.alice)
    assert claimed.success and claimed.events_named("DidClaim")


def test_dev_accounts_are_anvils_funded_mnemonic_accounts(chain):
    assert chain.accounts == tuple(Account.from_key(anvil_key(i)).address for i in range(10))
    assert all(chain.balance(account) > 0 for account in chain.accounts)


# A contract that TSTOREs 1 when called without data and returns TLOAD(0) otherwise.
_TRANSIENT_RUNTIME = bytes.fromhex("361560105760005c60005260206000f35b600160005d00")
TRANSIENT_PROBE = Artifact(
    name="TransientProbe",
    abi=[
        {
            "type": "function",
            "name": "load",
            "inputs": [],
            "outputs": [{"name": "", "type": "uint256"}],
            "stateMutability": "view",
        }
    ],
    bytecode=bytes(
        [
            0x60,
            len(_TRANSIENT_RUNTIME),
            0x60,
            0x0C,
            0x60,
            0x00,
            0x39,
            0x60,
            len(_TRANSIENT_RUNTIME),
            0x60,
            0x00,
            0xF3,
        ]
    )
    + _TRANSIENT_RUNTIME,
)


def test_each_transaction_starts_with_empty_transient_storage(chain):
    """EIP-1153: transient storage ends with its transaction (pyrevm alone keeps it)."""
    hub = chain.accounts[0]
    probe = chain.deploy(TRANSIENT_PROBE, sender=hub)
    assert chain.send(hub, probe).success  # TSTORE(0, 1)
    assert chain.call(probe, "load") == 0
    loaded = chain.transact(probe, "load", sender=hub)
    assert loaded.success and loaded.return_value == 0


def test_each_transaction_starts_cold(deployed):
    """EIP-2929/2200: every identical transfer (two non-zero balances changed) pays for cold
    slots and fresh original values again; pyrevm alone made the repeats 9,600 gas cheaper."""
    d = deployed
    costs = [
        d.chain.transact(d.token, "transfer", d.bob, 1, sender=d.alice).gas_used for _ in range(3)
    ]
    assert costs == [34_441] * 3


def test_revert_removes_a_deployment_and_reuses_its_address(deployed):
    d = deployed
    snap = d.chain.snapshot()
    nonce = d.chain.nonce(d.hub)
    first = d.chain.deploy(d.token.artifact, "Again", "AG", sender=d.hub)
    assert first.address == create_address(d.hub, nonce) and d.chain.code(first)
    d.chain.revert(snap)
    assert d.chain.code(first) == b"" and d.chain.nonce(d.hub) == nonce
    second = d.chain.deploy(d.token.artifact, "Again", "AG", sender=d.hub)
    assert second.address == first.address
    assert d.chain.call(second, "name") == "Again"


def test_a_reverting_call_raises_the_decoded_error_and_changes_nothing(deployed):
    d = deployed
    with pytest.raises(CallReverted) as reverted:
        d.chain.call(d.manager, "hubContractWithdraw", 11 * ETHER, 0, sender=d.hub)
    assert (reverted.value.error, reverted.value.error_args) == (
        "InsufficientReserve",
        (11 * ETHER, 10 * ETHER),
    )
    assert (
        d.chain.call(d.manager, "hubContractWithdraw", ETHER, 0, sender=d.hub) is None
    )  # simulated
    assert d.chain.call(d.manager, "getHubReserveWei") == 10 * ETHER
