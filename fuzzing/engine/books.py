"""What each party knows: signed channel states, open threads, thread payments.

The honest parties' knowledge is what the safety properties measure payouts against
(docs/protocol.md §10.4, §10.9): an honest user or hub is owed its balance in the newest
double-signed state without a timeout (`ChannelBook.final`), an honest thread receiver the
receiver balances of the newest thread state it accepted (`ThreadBook.newest`). These books are
the parties' own records, built as the parties sign; they never read the contract's storage to
decide what a party is owed, so a contract bug cannot make the books agree with it.

Honest discipline kept here (docs/protocol.md §4): one pending proposal at a time; while it is
outstanding no other state is signed; it is acknowledged once executed and voided once its
timeout has passed unexecuted (a proposal without timeout is never voided, only executed); no
channel state is signed while the channel is not Open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from channel_manager.aliases import ZERO_BYTES32
from channel_manager.merkle import MerkleTree
from channel_manager.rules import validate_channel_update
from channel_manager.states import ChannelState, ThreadState
from channel_manager.transitions import settle
from fuzzing.engine.fast import Hasher, Key, channel_state, evolve

ZERO4 = (0, 0, 0, 0)

HONEST, CHEATER, PUPPET = "honest", "cheater", "puppet"


@dataclass(eq=False)
class Party:
    """A user. `honest` users follow the protocol; `cheater`s sign only what the honest hub
    co-signs with them but exit on stale states, revoke by delegation and, as thread senders,
    sign any thread state; `puppet`s are the hub's sock puppets: the hub holds their keys and
    signs anything with them."""

    name: str
    kind: str
    key: Key
    cold: str  # where its withdrawals and claims may go

    @property
    def address(self) -> str:
        return self.key.address

    @property
    def adversarial(self) -> bool:
        return self.kind != HONEST


@dataclass(frozen=True, eq=False)
class Signed:
    """A double-signed channel state and the initial states of the threads its root holds
    (in leaf order; for a puppet's state possibly more leaves than its threadCount)."""

    state: ChannelState
    sig_hub: bytes
    sig_user: bytes
    leaves: tuple[ThreadState, ...] = ()


class Roots:
    """Every thread root any party ever signed, with its leaves: the proofs come from here."""

    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher
        self._leaves: dict[bytes, tuple[ThreadState, ...]] = {}
        self._trees: dict[bytes, MerkleTree] = {}

    def root_of(self, leaves: tuple[ThreadState, ...]) -> bytes:
        if not leaves:
            return ZERO_BYTES32
        tree = MerkleTree([self.hasher.thread_struct_hash(t) for t in leaves])
        root = bytes(tree.root)
        if root not in self._trees:
            self._trees[root] = tree
            self._leaves[root] = leaves
        return root

    def leaves(self, root: bytes) -> tuple[ThreadState, ...]:
        return self._leaves.get(bytes(root), ())

    def proof(self, root: bytes, leaf: ThreadState) -> list[bytes]:
        tree = self._trees.get(bytes(root))
        if tree is None:
            return []
        try:
            return tree.proof(self.hasher.thread_struct_hash(leaf))
        except KeyError:
            return []


@dataclass
class Lifecycle:
    """One dispute of an honest party's channel, from its start until the channel reopens:
    the claim the party held when it started and which thread sides it has settled since."""

    claim: Signed | None
    executed: bool
    settled: set[tuple[str, str, int]] = field(default_factory=set)
    channel_paid: bool = False


class ChannelBook:
    """The signed history of one channel, as hub and user hold it."""

    def __init__(
        self, party: Party, hub_key: Key, hasher: Hasher, roots: Roots, check_rules: bool = False
    ) -> None:
        self.party = party
        self.hub_key = hub_key
        self.hasher = hasher
        self.roots = roots
        self.check_rules = check_rules
        user = party.address
        self.base = channel_state(
            user, user, (0, 0), (0, 0), ZERO4, ZERO4, (0, 0), ZERO_BYTES32, 0, 0
        )
        self.final: Signed | None = None  # newest double-signed state with timeout 0
        self.outstanding: Signed | None = None  # proposal awaiting execution or expiry
        self.executed: set[int] = set()  # onchain counts whose pending updates ran
        self.history: list[Signed] = []
        self.hub_cheated = False  # the hub exited on a stale state in the running dispute
        self.lifecycle: Lifecycle | None = None

    # ------------------------------------------------------------------ reading
    @property
    def user(self) -> str:
        return self.party.address

    @property
    def current(self) -> ChannelState:
        """The state the next one builds on."""
        if self.outstanding is not None:
            return self.outstanding.state
        return self.final.state if self.final is not None else self.base

    @property
    def threads(self) -> tuple[ThreadState, ...]:
        return self.final.leaves if self.final is not None else ()

    def lifecycle_threads(self) -> tuple[ThreadState, ...]:
        """The open threads of the state the party held when the running dispute started."""
        if self.lifecycle is None or self.lifecycle.claim is None:
            return ()
        return self.lifecycle.claim.leaves

    def claim_balances(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((hub wei, user wei), (hub token, user token)) the honest parties are owed by `final`:
        its balances after its pending updates were applied if they ran, else reverted."""
        if self.final is None:
            return (0, 0), (0, 0)
        s = self.final.state
        executed = s.tx_count[1] in self.executed
        return (
            settle(s.wei_balances, s.pending_wei_updates, executed),
            settle(s.token_balances, s.pending_token_updates, executed),
        )

    # ------------------------------------------------------------------ signing
    def sign(self, state: ChannelState, leaves: tuple[ThreadState, ...] = ()) -> Signed:
        digest = self.hasher.channel_digest(state)
        signed = Signed(state, self.hub_key.sign(digest), self.party.key.sign(digest), leaves)
        self.history.append(signed)
        if len(self.history) > 64:
            del self.history[: len(self.history) - 64]
        return signed

    def _adopt(
        self,
        state: ChannelState,
        leaves: tuple[ThreadState, ...],
        pending_executed: bool | None = None,
    ) -> Signed:
        if self.check_rules:
            prev = self.current if (self.final or self.outstanding) else None
            validate_channel_update(
                prev,
                state,
                pending_executed=pending_executed,
                locked_before=_locked(self.threads),
                locked_after=_locked(leaves),
            )
        signed = self.sign(state, leaves)
        if state.timeout == 0:
            self.final = signed
            self.outstanding = signed if state.has_pending else None
        else:
            self.outstanding = signed
        return signed

    def next_plain(
        self, wei: tuple[int, int], token: tuple[int, int], leaves: tuple[ThreadState, ...]
    ) -> Signed:
        """A payment or a thread change: txCount[0] + 1, no pending, no timeout."""
        s = self.current
        root = self.roots.root_of(leaves)
        state = evolve(
            s,
            wei_balances=wei,
            token_balances=token,
            tx_count=(s.tx_count[0] + 1, s.tx_count[1]),
            thread_root=root,
            thread_count=len(leaves),
            timeout=0,
        )
        return self._adopt(state, leaves)

    def propose(
        self,
        pending_wei: tuple[int, int, int, int],
        pending_token: tuple[int, int, int, int],
        recipient: str,
        timeout: int,
    ) -> Signed:
        """Deposits and withdrawals (docs/protocol.md §4): balances drop by the withdrawals."""
        s = self.current
        (wh, wu), (th, tu) = s.wei_balances, s.token_balances
        state = evolve(
            s,
            recipient=recipient,
            wei_balances=(wh - pending_wei[1], wu - pending_wei[3]),
            token_balances=(th - pending_token[1], tu - pending_token[3]),
            pending_wei_updates=pending_wei,
            pending_token_updates=pending_token,
            tx_count=(s.tx_count[0] + 1, s.tx_count[1] + 1),
            timeout=timeout,
        )
        return self._adopt(state, self.threads)

    def acknowledge(self) -> Signed:
        """The outstanding proposal was executed: fold it into the balances."""
        assert self.outstanding is not None
        self.executed.add(self.outstanding.state.tx_count[1])
        return self._settle_outstanding(executed=True)

    def void(self) -> Signed:
        """The outstanding proposal expired unexecuted: undo it, raise txCount[1]."""
        assert self.outstanding is not None and self.outstanding.state.timeout != 0
        return self._settle_outstanding(executed=False)

    def _settle_outstanding(self, executed: bool) -> Signed:
        """The next state after the outstanding proposal: its pending updates applied (executed)
        or reverted (voided, which also raises txCount[1]), no timeout."""
        assert self.outstanding is not None
        s = self.outstanding.state
        state = evolve(
            s,
            wei_balances=settle(s.wei_balances, s.pending_wei_updates, executed),
            token_balances=settle(s.token_balances, s.pending_token_updates, executed),
            pending_wei_updates=ZERO4,
            pending_token_updates=ZERO4,
            tx_count=(s.tx_count[0] + 1, s.tx_count[1] + (0 if executed else 1)),
            timeout=0,
        )
        return self._adopt(state, self.outstanding.leaves, pending_executed=executed)

    def resync(self, executed: ChannelState, leaves: tuple[ThreadState, ...]) -> None:
        """An older signed proposal was executed by someone: both honest parties saw it on chain
        and continue from it, acknowledged."""
        self.executed.add(executed.tx_count[1])
        self.outstanding = Signed(executed, b"", b"", leaves)
        self.acknowledge()

    def reopened(self, tx_count: tuple[int, int]) -> None:
        """The channel was emptied (or nuked) and is Open again with these stored counters:
        everything it held was paid out, the next state starts from zero."""
        user = self.user
        self.base = channel_state(
            user, user, (0, 0), (0, 0), ZERO4, ZERO4, tx_count, ZERO_BYTES32, 0, 0
        )
        self.final = None
        self.outstanding = None
        self.hub_cheated = False
        self.lifecycle = None


def _locked(leaves: tuple[ThreadState, ...]) -> tuple[int, int]:
    return sum(t.wei_balances[0] for t in leaves), sum(t.token_balances[0] for t in leaves)


@dataclass(eq=False)
class ThreadBook:
    """A thread opened through the hub. `newest` is the newest state the receiver accepted
    (for an honest sender also the newest it signed); `signed` keeps every state the sender
    signed, the ammunition of adversarial calls."""

    initial: ThreadState
    sender: Party
    receiver: Party
    sig_initial: bytes
    newest: ThreadState
    sig_newest: bytes
    signed: list[tuple[ThreadState, bytes]] = field(default_factory=list)
    closed: bool = False  # released cooperatively in both channels

    @property
    def key(self) -> tuple[str, str, int]:
        return self.initial.key

    def owed_to(self, party: Party) -> tuple[int, int]:
        """(wei, token) an honest party of this thread is owed: the receiver its balances in the
        newest state it accepted, an honest sender what it kept in the newest state it signed."""
        side = 1 if party is self.receiver else 0
        return self.newest.wei_balances[side], self.newest.token_balances[side]
