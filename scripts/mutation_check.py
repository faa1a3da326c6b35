"""Do the property/stateful tests bite? Known-bad edits of ChannelManager.sol, one at a time.

    python scripts/mutation_check.py [--network anvil] [--only NAME ...] [--examples 25]
                                     [--seed 1234] [--extra-tests tests/unit/dispute]

For each mutant: the project is copied to a temp dir (node_modules and .venv symlinked, build/
copied so only the mutated contract recompiles), the edit is applied to the copy's
`contracts/ChannelManager.sol` (the script fails loudly if the pattern is not found exactly
once), and `brownie test tests/stateful` (plus `--extra-tests`) runs against it on the given
brownie network (default `$NETWORK` or `anvil`; mutants run one after
the other, each launching and stopping its own anvil on that port). A mutant is *killed* when the
suite fails (pytest exit code 1), *survives* when it passes; any other outcome (compile error,
usage error) aborts. An unmutated baseline must pass first.

Writes reports/mutation.md and prints `killed/total` with the survivors.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = "contracts/ChannelManager.sol"

# name -> (description, exact original text, replacement). Each original must occur exactly once.
MUTANTS: dict[str, tuple[str, str, str]] = {
    "nonce-not-strict": (
        "drop the strict global nonce check (accept an equal txCount[0])",
        "if (state.txCount[0] <= channel.txCountGlobal) revert StaleTxCount",
        "if (state.txCount[0] < channel.txCountGlobal) revert StaleTxCount",
    ),
    "challenge-boundary-+1s": (
        "challenge window shifted by one second (`>=` to `>`): a challenge at closing time accepted",
        "if (block.timestamp >= channel.closingTime) revert ChallengeWindowClosed",
        "if (block.timestamp > channel.closingTime) revert ChallengeWindowClosed",
    ),
    "empty-boundary-+1s": (
        "emptyChannel by the initiator refused at exactly the closing time (`<` to `<=`)",
        "block.timestamp < channel.closingTime\n                && ((msg.sender != hub",
        "block.timestamp <= channel.closingTime\n                && ((msg.sender != hub",
    ),
    "pending-replay": (
        "allow a pending update to execute again (no PendingAlreadyExecuted)",
        "if (_hasPending(state) && state.txCount[1] == channel.txCountChain) {",
        "if (false && _hasPending(state) && state.txCount[1] == channel.txCountChain) {",
    ),
    "empty-pays-hub-side": (
        "emptying pays the user the hub's balance",
        "_payOrCredit(user, weiUser, tokenUser);",
        "_payOrCredit(user, weiHub, tokenHub);",
    ),
    "skip-hub-sig-dispute": (
        "skip the hub signature check in startExitWithUpdate / emptyChannelWithChallenge",
        "        _requireHubSignature(digest, sigHub);\n",
        "",
    ),
    "skip-user-sig-dispute": (
        "skip the user signature check in startExitWithUpdate / emptyChannelWithChallenge",
        "        _requireUserSignature(state.user, digest, sigUser);\n",
        "",
    ),
    "skip-user-sig-hub-update": (
        "skip the user signature check in hubAuthorizedUpdate",
        "        _requireUserSignature(state.user, _channelDigest(state), sigUser);\n",
        "",
    ),
    "reserve-includes-msg-value": (
        "measure the reserve including the user's msg.value (v1's theft bug)",
        "uint256 owed = uint256(_totalChannelWei) + _totalCreditWei + inFlightWei;",
        "uint256 owed = uint256(_totalChannelWei) + _totalCreditWei;",
    ),
    "skip-post-apply-within-total": (
        "skip the post-apply BalancesExceedTotal check (ETH) of authorized updates",
        "        _requireWithinTotal(weiHub, weiUser, weiTotal);\n",
        "",
    ),
    "forget-global-total-on-empty": (
        "forget to reduce the global ETH total when a channel is emptied",
        "            _totalChannelWei -= weiOut;\n",
        "",
    ),
    "initiator-challenges-itself": (
        "let the exit initiator challenge its own dispute",
        "if (_callerIsInitiator(channel)) revert CallerIsExitInitiator(msg.sender);",
        "",
    ),
    "onchain-count-not-checked": (
        "accept a lower txCount[1] (no StaleOnchainTxCount)",
        "if (state.txCount[1] < channel.txCountChain) {",
        "if (false && state.txCount[1] < channel.txCountChain) {",
    ),
    "nuke-one-second-early": (
        "nukeThreads allowed one second before the deadline",
        "if (block.timestamp < nukeTime) revert NukeTooEarly",
        "if (block.timestamp + 1 < nukeTime) revert NukeTooEarly",
    ),
    "deposit-value-not-exact": (
        "userAuthorizedUpdate accepts msg.value above the user deposit",
        "if (msg.value != state.pendingWeiUpdates[2]) revert WrongDepositValue",
        "if (msg.value < state.pendingWeiUpdates[2]) revert WrongDepositValue",
    ),
}

SKIP = {".git", "node_modules", ".venv", ".hypothesis", "reports", ".pytest_cache", "campaigns"}


def make_copy(dest: Path, test_dirs: list[str]) -> None:
    """Copy of the project with only the tests this check runs (other suites may be mid-edit)."""
    def ignore(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).relative_to(ROOT)
        out = {n for n in names if str(rel) == "." and n in SKIP}
        out |= {n for n in names if n == "__pycache__"}
        if str(rel) == "build":
            out |= {"tests.json"}
        if str(rel) == "tests":
            keep = {"__init__.py", "conftest.py", "helpers.py"} | {Path(t).parts[1] for t in test_dirs if len(Path(t).parts) > 1}
            out |= {n for n in names if n not in keep}
        return out

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    for link in ("node_modules", ".venv"):
        if (ROOT / link).exists():
            os.symlink(ROOT / link, dest / link)


def apply_mutant(copy: Path, name: str) -> None:
    _, old, new = MUTANTS[name]
    path = copy / CONTRACT
    text = path.read_text()
    count = text.count(old)
    if count != 1:
        raise SystemExit(f"mutant {name!r}: pattern found {count} times in {CONTRACT} (need exactly 1):\n{old!r}")
    path.write_text(text.replace(old, new))


def run_suite(copy: Path, args: argparse.Namespace, label: str) -> tuple[int, float, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{copy}/node_modules/.bin:{copy}/.venv/bin:{env.get('PATH', '')}",
        SOLCX_BINARY_PATH=str(ROOT / ".solcx"),
        PYTHONWARNINGS="ignore::FutureWarning",
        FUZZ_PROFILE="fast",
        FUZZ_EXAMPLES=str(args.examples),
        FUZZ_SEED=str(args.seed),
        FUZZ_NO_SHRINK="1",
    )
    cmd = ["brownie", "test", *args.tests, "--network", args.network, "-x", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=args.timeout)
    elapsed = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    (copy.parent / f"{label}.log").write_text(out)
    return proc.returncode, elapsed, out


def first_failure(out: str) -> str:
    lines = [ln.strip()[2:].strip() for ln in out.splitlines() if ln.strip().startswith("E ")]
    for wanted in ("AssertionError", "assert ", "Error"):
        for line in lines:
            if wanted in line:
                return line[:160]
    return "(see log)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", default=os.environ.get("NETWORK", "anvil"),
                        help="brownie network id (default $NETWORK or anvil)")
    parser.add_argument("--only", nargs="*", help="mutant names (default: all)")
    parser.add_argument("--examples", type=int, default=20, help="hypothesis examples per mutant run")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--extra-tests", nargs="*", default=[], help="more test paths to run on each mutant")
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs and logs")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        for name, (desc, _, _) in MUTANTS.items():
            print(f"{name:32} {desc}")
        return
    args.tests = ["tests/stateful", *args.extra_tests]
    names = args.only or list(MUTANTS)
    unknown = set(names) - set(MUTANTS)
    if unknown:
        raise SystemExit(f"unknown mutants: {sorted(unknown)}")

    work = Path(tempfile.mkdtemp(prefix="mutation-"))
    print(f"work dir {work}; network {args.network}; seed {args.seed}; {args.examples} examples per run")
    # every pattern must apply before anything runs
    probe = (ROOT / CONTRACT).read_text()
    for name in names:
        if probe.count(MUTANTS[name][1]) != 1:
            raise SystemExit(f"mutant {name!r}: pattern not found exactly once in {CONTRACT}")

    base = work / "baseline"
    make_copy(base, args.tests)
    rc, base_elapsed, out = run_suite(base, args, "baseline")
    print(f"baseline: exit {rc} in {base_elapsed:.0f} s", flush=True)
    if rc != 0:
        print(out[-3000:])
        raise SystemExit("the unmutated suite must pass first")

    results = []
    for name in names:
        copy = work / name
        make_copy(copy, args.tests)
        apply_mutant(copy, name)
        rc, elapsed, out = run_suite(copy, args, name)
        if rc not in (0, 1):
            print(out[-3000:])
            raise SystemExit(f"mutant {name}: unexpected exit code {rc} (compile or usage error?)")
        status = "killed" if rc == 1 else "SURVIVED"
        why = first_failure(out) if rc == 1 else ""
        results.append((name, status, elapsed, why))
        print(f"  {name:32} {status:8} {elapsed:6.0f} s  {why}", flush=True)
        if not args.keep:
            shutil.rmtree(copy, ignore_errors=True)

    killed = sum(1 for r in results if r[1] == "killed")
    survivors = [r[0] for r in results if r[1] != "killed"]
    summary = f"mutation check: {killed}/{len(results)} killed" + (f"; survived: {', '.join(survivors)}" if survivors else "")
    report = [
        "# Mutation check", "",
        f"`python scripts/mutation_check.py --network {args.network} --examples {args.examples} --seed {args.seed}`", "",
        f"Suite: `brownie test {' '.join(args.tests)}` (fast profile, FUZZ_SEED={args.seed}, "
        f"FUZZ_EXAMPLES={args.examples}, FUZZ_NO_SHRINK=1). Baseline passed in {base_elapsed:.0f} s.", "",
        f"**{killed}/{len(results)} killed**", "",
        "| mutant | edit | result | time (s) | first failing check |", "|---|---|---|---|---|",
    ]
    for name, status, secs, why in results:
        report.append(f"| `{name}` | {MUTANTS[name][0]} | {status} | {secs:.0f} | {why.replace('|', '/')} |")
    out_dir = ROOT / "reports"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "mutation.md").write_text("\n".join(report) + "\n")
    print(summary)
    print(f"report: {out_dir / 'mutation.md'}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
