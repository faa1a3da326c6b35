"""Stateful differential test: the reference model (`channel_manager.model`) is the oracle of
the contract on a local anvil chain, over generated histories of a hub and three users.

Run: `brownie test tests/stateful --network anvil` (fast profile; any development network
works); `--profile deep` or `FUZZ_PROFILE=deep` for long campaigns; `FUZZ_SEED=<n>` replays a
seeded run.
"""

from __future__ import annotations

import gc
import os
import random
from collections import Counter, defaultdict

import pytest
from brownie import (
    ChannelManager,
    RevokingDelegate,
    StatefulRejectingUser,
    TestToken,
    accounts,
    chain,
    network,
    web3,
)
from brownie.exceptions import VirtualMachineError
from eth_keys import keys
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from channel_manager.aliases import MAX_TX_COUNT, ZERO_ADDRESS
from channel_manager.contract_views import (
    ChannelStatus,
    channel_balances,
    channel_details,
    thread_record,
)
from channel_manager.eip712 import Domain, channel_digest, thread_digest
from channel_manager.errors import ChannelError
from channel_manager.model import ChannelManagerModel, EcdsaOracle, Status, World
from channel_manager.states import ChannelState, ThreadState
from fuzzing.ledger import Ledger, Signed
from tests.fixtures.fuzz_profiles import profile_name
from tests.helpers import (
    CHALLENGE_PERIOD,
    ETHER,
    TOKEN,
    anvil_key,
    latest_timestamp,
    set_next_timestamp,
)

NUKE = 10 * CHALLENGE_PERIOD
GAS = 2_000_000  # explicit gas for raw same-block transactions

# Statistics collected across all examples of a process (read by research/campaign.py).
STATS: dict = {
    "sequences": 0,
    "steps": 0,
    "invariant_checks": 0,
    "calls": Counter(),  # "fn:ok" / "fn:ErrorName"
    "gas": defaultdict(list),  # fn -> gas used of successful transactions
    "disputes": Counter(),  # (initiator, answered_by, winner, boundary) -> count
    "races": Counter(),
}


# ---------------------------------------------------------------------------- environment


class Env:
    """One deployment per test process, snapshotted; every example reverts to it."""

    def __init__(self) -> None:
        self.hub = accounts[0]
        self.alice, self.bob = accounts[1], accounts[2]
        self.owner = accounts[4]  # key behind the rejecting contract user
        self.stranger = accounts[9]
        self.token = TestToken.deploy("Test Token", "TST", {"from": self.hub})
        self.manager = ChannelManager.deploy(
            self.hub, CHALLENGE_PERIOD, self.token, {"from": self.hub}
        )
        self.rej = StatefulRejectingUser.deploy(self.owner, {"from": self.owner})
        # EIP-7702 target: answers every ERC-1271 query "no", accepts ETH (issue M-1)
        self.revoker = RevokingDelegate.deploy({"from": self.hub})
        self.hub.transfer(self.manager, 40 * ETHER)
        self.token.mint(self.manager, 5_000 * TOKEN, {"from": self.hub})
        for user in (self.alice, self.bob):
            self.token.mint(user, 100_000 * TOKEN, {"from": user})
            self.token.approve(self.manager, 2**256 - 1, {"from": user})
        self.token.mint(self.rej, 100_000 * TOKEN, {"from": self.owner})
        self.rej.execute(
            self.token,
            self.token.approve.encode_input(self.manager, 2**256 - 1),
            {"from": self.owner},
        )
        self.users = [str(self.alice), str(self.bob), str(self.rej)]
        self.acct = {str(a): a for a in accounts}
        self.domain = Domain(chain.id, self.manager.address)
        self.keys = {str(accounts[i]): keys.PrivateKey(anvil_key(i)) for i in range(10)}
        self.keys[str(self.rej)] = self.keys[str(self.owner)]  # ERC-1271 by the owner's key
        chain.snapshot()
        gc.collect()
        gc.freeze()  # makes chain.revert()'s gc.collect() cheap (TOOLCHAIN.md)

    def sign_digest(self, signer: str, digest: bytes) -> bytes:
        sig = self.keys[signer].sign_msg_hash(digest)
        return sig.to_bytes()[:64] + bytes([sig.v + 27])


ENV: Env | None = None


def get_env() -> Env:
    global ENV
    if ENV is None:
        ENV = Env()
    return ENV


# ---------------------------------------------------------------------------- the machine

