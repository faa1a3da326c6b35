"""Fixtures for the thread unit tests (docs/protocol.md §8).

`world` drives channels with threads on the chain through the off-chain helpers of
`channel_manager.threads`: it keeps each user's newest double-signed state with its open
threads, signs, proves and submits. The scenario fixtures build on it:

- `opened`          alice and bob have channels and a thread alice → bob (id 1, 0.1 ETH +
                    10 TST) is open in both; nothing disputed yet.
- `sender_disputed` `opened`, then alice's channel is exited with the newest state (by alice)
                    and emptied by the hub (the non-initiator): alice's channel in ThreadDispute.
- `both_disputed`   `sender_disputed`, and bob's channel likewise in ThreadDispute.
- `thread_exited`   `both_disputed`, then alice starts the thread dispute with the initial state.

Channel amounts: alice deposits 1 ETH + 100 TST with a 50 TST hub deposit; bob deposits
1 ETH + 100 TST with a 0.5 ETH + 50 TST hub deposit (the hub's side collateralises threads
to bob).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from brownie import web3

from channel_manager.states import ChannelState, ThreadState
from channel_manager.threads import ThreadedChannel, open_thread, pay_in_thread
from tests.helpers import ETHER, TOKEN, set_next_timestamp

THREAD_WEI = ETHER // 10
THREAD_TOKEN = 10 * TOKEN
STEP_WEI = ETHER // 100  # one thread payment
STEP_TOKEN = TOKEN
SENDER_DEPOSIT = {
    "user_wei": ETHER,
    "user_token": 100 * TOKEN,
    "hub_wei": 0,
    "hub_token": 50 * TOKEN,
}
RECEIVER_DEPOSIT = {
    "user_wei": ETHER,
    "user_token": 100 * TOKEN,
    "hub_wei": ETHER // 2,
    "hub_token": 50 * TOKEN,
}
STATUS_OPEN, STATUS_CHANNEL_DISPUTE, STATUS_THREAD_DISPUTE = 0, 1, 2
ZERO_ROOT = "0x" + "00" * 32


def hexes(items: list[bytes]) -> list[str]:
    return ["0x" + x.hex() for x in items]


def b32(value: bytes) -> str:
    """A bytes32 error argument as brownie prints it in a decoded revert (Python bytes repr,
    not hex): pass this to `reverts(...)` for ThreadNotInRoot's leaf and root."""
    return repr(bytes(value))


def plain(value: Any) -> Any:
    """Brownie return values and event data as plain Python (lists of ints, lower-case hex
    strings, dicts), so they compare with literals (compiled brownie's Wei refuses some
    comparisons with int)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else value
    if hasattr(value, "address"):  # a brownie Account or Contract
        return str(value.address).lower()
    if isinstance(value, (list, tuple)):  # before dicts: brownie's ReturnValue is both
        return [plain(v) for v in value]
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    return value


def read_thread(manager: Any, sender: Any, receiver: Any, thread_id: int) -> dict[str, Any]:
    """getThread as a dict of plain values."""
    wei, token, tx_count, closing, emptied = manager.getThread(sender, receiver, thread_id)
    return {
        "weiBalances": plain(wei),
        "tokenBalances": plain(token),
        "txCount": int(tx_count),
        "threadClosingTime": int(closing),
        "emptied": [bool(e) for e in emptied],
    }


def event(tx: Any, name: str) -> dict[str, Any]:
    """The transaction's (single) event `name` as a dict of plain values."""
    return plain(dict(tx.events[name]))


def fee_of(tx: Any) -> int:
    """ETH the sender paid for gas (zero on the zero-base-fee chain, but never assumed)."""
    return tx.gas_used * tx.gas_price


@dataclass(frozen=True)
class Snapshot:
    """Everything a thread call may change, for the watched users."""

    balances: dict[str, tuple[int, ...]]  # getChannelBalances
    details: dict[str, tuple[Any, ...]]  # getChannelDetails
    total_wei: int
    total_token: int
    reserve_wei: int
    reserve_token: int
    manager_eth: int
    manager_token: int
    eth: dict[str, int]
    tokens: dict[str, int]
    credits: dict[str, tuple[int, int]]


