"""Throughput of the fuzzing engine's two chain backends, side by side. A benchmark: it prints
numbers and asserts nothing.

    python research/fuzz_throughput.py [--seconds 5] [--seed 1] [--anvil URL]

Without `--anvil` it starts a private anvil on a free port (the project's network settings)
and stops it at the end. Per backend (revm in process, anvil over JSON-RPC) it measures:

1. raw calls/s through the `Chain` interface (ABI encoding and result decoding included):
   `userAuthorizedUpdate` ETH deposits from pre-signed states, and `startExit` +
   `emptyChannel` pairs;
2. differential steps/s of fuzzing.channel_walk: one step is a random channel operation by a
   hub or one of three users (deposit, hub deposit, withdrawal, exit with a newer state, plain
   exit, challenge, emptying around the closing time ±1 s, a stale replay), its signing, the
   reference model's prediction (channel_manager/model.py, real ECDSA checks), the transaction,
   the comparison of outcome and error, and four invariant reads compared with the model
   (global totals, reserve, the user's channel). Measured once with fuzzing.fastsign and once
   with channel_manager.signing (eth-account) as the signer.

It also measures signing alone (states/s) for both signers and signature recovery. One core:
everything runs in this process (plus anvil's own threads for the anvil figures). Keccak for the
model and eth-utils is eth-hash's pysha3 backend unless ETH_HASH_BACKEND says otherwise (about
five times faster than its default, pycryptodome). The machine's load average is printed: on a
shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")  # read by eth-hash at its first use

from channel_manager import transitions
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.signing import recover, sign_channel_state
from channel_manager.states import ChannelState
from fuzzing.chain.anvil_chain import AnvilChain, launch_anvil
from fuzzing.chain.base import Chain
from fuzzing.chain.revm_chain import RevmChain
from fuzzing.channel_walk import ChannelWalk, Deployment
from fuzzing.fastsign import FastSigner


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
        result = chain.transact(
            d.manager, "userAuthorizedUpdate", state_tuple, sig_hub, sender=user, value=1
        )
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
        "channel_manager.signing (eth-account, coincurve backend)": rate(
            lambda i: sign_channel_state(key, domain, state(i))
        ),
        "fuzzing.fastsign (coincurve directly)": rate(lambda i: fast.sign_channel(key, state(i))),
        "signature recovery (the model's ECDSA check)": rate(lambda i: recover(digest, signature)),
    }


# ---------------------------------------------------------------------- main
def measure(
    chain_factory: Callable[[], Chain], seconds: float, seed: int, deposits: int
) -> dict[str, Any]:
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
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="time per measurement (default 5)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--anvil", metavar="URL", help="a running anvil (default: start one)")
    args = parser.parse_args()
    if args.seconds <= 0:
        parser.error("--seconds must be positive")

    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
        f"keccak backend {os.environ['ETH_HASH_BACKEND']}"
    )
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
