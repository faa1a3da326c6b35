"""Throughput of the reference model alone: random valid and invalid steps, no chain.

    python research/model_benchmark.py [--steps 20000] [--seed 1]

Signatures use the model's cheap deterministic `TableOracle` (no ECDSA), so what is measured
is the model's own rules plus EIP-712 hashing. Prints steps/second and how many steps the
model accepted or refused (by error name). Plain python; needs no chain and no brownie.
"""

from __future__ import annotations

import argparse
import collections
import functools
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channel_manager import errors as E
from channel_manager.eip712 import channel_digest, thread_digest
from channel_manager.model import ChannelManagerModel, Status, TableOracle, World
from fuzzing.ledger import Ledger

HUB = "0x" + "11" * 20
USERS = ["0x" + c * 40 for c in "def"]
STRANGER = "0x" + "99" * 20
CONTRACT = "0x" + "cc" * 20
PERIOD = 3600
ETH = 10**18


@functools.cache
def method_name(entry_point: str) -> str:
    """The model's method for a contract entry point: hubAuthorizedUpdate -> hub_authorized_update."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", entry_point).lower()


def make(seed: int):
    from eth_utils import to_checksum_address

    hub, users = to_checksum_address(HUB), [to_checksum_address(u) for u in USERS]
    oracle = TableOracle()
    world = World(refuses_eth={users[2]})  # one user rejects ETH: its payouts become credits
    model = ChannelManagerModel(
        hub, PERIOD, to_checksum_address(CONTRACT), signatures=oracle, world=world
    )
    model.receive_eth(100 * ETH)
    model.receive_tokens(10_000 * ETH)
    ledger = Ledger(
        hub,
        users,
        lambda s, who: oracle.sign(who, channel_digest(model.domain, s)),
        lambda t, who: oracle.sign(who, thread_digest(model.domain, t)),
    )
    return model, ledger, random.Random(seed)


def run(steps: int, seed: int) -> tuple[float, collections.Counter]:
    model, ledger, rnd = make(seed)
    hub, users = ledger.hub, ledger.users
    stranger = "0x" + "99" * 20
    from eth_utils import to_checksum_address

    stranger = to_checksum_address(stranger)
    now = 1_700_000_000
    outcomes: collections.Counter = collections.Counter()

    def call(name, caller, *args):
        """`caller` calls the model's entry point `name` (as the ABI spells it) now."""
        try:
            getattr(model, method_name(name))(caller, now, *args)
            outcomes[name + ":ok"] += 1
            return True
        except E.ChannelError as exc:
            outcomes[name + ":" + exc.name] += 1
            return False

    start = time.perf_counter()
    for _ in range(steps):
        user = rnd.choice(users)
        ch = model.channel(user)
        kind = rnd.randrange(14)
        now += rnd.choice((1, 1, 1, 60, PERIOD - 1, PERIOD, PERIOD + 1, 10 * PERIOD))
        amt = lambda: rnd.choice((0, 1, 10**15, ETH, 3 * ETH, 200 * ETH))  # noqa: E731
        if kind == 0:  # user deposit (user ETH/tokens + hub from reserve)
            uw, ut, hw, ht = amt(), amt(), amt(), amt()
            if not any((uw, ut, hw, ht)):
                uw = ETH
            rec = ledger.propose_deposit(user, user_wei=uw, user_token=ut, hub_wei=hw, hub_token=ht)
            value = uw if rnd.random() < 0.95 else uw + 1
            if call("userAuthorizedUpdate", user, rec.state, rec.sig_hub, value):
                ledger.acknowledge(user)
        elif kind == 1:  # hub deposit from reserve
            rec = ledger.propose_deposit(user, hub_wei=amt() or 1, hub_token=amt())
            if call("hubAuthorizedUpdate", hub, rec.state, rec.sig_user):
                ledger.acknowledge(user)
        elif kind == 2:  # withdrawal
            s = ledger.settled_newest(user)
            uw, ht = rnd.randint(0, s.wei_balances[1]), rnd.randint(0, s.token_balances[0])
            if uw or ht:
                rec = ledger.propose_withdrawal(user, user_wei=uw, hub_token=ht)
                fn = rnd.choice(("hub", "user"))
                ok = (
                    call("hubAuthorizedUpdate", hub, rec.state, rec.sig_user)
                    if fn == "hub"
                    else call("userAuthorizedUpdate", user, rec.state, rec.sig_hub, 0)
                )
                if ok:
                    ledger.acknowledge(user)
        elif kind == 3:
            ledger.pay(user, rnd.random() < 0.5, amt(), amt())
            ledger.swap(user, amt(), amt())
            outcomes["offchain"] += 1
            continue
        elif kind == 4 and ledger.history[user]:  # any state of the history through any entry point
            rec = rnd.choice(ledger.history[user])
            caller = rnd.choice((hub, user, stranger))
            entry = rnd.randrange(5)
            sig_hub = rec.sig_hub if rnd.random() < 0.9 else rec.sig_user
            if entry == 0:
                call("hubAuthorizedUpdate", caller, rec.state, rec.sig_user)
            elif entry == 1:
                call(
                    "userAuthorizedUpdate",
                    caller,
                    rec.state,
                    sig_hub,
                    rec.state.pending_wei_updates[2],
                )
            elif entry == 2:
                call("startExitWithUpdate", caller, rec.state, sig_hub, rec.sig_user)
            else:
                call("emptyChannelWithChallenge", caller, rec.state, sig_hub, rec.sig_user)
        elif kind == 5:
            call("startExit", rnd.choice((hub, user, stranger)), user)
        elif kind == 6 or (kind == 7 and ch.status == Status.CHANNEL_DISPUTE):
            if call("emptyChannel", rnd.choice((hub, user, stranger)), user):
                c = model.channel(user)
                ledger.restart_after_empty(user, (c.tx_count_global, c.tx_count_chain))
        elif kind == 8:
            other = rnd.choice([u for u in users if u != user])
            t = ledger.open_thread(user, other, amt(), amt())
            if t and rnd.random() < 0.7:
                ledger.thread_pay(
                    t,
                    rnd.randint(0, t.initial.wei_balances[0]),
                    rnd.randint(0, t.initial.token_balances[0]),
                )
            outcomes["offchain"] += 1
            continue
        elif kind == 9 and ch.status == Status.THREAD_DISPUTE:
            # thread disputes on the root the model stores, then the nuke deadline
            threads = ledger.roots.get((user, bytes(ch.thread_root)), [])
            if threads and rnd.random() < 0.7:
                t = rnd.choice(threads)
                proof = ledger.proof(user, t, threads)
                if model.thread(*t.initial.key).closing_time == 0:
                    if t.updates and rnd.random() < 0.5:
                        upd, sig = t.updates[-1]
                        call(
                            "startExitThreadWithUpdate",
                            rnd.choice((hub, user)),
                            user,
                            t.initial,
                            proof,
                            t.sig_initial,
                            upd,
                            sig,
                        )
                    else:
                        call(
                            "startExitThread",
                            rnd.choice((hub, user)),
                            user,
                            t.initial,
                            proof,
                            t.sig_initial,
                        )
                elif t.updates and rnd.random() < 0.3:
                    upd, sig = t.updates[-1]
                    call("challengeThread", rnd.choice((hub, upd.sender, upd.receiver)), upd, sig)
                else:
                    call(
                        "emptyThread",
                        rnd.choice((hub, user)),
                        user,
                        t.initial,
                        proof,
                        t.sig_initial,
                    )
            else:
                call("nukeThreads", stranger, user)
        elif kind == 10:  # the contract and zero are refused as recipients (InvalidRecipient)
            to = rnd.choice((hub, user, user, model.address, "0x" + "00" * 20))
            call("claim", rnd.choice(users), to)
        elif kind == 12:  # a colluding hub and sender commit two initial states for one key (H-1)
            other = rnd.choice([u for u in users if u != user])
            ledger.open_conflicting_thread(user, other, amt(), amt(), rnd.random() < 0.5)
            outcomes["offchain"] += 1
            continue
        elif kind == 13 and ch.status == Status.THREAD_DISPUTE:
            # the sender signs any state with the initial sums: any receiver balances, any
            # txCount (M-2); challengeThread orders them per asset by the receiver's maximum
            threads = ledger.roots.get((user, bytes(ch.thread_root)), [])
            if threads:
                init = rnd.choice(threads).initial
                (w, _), (tk, _) = init.wei_balances, init.token_balances
                wr, tr = rnd.randint(0, w), rnd.randint(0, tk)
                upd = init.evolve(
                    wei_balances=(w - wr, wr),
                    token_balances=(tk - tr, tr),
                    tx_count=rnd.choice((0, 1, 7, 2**64 - 1, 2**64 + 1)),
                )
                call(
                    "challengeThread",
                    rnd.choice((hub, upd.sender, upd.receiver)),
                    upd,
                    ledger.sign_thread(upd, upd.sender),
                )
        else:
            call("hubContractWithdraw", hub, rnd.choice((0, 10**15)), 0)
        # invariants of docs/protocol.md §10 on the model itself
        assert model.eth_balance >= model.total_channel_wei + model.total_credit_wei
        assert model.token_balance >= model.total_channel_token + model.total_credit_token
        for c in model.channels.values():
            assert (
                c.wei_hub + c.wei_user <= c.wei_total
                and c.token_hub + c.token_user <= c.token_total
            )
        assert model.total_channel_wei == sum(c.wei_total for c in model.channels.values())
    elapsed = time.perf_counter() - start
    return elapsed, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-v", "--verbose", action="store_true", help="print outcomes by error name")
    args = parser.parse_args()
    elapsed, outcomes = run(args.steps, args.seed)
    model_calls = sum(v for k, v in outcomes.items() if k != "offchain")
    accepted = sum(v for k, v in outcomes.items() if k.endswith(":ok"))
    print(
        f"{args.steps} steps ({model_calls} model calls: {accepted} accepted, {model_calls - accepted} refused, "
        f"{outcomes['offchain']} off-chain) in {elapsed:.2f} s"
    )
    print(f"model: {args.steps / elapsed:,.0f} steps/s, {model_calls / elapsed:,.0f} model calls/s")
    if args.verbose:
        for k, v in sorted(outcomes.items()):
            print(f"  {k:45} {v}")


if __name__ == "__main__":
    main()
