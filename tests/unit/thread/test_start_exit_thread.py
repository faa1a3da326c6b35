"""startExitThread (docs/protocol.md §8): once a channel was emptied into ThreadDispute, the hub or the
user starts a thread's dispute with the thread's sender-signed initial state, proven against the
channel's thread root; the thread's challenge window runs for one challenge period."""

from __future__ import annotations

import pytest

from channel_manager.contract_views import ChannelStatus, channel_details
from channel_manager.eip712 import thread_struct_hash
from channel_manager.states import ThreadState
from tests.fixtures.threads import (
    RECEIVER_DEPOSIT,
    SENDER_DEPOSIT,
    THREAD_TOKEN,
    THREAD_WEI,
    assert_nothing_moved,
    paid_record,
)
from tests.helpers import (
    CHALLENGE_PERIOD,
    ZERO_ADDRESS,
    ZERO_ROOT,
    b32,
    event_args,
    fee_of,
    hexes,
    plain,
    reverts,
)


def test_startExitThread_state(both_disputed, alice, bob):
    w, initial = both_disputed.world, both_disputed.initial
    before = w.snapshot(alice, bob)

    tx = w.exit_thread(alice, initial)

    closing = tx.timestamp + CHALLENGE_PERIOD
    assert w.thread(initial) == paid_record(0, closing)
    after = w.snapshot(alice, bob)
    # nothing moves: the channels keep the locked amounts until a side is emptied
    assert_nothing_moved(before, after)
    assert after.balances[str(alice)] == (0, 0, THREAD_WEI, 0, 0, THREAD_TOKEN)
    assert after.eth[str(alice)] == before.eth[str(alice)] - fee_of(tx)
    assert event_args(tx, "DidStartExitThread") == plain(
        {
            "user": alice,
            "sender": alice,
            "receiver": bob,
            "threadId": 1,
            "caller": alice,
            "weiBalances": [THREAD_WEI, 0],
            "tokenBalances": [THREAD_TOKEN, 0],
            "txCount": 0,
            "threadClosingTime": closing,
        }
    )


def test_startExitThread_by_hub_in_receiver_channel(both_disputed, alice, bob, hub):
    w, initial = both_disputed.world, both_disputed.initial

    tx = w.exit_thread(bob, initial, caller=hub)

    assert w.thread_closing(initial) == tx.timestamp + CHALLENGE_PERIOD
    logged = event_args(tx, "DidStartExitThread")
    assert (logged["user"], logged["caller"]) == plain((bob, hub))


def test_startExitThread_by_receiver_in_own_channel(both_disputed, alice, bob):
    w, initial = both_disputed.world, both_disputed.initial

    tx = w.exit_thread(bob, initial)

    assert event_args(tx, "DidStartExitThread")["user"] == plain(bob)
    assert w.thread(initial)["weiBalances"] == [THREAD_WEI, 0]


def test_startExitThread_proves_each_of_several_threads(world, alice, bob, carol):
    """With three threads in alice's root, each one's proof is accepted."""

    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    world.open_channel(carol, **RECEIVER_DEPOSIT)
    threads = [
        world.open_thread(alice, bob, 1, wei=10**16, token=0),
        world.open_thread(alice, carol, 1, wei=2 * 10**16, token=10**18),
        world.open_thread(alice, bob, 2, wei=3 * 10**16, token=2 * 10**18),
    ]
    world.dispute(alice)

    for initial in threads:
        world.exit_thread(alice, initial)
        assert world.thread(initial)["tokenBalances"] == list(initial.token_balances)


# ------------------------------------------------------------------ channel status and caller


def test_startExitThread_reverts_when_channel_open(opened, alice):
    with reverts("WrongChannelStatus", alice, ChannelStatus.OPEN):
        opened.world.exit_thread(alice, opened.initial)


def test_startExitThread_reverts_when_channel_in_channel_dispute(opened, alice, hub):
    w = opened.world
    state = w.channel(alice).state
    w.manager.startExitWithUpdate(state.to_tuple(), *w.signer.both(state, hub), {"from": alice})

    with reverts("WrongChannelStatus", alice, ChannelStatus.CHANNEL_DISPUTE):
        w.exit_thread(alice, opened.initial)


def test_startExitThread_reverts_when_receiver_channel_not_disputed(sender_disputed, bob):
    with reverts("WrongChannelStatus", bob, ChannelStatus.OPEN):
        sender_disputed.world.exit_thread(bob, sender_disputed.initial)


@pytest.mark.parametrize("caller_name", ["stranger", "bob", "carol"])
def test_startExitThread_reverts_when_caller_not_hub_or_user(
    both_disputed, alice, caller_name, request
):
    caller = request.getfixturevalue(caller_name)
    with reverts("NotHubOrUser", caller, alice):
        both_disputed.world.exit_thread(alice, both_disputed.initial, caller=caller)


