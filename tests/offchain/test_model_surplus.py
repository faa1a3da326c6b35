"""docs/protocol.md §8 "Nothing is stranded": when emptying a channel leaves no open thread, the
part of its total that neither balance holds is paid to the user with its balance, and the
channel reopens holding nothing. With threads left, the surplus stays for them. No chain."""

from __future__ import annotations

from channel_manager.model import Status, World
from channel_manager.states import ChannelState
from tests.offchain.model_world import ALICE, BOB, HUB, PERIOD, STRANGER, ModelWorld


def short_state_world(world: World | None = None) -> tuple[ModelWorld, ChannelState]:
    """alice's channel holds 15 wei (hub 5, user 10); hub and alice double-sign a state that
    assigns 2 + 6 of it (7 wei in neither balance)."""
    w = ModelWorld()
    if world is not None:
        w.model.world = world
    acknowledged = w.fund(ALICE, user_wei=10, hub_wei=5)
    g, c = acknowledged.tx_count
    short = acknowledged.evolve(wei_balances=(2, 6), tx_count=(g + 1, c))
    return w, short


def test_empty_channel_pays_the_surplus_to_the_user_and_leaves_nothing():
    w, short = short_state_world()
    w.call("start_exit_with_update", HUB, short, *w.sigs(short))
    w.wait(PERIOD)
    reserve_before = w.model.reserve_wei()
    out = w.call("empty_channel", STRANGER, ALICE)
    assert out.paid_wei == {ALICE: 6 + 7}
    ch = w.model.channel(ALICE)
    assert (ch.wei_hub, ch.wei_user, ch.wei_total, ch.token_total) == (0, 0, 0, 0)
    assert (ch.status, ch.closing_time) == (Status.OPEN, 0)
    assert w.model.total_channel_wei == 0
    assert w.model.reserve_wei() == reserve_before + 2  # the hub's balance, nothing more
    w.assert_solvent()


def test_empty_channel_with_challenge_pays_the_surplus_too():
    w, short = short_state_world()
    w.call("start_exit", HUB, ALICE)
    out = w.call("empty_channel_with_challenge", ALICE, short, *w.sigs(short))
    assert out.paid_wei == {ALICE: 13}
    assert w.model.channel(ALICE).wei_total == 0
    w.assert_solvent()


def test_surplus_of_a_user_that_refuses_eth_is_credited():
    w, short = short_state_world(World(refuses_eth={ALICE}))
    w.call("start_exit_with_update", ALICE, short, *w.sigs(short))
    w.wait(PERIOD)
    out = w.call("empty_channel", HUB, ALICE)
    assert out.paid_wei == {} and out.credited == {ALICE: (13, 0)}
    assert w.model.credit_wei[ALICE] == 13
    w.assert_solvent()


def test_empty_channel_without_surplus_pays_exactly_the_balance():
    w = ModelWorld()
    acknowledged = w.fund(ALICE, user_wei=10, hub_wei=5)
    w.call("start_exit", ALICE, ALICE)
    out = w.call("empty_channel", HUB, ALICE)  # the non-initiator concedes
    assert out.paid_wei == {ALICE: acknowledged.wei_balances[1]}
    assert w.model.channel(ALICE).wei_total == 0


def test_surplus_stays_in_the_channel_while_threads_are_open():
    w = ModelWorld()
    w.fund(ALICE, user_wei=100)
    w.fund(BOB, hub_wei=100)
    w.open_thread(ALICE, BOB, 1, wei=30)
    threaded = w.newest(ALICE)  # hub 0, alice 70, 30 locked
    g, c = threaded.tx_count
    short = threaded.evolve(wei_balances=(0, 60), tx_count=(g + 1, c))
    w.call("start_exit_with_update", ALICE, short, *w.sigs(short))
    w.wait(PERIOD)
    out = w.call("empty_channel", HUB, ALICE)
    assert out.paid_wei == {ALICE: 60}
    ch = w.model.channel(ALICE)
    assert (ch.wei_total, ch.status) == (30 + 10, Status.THREAD_DISPUTE)
