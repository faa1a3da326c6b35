"""BENCHMARK.md's fixed gas scenario (operations #0–#14) played through the `Chain` interface.

The same transactions, in the same order, at the same timestamps and from the same nonces as
research/benchmark_scenario.py (the brownie version behind `make gas`), with states built the
same way through `channel_manager.transitions` and signed with `channel_manager.signing`. It is
a generator: `play()` yields a `Step` after every transaction, so a test can compare two chains
after each one. research/benchmark_scenario.py imports brownie, so its constants are repeated
here; the cross-backend test checks that this replay measures the same gas as that script.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from channel_manager import transitions
from channel_manager.contract_views import ChannelDetails
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.merkle import MerkleTree
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState
from fuzzing.artifacts import Artifact
from fuzzing.chain.base import DEV_BALANCE, Chain, Contract, TxResult

GENESIS_TIMESTAMP = 1_700_000_000
STEP_SECONDS = 15
CHALLENGE_PERIOD = 3600
TIMEOUT_SECONDS = 300
HUB_NONCE = 1_000_000  # the hub deploys from this nonce: token, mint, manager
TX_GAS_LIMIT = 8_000_000
ETHER = 10**18
TST = 10**18
FINNEY = 10**15


class ScenarioError(Exception):
    """A scenario transaction failed: the contract no longer plays the benchmark."""


@dataclass(frozen=True)
class Step:
    """One transaction of the scenario: its BENCHMARK.md number (None for set-up), a label and
    its result."""

    op: int | None
    label: str
    result: TxResult


@dataclass
class ScenarioRecord:
    gas: dict[int, int] = field(default_factory=dict)
    runtime_code_size: int = 0


class GasScenario:
    """One play on `chain` of the scenario with the given manager and token artifacts."""

    def __init__(self, chain: Chain, manager: Artifact, token: Artifact) -> None:
        self.chain = chain
        self.manager_artifact = manager
        self.token_artifact = token
        self.hub, self.user_a, self.user_b, self.user_c = chain.accounts[:4]
        self.keys = {chain.accounts[i]: anvil_key(i) for i in range(4)}
        self.now = GENESIS_TIMESTAMP
        self.record = ScenarioRecord()
        self.manager: Contract | None = None
        self.token: Contract | None = None
        self.domain: Domain | None = None
        self.threads: list[ThreadState] = []

    # -- plumbing ------------------------------------------------------------------------
    def _tick(self, at: int | None) -> None:
        timestamp = self.now + STEP_SECONDS if at is None else at
        if timestamp <= self.now:
            raise ScenarioError(f"scenario time must move forward ({timestamp} <= {self.now})")
        self.now = timestamp
        self.chain.set_time(timestamp)

    def _check(self, step: Step) -> Step:
        if not step.result.success:
            raise ScenarioError(f"{step.label} failed: {step.result.revert_text()}")
        if step.op is not None:
            self.record.gas[step.op] = step.result.gas_used
        return step

    def send(
        self,
        label: str,
        contract: Contract,
        function: str,
        *args: Any,
        sender: str,
        value: int = 0,
        op: int | None = None,
        at: int | None = None,
    ) -> Iterator[Step]:
        self._tick(at)
        result = self.chain.transact(
            contract, function, *args, sender=sender, value=value, gas=TX_GAS_LIMIT
        )
        yield self._check(Step(op, label, result))

    def sign(self, state: ChannelState, who: str) -> bytes:
        assert self.domain is not None
        return sign_channel_state(self.keys[who], self.domain, state)

    def sign_thread(self, state: ThreadState, who: str) -> bytes:
        assert self.domain is not None
        return sign_thread_state(self.keys[who], self.domain, state)

    def both(self, state: ChannelState) -> tuple[bytes, bytes]:
        return self.sign(state, self.hub), self.sign(state, state.user)

    def timeout(self) -> int:
        """ "Block time + 300" for a state submitted by the next transaction."""
        return self.now + STEP_SECONDS + TIMEOUT_SECONDS

    def first_deposit(
        self, user: str, op: int | None = None, prev: ChannelState | None = None
    ) -> Iterator[Step]:
        """As #2: user 1 ETH + 100 TST, hub 50 TST, hub-signed; leaves the acknowledgement in
        `self.ack`."""
        base = prev if prev is not None else ChannelState(user, user)
        proposal = transitions.propose_deposit(
            base, user_wei=ETHER, user_token=100 * TST, hub_token=50 * TST, timeout=self.timeout()
        )
        yield from self.send(
            "userAuthorizedUpdate (deposit)",
            self.m,
            "userAuthorizedUpdate",
            proposal.to_tuple(),
            self.sign(proposal, self.hub),
            sender=user,
            value=ETHER,
            op=op,
        )
        self.ack = transitions.acknowledge(proposal)

    @property
    def m(self) -> Contract:
        assert self.manager is not None
        return self.manager

    # -- the scenario --------------------------------------------------------------------
    def play(self) -> Iterator[Step]:
        yield from self.setup()
        yield from self.user_a_channel()
        yield from self.user_b_channel()
        yield from self.thread_setup()
        yield from self.thread_disputes()
        yield from self.nuke()

    def setup(self) -> Iterator[Step]:
        chain, hub = self.chain, self.hub
        for party in (self.hub, self.user_a, self.user_b, self.user_c):
            chain.set_balance(party, DEV_BALANCE)
        chain.set_nonce(hub, HUB_NONCE)
        self._tick(None)
        self.token = chain.deploy(
            self.token_artifact, "Test Token", "TST", sender=hub, gas=TX_GAS_LIMIT
        )
        yield self._check(Step(None, "deploy TestToken", self.token.deployment))  # type: ignore[arg-type]
        yield from self.send("mint", self.token, "mint", hub, 1_000_000 * TST, sender=hub)
        self._tick(None)
        self.manager = chain.deploy(
            self.manager_artifact, hub, CHALLENGE_PERIOD, self.token, sender=hub, gas=TX_GAS_LIMIT
        )
        yield self._check(Step(0, "deploy ChannelManager", self.manager.deployment))  # type: ignore[arg-type]
        self.domain = Domain(chain.chain_id, self.manager.address)
        self.record.runtime_code_size = len(chain.code(self.manager))

        self._tick(None)
        funded = chain.send(hub, self.manager, 100 * ETHER, gas=TX_GAS_LIMIT)
        yield self._check(Step(None, "fund the reserve with 100 ETH", funded))
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
        yield from self.send(
            "hubContractWithdraw", self.m, "hubContractWithdraw", ETHER, 100 * TST, sender=hub, op=1
        )

    def user_a_channel(self) -> Iterator[Step]:
        hub, user_a, m = self.hub, self.user_a, self.m
        yield from self.first_deposit(user_a, op=2)
        ack = self.ack
        proposal = transitions.propose_deposit(ack, hub_wei=ETHER // 2, timeout=self.timeout())
        yield from self.send(
            "hubAuthorizedUpdate",
            m,
            "hubAuthorizedUpdate",
            proposal.to_tuple(),
            self.sign(proposal, user_a),
            sender=hub,
            op=3,
        )
        ack = transitions.acknowledge(proposal)
        withdrawal = ack.evolve(
            wei_balances=(400 * FINNEY, 900 * FINNEY),
            token_balances=(70 * TST, 80 * TST),
            pending_wei_updates=(0, 0, 0, 200 * FINNEY),
            tx_count=(5, 3),
            timeout=self.timeout(),
        )
        yield from self.send(
            "userAuthorizedUpdate (withdrawal)",
            m,
            "userAuthorizedUpdate",
            withdrawal.to_tuple(),
            self.sign(withdrawal, hub),
            sender=user_a,
            op=4,
        )
        self.a_state = withdrawal
        yield from self.send("startExit", m, "startExit", user_a, sender=hub, op=5)
        yield from self.send(
            "emptyChannel",
            m,
            "emptyChannel",
            user_a,
            sender=hub,
            op=6,
            at=self.now + CHALLENGE_PERIOD + 1,
        )

    def user_b_channel(self) -> Iterator[Step]:
        hub, user_b, m = self.hub, self.user_b, self.m
        yield from self.first_deposit(user_b, op=7)
        paid = transitions.pay(self.ack, to_hub=True, wei=100 * FINNEY, token=10 * TST)
        yield from self.send(
            "startExitWithUpdate",
            m,
            "startExitWithUpdate",
            paid.to_tuple(),
            *self.both(paid),
            sender=user_b,
            op=8,
        )
        newer = transitions.pay(paid, to_hub=True, wei=50 * FINNEY, token=5 * TST)
        yield from self.send(
            "emptyChannelWithChallenge",
            m,
            "emptyChannelWithChallenge",
            newer.to_tuple(),
            *self.both(newer),
            sender=hub,
            op=9,
        )
        self.b_state = newer

    def thread_setup(self) -> Iterator[Step]:
        hub, user_a, user_b, user_c, m = self.hub, self.user_a, self.user_b, self.user_c, self.m
        self.thread = ThreadState(user_a, user_b, 1, (100 * FINNEY, 0), (10 * TST, 0), 0)
        tree = MerkleTree.of_threads([self.thread])

        prev_a = self.a_state.evolve(
            wei_balances=(0, 0),
            token_balances=(0, 0),
            pending_wei_updates=(0, 0, 0, 0),
            pending_token_updates=(0, 0, 0, 0),
            timeout=0,
        )
        yield from self.first_deposit(user_a, prev=prev_a)
        ack_a = self.ack
        prev_b = self.b_state.evolve(wei_balances=(0, 0), token_balances=(0, 0))
        proposal_b = transitions.propose_deposit(
            prev_b,
            user_wei=ETHER,
            user_token=100 * TST,
            hub_wei=ETHER // 2,
            hub_token=50 * TST,
            timeout=self.timeout(),
        )
        yield from self.send(
            "userAuthorizedUpdate (userB deposit)",
            m,
            "userAuthorizedUpdate",
            proposal_b.to_tuple(),
            self.sign(proposal_b, hub),
            sender=user_b,
            value=ETHER,
        )
        ack_b = transitions.acknowledge(proposal_b)

        a_thread = ack_a.evolve(
            wei_balances=(0, 900 * FINNEY),
            token_balances=(50 * TST, 90 * TST),
            tx_count=(8, 4),
            thread_root=tree.root,
            thread_count=1,
        )
        yield from self.send(
            "startExitWithUpdate (userA, thread)",
            m,
            "startExitWithUpdate",
            a_thread.to_tuple(),
            *self.both(a_thread),
            sender=user_a,
        )
        yield from self.send("emptyChannel (userA)", m, "emptyChannel", user_a, sender=hub)

        b_thread = ack_b.evolve(
            wei_balances=(400 * FINNEY, ETHER),
            token_balances=(40 * TST, 100 * TST),
            tx_count=(7, 2),
            thread_root=tree.root,
            thread_count=1,
        )
        yield from self.send(
            "startExitWithUpdate (userB, thread)",
            m,
            "startExitWithUpdate",
            b_thread.to_tuple(),
            *self.both(b_thread),
            sender=user_b,
        )
        b_answer = transitions.pay(b_thread, to_hub=True, wei=50 * FINNEY)
        yield from self.send(
            "emptyChannelWithChallenge (userB)",
            m,
            "emptyChannelWithChallenge",
            b_answer.to_tuple(),
            *self.both(b_answer),
            sender=hub,
        )

        self.thread_c = ThreadState(user_c, user_b, 1, (100 * FINNEY, 0), (10 * TST, 0), 0)
        tree_c = MerkleTree.of_threads([self.thread_c])
        yield from self.first_deposit(user_c)
        c_thread = self.ack.evolve(
            wei_balances=(0, 900 * FINNEY),
            token_balances=(50 * TST, 90 * TST),
            tx_count=(3, 1),
            thread_root=tree_c.root,
            thread_count=1,
        )
        yield from self.send(
            "startExitWithUpdate (userC, thread)",
            m,
            "startExitWithUpdate",
            c_thread.to_tuple(),
            *self.both(c_thread),
            sender=user_c,
        )
        yield from self.send("emptyChannel (userC)", m, "emptyChannel", user_c, sender=hub)
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

    def thread_disputes(self) -> Iterator[Step]:
        user_a, user_b, m = self.user_a, self.user_b, self.m
        initial, proof = self.thread, self.tree.thread_proof(self.thread)
        sig_initial = self.sign_thread(initial, user_a)
        yield from self.send(
            "startExitThread",
            m,
            "startExitThread",
            user_a,
            initial.to_tuple(),
            proof,
            sig_initial,
            sender=user_a,
            op=10,
        )
        thread_closing = self.now + CHALLENGE_PERIOD
        update = initial.evolve(
            wei_balances=(70 * FINNEY, 30 * FINNEY), token_balances=(7 * TST, 3 * TST), tx_count=3
        )
        yield from self.send(
            "challengeThread",
            m,
            "challengeThread",
            update.to_tuple(),
            self.sign_thread(update, user_a),
            sender=user_b,
            op=11,
        )
        yield from self.send(
            "emptyThread (sender)",
            m,
            "emptyThread",
            user_a,
            initial.to_tuple(),
            proof,
            sig_initial,
            sender=user_a,
            op=12,
            at=thread_closing + 1,
        )
        yield from self.send(
            "emptyThread (receiver)",
            m,
            "emptyThread",
            user_b,
            initial.to_tuple(),
            proof,
            sig_initial,
            sender=user_b,
            op=13,
        )

    def nuke(self) -> Iterator[Step]:
        closing = ChannelDetails.decode(
            self.chain.call(self.m, "getChannelDetails", self.user_c)
        ).closing_time
        yield from self.send(
            "nukeThreads",
            self.m,
            "nukeThreads",
            self.user_c,
            sender=self.hub,
            op=14,
            at=closing + 10 * CHALLENGE_PERIOD + 1,
        )
