"""Throughput of the fuzzing engine's two chain backends, side by side. A benchmark: it prints
numbers and asserts nothing.

    python scripts/fuzz_throughput.py [--seconds 5] [--seed 1] [--anvil URL]

Without `--anvil` it starts a private anvil on a free port (the project's network settings)
and stops it at the end. Per backend (revm in process, anvil over JSON-RPC) it measures:

1. raw calls/s through the `Chain` interface (ABI encoding and result decoding included):
   `userAuthorizedUpdate` ETH deposits from pre-signed states, and `startExit` +
   `emptyChannel` pairs;
2. differential steps/s: one step is a random channel operation by a hub or one of three
   users (deposit, hub deposit, withdrawal, exit with a newer state, plain exit, challenge,
   emptying around the closing time ±1 s, a stale replay), its signing, the reference model's
   prediction (channel_manager/model.py, real ECDSA checks), the transaction, the comparison
   of outcome and error, and four invariant reads compared with the model (global totals,
   reserve, the user's channel). Measured once with fuzzing.fastsign and once with
   channel_manager.signing (eth-account) as the signer.

It also measures signing alone (states/s) for both signers and signature recovery. One core:
everything runs in this process (plus anvil's own threads for the anvil figures). Keccak for the
model and eth-utils is eth-hash's pysha3 backend unless ETH_HASH_BACKEND says otherwise (about
five times faster than its default, pycryptodome). The machine's load average is printed: on a
shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")  # read by eth-hash at its first use

from channel_manager import transitions  # noqa: E402
from channel_manager.devkeys import anvil_key  # noqa: E402
from channel_manager.eip712 import Domain  # noqa: E402
from channel_manager.errors import ChannelError  # noqa: E402
from channel_manager.model import ChannelManagerModel, Status  # noqa: E402
from channel_manager.signing import recover, sign_channel_state  # noqa: E402
from channel_manager.states import ChannelState  # noqa: E402
from fuzzing.artifacts import load_build_artifact  # noqa: E402
from fuzzing.chain.anvil_chain import AnvilChain, launch_anvil  # noqa: E402
from fuzzing.chain.base import Chain, Contract  # noqa: E402
from fuzzing.chain.revm_chain import RevmChain  # noqa: E402
from fuzzing.fastsign import FastSigner  # noqa: E402

ETHER = 10**18
TST = 10**18
FINNEY = 10**15
PERIOD = 3600


# ---------------------------------------------------------------------- set-up
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
        self.manager: Contract = chain.deploy(load_build_artifact("ChannelManager"), self.hub,
                                              PERIOD, self.token, sender=self.hub)
        results = [chain.send(self.hub, self.manager, 100 * ETHER),
                   chain.transact(self.token, "mint", self.manager, 10_000 * TST, sender=self.hub)]
        for user in self.users:
            results.append(chain.transact(self.token, "mint", user, 1_000 * TST, sender=self.hub))
            results.append(chain.transact(self.token, "approve", self.manager, 2**256 - 1, sender=user))
        failed = [r.revert_text() for r in results if not r.success]
        if failed:
            raise SystemExit(f"set-up failed: {failed[0]}")
        self.domain = Domain(chain.chain_id, self.manager.address)


# ---------------------------------------------------------------------- 1. raw calls
def raw_deposits(chain: Chain, count: int) -> tuple[int, float]:
    """`count` userAuthorizedUpdate deposits of 1 wei from pre-signed states: (calls, seconds)."""
    d = Deployment(chain)
    user, signer = d.users[0], FastSigner(d.domain)
    proposals, state = [], ChannelState(user, user)
    for _ in range(count):
        proposal = transitions.propose_deposit(state, user_wei=1)
        proposals.append((proposal.to_tuple(), signer.sign_channel(d.keys[d.hub], proposal)))
        state = transitions.acknowledge(proposal)
    started = time.perf_counter()
    for state_tuple, sig_hub in proposals:
        result = chain.transact(d.manager, "userAuthorizedUpdate", state_tuple, sig_hub,
                                sender=user, value=1)
        assert result.success, result.revert_text()
    return count, time.perf_counter() - started


def raw_exits(chain: Chain, seconds: float) -> tuple[int, float]:
    """startExit (hub) + emptyChannel (the user, before the window ends) pairs for `seconds`."""
    d = Deployment(chain)
    user, calls = d.users[0], 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for function, sender in (("startExit", d.hub), ("emptyChannel", user)):
            result = chain.transact(d.manager, function, user, sender=sender)
            assert result.success, result.revert_text()
            calls += 1
    return calls, time.perf_counter() - started


# ---------------------------------------------------------------------- 2. differential walk
class ChannelWalk:
    """Random channel operations, each predicted by the model, executed and compared."""

    OPERATIONS = {
        "deposit": 4, "hub_deposit": 2, "withdraw": 2, "exit_with_update": 2, "start_exit": 2,
        "challenge": 2, "empty": 3, "stale": 1,
    }

    def __init__(self, chain: Chain, seed: int, sign: str) -> None:
        self.d = d = Deployment(chain)
        self.chain = chain
        self.rng = random.Random(seed)
        self.model = ChannelManagerModel(d.hub, PERIOD, d.manager.address, chain.chain_id,
                                         token=d.token.address)
        self.model.receive_eth(100 * ETHER)
        self.model.receive_tokens(10_000 * TST)
        fast = FastSigner(d.domain)
        self.sign: Callable[[str, ChannelState], bytes] = (
            (lambda who, s: fast.sign_channel(d.keys[who], s)) if sign == "fast"
            else (lambda who, s: sign_channel_state(d.keys[who], d.domain, s))
        )
        self.latest = {u: ChannelState(u, u) for u in d.users}  # newest double-signed state
        self.history: dict[str, list[ChannelState]] = {u: [] for u in d.users}
        self.steps = 0
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.disagreements: list[str] = []
        names, weights = zip(*self.OPERATIONS.items())
        self._names, self._weights = names, weights

    # -- one step ----------------------------------------------------------------------
    def step(self) -> None:
        user = self.rng.choice(self.d.users)
        self.chain.advance(self.rng.choice((0, 1, 13, 120)))
        operation = self.rng.choices(self._names, self._weights)[0]
        getattr(self, f"op_{operation}")(user)
        self.check_invariants(user)
        self.steps += 1

    def execute(self, predict: Callable[[int], Any], function: str, *args: Any, sender: str,
                value: int = 0) -> bool:
        """Model first, then the chain; both outcomes must agree. True if both succeeded."""
        try:
            predict(self.chain.time)
            expected = None
        except ChannelError as error:
            expected = (error.name, tuple(error.args))
        result = self.chain.transact(self.d.manager, function, *args, sender=sender, value=value)
        actual = None if result.success else (result.error, result.error_args)
        self.outcomes[f"{function}: {actual[0] if actual else 'ok'}"] += 1
        if expected != actual:
            self.disagreements.append(f"step {self.steps} {function}: model {expected}, chain {actual}")
        return result.success and expected is None

    def adopt(self, user: str, state: ChannelState) -> None:
        self.history[user].append(self.latest[user])
        self.latest[user] = state

    def emptied(self, user: str) -> None:
        """The channel was emptied: the next states continue from zero balances."""
        self.adopt(user, self.latest[user].evolve(wei_balances=(0, 0), token_balances=(0, 0)))

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
        proposal = transitions.propose_deposit(prev, user_wei=user_wei, user_token=user_token,
                                               hub_wei=hub_wei, timeout=timeout)
        sig = self.sign(self.d.hub, proposal)
        if self.execute(lambda t: self.model.user_authorized_update(user, t, proposal, sig, user_wei),
                        "userAuthorizedUpdate", proposal.to_tuple(), sig, sender=user,
                        value=user_wei):
            self.adopt(user, transitions.acknowledge(proposal))

    def op_hub_deposit(self, user: str) -> None:
        proposal = transitions.propose_deposit(self.latest[user], hub_wei=20 * FINNEY,
                                               hub_token=self.rng.choice((0, 2 * TST)))
        sig = self.sign(user, proposal)
        hub = self.d.hub
        if self.execute(lambda t: self.model.hub_authorized_update(hub, t, proposal, sig),
                        "hubAuthorizedUpdate", proposal.to_tuple(), sig, sender=hub):
            self.adopt(user, transitions.acknowledge(proposal))

    def op_withdraw(self, user: str) -> None:
        prev = self.latest[user]
        wei = self.amount(prev.wei_balances[1], 10 * FINNEY)
        token = self.amount(prev.token_balances[1], TST)
        if not (wei or token):
            return self.op_deposit(user)
        proposal = transitions.propose_withdrawal(prev, user_wei=wei, user_token=token)
        sig = self.sign(self.d.hub, proposal)
        if self.execute(lambda t: self.model.user_authorized_update(user, t, proposal, sig, 0),
                        "userAuthorizedUpdate", proposal.to_tuple(), sig, sender=user):
            self.adopt(user, transitions.acknowledge(proposal))

    def paid(self, user: str) -> ChannelState:
        """The latest state plus an off-chain payment in a random direction."""
        prev = self.latest[user]
        to_hub = self.rng.random() < 0.5
        payer = 1 if to_hub else 0
        return transitions.pay(prev, to_hub=to_hub,
                               wei=self.amount(prev.wei_balances[payer], FINNEY),
                               token=self.amount(prev.token_balances[payer], TST))

    def op_exit_with_update(self, user: str) -> None:
        state = self.paid(user)
        sig_hub, sig_user = self.sign(self.d.hub, state), self.sign(user, state)
        sender = self.rng.choice((self.d.hub, user))
        if self.execute(lambda t: self.model.start_exit_with_update(sender, t, state, sig_hub, sig_user),
                        "startExitWithUpdate", state.to_tuple(), sig_hub, sig_user, sender=sender):
            self.adopt(user, state)

    def op_start_exit(self, user: str) -> None:
        sender = self.rng.choice((self.d.hub, user, user, self.d.stranger))
        self.execute(lambda t: self.model.start_exit(sender, t, user), "startExit", user,
                     sender=sender)

    def op_challenge(self, user: str) -> None:
        state = self.paid(user)
        sig_hub, sig_user = self.sign(self.d.hub, state), self.sign(user, state)
        initiator = self.model.exit_initiator(user)
        sender = user if initiator == self.d.hub else self.d.hub
        if self.rng.random() < 0.1:
            sender = initiator if initiator != "0x" + "00" * 20 else sender  # CallerIsExitInitiator
        if self.execute(lambda t: self.model.empty_channel_with_challenge(sender, t, state, sig_hub, sig_user),
                        "emptyChannelWithChallenge", state.to_tuple(), sig_hub, sig_user,
                        sender=sender):
            self.adopt(user, state)
            self.emptied(user)

    def op_empty(self, user: str) -> None:
        channel = self.model.channel(user)
        if channel.status == Status.CHANNEL_DISPUTE:
            target = channel.closing_time + self.rng.choice((-1, 0, 1))
            if target > self.chain.time:
                self.chain.set_time(target)
        sender = self.rng.choice((self.d.hub, user, self.d.stranger))
        if self.execute(lambda t: self.model.empty_channel(sender, t, user), "emptyChannel", user,
                        sender=sender):
            self.emptied(user)

    def op_stale(self, user: str) -> None:
        if not self.history[user]:
            return self.op_start_exit(user)
        state = self.rng.choice(self.history[user])
        sig_hub, sig_user = self.sign(self.d.hub, state), self.sign(user, state)
        self.execute(lambda t: self.model.start_exit_with_update(user, t, state, sig_hub, sig_user),
                     "startExitWithUpdate", state.to_tuple(), sig_hub, sig_user, sender=user)

    # -- invariant reads -----------------------------------------------------------------
    def check_invariants(self, user: str) -> None:
        chain, m, model = self.chain, self.d.manager, self.model
        channel = model.channel(user)
        expected = (
            model.total_channel_wei, model.total_channel_token, model.reserve_wei(),
            (channel.wei_hub, channel.wei_user, channel.wei_total, channel.token_hub,
             channel.token_user, channel.token_total),
        )
        actual = (chain.call(m, "totalChannelWei"), chain.call(m, "totalChannelToken"),
                  chain.call(m, "getHubReserveWei"), chain.call(m, "getChannelBalances", user))
        if actual != expected:
            self.disagreements.append(f"step {self.steps} views: model {expected}, chain {actual}")


def walk(chain: Chain, seconds: float, seed: int, sign: str) -> ChannelWalk:
    machine = ChannelWalk(chain, seed, sign)
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        machine.step()
    machine.seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return machine


# ---------------------------------------------------------------------- 3. signing
def signing_rates(seconds: float) -> dict[str, float]:
    domain = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    user = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    key, fast = anvil_key(0), FastSigner(domain)

    def rate(work: Callable[[int], Any]) -> float:
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            work(count)
            count += 1
        return count / (time.perf_counter() - started)

    def state(i: int) -> ChannelState:
        return ChannelState(user, user, wei_balances=(i, 1), tx_count=(i + 1, 1))

    signature = fast.sign_channel(key, state(0))
    digest = fast.channel_digest(state(0))
    return {
        "channel_manager.signing (eth-account, coincurve backend)":
            rate(lambda i: sign_channel_state(key, domain, state(i))),
        "fuzzing.fastsign (coincurve directly)": rate(lambda i: fast.sign_channel(key, state(i))),
        "signature recovery (the model's ECDSA check)": rate(lambda i: recover(digest, signature)),
    }


# ---------------------------------------------------------------------- main
def measure(chain_factory: Callable[[], Chain], seconds: float, seed: int, deposits: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    calls, spent = raw_deposits(chain_factory(), deposits)
    out["userAuthorizedUpdate calls/s"] = calls / spent
    calls, spent = raw_exits(chain_factory(), seconds)
    out["startExit/emptyChannel calls/s"] = calls / spent
    for sign in ("fast", "reference"):
        machine = walk(chain_factory(), seconds, seed, sign)
        out[f"differential steps/s ({sign} signer)"] = machine.steps / machine.seconds  # type: ignore[attr-defined]
        out[f"  steps ({sign})"] = machine.steps
        out[f"  disagreements ({sign})"] = len(machine.disagreements)
        out[f"_walk_{sign}"] = machine
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--anvil", metavar="URL", help="a running anvil (default: start one)")
    args = parser.parse_args()
    if args.seconds <= 0:
        parser.error("--seconds must be positive")

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"keccak backend {os.environ['ETH_HASH_BACKEND']}")
    print("signing, 2 s each:")
    for name, rate in signing_rates(min(args.seconds, 2.0)).items():
        print(f"  {name:<58} {rate:>10,.0f} /s")

    print("revm ...", flush=True)
    on_revm = measure(RevmChain, args.seconds, args.seed, deposits=int(4000 * args.seconds))
    anvil = None if args.anvil else launch_anvil()
    url = args.anvil or anvil.url  # type: ignore[union-attr]
    try:
        print(f"anvil at {url} ...", flush=True)
        base = AnvilChain(url)
        snapshot = base.snapshot()

        def fresh_anvil() -> Chain:
            base.revert(snapshot)
            return AnvilChain(url)

        on_anvil = measure(fresh_anvil, args.seconds, args.seed, deposits=int(150 * args.seconds))
        base.revert(snapshot)
    finally:
        if anvil is not None:
            anvil.stop()

    print(f"\n{'measure':<44} {'revm':>12} {'anvil':>12} {'ratio':>8}")
    for name in on_revm:
        if name.startswith("_"):
            continue
        a, b = on_revm[name], on_anvil[name]
        if name.startswith("  "):
            print(f"{name:<44} {a:>12,} {b:>12,}")
        else:
            print(f"{name:<44} {a:>12,.0f} {b:>12,.0f} {a / b:>7.1f}x")
    for backend, results in (("revm", on_revm), ("anvil", on_anvil)):
        machine = results["_walk_fast"]
        print(f"\n{backend}, fast signer: outcomes of {machine.steps} steps")
        for outcome, count in machine.outcomes.most_common(12):
            print(f"  {count:>7,}  {outcome}")
        for line in machine.disagreements[:5]:
            print(f"  DISAGREEMENT {line}")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
