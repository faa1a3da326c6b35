"""The fixed gas scenario of BENCHMARK.md (operations #0–#14), importable by the benchmark
script and by the gas-snapshot test. A plain module: no brownie `main`.

Everything that could make two runs differ is pinned, so one run is a measurement:
- the chain is snapshotted before and reverted after, so nothing leaks into or out of a run;
- block timestamps: the clock is set back to the genesis time 1,700,000,000 (`evm_setTime`)
  and every transaction is mined at exactly the previous time + 15 s, or at the named instant
  where the scenario waits (`evm_setNextBlockTimestamp`); receipts are checked for it;
- addresses: the hub's nonce is set to a fixed value (`anvil_setNonce`) before it deploys the
  token and the manager, so both addresses, the EIP-712 domain and every signature (and so
  every calldata byte) are the same whatever ran on the chain before;
- keys: anvil's default mnemonic; ECDSA signing is deterministic (RFC 6979).
States are built with `channel_manager.transitions` where a helper fits and `evolve` where the
scenario names the fields directly, signed with `channel_manager.signing`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from brownie import accounts, chain, web3
from eth_account import Account

from channel_manager import transitions
from channel_manager.contract_views import channel_details
from channel_manager.eip712 import Domain
from channel_manager.merkle import MerkleTree
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState
from research import gas_trace

Account.enable_unaudited_hdwallet_features()

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337
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

#: (#, operation, caller) in the order BENCHMARK.md lists them.
OPERATIONS: list[tuple[int, str, str]] = [
    (0, "deploy ChannelManager", "hub"),
    (1, "hubContractWithdraw", "hub"),
    (2, "userAuthorizedUpdate, first deposit", "userA"),
    (3, "hubAuthorizedUpdate, hub deposit", "hub"),
    (4, "userAuthorizedUpdate, withdrawal with exchange", "userA"),
    (5, "startExit", "hub"),
    (6, "emptyChannel", "hub"),
    (7, "userAuthorizedUpdate, first deposit of a second user", "userB"),
    (8, "startExitWithUpdate", "userB"),
    (9, "emptyChannelWithChallenge", "hub"),
    (10, "startExitThread", "userA"),
    (11, "challengeThread", "userB"),
    (12, "emptyThread, sender side", "userA"),
    (13, "emptyThread, receiver side", "userB"),
    (14, "nukeThreads", "hub"),
]

#: Connext v1 (solc 0.4.25, optimizer 200 runs, anvil 1.7.1 prague), from BENCHMARK.md.
V1_GAS: dict[int, int] = {
    0: 5_503_702, 1: 63_863, 2: 653_586, 3: 508_616, 4: 513_029, 5: 118_478, 6: 116_791,
    7: 662_184, 8: 909_292, 9: 827_450, 10: 482_364, 11: 494_994, 12: 489_381, 13: 462_624,
    14: 109_604,
}  # fmt: skip

#: "Straightforward OpenZeppelin implementation" figures; the goal is ≤ 0.70× each.
TARGET_GAS: dict[int, int] = {
    0: 3_814_661, 1: 56_129, 2: 284_045, 3: 121_356, 4: 116_543, 5: 115_785, 6: 92_421,
    7: 284_021, 8: 167_562, 9: 111_404, 10: 115_402, 11: 118_590, 12: 105_570, 13: 94_143,
    14: 72_197,
}  # fmt: skip
TARGET_RATIO_GOAL = 0.70

V1_RUNTIME_CODE_SIZE = 24_962
EIP170_LIMIT = 24_576


def anvil_key(index: int) -> bytes:
    """Private key of anvil's default account `index` (same derivation as tests.helpers)."""
    path = f"m/44'/60'/0'/0/{index}"
    return bytes(Account.from_mnemonic(ANVIL_MNEMONIC, account_path=path).key)


