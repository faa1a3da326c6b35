"""A random walk of channel operations, checked against the reference model at every step.

A hub and three users with honest ledgers (each keeps its newest double-signed state) do random
deposits, hub deposits, withdrawals, exits with a newer state, plain exits, challenges,
emptyings at the closing time −1/0/+1 s and stale replays. Each operation is signed, predicted
by `channel_manager.model`, sent to the chain and compared (success, error name and arguments);
then four views are compared with the model. It is the workload of research/fuzz_throughput.py
and of the randomized cross-backend test, not the fuzzing campaign's actors: it is polite (no
adversary, no threads) and only as deep as chance takes it.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable
from typing import Any, ClassVar

from channel_manager import transitions
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.errors import ChannelError
from channel_manager.model import ChannelManagerModel, Status
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from fuzzing.artifacts import load_build_artifact
from fuzzing.chain.base import ZERO_ADDRESS, Chain, Contract
from fuzzing.fastsign import FastSigner

ETHER = 10**18
TST = 10**18
FINNEY = 10**15
PERIOD = 3600


class Deployment:
    """Token and manager deployed by the hub; reserve 100 ETH + 10,000 TST; three users with
    1,000 TST approved."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.hub, *self.users = chain.accounts[:4]
        self.stranger = chain.accounts[9]
        self.keys = {chain.accounts[i]: anvil_key(i) for i in range(4)}
        token_artifact = load_build_artifact("TestToken")
        self.token = chain.deploy(token_artifact, "Test Token", "TST", sender=self.hub)
        self.manager: Contract = chain.deploy(
            load_build_artifact("ChannelManager"), self.hub, PERIOD, self.token, sender=self.hub
        )
        results = [
            chain.send(self.hub, self.manager, 100 * ETHER),
            chain.transact(self.token, "mint", self.manager, 10_000 * TST, sender=self.hub),
        ]
        for user in self.users:
            results.append(chain.transact(self.token, "mint", user, 1_000 * TST, sender=self.hub))
            results.append(
                chain.transact(self.token, "approve", self.manager, 2**256 - 1, sender=user)
            )
        failed = [r.revert_text() for r in results if not r.success]
        if failed:
            raise RuntimeError(f"channel walk set-up failed: {failed[0]}")
        self.domain = Domain(chain.chain_id, self.manager.address)


