"""scripts/channel.py: each command submits a signed state from a JSON envelope after the
off-chain checks, and refuses bad input with one line and nothing sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from brownie import accounts, chain, web3

from channel_manager import transitions
from channel_manager.contract_views import (
    ChannelStatus,
    channel_balances,
    channel_details,
    thread_record,
)
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from scripts import channel
from tests.scripts.helpers import ETHER, ints, refused


@pytest.fixture
def alice():
    return accounts[1]


@pytest.fixture
def hub_account():
    return accounts[0]


@pytest.fixture
def stale_exit(cm, alice, deposit, signed, write, env_as):
    """Alice deposited 1 ETH, paid the hub 0.4 off-chain, then exited with the older state."""
    acked = deposit(alice)
    paid = transitions.pay(acked, to_hub=True, wei=4 * ETHER // 10)
    channel.exit_with(write("acked.json", signed(acked)), env=env_as(alice))
    return {"acked": acked, "paid": paid, "paid_file": write("paid.json", signed(paid))}


# ------------------------------------------------------------------ authorized updates


def test_user_deposit_through_update(cm, alice, signed, write, env_as):
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_wei=ETHER
    )
    tx = channel.update(write("deposit.json", signed(proposal, user=False)), env=env_as(alice))
    assert tx.events["DidUpdateChannel"]["user"] == alice
    assert channel_balances(cm, alice)[:3] == (0, ETHER, ETHER)
    assert channel_details(cm, alice)[:2] == (1, 1)


def test_hub_deposit_with_token_through_update(cm, alice, signed, write, env_as):
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), hub_token=5 * ETHER
    )
    channel.update(write("collateral.json", signed(proposal, hub=False)), env=env_as(accounts[0]))
    assert channel_balances(cm, alice)[3:] == (5 * ETHER, 0, 5 * ETHER)
    assert cm.getHubReserveTokens() == 100_000 * ETHER - 5 * ETHER


def test_user_token_deposit_is_approved_first(cm, tdai, alice, signed, write, env_as):
    tdai.mint(alice, 10 * ETHER, {"from": alice})
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_token=10 * ETHER
    )
    channel.update(write("tokens.json", signed(proposal, user=False)), env=env_as(alice))
    assert channel_balances(cm, alice)[3:] == (0, 10 * ETHER, 10 * ETHER)


def test_dry_run_of_a_first_token_deposit_simulates_it_as_approved(
    cm, tdai, alice, signed, write, env_as, capsys
):
    """The real run approves first and then deposits; the dry run sends neither, so it lends
    the approval to its simulation instead of refusing with ERC20InsufficientAllowance."""
    tdai.mint(alice, 10 * ETHER, {"from": alice})
    assert tdai.allowance(alice, cm) == 0
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_token=10 * ETHER
    )
    path = write("tokens.json", signed(proposal, user=False))
    before = web3.eth.get_transaction_count(alice.address)
    assert channel.update(path, env=env_as(alice, CM_DRY_RUN="1")) is None
    out = capsys.readouterr().out
    assert "dry run: would send approval of 10 tokens" in out
    assert "dry run: would send authorized update" in out and "gas ≈" in out
    assert (
        web3.eth.get_transaction_count(alice.address) == before and tdai.allowance(alice, cm) == 0
    )
    # and a deposit the contract would refuse is still refused in the dry run
    greedy = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_token=10 * ETHER, hub_token=10**30
    )
    refused(
        capsys,
        lambda: channel.update(
            write("greedy.json", signed(greedy, user=False)), env=env_as(alice, CM_DRY_RUN="1")
        ),
        "InsufficientReserve",
        sender=alice,
    )


def test_update_signed_by_the_wrong_key_is_refused(alice, dom, write, refused_as):
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_wei=ETHER
    )
    forged = {
        "kind": "channel",
        "state": proposal.to_json_dict(),
        "sig_hub": "0x" + sign_channel_state(anvil_key(5), dom, proposal).hex(),
    }
    refused_as(
        alice,
        channel.update,
        write("forged.json", forged),
        expect=("hub's signature recovers to", accounts[5].address),
    )


def test_update_by_a_third_account_is_refused(alice, signed, write, refused_as):
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_wei=ETHER
    )
    refused_as(
        accounts[6],
        channel.update,
        write("p.json", signed(proposal)),
        expect="neither the hub nor the state's user",
    )


def test_expired_update_is_refused(alice, signed, write, refused_as):
    now = web3.eth.get_block("latest")["timestamp"]
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_wei=ETHER, timeout=now
    )
    path = write("late.json", signed(proposal, user=False))
    refused_as(alice, channel.update, path, expect=("StateExpired", "deadline already passed"))


def test_state_for_another_contract_is_refused(alice, signed, write, refused_as):
    proposal = transitions.propose_deposit(
        ChannelState(alice.address, alice.address), user_wei=ETHER
    )
    envelope = signed(proposal, user=False) | {"contract": accounts[8].address}
    refused_as(alice, channel.update, write("other.json", envelope), expect="signed for contract")


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{oops", "does not parse as JSON"),
        ('{"kind": "channel", "state": {"user": "0x0"}}', "not a valid state"),
    ],
    ids=["not-json", "bad-state"],
)
def test_files_that_do_not_parse_are_refused(tmp_path, alice, content, fragment, refused_as):
    path = tmp_path / "bad.json"
    path.write_text(content)
    refused_as(alice, channel.update, str(path), expect=fragment)


# ------------------------------------------------------------------ channel disputes


def test_exit_with_and_challenge_settle_on_the_newest_state(cm, alice, stale_exit, env_as):
    assert channel_details(cm, alice).status == ChannelStatus.CHANNEL_DISPUTE
    before = alice.balance()
    tx = channel.challenge(stale_exit["paid_file"], env=env_as(accounts[0]))
    assert ints(tx.events["DidEmptyChannel"]["weiBalances"]) == (4 * ETHER // 10, 6 * ETHER // 10)
    assert alice.balance() == before + 6 * ETHER // 10
    assert channel_details(cm, alice).status == ChannelStatus.OPEN


def test_challenge_with_a_state_not_newer_is_refused(alice, stale_exit, signed, write, refused_as):
    path = write("same.json", signed(stale_exit["acked"]))
    refused_as(
        accounts[0], channel.challenge, path, expect=("StaleTxCount: 2, 2", "submit a newer one")
    )


def test_challenge_by_the_initiator_is_refused(alice, stale_exit, refused_as):
    refused_as(alice, channel.challenge, stale_exit["paid_file"], expect="CallerIsExitInitiator")


def test_challenge_after_the_deadline_is_refused(cm, alice, stale_exit, env_as, refused_as):
    chain.sleep(3601)
    chain.mine()
    refused_as(
        accounts[0],
        channel.challenge,
        stale_exit["paid_file"],
        expect=("ChallengeWindowClosed", "deadline already passed"),
    )
    # after the window anyone may empty on the stored (stale) state
    channel.empty(alice.address, env=env_as(accounts[7]))
    assert channel_details(cm, alice).status == ChannelStatus.OPEN


def test_empty_before_the_deadline_by_a_stranger_is_refused(alice, stale_exit, refused_as):
    refused_as(accounts[7], channel.empty, alice.address, expect="ChallengeWindowOpen")


def test_challenge_dry_run_sends_nothing(cm, alice, stale_exit, env_as, capsys):
    height = web3.eth.block_number
    assert (
        channel.challenge(stale_exit["paid_file"], env=env_as(accounts[0], CM_DRY_RUN="1")) is None
    )
    assert (
        web3.eth.block_number == height
        and channel_details(cm, alice).status == ChannelStatus.CHANNEL_DISPUTE
    )


def test_start_exit_refusals(alice, refused_as):
    refused_as(accounts[7], channel.start_exit, alice.address, expect="NotHubOrUser")
    refused_as(alice, channel.start_exit, "0x" + "0" * 40, expect="user is the zero address")
    refused_as(alice, channel.start_exit, accounts[0].address, expect="InvalidUser")


def test_show(alice, stale_exit, base_env):
    info = channel.show(alice.address, env=base_env)
    assert info["status"] == "ChannelDispute" and info["wei"] == (0, ETHER, ETHER)


def test_thread_envelope_is_not_a_channel_state(
    thread_in_dispute, thread_signed, write, refused_as
):
    path = write("thread.json", thread_signed(thread_in_dispute["update"]))
    refused_as(accounts[0], channel.challenge, path, expect="expected a channel state")


# ------------------------------------------------------------------ threads and claims


def test_thread_exit_challenge_and_empty(cm, thread_in_dispute, thread_signed, write, env_as):
    t = thread_in_dispute
    alice = t["alice"]
    initial_file = write("initial.json", thread_signed(t["initial"], t["proof"]))
    channel.thread_exit(alice.address, initial_file, env=env_as(alice))
    assert thread_record(cm, alice, t["bob"], 1).tx_count == 0
    channel.thread_challenge(
        write("update.json", thread_signed(t["update"])), env=env_as(accounts[0])
    )
    wei, token, tx_count, _closing, _emptied = thread_record(cm, alice, t["bob"], 1)
    assert (list(wei), list(token), tx_count) == ([ETHER // 10, 3 * ETHER // 10], [0, 0], 1)
    chain.sleep(3601)
    chain.mine()
    before = alice.balance()
    channel.thread_empty(alice.address, initial_file, env=env_as(alice))
    assert alice.balance() == before + ETHER // 10
    assert (
        channel_details(cm, alice).status == ChannelStatus.OPEN
    )  # reopened: its only thread is settled


def test_thread_exit_with_update(cm, thread_in_dispute, thread_signed, write, env_as):
    t = thread_in_dispute
    channel.thread_exit(
        t["alice"].address,
        write("i.json", thread_signed(t["initial"], t["proof"])),
        write("u.json", thread_signed(t["update"])),
        env=env_as(accounts[0]),
    )
    assert thread_record(cm, t["alice"], t["bob"], 1).tx_count == 1


def test_thread_refusals(thread_in_dispute, thread_signed, write, env_as, capsys, refused_as):
    t = thread_in_dispute
    alice = t["alice"]
    initial_file = write("initial.json", thread_signed(t["initial"], t["proof"]))
    update_file = write("update.json", thread_signed(t["update"]))
    refused_as(accounts[0], channel.thread_challenge, update_file, expect="ThreadNotDisputed")
    no_proof = write(
        "noproof.json",
        thread_signed(t["update"].evolve(wei_balances=(4 * ETHER // 10, 0), tx_count=0)),
    )
    refused(
        capsys,
        lambda: channel.thread_exit(t["bob"].address, no_proof, env=env_as(t["bob"])),
        "WrongChannelStatus",
        sender=t["bob"],
    )
    channel.thread_exit(alice.address, initial_file, env=env_as(alice))
    refused_as(
        alice, channel.thread_exit, alice.address, initial_file, expect="ThreadAlreadyDisputed"
    )
    refused_as(
        alice, channel.thread_empty, alice.address, initial_file, expect="ChallengeWindowOpen"
    )
    refused_as(accounts[7], channel.nuke, alice.address, expect="NukeTooEarly")
    chain.sleep(3601)
    chain.mine()
    refused_as(accounts[0], channel.thread_challenge, update_file, expect="deadline already passed")


def test_nuke_after_ten_periods(cm, thread_in_dispute, env_as):
    alice = thread_in_dispute["alice"]
    chain.sleep(11 * 3600)
    chain.mine()
    before = alice.balance()
    channel.nuke(alice.address, env=env_as(accounts[7]))
    assert alice.balance() == before + 4 * ETHER // 10


def test_claim_without_credit_is_refused(alice, env_as, capsys):
    refused(capsys, lambda: channel.claim(env=env_as(alice)), "NothingToClaim", sender=alice)


def test_domain_of_envelope_file(dom, write, alice, signed):
    path = write("x.json", signed(ChannelState(alice.address, alice.address, tx_count=(1, 0))))
    data = json.loads(Path(path).read_text())
    assert (data["chain_id"], data["contract"]) == (dom.chain_id, dom.verifying_contract)
    assert isinstance(dom, Domain)
