"""The honest hub and the honest users: cooperative updates, payments, threads, and disputes
started and finished the way the protocol intends (docs/protocol.md §4–§8).

Every action is a method `act_<name>` returning True when it did something (sent a transaction
or signed off-chain). Actions read the chain only through the oracle's cached views, as a
party's watchtower would. `Adversary` (adversary.py) and `Malformed` (malformed.py) add the
attacks and the bad inputs; `ACTIONS` at the end of adversary.py lists them all for the swarm.
"""

from __future__ import annotations

import random
from typing import Any

from channel_manager import errors as E
from channel_manager.rules import validate_thread_update
from fuzzing.chain.base import TxResult
from fuzzing.engine.books import CHEATER, HONEST, PUPPET, ChannelBook, Party, Signed, ThreadBook
from fuzzing.engine.calls import Call, double_signed_call, thread_call, update_call, user_call
from fuzzing.engine.episode import NUKE_PERIODS, Episode
from fuzzing.engine.fast import thread_state
from fuzzing.engine.reader import CHANNEL_DISPUTE, OPEN, THREAD_DISPUTE, ChannelView


class Base:
    """Shared helpers of every actor."""

    def __init__(self, ep: Episode) -> None:
        self.ep = ep
        self.rng: random.Random = ep.rng
        self.w = ep.world
        self.hub = ep.world.hub
        self.pools: dict[str, list[Any]] = {p.address: [] for p in ep.world.parties}
        self.next_thread_id: dict[tuple[str, str], int] = {}

    def pool_add(self, puppet: str, initial: Any) -> None:
        """`initial` may go into puppet `puppet`'s future roots."""
        pool = self.pools[puppet]
        if initial not in pool:
            pool.append(initial)

    # -- picking
    def party(self, *kinds: str) -> Party | None:
        parties = self.w.of_kind(*kinds)
        return self.rng.choice(parties) if parties else None

    def book(self, party: Party) -> ChannelBook:
        return self.ep.books[party.address]

    def view(self, address: str) -> ChannelView:
        return self.ep.view(address)

    def amount(self, high: int = 10) -> int:
        r = self.rng.random()
        if r < 0.3:
            return 0
        return self.rng.randint(1, high) * self.w.unit

    def name(self, address: str) -> str:
        return self.w.name(address)

    @property
    def now(self) -> int:
        return self.ep.chain.time

    @property
    def period(self) -> int:
        return self.ep.period

    def boundary(self, deadline: int) -> int:
        """A moment around a deadline: −1, 0, +1 mostly, sometimes later."""
        offset = self.rng.choice((-1, -1, 0, 0, 1, 1, 2, self.period))
        return max(self.now, deadline + offset)

    def send(self, call: Call) -> TxResult:
        return self.ep.send(call)

    def thread_dispute_pick(
        self, kinds: tuple[str, ...]
    ) -> tuple[Party, ChannelView, list[Any]] | None:
        """A channel of `kinds` in ThreadDispute, its view, and its committed threads not yet disputed."""
        candidates = self.channels_in(THREAD_DISPUTE, kinds)
        if not candidates:
            return None
        p = self.rng.choice(candidates)
        v = self.view(p.address)
        undisputed = [
            leaf
            for leaf in self.ep.roots.leaves(v.root)
            if self.ep.oracle.thread_view(leaf.key).closing == 0
        ]
        return p, v, undisputed

    def send_user_call(self, fn: str, p: Party, *, caller: str, label: str) -> bool:
        """`fn` (startExit, emptyChannel or nukeThreads) on `p`'s channel."""
        self.send(user_call(fn, p.address, caller=caller, label=label))
        return True

    def send_double_signed(
        self, fn: str, p: Party, signed: Signed, *, caller: str, label: str
    ) -> bool:
        """`fn` (startExitWithUpdate or emptyChannelWithChallenge) on `p`'s channel with `signed`."""
        self.send(double_signed_call(fn, signed, caller=caller, user=p.address, label=label))
        return True

    def channels_in(
        self, status: int, kinds: tuple[str, ...] = (HONEST, CHEATER, PUPPET)
    ) -> list[Party]:
        return [p for p in self.w.of_kind(*kinds) if self.view(p.address).status == status]