def test_startExitThread_reverts_when_user_is_hub(both_disputed, hub):
    with reverts("InvalidUser", hub):
        both_disputed.world.manager.startExitThread(
            hub,
            both_disputed.initial.to_tuple(),
            [],
            both_disputed.world.sig(both_disputed.initial),
            {"from": hub},
        )


# ------------------------------------------------------------------ the initial state


def test_startExitThread_reverts_when_user_not_thread_party(sender_disputed, alice, bob, carol):
    w = sender_disputed.world
    foreign = ThreadState(bob, carol, 1, (THREAD_WEI, 0), (THREAD_TOKEN, 0), 0)
    with reverts("UserNotThreadParty", alice):
        w.manager.startExitThread(alice, foreign.to_tuple(), [], w.sig(foreign), {"from": alice})


PARTY_CASES = {
    "sender_is_receiver": ("alice", "alice"),
    "hub_sender": ("hub", "alice"),
    "hub_receiver": ("alice", "hub"),
    "contract_sender": ("manager", "alice"),
    "contract_receiver": ("alice", "manager"),
    "zero_sender": ("zero", "alice"),
    "zero_receiver": ("alice", "zero"),
}


@pytest.mark.parametrize("case", PARTY_CASES, ids=list(PARTY_CASES))
def test_startExitThread_reverts_when_parties_invalid(sender_disputed, alice, hub, case):
    w = sender_disputed.world
    names = {
        "alice": str(alice),
        "hub": str(hub),
        "manager": w.manager.address,
        "zero": ZERO_ADDRESS,
    }
    sender, receiver = (names[n] for n in PARTY_CASES[case])
    state = ThreadState(sender, receiver, 1, (THREAD_WEI, 0), (THREAD_TOKEN, 0), 0)
    # the parties are checked before the signature, so alice's signature does here
    with reverts("InvalidThreadParties", state.sender, state.receiver):
        w.manager.startExitThread(alice, state.to_tuple(), [], w.sig(state, alice), {"from": alice})


@pytest.mark.parametrize(
    "changes",
    [
        {"wei_balances": (THREAD_WEI, 1)},
        {"token_balances": (THREAD_TOKEN, 1)},
        {"tx_count": 1},
    ],
    ids=["receiver_wei", "receiver_token", "tx_count"],
)
def test_startExitThread_reverts_when_initial_state_invalid(sender_disputed, alice, changes):
    w = sender_disputed.world
    state = sender_disputed.initial.evolve(**changes)
    with reverts("InvalidInitialThreadState"):
        w.manager.startExitThread(
            alice,
            state.to_tuple(),
            w.proof(alice, sender_disputed.initial),
            w.sig(state),
            {"from": alice},
        )


@pytest.mark.parametrize("signer_name", ["bob", "hub", "carol"])
def test_startExitThread_reverts_when_not_signed_by_sender(
    sender_disputed, alice, signer_name, request
):
    w, initial = sender_disputed.world, sender_disputed.initial
    sig = w.sig(initial, request.getfixturevalue(signer_name))
    with reverts("InvalidThreadSignature", alice):
        w.manager.startExitThread(
            alice, initial.to_tuple(), w.proof(alice, initial), sig, {"from": alice}
        )


def test_startExitThread_reverts_when_signature_is_of_another_state(sender_disputed, alice):
    w, initial = sender_disputed.world, sender_disputed.initial
    sig = w.sig(initial.evolve(thread_id=2))
    with reverts("InvalidThreadSignature", alice):
        w.manager.startExitThread(
            alice, initial.to_tuple(), w.proof(alice, initial), sig, {"from": alice}
        )


# ------------------------------------------------------------------ the proof


def test_startExitThread_reverts_when_state_not_in_root(sender_disputed, alice):
    """A sender-signed initial state the channel never committed to (other amount)."""
    w = sender_disputed.world
    other = sender_disputed.initial.evolve(wei_balances=(2 * THREAD_WEI, 0))
    root = w.channel(alice).state.thread_root
    with reverts("ThreadNotInRoot", b32(thread_struct_hash(other)), b32(root)):
        w.manager.startExitThread(alice, other.to_tuple(), [], w.sig(other), {"from": alice})


def test_startExitThread_reverts_when_proof_is_of_another_leaf(world, alice, bob, carol):

    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    world.open_channel(carol, **RECEIVER_DEPOSIT)
    to_bob = world.open_thread(alice, bob, 1)
    to_carol = world.open_thread(alice, carol, 1)
    to_bob_2 = world.open_thread(alice, bob, 2)
    world.dispute(alice)
    root = world.channel(alice).state.thread_root

    with reverts("ThreadNotInRoot", b32(thread_struct_hash(to_bob_2)), b32(root)):
        world.manager.startExitThread(
            alice,
            to_bob_2.to_tuple(),
            world.proof(alice, to_carol),
            world.sig(to_bob_2),
            {"from": alice},
        )
    # the same leaf with its own proof is accepted
    world.exit_thread(alice, to_bob)