@dataclass
class ScenarioResult:
    """gasUsed per operation number, and the manager's runtime code size in bytes."""

    gas: dict[int, int] = field(default_factory=dict)
    runtime_code_size: int = 0
    manager_address: str = ""
    token_address: str = ""
    timestamps: dict[int, int] = field(default_factory=dict)
    txids: dict[int, str] = field(default_factory=dict)
    #: Per operation, gasUsed split into cost classes (`run_scenario(trace=True)` only).
    breakdowns: dict[int, dict[str, int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        names = {n: name for n, name, _ in OPERATIONS}
        return {
            "scenario": "BENCHMARK.md #0-#14",
            "runtime_code_size": self.runtime_code_size,
            "operations": [
                {"id": n, "operation": names[n], "gas_used": self.gas[n]} for n in sorted(self.gas)
            ],
        }


def _rpc(method: str, params: list[Any]) -> Any:
    response = web3.provider.make_request(method, params)
    if "error" in response:
        raise RuntimeError(f"{method}{params}: {response['error']}")
    return response.get("result")


class _Clock:
    """Block time of the scenario: each transaction 15 s after the previous one, or at a
    named instant where the scenario waits."""

    def __init__(self) -> None:
        self.now = GENESIS_TIMESTAMP

    def peek(self) -> int:
        """Timestamp the next transaction will get if it does not wait."""
        return self.now + STEP_SECONDS

    def next(self, at: int | None = None) -> int:
        timestamp = self.peek() if at is None else at
        if timestamp <= self.now:
            raise ValueError(f"scenario time must move forward ({timestamp} <= {self.now})")
        self.now = timestamp
        _rpc("evm_setNextBlockTimestamp", [timestamp])
        return timestamp


class _Scenario:
    """One play of the scenario on the connected chain (state is reverted by the caller)."""

    def __init__(self, manager_container: Any, token_container: Any) -> None:
        self.ChannelManager = manager_container
        self.TestToken = token_container
        self.hub, self.user_a, self.user_b, self.user_c = (accounts[i] for i in range(4))
        self.keys = {str(accounts[i]): anvil_key(i) for i in range(4)}
        self.clock = _Clock()
        self.result = ScenarioResult()
        self.manager: Any = None
        self.token: Any = None
        self.domain: Domain | None = None

    # -- plumbing ------------------------------------------------------------------------
    def send(
        self,
        call: Callable[..., Any],
        *args: Any,
        sender: Any,
        value: int = 0,
        op: int | None = None,
        at: int | None = None,
    ) -> Any:
        """Mine `call(*args)` from `sender` at the scenario's next instant; record gasUsed
        under operation `op` if given."""
        timestamp = self.clock.next(at)
        tx = call(*args, {"from": sender, "value": value, "gas_limit": TX_GAS_LIMIT}, silent=True)
        self._check(tx, timestamp, op)
        return tx

    def _check(self, tx: Any, timestamp: int, op: int | None) -> None:
        if tx.status != 1:
            raise RuntimeError(f"scenario transaction failed: {tx.fn_name} ({tx.revert_msg})")
        if tx.timestamp != timestamp:
            raise RuntimeError(f"{tx.fn_name} mined at {tx.timestamp}, expected {timestamp}")
        if op is not None:
            self.result.gas[op] = tx.gas_used
            self.result.timestamps[op] = timestamp
            self.result.txids[op] = tx.txid

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
        return self.clock.peek() + TIMEOUT_SECONDS

    def first_deposit(
        self, user: Any, op: int | None = None, prev: ChannelState | None = None
    ) -> ChannelState:
        """As #2: user 1 ETH + 100 TST, hub 50 TST, hub-signed; returns the acknowledgement."""
        base = prev if prev is not None else ChannelState(str(user), str(user))
        proposal = transitions.propose_deposit(
            base, user_wei=ETHER, user_token=100 * TST, hub_token=50 * TST, timeout=self.timeout()
        )
        self.send(
            self.manager.userAuthorizedUpdate,
            proposal.to_tuple(),
            self.sign(proposal, self.hub),
            sender=user,
            value=ETHER,
            op=op,
        )
        return transitions.acknowledge(proposal)

    def closing_time(self, user: Any) -> int:
        return channel_details(self.manager, user).closing_time

    # -- the scenario --------------------------------------------------------------------
    def play(self) -> ScenarioResult:
        self.setup()
        self.user_a_channel()
        self.user_b_channel()
        self.thread_setup()
        self.thread_disputes()
        self.nuke()
        return self.result

    def setup(self) -> None:
        hub = self.hub
        _rpc("anvil_setNonce", [str(hub), hex(HUB_NONCE)])
        self.token = self._deploy_token()
        self.result.token_address = self.token.address
        self.send(self.token.mint, hub, 1_000_000 * TST, sender=hub)
        timestamp = self.clock.next()
        self.manager = self.ChannelManager.deploy(
            hub, CHALLENGE_PERIOD, self.token, {"from": hub, "gas_limit": TX_GAS_LIMIT}, silent=True
        )
        self._check(self.manager.tx, timestamp, 0)
        self.domain = Domain(CHAIN_ID, self.manager.address)
        self.result.manager_address = self.manager.address
        self.result.runtime_code_size = len(web3.eth.get_code(self.manager.address))

        # The reserve: 100 ETH (receive()) and 10,000 TST; 1,000 TST to and approved by each user.
        timestamp = self.clock.next()
        tx = hub.transfer(self.manager, 100 * ETHER, gas_limit=TX_GAS_LIMIT, silent=True)
        self._check(tx, timestamp, None)
        self.send(self.token.transfer, self.manager, 10_000 * TST, sender=hub)
        for user in (self.user_a, self.user_b, self.user_c):
            self.send(self.token.transfer, user, 1_000 * TST, sender=hub)
        for user in (self.user_a, self.user_b, self.user_c):
            self.send(self.token.approve, self.manager, 1_000 * TST, sender=user)

        # #1: the hub takes 1 ETH and 100 TST out of its reserve.
        self.send(self.manager.hubContractWithdraw, ETHER, 100 * TST, sender=hub, op=1)

    def _deploy_token(self) -> Any:
        timestamp = self.clock.next()
        token = self.TestToken.deploy(
            "Test Token", "TST", {"from": self.hub, "gas_limit": TX_GAS_LIMIT}, silent=True
        )
        self._check(token.tx, timestamp, None)
        return token

    def user_a_channel(self) -> None:
        hub, user_a, m = self.hub, self.user_a, self.manager
        # #2: first deposit (user 1 ETH + 100 TST, hub 50 TST), acknowledged off-chain at [2,1].
        ack = self.first_deposit(user_a, op=2)
        # #3: hub deposit of 0.5 ETH from the reserve at [3,2], user-signed.
        proposal = transitions.propose_deposit(ack, hub_wei=ETHER // 2, timeout=self.timeout())
        self.send(
            m.hubAuthorizedUpdate,
            proposal.to_tuple(),
            self.sign(proposal, user_a),
            sender=hub,
            op=3,
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
        self.send(
            m.userAuthorizedUpdate,
            withdrawal.to_tuple(),
            self.sign(withdrawal, hub),
            sender=user_a,
            op=4,
        )
        self.a_state = withdrawal
        # #5: the hub exits on the stored state; #6: it empties the channel after the window.
        tx = self.send(m.startExit, user_a, sender=hub, op=5)
        self.send(m.emptyChannel, user_a, sender=hub, op=6, at=tx.timestamp + CHALLENGE_PERIOD + 1)

    def user_b_channel(self) -> None:
        hub, user_b, m = self.hub, self.user_b, self.manager
        ack = self.first_deposit(user_b, op=7)  # #7
        # #8: userB exits with a double-signed state [3,1] (it paid the hub 0.1 ETH + 10 TST).
        paid = transitions.pay(ack, to_hub=True, wei=100 * FINNEY, token=10 * TST)
        self.send(m.startExitWithUpdate, paid.to_tuple(), *self.both(paid), sender=user_b, op=8)
        # #9: the hub answers with [4,1] (another 0.05 ETH + 5 TST) and empties at once.
        newer = transitions.pay(paid, to_hub=True, wei=50 * FINNEY, token=5 * TST)
        self.send(
            m.emptyChannelWithChallenge, newer.to_tuple(), *self.both(newer), sender=hub, op=9
        )
        self.b_state = newer

    def thread_setup(self) -> None:
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
        ack_a = self.first_deposit(user_a, prev=prev_a)
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
        self.send(
            m.userAuthorizedUpdate,
            proposal_b.to_tuple(),
            self.sign(proposal_b, hub),
            sender=user_b,
            value=ETHER,
        )
        ack_b = transitions.acknowledge(proposal_b)  # [6,2]: wei [0.5, 1.0], token [50, 100]

        # userA's newest state [8,4] locks the thread's 0.1 ETH + 10 TST from its side.
        a_thread = ack_a.evolve(
            wei_balances=(0, 900 * FINNEY),
            token_balances=(50 * TST, 90 * TST),
            tx_count=(8, 4),
            thread_root=tree.root,
            thread_count=1,
        )
        self.send(m.startExitWithUpdate, a_thread.to_tuple(), *self.both(a_thread), sender=user_a)
        self.send(m.emptyChannel, user_a, sender=hub)  # the hub, not the initiator, concedes

        # userB's newest state [7,2]: the hub locks the receiver side (0.1 ETH + 10 TST).
        b_thread = ack_b.evolve(
            wei_balances=(400 * FINNEY, ETHER),
            token_balances=(40 * TST, 100 * TST),
            tx_count=(7, 2),
            thread_root=tree.root,
            thread_count=1,
        )
        self.send(m.startExitWithUpdate, b_thread.to_tuple(), *self.both(b_thread), sender=user_b)
        b_answer = transitions.pay(b_thread, to_hub=True, wei=50 * FINNEY)  # [8,2]
        self.send(
            m.emptyChannelWithChallenge, b_answer.to_tuple(), *self.both(b_answer), sender=hub
        )

        # For #14: userC deposits (as #2), opens thread C→B at [3,1], exits, the hub empties
        # into ThreadDispute, userC starts the thread exit with an update; nobody empties it.
        self.thread_c = ThreadState(
            str(user_c), str(user_b), 1, (100 * FINNEY, 0), (10 * TST, 0), 0
        )
        tree_c = MerkleTree.of_threads([self.thread_c])
        ack_c = self.first_deposit(user_c)
        c_thread = ack_c.evolve(
            wei_balances=(0, 900 * FINNEY),
            token_balances=(50 * TST, 90 * TST),
            tx_count=(3, 1),
            thread_root=tree_c.root,
            thread_count=1,
        )
        self.send(m.startExitWithUpdate, c_thread.to_tuple(), *self.both(c_thread), sender=user_c)
        self.send(m.emptyChannel, user_c, sender=hub)
        update_c = self.thread_c.evolve(
            wei_balances=(60 * FINNEY, 40 * FINNEY), token_balances=(6 * TST, 4 * TST), tx_count=4
        )
        self.send(
            m.startExitThreadWithUpdate,
            user_c,
            self.thread_c.to_tuple(),
            tree_c.thread_proof(self.thread_c),
            self.sign_thread(self.thread_c, user_c),
            update_c.to_tuple(),
            self.sign_thread(update_c, user_c),
            sender=user_c,
        )
        self.tree = tree

    def thread_disputes(self) -> None:
        user_a, user_b, m = self.user_a, self.user_b, self.manager
        initial, proof = self.thread, self.tree.thread_proof(self.thread)
        sig_initial = self.sign_thread(initial, user_a)
        # #10: userA starts the thread dispute with the initial state.
        tx = self.send(
            m.startExitThread, user_a, initial.to_tuple(), proof, sig_initial, sender=user_a, op=10
        )
        thread_closing = tx.timestamp + CHALLENGE_PERIOD
        # #11: userB answers with the sender-signed state 0.07/0.03 ETH, 7/3 TST at txCount 3.
        update = initial.evolve(
            wei_balances=(70 * FINNEY, 30 * FINNEY), token_balances=(7 * TST, 3 * TST), tx_count=3
        )
        self.send(
            m.challengeThread,
            update.to_tuple(),
            self.sign_thread(update, user_a),
            sender=user_b,
            op=11,
        )
        # #12, #13: both sides settle after the thread window (closing + 1 s, as #6).
        self.send(
            m.emptyThread,
            user_a,
            initial.to_tuple(),
            proof,
            sig_initial,
            sender=user_a,
            op=12,
            at=thread_closing + 1,
        )
        self.send(
            m.emptyThread, user_b, initial.to_tuple(), proof, sig_initial, sender=user_b, op=13
        )

    def nuke(self) -> None:
        # #14: 10 challenge periods + 1 s after userC's channel closing time.
        nuke_at = self.closing_time(self.user_c) + 10 * CHALLENGE_PERIOD + 1
        self.send(self.manager.nukeThreads, self.user_c, sender=self.hub, op=14, at=nuke_at)


def _trace_breakdowns(result: ScenarioResult) -> None:
    """Split each operation's gasUsed into cost classes (research/gas_trace.py); must run
    before the chain snapshot is reverted, while the transactions still exist. Leaves
    `breakdowns` empty when the chain records no opcode steps (anvil without --steps-tracing)."""
    options = {"disableStorage": True, "enableMemory": False, "enableReturnData": False}
    for n in sorted(result.gas):
        trace = _rpc("debug_traceTransaction", [result.txids[n], options])
        if not trace["structLogs"]:
            result.breakdowns.clear()
            return
        deposit = 200 * result.runtime_code_size if n == 0 else 0
        result.breakdowns[n] = gas_trace.breakdown(
            trace["structLogs"],
            gas_limit=TX_GAS_LIMIT,
            gas_used=result.gas[n],
            token=result.token_address,
            code_deposit=deposit,
        )


def run_scenario(
    manager_container: Any = None, token_container: Any = None, *, trace: bool = False
) -> ScenarioResult:
    """Play operations #0–#14 inside a chain snapshot and revert afterwards.

    The containers default to the loaded project's `ChannelManager` and `TestToken`. With
    `trace`, each operation's gas is also split into cost classes (`result.breakdowns`).
    """
    if manager_container is None or token_container is None:
        from brownie import ChannelManager, TestToken  # the project is loaded by now

        manager_container = manager_container or ChannelManager
        token_container = token_container or TestToken
    if chain.id != CHAIN_ID:
        raise RuntimeError(f"the scenario needs chain id {CHAIN_ID} (anvil), got {chain.id}")
    chain.snapshot()
    try:
        _rpc("evm_setTime", [GENESIS_TIMESTAMP])
        result = _Scenario(manager_container, token_container).play()
        if trace:
            _trace_breakdowns(result)
    finally:
        chain.revert()
    missing = {n for n, _, _ in OPERATIONS} - set(result.gas)
    if missing:
        raise RuntimeError(f"operations not measured: {sorted(missing)}")
    return result


def format_table(result: ScenarioResult) -> str:
    """Per operation: gasUsed, v1, ratio to v1, target, ratio to target; then code size."""
    header = (
        f"{'#':>2}  {'operation':<52} {'caller':<6} {'gasUsed':>10} {'v1':>10} "
        f"{'/v1':>6} {'target':>10} {'/target':>8}"
    )
    lines = [header, "-" * len(header)]
    for n, name, caller in OPERATIONS:
        ours, v1, target = result.gas[n], V1_GAS[n], TARGET_GAS[n]
        flag = "" if ours / target <= TARGET_RATIO_GOAL else "  > goal"
        lines.append(
            f"{n:>2}  {name:<52} {caller:<6} {ours:>10,} {v1:>10,} {ours / v1:>6.3f} "
            f"{target:>10,} {ours / target:>8.3f}{flag}"
        )
    lines.append("-" * len(header))
    size = result.runtime_code_size
    lines.append(
        f"runtime code size of ChannelManager: {size:,} bytes "
        f"(EIP-170 limit {EIP170_LIMIT:,}; v1 {V1_RUNTIME_CODE_SIZE:,})"
    )
    return "\n".join(lines)
