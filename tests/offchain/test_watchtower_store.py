"""channel_manager.watchtower_store without a chain: only verified, newer states are kept; the
file survives a reopen; it refuses to serve another deployment."""

from __future__ import annotations

import sqlite3

import pytest

from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState
from channel_manager.watchtower_store import StoreError, WatchtowerStore, thread_key

HUB = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
DOMAIN = Domain(31337, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")


def signed(state: ChannelState) -> tuple[ChannelState, bytes, bytes]:
    return (
        state,
        sign_channel_state(anvil_key(0), DOMAIN, state),
        sign_channel_state(anvil_key(1), DOMAIN, state),
    )


def at(count: int) -> ChannelState:
    return ChannelState(ALICE, ALICE, wei_balances=(count, 10 - count), tx_count=(count, 1))


@pytest.fixture
def store(tmp_path):
    return WatchtowerStore(tmp_path / "w.sqlite", DOMAIN, HUB)


def test_keeps_only_the_newest_channel_state(store):
    assert store.offer_channel(*signed(at(3)))
    assert not store.offer_channel(*signed(at(2)))  # older
    assert not store.offer_channel(*signed(at(3)))  # equal
    assert store.channel(ALICE).state == at(3)
    assert store.offer_channel(*signed(at(5)))
    held = store.channel(ALICE)
    assert held.state == at(5) and held.sig_hub == signed(at(5))[1]
    assert store.channel_users() == [ALICE]


def test_refuses_unverified_or_unusable_states(store):
    state, sig_hub, sig_user = signed(at(3))
    with pytest.raises(StoreError, match="hub's signature recovers to"):
        store.offer_channel(state, sig_user, sig_user)
    with pytest.raises(StoreError, match="user's signature recovers to"):
        store.offer_channel(state, sig_hub, sig_hub)
    with pytest.raises(StoreError, match="malformed"):
        store.offer_channel(state, sig_hub[:64], sig_user)
    with pytest.raises(StoreError, match="has a timeout"):
        store.offer_channel(*signed(at(4).evolve(timeout=99)))
    assert store.channel(ALICE) is None


def test_contract_wallet_user_signature_is_left_to_the_chain(store):
    state, sig_hub, _ = signed(at(3))
    assert store.offer_channel(state, sig_hub, b"\x01" * 100, user_is_contract=True)


def test_thread_states(store):
    initial = ThreadState(ALICE, BOB, 7, (10, 0))
    later = initial.evolve(wei_balances=(4, 6), tx_count=2)
    sig = lambda s: sign_thread_state(anvil_key(1), DOMAIN, s)  # noqa: E731
    assert store.offer_thread(initial, sig(initial))
    assert store.offer_thread(later, sig(later))
    assert not store.offer_thread(initial, sig(initial))
    assert store.thread(ALICE, BOB, 7).state == later
    # the receiver's balance orders thread states, not txCount (docs/protocol.md §8)
    high_count = later.evolve(wei_balances=(5, 5), tx_count=99)
    assert not store.offer_thread(high_count, sig(high_count))
    assert store.thread(ALICE, BOB, 7).state == later
    bigger = later.evolve(wei_balances=(4, 7), tx_count=3)
    with pytest.raises(StoreError, match="ThreadSumsChanged"):
        store.offer_thread(bigger, sig(bigger))
    with pytest.raises(StoreError, match="sender's signature"):
        store.offer_thread(
            later.evolve(tx_count=4),
            sign_thread_state(anvil_key(2), DOMAIN, later.evolve(tx_count=4)),
        )
    assert thread_key(ALICE, BOB, 7) == f"{ALICE}:{BOB}:7"


def test_survives_a_reopen(tmp_path):
    path = tmp_path / "w.sqlite"
    first = WatchtowerStore(path, DOMAIN, HUB)
    first.offer_channel(*signed(at(4)))
    with first.transaction():
        first.set_last_block(42)
        first.note_dispute("channel", ALICE, ALICE, 1000, 2, ALICE, 41)
    first.log_decision(42, "channel", ALICE, "dispute seen", "test")
    first.close()
    second = WatchtowerStore(path, DOMAIN, HUB)
    assert second.last_block == 42
    assert second.channel(ALICE).state == at(4)
    [dispute] = second.disputes("open")
    assert (dispute.key, dispute.closing_time, dispute.tx_count) == (ALICE, 1000, 2)
    assert second.decisions()[-1].action == "dispute seen"


def test_a_failed_batch_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.set_last_block(10)
        store.note_dispute("channel", ALICE, ALICE, 1000, 2, ALICE, 9)
        raise RuntimeError("crash in the middle of a batch")
    assert store.last_block is None and store.disputes() == []


def test_thread_state_lowering_one_asset_is_refused(store):
    initial = ThreadState(ALICE, BOB, 8, (10, 0), (10, 0))
    sig = lambda s: sign_thread_state(anvil_key(1), DOMAIN, s)  # noqa: E731
    paid = initial.evolve(wei_balances=(6, 4), token_balances=(6, 4), tx_count=1)
    assert store.offer_thread(paid, sig(paid))
    mixed = paid.evolve(wei_balances=(2, 8), token_balances=(7, 3), tx_count=2)
    with pytest.raises(StoreError, match="less than the held"):
        store.offer_thread(mixed, sig(mixed))
    assert store.thread(ALICE, BOB, 8).state == paid


def test_a_file_of_another_chain_with_the_same_id_is_refused(tmp_path):
    path = tmp_path / "w.sqlite"
    WatchtowerStore(path, DOMAIN, HUB, genesis="0x" + "aa" * 32).close()
    with pytest.raises(StoreError, match="belongs to genesis_hash 0xaaaa"):
        WatchtowerStore(path, DOMAIN, HUB, genesis="0x" + "bb" * 32)


def test_refuses_a_file_of_another_deployment(tmp_path):
    path = tmp_path / "w.sqlite"
    WatchtowerStore(path, DOMAIN, HUB).close()
    with pytest.raises(StoreError, match="belongs to contract"):
        WatchtowerStore(path, Domain(31337, BOB), HUB)
    with pytest.raises(StoreError, match="belongs to chain_id"):
        WatchtowerStore(path, Domain(1, DOMAIN.verifying_contract), HUB)


def test_file_is_plain_sqlite(tmp_path):
    path = tmp_path / "w.sqlite"
    WatchtowerStore(path, DOMAIN, HUB).close()
    tables = {
        r[0]
        for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"meta", "channel_states", "thread_states", "disputes", "decisions"} <= tables


def test_a_dispute_is_noted_once_per_deadline(store):
    assert store.note_dispute("channel", ALICE, ALICE, 1000, 2, ALICE, 5)
    store.set_dispute_status("channel", ALICE, "answered", "0xabc")
    assert not store.note_dispute(
        "channel", ALICE, ALICE, 1000, 2, ALICE, 5
    )  # the same event again
    assert store.dispute("channel", ALICE).status == "answered"
    assert store.note_dispute("channel", ALICE, ALICE, 1000, 2, HUB, 7)  # same second, later block
    assert store.note_dispute("channel", ALICE, ALICE, 5000, 3, HUB, 9)  # a later dispute
    dispute = store.dispute("channel", ALICE)
    assert (dispute.status, dispute.closing_time, dispute.answer_tx) == ("open", 5000, None)