@dataclass
class ThreadWorld:
    """Channels with threads on one deployment, driven through the off-chain helpers."""

    manager: Any
    token: Any
    signer: Any
    hub: Any
    deposit: Any  # the suite's open_channel factory
    channels: dict[str, ThreadedChannel] = field(default_factory=dict)

    # ---------------------------------------------------------------- off-chain
    def open_channel(self, user: Any, **amounts: int) -> ThreadedChannel:
        """Deposit through userAuthorizedUpdate; keeps the acknowledged state ([2, 1])."""
        self.channels[str(user)] = ThreadedChannel(self.deposit(user, **amounts))
        return self.channels[str(user)]

    def channel(self, user: Any) -> ThreadedChannel:
        return self.channels[str(user)]

    def open_thread(
        self,
        sender: Any,
        receiver: Any,
        thread_id: int = 1,
        wei: int = THREAD_WEI,
        token: int = THREAD_TOKEN,
    ) -> ThreadState:
        """Open a thread off-chain: both channels move to their next (double-signed) state."""
        opening = open_thread(
            self.channel(sender),
            self.channel(receiver),
            thread_id,
            wei=wei,
            token=token,
            hub=str(self.hub),
        )
        self.channels[str(sender)] = opening.sender
        self.channels[str(receiver)] = opening.receiver
        return opening.initial

    def pay(
        self, state: ThreadState, times: int = 1, wei: int = STEP_WEI, token: int = STEP_TOKEN
    ) -> ThreadState:
        for _ in range(times):
            state = pay_in_thread(state, wei=wei, token=token)
        return state

    def sig(self, state: ThreadState, signer: Any = None) -> bytes:
        """The thread state signed by its sender (or by `signer`)."""
        return self.signer.thread(state, signer or state.sender)

    def proof(self, user: Any, initial: ThreadState) -> list[str]:
        return hexes(self.channel(user).proof(initial))

    # ---------------------------------------------------------------- on chain
    def dispute(self, user: Any) -> int:
        """Bring `user`'s channel into ThreadDispute: the user exits with the newest
        double-signed state, the hub (non-initiator) empties at once. Returns the channel
        closing time (the nuke deadline counts from it)."""
        return self.dispute_state(self.channel(user).state)

    def dispute_state(self, state: ChannelState) -> int:
        sig_hub, sig_user = self.signer.both(state, self.hub)
        tx = self.manager.startExitWithUpdate(
            state.to_tuple(), sig_hub, sig_user, {"from": state.user}
        )
        self.manager.emptyChannel(state.user, {"from": self.hub})
        return int(tx.events["DidStartExitChannel"]["channelClosingTime"])

    def exit_thread(
        self, user: Any, initial: ThreadState, caller: Any = None, at: int | None = None
    ) -> Any:
        if at is not None:
            set_next_timestamp(at)
        return self.manager.startExitThread(
            user,
            initial.to_tuple(),
            self.proof(user, initial),
            self.sig(initial),
            {"from": caller or user},
        )

    def exit_thread_with_update(
        self, user: Any, initial: ThreadState, update: ThreadState, caller: Any = None
    ) -> Any:
        return self.manager.startExitThreadWithUpdate(
            user,
            initial.to_tuple(),
            self.proof(user, initial),
            self.sig(initial),
            update.to_tuple(),
            self.sig(update),
            {"from": caller or user},
        )

    def challenge(self, update: ThreadState, caller: Any, at: int | None = None) -> Any:
        if at is not None:
            set_next_timestamp(at)
        return self.manager.challengeThread(update.to_tuple(), self.sig(update), {"from": caller})

    def empty(
        self, user: Any, initial: ThreadState, caller: Any = None, at: int | None = None
    ) -> Any:
        if at is not None:
            set_next_timestamp(at)
        return self.manager.emptyThread(
            user,
            initial.to_tuple(),
            self.proof(user, initial),
            self.sig(initial),
            {"from": caller or user},
        )

    def thread_closing(self, initial: ThreadState) -> int:
        return int(self.manager.getThread(*initial.key)[3])

    def thread(self, state: ThreadState) -> dict[str, Any]:
        return read_thread(self.manager, *state.key)

    # ---------------------------------------------------------------- observation
    def snapshot(self, *users: Any) -> Snapshot:
        names = [str(u) for u in users]
        holders = names + [str(self.hub)]
        return Snapshot(
            balances={u: tuple(plain(self.manager.getChannelBalances(u))) for u in names},
            details={u: tuple(plain(self.manager.getChannelDetails(u))) for u in names},
            total_wei=int(self.manager.totalChannelWei()),
            total_token=int(self.manager.totalChannelToken()),
            reserve_wei=int(self.manager.getHubReserveWei()),
            reserve_token=int(self.manager.getHubReserveTokens()),
            manager_eth=int(web3.eth.get_balance(self.manager.address)),
            manager_token=int(self.token.balanceOf(self.manager)),
            eth={a: int(web3.eth.get_balance(a)) for a in holders},
            tokens={a: int(self.token.balanceOf(a)) for a in holders},
            credits={
                u: (int(self.manager.creditWei(u)), int(self.manager.creditToken(u))) for u in names
            },
        )


@pytest.fixture
def world(funded, token, signer, hub, open_channel) -> ThreadWorld:
    return ThreadWorld(funded, token, signer, hub, open_channel)


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
