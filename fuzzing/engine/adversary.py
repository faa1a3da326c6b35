"""Parties that sign anything (docs/protocol.md §10.9): the hub with its sock-puppet users,
cheating users who exit on stale states and delegate their address to code (EIP-7702), and
thread senders who sign any thread state — any txCount, receiver balances up or down, several
different initial states for one (sender, receiver, threadId) committed to different channels'
roots, roots with more leaves than threadCount."""

from __future__ import annotations

from typing import Any

from fuzzing.engine.actors import Honest
from fuzzing.engine.books import CHEATER, HONEST, PUPPET, Party
from fuzzing.engine.calls import Call, thread_call, update_call
from fuzzing.engine.fast import evolve, thread_state
from fuzzing.engine.reader import CHANNEL_DISPUTE, OPEN

#: thread txCounts an adversary likes: the old maximum, just above it, the largest uint256.
WILD_TX_COUNTS = (0, 1, 2**64 - 1, 2**64, 2**256 - 1)


class Adversary(Honest):
    # ------------------------------------------------------------------ forged thread states
    def adversarial_signer(self, address: str) -> Party | None:
        p = self.w.by_address.get(address)
        return p if p is not None and p.kind in (CHEATER, PUPPET) else None

    def act_forge_initial(self) -> bool:
        """An adversarial sender signs another initial state for a thread key (often one that
        already exists) and the hub commits it to a puppet's future roots."""
        senders = self.w.of_kind(CHEATER, PUPPET)
        puppets = self.w.of_kind(PUPPET)
        if not senders or not puppets:
            return False
        existing = [
            tb.initial
            for tb in self.ep.thread_books.values()
            if self.adversarial_signer(tb.initial.sender)
        ]
        if existing and self.rng.random() < 0.6:
            base = self.rng.choice(existing)
            sender, receiver, thread_id = base.key
        else:
            s = self.rng.choice(senders)
            others = [p for p in self.w.parties if p is not s]
            if s.kind != PUPPET:  # someone must be able to commit it: the receiver is a puppet
                others = [p for p in puppets if p is not s]
            r = self.rng.choice(others)
            sender, receiver, thread_id = s.address, r.address, self.rng.randint(1, 2)
        w = self.rng.choice((0, 0, 1, 2, 5)) * self.w.unit
        t = self.rng.choice((0, 0, 1, 3)) * self.w.unit
        initial = thread_state(sender, receiver, thread_id, (w, 0), (t, 0), 0)
        signer = self.w.by_address[sender]
        self.ep.forged_sigs[initial] = signer.key.sign(self.w.hasher.thread_digest(initial))
        placed = []
        for address in (sender, receiver):
            if address in self.pools and self.w.by_address[address].kind == PUPPET:
                self.pool_add(address, initial)
                placed.append(self.name(address))
        if (
            not placed or self.rng.random() < 0.05
        ):  # a leaf in a root of a channel not in the thread
            self.pool_add(self.rng.choice(puppets).address, initial)
        self.ep.note(
            f"{self.name(sender)} signs an initial state for {self.ep.thread_name(initial.key)} with "
            f"wei {w} token {t}"
        )
        return True

    def wild_update(self, leaf: Any, sums: tuple[int, int] | None = None) -> Any:
        """Any thread state for `leaf`'s key: receiver balances anywhere in the sums (or sums
        that are not the leaf's), any txCount; often a greedy one, paying the receiver less
        than the newest state it holds but with a higher txCount."""
        ws, ts = sums if sums is not None else (leaf.wei_balances[0], leaf.token_balances[0])
        tb = self.ep.thread_books.get(leaf.key)
        if (
            tb is not None
            and tb.initial == leaf
            and tb.newest is not leaf
            and self.rng.random() < 0.5
        ):
            n = tb.newest
            wr = self.rng.randint(min(1, n.wei_balances[1]), n.wei_balances[1])
            tr = self.rng.randint(0, n.token_balances[1])
            tx = self.rng.choice((n.tx_count + 1, n.tx_count + 5, 2**64 - 1, 2**256 - 1))
            return thread_state(
                leaf.sender, leaf.receiver, leaf.thread_id, (ws - wr, wr), (ts - tr, tr), tx
            )
        if self.rng.random() < 0.1:
            ws += self.rng.choice((self.w.unit, -self.w.unit)) if ws >= self.w.unit else self.w.unit
        wr = self.rng.choice((0, 1, ws // 2, ws, self.rng.randint(0, max(ws, 0))))
        tr = self.rng.choice((0, 1, ts // 2, ts, self.rng.randint(0, max(ts, 0))))
        wr, tr = min(wr, max(ws, 0)), min(tr, max(ts, 0))
        tx = self.rng.choice((*WILD_TX_COUNTS, self.rng.randint(0, 50)))
        return thread_state(
            leaf.sender, leaf.receiver, leaf.thread_id, (max(ws, 0) - wr, wr), (ts - tr, tr), tx
        )

    def signed_thread_state(
        self, leaf: Any, sums: tuple[int, int] | None = None
    ) -> tuple[Any, bytes, bool] | None:
        """A later state for `leaf`'s thread with a signature: freshly signed by an adversarial
        sender, else one the honest sender signed before."""
        sender = self.adversarial_signer(leaf.sender)
        if sender is not None:
            update = self.wild_update(leaf, sums)
            return update, sender.key.sign(self.w.hasher.thread_digest(update)), True
        tb = self.ep.thread_books.get(leaf.key)
        if tb is None or len(tb.signed) < 2:
            return None
        update, sig = self.rng.choice(tb.signed[1:])
        return update, sig, True

    def act_adv_thread_start(self) -> bool:
        """A cheater or the hub starts a thread dispute with whatever it can sign or replay (the
        txCount jump of finding M-2 among others)."""
        picked = self.thread_dispute_pick((CHEATER, PUPPET))
        if picked is None:
            return False
        p, v, leaves = picked
        if not leaves and v.root == bytes(32):
            # A zero root commits to no thread: dispute one the hub merely holds a signature of.
            leaves = [
                x for x in self.pools[p.address] if self.ep.oracle.thread_view(x.key).closing == 0
            ]
        if not leaves:
            return False
        leaf = self.rng.choice(leaves)
        sig, genuine = self.ep.thread_signature(leaf)
        sender = self.adversarial_signer(leaf.sender)
        if not genuine and sender is not None:
            sig, genuine = sender.key.sign(self.w.hasher.thread_digest(leaf)), True
        caller = p.address if self.rng.random() < 0.5 else self.hub
        proof = self.ep.roots.proof(v.root, leaf)
        thread_name = self.ep.thread_name(leaf.key)
        update = self.signed_thread_state(leaf) if self.rng.random() < 0.7 else None
        if update is None:
            fn, extra = "startExitThread", None
            what = f"the initial state {leaf.wei_balances[0]}/{leaf.token_balances[0]}"
        else:
            state, sig_update, genuine_update = update
            fn, extra, genuine = (
                "startExitThreadWithUpdate",
                (state, sig_update),
                genuine and genuine_update,
            )
            what = (
                f"a state paying the receiver {state.wei_balances[1]}/{state.token_balances[1]} at "
                f"txCount {state.tx_count}"
            )
        label = f"{self.name(caller)} starts thread {thread_name} in {p.name}'s channel with {what}"
        self.send(
            thread_call(
                fn,
                p.address,
                leaf,
                proof,
                sig,
                caller=caller,
                label=label,
                genuine=genuine,
                update=extra,
            )
        )
        return True

    def act_adv_thread_challenge(self) -> bool:
        # Mostly open windows; sometimes one closing this very second (the window is closed then).
        live = [
            (key, tv)
            for key, tv in self.ep.oracle.thread_views.items()
            if tv.closing > self.now or (tv.closing == self.now and self.rng.random() < 0.5)
        ]
        if not live:
            return False
        key, tv = self.rng.choice(live)
        leaf = thread_state(key[0], key[1], key[2], (tv.sums[0], 0), (tv.sums[1], 0), 0)
        update = self.signed_thread_state(leaf, tv.sums)
        if update is None:
            return False
        state, sig, genuine = update
        parties = [
            a
            for a in (key[0], key[1])
            if (q := self.w.by_address.get(a)) is not None and q.kind != HONEST
        ]
        caller = self.rng.choice((self.hub, self.hub, *parties, self.w.stranger))
        self.send(
            Call(
                "challengeThread",
                (state.to_tuple(), sig),
                caller,
                f"{self.name(caller)} challenges thread {self.ep.thread_name(key)} with a state paying the "
                f"receiver {state.wei_balances[1]}/{state.token_balances[1]} at txCount {state.tx_count}",
                thread=key,
                genuine=genuine,
            )
        )
        return True

    # ------------------------------------------------------------------ sock puppets
    def puppet_state(self, p: Party, purpose: str) -> Any:
        """A state the hub and puppet `p` both sign, shaped to be mostly acceptable."""
        v = self.view(p.address)
        rng = self.rng
        pool = self.pools[p.address]
        k = rng.choice((0, 1, 1, 2, 2, 3))
        leaves = tuple(rng.sample(pool, min(k, len(pool))))
        count = len(leaves)
        if leaves and rng.random() < 0.25:
            count = rng.choice((len(leaves) - 1, len(leaves) + 1, 1))
        elif not leaves and rng.random() < 0.1:
            count = rng.choice((1, 2))  # threads counted, none committed: a zero root
        root = self.ep.roots.root_of(leaves)
        locked = (sum(x.wei_balances[0] for x in leaves), sum(x.token_balances[0] for x in leaves))
        update = purpose == "update"
        pending = []
        balances = []
        for asset, total in enumerate((v.wei_total, v.token_total)):
            free = max(total - locked[asset], 0) if rng.random() < 0.8 else total
            hub_balance = rng.randint(0, free)
            user_balance = (
                rng.randint(0, free - hub_balance) if rng.random() < 0.8 else free - hub_balance
            )
            rest = free - hub_balance - user_balance
            deposits = (self.amount(), self.amount()) if update or rng.random() < 0.15 else (0, 0)
            room = rest + deposits[0] + deposits[1]
            hub_out = rng.randint(0, room) if rng.random() < 0.3 else 0
            user_out = rng.randint(0, room - hub_out) if rng.random() < 0.5 else 0
            if not update and rng.random() < 0.5:
                hub_out = user_out = 0
            pending.append((deposits[0], hub_out, deposits[1], user_out))
            balances.append((hub_balance, user_balance))
        pending_w, pending_t = pending
        (hw, uw), (ht, ut) = balances
        # Mostly the next count; sometimes a jump past 16 bits, so a narrower stored field shows.
        txg = (
            v.tx_global + rng.choice((1, 1, 1, 2, 5, 2**16 + 1))
            if rng.random() < 0.95
            else v.tx_global
        )
        has_pending = any(pending_w) or any(pending_t)
        txc = v.tx_chain + (1 if has_pending and (update or rng.random() < 0.5) else 0)
        recipient = p.address if rng.random() < 0.7 else p.cold
        if rng.random() < 0.02:
            recipient = self.w.manager.address
        timeout = 0
        if update and rng.random() < 0.3:
            timeout = self.now + rng.choice((0, 1, self.period))
        base = self.book(p).base
        state = evolve(
            base,
            recipient=recipient,
            wei_balances=(hw, uw),
            token_balances=(ht, ut),
            pending_wei_updates=pending_w,
            pending_token_updates=pending_t,
            tx_count=(txg, txc),
            thread_root=root,
            thread_count=count,
            timeout=timeout,
        )
        return self.book(p).sign(state, leaves)

    def act_puppet_update(self) -> bool:
        p = self.party(PUPPET)
        if p is None or self.view(p.address).status != OPEN:
            return False
        signed = self.puppet_state(p, "update")
        s = signed.state
        label = (
            f"puppet {p.name}'s update {s.tx_count} pending wei {s.pending_wei_updates} "
            f"token {s.pending_token_updates}"
        )
        call = update_call(
            signed, user=p.address, hub=self.hub, by_hub=self.rng.random() < 0.5, label=label
        )
        self.send(call)
        return True

    def act_replay_pending(self) -> bool:
        """The hub and a puppet submit a state whose pending updates claim the onchain txCount
        already stored (docs/protocol.md §4 PendingAlreadyExecuted): one pending word at a time,
        so every word must count as pending."""
        p = self.party(PUPPET)
        if p is None or self.view(p.address).status != OPEN:
            return False
        signed = self.puppet_state(p, "update")
        words = [0] * 8
        word = self.rng.randrange(8)
        words[word] = [*signed.state.pending_wei_updates, *signed.state.pending_token_updates][
            word
        ] or self.w.unit
        s = evolve(
            signed.state,
            pending_wei_updates=tuple(words[:4]),
            pending_token_updates=tuple(words[4:]),
            tx_count=(signed.state.tx_count[0], self.view(p.address).tx_chain),
        )
        signed = self.book(p).sign(s, signed.leaves)
        label = f"puppet {p.name}'s update {s.tx_count}, replaying pending word {word} at the stored onchain count"
        call = update_call(
            signed, user=p.address, hub=self.hub, by_hub=self.rng.random() < 0.5, label=label
        )
        self.send(call)
        return True

    def act_puppet_exit(self) -> bool:
        p = self.party(PUPPET)
        if p is None or self.view(p.address).status != OPEN:
            return False
        caller = p.address if self.rng.random() < 0.5 else self.hub
        if self.rng.random() < 0.15:
            return self.send_user_call(
                "startExit",
                p,
                caller=caller,
                label=f"{self.name(caller)} exits puppet {p.name}'s channel",
            )
        signed = self.puppet_state(p, "dispute")
        s = signed.state
        label = (
            f"{self.name(caller)} exits puppet {p.name}'s channel with {s.tx_count}: wei {s.wei_balances} "
            f"token {s.token_balances}, {len(signed.leaves)} leaves, threadCount {s.thread_count}"
        )
        return self.send_double_signed("startExitWithUpdate", p, signed, caller=caller, label=label)

    def act_puppet_answer(self) -> bool:
        disputed = self.channels_in(CHANNEL_DISPUTE, (PUPPET,))
        if not disputed:
            return False
        p = self.rng.choice(disputed)
        v = self.view(p.address)
        caller = self.hub if v.initiator == p.address else p.address
        if self.rng.random() < 0.1:
            caller = v.initiator  # CallerIsExitInitiator
        signed = self.puppet_state(p, "dispute")
        s = signed.state
        label = (
            f"{self.name(caller)} answers puppet {p.name}'s dispute with {s.tx_count}: wei "
            f"{s.wei_balances}, {len(signed.leaves)} leaves, threadCount {s.thread_count}"
        )
        return self.send_double_signed(
            "emptyChannelWithChallenge", p, signed, caller=caller, label=label
        )

    # ------------------------------------------------------------------ cheating users and a cheating hub
    def act_exit_stale(self) -> bool:
        """A cheater exits its channel, or the hub exits an honest user's, on an old state."""
        p = self.party(CHEATER, HONEST)
        if p is None or self.view(p.address).status != OPEN:
            return False
        book = self.book(p)
        caller = p.address if p.kind == CHEATER else self.hub
        v = self.view(p.address)
        stale = [
            s for s in book.history if s.state.tx_count[0] > v.tx_global and s is not book.final
        ]
        if not stale or self.rng.random() < 0.15:
            if book.final is None or book.final.state.tx_count[0] <= v.tx_global:
                return False
            return self.send_user_call(
                "startExit",
                p,
                caller=caller,
                label=f"{self.name(caller)} exits {p.name}'s channel on a stale stored state",
            )
        signed = self.rng.choice(stale)
        s = signed.state
        label = (
            f"{self.name(caller)} exits {p.name}'s channel on the stale state {s.tx_count} (newest "
            f"{book.final.state.tx_count if book.final else None})"
        )
        return self.send_double_signed("startExitWithUpdate", p, signed, caller=caller, label=label)

    def act_cheater_answer(self) -> bool:
        """A cheater that did not start the dispute answers it with an old state."""
        disputed = self.channels_in(CHANNEL_DISPUTE, (CHEATER,))
        if not disputed:
            return False
        p = self.rng.choice(disputed)
        book = self.book(p)
        if not book.history:
            return False
        signed = self.rng.choice(book.history)
        s = signed.state
        label = f"{p.name} answers its own channel's dispute with the old state {s.tx_count}"
        return self.send_double_signed(
            "emptyChannelWithChallenge", p, signed, caller=p.address, label=label
        )

    def act_delegate(self) -> bool:
        """EIP-7702: a cheater or puppet delegates to code refusing every ERC-1271 query (trying
        to revoke what its key signed), an honest user to code refusing ETH (payouts become
        credits); anyone to code that re-enters the manager from every ETH payment it receives;
        or a delegation is removed."""
        p = self.rng.choice(self.w.parties)
        chain = self.ep.chain
        if chain.code(p.address) and self.rng.random() < 0.5:
            chain.delegate(p.address, None)
            self.ep.note(f"{p.name} removes its delegation")
            return True
        r = self.rng.random()
        if r < 0.3:
            target, what = self.w.reenterer, "re-enters the manager from every ETH payment"
        elif p.kind == HONEST or r < 0.5:
            target, what = self.w.rejecter, "refuses ETH"
        else:
            target, what = self.w.revoker, "refuses every ERC-1271 signature"
        chain.delegate(p.address, target)
        self.ep.note(f"{p.name} delegates its address (EIP-7702) to code that {what}")
        return True

    def act_token_mischief(self) -> bool:
        """The hostile token turns against a recipient (a revert or a `false` return: a
        blacklist), forgives it, or starts or stops keeping a fee back from pulls."""
        if self.w.config.token != "hostile":
            return False
        chain, token = self.ep.chain, self.w.token
        if self.rng.random() < 0.25:
            # One unit of the token's smallest denomination: the smallest shortfall there is,
            # which must still be refused.
            fee = 0 if self.w.token_fee else 1
            self.w.token_fee = fee
            chain.transact(token, "setPullFee", fee, sender=self.w.stranger)
            self.ep.note(f"the token keeps {fee} back from every pull")
            return True
        p = self.rng.choice(self.w.parties)
        address = p.address if self.rng.random() < 0.7 else p.cold
        how = self.rng.choice((0, 1, 2))
        self.w.token_refusals[address] = how
        chain.transact(token, "setRefusal", address, how, sender=self.w.stranger)
        self.ep.note(
            f"the token {('accepts', 'reverts transfers to', 'returns false for')[how]} {self.name(address)}"
        )
        return True
