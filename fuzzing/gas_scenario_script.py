"""BENCHMARK.md's fixed gas scenario (operations #0–#14), written once for every backend.

The states, signatures, senders, order and block timestamps of the scenario live here; a
subclass says only how to reach its chain: fuzzing/gas_scenario.py plays it through the
fuzzing `Chain` interface (revm or anvil), research/benchmark_scenario.py through brownie (the
version behind `make gas`). No brownie import, so the fuzzing backends can use it.

Every step is a generator that yields, after each transaction, what the backend's `checked`
makes of it (a fuzzing `Step`, a brownie transaction), so a test can compare chains step by
step; a backend provides `transact`, `create`, `pay`, `checked` and a few set-up hooks.
States are built with `channel_manager.transitions` where a helper fits and `evolve` where the
scenario names the fields directly, signed with `channel_manager.signing`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from channel_manager import transitions
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.merkle import MerkleTree
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState

GENESIS_TIMESTAMP = 1_700_000_000
STEP_SECONDS = 15
CHALLENGE_PERIOD = 3600
TIMEOUT_SECONDS = 300
#: Nonce the hub deploys from (token at this nonce, mint at +1, manager at +2).
HUB_NONCE = 1_000_000
#: Gas limit given to every transaction (no estimation round trip; gasUsed does not depend on it).
TX_GAS_LIMIT = 8_000_000

ETHER = 10**18
TST = 10**18
FINNEY = 10**15  # 0.001 ETH


EXIT, CHALLENGE = "startExitWithUpdate", "emptyChannelWithChallenge"


class ScenarioError(RuntimeError):
    """A scenario transaction failed, or the scenario's clock was asked to go back."""


