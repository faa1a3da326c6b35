"""Everything the ChannelManager lets one read, in one dict: the storage views a differential
or property check compares after a step (docs/protocol.md §9), plus ETH and token balances."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from channel_manager.states import ThreadState
from fuzzing.chain.base import Chain, Contract

GLOBAL_VIEWS = ("totalChannelWei", "totalChannelToken", "getHubReserveWei", "getHubReserveTokens")
USER_VIEWS = ("getChannelBalances", "getChannelDetails", "creditWei", "creditToken")


def manager_views(
    chain: Chain,
    manager: Contract,
    *,
    users: Iterable[str],
    threads: Iterable[ThreadState] = (),
    token: Contract | None = None,
    holders: Iterable[str] = (),
) -> dict[str, Any]:
    """Global views; per user the channel, its details and credits; per thread its record;
    the ETH (and token) balance of the manager and of each holder."""
    views: dict[str, Any] = {name: chain.call(manager, name) for name in GLOBAL_VIEWS}
    for user in users:
        for name in USER_VIEWS:
            views[f"{name}({user})"] = chain.call(manager, name, user)
    for thread in threads:
        key = (thread.sender, thread.receiver, thread.thread_id)
        views[f"getThread{key}"] = chain.call(manager, "getThread", *key)
    for holder in (manager.address, *holders):
        views[f"eth({holder})"] = chain.balance(holder)
        if token is not None:
            views[f"token({holder})"] = chain.call(token, "balanceOf", holder)
    return views
