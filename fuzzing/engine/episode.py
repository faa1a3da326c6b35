"""One episode: a fresh world, a stream of steps, the oracle after each, and at the end every
open dispute driven to its end (docs/protocol.md §10.5).

Time only moves forward, through `advance_to`. Before it passes a deadline, the honest
parties' watchtower answers whatever they must answer inside the window (a stale channel exit
against them; a thread record lower than the newest thread state an honest receiver holds), at
a moment drawn in the window with a bias for its last second: so the premise of the safety
properties ("answers inside the window") always holds and the boundary is exercised.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from fuzzing.artifacts import Artifact
from fuzzing.chain.base import TxResult
from fuzzing.engine.books import CHEATER, HONEST, ChannelBook, Lifecycle, Roots, Signed, ThreadBook
from fuzzing.engine.calls import Call, double_signed_call, thread_call, user_call
from fuzzing.engine.paths import PathCounter
from fuzzing.engine.properties import NUKE_PERIODS, Oracle, PropertyFailure
from fuzzing.engine.reader import CHANNEL_DISPUTE, OPEN, THREAD_DISPUTE
from fuzzing.engine.world import Config, World

SWEEP_EVERY = 128  # successful transactions between full re-reads of every channel
DRIVE_LIMIT = 400  # transactions the end-of-episode drive may take before calling it stuck


class StepLimit(Exception):
    """The campaign's step budget is spent (raised out of `send`)."""