def test_startExitThread_reverts_when_proof_is_from_another_channel(world, alice, bob, carol):
    """A proof valid in alice's root (two threads) does not prove the thread in bob's root."""

    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    world.open_channel(carol, **RECEIVER_DEPOSIT)
    to_bob = world.open_thread(alice, bob, 1)
    world.open_thread(alice, carol, 1)
    world.dispute(bob)

    proof = world.proof(alice, to_bob)
    assert proof != []
    with reverts(
        "ThreadNotInRoot",
        b32(thread_struct_hash(to_bob)),
        b32(world.channel(bob).state.thread_root),
    ):
        world.manager.startExitThread(
            bob, to_bob.to_tuple(), proof, world.sig(to_bob), {"from": bob}
        )


@pytest.mark.parametrize("proof_kind", ["empty", "leaf", "zero"])
def test_startExitThread_reverts_when_root_is_zero(world, alice, bob, hub, proof_kind):
    """A state signed with threadCount 1 but a zero root puts the channel in ThreadDispute with a
    zero root: no proof whatsoever is accepted against it (v1 skipped the proof then)."""

    ack = world.open_channel(alice, **SENDER_DEPOSIT).state
    state = ack.evolve(
        tx_count=(ack.tx_count[0] + 1, ack.tx_count[1]),
        wei_balances=(0, ack.wei_balances[1] - THREAD_WEI),
        thread_count=1,
    )
    world.dispute_state(state)
    details = channel_details(world.manager, str(alice))
    assert (details.thread_root, details.thread_count) == (bytes(32), 1)
    initial = ThreadState(alice, bob, 1, (THREAD_WEI, 0), (0, 0), 0)
    leaf = thread_struct_hash(initial)
    proof = {"empty": [], "leaf": hexes([leaf]), "zero": [ZERO_ROOT]}[proof_kind]

    with reverts("ThreadNotInRoot", b32(leaf), b32(bytes(32))):
        world.manager.startExitThread(
            alice, initial.to_tuple(), proof, world.sig(initial), {"from": hub}
        )


# ------------------------------------------------------------------ once only


def test_startExitThread_reverts_when_already_disputed(thread_exited, alice, bob):
    with reverts("ThreadAlreadyDisputed", alice, bob, 1):
        thread_exited.world.exit_thread(alice, thread_exited.initial)


def test_startExitThread_reverts_when_disputed_from_other_channel(thread_exited, alice, bob):
    """A thread has one dispute, shared by both channels."""
    with reverts("ThreadAlreadyDisputed", alice, bob, 1):
        thread_exited.world.exit_thread(bob, thread_exited.initial)


def test_startExitThread_reverts_when_disputed_with_update(both_disputed, alice, bob, hub):
    w, initial = both_disputed.world, both_disputed.initial
    w.exit_thread_with_update(bob, initial, w.pay(initial), caller=hub)

    with reverts("ThreadAlreadyDisputed", alice, bob, 1):
        w.exit_thread(alice, initial)


# ------------------------------------------------------------------ amount limit


@pytest.mark.parametrize("asset", ["wei", "token"])
def test_startExitThread_thread_amounts_limited_to_96_bits(world, alice, bob, asset):
    """A disputed thread is stored in two slots, so its initial sender balances must fit 96
    bits: 2^96 is refused with ValueTooLarge, 2^96 - 1 is stored and challenged exactly."""
    from channel_manager.merkle import MerkleTree

    limit = 2**96 - 1
    world.open_channel(alice, **SENDER_DEPOSIT)

    def thread(thread_id: int, amount: int) -> ThreadState:
        pair = (amount, 0)
        if asset == "wei":
            return ThreadState(str(alice), str(bob), thread_id, pair, (0, 0), 0)
        return ThreadState(str(alice), str(bob), thread_id, (0, 0), pair, 0)

    at_limit, too_big = thread(1, limit), thread(2, limit + 1)
    tree = MerkleTree.of_threads([at_limit, too_big])
    base = world.channel(alice).state
    world.dispute_state(
        base.evolve(
            tx_count=(base.tx_count[0] + 1, base.tx_count[1]), thread_root=tree.root, thread_count=2
        )
    )

    with reverts("ValueTooLarge", limit + 1):
        world.manager.startExitThread(
            alice,
            too_big.to_tuple(),
            hexes(tree.thread_proof(too_big)),
            world.sig(too_big),
            {"from": alice},
        )

    world.manager.startExitThread(
        alice,
        at_limit.to_tuple(),
        hexes(tree.thread_proof(at_limit)),
        world.sig(at_limit),
        {"from": alice},
    )
    stored = world.thread(at_limit)
    assert stored[f"{asset}Balances"] == [limit, 0]
    assert stored["txCount"] == 0 and stored["emptied"] == [False, False]

    paid = at_limit.evolve(tx_count=1, **{f"{asset}_balances": (0, limit)})
    world.challenge(paid, bob)
    stored = world.thread(at_limit)
    assert stored[f"{asset}Balances"] == [0, limit]
    other = "token" if asset == "wei" else "wei"
    assert stored[f"{other}Balances"] == [0, 0]
    assert stored["txCount"] == 1
