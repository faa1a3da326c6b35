"""The property oracle: docs/protocol.md §10, judged from the contract's views after every step.

It knows no rule of the contract: it reads the public views, the contract's and the parties'
balances, and the honest parties' own books (what they signed and were shown), and checks what
must hold whatever the contract's rules are. So a bug that the reference model shares with the
contract is still caught. Each failure names its property:

- `solvency` — per asset, contract balance ≥ channel totals + unclaimed credits (§10.1);
- `sum-of-channel-totals` — the global totals equal the sum of every touched channel's total;
- `balances-within-total` — hub + user ≤ total in every channel, every status;
- `dispute-payout-within-totals` — a dispute payout (emptyChannel, emptyChannelWithChallenge,
  emptyThread, nukeThreads) comes out of the channel totals, never out of the hub reserve:
  the reserve (balance − totals − credits) does not fall in such a transaction. This catches a
  drain even when the reserve is large enough to hide it from `solvency`;
- `update-accounting`, `no-money-moves`, `withdraw-accounting`, `claim-accounting` — every
  other transaction moves exactly the money its arguments name;
- `monotone-nonces` — the stored txCount pair never decreases (§10.2);
- `exactly-once-pending` — pending updates of one onchain count execute at most once (§10.3);
- `thread-record-monotone` — a thread record's sums, closing time and settled sides never
  change once set, its receiver balances and txCount never fall (§8.2, §8.3);
- `no-stranded-surplus` — a channel that reopens without threads holds nothing (§8.7);
- `unexpected-state-change` — a transaction changed a channel it does not name (periodic sweep);
- `honest-user-safety`, `honest-hub-safety` — a party holding the newest double-signed state
  without timeout, answering inside the window, leaves with at least its balance in it (§10.4);
- `honest-receiver-safety`, `honest-sender-safety` — an honest thread party gets at least its
  side of the newest thread state it holds, or through nukeThreads its channel's whole total
  (§10.9);
- `irrevocable-key-signatures` — a genuine key signature is never refused (§10.10);
- `liveness` — a dispute can always end: emptyChannel from the closing time, emptyThread of a
  committed thread from its closing time, nukeThreads from the nuke deadline (§10.5; the end of
  every episode drives each open dispute to its end);
- `reserve-to-hub` — money leaves the hub's reserve only to the hub (§5 hubContractWithdraw);
- `view-reverted` — a view the oracle needs reverted (reader.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from channel_manager.model import NUKE_PERIODS
from fuzzing.engine.books import CHEATER, HONEST, ChannelBook, ThreadBook
from fuzzing.engine.calls import NO_MONEY, PAYOUTS, SIGNATURE_ERRORS, UPDATES, Call
from fuzzing.engine.failure import PropertyFailure
from fuzzing.engine.reader import (
    CHANNEL_DISPUTE,
    EMPTY_THREAD,
    OPEN,
    THREAD_DISPUTE,
    ChannelView,
    Globals,
    Reader,
    ThreadView,
)
from fuzzing.engine.world import World

__all__ = ["NUKE_PERIODS", "Oracle", "Pre", "PropertyFailure"]

#: Calls that may change credits (the sweep re-reads credits after every other kind).
CREDIT_CHANGES = PAYOUTS | {"claim"}
ZERO_VIEW = ChannelView(0, 0, 0, 0, 0, 0, 0, 0, bytes(32), 0, "0x" + "0" * 40, 0, 0, 0, 0)


class Pre(NamedTuple):
    views: dict[str, ChannelView]
    eth: dict[str, int]
    tokens: dict[str, int]
    thread: ThreadView | None
    globals: Globals
    reserve: tuple[int, int]
    time: int


class Oracle:
    """Keeps the last-read views of every channel the run touched and judges each step."""

    def __init__(
        self,
        world: World,
        books: dict[str, ChannelBook],
        thread_books: dict[tuple[str, str, int], ThreadBook],
    ) -> None:
        self.world = world
        self.reader = Reader(world.chain, world.manager, world.token)
        self.books = books
        self.thread_books = thread_books
        self.hub = world.hub
        self.period = world.config.challenge_period
        self.views: dict[str, ChannelView] = {}
        self.eth: dict[str, int] = {}
        self.tokens: dict[str, int] = {}
        self.thread_views: dict[tuple[str, str, int], ThreadView] = {}
        self.executed: dict[str, set[int]] = {}
        self.sum_total = [0, 0]
        self.sum_credit = [0, 0]
        self.globals = self.reader.globals()
        self.manager = world.manager.address
        self.token_address = world.token.address
        self.checks = 0  # steps judged (counted, not estimated)
        self.enabled = True

    # ------------------------------------------------------------------ cached reads
    def view(self, user: str) -> ChannelView:
        v = self.views.get(user)
        if v is None:
            v = self.reader.channel(user)
            self._store_view(user, v)
        return v

    def _store_view(self, user: str, new: ChannelView) -> None:
        old = self.views.get(user, ZERO_VIEW)
        self.sum_total[0] += new.wei_total - old.wei_total
        self.sum_total[1] += new.token_total - old.token_total
        self.sum_credit[0] += new.credit_wei - old.credit_wei
        self.sum_credit[1] += new.credit_token - old.credit_token
        self.views[user] = new

    def balances(self, address: str) -> tuple[int, int]:
        if address not in self.eth:
            self.eth[address] = self.reader.eth(address)
            self.tokens[address] = self.reader.tokens(address)
        return self.eth[address], self.tokens[address]

    def thread_view(self, key: tuple[str, str, int]) -> ThreadView:
        v = self.thread_views.get(key)
        if v is None:
            v = self.reader.thread(key)
            self.thread_views[key] = v
        return v

    def reserve(self) -> tuple[int, int]:
        g = self.globals
        return (
            g.eth - g.total_wei - self.sum_credit[0],
            g.token - g.total_token - self.sum_credit[1],
        )

    # ------------------------------------------------------------------ one step
    def prepare(self, call: Call) -> Pre:
        views = {u: self.view(u) for u in call.users}
        for a in self._watched(call):
            self.balances(a)
        thread = self.thread_view(call.thread) if call.thread is not None else None
        return Pre(
            views,
            dict(self.eth),
            dict(self.tokens),
            thread,
            self.globals,
            self.reserve(),
            self.world.chain.time,
        )

    def judge(self, call: Call, result: Any, pre: Pre) -> None:
        """Refreshes the cache after a successful transaction, then raises PropertyFailure if a
        property fails (only when `enabled`: with the model as the only oracle the cache is
        still kept, since the actors read it)."""
        self.checks += 1
        try:
            if not result.success:
                self._judge_refusal(call, result, pre)
                return
            r = self.reader
            token_moves = self._token_moves(result)
            g0 = self.globals
            total_wei, total_token = r.totals()
            self.globals = Globals(
                r.eth(self.manager),
                g0.token + token_moves.get(self.manager, 0),
                total_wei,
                total_token,
            )
            changed = []
            reads_credits = call.fn in CREDIT_CHANGES
            for u in call.users:
                old = pre.views[u]
                new = r.channel(u, None if reads_credits else (old.credit_wei, old.credit_token))
                changed.append((u, old, new))
                self._store_view(u, new)
            for a in self._watched(call):
                self.eth[a] = r.eth(a)
            for a, moved in token_moves.items():
                if a in self.tokens:
                    self.tokens[a] += moved
            new_thread = None
            if call.thread is not None:
                new_thread = r.thread(call.thread)
                self.thread_views[call.thread] = new_thread
            for u, old, new in changed:
                self._check_channel(u, old, new)
            if new_thread is not None:
                self._check_thread(call.thread, pre.thread or EMPTY_THREAD, new_thread)
            self._check_globals(self.globals)
            self._check_money(call, pre)
            if call.fn in UPDATES:
                self._check_pending(call, pre)
            if call.fn in PAYOUTS:
                self._check_payout(call, pre)
        except PropertyFailure:
            if self.enabled:
                raise

    def _watched(self, call: Call) -> set[str]:
        """Addresses whose balances a step may move: the channels' users, the named payees, the
        sender, and the hub for a reserve withdrawal (whoever calls it, the hub must be paid)."""
        watched = {*call.users, *call.payees, call.sender}
        if call.fn == "hubContractWithdraw":
            watched.add(self.hub)
        return watched

    def _token_moves(self, result: Any) -> dict[str, int]:
        """Net token movements of a transaction, from the token's Transfer events (the test
        token is not under test; `sweep` re-reads the balances to confirm)."""
        moves: dict[str, int] = {}
        token = self.token_address
        for event in result.events:
            if event.address == token and event.name == "Transfer":
                value = event.args["value"]
                moves[event.args["from"]] = moves.get(event.args["from"], 0) - value
                moves[event.args["to"]] = moves.get(event.args["to"], 0) + value
        return moves

    # ------------------------------------------------------------------ refusals
    def _judge_refusal(self, call: Call, result: Any, pre: Pre) -> None:
        if call.genuine and result.error in SIGNATURE_ERRORS:
            raise PropertyFailure(
                "irrevocable-key-signatures",
                f"{call.fn} refused a genuine key signature: {result.revert_text()}",
            )
        now = pre.time
        if not call.users:
            return
        if call.fn == "emptyChannel":
            v = pre.views[call.users[0]]
            if v.status == CHANNEL_DISPUTE and now >= v.closing:
                raise PropertyFailure(
                    "liveness",
                    f"emptyChannel at closing {v.closing}+{now - v.closing} "
                    f"refused: {result.revert_text()}",
                )
        if (
            call.fn == "emptyThread"
            and call.meta.get("committed")
            and self._settlement_due(call, pre)
        ):
            raise PropertyFailure(
                "liveness",
                f"emptyThread at thread closing {pre.thread.closing}+"
                f"{now - pre.thread.closing} refused: {result.revert_text()}",
            )
        if call.fn == "nukeThreads":
            v = pre.views[call.users[0]]
            deadline = v.closing + NUKE_PERIODS * self.period
            if v.status == THREAD_DISPUTE and now >= deadline:
                raise PropertyFailure(
                    "liveness",
                    f"nukeThreads at deadline {deadline}+{now - deadline} "
                    f"refused: {result.revert_text()}",
                )

    def _settlement_due(self, call: Call, pre: Pre) -> bool:
        """`call` settles a thread side that §8 says must settle now: an honest user (whose
        channel states lock no more than they hold) or the hub asks for an unsettled side of a
        thread committed in that user's channel, in ThreadDispute, whose record is bound to this
        initial state (same sums) and whose window has closed."""
        user, initial, tv = call.users[0], call.initial, pre.thread
        book = self.books.get(user)
        if book is None or book.party.kind != HONEST:
            return False
        if initial is None or tv is None or tv.closing == 0 or pre.time < tv.closing:
            return False
        if call.sender not in (user, self.hub) or user not in (initial.sender, initial.receiver):
            return False
        side = 0 if user == initial.sender else 1
        return (
            pre.views[user].status == THREAD_DISPUTE
            and not tv.emptied[side]
            and tv.sums == (initial.wei_balances[0], initial.token_balances[0])
        )

    # ------------------------------------------------------------------ structure
    def _check_channel(self, user: str, old: ChannelView, new: ChannelView) -> None:
        name = self.world.name(user)
        if (
            new.wei_hub + new.wei_user > new.wei_total
            or new.token_hub + new.token_user > new.token_total
        ):
            raise PropertyFailure(
                "balances-within-total", f"{name}: hub + user exceeds total: {new}"
            )
        if new.tx_global < old.tx_global or new.tx_chain < old.tx_chain:
            raise PropertyFailure(
                "monotone-nonces",
                f"{name}: txCount ({old.tx_global}, {old.tx_chain}) "
                f"-> ({new.tx_global}, {new.tx_chain})",
            )

    def _check_thread(self, key: tuple[str, str, int], old: ThreadView, new: ThreadView) -> None:
        if old.closing == 0:
            return
        problems = []
        if new.sums != old.sums:
            problems.append(f"sums {old.sums} -> {new.sums}")
        if new.closing != old.closing:
            problems.append(f"closing {old.closing} -> {new.closing}")
        if new.wei[1] < old.wei[1] or new.token[1] < old.token[1]:
            problems.append(
                f"receiver ({old.wei[1]}, {old.token[1]}) -> ({new.wei[1]}, {new.token[1]})"
            )
        if new.tx_count < old.tx_count:
            problems.append(f"txCount {old.tx_count} -> {new.tx_count}")
        if (old.emptied[0] and not new.emptied[0]) or (old.emptied[1] and not new.emptied[1]):
            problems.append(f"emptied {old.emptied} -> {new.emptied}")
        if problems:
            raise PropertyFailure(
                "thread-record-monotone", f"thread {self._key_name(key)}: " + "; ".join(problems)
            )

    def _check_globals(self, g: Globals) -> None:
        owed_wei = g.total_wei + self.sum_credit[0]
        owed_token = g.total_token + self.sum_credit[1]
        if g.eth < owed_wei:
            raise PropertyFailure(
                "solvency",
                f"ETH balance {g.eth} < channel totals {g.total_wei} "
                f"+ credits {self.sum_credit[0]}",
            )
        if g.token < owed_token:
            raise PropertyFailure(
                "solvency",
                f"token balance {g.token} < channel totals {g.total_token} "
                f"+ credits {self.sum_credit[1]}",
            )
        if (g.total_wei, g.total_token) != tuple(self.sum_total):
            raise PropertyFailure(
                "sum-of-channel-totals",
                f"global totals ({g.total_wei}, {g.total_token}) "
                f"!= sum of channel totals {tuple(self.sum_total)}",
            )

    # ------------------------------------------------------------------ money
    def _delta(self, pre: Pre, address: str) -> tuple[int, int]:
        return (self.eth[address] - pre.eth[address], self.tokens[address] - pre.tokens[address])

    def _check_money(self, call: Call, pre: Pre) -> None:
        g0, g1 = pre.globals, self.globals
        reserve = self.reserve()
        d_reserve = (reserve[0] - pre.reserve[0], reserve[1] - pre.reserve[1])
        d_eth, d_token = g1.eth - g0.eth, g1.token - g0.token
        moved = (
            d_eth,
            d_token,
            g1.total_wei - g0.total_wei,
            g1.total_token - g0.total_token,
            d_reserve[0],
            d_reserve[1],
        )
        fn = call.fn
        if fn in NO_MONEY:
            if any(moved):
                raise PropertyFailure(
                    "no-money-moves", f"{fn} moved money (ΔETH, Δtoken, Δtotals, Δreserve): {moved}"
                )
        elif fn in UPDATES:
            s = call.state
            pw, pt = s.pending_wei_updates, s.pending_token_updates
            from_reserve = (
                (pw[0] + pw[2], pt[0] + pt[2]) if fn == "hubAuthorizedUpdate" else (pw[0], pt[0])
            )
            expected = (pw[1] - from_reserve[0], pt[1] - from_reserve[1])
            if d_reserve != expected:
                raise PropertyFailure(
                    "update-accounting",
                    f"{fn}: reserve moved {d_reserve}, pending updates say {expected}",
                )
            got = self._delta(pre, s.recipient)
            want = [pw[3], pt[3]]
            if s.recipient == call.sender and fn == "userAuthorizedUpdate":
                want[0] -= call.value  # the sender paid its deposits in this transaction
                want[1] -= pt[2]
            if s.recipient == self.world.manager.address:
                want = [got[0], got[1]]  # the contract itself (refused by InvalidRecipient in v3)
            if list(got) != want:
                raise PropertyFailure(
                    "update-accounting",
                    f"{fn}: recipient received {got}, withdrawals say {tuple(want)}",
                )
        elif fn == "hubContractWithdraw":
            w, t = call.args
            if (d_eth, d_token) != (-w, -t) or d_reserve != (-w, -t):
                raise PropertyFailure(
                    "withdraw-accounting",
                    f"withdrawing ({w}, {t}) moved (ΔETH, Δtoken, Δtotals, Δreserve) {moved}",
                )
            if self._delta(pre, self.hub) != (w, t):
                raise PropertyFailure(
                    "reserve-to-hub",
                    f"{self.world.name(call.sender)} withdrew ({w}, {t}) "
                    f"from the reserve; the hub received {self._delta(pre, self.hub)}",
                )
        elif fn == "claim":
            old = pre.views[call.sender]
            credit = (old.credit_wei, old.credit_token)
            if (d_eth, d_token) != (-credit[0], -credit[1]) or any(moved[2:]):
                raise PropertyFailure("claim-accounting", f"claiming {credit} moved {moved}")
        elif fn == "receive":
            if (d_eth, d_token) != (call.value, 0) or moved[2:4] != (0, 0):
                raise PropertyFailure("no-money-moves", f"receiving {call.value} moved {moved}")
        elif fn in PAYOUTS and (d_reserve[0] < 0 or d_reserve[1] < 0):
            raise PropertyFailure(
                "dispute-payout-within-totals",
                f"{fn}({self.world.name(call.users[0])}) paid out more than left the channel "
                f"totals: hub reserve moved {d_reserve} (Δtotals {moved[2:4]}, ΔETH {d_eth}, "
                f"Δtoken {d_token})",
            )

    def _check_pending(self, call: Call, pre: Pre) -> None:
        s = call.state
        if not s.has_pending:
            return
        user = s.user
        stored = self.views[user].tx_chain
        done = self.executed.setdefault(user, set())
        count = s.tx_count[1]
        if count in done or pre.views[user].tx_chain >= count or stored != count:
            raise PropertyFailure(
                "exactly-once-pending",
                f"{self.world.name(user)}: pending updates of onchain count {count} executed with "
                f"stored count {pre.views[user].tx_chain} -> {stored} (executed before: {count in done})",
            )
        done.add(count)

    # ------------------------------------------------------------------ dispute payouts
    def _paid(self, pre: Pre, user: str) -> tuple[int, int]:
        d = self._delta(pre, user)
        old, new = pre.views[user], self.views[user]
        return (d[0] + new.credit_wei - old.credit_wei, d[1] + new.credit_token - old.credit_token)

    def _check_payout(self, call: Call, pre: Pre) -> None:
        user = call.users[0]
        old, new = pre.views[user], self.views[user]
        if (
            new.status == OPEN
            and old.status != OPEN
            and new.count == 0
            and (new.wei_total or new.token_total)
        ):
            raise PropertyFailure(
                "no-stranded-surplus",
                f"{self.world.name(user)} reopened holding ({new.wei_total}, {new.token_total})",
            )
        book = self.books.get(user)
        if book is None:
            return
        paid = self._paid(pre, user)
        name = self.world.name(user)
        if call.fn in ("emptyChannel", "emptyChannelWithChallenge"):
            (hub_wei, user_wei), (hub_token, user_token) = book.claim_balances()
            if book.party.kind == HONEST and (paid[0] < user_wei or paid[1] < user_token):
                raise PropertyFailure(
                    "honest-user-safety",
                    f"{name} held a double-signed state giving it ({user_wei}, {user_token}) and was "
                    f"paid {paid} when its channel was emptied",
                )
            if book.party.kind in (HONEST, CHEATER) and not book.hub_cheated:
                gained = (self.reserve()[0] - pre.reserve[0], self.reserve()[1] - pre.reserve[1])
                if gained[0] < hub_wei or gained[1] < hub_token:
                    raise PropertyFailure(
                        "honest-hub-safety",
                        f"the hub held a double-signed state giving it ({hub_wei}, {hub_token}) in "
                        f"{name}'s channel and got back {gained} when it was emptied",
                    )
            if book.lifecycle is not None:
                book.lifecycle.channel_paid = True
            return
        if book.party.kind != HONEST or book.lifecycle is None:
            return
        if call.fn == "emptyThread":
            initial = call.initial
            tb = self.thread_books.get(initial.key) if initial is not None else None
            if tb is None or tb.initial != initial or initial.key in book.lifecycle.settled:
                return
            if initial not in book.lifecycle_threads():
                return
            owed = tb.owed_to(book.party)
            book.lifecycle.settled.add(initial.key)
            if paid[0] < owed[0] or paid[1] < owed[1]:
                role = "receiver" if book.party is tb.receiver else "sender"
                raise PropertyFailure(
                    f"honest-{role}-safety",
                    f"{name}, honest {role} of thread {self._key_name(initial.key)}, holds a state "
                    f"owing it {owed} and was paid {paid} settling its side",
                )
        elif call.fn == "nukeThreads":
            owed = [0, 0]
            roles = set()
            for t in book.lifecycle_threads():
                tb = self.thread_books.get(t.key)
                if tb is None or t.key in book.lifecycle.settled:
                    continue
                o = tb.owed_to(book.party)
                owed[0] += o[0]
                owed[1] += o[1]
                roles.add("receiver" if book.party is tb.receiver else "sender")
            if paid[0] < owed[0] or paid[1] < owed[1]:
                role = "receiver" if "receiver" in roles else "sender"
                raise PropertyFailure(
                    f"honest-{role}-safety",
                    f"{name}'s unsettled threads owe it {tuple(owed)}; nukeThreads paid it {paid}",
                )

    # ------------------------------------------------------------------ sweep
    def sweep(self, addresses: list[str]) -> None:
        """Re-read every known channel: a transaction may only change the channels it names."""
        for user in addresses:
            fresh = self.reader.channel(user)
            cached = self.views.get(user)
            if cached is not None and fresh != cached:
                raise PropertyFailure(
                    "unexpected-state-change",
                    f"{self.world.name(user)}'s channel changed without a call "
                    f"naming it: {cached} -> {fresh}",
                )
            if cached is None:
                self._store_view(user, fresh)
        fresh_globals = self.reader.globals()
        if fresh_globals != self.globals:
            raise PropertyFailure(
                "unexpected-state-change",
                f"contract balances or totals changed without a "
                f"call: {self.globals} -> {fresh_globals}",
            )
        for address, tokens in self.tokens.items():
            if self.reader.tokens(address) != tokens:
                raise PropertyFailure(
                    "unexpected-state-change",
                    f"token balance of {self.world.name(address)} differs from its Transfer events",
                )
        self._check_globals(self.globals)

    def _key_name(self, key: tuple[str, str, int]) -> str:
        return f"{self.world.name(key[0])}->{self.world.name(key[1])}#{key[2]}"