class GasScenarioScript(ABC):
    """One play of the scenario by `parties` (hub, userA, userB, userC: anvil's accounts 0–3)
    on a chain with id `chain_id`."""

    def __init__(self, parties: Sequence[Any], chain_id: int) -> None:
        self.hub, self.user_a, self.user_b, self.user_c = parties
        self.keys = {str(party): anvil_key(i) for i, party in enumerate(parties)}
        self.chain_id = chain_id
        self.now = GENESIS_TIMESTAMP
        self.manager: Any = None
        self.token: Any = None
        self.domain: Domain | None = None
        self.threads: list[ThreadState] = []

    # -- what a backend provides ---------------------------------------------------------
    @abstractmethod
    def prepare_accounts(self) -> None:
        """Pin the hub's nonce to HUB_NONCE (and fund the parties where the chain does not)."""

    @abstractmethod
    def set_next_timestamp(self, timestamp: int) -> None:
        """Make the next transaction mine at `timestamp`."""

    @abstractmethod
    def transact(
        self, contract: Any, function: str, args: tuple[Any, ...], sender: Any, value: int
    ) -> Any:
        """Send `contract.function(*args)` from `sender`; return the transaction."""

    @abstractmethod
    def create(self, contract_name: str, args: tuple[Any, ...], sender: Any) -> tuple[Any, Any]:
        """Deploy `contract_name` (ChannelManager or TestToken); return the contract and its
        deployment transaction."""

    @abstractmethod
    def pay(self, sender: Any, to: Any, wei: int) -> Any:
        """Send `wei` from `sender` to `to`; return the transaction."""

    @abstractmethod
    def checked(self, label: str, op: int | None, tx: Any) -> Any:
        """Fail unless `tx` succeeded (at `self.now`); record its gasUsed under operation `op`
        if given; return what the scenario yields for it."""

    @abstractmethod
    def record_deployment(self) -> None:
        """Note what the backend reports about the deployed token and manager."""

    @abstractmethod
    def closing_time(self, user: Any) -> int:
        """The manager's stored closing time of `user`'s channel."""

    # -- plumbing ------------------------------------------------------------------------
    def advance(self, at: int | None = None) -> int:
        """The next transaction's timestamp: 15 s after the previous one, or the named
        instant where the scenario waits."""
        timestamp = self.now + STEP_SECONDS if at is None else at
        if timestamp <= self.now:
            raise ScenarioError(f"scenario time must move forward ({timestamp} <= {self.now})")
        self.now = timestamp
        self.set_next_timestamp(timestamp)
        return timestamp

    def send(
        self,
        label: str,
        contract: Any,
        function: str,
        *args: Any,
        sender: Any,
        value: int = 0,
        op: int | None = None,
        at: int | None = None,
    ) -> Iterator[Any]:
        """Mine `contract.function(*args)` from `sender` at the next instant (`advance(at)`)."""
        self.advance(at)
        yield self.checked(label, op, self.transact(contract, function, args, sender, value))

    def deploy(
        self, label: str, contract_name: str, *args: Any, sender: Any, op: int | None = None
    ) -> Iterator[Any]:
        """Deploy `contract_name` at the next instant; return the contract."""
        self.advance()
        contract, tx = self.create(contract_name, args, sender)
        yield self.checked(label, op, tx)
        return contract

    def transfer_ether(self, label: str, sender: Any, to: Any, wei: int) -> Iterator[Any]:
        """Send `wei` from `sender` to `to` at the next instant."""
        self.advance()
        yield self.checked(label, None, self.pay(sender, to, wei))

    def operation(
        self, function: str, *args: Any, sender: Any, op: int, at: int | None = None
    ) -> Iterator[Any]:
        """Benchmark operation `op`: the manager's `function`, labelled with its name."""
        yield from self.send(function, self.manager, function, *args, sender=sender, op=op, at=at)

    def sign(self, state: ChannelState, who: Any) -> bytes:
        assert self.domain is not None
        return sign_channel_state(self.keys[str(who)], self.domain, state)

    def sign_thread(self, state: ThreadState, who: Any) -> bytes:
        assert self.domain is not None
        return sign_thread_state(self.keys[str(who)], self.domain, state)

    def both(self, state: ChannelState) -> tuple[bytes, bytes]:
        return self.sign(state, self.hub), self.sign(state, state.user)

    def timeout(self) -> int:
        """ "Block time + 300" for a state submitted by the next transaction."""
        return self.now + STEP_SECONDS + TIMEOUT_SECONDS

    def first_deposit(
        self, user: Any, op: int | None = None, prev: ChannelState | None = None
    ) -> Iterator[Any]:
        """As #2: user 1 ETH + 100 TST, hub 50 TST, hub-signed; returns the acknowledgement."""
        base = prev if prev is not None else ChannelState(str(user), str(user))
        proposal = transitions.propose_deposit(
            base, user_wei=ETHER, user_token=100 * TST, hub_token=50 * TST, timeout=self.timeout()
        )
        yield from self.user_authorized("userAuthorizedUpdate (deposit)", proposal, user, ETHER, op)
        return transitions.acknowledge(proposal)

    def user_authorized(
        self, label: str, state: ChannelState, user: Any, value: int = 0, op: int | None = None
    ) -> Iterator[Any]:
        """`user` submits `state` with the hub's signature (userAuthorizedUpdate)."""
        yield from self.send(
            label,
            self.manager,
            "userAuthorizedUpdate",
            state.to_tuple(),
            self.sign(state, self.hub),
            sender=user,
            value=value,
            op=op,
        )

    def double_signed(
        self, label: str, function: str, state: ChannelState, sender: Any, op: int | None = None
    ) -> Iterator[Any]:
        """startExitWithUpdate or emptyChannelWithChallenge with `state` signed by both sides."""
        yield from self.send(
            label, self.manager, function, state.to_tuple(), *self.both(state), sender=sender, op=op
        )

    def exit_and_concede(self, label: str, state: ChannelState, user: Any) -> Iterator[Any]:
        """`user` exits with `state` (startExitWithUpdate) and the hub, not the initiator,
        concedes at once (emptyChannel)."""
        yield from self.double_signed(f"startExitWithUpdate ({label}, thread)", EXIT, state, user)
        yield from self.send(
            f"emptyChannel ({label})", self.manager, "emptyChannel", user, sender=self.hub
        )

    @staticmethod
    def locking(
        state: ChannelState,
        tree: MerkleTree,
        *,
        wei: tuple[int, int],
        token: tuple[int, int],
        tx_count: tuple[int, int],
    ) -> ChannelState:
        """`state` committing to the one thread of `tree`, with the balances its lock leaves."""
        return state.evolve(
            wei_balances=wei,
            token_balances=token,
            tx_count=tx_count,
            thread_root=tree.root,
            thread_count=1,
        )

    # -- the scenario --------------------------------------------------------------------
    def play(self) -> Iterator[Any]:
        yield from self.setup()
        yield from self.user_a_channel()
        yield from self.user_b_channel()
        yield from self.thread_setup()
        yield from self.thread_disputes()
        yield from self.nuke()

    def setup(self) -> Iterator[Any]:
        hub = self.hub
        self.prepare_accounts()
        self.token = yield from self.deploy(
            "deploy TestToken", "TestToken", "Test Token", "TST", sender=hub
        )
        yield from self.send("mint", self.token, "mint", hub, 1_000_000 * TST, sender=hub)
        self.manager = yield from self.deploy(
            "deploy ChannelManager",
            "ChannelManager",
            hub,
            CHALLENGE_PERIOD,
            self.token,
            sender=hub,
            op=0,
        )
        self.domain = Domain(self.chain_id, self.manager.address)
        self.record_deployment()

        # The reserve: 100 ETH (receive()) and 10,000 TST; 1,000 TST to and approved by each user.
        yield from self.transfer_ether(
            "fund the reserve with 100 ETH", hub, self.manager, 100 * ETHER
        )
        yield from self.send(
            "token to the reserve", self.token, "transfer", self.manager, 10_000 * TST, sender=hub
        )
        for user in (self.user_a, self.user_b, self.user_c):
            yield from self.send(
                "token to a user", self.token, "transfer", user, 1_000 * TST, sender=hub
            )
        for user in (self.user_a, self.user_b, self.user_c):
            yield from self.send(
                "approve", self.token, "approve", self.manager, 1_000 * TST, sender=user
            )
        # #1: the hub takes 1 ETH and 100 TST out of its reserve.
        yield from self.operation("hubContractWithdraw", ETHER, 100 * TST, sender=hub, op=1)

    def user_a_channel(self) -> Iterator[Any]:
        hub, user_a = self.hub, self.user_a
        # #2: first deposit (user 1 ETH + 100 TST, hub 50 TST), acknowledged off-chain at [2,1].
        ack = yield from self.first_deposit(user_a, op=2)
        # #3: hub deposit of 0.5 ETH from the reserve at [3,2], user-signed.
        proposal = transitions.propose_deposit(ack, hub_wei=ETHER // 2, timeout=self.timeout())
        sig_user = self.sign(proposal, user_a)
        yield from self.operation(
            "hubAuthorizedUpdate", proposal.to_tuple(), sig_user, sender=hub, op=3
        )
        ack = transitions.acknowledge(proposal)  # [4,2]: wei [0.5, 1.0], token [50, 100]
        # #4: the user sells 20 TST for 0.1 ETH and withdraws 0.2 ETH, in one state [5,3].
        withdrawal = ack.evolve(
            wei_balances=(400 * FINNEY, 900 * FINNEY),
            token_balances=(70 * TST, 80 * TST),
            pending_wei_updates=(0, 0, 0, 200 * FINNEY),
            tx_count=(5, 3),
            timeout=self.timeout(),
        )
        yield from self.user_authorized(
            "userAuthorizedUpdate (withdrawal)", withdrawal, user_a, op=4
        )
        self.a_state = withdrawal
        # #5: the hub exits on the stored state; #6: it empties the channel after the window.
        yield from self.operation("startExit", user_a, sender=hub, op=5)
        empty_at = self.now + CHALLENGE_PERIOD + 1
        yield from self.operation("emptyChannel", user_a, sender=hub, op=6, at=empty_at)

    def user_b_channel(self) -> Iterator[Any]:
        hub, user_b = self.hub, self.user_b
        ack = yield from self.first_deposit(user_b, op=7)  # #7
        # #8: userB exits with a double-signed state [3,1] (it paid the hub 0.1 ETH + 10 TST).
        paid = transitions.pay(ack, to_hub=True, wei=100 * FINNEY, token=10 * TST)
        yield from self.double_signed(EXIT, EXIT, paid, user_b, op=8)
        # #9: the hub answers with [4,1] (another 0.05 ETH + 5 TST) and empties at once.
        newer = transitions.pay(paid, to_hub=True, wei=50 * FINNEY, token=5 * TST)
        yield from self.double_signed(CHALLENGE, CHALLENGE, newer, hub, op=9)
        self.b_state = newer

    def thread_setup(self) -> Iterator[Any]:
        """Played between #9 and #10: both channels of thread A→B end in ThreadDispute, and
        userC's channel is prepared for #14."""
        hub, user_a, user_b, user_c = self.hub, self.user_a, self.user_b, self.user_c
        m = self.manager
        self.thread = ThreadState(str(user_a), str(user_b), 1, (100 * FINNEY, 0), (10 * TST, 0), 0)
        tree = MerkleTree.of_threads([self.thread])

        # userA deposits again into its emptied channel at [6,4] (as #2), acknowledged at [7,4].
        prev_a = self.a_state.evolve(
            wei_balances=(0, 0),
            token_balances=(0, 0),
            pending_wei_updates=(0, 0, 0, 0),
            pending_token_updates=(0, 0, 0, 0),
            timeout=0,
        )
        ack_a = yield from self.first_deposit(user_a, prev=prev_a)
        assert ack_a.tx_count == (7, 4)
        # userB deposits 1 ETH + 100 TST with a 0.5 ETH + 50 TST hub deposit at [5,2].
        prev_b = self.b_state.evolve(wei_balances=(0, 0), token_balances=(0, 0))  # emptied
        proposal_b = transitions.propose_deposit(
            prev_b,
            user_wei=ETHER,
            user_token=100 * TST,
            hub_wei=ETHER // 2,
            hub_token=50 * TST,
            timeout=self.timeout(),
        )
        assert proposal_b.tx_count == (5, 2)
        yield from self.user_authorized(
            "userAuthorizedUpdate (userB deposit)", proposal_b, user_b, ETHER
        )
        ack_b = transitions.acknowledge(proposal_b)  # [6,2]: wei [0.5, 1.0], token [50, 100]

        # userA's newest state [8,4] locks the thread's 0.1 ETH + 10 TST from its side.
        a_thread = self.locking(
            ack_a, tree, wei=(0, 900 * FINNEY), token=(50 * TST, 90 * TST), tx_count=(8, 4)
        )
        yield from self.exit_and_concede("userA", a_thread, user_a)

        # userB's newest state [7,2]: the hub locks the receiver side (0.1 ETH + 10 TST).
        b_thread = self.locking(
            ack_b, tree, wei=(400 * FINNEY, ETHER), token=(40 * TST, 100 * TST), tx_count=(7, 2)
        )
        yield from self.double_signed("startExitWithUpdate (userB, thread)", EXIT, b_thread, user_b)
        b_answer = transitions.pay(b_thread, to_hub=True, wei=50 * FINNEY)  # [8,2]
        yield from self.double_signed("emptyChannelWithChallenge (userB)", CHALLENGE, b_answer, hub)

        # For #14: userC deposits (as #2), opens thread C→B at [3,1], exits, the hub empties
        # into ThreadDispute, userC starts the thread exit with an update; nobody empties it.
        self.thread_c = ThreadState(
            str(user_c), str(user_b), 1, (100 * FINNEY, 0), (10 * TST, 0), 0
        )
        tree_c = MerkleTree.of_threads([self.thread_c])
        ack_c = yield from self.first_deposit(user_c)
        c_thread = self.locking(
            ack_c, tree_c, wei=(0, 900 * FINNEY), token=(50 * TST, 90 * TST), tx_count=(3, 1)
        )
        yield from self.exit_and_concede("userC", c_thread, user_c)
        update_c = self.thread_c.evolve(
            wei_balances=(60 * FINNEY, 40 * FINNEY), token_balances=(6 * TST, 4 * TST), tx_count=4
        )
        yield from self.send(
            "startExitThreadWithUpdate (C->B)",
            m,
            "startExitThreadWithUpdate",
            user_c,
            self.thread_c.to_tuple(),
            tree_c.thread_proof(self.thread_c),
            self.sign_thread(self.thread_c, user_c),
            update_c.to_tuple(),
            self.sign_thread(update_c, user_c),
            sender=user_c,
        )
        self.tree = tree
        self.threads = [self.thread, self.thread_c]

    def thread_disputes(self) -> Iterator[Any]:
        user_a, user_b, m = self.user_a, self.user_b, self.manager
        initial, proof = self.thread, self.tree.thread_proof(self.thread)
        sig_initial = self.sign_thread(initial, user_a)
        # #10: userA starts the thread dispute with the initial state.
        yield from self.operation(
            "startExitThread", user_a, initial.to_tuple(), proof, sig_initial, sender=user_a, op=10
        )
        thread_closing = self.now + CHALLENGE_PERIOD
        # #11: userB answers with the sender-signed state 0.07/0.03 ETH, 7/3 TST at txCount 3.
        update = initial.evolve(
            wei_balances=(70 * FINNEY, 30 * FINNEY), token_balances=(7 * TST, 3 * TST), tx_count=3
        )
        sig_update = self.sign_thread(update, user_a)
        yield from self.operation(
            "challengeThread", update.to_tuple(), sig_update, sender=user_b, op=11
        )
        # #12, #13: both sides settle after the thread window (closing + 1 s, as #6).
        for label, side, op, at in (
            ("emptyThread (sender)", user_a, 12, thread_closing + 1),
            ("emptyThread (receiver)", user_b, 13, None),
        ):
            yield from self.send(
                label,
                m,
                "emptyThread",
                side,
                initial.to_tuple(),
                proof,
                sig_initial,
                sender=side,
                op=op,
                at=at,
            )

    def nuke(self) -> Iterator[Any]:
        # #14: 10 challenge periods + 1 s after userC's channel closing time.
        nuke_at = self.closing_time(self.user_c) + 10 * CHALLENGE_PERIOD + 1
        yield from self.operation("nukeThreads", self.user_c, sender=self.hub, op=14, at=nuke_at)
