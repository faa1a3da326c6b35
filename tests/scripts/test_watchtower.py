"""scripts/watchtower.py on the local chain: a user exits with a stale state and the hub's
watchtower wins the dispute; stopped and restarted (a new instance on the same SQLite file)
mid-dispute it still answers in time; it rides out a node that is down or went back; it answers
thread disputes, works for a user too, and logs every decision."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
import requests
from brownie import accounts, chain, web3

from channel_manager import transitions
from channel_manager.contract_views import (
    ChannelStatus,
    channel_balances,
    channel_details,
    thread_record,
)
from scripts import watchtower
from tests.scripts.helpers import ETHER, ints

PERIOD = 3600


@pytest.fixture
def alice():
    return accounts[1]


@pytest.fixture
def tower_env(env_as, tmp_path):
    """The hub's watchtower: its account and its own SQLite file."""
    return env_as(accounts[0], CM_WATCH_DB=str(tmp_path / "hub-tower.sqlite"))


@pytest.fixture
def states(alice, deposit, signed, write):
    """Alice deposited 1 ETH (acked, txCount [2, 1]) and then paid the hub 0.4 ETH (txCount [3, 1])."""
    acked = deposit(alice)
    paid = transitions.pay(acked, to_hub=True, wei=4 * ETHER // 10)
    return {
        "acked": acked,
        "acked_env": signed(acked),
        "paid": paid,
        "paid_file": write("paid.json", signed(paid)),
    }


def stale_exit(cm: Any, alice: Any, states: dict[str, Any]) -> int:
    """Alice starts a dispute with the older state, which gives her 1 ETH instead of 0.6."""
    envelope = states["acked_env"]
    cm.startExitWithUpdate(
        states["acked"].to_tuple(), envelope["sig_hub"], envelope["sig_user"], {"from": alice}
    )
    return channel_details(cm, alice).closing_time


def actions(decisions: list[Any]) -> list[str]:
    return [d.action for d in decisions]


def answer_time(decisions: list[Any]) -> int:
    [answer] = [d for d in decisions if d.action == "answered"]
    txid = answer.detail.rsplit(" ", 1)[-1]
    return int(
        web3.eth.get_block(web3.eth.get_transaction_receipt(txid)["blockNumber"])["timestamp"]
    )


def test_watchtower_wins_a_stale_exit_for_the_hub(cm, alice, states, tower_env, caplog):
    caplog.set_level(logging.INFO, logger="watchtower")
    assert watchtower.add(states["paid_file"], env=tower_env)
    tower = watchtower.build(tower_env)
    assert tower.run_once() == []  # nothing disputed yet
    closing = stale_exit(cm, alice, states)
    alice_before, reserve_before = alice.balance(), cm.getHubReserveWei()

    decisions = tower.run_once()

    assert actions(decisions) == ["dispute seen", "answered"]
    assert answer_time(decisions) < closing - PERIOD + 60  # answered in the same minute
    assert (
        channel_details(cm, alice).status == ChannelStatus.OPEN
    )  # emptied on the newest state, channel open again
    assert alice.balance() == alice_before + 6 * ETHER // 10
    assert cm.getHubReserveWei() == reserve_before + 4 * ETHER // 10
    assert tower.store.dispute("channel", alice.address).status == "answered"
    # the next poll sees the DidEmptyChannel and has nothing left to do
    assert actions(tower.run_once()) == ["dispute closed"]
    assert tower.run_once() == []
    assert "answered" in caplog.text and "dispute seen" in caplog.text


def test_restarted_mid_dispute_it_still_answers_in_time(cm, alice, states, tower_env):
    watchtower.add(states["paid_file"], env=tower_env)
    first = watchtower.build(tower_env)
    first.run_once()
    processed = first.store.last_block
    first.store.close()  # the watchtower is stopped
    del first

    closing = stale_exit(cm, alice, states)
    chain.sleep(PERIOD // 2)  # half the window passes while it is down
    chain.mine()

    second = watchtower.build(tower_env)  # a new process on the same file
    assert second.store.last_block == processed
    decisions = second.run_once()
    assert actions(decisions) == ["dispute seen", "answered"]
    assert answer_time(decisions) < closing
    assert channel_balances(cm, alice) == (0, 0, 0, 0, 0, 0)
    assert channel_details(cm, alice).tx_count_global == 3  # the newest state's txCount


def test_dispute_seen_before_a_restart_is_answered_after_it(cm, alice, states, tower_env):
    """It saw the dispute but held no newer state; stopped; the state arrives; a new instance
    answers from the dispute kept in the file (no event is read again, no sweep)."""
    first = watchtower.build(tower_env)
    closing = stale_exit(cm, alice, states)
    assert actions(first.run_once()) == ["dispute seen", "no answer"]
    first.store.close()

    watchtower.add(states["paid_file"], env=tower_env)
    second = watchtower.build(tower_env)
    second.sweep_every = 0
    decisions = second.run_once()
    assert actions(decisions) == ["answered"]
    assert answer_time(decisions) < closing


def test_a_node_that_is_down_is_retried(cm, alice, states, tower_env, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="watchtower")
    watchtower.add(states["paid_file"], env=tower_env)
    tower = watchtower.build(tower_env)
    tower.run_once()
    processed = tower.store.last_block
    stale_exit(cm, alice, states)

    real_get_logs = web3.eth.get_logs
    outage = {"polls": 2}

    def get_logs(*args: Any, **kwargs: Any) -> Any:
        if outage["polls"] > 0:
            outage["polls"] -= 1
            raise requests.exceptions.ConnectionError("connection refused (node restarting)")
        return real_get_logs(*args, **kwargs)

    monkeypatch.setattr(web3.eth, "get_logs", get_logs)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    tower.run_forever(interval=1, max_polls=tower.polls + 3)
    assert caplog.text.count("poll failed") == 2
    assert tower.store.last_block > processed
    assert tower.store.dispute("channel", alice.address).status == "answered"
    assert channel_details(cm, alice).tx_count_global == 3


def test_an_answer_not_mined_in_time_is_not_sent_twice(cm, alice, states, tower_env):
    """The node mines nothing: the answer's bounded wait ends ("answer pending"), and the next
    polls do not send a second answer while the first is pending; once it is mined the dispute
    closes."""
    watchtower.add(states["paid_file"], env=tower_env)
    tower = watchtower.build({**tower_env, "CM_TX_TIMEOUT": "1"})
    stale_exit(cm, alice, states)
    hub = accounts[0].address
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        decisions = tower.run_once()
        assert actions(decisions) == ["dispute seen", "answer pending"]
        assert "was sent but not mined yet after 1 s" in decisions[-1].detail
        sent = web3.eth.get_transaction_count(hub, "pending")
        assert actions(tower.run_once()) == ["answer pending"]
        assert "not sending another" in tower.store.decisions()[-1].detail
        assert tower.run_once() == []  # said once
        assert web3.eth.get_transaction_count(hub, "pending") == sent
        web3.provider.make_request("evm_mine", [])
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    assert "dispute closed" in actions(tower.run_once())
    assert channel_details(cm, alice).tx_count_global == 3  # emptied on the newest state


def test_a_node_that_went_back_is_reread(cm, alice, states, tower_env):
    """A node restarted without its latest blocks reports a lower head than the last block
    processed: the watchtower re-reads from the head instead of waiting for it to catch up."""
    watchtower.add(states["paid_file"], env=tower_env)
    tower = watchtower.build(tower_env)
    tower.run_once()
    with tower.store.transaction():
        tower.store.set_last_block(web3.eth.block_number + 50)
    stale_exit(cm, alice, states)
    decisions = tower.run_once()
    assert actions(decisions)[0] == "rewind"
    assert "answered" in actions(decisions)


def test_it_answers_a_thread_dispute(cm, thread_in_dispute, thread_signed, write, tower_env):
    t = thread_in_dispute
    assert watchtower.add(write("update.json", thread_signed(t["update"])), env=tower_env)
    tower = watchtower.build(tower_env)
    tower.run_once()
    cm.startExitThread(
        t["alice"], t["initial"].to_tuple(), t["proof"], t["initial_sig"], {"from": t["alice"]}
    )
    decisions = tower.run_once()
    assert actions(decisions) == ["dispute seen", "answered"]
    wei, _token, tx_count, closing, _emptied = thread_record(cm, t["alice"], t["bob"], 1)
    assert (ints(wei), tx_count) == ((ETHER // 10, 3 * ETHER // 10), 1)
    assert answer_time(decisions) < closing
    assert tower.store.dispute("thread", decisions[0].key).status == "answered"
    assert tower.run_once() == []


def test_a_thread_is_answered_by_receiver_balance_not_txcount(
    cm, thread_in_dispute, thread_signed, write, tower_env
):
    """The sender starts the thread dispute with a state of a high txCount that pays bob less
    than the state the watchtower holds (txCount 1, bob 0.3): on chain the receiver's balance
    decides (docs/protocol.md §8), so the watchtower answers although its txCount is lower."""
    from channel_manager.devkeys import anvil_key
    from channel_manager.eip712 import Domain
    from channel_manager.signing import sign_thread_state

    t = thread_in_dispute
    assert watchtower.add(write("update.json", thread_signed(t["update"])), env=tower_env)
    tower = watchtower.build(tower_env)
    tower.run_once()
    low = t["initial"].evolve(wei_balances=(3 * ETHER // 10, ETHER // 10), tx_count=9)
    low_sig = sign_thread_state(anvil_key(1), Domain(chain.id, cm.address), low)
    cm.startExitThreadWithUpdate(
        t["alice"], t["initial"].to_tuple(), t["proof"], t["initial_sig"], low.to_tuple(), low_sig,
        {"from": t["alice"]},
    )  # fmt: skip
    assert thread_record(cm, t["alice"], t["bob"], 1).wei == (3 * ETHER // 10, ETHER // 10)
    decisions = tower.run_once()
    assert actions(decisions) == ["dispute seen", "answered"]
    assert "from [100000000000000000, 0] to [300000000000000000, 0]" in decisions[-1].detail
    assert thread_record(cm, t["alice"], t["bob"], 1).wei == (ETHER // 10, 3 * ETHER // 10)


def test_a_watchtower_of_another_account_says_it_is_not_the_hub(alice, env_as, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="watchtower")
    watchtower.build(env_as(alice, CM_WATCH_DB=str(tmp_path / "alice.sqlite")))
    assert f"account {alice.address} is not the hub" in caplog.text
    assert "cannot answer for the hub" in caplog.text


def test_the_default_store_is_named_by_chain_and_genesis(base_env, env_as, deployed, capsys):
    env = env_as(accounts[0])
    info = watchtower.status(env=env)
    genesis = "0x" + bytes(web3.eth.get_block(0)["hash"]).hex()
    assert f"watchtower-{chain.id}-{genesis[2:10]}.sqlite" in capsys.readouterr().out
    assert info["last_block"] is None


def test_it_works_for_a_user_against_the_hub(cm, alice, deposit, signed, write, env_as, tmp_path):
    """The hub exits with the state that pays it nothing (0 ETH to the hub); alice's own
    watchtower holds a newer state in which the hub paid her back 0.1 of 0.4 — newest wins."""
    acked = deposit(alice)
    paid = transitions.pay(acked, to_hub=True, wei=4 * ETHER // 10)
    refund = transitions.pay(paid, to_hub=False, wei=ETHER // 10)
    env = env_as(alice, CM_WATCH_DB=str(tmp_path / "alice-tower.sqlite"))
    watchtower.add(write("refund.json", signed(refund)), env=env)
    tower = watchtower.build(env)
    tower.run_once()
    envelope = signed(paid)
    cm.startExitWithUpdate(
        paid.to_tuple(), envelope["sig_hub"], envelope["sig_user"], {"from": accounts[0]}
    )
    before = alice.balance()
    assert "answered" in actions(tower.run_once())
    assert alice.balance() == before + 7 * ETHER // 10


def test_it_does_not_answer_its_own_dispute(cm, alice, states, tower_env):
    watchtower.add(states["paid_file"], env=tower_env)
    tower = watchtower.build(tower_env)
    cm.startExit(alice, {"from": accounts[0]})  # the hub itself starts the dispute
    sent = web3.eth.get_transaction_count(accounts[0].address)
    decisions = tower.run_once()
    assert actions(decisions) == ["dispute seen", "cannot answer"]
    assert "we started this dispute" in decisions[-1].detail
    assert tower.run_once() == []  # said once, not on every poll
    assert web3.eth.get_transaction_count(accounts[0].address) == sent


def test_the_sweep_finds_a_dispute_whose_event_was_missed(cm, alice, states, tower_env):
    watchtower.add(states["paid_file"], env=tower_env)
    tower = watchtower.build(tower_env)
    stale_exit(cm, alice, states)
    with tower.store.transaction():
        tower.store.set_last_block(web3.eth.block_number)  # as if the event had been skipped
    decisions = tower.run_once()
    assert actions(decisions) == ["dispute seen", "answered"]
    assert "sweep" in decisions[0].detail


def test_watch_command_runs_bounded_polls_and_status_reports(cm, alice, states, tower_env, capsys):
    watchtower.add(states["paid_file"], env=tower_env)
    stale_exit(cm, alice, states)
    tower = watchtower.watch(env={**tower_env, "CM_WATCH_MAX_POLLS": "1", "CM_WATCH_INTERVAL": "0"})
    assert tower.polls == 1
    assert channel_details(cm, alice).tx_count_global == 3
    info = watchtower.status(env=tower_env)
    assert [d.status for d in info["disputes"]] == ["answered"]
    assert any(d.action == "answered" for d in info["decisions"])
    assert "answered" in capsys.readouterr().out


def test_add_refuses_bad_states(states, signed, write, tower_env, capsys):
    from tests.scripts.helpers import refused

    one_sig = write("one.json", signed(states["paid"], user=False))
    refused(capsys, lambda: watchtower.add(one_sig, env=tower_env), "needs both signatures")
    forged = dict(signed(states["paid"]), sig_user=signed(states["paid"])["sig_hub"])
    refused(
        capsys,
        lambda: watchtower.add(write("forged.json", forged), env=tower_env),
        "user's signature recovers to",
    )


def test_blocks_read_again_change_nothing(cm, alice, states, tower_env):
    """With reorg_depth the last blocks are read on every poll: the dispute is neither reopened
    nor logged again, and a new dispute of the same channel is told apart by its deadline."""
    watchtower.add(states["paid_file"], env=tower_env)
    tower = watchtower.build(tower_env)
    tower.reorg_depth = 10
    stale_exit(cm, alice, states)
    assert actions(tower.run_once()) == ["dispute seen", "answered"]
    assert actions(tower.run_once()) == ["dispute closed"]
    assert tower.run_once() == [] and tower.run_once() == []
    assert tower.store.dispute("channel", alice.address).status == "closed"
    # a second dispute (hub starts one on the stored newest state) is a new record
    cm.startExit(alice, {"from": accounts[0]})
    assert actions(tower.run_once()) == ["dispute seen", "no answer"]
    assert tower.store.dispute("channel", alice.address).status == "open"
