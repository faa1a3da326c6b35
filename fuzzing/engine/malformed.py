"""Bad inputs: each takes a plausible call of one function and breaks exactly one of its checks
(docs/protocol.md §5–§8 list them in order): the caller, the user, the channel's status, the
timeout, the storage limits, the counters, the totals, a signature, the thread state, the proof,
the thread window. They exercise every refusal of the outcome table and let the oracle check
that a refused call changes nothing (a refusal of a genuine key signature is itself a failure).
"""

from __future__ import annotations

from typing import Any

from channel_manager.signing import SECP256K1_N
from fuzzing.engine.adversary import Adversary
from fuzzing.engine.books import HONEST, PUPPET, Party
from fuzzing.engine.calls import Call
from fuzzing.engine.fast import derived_key, evolve, thread_state
from fuzzing.engine.reader import CHANNEL_DISPUTE, OPEN, THREAD_DISPUTE

ZERO = "0x0000000000000000000000000000000000000000"
#: Signs what honest parties did not: a key that belongs to no party.
FORGER = derived_key("forger")
CHANNEL_FUNCTIONS = (
    "hubAuthorizedUpdate",
    "userAuthorizedUpdate",
    "startExitWithUpdate",
    "emptyChannelWithChallenge",
)
CHANNEL_FLAWS = (
    "user",
    "caller",
    "status",
    "timeout",
    "range",
    "stale",
    "stale_onchain",
    "exceed",
    "funds",
    "executed",
    "value",
    "hub_sig",
    "user_sig",
)
PENDING_FIELDS = ("pending_wei_updates", "pending_token_updates")
#: The contract's range checks in the order it names the first offending value (§2), and widths.
RANGE_ORDER: tuple[tuple[str, int | None], ...] = (
    *((name, i) for i in range(2) for name in ("wei_balances", "token_balances", "tx_count")),
    *((name, i) for i in range(4) for name in PENDING_FIELDS),
    ("thread_count", None),
)
RANGE_BITS = {
    "wei_balances": 128,
    "token_balances": 128,
    "pending_wei_updates": 128,
    "pending_token_updates": 128,
    "tx_count": 64,
    "thread_count": 32,
}
THREAD_FLAWS = (
    "user",
    "caller",
    "status",
    "parties",
    "not_party",
    "not_initial",
    "range",
    "signature",
    "proof",
    "disputed",
    "mismatch",
    "sums",
    "not_newer",
    "update_signature",
)


def broken(sig: bytes, how: int) -> bytes:
    """A signature that is not a valid key signature of its signer."""
    if how == 0:  # the high-s twin of a valid signature (same signer, refused by ECDSA.tryRecover)
        s = SECP256K1_N - int.from_bytes(sig[32:64], "big")
        return sig[:32] + s.to_bytes(32, "big") + bytes((55 - sig[64],))
    if how == 1:
        return sig[:64] + bytes((sig[64] - 27,))  # v of 0/1
    if how == 2:
        return sig[:64]  # the 64-byte compact form
    if how == 3:
        return bytes((sig[0] ^ 1,)) + sig[1:]  # another signer, or none
    return b""


