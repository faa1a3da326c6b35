"""Fixtures of the authorized-update tests (docs/protocol.md §4, §5); the entry points and
tables they share are in tests/fixtures/authorized_updates.py.

- `opened`   → alice's acknowledged state: wei [hub 1, user 2] ETH, token [100, 200] TST,
               txCount [2, 1] (stored [1, 1]).
- `proposal` → a valid next state for alice with deposits on both sides (txCount [3, 2]).
- `submit_mixed_update(submit, root, thread_count)` → alice's `mixed_update` (recipient carol)
               sent through `submit`, checked for what both entry points store alike; returns
               (state, tx, before, after), observations of alice's channel, alice, hub, carol.
"""

from __future__ import annotations

import pytest

from channel_manager import transitions
from channel_manager.states import ChannelState
from tests.fixtures.authorized_updates import (
    OPENED_AMOUNTS,
    WEI_UNIT,
    assert_mixed_update_stored,
    mixed_update,
)
from tests.helpers import TOKEN


@pytest.fixture
def opened(open_channel, alice) -> ChannelState:
    return open_channel(alice, **OPENED_AMOUNTS)


@pytest.fixture
def proposal(opened) -> ChannelState:
    return transitions.propose_deposit(
        opened, user_wei=WEI_UNIT, user_token=10 * TOKEN, hub_wei=2 * WEI_UNIT, hub_token=20 * TOKEN
    )


@pytest.fixture
def submit_mixed_update(funded, token, signer, hub, alice, carol, opened, observe):
    def run(submit, root: bytes, thread_count: int):
        state = mixed_update(opened, carol, root, thread_count=thread_count)
        before = observe(funded, token, alice, hub, alice, carol)
        tx = submit(funded, signer, state)
        after = observe(funded, token, alice, hub, alice, carol)
        assert_mixed_update_stored(before, after, root, thread_count=thread_count)
        return state, tx, before, after

    return run