class ChannelWalk:
    """Random channel operations, each predicted by the model, executed and compared."""

    OPERATIONS: ClassVar[dict[str, int]] = {
        "deposit": 4,
        "hub_deposit": 2,
        "withdraw": 2,
        "exit_with_update": 2,
        "start_exit": 2,
        "challenge": 2,
        "empty": 3,
        "stale": 1,
    }

    def __init__(self, chain: Chain, seed: int, sign: str = "fast", record: bool = False) -> None:
        self.d = d = Deployment(chain)
        self.chain = chain
        self.rng = random.Random(seed)
        self.model = ChannelManagerModel(
            d.hub, PERIOD, d.manager.address, chain.chain_id, token=d.token.address
        )
        self.model.receive_eth(100 * ETHER)
        self.model.receive_tokens(10_000 * TST)
        fast = FastSigner(d.domain)
        self.sign: Callable[[str, ChannelState], bytes] = (
            (lambda who, s: fast.sign_channel(d.keys[who], s))
            if sign == "fast"
            else (lambda who, s: sign_channel_state(d.keys[who], d.domain, s))
        )
        self.latest = {u: ChannelState(u, u) for u in d.users}  # newest double-signed state
        self.history: dict[str, list[ChannelState]] = {u: [] for u in d.users}
        self.steps = 0
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.disagreements: list[str] = []
        #: With `record`, every transaction's TxResult and every view read, in order.
        self.trace: list[Any] | None = [] if record else None
        names, weights = zip(*self.OPERATIONS.items(), strict=False)
        self._names, self._weights = names, weights

    # -- one step ----------------------------------------------------------------------
    def step(self) -> None:
        user = self.rng.choice(self.d.users)
        self.chain.advance(self.rng.choice((0, 1, 13, 120)))
        operation = self.rng.choices(self._names, self._weights)[0]
        getattr(self, f"op_{operation}")(user)
        self.check_invariants(user)
        self.steps += 1

    def execute(
        self, predict: Callable[[int], Any], function: str, *args: Any, sender: str, value: int = 0
    ) -> bool:
        """Model first, then the chain; both outcomes must agree. True if both succeeded."""
        try:
            predict(self.chain.time)
            expected = None
        except ChannelError as error:
            expected = (error.name, tuple(error.args))
        result = self.chain.transact(self.d.manager, function, *args, sender=sender, value=value)
        if self.trace is not None:
            self.trace.append(result)
        actual = None if result.success else (result.error, result.error_args)
        self.outcomes[f"{function}: {actual[0] if actual else 'ok'}"] += 1
        if expected != actual:
            self.disagreements.append(
                f"step {self.steps} {function}: model {expected}, chain {actual}"
            )
        return result.success and expected is None

    def adopt(self, user: str, state: ChannelState) -> None:
        self.history[user].append(self.latest[user])
        self.latest[user] = state

    def emptied(self, user: str) -> None:
        """The channel was emptied: the next states continue from zero balances."""
        self.adopt(user, self.latest[user].evolve(wei_balances=(0, 0), token_balances=(0, 0)))

    def authorized_update(
        self, user: str, proposal: ChannelState, *, by_hub: bool = False, value: int = 0
    ) -> None:
        """Send a single-signed proposal: by the hub with the user's signature
        (hubAuthorizedUpdate), or by the user with the hub's (userAuthorizedUpdate, paying
        `value`); adopt its acknowledgement if both model and chain accept it."""
        hub = self.d.hub
        if by_hub:
            sig = self.sign(user, proposal)
            sender, function = hub, "hubAuthorizedUpdate"

            def predict(t: int) -> Any:
                return self.model.hub_authorized_update(hub, t, proposal, sig)
        else:
            sig = self.sign(hub, proposal)
            sender, function = user, "userAuthorizedUpdate"

            def predict(t: int) -> Any:
                return self.model.user_authorized_update(user, t, proposal, sig, value)

        if self.execute(predict, function, proposal.to_tuple(), sig, sender=sender, value=value):
            self.adopt(user, transitions.acknowledge(proposal))

    def double_signed(
        self,
        function: str,
        predict: Callable[..., Any],
        user: str,
        state: ChannelState,
        sender: str,
    ) -> bool:
        """`sender` submits `state`, signed by the hub and `user`, to `function` (the model's
        `predict` judges it first); True if both accepted it."""
        sig_hub, sig_user = self.sign(self.d.hub, state), self.sign(user, state)
        return self.execute(
            lambda t: predict(sender, t, state, sig_hub, sig_user),
            function,
            state.to_tuple(),
            sig_hub,
            sig_user,
            sender=sender,
        )

    def amount(self, limit: int, unit: int) -> int:
        return min(limit, self.rng.choice((0, 1, 3, 10)) * unit)

    # -- operations ----------------------------------------------------------------------
    def op_deposit(self, user: str) -> None:
        prev, now = self.latest[user], self.chain.time
        user_wei = self.rng.choice((0, FINNEY, 100 * FINNEY))
        user_token = self.rng.choice((0, 5 * TST))
        hub_wei = self.rng.choice((0, 0, 10 * FINNEY))
        if not (user_wei or user_token or hub_wei):
            user_wei = FINNEY
        timeout = self.rng.choice((0, 0, now + 300, now))  # `now`: expired (StateExpired)
        proposal = transitions.propose_deposit(
            prev, user_wei=user_wei, user_token=user_token, hub_wei=hub_wei, timeout=timeout
        )
        self.authorized_update(user, proposal, value=user_wei)

    def op_hub_deposit(self, user: str) -> None:
        proposal = transitions.propose_deposit(
            self.latest[user], hub_wei=20 * FINNEY, hub_token=self.rng.choice((0, 2 * TST))
        )
        self.authorized_update(user, proposal, by_hub=True)

    def op_withdraw(self, user: str) -> None:
        prev = self.latest[user]
        wei = self.amount(prev.wei_balances[1], 10 * FINNEY)
        token = self.amount(prev.token_balances[1], TST)
        if not (wei or token):
            return self.op_deposit(user)
        proposal = transitions.propose_withdrawal(prev, user_wei=wei, user_token=token)
        self.authorized_update(user, proposal)

    def paid(self, user: str) -> ChannelState:
        """The latest state plus an off-chain payment in a random direction."""
        prev = self.latest[user]
        to_hub = self.rng.random() < 0.5
        payer = 1 if to_hub else 0
        return transitions.pay(
            prev,
            to_hub=to_hub,
            wei=self.amount(prev.wei_balances[payer], FINNEY),
            token=self.amount(prev.token_balances[payer], TST),
        )

    def op_exit_with_update(self, user: str) -> None:
        state = self.paid(user)
        sender = self.rng.choice((self.d.hub, user))
        if self.double_signed(
            "startExitWithUpdate", self.model.start_exit_with_update, user, state, sender
        ):
            self.adopt(user, state)

    def op_start_exit(self, user: str) -> None:
        sender = self.rng.choice((self.d.hub, user, user, self.d.stranger))
        self.execute(
            lambda t: self.model.start_exit(sender, t, user), "startExit", user, sender=sender
        )

    def op_challenge(self, user: str) -> None:
        state = self.paid(user)
        initiator = self.model.exit_initiator(user)
        sender = user if initiator == self.d.hub else self.d.hub
        if self.rng.random() < 0.1:
            sender = initiator if initiator != ZERO_ADDRESS else sender  # CallerIsExitInitiator
        if self.double_signed(
            "emptyChannelWithChallenge",
            self.model.empty_channel_with_challenge,
            user,
            state,
            sender,
        ):
            self.adopt(user, state)
            self.emptied(user)

    def op_empty(self, user: str) -> None:
        channel = self.model.channel(user)
        if channel.status == Status.CHANNEL_DISPUTE:
            target = channel.closing_time + self.rng.choice((-1, 0, 1))
            if target > self.chain.time:
                self.chain.set_time(target)
        sender = self.rng.choice((self.d.hub, user, self.d.stranger))
        if self.execute(
            lambda t: self.model.empty_channel(sender, t, user), "emptyChannel", user, sender=sender
        ):
            self.emptied(user)

    def op_stale(self, user: str) -> None:
        if not self.history[user]:
            return self.op_start_exit(user)
        state = self.rng.choice(self.history[user])
        sig_hub, sig_user = self.sign(self.d.hub, state), self.sign(user, state)
        self.execute(
            lambda t: self.model.start_exit_with_update(user, t, state, sig_hub, sig_user),
            "startExitWithUpdate",
            state.to_tuple(),
            sig_hub,
            sig_user,
            sender=user,
        )

    # -- invariant reads -----------------------------------------------------------------
    def check_invariants(self, user: str) -> None:
        chain, m, model = self.chain, self.d.manager, self.model
        channel = model.channel(user)
        expected = (
            model.total_channel_wei,
            model.total_channel_token,
            model.reserve_wei(),
            (
                channel.wei_hub,
                channel.wei_user,
                channel.wei_total,
                channel.token_hub,
                channel.token_user,
                channel.token_total,
            ),
        )
        actual = (
            chain.call(m, "totalChannelWei"),
            chain.call(m, "totalChannelToken"),
            chain.call(m, "getHubReserveWei"),
            chain.call(m, "getChannelBalances", user),
        )
        if self.trace is not None:
            self.trace.append((chain.time, actual))
        if actual != expected:
            self.disagreements.append(f"step {self.steps} views: model {expected}, chain {actual}")
