"""Bad inputs: wrong callers, invalid users, broken signatures, values beyond the storage
limits, malformed thread states. They exercise every refusal (the outcome table) and let the
oracle check that a refused call changes nothing it can see."""

from __future__ import annotations

from fuzzing.engine.adversary import Adversary
from fuzzing.engine.books import PUPPET
from fuzzing.engine.calls import Call
from fuzzing.engine.fast import evolve, thread_state
from fuzzing.engine.reader import THREAD_DISPUTE
from fuzzing.engine.world import UNIT

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ZERO = "0x0000000000000000000000000000000000000000"


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
        rng = self.rng
        kind = rng.randrange(9)
        p = rng.choice(self.w.parties)
        book = self.book(p)
        name = p.name
        if kind == 0:  # who may call
            fn = rng.choice(("startExit", "hubContractWithdraw", "emptyChannel", "nukeThreads"))
            if fn == "hubContractWithdraw":
                self.send(Call(fn, (0, 0), p.address, f"{name} calls hubContractWithdraw"))
            else:
                caller = self.w.stranger if fn == "startExit" else p.address
                self.send(Call(fn, (p.address,), caller, f"{self.name(caller)} calls {fn}({name})",
                               users=(p.address,)))
            return True
        if kind == 1:  # invalid users
            user = rng.choice((ZERO, self.hub, self.w.manager.address))
            fn = rng.choice(("startExit", "emptyChannel", "nukeThreads"))
            self.send(Call(fn, (user,), self.hub, f"hub calls {fn}({self.name(user)})"))
            return True
        signed = book.final or (book.history[-1] if book.history else None)
        if kind in (2, 3) and signed is not None:  # broken signatures
            s = signed.state
            how = rng.randrange(5)
            fn = rng.choice(("startExitWithUpdate", "hubAuthorizedUpdate", "userAuthorizedUpdate"))
            if fn == "startExitWithUpdate":
                sigs = (broken(signed.sig_hub, how), signed.sig_user) if kind == 2 else \
                    (signed.sig_hub, broken(signed.sig_user, how))
                self.send(Call(fn, (s.to_tuple(), *sigs), p.address, f"{name} exits with a broken signature "
                               f"(kind {how})", users=(p.address,), state=s))
            elif fn == "hubAuthorizedUpdate":
                self.send(Call(fn, (s.to_tuple(), broken(signed.sig_user, how)), self.hub,
                               f"hub submits {name}'s state with a broken user signature (kind {how})",
                               users=(p.address,), payees=(s.recipient,), state=s))
            else:
                self.send(Call(fn, (s.to_tuple(), broken(signed.sig_hub, how)), p.address,
                               f"{name} submits its state with a broken hub signature (kind {how})",
                               value=s.pending_wei_updates[2], users=(p.address,), payees=(s.recipient,), state=s))
            return True
        if kind == 4 and signed is not None:  # beyond the storage limits, and a wrong deposit value
            s = signed.state
            field = rng.choice(("wei", "tx", "count", "value"))
            if field == "wei":
                bad = evolve(s, wei_balances=(2**128, 0))
            elif field == "tx":
                bad = evolve(s, tx_count=(2**64, s.tx_count[1]))
            elif field == "count":
                bad = evolve(s, thread_count=2**32)
            else:
                bad = s
            digest = self.w.hasher.channel_digest(bad)
            value = bad.pending_wei_updates[2] + (1 if field == "value" else 0)
            self.send(Call("userAuthorizedUpdate", (bad.to_tuple(), self.w.hub_key.sign(digest)), p.address,
                           f"{name} submits a state with {field} out of range", value=value, users=(p.address,),
                           payees=(bad.recipient,), genuine=True, state=bad))
            return True
        if kind == 5:  # malformed thread states
            other = rng.choice([q for q in self.w.parties if q is not p])
            variant = rng.randrange(4)
            sender, receiver = p.address, other.address
            wei = (UNIT, 0)
            tx = 0
            if variant == 0:
                receiver = sender
            elif variant == 1:
                tx = 1
            elif variant == 2:
                wei = (2**96, 0)
            initial = thread_state(sender, receiver, 99, wei, (0, 0), tx)
            user = p.address if variant != 3 else rng.choice([q.address for q in self.w.parties if q is not p
                                                               and q is not other])
            sig = p.key.sign(self.w.hasher.thread_digest(initial))
            fn = rng.choice(("startExitThread", "emptyThread"))
            self.send(Call(fn, (user, initial.to_tuple(), [], sig), self.hub,
                           f"hub calls {fn} with a malformed thread state (variant {variant})",
                           users=(user,), thread=initial.key, initial=initial, genuine=True))
            return True
        if kind == 6:  # thread calls on the wrong thread or by the wrong party
            tb_list = list(self.ep.thread_books.values())
            if not tb_list:
                return False
            tb = rng.choice(tb_list)
            n = tb.newest
            if rng.random() < 0.5:
                self.send(Call("challengeThread", (n.to_tuple(), tb.sig_newest), self.w.stranger,
                               f"stranger challenges thread {self.ep.thread_name(tb.key)}", thread=tb.key,
                               genuine=True))
            else:
                other = evolve(n, thread_id=n.thread_id + 1000)
                sig = tb.sender.key.sign(self.w.hasher.thread_digest(other))
                self.send(Call("challengeThread", (other.to_tuple(), sig), tb.receiver.address,
                               f"{tb.receiver.name} challenges a thread never disputed", thread=other.key,
                               genuine=True))
            return True
        if kind == 7:  # claims
            to = rng.choice((ZERO, self.w.manager.address, p.cold))
            self.send(Call("claim", (to,), p.address, f"{name} claims to {self.name(to)}", users=(p.address,),
                           payees=(to,) if to != ZERO else ()))
            return True
        if kind == 8:  # a thread proof against a root that does not hold it
            in_dispute = self.channels_in(THREAD_DISPUTE)
            tb_list = [tb for tb in self.ep.thread_books.values()]
            if not in_dispute or not tb_list:
                return False
            q = rng.choice(in_dispute)
            tb = rng.choice(tb_list)
            self.send(Call("startExitThread", (q.address, tb.initial.to_tuple(), [], tb.sig_initial),
                           q.address if q.kind != PUPPET else self.hub,
                           f"{q.name} starts thread {self.ep.thread_name(tb.key)} with no proof",
                           users=(q.address,), thread=tb.key, initial=tb.initial, genuine=True))
            return True
        return False