users_idx = st.integers(0, 2)
amounts = st.sampled_from([0, 1, 10**15, ETHER // 2, ETHER, 3 * ETHER, 60 * ETHER])
tokens = st.sampled_from([0, 1, TOKEN, 50 * TOKEN, 400 * TOKEN, 9_000 * TOKEN])
callers = st.sampled_from(["hub", "user", "stranger"])
BOUNDARIES = [
    "closing-1",
    "closing",
    "closing+1",
    "nuke-1",
    "nuke",
    "nuke+1",
    "thread-1",
    "thread",
    "timeout",
]


class ChannelMachine(RuleBasedStateMachine):
    """Hub, alice, bob and a griefing contract user (rejects ETH, signs by ERC-1271) against
    the deployed ChannelManager, with the reference model as oracle.

    Protocol v3's attacks are adversaries here too (docs/protocol.md §3, §5, §7, §8): a colluding
    hub and sender commit two initial states for one thread key in two channels
    (`conflicting_initial_states`, issue H-1), the sender signs thread states with any receiver
    balances and any txCount, unreachable ones included (`sender_signs_any_thread_state`, M-2),
    alice or bob delegate their EOA to code that answers every ERC-1271 query "no"
    (`delegate_eoa`, M-1), colluding states leave a surplus (`colluding_update`, L-1) and the
    contract is named as recipient (`withdraw`, `claim`, I-1).

    Why a plain `hypothesis.stateful.RuleBasedStateMachine` and not `brownie.test.state_machine`:
    brownie 1.22.2's wrapper is broken on Python 3.11 (`TypeError: _BrownieStateMachine object
    expected`, TOOLCHAIN.md) and ignores `@seed`/`@reproduce_failure`. Here the deployment is
    made once and snapshotted, every example starts with `chain.revert()` in `__init__`
    (`gc.freeze()` keeps that cheap), and the machine runs through
    `run_state_machine_as_test`, so seeds, failure blobs and the example database all work.

    Every chain action goes through `_act`: the model is asked first; if it predicts an error
    the chain must revert with exactly that error (the model is left untouched), otherwise the
    transaction must succeed and every stored field must then agree (`invariant_model_matches_chain`).
    """

    def __init__(self) -> None:
        super().__init__()
        env = self.env = get_env()
        chain.revert()
        self.m = env.manager
        self.t = latest_timestamp() + 1  # timestamp of the next transaction
        oracle = EcdsaOracle({str(env.rej): str(env.owner)})
        self.model = ChannelManagerModel(
            str(env.hub),
            CHALLENGE_PERIOD,
            self.m.address,
            chain.id,
            signatures=oracle,
            world=World(refuses_eth={str(env.rej)}),
        )
        self.model.receive_eth(self.m.balance())
        self.model.receive_tokens(env.token.balanceOf(self.m))
        self.ledger = Ledger(
            str(env.hub),
            env.users,
            lambda s, who: env.sign_digest(who, channel_digest(env.domain, s)),
            lambda t, who: env.sign_digest(who, thread_digest(env.domain, t)),
        )
        # ghost accounting (independent of the model): ETH and tokens into / out of the contract
        self.ghost_eth = self.m.balance()
        self.ghost_token = env.token.balanceOf(self.m)
        self.seen_tx: dict[str, tuple[int, int]] = {u: (0, 0) for u in env.users}
        self.executed_pending: set[tuple[str, int]] = set()
        self.honest_exit: dict[
            str, tuple
        ] = {}  # user -> (side, newest state it started the exit with)
        self.dispute_log: dict[str, dict] = {}
        # thread key -> per-asset maximum receiver balances of the states the chain accepted
        # (property 10.9: the receiver's side is paid at least that)
        self.shown_receiver: dict[tuple, tuple[int, int]] = {}
        self.full_teardown = os.environ.get("FUZZ_FULL_TEARDOWN", "") == "1"
        STATS["sequences"] += 1
        if os.environ.get("FUZZ_PROGRESS") and STATS["sequences"] % 10 == 0:
            import sys

            print(
                f"[progress] {STATS['sequences']} sequences, {STATS['steps']} steps, "
                f"{sum(STATS['calls'].values())} calls",
                file=sys.__stderr__,
                flush=True,
            )

    # ------------------------------------------------------------------ plumbing

    def _who(self, kind: str, user: str):
        return {"hub": self.env.hub, "user": user, "stranger": self.env.stranger}[kind]

    def _send(self, fn_name: str, args: tuple, sender, value: int = 0):
        """One transaction through brownie; a contract user sends through its `execute`."""
        fn = getattr(self.m, fn_name)
        if isinstance(sender, str) and sender != str(self.env.rej):
            sender = self.env.acct[sender]
        if str(sender) == str(self.env.rej):
            return self.env.rej.execute(
                self.m, fn.encode_input(*args), {"from": self.env.owner, "value": value}
            )
        return fn(*args, {"from": sender, "value": value})

    def _act_double_signed(self, fn_name: str, model_fn, rec: Signed, sender):
        """`_act` for a function taking a double-signed state: (state, sigHub, sigUser)."""
        sigs = (rec.sig_hub, rec.sig_user)
        return self._act(
            fn_name, model_fn, (rec.state, *sigs), (rec.state.to_tuple(), *sigs), sender
        )

    def _act(
        self, fn_name: str, model_fn, model_args: tuple, chain_args: tuple, sender, value: int = 0
    ):
        """Model first, then chain; returns the model's Outcome, or None if it (rightly) reverted."""
        now = self.t
        self.t += 1
        try:
            outcome = model_fn(str(sender), now, *model_args)
            predicted = None
        except ChannelError as exc:
            outcome, predicted = None, exc
        set_next_timestamp(now)
        paid = dict(outcome.paid_wei) if outcome else {}
        before = {a: web3.eth.get_balance(a) for a in paid}
        try:
            tx = self._send(fn_name, chain_args, sender, value)
        except VirtualMachineError as exc:
            STATS["calls"][f"{fn_name}:{predicted.name if predicted else 'UNEXPECTED'}"] += 1
            assert predicted is not None, (
                f"{fn_name}: model accepted, chain reverted with {exc.revert_msg!r}"
            )
            # brownie prints an argument-less custom error as "Name: "
            got = (exc.revert_msg or "").removesuffix(": ")
            assert got == predicted.revert_text(), (
                f"{fn_name}: chain reverted {exc.revert_msg!r}, model predicted {predicted.revert_text()!r}"
            )
            return None
        STATS["calls"][f"{fn_name}:{'ok' if predicted is None else 'UNEXPECTED'}"] += 1
        assert predicted is None, (
            f"{fn_name}: chain accepted, model predicted {predicted.revert_text()!r}"
        )
        assert tx.timestamp == now
        STATS["gas"][fn_name].append(tx.gas_used)
        # ghost accounting: what came in with the call, what left to whom (gas price is 0)
        self.ghost_eth += value
        for addr, amount in paid.items():
            self.ghost_eth -= amount
            if addr != str(sender) or str(sender) == str(self.env.rej):
                assert web3.eth.get_balance(addr) - before[addr] == amount, (
                    f"payout to {addr} not received"
                )
        for addr, amount in outcome.paid_token.items():
            if addr != self.m.address:
                self.ghost_token -= amount
        return outcome

    def _hub_update(self, s, sig_user, sender=None):
        """hubAuthorizedUpdate of `s`, sent by the hub unless `sender` is given."""
        return self._act(
            "hubAuthorizedUpdate",
            self.model.hub_authorized_update,
            (s, sig_user),
            (s.to_tuple(), sig_user),
            sender or self.env.hub,
        )

    def _user_update(self, s, sig_hub, sender, value=None):
        """userAuthorizedUpdate of `s` with msg.value `value` (default: the signed user deposit);
        a successful call's pulled token deposit enters the ghost accounting."""
        value = s.pending_wei_updates[2] if value is None else value
        out = self._act(
            "userAuthorizedUpdate",
            self.model.user_authorized_update,
            (s, sig_hub, value),
            (s.to_tuple(), sig_hub),
            sender,
            value,
        )
        if out is not None:
            self.ghost_token += s.pending_token_updates[2]
        return out

    def _chain_tx(self, user: str) -> tuple[int, int]:
        c = self.model.channel(user)
        return c.tx_count_global, c.tx_count_chain

    def _after_empty(self, user: str) -> None:
        self._check_nothing_stranded(user)
        self.ledger.restart_after_empty(user, self._chain_tx(user))
        self.honest_exit.pop(user, None)

    def _check_nothing_stranded(self, user: str) -> None:
        """docs/protocol.md §8: a channel that an emptying left Open holds nothing."""
        if channel_details(self.m, user).status == ChannelStatus.OPEN:
            bal = channel_balances(self.m, user)
            assert bal.wei_total == 0 and bal.token_total == 0, (
                f"{user}: {bal.wei_total} wei / {bal.token_total} tokens stranded in a reopened channel"
            )

    def _boundary_label(self, user: str) -> str:
        c = self.model.channel(user)
        now = self.t - 1
        if c.closing_time == 0:
            return "-"
        d = now - c.closing_time
        return "closing" + (f"{d:+d}" if abs(d) <= 1 else (" (inside)" if d < 0 else " (after)"))

    # ------------------------------------------------------------------ cooperative updates

    @initialize(
        uw=st.sampled_from([ETHER, 5 * ETHER]),
        ut=st.sampled_from([0, 100 * TOKEN]),
        hw=st.sampled_from([0, 2 * ETHER]),
        ht=st.sampled_from([0, 100 * TOKEN]),
        thread=st.booleans(),
    )
    def open_channels(self, uw, ut, hw, ht, thread):
        """Hypothesis 6.27 draws short sequences (≈6 steps on average), so every history starts
        with funded channels (user and hub deposits, acknowledged) and maybe a thread."""
        for k in range(len(self.ledger.users)):
            self.deposit(k, uw, ut, hw, ht, by_hub=False, expiring=False, wrong_value=False)
        if thread:
            self.open_thread(0, 1, ETHER // 2, 0, 1)

    @rule(
        u=users_idx,
        uw=amounts,
        ut=tokens,
        hw=amounts,
        ht=tokens,
        by_hub=st.booleans(),
        expiring=st.booleans(),
        wrong_value=st.booleans(),
    )
    def deposit(self, u, uw, ut, hw, ht, by_hub, expiring, wrong_value):
        user = self.ledger.users[u]
        if by_hub:
            uw = ut = 0  # hubAuthorizedUpdate takes every deposit from the reserve
        if not any((uw, ut, hw, ht)):
            hw = ETHER
        timeout = self.t + 5 if expiring else 0
        if ut:
            ut = min(ut, self.env.token.balanceOf(user))
        rec = self.ledger.propose_deposit(
            user, user_wei=uw, user_token=ut, hub_wei=hw, hub_token=ht, timeout=timeout
        )
        s = rec.state
        if by_hub:
            out = self._hub_update(s, rec.sig_user)
        else:
            out = self._user_update(s, rec.sig_hub, user, uw + (1 if wrong_value and uw else 0))
        self._after_update(user, s, out)

    @rule(
        u=users_idx,
        fw=st.integers(0, 4),
        ft=st.integers(0, 4),
        by_hub=st.booleans(),
        to_contract=st.booleans(),
    )
    def withdraw(self, u, fw, ft, by_hub, to_contract):
        user = self.ledger.users[u]
        base = self.ledger.settled_newest(user)
        uw, ht = base.wei_balances[1] * fw // 4, base.token_balances[0] * ft // 4
        ut = base.token_balances[1] // 2 if fw == 4 else 0
        if not (uw or ht or ut):
            return
        recipient = self.m.address if (to_contract and fw == 1) else None
        rec = self.ledger.propose_withdrawal(
            user, user_wei=uw, user_token=ut, hub_token=ht, recipient=recipient
        )
        s = rec.state
        out = (
            self._hub_update(s, rec.sig_user) if by_hub else self._user_update(s, rec.sig_hub, user)
        )
        self._after_update(user, s, out)

    def _after_update(self, user: str, s, out) -> None:
        """An accepted update with pending fields: exactly-once execution (docs/protocol.md §10.3), checked
        on the chain's view, then the parties acknowledge it."""
        if out is None or not s.has_pending:
            return
        key = (user, s.tx_count[1])
        assert key not in self.executed_pending, f"pending updates of {key} executed twice"
        self.executed_pending.add(key)
        self.ledger.acknowledge(user)

    @rule(u=users_idx, to_hub=st.booleans(), wei=amounts, token=tokens)
    def pay(self, u, to_hub, wei, token):
        self.ledger.pay(self.ledger.users[u], to_hub, wei, token)

    @rule(u=users_idx, token_in=tokens, wei_out=amounts)
    def swap(self, u, token_in, wei_out):
        self.ledger.swap(self.ledger.users[u], token_in, wei_out)

    @rule(s=users_idx, r=users_idx, wei=amounts, token=tokens, pays=st.integers(0, 2))
    def open_thread(self, s, r, wei, token, pays):
        if s == r:
            return
        sender, receiver = self.ledger.users[s], self.ledger.users[r]
        if self.model.channel(sender).status or self.model.channel(receiver).status:
            return
        t = self.ledger.open_thread(sender, receiver, wei, token)
        for _ in range(pays if t else 0):
            self.ledger.thread_pay(
                t, t.initial.wei_balances[0] // 3, t.initial.token_balances[0] // 3
            )

    # ------------------------------------------------------------------ any state, any entry point

    @rule(
        u=users_idx,
        pick=st.integers(0, 15),
        newest=st.booleans(),
        entry=st.integers(0, 4),
        caller=callers,
        forge=st.sampled_from([None, None, None, "hub", "user"]),
    )
    def submit_from_history(self, u, pick, newest, entry, caller, forge):
        """Either party (or a stranger) submits any state it holds — stale or newest — through
        any entry point; sometimes with one signature forged (signed by the wrong key)."""
        user = self.ledger.users[u]
        hist = self.ledger.history[user]
        if not hist:
            return
        rec = hist[-1] if newest else hist[pick % len(hist)]
        if forge:
            digest = channel_digest(self.env.domain, rec.state)
            fake = self.env.sign_digest(str(self.env.stranger), digest)
            rec = (
                Signed(rec.state, fake, rec.sig_user)
                if forge == "hub"
                else Signed(rec.state, rec.sig_hub, fake)
            )
        s, who = rec.state, self._who(caller, user)
        if entry == 0:
            out = self._hub_update(s, rec.sig_user, who)
        elif entry == 1:
            out = self._user_update(s, rec.sig_hub, who)
        elif entry == 2:
            out = self._act_double_signed(
                "startExitWithUpdate", self.model.start_exit_with_update, rec, who
            )
            if out is not None and rec is hist[-1]:
                self.honest_exit[user] = (caller, s)
            if out is not None:
                self.dispute_log[user] = {"initiator": caller, "newest": rec is hist[-1]}
            return
        elif entry == 3:
            out = self._act_double_signed(
                "emptyChannelWithChallenge", self.model.empty_channel_with_challenge, rec, who
            )
            if out is not None:
                self._record_dispute(user, answered_by=caller)
                self._after_empty(user)
            return
        else:
            out = self._act("startExit", self.model.start_exit, (user,), (user,), who)
            if out is not None:
                self.dispute_log[user] = {"initiator": caller, "newest": False}
            return
        if out is not None and s.has_pending:
            key = (user, s.tx_count[1])
            assert key not in self.executed_pending, f"pending updates of {key} executed twice"
            self.executed_pending.add(key)
            if s is self.ledger.newest(user):
                self.ledger.acknowledge(user)

    @rule(u=users_idx, caller=callers)
    def empty_channel(self, u, caller):
        user = self.ledger.users[u]
        label = self._boundary_label(user)
        c = self.model.channel(user)
        reserve_before = self.m.getHubReserveWei()
        out = self._act(
            "emptyChannel", self.model.empty_channel, (user,), (user,), self._who(caller, user)
        )
        if out is None:
            return
        honest = self.honest_exit.get(user)
        if honest and honest[0] in ("hub", "user") and c.tx_count_global == honest[1].tx_count[0]:
            # docs/protocol.md §10.4: the honest initiator showed its newest state and nothing newer was shown
            s = honest[1]
            self._check_safety(
                user, honest[0], s, s.tx_count[1] == c.tx_count_chain, out, reserve_before
            )
        self._record_dispute(user, answered_by="none", boundary=label)
        self._after_empty(user)

    @rule(
        u=users_idx,
        initiator=st.sampled_from(["hub", "user"]),
        offset=st.sampled_from([-1, 0, 0, 1]),
        action=st.sampled_from(
            [
                "challenge",
                "challenge",
                "initiator_challenges",
                "initiator_empties",
                "counterparty_empties",
            ]
        ),
        stale=st.booleans(),
    )
    def dispute_at_boundary(self, u, initiator, offset, action, stale):
        """A whole dispute around its deadline: one side exits (with an old state if `stale`),
        time moves to closing−1 / closing / closing+1, then the counterparty challenges with
        its newest state or one side empties. The model decides what the chain must do."""
        user = self.ledger.users[u]
        c = self.model.channel(user)
        if c.status == Status.OPEN:
            hist = self.ledger.history[user]
            who = self._who(initiator, user)
            if stale and len(hist) > 1:
                rec = hist[0]
                s = rec.state
                out = self._act_double_signed(
                    "startExitWithUpdate", self.model.start_exit_with_update, rec, who
                )
            else:
                out = self._act("startExit", self.model.start_exit, (user,), (user,), who)
            if out is not None:
                self.dispute_log[user] = {"initiator": initiator, "newest": False}
        c = self.model.channel(user)
        if c.status != Status.CHANNEL_DISPUTE:
            return
        self.t = max(self.t, c.closing_time + offset)
        started_by_hub = self.model.exit_initiator(user) == str(self.env.hub)
        counterparty = "user" if started_by_hub else "hub"
        label = f"closing{offset:+d}" if self.t == c.closing_time + offset else "closing (later)"
        if action in ("challenge", "initiator_challenges"):
            rec = self.ledger.history[user][-1] if self.ledger.history[user] else None
            if rec is None:
                return
            s = rec.state
            executed = s.tx_count[1] == c.tx_count_chain
            reserve_before = self.m.getHubReserveWei()
            challenger = (
                counterparty if action == "challenge" else ("hub" if started_by_hub else "user")
            )
            out = self._act_double_signed(
                "emptyChannelWithChallenge",
                self.model.empty_channel_with_challenge,
                rec,
                self._who(challenger, user),
            )
            if out is not None and action == "initiator_challenges":
                self._record_dispute(user, answered_by="initiator itself", boundary=label)
                self._after_empty(user)
            elif out is not None:
                self._check_safety(user, counterparty, s, executed, out, reserve_before)
                self._record_dispute(user, answered_by=counterparty, boundary=label)
                self._after_empty(user)
        else:
            who = self._who(
                ("hub" if started_by_hub else "user")
                if action == "initiator_empties"
                else counterparty,
                user,
            )
            out = self._act("emptyChannel", self.model.empty_channel, (user,), (user,), who)
            if out is not None:
                self._record_dispute(
                    user,
                    answered_by="nobody"
                    if action == "initiator_empties"
                    else counterparty + " concedes",
                    boundary=label,
                )
                self._after_empty(user)

    @rule(u=users_idx, by_hub=st.booleans())
    def late_answer_at_closing(self, u, by_hub):
        """docs/protocol.md §6 / §10.6 at the exact boundary: one side exits, the other answers with its
        newest state at exactly `closingTime` (too late: ChallengeWindowClosed), then a stranger
        empties the channel at that same second (allowed)."""
        user = self.ledger.users[u]
        if self.model.channel(user).status == Status.OPEN:
            if (
                self._act(
                    "startExit",
                    self.model.start_exit,
                    (user,),
                    (user,),
                    self._who("hub" if by_hub else "user", user),
                )
                is None
            ):
                return
            self.dispute_log[user] = {"initiator": "hub" if by_hub else "user", "newest": False}
        c = self.model.channel(user)
        if c.status != Status.CHANNEL_DISPUTE or not self.ledger.history[user]:
            return
        self.t = max(self.t, c.closing_time)
        rec = self.ledger.history[user][-1]
        answerer = "user" if self.model.exit_initiator(user) == str(self.env.hub) else "hub"
        out = self._act(
            "emptyChannelWithChallenge",
            self.model.empty_channel_with_challenge,
            (rec.state, rec.sig_hub, rec.sig_user),
            (rec.state.to_tuple(), rec.sig_hub, rec.sig_user),
            self._who(answerer, user),
        )
        if out is not None:  # only when the clock was already before closing (cannot happen here)
            self._after_empty(user)
            return
        self.t = max(
            self.t - 1, c.closing_time
        )  # the refused call mined nothing: same second again
        if (
            self._act("emptyChannel", self.model.empty_channel, (user,), (user,), self.env.stranger)
            is not None
        ):
            self._record_dispute(user, answered_by=f"{answerer} too late", boundary="closing+0")
            self._after_empty(user)

    @rule(
        u=users_idx,
        forge_hub=st.booleans(),
        challenge=st.booleans(),
        by_hub=st.booleans(),
        authorized=st.booleans(),
    )
    def forged_dispute(self, u, forge_hub, challenge, by_hub, authorized):
        """A forger submits the newest state with one signature made by the wrong key through a
        dispute entry point: exit with it, or (if a dispute runs) challenge with it as the
        non-initiator, so that every check but the forged signature passes."""
        user = self.ledger.users[u]
        hist = self.ledger.history[user]
        if not hist:
            return
        rec = hist[-1]
        fake = self.env.sign_digest(
            str(self.env.stranger), channel_digest(self.env.domain, rec.state)
        )
        sig_hub, sig_user = (fake, rec.sig_user) if forge_hub else (rec.sig_hub, fake)
        s = rec.state
        c = self.model.channel(user)
        if authorized:  # the signature the caller does not make itself is forged
            if forge_hub and user != str(self.env.rej):
                out = self._user_update(s, fake, user)
            else:
                out = self._hub_update(s, fake)
            assert out is None, "a forged signature was accepted"
        elif challenge and c.status == Status.CHANNEL_DISPUTE:
            started_by_hub = self.model.exit_initiator(user) == str(self.env.hub)
            who = self._who("user" if started_by_hub else "hub", user)
            out = self._act(
                "emptyChannelWithChallenge",
                self.model.empty_channel_with_challenge,
                (s, sig_hub, sig_user),
                (s.to_tuple(), sig_hub, sig_user),
                who,
            )
            if out is not None:
                self._after_empty(user)
        else:
            out = self._act(
                "startExitWithUpdate",
                self.model.start_exit_with_update,
                (s, sig_hub, sig_user),
                (s.to_tuple(), sig_hub, sig_user),
                self._who("hub" if by_hub else "user", user),
            )
            if out is not None:
                self.dispute_log[user] = {"initiator": "forger", "newest": True}

    @rule(u=users_idx, offset=st.sampled_from([-1, 0, 1]), by_hub=st.booleans())
    def thread_dispute_to_nuke(self, u, offset, by_hub):
        """Exit with the newest state (it commits the open threads), let the window pass, empty
        the channel into ThreadDispute, then try nukeThreads at deadline−1 and at deadline (or +1)."""
        user = self.ledger.users[u]
        c = self.model.channel(user)
        if c.status == Status.OPEN:
            rec = self.ledger.history[user][-1] if self.ledger.history[user] else None
            if rec is None or rec.state.thread_count == 0:  # open a thread to this user first
                self.open_thread((u + 1) % 3, u, ETHER // 4, 0, 0)
                rec = self.ledger.history[user][-1] if self.ledger.history[user] else None
            if rec is None or rec.state.thread_count == 0:
                return
            out = self._act_double_signed(
                "startExitWithUpdate",
                self.model.start_exit_with_update,
                rec,
                self._who("hub" if by_hub else "user", user),
            )
            if out is None:
                return
            self.dispute_log[user] = {"initiator": "hub" if by_hub else "user", "newest": True}
            c = self.model.channel(user)
        if c.status == Status.CHANNEL_DISPUTE:
            self.t = max(self.t, c.closing_time)
            if (
                self._act(
                    "emptyChannel", self.model.empty_channel, (user,), (user,), self.env.stranger
                )
                is None
            ):
                return
            self._record_dispute(user, answered_by="nobody (stranger empties)", boundary="closing")
            self._after_empty(user)
            c = self.model.channel(user)
        if c.status == Status.THREAD_DISPUTE:
            deadline = c.closing_time + NUKE
            if self.t <= deadline - 1:  # one second early must be refused (a refusal mines nothing)
                self.t = deadline - 1
                self._act(
                    "nukeThreads", self.model.nuke_threads, (user,), (user,), self.env.stranger
                )
            self.t = max(self.t, deadline + max(offset, 0))
            self._act("nukeThreads", self.model.nuke_threads, (user,), (user,), self.env.stranger)

    @rule(u=users_idx)
    def honest_answer(self, u):
        """The party that did not start the dispute answers inside the window with the newest
        double-signed state with timeout 0 it holds; it must leave with at least its balance in
        that state (docs/protocol.md §10.4)."""
        user = self.ledger.users[u]
        c = self.model.channel(user)
        if c.status != Status.CHANNEL_DISPUTE or self.t >= c.closing_time:
            return
        side = "user" if self.model.exit_initiator(user) == str(self.env.hub) else "hub"
        who = self._who(side, user)
        # docs/protocol.md §10.4 is about the newest state with timeout 0: a later proposal with a timeout
        # cannot be submitted in a dispute (TimeSensitiveState), so the party answers with the
        # newest one it can submit.
        rec = next((r for r in reversed(self.ledger.history[user]) if r.state.timeout == 0), None)
        label = self._boundary_label(user)
        reserve_before = self.m.getHubReserveWei()
        if rec is not None and rec.state.tx_count[0] > c.tx_count_global:
            s = rec.state
            newest_exec = s.tx_count[1] == c.tx_count_chain
            out = self._act_double_signed(
                "emptyChannelWithChallenge", self.model.empty_channel_with_challenge, rec, who
            )
            assert out is not None, (
                "an honest answer with the newest state inside the window was refused"
            )
            self._check_safety(user, side, s, newest_exec, out, reserve_before)
        else:
            out = self._act("emptyChannel", self.model.empty_channel, (user,), (user,), who)
            assert out is not None, "the non-initiator could not concede inside the window"
            if (
                rec is not None and rec.state.tx_count[0] == c.tx_count_global
            ):  # the stored state is the newest
                s = rec.state
                self._check_safety(
                    user, side, s, s.tx_count[1] == c.tx_count_chain, out, reserve_before
                )
        self._record_dispute(user, answered_by=side, boundary=label)
        self._after_empty(user)

    def _check_safety(self, user, side, s, executed, out, reserve_before):
        """docs/protocol.md §10.4 on what actually moved: the honest user's payout (paid or credited), or
        the hub's reserve increase, is at least its ETH balance in the newest state `s`."""
        hub_bal, user_bal = ChannelManagerModel.settle(
            s.wei_balances, s.pending_wei_updates, executed
        )
        if side == "user":
            got = out.paid_wei.get(user, 0) + out.credited.get(user, (0, 0))[0]
            assert got >= user_bal, f"honest user got {got} < {user_bal}"
        else:
            got = self.m.getHubReserveWei() - reserve_before
            assert got >= hub_bal, f"honest hub got {got} < {hub_bal}"
        STATS["invariant_checks"] += 1

    def _record_dispute(self, user, answered_by, boundary="inside"):
        info = self.dispute_log.pop(user, {"initiator": "?", "newest": False})
        winner = (
            "newest-state"
            if info.get("newest") or answered_by in ("hub", "user")
            else "stored-state"
        )
        STATS["disputes"][(info["initiator"], answered_by, winner, boundary)] += 1

    # ------------------------------------------------------------------ same block races

    @rule(
        u=users_idx,
        i=st.integers(0, 15),
        j=st.integers(0, 15),
        hub_first=st.booleans(),
        hub_entry=st.sampled_from(
            ["startExitWithUpdate", "emptyChannelWithChallenge", "startExit"]
        ),
        user_entry=st.sampled_from(
            ["startExitWithUpdate", "emptyChannelWithChallenge", "emptyChannel"]
        ),
    )
    def race_same_block(self, u, i, j, hub_first, hub_entry, user_entry):
        """Hub and user submit (possibly different) states in the same block."""
        user = self.ledger.users[u]
        hist = self.ledger.history[user]
        if not hist or user == str(self.env.rej):
            return
        a, b = hist[i % len(hist)], hist[j % len(hist)]
        plan = [(str(self.env.hub), hub_entry, a), (user, user_entry, b)]
        if not hub_first:
            plan.reverse()
        now = self.t
        self.t += 1
        set_next_timestamp(now)
        web3.provider.make_request("evm_setAutomine", [False])
        hashes = []
        try:
            for sender, entry, rec in plan:
                if entry in ("startExit", "emptyChannel"):
                    data = getattr(self.m, entry).encode_input(user)
                else:
                    data = getattr(self.m, entry).encode_input(
                        rec.state.to_tuple(), rec.sig_hub, rec.sig_user
                    )
                hashes.append(
                    web3.eth.send_transaction(
                        {
                            "from": sender,
                            "to": self.m.address,
                            "data": data,
                            "gas": GAS,
                            "gasPrice": 0,
                        }
                    )
                )
            web3.provider.make_request("evm_mine", [])
        finally:
            web3.provider.make_request("evm_setAutomine", [True])
        receipts = [web3.eth.get_transaction_receipt(h) for h in hashes]
        assert receipts[0]["blockNumber"] == receipts[1]["blockNumber"], "not in the same block"
        order = sorted(range(2), key=lambda k: receipts[k]["transactionIndex"])
        for k in order:
            sender, entry, rec = plan[k]
            fn = {
                "startExitWithUpdate": self.model.start_exit_with_update,
                "emptyChannelWithChallenge": self.model.empty_channel_with_challenge,
                "startExit": self.model.start_exit,
                "emptyChannel": self.model.empty_channel,
            }[entry]
            args = (
                (user,)
                if entry in ("startExit", "emptyChannel")
                else (rec.state, rec.sig_hub, rec.sig_user)
            )
            try:
                out = fn(sender, now, *args)
                err = None
            except ChannelError as exc:
                out, err = None, exc
            ok = receipts[k]["status"] == 1
            STATS["races"][f"{entry}:{'ok' if ok else 'reverted'}"] += 1
            assert ok == (err is None), (
                f"same-block {entry} by {sender}: chain status {ok}, model {err}"
            )
            if ok:
                STATS["gas"][entry].append(receipts[k]["gasUsed"])
                for amount in out.paid_wei.values():
                    self.ghost_eth -= amount
                for amount in out.paid_token.values():
                    self.ghost_token -= amount
                if entry.startswith("startExit"):
                    self.dispute_log[user] = {
                        "initiator": "hub" if sender == str(self.env.hub) else "user",
                        "newest": rec is hist[-1] and entry != "startExit",
                    }
                else:
                    self._record_dispute(user, answered_by="race", boundary="same-block")
                    self._after_empty(user)

    # ------------------------------------------------------------------ time

    @rule(u=users_idx, where=st.sampled_from(BOUNDARIES))
    def warp(self, u, where):
        """Move the next block's time to a live deadline: just before, at or after it."""
        user = self.ledger.users[u]
        c = self.model.channel(user)
        target = None
        if where.startswith("closing") and c.closing_time:
            target = c.closing_time + {"closing-1": -1, "closing": 0, "closing+1": 1}[where]
        elif where.startswith("nuke") and c.status == Status.THREAD_DISPUTE:
            target = c.closing_time + NUKE + {"nuke-1": -1, "nuke": 0, "nuke+1": 1}[where]
        elif where.startswith("thread"):
            times = [t.closing_time for t in self.model.threads.values() if t.closing_time]
            if times:
                target = max(times) - (1 if where == "thread-1" else 0)
        elif where == "timeout":
            s = self.ledger.newest(user)
            target = s.timeout or None
        if target is not None and target > self.t:
            self.t = target

    # ------------------------------------------------------------------ threads on chain

    @rule(
        u=users_idx,
        k=st.integers(0, 10),
        with_update=st.booleans(),
        caller=st.sampled_from(["hub", "user"]),
    )
    def start_exit_thread(self, u, k, with_update, caller):
        user = self.ledger.users[u]
        threads = self._root_threads(user)
        if not threads:
            return
        t, proof = threads[k % len(threads)]
        who = self._who(caller, user)
        if with_update and t.updates:
            upd, sig = t.updates[-1]
            self._start_with_update(user, t, proof, upd, sig, who)
        else:
            self._act(
                "startExitThread",
                self.model.start_exit_thread,
                (user, t.initial, proof, t.sig_initial),
                (user, t.initial.to_tuple(), proof, t.sig_initial),
                who,
            )

    @rule(
        u=users_idx,
        k=st.integers(0, 10),
        caller=st.sampled_from(["hub", "sender", "receiver", "stranger"]),
    )
    def challenge_thread(self, u, k, caller):
        user = self.ledger.users[u]
        threads = self._root_threads(user)
        if not threads:
            return
        t, _ = threads[k % len(threads)]
        if not t.updates:
            return
        upd, sig = t.updates[-1]
        who = {
            "hub": self.env.hub,
            "sender": upd.sender,
            "receiver": upd.receiver,
            "stranger": self.env.stranger,
        }[caller]
        self._challenge(upd, sig, who)

    def _start_with_update(self, user, t, proof, upd, sig, who):
        out = self._act(
            "startExitThreadWithUpdate",
            self.model.start_exit_thread_with_update,
            (user, t.initial, proof, t.sig_initial, upd, sig),
            (user, t.initial.to_tuple(), proof, t.sig_initial, upd.to_tuple(), sig),
            who,
        )
        if out is not None:
            self._shown(upd)

    def _challenge(self, upd, sig, who):
        if (
            self._act(
                "challengeThread",
                self.model.challenge_thread,
                (upd, sig),
                (upd.to_tuple(), sig),
                who,
            )
            is not None
        ):
            self._shown(upd)

    def _shown(self, upd: ThreadState) -> None:
        w, k = self.shown_receiver.get(upd.key, (0, 0))
        self.shown_receiver[upd.key] = (max(w, upd.wei_balances[1]), max(k, upd.token_balances[1]))

    @rule(
        u=users_idx,
        k=st.integers(0, 10),
        caller=st.sampled_from(["hub", "user"]),
        sig=st.sampled_from(["sender", "sender", "garbage", "stranger"]),
    )
    def empty_thread(self, u, k, caller, sig):
        """Settles one side; the signature argument is not checked any more (docs/protocol.md §8),
        so a garbage or stranger's signature must not matter."""
        user = self.ledger.users[u]
        threads = self._root_threads(user)
        if not threads:
            return
        t, proof = threads[k % len(threads)]
        self._empty_thread(user, t, proof, sig, self._who(caller, user))

    def _empty_thread(self, user, t, proof, sig, who):
        signature = {
            "sender": t.sig_initial,
            "garbage": b"\x01" * 3,
            "stranger": self.env.sign_digest(
                str(self.env.stranger), thread_digest(self.env.domain, t.initial)
            ),
        }[sig]
        out = self._act(
            "emptyThread",
            self.model.empty_thread,
            (user, t.initial, proof, signature),
            (user, t.initial.to_tuple(), proof, signature),
            who,
        )
        if out is None:
            return
        if user == t.initial.receiver:
            # §10.9: the receiver's side is paid at least every receiver balance shown on chain
            shown_wei, shown_token = self.shown_receiver.get(t.initial.key, (0, 0))
            got_wei = out.paid_wei.get(user, 0) + out.credited.get(user, (0, 0))[0]
            got_token = out.paid_token.get(user, 0) + out.credited.get(user, (0, 0))[1]
            assert got_wei >= shown_wei and got_token >= shown_token, (
                f"receiver paid {(got_wei, got_token)} < shown {(shown_wei, shown_token)}"
            )
        self._check_nothing_stranded(user)

    @rule(
        u=users_idx,
        user_sends=st.booleans(),
        conflicting=st.sampled_from([None, None, "big-in-receiver", "big-in-sender"]),
        start_from=st.sampled_from(["sender", "receiver"]),
        with_update=st.booleans(),
        attack=st.sampled_from(
            [
                "none",
                "void-with-max-txcount",
                "raise-one-lower-other",
                "raise-one-lower-other",
                "lower-with-max-txcount",
            ]
        ),
        answer=st.booleans(),
        garbage_sig=st.booleans(),
        short_by=st.sampled_from([0, 0, 1, ETHER // 10]),
    )
    def thread_dispute_story(
        self,
        u,
        user_sends,
        conflicting,
        start_from,
        with_update,
        attack,
        answer,
        garbage_sig,
        short_by,
    ):
        """A whole thread dispute, so that short histories reach one (docs/protocol.md §8): a
        thread between `user` and the next user is opened and paid twice (or, with
        `conflicting`, a colluding hub and sender commit two initial states for its key, issue
        H-1); both channels exit with their newest state and are emptied into ThreadDispute; the
        dispute starts from one channel, maybe with a sender's attack state first (an unreachable
        txCount paying nothing, issue M-2; one asset raised and the other lowered; lower balances
        with the highest txCount); the receiver maybe answers with its newest state (always after
        the one-asset attack, whose record its newest state raises in the other asset only);
        after the window both sides are emptied. With `short_by`, hub and user exit with a
        state that leaves that much of the channel in neither balance (issue L-1 with threads:
        the surplus is paid when the channel's last thread is emptied). The model decides every
        step."""
        user, other = self.ledger.users[u], self.ledger.users[(u + 1) % 3]
        sender, receiver = (user, other) if user_sends else (other, user)
        if self.model.channel(sender).status or self.model.channel(receiver).status:
            return
        # the sender funds its side, the hub collateralises the receiver's (refusals, e.g. a
        # short reserve, are the model's to predict; the thread is then smaller or not opened)
        # in both assets, so that per-asset orderings can differ
        sb, rb = self.ledger.settled_newest(sender), self.ledger.settled_newest(receiver)
        uw, ut = (0 if sb.wei_balances[1] else ETHER), (0 if sb.token_balances[1] else 100 * TOKEN)
        hw, ht = (0 if rb.wei_balances[0] else ETHER), (0 if rb.token_balances[0] else 100 * TOKEN)
        for user, amounts, by_hub in (
            (sender, (uw, ut, 0, 0), False),
            (receiver, (0, 0, hw, ht), True),
        ):
            if any(amounts):
                self.deposit(
                    self.ledger.users.index(user),
                    *amounts,
                    by_hub=by_hub,
                    expiring=False,
                    wrong_value=False,
                )
        if conflicting:
            pair = self.ledger.open_conflicting_thread(
                sender, receiver, ETHER, 100 * TOKEN, conflicting == "big-in-receiver"
            )
            if pair is None:
                return
            in_sender, in_receiver = pair
        else:
            t = self.ledger.open_thread(sender, receiver, ETHER, 100 * TOKEN)
            if t is None:
                return
            in_sender = in_receiver = t
        for t in {id(in_sender): in_sender, id(in_receiver): in_receiver}.values():
            for _ in range(2):
                self.ledger.thread_pay(
                    t, t.initial.wei_balances[0] // 4, t.initial.token_balances[0] // 4
                )
        for party in (sender, receiver):  # both channels into ThreadDispute
            rec = self.ledger.history[party][-1]
            if short_by:  # a colluding state assigning less than the channel holds
                st_ = rec.state
                side = 0 if st_.wei_balances[0] else 1
                cut = min(short_by, st_.wei_balances[side])
                wei = tuple(b - cut if i == side else b for i, b in enumerate(st_.wei_balances))
                rec = self.ledger.sign(
                    st_.evolve(wei_balances=wei, tx_count=(st_.tx_count[0] + 1, st_.tx_count[1]))
                )
            if (
                self._act(
                    "startExitWithUpdate",
                    self.model.start_exit_with_update,
                    (rec.state, rec.sig_hub, rec.sig_user),
                    (rec.state.to_tuple(), rec.sig_hub, rec.sig_user),
                    self.env.hub,
                )
                is None
            ):
                return
            self.dispute_log[party] = {"initiator": "hub", "newest": True}
            self.t = max(self.t, self.model.channel(party).closing_time)
            if (
                self._act(
                    "emptyChannel", self.model.empty_channel, (party,), (party,), self.env.stranger
                )
                is None
            ):
                return
            self._record_dispute(party, answered_by="nobody (thread story)", boundary="closing")
            self._after_empty(party)
        proofs = {}
        for party, t in ((sender, in_sender), (receiver, in_receiver)):
            found = [p for x, p in self._root_threads(party) if x is t]
            if not found:
                return
            proofs[party] = found[0]
        starter = sender if start_from == "sender" else receiver
        t0 = in_sender if starter == sender else in_receiver
        init = t0.initial
        (w, _), (tk, _) = init.wei_balances, init.token_balances
        newest, _ = t0.newest
        attack_state = {
            "void-with-max-txcount": init.evolve(tx_count=MAX_TX_COUNT),
            "raise-one-lower-other": init.evolve(
                wei_balances=(0, w), token_balances=(tk, 0), tx_count=newest.tx_count + 1
            ),
            "lower-with-max-txcount": newest.evolve(
                wei_balances=(w - newest.wei_balances[1] // 2, newest.wei_balances[1] // 2),
                token_balances=(tk - newest.token_balances[1] // 2, newest.token_balances[1] // 2),
                tx_count=MAX_TX_COUNT,
            ),
        }.get(attack)
        if attack_state is not None:
            self._start_with_update(
                starter,
                t0,
                proofs[starter],
                attack_state,
                self.ledger.sign_thread(attack_state, sender),
                self._who("user", starter),
            )
        if self.model.thread(*init.key).closing_time == 0:
            if with_update and t0.updates:
                upd, sig = t0.updates[-1]
                self._start_with_update(starter, t0, proofs[starter], upd, sig, self.env.hub)
            else:
                self._act(
                    "startExitThread",
                    self.model.start_exit_thread,
                    (starter, init, proofs[starter], t0.sig_initial),
                    (starter, init.to_tuple(), proofs[starter], t0.sig_initial),
                    self.env.hub,
                )
        if attack_state is not None:
            self._challenge(attack_state, self.ledger.sign_thread(attack_state, sender), sender)
        if answer or attack == "raise-one-lower-other":
            for t in (in_receiver, in_sender):
                if t.updates:
                    self._challenge(*t.updates[-1], receiver)
        record = self.model.thread(*init.key)
        if record.closing_time:
            self.t = max(self.t, record.closing_time)
        for party, t in ((receiver, in_receiver), (sender, in_sender)):
            self._empty_thread(
                party, t, proofs[party], "garbage" if garbage_sig else "sender", self.env.hub
            )

    @rule(
        s=users_idx,
        r=users_idx,
        wei=amounts,
        token=tokens,
        big_in_receiver=st.booleans(),
        pays=st.integers(0, 2),
    )
    def conflicting_initial_states(self, s, r, wei, token, big_in_receiver, pays):
        """Issue H-1's setting: the hub and the sender collude and commit two different initial
        states for one thread key, one in each channel's root. The existing thread rules then
        start the dispute from either channel and empty the other; the model predicts
        ThreadMismatch wherever the record was started from the other initial state."""
        if s == r:
            return
        sender, receiver = self.ledger.users[s], self.ledger.users[r]
        if self.model.channel(sender).status or self.model.channel(receiver).status:
            return
        pair = self.ledger.open_conflicting_thread(sender, receiver, wei, token, big_in_receiver)
        for t in pair or ():
            for _ in range(pays):
                self.ledger.thread_pay(
                    t, t.initial.wei_balances[0] // 3, t.initial.token_balances[0] // 3
                )

    @rule(
        u=users_idx,
        k=st.integers(0, 10),
        wei_q=st.integers(0, 4),
        token_q=st.integers(0, 4),
        tx=st.sampled_from(["0", "1", "below-newest", "above-newest", "max", "above-uint64"]),
        entry=st.sampled_from(["challenge", "challenge", "start"]),
        caller=st.sampled_from(["hub", "sender", "receiver"]),
    )
    def sender_signs_any_thread_state(self, u, k, wei_q, token_q, tx, entry, caller):
        """The sender signs any state of a thread committed in this user's root: the initial
        sums, receiver balances of any quarter of each sum (raising one asset while lowering
        the other included), any txCount (unreachable ones too: issue M-2). It is submitted by
        challengeThread or startExitThreadWithUpdate; the model decides (per-asset maximum,
        ThreadStateNotNewer, txCount kept as the highest shown, saturated at 2^64 - 1)."""
        user = self.ledger.users[u]
        threads = self._root_threads(user)
        if not threads:
            return
        t, proof = threads[k % len(threads)]
        init = t.initial
        (w, _), (tk, _) = init.wei_balances, init.token_balances
        wr, tr = w * wei_q // 4, tk * token_q // 4
        newest = t.newest[0].tx_count
        tx_count = {
            "0": 0,
            "1": 1,
            "below-newest": max(newest - 1, 0),
            "above-newest": newest + 1,
            "max": MAX_TX_COUNT,
            "above-uint64": MAX_TX_COUNT + 5,
        }[tx]
        upd = init.evolve(
            wei_balances=(w - wr, wr), token_balances=(tk - tr, tr), tx_count=tx_count
        )
        sig = self.ledger.sign_thread(upd, init.sender)
        who = {"hub": self.env.hub, "sender": init.sender, "receiver": init.receiver}[caller]
        if entry == "challenge":
            self._challenge(upd, sig, who)
        else:
            self._start_with_update(
                user, t, proof, upd, sig, self._who("user" if caller != "hub" else "hub", user)
            )

    @rule(u=st.integers(0, 1), delegate=st.booleans())
    def delegate_eoa(self, u, delegate):
        """EIP-7702 (issue M-1): alice or bob delegates its EOA to RevokingDelegate (every
        ERC-1271 answer "no", ETH accepted), or removes the delegation. Every state it signed with
        its key must stay valid (§10.10); the model knows the address has code that says no."""
        user = self.ledger.users[u]
        code = "0xef0100" + self.env.revoker.address[2:].lower() if delegate else "0x"
        response = web3.provider.make_request("anvil_setCode", [user, code])
        assert "error" not in response, response
        STATS["calls"][f"delegate_eoa:{'delegated' if delegate else 'undelegated'}"] += 1
        if delegate:
            self.model.signatures.erc1271[user] = set()
        else:
            self.model.signatures.erc1271.pop(user, None)

    @rule(u=users_idx, caller=callers)
    def nuke_threads(self, u, caller):
        user = self.ledger.users[u]
        self._act("nukeThreads", self.model.nuke_threads, (user,), (user,), self._who(caller, user))

    def _root_threads(self, user):
        """(thread, proof) for every thread committed in the root the chain holds for `user`."""
        root = self.model.channel(user).thread_root
        threads = self.ledger.roots.get((user, root), [])
        return [(t, self.ledger.proof(user, t, threads)) for t in threads]

    # ------------------------------------------------------------------ credits and reserve

    @rule(u=users_idx, to=st.sampled_from(["self", "self", "stranger", "contract", "zero"]))
    def claim(self, u, to):
        """Claim credits to the user, a stranger, or (refused: InvalidRecipient) the contract or
        the zero address."""
        user = self.ledger.users[u]
        to = {
            "self": user,
            "stranger": str(self.env.stranger),
            "contract": self.m.address,
            "zero": ZERO_ADDRESS,
        }[to]
        if user == str(self.env.rej) and to == user:
            to = str(self.env.owner)
        self._act("claim", self.model.claim, (to,), (to,), user)

    @rule(
        u=users_idx,
        hub_bal=st.integers(0, 3),
        user_bal=st.integers(0, 3),
        pw=st.tuples(*[st.integers(0, 3)] * 4),
        pt=st.tuples(*[st.integers(0, 3)] * 4),
        bump=st.integers(-1, 2),
        by_hub=st.booleans(),
        entry=st.integers(0, 2),
    )
    def colluding_update(self, u, hub_bal, user_bal, pw, pt, bump, by_hub, entry):
        """Hub and user collude: they double-sign an arbitrary state (balances, pending and
        onchain count chosen freely, global count always higher) and submit it. The contract
        must still refuse anything that breaks its own rules (e.g. the post-apply
        BalancesExceedTotal of docs/protocol.md §5); the model says which error."""
        user = self.ledger.users[u]
        c = self.model.channel(user)
        unit = max(c.wei_total, ETHER) // 4
        s = ChannelState(
            user,
            user,
            wei_balances=(hub_bal * unit, user_bal * unit),
            token_balances=(0, 0),
            pending_wei_updates=tuple(x * unit for x in pw),
            pending_token_updates=tuple(x * TOKEN for x in pt),
            # global count above everything signed so far: nonces stay unique in the history
            tx_count=(
                max(c.tx_count_global, self.ledger.newest(user).tx_count[0]) + 1,
                max(c.tx_count_chain + bump, 0),
            ),
        )
        # not in the honest history unless the chain takes it (honest parties never sign these)
        rec = self.ledger.sign(s, record=False)
        if entry == 2:
            executed = s.tx_count[1] == c.tx_count_chain
            out = self._act_double_signed(
                "startExitWithUpdate",
                self.model.start_exit_with_update,
                rec,
                self.env.hub if by_hub else user,
            )
            if out is not None:
                self.ledger.history[user].append(rec)
                if s.has_pending:
                    # The chain adopted the state with docs/protocol.md §4's rule: pending updates applied
                    # when its txCount[1] equals the stored one, reverted when higher. The
                    # parties continue from those balances (the ledger would otherwise void
                    # them, and its later states would hold more than the channel does).
                    if executed:
                        self.ledger.acknowledge(user)
                    else:
                        self.ledger.void(user)
                self.dispute_log[user] = {"initiator": "collusion", "newest": True}
            return
        if entry == 0 or user == str(self.env.rej):
            out = self._hub_update(s, rec.sig_user)
        else:
            out = self._user_update(s, rec.sig_hub, user)
        if out is not None:
            self.ledger.history[user].append(rec)
        self._after_update(user, s, out)

    @rule(u=users_idx, by_hub=st.booleans())
    def replay_executed_pending(self, u, by_hub):
        """v1's double deposit (docs/protocol.md §4): a state that still carries already-executed pending
        updates (same txCount[1]) at a higher global count, double-signed (as the protocol
        allows before the acknowledgement), is submitted as an authorized update again."""
        user = self.ledger.users[u]
        c = self.model.channel(user)
        executed = [
            r.state
            for r in self.ledger.history[user]
            if r.state.has_pending and r.state.tx_count[1] == c.tx_count_chain
        ]
        if not executed:
            return
        g = max(c.tx_count_global, self.ledger.newest(user).tx_count[0]) + 1
        s = executed[-1].evolve(tx_count=(g, c.tx_count_chain), timeout=0)
        rec = self.ledger.sign(s, record=False)
        if by_hub or user == str(self.env.rej):
            out = self._hub_update(s, rec.sig_user)
        else:
            out = self._user_update(s, rec.sig_hub, user)
        assert out is None, "already-executed pending updates were executed again"

    @rule(u=users_idx, frac=st.sampled_from([1, 2, 4]))
    def post_apply_overdraw(self, u, frac):
        """docs/protocol.md §5's example: hub + user = total before, and a hub deposit that is also paid out
        as a user withdrawal; the pre-checks pass, only the post-apply BalancesExceedTotal
        refuses it (hub and user collude)."""
        user = self.ledger.users[u]
        c = self.model.channel(user)
        reserve = self.model.reserve_wei()
        x = min(ETHER // frac, reserve)
        if c.status != Status.OPEN or x == 0:
            return
        g = max(c.tx_count_global, self.ledger.newest(user).tx_count[0]) + 1
        s = ChannelState(
            user,
            user,
            wei_balances=(c.wei_total - c.wei_user, c.wei_user),
            token_balances=(c.token_hub, c.token_user),
            pending_wei_updates=(x, 0, 0, x),
            tx_count=(g, c.tx_count_chain + 1),
        )
        rec = self.ledger.sign(s, record=False)
        out = self._hub_update(s, rec.sig_user)
        assert out is None, (
            "a hub deposit paid out as a user withdrawal left hub + user above the total"
        )

    @rule(u=users_idx, delta=st.sampled_from([-1, 1, ETHER]))
    def wrong_deposit_value(self, u, delta):
        """userAuthorizedUpdate with msg.value off the signed user deposit by `delta`."""
        user = self.ledger.users[u]
        rec = self.ledger.propose_deposit(user, user_wei=ETHER)
        s, value = rec.state, ETHER + delta
        out = self._user_update(s, rec.sig_hub, user, value)
        assert out is None, "a deposit with the wrong msg.value was accepted"

    @rule(u=users_idx, extra=st.sampled_from([1, ETHER // 4, ETHER]))
    def reserve_theft_attempt(self, u, extra):
        """v1's theft (docs/protocol.md §5): with a small reserve, a user deposit whose hub part exceeds the
        reserve by less than the user's own msg.value. The user's ETH is never reserve, so the
        model predicts InsufficientReserve and the chain must agree."""
        user = self.ledger.users[u]
        if self.model.channel(user).status != Status.OPEN:
            return
        reserve = self.model.reserve_wei()
        if reserve > 2 * ETHER:  # the hub takes most of its reserve out first
            self._act(
                "hubContractWithdraw",
                self.model.hub_contract_withdraw,
                (reserve - ETHER // 2, 0),
                (reserve - ETHER // 2, 0),
                self.env.hub,
            )
            reserve = self.model.reserve_wei()
        hub_wei, user_wei = reserve + extra, ETHER
        rec = self.ledger.propose_deposit(user, user_wei=user_wei, hub_wei=hub_wei)
        s = rec.state
        out = self._user_update(s, rec.sig_hub, user)
        assert out is None, "a hub deposit was backed by the user's own msg.value"

    @rule(
        wei=st.sampled_from([0, 10**15, ETHER, 100 * ETHER, "drain"]),
        token=st.sampled_from([0, TOKEN, 10**9 * TOKEN]),
    )
    def hub_withdraw(self, wei, token):
        if wei == "drain":  # leave the reserve nearly empty so reserve checks bite
            wei = max(self.model.reserve_wei() - ETHER // 2, 0)
        self._act(
            "hubContractWithdraw",
            self.model.hub_contract_withdraw,
            (wei, token),
            (wei, token),
            self.env.hub,
        )

    # ------------------------------------------------------------------ invariants (docs/protocol.md §10)

    def _snap(self) -> dict:
        """Every view the invariants compare, read once per mined block (a reverted call or an
        off-chain step mines nothing, so its invariants reuse the last reading)."""
        block = web3.eth.block_number
        if getattr(self, "_snap_block", None) == block:
            return self._snap_cache
        m, users = self.m, self.ledger.users
        snap = {
            "eth": m.balance(),
            "token": self.env.token.balanceOf(m),
            "total_wei": m.totalChannelWei(),
            "total_token": m.totalChannelToken(),
            "reserve_wei": m.getHubReserveWei(),
            "reserve_token": m.getHubReserveTokens(),
            "credits": {u: (m.creditWei(u), m.creditToken(u)) for u in users},
            "channels": {u: (channel_balances(m, u), channel_details(m, u)) for u in users},
            "threads": {k: thread_record(m, *k) for k in self.model.threads},
        }
        self._snap_block, self._snap_cache = block, snap
        return snap

    def _chain_channels(self) -> dict:
        return self._snap()["channels"]

    @invariant()
    def invariant_conservation(self):
        """§10.1: contract ETH = ghost in − out = model; ≥ totals + credits (the rest is reserve)."""
        STATS["invariant_checks"] += 1
        STATS["steps"] += 1
        snap = self._snap()
        eth, tok = snap["eth"], snap["token"]
        assert eth == self.ghost_eth == self.model.eth_balance
        assert tok == self.ghost_token == self.model.token_balance
        tw, tt = snap["total_wei"], snap["total_token"]
        credit_w = sum(c[0] for c in snap["credits"].values())
        credit_t = sum(c[1] for c in snap["credits"].values())
        assert eth >= tw + credit_w and tok >= tt + credit_t
        assert snap["reserve_wei"] == eth - tw - credit_w
        assert snap["reserve_token"] == tok - tt - credit_t

    @invariant()
    def invariant_model_matches_chain(self):
        """Every stored field: balances, details, totals, credits of every channel, threads."""
        STATS["invariant_checks"] += 1
        snap = self._snap()
        for u, (bal, det) in snap["channels"].items():
            c = self.model.channel(u)
            assert bal == (
                c.wei_hub,
                c.wei_user,
                c.wei_total,
                c.token_hub,
                c.token_user,
                c.token_total,
            ), u
            assert (det.tx_count_global, det.tx_count_chain) == (
                c.tx_count_global,
                c.tx_count_chain,
            ), u
            assert det.thread_root == c.thread_root and det.thread_count == c.thread_count, u
            assert det.exit_initiator == self.model.exit_initiator(u), u
            assert det.closing_time == c.closing_time and det.status == int(c.status), u
            assert snap["credits"][u] == (
                self.model.credit_wei.get(u, 0),
                self.model.credit_token.get(u, 0),
            ), u
        assert snap["total_wei"] == self.model.total_channel_wei
        assert snap["total_token"] == self.model.total_channel_token
        for key, t in self.model.threads.items():
            record = snap["threads"].get(key) or thread_record(self.m, *key)
            assert record == (
                (t.wei_sender, t.wei_receiver),
                (t.token_sender, t.token_receiver),
                t.tx_count,
                t.closing_time,
                (t.sender_emptied, t.receiver_emptied),
            ), key

    @invariant()
    def invariant_channel_within_total(self):
        """§10.1: hub + user ≤ total in every status; Σ channel totals = global totals."""
        STATS["invariant_checks"] += 1
        chans = self._chain_channels()
        for bal, _ in chans.values():
            assert bal.wei_hub + bal.wei_user <= bal.wei_total
            assert bal.token_hub + bal.token_user <= bal.token_total
        if chans:
            assert sum(b.wei_total for b, _ in chans.values()) == self.model.total_channel_wei
            assert sum(b.token_total for b, _ in chans.values()) == self.model.total_channel_token

    @invariant()
    def invariant_monotone_nonces(self):
        """§10.2: stored txCount[0] and txCount[1] never fall."""
        STATS["invariant_checks"] += 1
        for u, (_, det) in self._chain_channels().items():
            g, c = det.tx_count_global, det.tx_count_chain
            pg, pc = self.seen_tx[u]
            assert g >= pg and c >= pc, f"{u}: txCount fell from {(pg, pc)} to {(g, c)}"
            self.seen_tx[u] = (g, c)

    # ------------------------------------------------------------------ liveness

    def teardown(self):
        """§10.5: every running dispute can be finished by anyone, and nothing stays locked past
        the nuke deadline: each disputed channel is emptied once its window closed and leftover
        threads are nuked at the deadline; the channel is then open and holds nothing.
        With FUZZ_FULL_TEARDOWN=1 every open channel that holds value is exited too (about six
        more transactions per sequence, so it is off by default)."""
        env = self.env
        disputed = []
        for user in self.ledger.users:
            c = self.model.channel(user)
            if self.full_teardown and c.status == Status.OPEN and (c.wei_total or c.token_total):
                assert (
                    self._act("startExit", self.model.start_exit, (user,), (user,), env.hub)
                    is not None
                )
                c = self.model.channel(user)
            if c.status != Status.OPEN:
                disputed.append(user)
            if c.status == Status.CHANNEL_DISPUTE:
                self.t = max(self.t, c.closing_time)
                assert (
                    self._act(
                        "emptyChannel", self.model.empty_channel, (user,), (user,), env.stranger
                    )
                    is not None
                )
                self._record_dispute(
                    user, answered_by="nobody (stranger empties)", boundary="closing"
                )
            c = self.model.channel(user)
            if c.status == Status.THREAD_DISPUTE:
                self.t = max(self.t, c.closing_time + NUKE)
                assert (
                    self._act(
                        "nukeThreads", self.model.nuke_threads, (user,), (user,), env.stranger
                    )
                    is not None
                )
                bal = channel_balances(self.m, user)
                assert bal.wei_total == 0 and bal.token_total == 0, (
                    f"{user}: value locked after the nuke deadline"
                )
        for user in disputed:
            # every dispute ended: the channel is open again and holds nothing (a surplus left by
            # a colluding state was paid to the user, docs/protocol.md §8)
            assert channel_details(self.m, user).status == ChannelStatus.OPEN, (
                f"{user}: dispute could not be finished"
            )
            self._check_nothing_stranded(user)
        self.invariant_conservation()
        self.invariant_model_matches_chain()


ChannelMachine.TestCase.settings = None  # settings come from the profile (conftest.py)


def replay_command(seed: int, profile: str, test_file: str) -> str:
    """The command that reruns this failure: same seed, profile, overrides and network."""
    env = [f"FUZZ_SEED={seed}", f"FUZZ_PROFILE={profile}"]
    env += [
        f"{k}={os.environ[k]}"
        for k in ("FUZZ_EXAMPLES", "FUZZ_STEPS", "FUZZ_NO_SHRINK")
        if os.environ.get(k)
    ]
    return " ".join(env) + f" brownie test {test_file} --network {network.show_active()}"


def run_machine(machine_cls, fuzz_settings, profile: str = "fast", seed: int | None = None) -> None:
    """Runs a machine with a known seed and prints how to replay any failure."""
    if seed is None:
        seed = (
            int(os.environ["FUZZ_SEED"]) if os.environ.get("FUZZ_SEED") else random.randrange(2**32)
        )
    machine_cls._hypothesis_internal_use_seed = seed
    try:
        run_state_machine_as_test(machine_cls, settings=fuzz_settings)
    except BaseException:
        test_file = os.path.relpath(
            __file__, os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
        )
        print(
            f"\nREPLAY: {replay_command(seed, profile, test_file)}"
            f"\n        (or apply the @reproduce_failure(...) blob printed above to {machine_cls.__name__});"
            f"\n        the shrunk failure is also saved in .hypothesis/ and replayed first next time."
        )
        raise


def test_channel_machine(request, fuzz_profile):
    run_machine(ChannelMachine, fuzz_profile, profile_name(request.config))


@pytest.fixture(scope="module", autouse=True)
def _print_stats():
    import time

    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    calls = sum(STATS["calls"].values())
    print(
        f"\n[stateful] {STATS['sequences']} sequences, {STATS['steps']} steps, {calls} transactions, "
        f"{STATS['invariant_checks']} invariant checks in {elapsed:.1f} s ({STATS['steps'] / max(elapsed, 1e-9):.1f} steps/s)"
    )
    for key, n in sorted(STATS["calls"].items()):
        print(f"    {key:55} {n}")
    out = os.environ.get("FUZZ_STATS_OUT")
    if out:  # read by research/campaign.py
        import json

        data = {
            "elapsed_s": elapsed,
            "sequences": STATS["sequences"],
            "steps": STATS["steps"]
            - STATS["sequences"],  # invariant rounds minus the one after __init__
            "invariant_checks": STATS["invariant_checks"],
            "calls": dict(STATS["calls"]),
            "gas": {k: v for k, v in STATS["gas"].items()},
            "disputes": [
                dict(
                    zip(("initiator", "answered_by", "winner", "boundary"), k, strict=False),
                    count=n,
                )
                for k, n in STATS["disputes"].items()
            ],
            "races": dict(STATS["races"]),
        }
        with open(out, "w") as fh:
            json.dump(data, fh, indent=1)
