"""A small world for the reference model's unit tests (no chain): a hub, three users, a stranger,
funded channels and thread disputes built with the package's own helpers.

Signatures use the model's deterministic `TableOracle` unless a test passes another oracle and
signer (the signature tests use real keys). Every call runs one second after the previous one,
so deadlines are reached with `world.wait(seconds)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_utils import to_checksum_address

from channel_manager import transitions
from channel_manager.eip712 import channel_digest, thread_digest
from channel_manager.model import ChannelManagerModel, Outcome, SignatureOracle, TableOracle
from channel_manager.states import ChannelState, ThreadState
from channel_manager.threads import ThreadedChannel, open_thread

ETHER = 10**18
PERIOD = 3600
T0 = 1_700_000_000
HUB = to_checksum_address("0x" + "11" * 20)
ALICE = to_checksum_address("0x" + "aa" * 20)
BOB = to_checksum_address("0x" + "bb" * 20)
CAROL = to_checksum_address("0x" + "cc" * 20)
STRANGER = to_checksum_address("0x" + "99" * 20)
CONTRACT = to_checksum_address("0x" + "cf" * 20)
RESERVE_WEI = 100 * ETHER
RESERVE_TOKEN = 1_000 * ETHER

Signer = Callable[[bytes, str], bytes]  # (digest, signer address) -> signature


class ModelWorld:
    """The model plus each user's newest double-signed state (with its open threads)."""

    def __init__(
        self,
        hub: str = HUB,
        oracle: SignatureOracle | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.hub = hub
        self.oracle = oracle or TableOracle()
        self.signer: Signer = signer or (lambda digest, who: TableOracle.sign(who, digest))
        self.model = ChannelManagerModel(hub, PERIOD, CONTRACT, signatures=self.oracle)
        self.model.receive_eth(RESERVE_WEI)
        self.model.receive_tokens(RESERVE_TOKEN)
        self.now = T0
        self.channels: dict[str, ThreadedChannel] = {}

    # ---------------------------------------------------------------- time and calls
    def wait(self, seconds: int) -> None:
        self.now += seconds

    def call(self, method: str, caller: str, *args: Any) -> Outcome:
        """The model's `method` by `caller`, one second after the previous call."""
        self.now += 1
        return getattr(self.model, method)(caller, self.now, *args)

    # ---------------------------------------------------------------- signatures
    def sign(self, state: ChannelState | ThreadState, who: str) -> bytes:
        if isinstance(state, ThreadState):
            return self.signer(thread_digest(self.model.domain, state), who)
        return self.signer(channel_digest(self.model.domain, state), who)

    def sigs(self, state: ChannelState) -> tuple[bytes, bytes]:
        """(hub signature, user signature) of a channel state."""
        return self.sign(state, self.hub), self.sign(state, state.user)

    # ---------------------------------------------------------------- channels
    def newest(self, user: str) -> ChannelState:
        return self.channel(user).state

    def channel(self, user: str) -> ThreadedChannel:
        return self.channels.get(user) or ThreadedChannel(ChannelState(user, user))

    def fund(
        self,
        user: str,
        *,
        user_wei: int = 0,
        hub_wei: int = 0,
        user_token: int = 0,
        hub_token: int = 0,
    ) -> ChannelState:
        """A user-authorized deposit (the user's from its wallet, the hub's from the reserve),
        executed on the model and acknowledged off-chain."""
        proposal = transitions.propose_deposit(
            self.newest(user),
            user_wei=user_wei,
            hub_wei=hub_wei,
            user_token=user_token,
            hub_token=hub_token,
        )
        self.call("user_authorized_update", user, proposal, self.sign(proposal, self.hub), user_wei)
        acknowledged = transitions.acknowledge(proposal)
        self.channels[user] = ThreadedChannel(acknowledged, self.channel(user).threads)
        return acknowledged

    def open_thread(
        self, sender: str, receiver: str, thread_id: int, *, wei: int = 0, token: int = 0
    ) -> ThreadState:
        """Open a thread off-chain in both channels (package helpers); returns its initial state."""
        opening = open_thread(
            self.channel(sender),
            self.channel(receiver),
            thread_id,
            wei=wei,
            token=token,
            hub=self.hub,
        )
        self.channels[sender], self.channels[receiver] = opening.sender, opening.receiver
        return opening.initial

    def exit_with_newest(self, user: str, by: str | None = None) -> None:
        """startExitWithUpdate with the user's newest state, then a stranger empties it after
        the window (into ThreadDispute when threads are open)."""
        state = self.newest(user)
        self.call("start_exit_with_update", by or user, state, *self.sigs(state))
        self.wait(PERIOD)
        self.call("empty_channel", STRANGER, user)

    def proof(self, user: str, initial: ThreadState) -> list[bytes]:
        return self.channel(user).proof(initial)

    # ---------------------------------------------------------------- solvency (§10.1)
    def assert_solvent(self) -> None:
        m = self.model
        assert m.eth_balance >= m.total_channel_wei + m.total_credit_wei
        assert m.token_balance >= m.total_channel_token + m.total_credit_token
        assert m.total_channel_wei == sum(c.wei_total for c in m.channels.values())
        assert m.total_channel_token == sum(c.token_total for c in m.channels.values())
        for c in m.channels.values():
            assert c.wei_hub + c.wei_user <= c.wei_total
            assert c.token_hub + c.token_user <= c.token_total