class Malformed(Adversary):
    def act_malformed(self) -> bool:
        r = self.rng.random()
        if r < 0.45:
            return self.bad_channel_call()
        if r < 0.85:
            return self.bad_thread_call()
        return self.bad_money_call()

    # ------------------------------------------------------------------ channel states
    def bad_channel_call(self) -> bool:
        rng = self.rng
        fn = rng.choice(CHANNEL_FUNCTIONS)
        flaw = rng.choice(CHANNEL_FLAWS)
        wanted = CHANNEL_DISPUTE if fn == "emptyChannelWithChallenge" else OPEN
        if flaw == "status":
            wanted = (
                OPEN if wanted == CHANNEL_DISPUTE else rng.choice((CHANNEL_DISPUTE, THREAD_DISPUTE))
            )
        candidates = self.channels_in(wanted) or list(self.w.parties)
        p = rng.choice(candidates)
        v = self.view(p.address)
        book = self.book(p)
        base = book.current
        s = evolve(
            base,
            tx_count=(v.tx_global + 1, max(v.tx_chain, base.tx_count[1])),
            timeout=0,
            wei_balances=(0, 0),
            token_balances=(0, 0),
        )
        if fn in ("hubAuthorizedUpdate", "userAuthorizedUpdate"):
            s = evolve(s, pending_wei_updates=(0, 0, 0, 0), pending_token_updates=(0, 0, 0, 0))
        caller = {"hubAuthorizedUpdate": self.hub, "userAuthorizedUpdate": p.address}.get(fn)
        if caller is None:
            caller = (
                p.address if fn == "startExitWithUpdate" or v.initiator == self.hub else self.hub
            )
        value = 0
        signer_ok = True
        if flaw == "user":
            s = evolve(s, user=rng.choice((ZERO, self.hub, self.w.manager.address)))
            signer_ok = False
            if fn == "userAuthorizedUpdate" and s.user == self.hub:
                caller = self.hub  # the only invalid user that can send a transaction
        elif flaw == "caller":
            caller = rng.choice(
                (
                    self.w.stranger,
                    self.other(p).address,
                    self.hub if fn == "userAuthorizedUpdate" else p.address,
                )
            )
        elif flaw == "timeout":
            s = evolve(
                s,
                timeout=self.now
                if fn in ("hubAuthorizedUpdate", "userAuthorizedUpdate")
                else self.now + 100,
            )
        elif flaw == "range":
            s = self.out_of_range(s, keep_deposit=fn == "userAuthorizedUpdate")
        elif flaw == "stale":
            s = evolve(s, tx_count=(v.tx_global, s.tx_count[1]))
        elif flaw == "stale_onchain":
            if v.tx_chain == 0:
                return False
            s = evolve(s, tx_count=(s.tx_count[0], v.tx_chain - 1))
        elif flaw == "exceed":
            s = evolve(s, wei_balances=(v.wei_total + self.w.unit, 0))
        elif (
            flaw == "funds"
        ):  # a withdrawal, the hub's or the user's, larger than the channel holds
            asset = rng.randrange(2)
            pending = [0, 0, 0, 0]
            pending[rng.choice((1, 3))] = (v.wei_total, v.token_total)[asset] + rng.choice(
                (1, self.w.unit)
            )
            s = evolve(
                s,
                tx_count=(s.tx_count[0], v.tx_chain + 1),
                **{PENDING_FIELDS[asset]: tuple(pending)},
            )
        elif flaw == "executed":  # pending updates at the stored onchain count: already executed
            # Any one of the eight pending words alone must count as pending.
            word = rng.randrange(8)
            pending = [0] * 8
            pending[word] = self.w.unit
            s = evolve(
                s,
                pending_wei_updates=tuple(pending[:4]),
                pending_token_updates=tuple(pending[4:]),
                tx_count=(s.tx_count[0], v.tx_chain),
            )
        if fn == "userAuthorizedUpdate":
            value = s.pending_wei_updates[2] + (self.w.unit if flaw == "value" else 0)
        digest = self.w.hasher.channel_digest(s)
        sig_hub, sig_user = self.w.hub_key.sign(digest), p.key.sign(digest)
        genuine = signer_ok
        if p.kind != PUPPET:
            # The hub and this user never sign such a state together (only with a puppet does the
            # hub sign anything): the call carries signatures they did not make.
            sig_hub, sig_user = FORGER.sign(digest), FORGER.sign(digest)
            genuine = False
        elif flaw == "hub_sig":
            sig_hub, genuine = broken(sig_hub, rng.randrange(5)), False
        elif flaw == "user_sig":
            sig_user, genuine = broken(sig_user, rng.randrange(5)), False
        if fn == "hubAuthorizedUpdate":
            args: tuple[Any, ...] = (s.to_tuple(), sig_user)
        elif fn == "userAuthorizedUpdate":
            args = (s.to_tuple(), sig_hub)
        else:
            args = (s.to_tuple(), sig_hub, sig_user)
        self.send(
            Call(
                fn,
                args,
                caller,
                f"{self.name(caller)} calls {fn} for {p.name} with a flaw: {flaw}",
                value=value,
                users=(s.user,) if s.user == p.address else (),
                payees=(s.recipient,),
                genuine=genuine,
                state=s,
            )
        )
        return True

    def out_of_range(self, s: Any, keep_deposit: bool) -> Any:
        """A state with one value too wide for its packed field and, often, an earlier one at its
        field's exact maximum: the contract must name the first offending value in its fixed
        order (docs/protocol.md §2), so a bound off by one shows in the error's argument.
        `keep_deposit`: the user's ETH deposit is sent along, so it stays payable."""
        rng = self.rng
        order = [
            pos for pos in RANGE_ORDER if not (keep_deposit and pos == ("pending_wei_updates", 2))
        ]
        over = rng.randrange(1, len(order)) if rng.random() < 0.8 else rng.randrange(len(order))
        marks = {order[over]: 1}
        if over and rng.random() < 0.8:
            marks[order[rng.randrange(over)]] = 0
        fields: dict[str, Any] = {}
        for (name, i), extra in marks.items():
            limit = 2 ** RANGE_BITS[name] - 1 + extra * rng.choice((1, 1, 2**64))
            if i is None:
                fields[name] = limit
                continue
            values = list(fields.get(name, getattr(s, name)))
            values[i] = limit
            fields[name] = tuple(values)
        return evolve(s, **fields)

    def sign_as(self, sender: Party, state: Any) -> bytes:
        """A thread sender's signature over `state`: an adversarial sender signs anything; for an
        honest sender only what it really signed is available, anything else gets a signature
        it did not make."""
        if sender.kind != HONEST:
            return sender.key.sign(self.w.hasher.thread_digest(state))
        tb = self.ep.thread_books.get(state.key)
        if tb is not None:
            for signed, sig in tb.signed:
                if signed == state:
                    return sig
        return FORGER.sign(self.w.hasher.thread_digest(state))

    def is_genuine(self, sender: Party, state: Any, sig: bytes) -> bool:
        return sig == sender.key.sign(self.w.hasher.thread_digest(state))

    def other(self, p: Party) -> Party:
        return self.rng.choice([q for q in self.w.parties if q is not p])

    # ------------------------------------------------------------------ thread states
    def bad_thread_call(self) -> bool:
        rng = self.rng
        flaw = rng.choice(THREAD_FLAWS)
        in_dispute = self.channels_in(THREAD_DISPUTE)
        p = (
            rng.choice(in_dispute)
            if in_dispute and flaw != "status"
            else rng.choice(self.w.parties)
        )
        v = self.view(p.address)
        leaves = self.ep.roots.leaves(v.root) if v.status == THREAD_DISPUTE else ()
        if leaves:
            leaf = rng.choice(leaves)
        else:
            other = self.other(p)
            leaf = thread_state(
                p.address, other.address, rng.randint(1, 3), (self.w.unit, 0), (0, 0), 0
            )
        sender = self.w.by_address.get(leaf.sender)
        if sender is None:
            return False
        # An honest user makes no such call: for its channel the (colluding) hub makes it.
        user, caller = p.address, p.address if p.kind != HONEST else self.hub
        proof = self.ep.roots.proof(v.root, leaf)
        initial = leaf
        fn = rng.choice(("startExitThread", "startExitThreadWithUpdate", "emptyThread"))
        if flaw == "user":
            user = rng.choice((ZERO, self.hub, self.w.manager.address))
        elif flaw == "caller":
            caller = self.w.stranger
        elif flaw == "parties":
            initial = evolve(leaf, receiver=rng.choice((leaf.sender, ZERO, self.hub)))
        elif flaw == "not_party":
            user = rng.choice(
                [q.address for q in self.w.parties if q.address not in (leaf.sender, leaf.receiver)]
            )
        elif flaw == "not_initial":
            initial = (
                evolve(leaf, tx_count=1)
                if rng.random() < 0.5
                else evolve(leaf, wei_balances=(leaf.wei_balances[0], 1))
            )
        elif flaw == "range":  # at or above the 96-bit limit of thread amounts
            wide = rng.choice((2**96 - 1, 2**96, 2**96 + 1))
            initial = (
                evolve(leaf, wei_balances=(wide, 0))
                if rng.random() < 0.5
                else evolve(leaf, token_balances=(wide, 0))
            )
        elif flaw == "proof":
            proof = [bytes(32)] if rng.random() < 0.5 else []
            initial = evolve(leaf, thread_id=leaf.thread_id + 100)
        elif flaw == "disputed":
            fn = rng.choice(("startExitThread", "startExitThreadWithUpdate"))
        elif flaw in ("mismatch", "sums", "not_newer", "update_signature"):
            fn = "startExitThreadWithUpdate" if rng.random() < 0.5 else "challengeThread"
        sig = self.sign_as(sender, initial)
        genuine_initial = self.is_genuine(sender, initial, sig)
        if flaw == "signature":
            sig, genuine_initial = broken(sig, rng.randrange(5)), False
        w0, t0 = initial.wei_balances[0], initial.token_balances[0]
        update = thread_state(
            initial.sender, initial.receiver, initial.thread_id, (w0 // 2, w0 - w0 // 2), (t0, 0), 1
        )
        if flaw == "mismatch":
            update = evolve(update, thread_id=update.thread_id + 1)
        elif flaw == "sums":
            update = evolve(
                update, wei_balances=(update.wei_balances[0], update.wei_balances[1] + self.w.unit)
            )
        elif flaw == "not_newer":
            update = evolve(initial, tx_count=7)
        sig_update = self.sign_as(sender, update)
        genuine_update = self.is_genuine(sender, update, sig_update)
        if flaw == "update_signature":
            sig_update, genuine_update = broken(sig_update, rng.randrange(5)), False
        name = self.ep.thread_name(leaf.key)
        label = f"{self.name(caller)} calls {fn} for {self.name(user)} on thread {name} with a flaw: {flaw}"
        users = (user,) if user in self.ep.books else ()
        if fn == "challengeThread":
            key = update.key
            if flaw == "caller":
                caller = self.w.stranger
            elif rng.random() < 0.3:  # a record whose window has closed, or none at all
                closed = [
                    k for k, tv in self.ep.oracle.thread_views.items() if 0 < tv.closing <= self.now
                ]
                if closed:
                    key = rng.choice(closed)
                    tv = self.ep.oracle.thread_views[key]
                    update = thread_state(
                        key[0], key[1], key[2], (0, tv.sums[0]), (0, tv.sums[1]), 9
                    )
                    signer = self.w.by_address.get(key[0])
                    if signer is None:
                        return False
                    sig_update = self.sign_as(signer, update)
                    genuine_update = self.is_genuine(signer, update, sig_update)
            self.send(
                Call(
                    "challengeThread",
                    (update.to_tuple(), sig_update),
                    caller,
                    label,
                    thread=update.key,
                    genuine=genuine_update,
                )
            )
            return True
        if fn == "startExitThreadWithUpdate":
            args: tuple[Any, ...] = (
                user,
                initial.to_tuple(),
                proof,
                sig,
                update.to_tuple(),
                sig_update,
            )
            genuine = genuine_initial and genuine_update
        else:
            args = (user, initial.to_tuple(), proof, sig)
            genuine = genuine_initial
        self.send(
            Call(
                fn,
                args,
                caller,
                label,
                users=users,
                thread=initial.key,
                initial=initial,
                genuine=genuine,
            )
        )
        return True

    # ------------------------------------------------------------------ money
    def bad_money_call(self) -> bool:
        rng = self.rng
        p = rng.choice(self.w.parties)
        kind = rng.randrange(5)
        if kind >= 3:  # the calls that name only a user: an invalid one, a stranger, a wrong status
            fn = rng.choice(("startExit", "emptyChannel", "nukeThreads"))
            user = rng.choice((ZERO, self.hub, self.w.manager.address, p.address))
            caller = rng.choice(
                (self.w.stranger, self.hub, p.address if p.kind != HONEST else self.hub)
            )
            self.send(
                Call(
                    fn,
                    (user,),
                    caller,
                    f"{self.name(caller)} calls {fn}({self.name(user)})",
                    users=(user,) if user == p.address else (),
                )
            )
            return True
        if kind == 0:
            self.send(
                Call(
                    "hubContractWithdraw",
                    (self.w.unit, 0),
                    p.address,
                    f"{p.name} calls hubContractWithdraw",
                )
            )
            return True
        to = rng.choice((ZERO, self.w.manager.address, self.w.rejecter.address, p.cold))
        self.send(
            Call(
                "claim",
                (to,),
                p.address,
                f"{p.name} claims to {self.name(to)}",
                users=(p.address,),
                payees=(to,) if to != ZERO else (),
            )
        )
        return True
