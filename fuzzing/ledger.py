"""Off-chain side of a channel walk: what the hub and each user have signed or received.

Pure Python (no brownie), shared by the chain-backed machine
(`tests/stateful/test_channel_machine.py`) and the model-only benchmark
(`research/model_benchmark.py`); it lives here so neither imports the other's folder. Signing is
injected: `sign_channel(state, signer) -> bytes`, `sign_thread(state, signer) -> bytes`.

Every double-signed channel state goes into `history[user]` as a `Signed` record (state, hub
signature, user signature), oldest first; `newest(user)` is the last one. Both parties hold the
same history (they exchanged every signature), so "submit any state from your history" covers
stale and newest submissions by either side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from channel_manager import transitions
from channel_manager.merkle import MerkleTree
from channel_manager.states import ChannelState, ThreadState


@dataclass(frozen=True)
class Signed:
    state: ChannelState
    sig_hub: bytes
    sig_user: bytes


@dataclass
class OpenThread:
    initial: ThreadState
    sig_initial: bytes
    updates: list[tuple[ThreadState, bytes]] = field(default_factory=list)  # sender-signed

    @property
    def newest(self) -> tuple[ThreadState, bytes]:
        return self.updates[-1] if self.updates else (self.initial, self.sig_initial)


class Ledger:
    def __init__(
        self,
        hub: str,
        users: list[str],
        sign_channel: Callable[[ChannelState, str], bytes],
        sign_thread: Callable[[ThreadState, str], bytes],
    ) -> None:
        self.hub = hub
        self.users = list(users)
        self.sign_channel = sign_channel
        self.sign_thread = sign_thread
        self.history: dict[str, list[Signed]] = {u: [] for u in users}
        # threads locked in each user's channel (as sender or receiver), in root order
        self.threads: dict[str, list[OpenThread]] = {u: [] for u in users}
        self.next_thread_id = 1
        # (user, threadRoot) -> the threads that root was built over (for proofs later)
        self.roots: dict[tuple[str, bytes], list[OpenThread]] = {}
        self.recipient: dict[str, str] = {u: u for u in users}

    # ------------------------------------------------------------------ basics
    def newest(self, user: str) -> ChannelState:
        h = self.history[user]
        return h[-1].state if h else ChannelState(user, self.recipient[user])

    def sign(self, state: ChannelState, record: bool = True) -> Signed:
        """Both signatures; `record=False` for states an honest party would never sign (they
        join the history only if the chain accepts them)."""
        rec = Signed(
            state, self.sign_channel(state, self.hub), self.sign_channel(state, state.user)
        )
        if record:
            self.history[state.user].append(rec)
        return rec

    def settled_newest(self, user: str) -> ChannelState:
        """The newest state, with pending updates settled if any is outstanding (so callers can
        build on it): a proposal still pending is voided."""
        s = self.newest(user)
        return transitions.void_pending(s) if s.has_pending else s

    # ------------------------------------------------------------------ channel transitions
    def propose_deposit(self, user: str, **amounts: int) -> Signed:
        base = self._clean_base(user)
        return self.sign(transitions.propose_deposit(base, **amounts))

    def propose_withdrawal(self, user: str, **amounts: int) -> Signed:
        base = self._clean_base(user)
        return self.sign(transitions.propose_withdrawal(base, **amounts))

    def acknowledge(self, user: str) -> Signed:
        return self.sign(transitions.acknowledge(self.newest(user)))

    def void(self, user: str) -> Signed:
        return self.sign(transitions.void_pending(self.newest(user)))

    def pay(self, user: str, to_hub: bool, wei: int, token: int) -> Signed | None:
        base = self._clean_base(user)
        src = 1 if to_hub else 0
        wei = min(wei, base.wei_balances[src])
        token = min(token, base.token_balances[src])
        if not wei and not token:
            return None
        return self.sign(transitions.pay(base, to_hub=to_hub, wei=wei, token=token))

    def swap(self, user: str, token_in: int, wei_out: int) -> Signed | None:
        """The user sells `token_in` tokens for `wei_out` wei (both capped by balances)."""
        base = self._clean_base(user)
        token_in = min(token_in, base.token_balances[1])
        wei_out = min(wei_out, base.wei_balances[0])
        if not token_in and not wei_out:
            return None
        return self.sign(transitions.swap(base, user_sells_token=token_in, user_buys_wei=wei_out))

    def _clean_base(self, user: str) -> ChannelState:
        s = self.newest(user)
        if s.has_pending:
            # an unexecuted proposal is dropped (as after its timeout) before anything new
            s = self.void(user).state
        return s

    # ------------------------------------------------------------------ threads
    def _with_threads(self, user: str, base: ChannelState, **changes: object) -> ChannelState:
        tree = MerkleTree.of_threads([t.initial for t in self.threads[user]])
        self.roots[(user, bytes(tree.root))] = list(self.threads[user])
        g, c = base.tx_count
        return base.evolve(
            tx_count=(g + 1, c),
            thread_root=tree.root,
            thread_count=len(self.threads[user]),
            **changes,
        )

    def _new_thread(
        self, sender: str, receiver: str, wei: int, token: int
    ) -> tuple[ChannelState, ChannelState, ThreadState] | None:
        """Both channels' clean states and the initial state of a new thread of `wei`/`token`,
        capped by what the sender's user side and the receiver channel's hub side hold (None:
        nothing to lock)."""
        sb, rb = self._clean_base(sender), self._clean_base(receiver)
        wei = min(wei, sb.wei_balances[1], rb.wei_balances[0])
        token = min(token, sb.token_balances[1], rb.token_balances[0])
        if not wei and not token:
            return None
        initial = ThreadState(sender, receiver, self.next_thread_id, (wei, 0), (token, 0), 0)
        self.next_thread_id += 1
        return sb, rb, initial

    def _lock(
        self,
        sender: str,
        sb: ChannelState,
        in_sender: ThreadState,
        receiver: str,
        rb: ChannelState,
        in_receiver: ThreadState,
    ) -> None:
        """Sign both channels' next states, each committing to its threads: the sender's user
        balance and the receiver channel's hub balance lose the initial state's amounts."""
        (ws, _), (tks, _) = in_sender.wei_balances, in_sender.token_balances
        (wr, _), (tkr, _) = in_receiver.wei_balances, in_receiver.token_balances
        self.sign(
            self._with_threads(
                sender,
                sb,
                wei_balances=(sb.wei_balances[0], sb.wei_balances[1] - ws),
                token_balances=(sb.token_balances[0], sb.token_balances[1] - tks),
            )
        )
        self.sign(
            self._with_threads(
                receiver,
                rb,
                wei_balances=(rb.wei_balances[0] - wr, rb.wei_balances[1]),
                token_balances=(rb.token_balances[0] - tkr, rb.token_balances[1]),
            )
        )

    def open_thread(self, sender: str, receiver: str, wei: int, token: int) -> OpenThread | None:
        """Locks `wei`/`token` of the sender's user balance in the sender's channel and the same
        amount of the hub's balance in the receiver's channel (docs/protocol.md §8)."""
        new = self._new_thread(sender, receiver, wei, token)
        if new is None:
            return None
        sb, rb, initial = new
        t = OpenThread(initial, self.sign_thread(initial, sender))
        self.threads[sender].append(t)
        self.threads[receiver].append(t)
        self._lock(sender, sb, initial, receiver, rb, initial)
        return t

    def open_conflicting_thread(
        self, sender: str, receiver: str, wei: int, token: int, big_in_receiver: bool
    ) -> tuple[OpenThread, OpenThread] | None:
        """Issue H-1's setting, which only a colluding hub and sender sign (docs/protocol.md §8):
        two initial states for one thread key, `big` (the amounts asked) and `small` (a quarter
        of them), each locked in and committed to by one channel. Returns (the sender channel's
        thread, the receiver channel's thread)."""
        new = self._new_thread(sender, receiver, wei, token)
        if new is None:
            return None
        sb, rb, big = new
        (wei, _), (token, _) = big.wei_balances, big.token_balances
        small = big.evolve(wei_balances=(wei // 4, 0), token_balances=(token // 4, 0))
        in_sender, in_receiver = (small, big) if big_in_receiver else (big, small)
        ts = OpenThread(in_sender, self.sign_thread(in_sender, sender))
        tr = OpenThread(in_receiver, self.sign_thread(in_receiver, sender))
        self.threads[sender].append(ts)
        self.threads[receiver].append(tr)
        self._lock(sender, sb, in_sender, receiver, rb, in_receiver)
        return ts, tr

    def thread_pay(self, t: OpenThread, wei: int, token: int) -> tuple[ThreadState, bytes] | None:
        s, _ = t.newest
        wei, token = min(wei, s.wei_balances[0]), min(token, s.token_balances[0])
        if not wei and not token:
            return None  # a payment of nothing would not be newer on chain (ThreadStateNotNewer)
        new = s.evolve(
            wei_balances=(s.wei_balances[0] - wei, s.wei_balances[1] + wei),
            token_balances=(s.token_balances[0] - token, s.token_balances[1] + token),
            tx_count=s.tx_count + 1,
        )
        rec = (new, self.sign_thread(new, s.sender))
        t.updates.append(rec)
        return rec

    def proof(
        self, user: str, t: OpenThread, threads: list[OpenThread] | None = None
    ) -> list[bytes]:
        tree = MerkleTree.of_threads(
            [x.initial for x in (threads if threads is not None else self.threads[user])]
        )
        return tree.thread_proof(t.initial)

    def forget_threads(self, user: str) -> None:
        """After the user's channel was emptied, new states start with no threads (the chain
        keeps the disputed ones until settled)."""
        self.threads[user] = []

    def restart_after_empty(self, user: str, chain_tx: tuple[int, int]) -> Signed:
        """The channel was emptied on-chain: both sides continue from a fresh state with zero
        balances, no threads, and counts above everything seen on-chain or signed."""
        self.forget_threads(user)
        old = self.newest(user)
        g = max(old.tx_count[0], chain_tx[0]) + 1
        c = max(old.tx_count[1], chain_tx[1])
        return self.sign(ChannelState(user, self.recipient[user], tx_count=(g, c)))
