"""The property oracle alone judges the three audit attacks, played by hand through the engine
(docs/protocol.md §10.1, §10.9, §10.10): each is a named property failure on the pre-v3 contract
(0e20cbd) and passes on the v3 contract. No reference model is involved."""

from __future__ import annotations

import pytest

from fuzzing.engine.books import ChannelBook, ThreadBook
from fuzzing.engine.calls import Call, double_signed_call, update_call, user_call
from fuzzing.engine.episode import Episode
from fuzzing.engine.fast import evolve, thread_state
from fuzzing.engine.properties import PropertyFailure
from fuzzing.engine.world import UNIT

ZERO4 = (0, 0, 0, 0)


def party(ep: Episode, name: str):
    return next(p for p in ep.world.parties if p.name == name)


def into_thread_dispute(ep: Episode, name: str, leaves: tuple) -> None:
    """Hub and puppet sign a state whose root holds `leaves`; the puppet exits with it and the
    hub concedes at once: the channel is in ThreadDispute."""
    p = party(ep, name)
    book = ep.books[p.address]
    state = evolve(
        book.base, tx_count=(1, 0), thread_root=ep.roots.root_of(leaves), thread_count=len(leaves)
    )
    signed = book.sign(state, leaves)
    ep.send(
        double_signed_call(
            "startExitWithUpdate",
            signed,
            caller=p.address,
            user=p.address,
            label=f"{name} exits into threads",
        )
    )
    ep.send(user_call("emptyChannel", p.address, caller=ep.world.hub, label="hub concedes"))


def deposit(ep: Episode, book: ChannelBook, user_wei: int = 0, hub_wei: int = 0) -> None:
    signed = book.propose((hub_wei, 0, user_wei, 0), ZERO4, book.user, 0)
    call = update_call(
        signed, user=book.user, hub=ep.world.hub, by_hub=bool(hub_wei), label="a deposit"
    )
    assert ep.send(call).success
    book.acknowledge()


def play_h1(ep: Episode) -> None:
    """H-1: two initial states for one thread key, 5 units and 0, in two puppets' roots; the
    record is started from the big one, the small one's side is settled."""
    s, r = party(ep, "P0"), party(ep, "P1")
    victim = ep.books[party(ep, "H0").address]
    deposit(ep, victim, user_wei=10 * UNIT)
    big = thread_state(s.address, r.address, 1, (5 * UNIT, 0), (0, 0), 0)
    small = thread_state(s.address, r.address, 1, (0, 0), (0, 0), 0)
    sig_big, sig_small = (s.key.sign(ep.world.hasher.thread_digest(x)) for x in (big, small))
    into_thread_dispute(ep, "P1", (big,))
    into_thread_dispute(ep, "P0", (small,))
    assert ep.send(
        Call(
            "startExitThread",
            (r.address, big.to_tuple(), [], sig_big),
            r.address,
            "record from big",
            users=(r.address,),
            thread=big.key,
            initial=big,
            genuine=True,
        )
    ).success
    ep.advance_to(ep.oracle.thread_view(big.key).closing)
    ep.send(
        Call(
            "emptyThread",
            (s.address, small.to_tuple(), [], sig_small),
            s.address,
            "settle with small",
            users=(s.address,),
            thread=small.key,
            initial=small,
            genuine=True,
        )
    )


def test_h1_drain_is_a_payout_failure_on_pre_v3_even_with_a_large_reserve(
    scripted, pre_v3_artifact
):
    ep = scripted(pre_v3_artifact, reserve_wei=10**22)
    with pytest.raises(PropertyFailure) as failure:
        play_h1(ep)
    assert failure.value.name == "dispute-payout-within-totals"
    assert "emptyThread(P0)" in failure.value.detail


def test_h1_drain_fails_with_thread_mismatch_on_v3(scripted, v3_artifact):
    ep = scripted(v3_artifact, reserve_wei=10**22)
    play_h1(ep)
    assert ep.trace[-1].endswith("-> ThreadMismatch")


def play_m1(ep: Episode) -> None:
    """M-1: a cheater pays the hub 8 of its 10, delegates its address to code refusing every
    ERC-1271 signature, and exits on the stored state; the hub answers with the newest state,
    signed by the cheater's key before it delegated."""
    c = party(ep, "C0")
    book = ep.books[c.address]
    deposit(ep, book, user_wei=10 * UNIT)
    book.next_plain((8 * UNIT, 2 * UNIT), (0, 0), ())
    ep.chain.delegate(c.address, ep.world.revoker)
    assert ep.send(user_call("startExit", c.address, caller=c.address, label="stale exit")).success
    assert ep.answer(c.address, ep.world.hub, book.final).success