class Honest(Base):
    """What the honest hub and honest users (and, cooperatively, cheaters) do."""

    # ------------------------------------------------------------------ housekeeping
    def expire_proposals(self) -> None:
        """Void every outstanding proposal whose timeout has passed (off-chain, both sign)."""
        for book in self.ep.books.values():
            out = book.outstanding
            if out is None or out.state.timeout == 0 or self.now < out.state.timeout:
                continue
            if book.party.kind == PUPPET or self.view(book.user).status != OPEN:
                continue
            book.void()
            self.ep.note(
                f"{book.party.name} and hub void an expired proposal (txCount {book.final.state.tx_count})"
            )

    def cooperative_book(self) -> ChannelBook | None:
        """An honest or cheating user's channel that is Open with nothing outstanding."""
        p = self.party(HONEST, CHEATER)
        if p is None:
            return None
        book = self.book(p)
        if book.outstanding is not None or self.view(p.address).status != OPEN:
            return None
        return book

    def reserve_covers(self, wei: int, token: int) -> bool:
        reserve = self.ep.oracle.reserve()
        return wei <= reserve[0] and token <= reserve[1]

    # ------------------------------------------------------------------ cooperative updates
    def submit(self, book: ChannelBook, signed: Signed, by_hub: bool) -> TxResult:
        s = signed.state
        call = update_call(
            signed,
            user=book.user,
            hub=self.hub,
            by_hub=by_hub,
            label=f"{book.party.name}'s update {s.tx_count}: pending wei "
            f"{s.pending_wei_updates} token {s.pending_token_updates}",
        )
        result = self.send(call)
        if result.success and book.outstanding is signed:
            book.acknowledge()
        return result

    def timeout(self) -> int:
        r = self.rng.random()
        if r < 0.2:
            return 0
        return self.now + self.rng.choice((1, 2, 5, self.period))

    def act_deposit(self) -> bool:
        book = self.cooperative_book()
        if book is None:
            return False
        uw, ut = self.amount(), self.amount()
        hw, ht = (self.amount(), self.amount()) if self.rng.random() < 0.3 else (0, 0)
        if not self.reserve_covers(hw, ht):
            hw = ht = 0
        if not (uw or ut or hw or ht):
            uw = self.w.unit
        signed = book.propose((hw, 0, uw, 0), (ht, 0, ut, 0), book.user, self.timeout())
        self.ep.note(f"{book.party.name} and hub sign a deposit proposal {signed.state.tx_count}")
        if signed.state.timeout == 0 and self.rng.random() < 0.3:
            return True  # executed later (act_execute) or adopted by a dispute
        self.submit(book, signed, by_hub=False)
        return True

    def act_collateral(self) -> bool:
        book = self.cooperative_book()
        if book is None:
            return False
        hw, ht = self.amount(20), self.amount(20)
        if not (hw or ht) or not self.reserve_covers(hw, ht):
            return False
        signed = book.propose((hw, 0, 0, 0), (ht, 0, 0, 0), book.user, self.timeout())
        self.submit(book, signed, by_hub=True)
        return True

    def act_withdraw(self) -> bool:
        book = self.cooperative_book()
        if book is None:
            return False
        s = book.current
        (wh, wu), (th, tu) = s.wei_balances, s.token_balances
        pick = self.rng.randint
        uw, ut = pick(0, wu), pick(0, tu)
        hw, ht = (pick(0, wh), pick(0, th)) if self.rng.random() < 0.4 else (0, 0)
        if not (uw or ut or hw or ht):
            return False
        recipient = book.user if self.rng.random() < 0.6 else book.party.cold
        signed = book.propose((0, hw, 0, uw), (0, ht, 0, ut), recipient, self.timeout())
        self.submit(book, signed, by_hub=self.rng.random() < 0.5)
        return True

    def act_execute(self) -> bool:
        """Submit an outstanding proposal (one signed earlier and not executed yet)."""
        books = [
            b
            for b in self.ep.books.values()
            if b.outstanding is not None
            and b.party.kind != PUPPET
            and self.view(b.user).status == OPEN
        ]
        if not books:
            return False
        book = self.rng.choice(books)
        out = book.outstanding
        assert out is not None
        user_deposits = out.state.pending_wei_updates[2] or out.state.pending_token_updates[2]
        self.submit(book, out, by_hub=not user_deposits and self.rng.random() < 0.5)
        return True

    def act_pay(self) -> bool:
        """An off-chain payment in a channel, both sign."""
        book = self.cooperative_book()
        if book is None:
            return False
        s = book.current
        (wh, wu), (th, tu) = s.wei_balances, s.token_balances
        if self.rng.random() < 0.5:  # user pays the hub
            w, t = self.rng.randint(0, wu), self.rng.randint(0, tu)
            wei, token = (wh + w, wu - w), (th + t, tu - t)
        else:
            w, t = self.rng.randint(0, wh), self.rng.randint(0, th)
            wei, token = (wh - w, wu + w), (th - t, tu + t)
        signed = book.next_plain(wei, token, book.threads)
        self.ep.note(
            f"{book.party.name} and hub sign a payment {signed.state.tx_count}: wei {wei} token {token}"
        )
        return True

    # ------------------------------------------------------------------ threads
    def act_open_thread(self) -> bool:
        """Open a thread through the hub (docs/protocol.md §8.1). A sender short of funds
        deposits first, a receiver's channel short of hub collateral gets it first."""
        sender, receiver = self.rng.sample(self.w.parties, 2)
        w, t = self.amount(5), self.amount(5)
        if not (w or t):
            w = self.w.unit
        sides = []
        for party, side in ((sender, 1), (receiver, 0)):
            if party.kind == PUPPET:
                continue
            book = self.book(party)
            if book.outstanding is not None or self.view(party.address).status != OPEN:
                return False
            s = book.current
            short = (max(w - s.wei_balances[side], 0), max(t - s.token_balances[side], 0))
            if short != (0, 0):
                if side == 0 and not self.reserve_covers(*short):
                    return False
                pw = (short[0], 0, 0, 0) if side == 0 else (0, 0, short[0], 0)
                pt = (short[1], 0, 0, 0) if side == 0 else (0, 0, short[1], 0)
                signed = book.propose(pw, pt, book.user, self.now + self.period)
                self.submit(book, signed, by_hub=side == 0)
                if book.outstanding is not None or self.view(party.address).status != OPEN:
                    return True
                s = book.current
                if s.wei_balances[side] < w or s.token_balances[side] < t:
                    return True
            sides.append((book, side))
        pair = (sender.address, receiver.address)
        thread_id = self.next_thread_id.get(pair, 0) + 1
        self.next_thread_id[pair] = thread_id
        initial = thread_state(sender.address, receiver.address, thread_id, (w, 0), (t, 0), 0)
        sig = sender.key.sign(self.w.hasher.thread_digest(initial))
        for book, side in sides:
            s = book.current
            wei, token = list(s.wei_balances), list(s.token_balances)
            wei[side] -= w
            token[side] -= t
            book.next_plain((wei[0], wei[1]), (token[0], token[1]), (*book.threads, initial))
        for party in (sender, receiver):
            if party.kind == PUPPET:
                self.pool_add(party.address, initial)
        tb = ThreadBook(initial, sender, receiver, sig, initial, sig, [(initial, sig)])
        self.ep.thread_books[initial.key] = tb
        self.ep.note(f"thread {self.ep.thread_name(initial.key)} opened for wei {w} token {t}")
        return True

    def open_threads(self) -> list[ThreadBook]:
        """Threads still open off-chain: not closed, not disputed, and still held by each
        non-puppet side's newest channel state (a channel that settled it is done with it)."""
        out = []
        for tb in self.ep.thread_books.values():
            if tb.closed or self.ep.oracle.thread_view(tb.key).closing != 0:
                continue
            if any(
                p.kind != PUPPET and tb.initial not in self.book(p).threads
                for p in (tb.sender, tb.receiver)
            ):
                continue
            out.append(tb)
        return out

    def act_thread_pay(self) -> bool:
        books = self.open_threads()
        if not books:
            return False
        tb = self.rng.choice(books)
        n = tb.newest
        (ws, wr), (ts, tr) = n.wei_balances, n.token_balances
        w, t = self.rng.randint(0, ws), self.rng.randint(0, ts)
        if not (w or t):
            return False
        new = thread_state(
            n.sender, n.receiver, n.thread_id, (ws - w, wr + w), (ts - t, tr + t), n.tx_count + 1
        )
        self.deliver(tb, new)
        return True

    def deliver(self, tb: ThreadBook, new: Any) -> bool:
        """The sender signs `new` and offers it to the receiver, which keeps it if it is newer
        by the off-chain rules (docs/protocol.md §8.3)."""
        sig = tb.sender.key.sign(self.w.hasher.thread_digest(new))
        tb.signed.append((new, sig))
        try:
            validate_thread_update(tb.newest, new)
        except E.ChannelError:
            return False
        tb.newest, tb.sig_newest = new, sig
        self.ep.note(
            f"{tb.receiver.name} accepts thread state {self.ep.thread_name(tb.key)} txCount "
            f"{new.tx_count}: wei {new.wei_balances} token {new.token_balances}"
        )
        return True

    def act_close_thread(self) -> bool:
        books = [tb for tb in self.open_threads()]
        if not books:
            return False
        tb = self.rng.choice(books)
        sides = []
        for party in (tb.sender, tb.receiver):
            if party.kind == PUPPET:
                continue
            book = self.book(party)
            if (
                book.outstanding is not None
                or self.view(party.address).status != OPEN
                or tb.initial not in book.threads
            ):
                return False
            sides.append((party, book))
        n = tb.newest
        (ws, wr), (ts, tr) = n.wei_balances, n.token_balances
        for party, book in sides:
            s = book.current
            (wh, wu), (th, tu) = s.wei_balances, s.token_balances
            if party is tb.sender:
                wei, token = (wh + wr, wu + ws), (th + tr, tu + ts)
            else:
                wei, token = (wh + ws, wu + wr), (th + ts, tu + tr)
            book.next_plain(wei, token, tuple(x for x in book.threads if x != tb.initial))
        tb.closed = True
        self.ep.note(
            f"thread {self.ep.thread_name(tb.key)} closed cooperatively at txCount {n.tx_count}"
        )
        return True

    # ------------------------------------------------------------------ disputes
    def honest_exit(self, book: ChannelBook, caller: str) -> TxResult:
        v = self.view(book.user)
        final = book.final
        who = self.name(caller)
        if final is not None and final.state.tx_count[0] > v.tx_global:
            s = final.state
            return self.send(
                Call(
                    "startExitWithUpdate",
                    (s.to_tuple(), final.sig_hub, final.sig_user),
                    caller,
                    f"{who} exits {book.party.name}'s channel with the newest state {s.tx_count}",
                    users=(book.user,),
                    genuine=True,
                    state=s,
                )
            )
        return self.send(
            user_call(
                "startExit",
                book.user,
                caller=caller,
                label=f"{who} exits {book.party.name}'s channel on the stored state",
            )
        )

    def act_exit(self) -> bool:
        p = self.party(HONEST, CHEATER)
        if p is None or self.view(p.address).status != OPEN:
            return False
        caller = p.address if self.rng.random() < 0.5 else self.hub
        self.honest_exit(self.book(p), caller)
        return True

    def act_answer_now(self) -> bool:
        """An honest party answers a dispute at once instead of near the deadline."""
        for _deadline, act, ident in self.ep._obligations():
            if ident not in self.ep._tried:
                act()
                self.ep._tried.add(ident)
                return True
        return False

    def act_concede(self) -> bool:
        """The non-initiator empties before the closing time (docs/protocol.md §6)."""
        disputed = self.channels_in(CHANNEL_DISPUTE)
        if not disputed:
            return False
        p = self.rng.choice(disputed)
        v = self.view(p.address)
        self.book(p)
        initiator_is_hub = v.initiator == self.hub
        caller = p.address if initiator_is_hub else self.hub
        if self.owes_answer(p, caller) or self.now >= v.closing:
            return False  # an honest party with a newer state answers, it does not concede
        return self.send_user_call(
            "emptyChannel",
            p,
            caller=caller,
            label=f"{self.name(caller)} concedes {p.name}'s dispute before closing {v.closing}",
        )

    def act_empty_channel(self) -> bool:
        disputed = self.channels_in(CHANNEL_DISPUTE)
        if not disputed:
            return False
        p = self.rng.choice(disputed)
        v = self.view(p.address)
        self.ep.advance_to(self.boundary(v.closing))
        if self.view(p.address).status != CHANNEL_DISPUTE:
            return True  # an honest answer emptied it meanwhile
        caller = self.rng.choice((self.w.stranger, self.hub, p.address))
        if self.owes_answer(p, caller):  # an honest party answers; it never concedes a stale state
            self.ep.answer(p.address, caller, self.book(p).final)
            return True
        return self.send_user_call(
            "emptyChannel",
            p,
            caller=caller,
            label=f"{self.name(caller)} empties {p.name}'s channel (closing {v.closing})",
        )

    def owes_answer(self, p: Party, caller: str) -> bool:
        """`caller` is the honest non-initiator of `p`'s running dispute and holds a newer
        double-signed state than the one stored."""
        v = self.view(p.address)
        book = self.book(p)
        if (
            v.status != CHANNEL_DISPUTE
            or self.now >= v.closing
            or book.final is None
            or book.final.state.tx_count[0] <= v.tx_global
        ):
            return False
        non_initiator = self.hub if v.initiator == p.address else p.address
        if caller != non_initiator:
            return False
        return p.kind in (HONEST, CHEATER) if caller == self.hub else p.kind == HONEST

    def act_tick(self) -> bool:
        deadlines = self.live_deadlines()
        if deadlines and self.rng.random() < 0.6:
            target = self.boundary(self.rng.choice(deadlines))
        else:
            target = self.now + self.rng.choice((1, 2, 7, self.period, 3 * self.period))
        self.ep.advance_to(target)
        return True

    def live_deadlines(self) -> list[int]:
        out = []
        for p in self.w.parties:
            v = self.view(p.address)
            if v.status == CHANNEL_DISPUTE:
                out.append(v.closing)
            elif v.status == THREAD_DISPUTE:
                out.append(v.closing + NUKE_PERIODS * self.period)
        for _key, tv in self.ep.oracle.thread_views.items():
            if tv.closing > self.now - 2:
                out.append(tv.closing)
        return [d for d in out if d >= self.now - 1]

    # ------------------------------------------------------------------ thread disputes
    def act_thread_start(self) -> bool:
        """An honest party starts a dispute of one of its threads in its channel."""
        picked = self.thread_dispute_pick((HONEST, CHEATER))
        if picked is None:
            return False
        p, _, undisputed = picked
        books = self.ep.thread_books
        leaves = [
            leaf for leaf in undisputed if leaf.key in books and books[leaf.key].initial == leaf
        ]
        if not leaves:
            return False
        leaf = self.rng.choice(leaves)
        caller = p.address if self.rng.random() < 0.6 else self.hub
        self.ep.start_thread_dispute(
            p.address, leaf, self.ep.thread_books[leaf.key].sig_initial, caller
        )
        return True

    def act_empty_thread(self) -> bool:
        candidates = self.channels_in(THREAD_DISPUTE)
        if not candidates:
            return False
        p = self.rng.choice(candidates)
        v = self.view(p.address)
        leaves = self.ep.roots.leaves(v.root)
        if not leaves:
            return False
        disputed = [x for x in leaves if self.ep.oracle.thread_view(x.key).closing]
        leaf = self.rng.choice(disputed if disputed and self.rng.random() < 0.85 else leaves)
        tv = self.ep.oracle.thread_view(leaf.key)
        if tv.closing:
            self.ep.advance_to(self.boundary(tv.closing))
        v = self.view(p.address)
        if v.status != THREAD_DISPUTE:
            return True
        r = self.rng.random()
        caller = p.address if r < 0.6 else (self.hub if r < 0.9 else self.w.stranger)
        sig, genuine = self.ep.thread_signature(leaf)
        self.send(
            thread_call(
                "emptyThread",
                p.address,
                leaf,
                self.ep.roots.proof(v.root, leaf),
                sig,
                caller=caller,
                label=(
                    f"{self.name(caller)} settles {p.name}'s side of thread {self.ep.thread_name(leaf.key)} "
                    f"(initial {leaf.wei_balances[0]}/{leaf.token_balances[0]}, thread closing {tv.closing})"
                ),
                genuine=genuine,
                committed=True,
            )
        )
        return True

    def act_nuke(self) -> bool:
        candidates = self.channels_in(THREAD_DISPUTE)
        if not candidates:
            return False
        p = self.rng.choice(candidates)
        v = self.view(p.address)
        deadline = v.closing + NUKE_PERIODS * self.period
        self.ep.advance_to(max(self.now, deadline + self.rng.choice((-1, -1, 0, 0, 1, 1, 3))))
        if self.view(p.address).status != THREAD_DISPUTE:
            return True
        caller = self.rng.choice((self.w.stranger, self.hub, p.address))
        return self.send_user_call(
            "nukeThreads",
            p,
            caller=caller,
            label=f"{self.name(caller)} nukes {p.name}'s threads (deadline {deadline})",
        )

    def act_challenge_now(self) -> bool:
        return self.act_answer_now()

    # ------------------------------------------------------------------ money outside channels
    def act_reserve(self) -> bool:
        r = self.rng.random()
        reserve = self.ep.oracle.reserve()
        if r < 0.4:
            value = self.amount(50) or self.w.unit
            self.send(
                Call(
                    "receive",
                    (),
                    self.hub,
                    f"hub sends {value} wei to the contract",
                    value=value,
                    payees=(self.hub,),
                )
            )
            return True
        w, t = (self.reserve_share(reserve[0]), self.reserve_share(reserve[1]))
        if self.rng.random() < 0.2:
            w, t = (
                (reserve[0] + self.rng.choice((1, self.w.unit)), 0)
                if self.rng.random() < 0.5
                else (0, reserve[1] + 1)
            )
        self.send(
            Call(
                "hubContractWithdraw",
                (w, t),
                self.hub,
                f"hub withdraws ({w}, {t}) from its reserve",
                payees=(self.hub,),
            )
        )
        return True

    def reserve_share(self, reserve: int) -> int:
        """Part of a reserve, often all of it or nothing (the exact boundaries)."""
        r = self.rng.random()
        if r < 0.25:
            return max(reserve, 0)
        return 0 if r < 0.35 else self.rng.randint(0, max(reserve, 0))

    def act_claim(self) -> bool:
        with_credit = [
            p
            for p in self.w.parties
            if self.view(p.address).credit_wei or self.view(p.address).credit_token
        ]
        if not with_credit:
            return False
        p = self.rng.choice(with_credit)
        self.send(
            Call(
                "claim",
                (p.cold,),
                p.address,
                f"{p.name} claims its credit to {p.name}.cold",
                users=(p.address,),
                payees=(p.cold,),
            )
        )
        return True

    def act_finale_exits(self) -> bool:
        """Honest receivers and senders whose threads are disputed exit to collect."""
        for key, tb in self.ep.thread_books.items():
            if self.ep.oracle.thread_view(key).closing == 0:
                continue
            for party in (tb.receiver, tb.sender):
                if party.kind != HONEST:
                    continue
                book = self.book(party)
                if tb.initial in book.threads and self.view(party.address).status == OPEN:
                    self.honest_exit(book, party.address)
                    return True
        return False
