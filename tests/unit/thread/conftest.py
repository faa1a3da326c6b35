"""Scenario fixtures of the thread unit tests (docs/protocol.md §8), built on `world`
(tests/fixtures/threads.py):

- `opened`          alice and bob have channels and a thread alice → bob (id 1, 0.1 ETH +
                    10 TST) is open in both; nothing disputed yet.
- `sender_disputed` `opened`, then alice's channel is exited with the newest state (by alice)
                    and emptied by the hub (the non-initiator): alice's channel in ThreadDispute.
- `both_disputed`   `sender_disputed`, and bob's channel likewise in ThreadDispute.
- `thread_exited`   `both_disputed`, then alice starts the thread dispute with the initial state.
- `wrong_signer`    bob, then the hub (one test run each): a thread party who is not the sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from channel_manager.states import ThreadState
from tests.fixtures.threads import RECEIVER_DEPOSIT, SENDER_DEPOSIT, ThreadWorld


@dataclass
class Scenario:
    """A thread alice → bob and what the tests need about it."""

    world: ThreadWorld
    initial: ThreadState
    sender_closing: int = 0  # alice's channel closing time once disputed
    receiver_closing: int = 0
    thread_closing: int = 0  # once the thread dispute started


@pytest.fixture
def opened(world, alice, bob) -> Scenario:
    world.open_channel(alice, **SENDER_DEPOSIT)
    world.open_channel(bob, **RECEIVER_DEPOSIT)
    return Scenario(world, world.open_thread(alice, bob, 1))


@pytest.fixture
def sender_disputed(opened, alice) -> Scenario:
    opened.sender_closing = opened.world.dispute(alice)
    return opened


@pytest.fixture
def both_disputed(sender_disputed, bob) -> Scenario:
    sender_disputed.receiver_closing = sender_disputed.world.dispute(bob)
    return sender_disputed


@pytest.fixture
def thread_exited(both_disputed, alice) -> Scenario:
    tx = both_disputed.world.exit_thread(alice, both_disputed.initial)
    both_disputed.thread_closing = int(tx.events["DidStartExitThread"]["threadClosingTime"])
    return both_disputed


@pytest.fixture(params=["bob", "hub"])
def wrong_signer(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)