def test_m1_revoked_key_signature_is_a_property_failure_on_pre_v3(scripted, pre_v3_artifact):
    ep = scripted(pre_v3_artifact)
    with pytest.raises(PropertyFailure) as failure:
        play_m1(ep)
    assert failure.value.name == "irrevocable-key-signatures"


def test_m1_delegated_users_key_signature_stays_accepted_on_v3(scripted, v3_artifact):
    ep = scripted(v3_artifact)
    play_m1(ep)  # the hub-safety property judged the answer's payout too
    c = party(ep, "C0")
    assert ep.chain.code(c.address).startswith(bytes.fromhex("ef0100"))
    assert ep.oracle.views[c.address].wei_total == 0


def play_m2(ep: Episode) -> None:
    """M-2: a cheating sender pays an honest receiver 3 of 5, then starts the thread dispute
    from its own channel with a self-signed state of txCount 2^64 - 1 paying 1 wei; the receiver
    answers inside the window (the watchtower) and settles its side after it."""
    c, h = party(ep, "C0"), party(ep, "H0")
    sender, receiver = ep.books[c.address], ep.books[h.address]
    deposit(ep, sender, user_wei=5 * UNIT)
    deposit(ep, receiver, user_wei=UNIT)
    deposit(ep, receiver, hub_wei=5 * UNIT)
    initial = thread_state(c.address, h.address, 1, (5 * UNIT, 0), (0, 0), 0)
    sig = c.key.sign(ep.world.hasher.thread_digest(initial))
    sender.next_plain((0, 0), (0, 0), (initial,))
    receiver.next_plain((0, UNIT), (0, 0), (initial,))
    paid = thread_state(c.address, h.address, 1, (2 * UNIT, 3 * UNIT), (0, 0), 3)
    sig_paid = c.key.sign(ep.world.hasher.thread_digest(paid))
    ep.thread_books[initial.key] = ThreadBook(
        initial, c, h, sig, paid, sig_paid, [(initial, sig), (paid, sig_paid)]
    )

    s = sender.final.state
    assert ep.send(
        Call(
            "startExitWithUpdate",
            (s.to_tuple(), sender.final.sig_hub, sender.final.sig_user),
            c.address,
            "sender exits",
            users=(c.address,),
            genuine=True,
            state=s,
        )
    ).success
    ep.send(user_call("emptyChannel", c.address, caller=ep.world.hub, label="hub concedes"))
    jump = thread_state(c.address, h.address, 1, (5 * UNIT - 1, 1), (0, 0), 2**64 - 1)
    sig_jump = c.key.sign(ep.world.hasher.thread_digest(jump))
    assert ep.send(
        Call(
            "startExitThreadWithUpdate",
            (c.address, initial.to_tuple(), [], sig, jump.to_tuple(), sig_jump),
            c.address,
            "the txCount jump",
            users=(c.address,),
            thread=initial.key,
            initial=initial,
            genuine=True,
        )
    ).success
    r = receiver.final.state
    assert ep.send(
        Call(
            "startExitWithUpdate",
            (r.to_tuple(), receiver.final.sig_hub, receiver.final.sig_user),
            h.address,
            "receiver exits",
            users=(h.address,),
            genuine=True,
            state=r,
        )
    ).success
    ep.send(user_call("emptyChannel", h.address, caller=ep.world.hub, label="hub concedes"))
    ep.advance_to(ep.oracle.thread_view(initial.key).closing)  # the watchtower answers first
    ep.send(
        Call(
            "emptyThread",
            (h.address, initial.to_tuple(), [], sig),
            h.address,
            "receiver settles",
            users=(h.address,),
            thread=initial.key,
            initial=initial,
            genuine=True,
        )
    )


def test_m2_txcount_jump_is_an_honest_receiver_failure_on_pre_v3(scripted, pre_v3_artifact):
    ep = scripted(pre_v3_artifact)
    with pytest.raises(PropertyFailure) as failure:
        play_m2(ep)
    assert failure.value.name == "honest-receiver-safety"
    assert any(
        "challenges thread" in line and "ThreadTxCountNotHigher" in line for line in ep.trace
    )


def test_m2_receiver_is_paid_its_newest_state_on_v3(scripted, v3_artifact):
    ep = scripted(v3_artifact)
    play_m2(ep)
    assert ep.trace[-1].endswith("-> ok")
    h = party(ep, "H0")
    assert ep.oracle.thread_view(next(iter(ep.thread_books))).wei == (2 * UNIT, 3 * UNIT)
    assert ep.oracle.views[h.address].status == 0