class Episode:
    def __init__(
        self,
        artifact: Artifact,
        config: Config,
        rng: random.Random,
        paths: PathCounter,
        trace: list[str],
        *,
        step_limit: int,
        check_rules: bool = False,
        differential: Any = None,
        chain: Any = None,
    ) -> None:
        self.rng = rng
        self.world = World(artifact, config, chain)
        self.chain = self.world.chain
        self.config = config
        self.period = config.challenge_period
        w = self.world
        self.roots = Roots(w.hasher)
        self.books: dict[str, ChannelBook] = {
            p.address: ChannelBook(p, w.hub_key, w.hasher, self.roots, check_rules)
            for p in w.parties
        }
        self.thread_books: dict[tuple[str, str, int], ThreadBook] = {}
        #: signatures the adversary made over initial states it forged: leaf state -> signature
        self.forged_sigs: dict[Any, bytes] = {}
        self.oracle = Oracle(w, self.books, self.thread_books)
        self.paths = paths
        self.trace = trace
        self.steps = 0
        self.step_limit = step_limit
        self.successes = 0
        self.differential = differential(self) if differential is not None else None
        self._tried: set[Any] = set()
        self.on_result: list[Callable[[Call, TxResult], None]] = []

    # ------------------------------------------------------------------ transactions
    def send(self, call: Call) -> TxResult:
        if self.steps >= self.step_limit:
            raise StepLimit()
        oracle = self.oracle
        pre = oracle.prepare(call)
        if self.differential is not None:
            self.differential.before(call)
        if call.fn == "receive":
            result = self.chain.send(call.sender, self.world.manager, call.value)
        else:
            result = self.chain.transact(
                self.world.manager, call.fn, *call.args, sender=call.sender, value=call.value
            )
        self.steps += 1
        outcome = "ok" if result.success else result.revert_text()
        self.trace.append(f"t={pre.time} {call.label} -> {outcome}")
        self.paths.record(call, result, pre, self.world.hub, self.period)
        oracle.judge(call, result, pre)
        if self.differential is not None:
            self.differential.after(call, result)
        if result.success:
            self.successes += 1
            self._track_lifecycles(call, pre)
            for hook in self.on_result:
                hook(call, result)
            if self.successes % SWEEP_EVERY == 0:
                oracle.sweep(list(self.books))
        return result

    def note(self, text: str) -> None:
        """An off-chain or environment event, kept in the trace for the counterexample."""
        self.trace.append(f"t={self.chain.time} {text}")

    def _track_lifecycles(self, call: Call, pre: Any) -> None:
        for user in call.users:
            book = self.books.get(user)
            if book is None:
                continue
            before, after = pre.views[user], self.oracle.views[user]
            if before.status == OPEN and after.status != OPEN:
                executed = book.final is not None and book.final.state.tx_count[1] in book.executed
                book.lifecycle = Lifecycle(book.final, executed)
                if (
                    call.sender == self.world.hub
                    and call.state is not None
                    and book.final is not None
                    and call.state.tx_count[0] < book.final.state.tx_count[0]
                ):
                    book.hub_cheated = True
                if (
                    call.fn == "startExit"
                    and call.sender == self.world.hub
                    and book.final is not None
                    and after.tx_global < book.final.state.tx_count[0]
                ):
                    book.hub_cheated = True
            elif after.status == OPEN and before.status != OPEN:
                book.reopened((after.tx_global, after.tx_chain))

    # ------------------------------------------------------------------ time and the watchtower
    def view(self, user: str):  # type: ignore[no-untyped-def]
        return self.oracle.view(user)

    def _obligations(self) -> list[tuple[int, Callable[[], Any], Any]]:
        """(deadline, action, identity) of every answer an honest party owes before a deadline."""
        hub = self.world.hub
        now = self.chain.time
        due: list[tuple[int, Callable[[], Any], Any]] = []
        for user, book in self.books.items():
            if book.party.kind not in (HONEST, CHEATER) or book.final is None:
                continue
            v = self.oracle.views.get(user)
            if v is None or v.status != CHANNEL_DISPUTE or now >= v.closing:
                continue
            final = book.final
            if final.state.tx_count[0] <= v.tx_global:
                continue
            hub_started = v.initiator == hub
            if book.party.kind == CHEATER and hub_started:
                continue  # the cheater would not answer; the honest hub started it with `final`
            answerer = user if hub_started else hub
            ident = ("answer", user, v.closing, final.state.tx_count[0])
            due.append((v.closing, lambda u=user, a=answerer, s=final: self.answer(u, a, s), ident))
        for key, tb in self.thread_books.items():
            if tb.receiver.kind != HONEST or tb.newest is tb.initial:
                continue
            tv = self.oracle.thread_views.get(key)
            if tv is None or tv.closing == 0 or now >= tv.closing:
                continue
            n = tb.newest
            if (n.wei_sum, n.token_sum) != tv.sums:
                continue  # a record started from another initial state: nothing to show
            if n.wei_balances[1] <= tv.wei[1] and n.token_balances[1] <= tv.token[1]:
                continue
            ident = ("challenge", key, tv.closing, n.tx_count, n.wei_balances, n.token_balances)
            due.append((tv.closing, lambda b=tb: self.challenge_with_newest(b), ident))
        return due

    def advance_to(self, target: int) -> None:
        """Move time to `target` (never backwards), honest answers first."""
        chain = self.chain
        while True:
            due = [o for o in self._obligations() if o[0] <= target and o[2] not in self._tried]
            if not due:
                break
            deadline, act, ident = min(due, key=lambda o: o[0])
            now = chain.time
            if now < deadline - 1 and self.rng.random() < 0.5:
                when = deadline - 1
            else:
                when = self.rng.randint(now, deadline - 1)
            chain.set_time(max(now, when))
            act()  # marked as tried only once sent: a step limit met inside leaves it owed
            self._tried.add(ident)
        if target > chain.time:
            chain.set_time(target)

    def answer(self, user: str, caller: str, signed: Signed) -> TxResult:
        label = (
            f"{self.world.name(caller)} answers {self.world.name(user)}'s dispute with its newest "
            f"state (txCount {signed.state.tx_count})"
        )
        return self.send(
            double_signed_call(
                "emptyChannelWithChallenge", signed, caller=caller, user=user, label=label
            )
        )

    def challenge_with_newest(self, tb: ThreadBook) -> TxResult:
        n = tb.newest
        return self.send(
            Call(
                "challengeThread",
                (n.to_tuple(), tb.sig_newest),
                tb.receiver.address,
                f"{tb.receiver.name} challenges thread {self.thread_name(tb.key)} with its newest state "
                f"(receiver {n.wei_balances[1]}/{n.token_balances[1]}, txCount {n.tx_count})",
                thread=tb.key,
                genuine=True,
            )
        )

    def thread_name(self, key: tuple[str, str, int]) -> str:
        return f"{self.world.name(key[0])}->{self.world.name(key[1])}#{key[2]}"

    # ------------------------------------------------------------------ the end of an episode
    def thread_signature(self, leaf: Any) -> tuple[bytes, bool]:
        """The best signature anyone holds over an initial state, and whether it is genuine."""
        tb = self.thread_books.get(leaf.key)
        if tb is not None and tb.initial == leaf:
            return tb.sig_initial, True
        sig = self.forged_sigs.get(leaf)
        if sig is not None:
            return sig, True
        return b"\x00" * 65, False

    def drive_to_end(self) -> None:
        """Finish every open dispute; anything that cannot end is a liveness failure. Then every
        honest party with a credit claims it, and every honest lifecycle must have closed."""
        w, chain = self.world, self.chain
        users = [p.address for p in w.parties]
        attempted: set[Any] = set()
        budget = self.steps + DRIVE_LIMIT
        self.step_limit = max(self.step_limit, budget)
        while self.steps < budget:
            open_disputes = [u for u in users if self.view(u).status != OPEN]
            if not open_disputes:
                break
            acted = False
            events: list[int] = []
            now = chain.time
            for user in open_disputes:
                v = self.view(user)
                name = w.name(user)
                if v.status == CHANNEL_DISPUTE:
                    if now >= v.closing:
                        self.send(
                            user_call(
                                "emptyChannel",
                                user,
                                caller=w.stranger,
                                label=f"stranger empties {name}'s channel (end of episode)",
                            )
                        )
                        acted = True
                    else:
                        events.append(v.closing)
                    continue
                deadline = v.closing + NUKE_PERIODS * self.period
                for leaf in self.roots.leaves(v.root):
                    key = leaf.key
                    tv = self.oracle.thread_view(key)
                    tag = (user, leaf, tv.closing)
                    if tv.closing == 0 and ("start", tag) not in attempted:
                        attempted.add(("start", tag))
                        sig, genuine = self.thread_signature(leaf)
                        if genuine:
                            self.start_thread_dispute(user, leaf, sig, caller=user)
                            acted = True
                        continue
                    if tv.closing == 0:
                        continue
                    if now < tv.closing:
                        events.append(tv.closing)
                        continue
                    if ("empty", tag) not in attempted:
                        attempted.add(("empty", tag))
                        sig, genuine = self.thread_signature(leaf)
                        self.send(
                            thread_call(
                                "emptyThread",
                                user,
                                leaf,
                                self.roots.proof(v.root, leaf),
                                sig,
                                caller=user,
                                label=(
                                    f"{name} settles its side of thread {self.thread_name(key)} "
                                    f"(end of episode)"
                                ),
                                genuine=genuine,
                                committed=True,
                            )
                        )
                        acted = True
                        break  # the channel may have reopened: read it again
                if acted:
                    continue
                if self.view(user).status == THREAD_DISPUTE:
                    if now >= deadline:
                        self.send(
                            user_call(
                                "nukeThreads",
                                user,
                                caller=w.stranger,
                                label=f"stranger nukes {name}'s threads (end of episode)",
                            )
                        )
                        acted = True
                    else:
                        events.append(deadline)
            if not acted:
                future = [t for t in events if t > chain.time]
                if not future:
                    break
                self.advance_to(min(future))
        if not self.oracle.enabled:
            return  # --oracle model: the properties (liveness among them) are not judged
        stuck = [w.name(u) for u in users if self.view(u).status != OPEN]
        if stuck:
            raise PropertyFailure(
                "liveness", f"disputes still open after driving them: {', '.join(stuck)}"
            )
        for book in self.books.values():
            if book.lifecycle is not None:
                raise PropertyFailure("liveness", f"{book.party.name}'s dispute never closed")
        w.lift_token_refusals()
        for p in w.parties:
            v = self.view(p.address)
            if p.kind == HONEST and (v.credit_wei or v.credit_token):
                result = self.send(
                    Call(
                        "claim",
                        (p.cold,),
                        p.address,
                        f"{p.name} claims its credit to its cold wallet",
                        users=(p.address,),
                        payees=(p.cold,),
                    )
                )
                if not result.success:
                    raise PropertyFailure(
                        "liveness", f"{p.name} cannot claim its credit: {result.revert_text()}"
                    )
        self.oracle.sweep(users)

    def start_thread_dispute(self, user: str, leaf: Any, sig: bytes, caller: str) -> TxResult:
        """An honest party starts a thread's dispute in its channel: with the newest state it holds
        as a receiver, else with the initial state."""
        v = self.view(user)
        proof = self.roots.proof(v.root, leaf)
        tb = self.thread_books.get(leaf.key)
        name = self.world.name(user)
        with_newest = user == leaf.receiver or self.rng.random() < 0.3
        update = None
        what = f"with its initial state ({leaf.wei_balances[0]}/{leaf.token_balances[0]})"
        if (
            tb is not None
            and tb.initial == leaf
            and tb.newest is not leaf
            and tb.receiver.kind == HONEST
            and with_newest
        ):
            n = tb.newest
            update = (n, tb.sig_newest)
            what = f"with its newest state (receiver {n.wei_balances[1]}/{n.token_balances[1]})"
        fn = "startExitThread" if update is None else "startExitThreadWithUpdate"
        label = f"{self.world.name(caller)} starts thread {self.thread_name(leaf.key)} in {name}'s channel {what}"
        return self.send(
            thread_call(
                fn, user, leaf, proof, sig, caller=caller, label=label, genuine=True, update=update
            )
        )
