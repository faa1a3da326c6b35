"""A deployer's rehearsal on a **live** network, run exactly as docs/operations.md says: an anvil
of the test's own (chain id 11155111, like Sepolia) registered with `brownie networks add` in a
private brownie home, the project in a folder whose path has a dot, and every step a subprocess
of `python tools/run_script.py`: deploy (cut short while it waits, the node stopped mid-wait,
resumed without a second contract), verify, hub fund/withdraw/status, a channel deposit and a
stale exit, and the hub's watchtower answering it. Then each bad input: one line on stderr,
exit status 2, nothing sent."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from brownie import ChannelManager
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector

from channel_manager import transitions
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.ops.envelopes import channel_envelope, write_envelope
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from scripts import verify_deployment
from tests.scripts.rehearsal import (
    PYTHON,
    ROOT,
    Node,
    dotted_checkout,
    error_lines,
    free_port,
    private_home,
    register_network,
    run_script,
    save_keystore,
    script_env,
)

ETHER = 10**18
CHAIN_ID = 11155111
NETWORK = "sepolia-rehearsal"
PASSWORD = "rehearsal password"
DEPLOYER, HUB, ALICE, MINTER = (Account.from_key(anvil_key(i)).address for i in (0, 1, 2, 9))
CONFIG = f"""networks:
  {NETWORK}:
    chain_id: {CHAIN_ID}
    hub: null                 # CM_HUB when deploying
    token: null               # CM_TOKEN when deploying
    challenge_period: 3600
    account: keystore:cm-deployer
    confirmations: 1
    tx_timeout: 20
"""


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("live")
    # verify's cache of solc's immutable positions, made here so that the copy does not spend
    # its own compile on it (that compile is tested by test_verify and test_export)
    verify_deployment.immutable_references(ChannelManager._build)
    checkout = dotted_checkout(base)
    home = private_home(base)
    node = Node(free_port(), CHAIN_ID, base / "anvil-state.json").start()
    register_network(checkout, home, NETWORK, node.port, CHAIN_ID)
    save_keystore(home, "cm-deployer", anvil_key(0), PASSWORD)
    (base / "config.yaml").write_text(CONFIG)

    class Rehearsal:
        pass

    r = Rehearsal()
    r.base, r.checkout, r.home, r.node = base, checkout, home, node
    r.env = {
        "CM_CONFIG": str(base / "config.yaml"),
        "CM_DEPLOYMENTS_DIR": str(base / "deployments"),
        "CM_KEYSTORE_PASSWORD": PASSWORD,
    }
    r.token = deploy_test_token(node)
    yield r
    node.kill()


def deploy_test_token(node: Node) -> str:
    """The ERC20 the rehearsal uses (CM_TOKEN), deployed and minted by an unrelated account."""
    build = json.loads((ROOT / "build" / "contracts" / "TestToken.json").read_text())
    data = build["bytecode"] + encode(["string", "string"], ["Test Dai", "TDAI"]).hex()
    token = node.send(MINTER, None, "0x" + data.removeprefix("0x"))["contractAddress"]
    mint = function_signature_to_4byte_selector("mint(address,uint256)")
    for holder in (HUB, ALICE):
        node.send(
            MINTER,
            token,
            "0x" + (mint + encode(["address", "uint256"], [holder, 1000 * ETHER])).hex(),
        )
    return str(token)


def run(r: Any, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script(r.checkout, r.home, *args, "--network", NETWORK, env={**r.env, **env})


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def one_error(result: subprocess.CompletedProcess[str], status: int, *fragments: str) -> str:
    lines = error_lines(result)
    assert result.returncode == status, result.stdout + result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def as_hub(**extra: str) -> dict[str, str]:
    return {"CM_ACCOUNT": "privkey", "CM_PRIVATE_KEY": "0x" + anvil_key(1).hex(), **extra}


def as_alice(**extra: str) -> dict[str, str]:
    return {"CM_ACCOUNT": "privkey", "CM_PRIVATE_KEY": "0x" + anvil_key(2).hex(), **extra}


def record_of(r: Any) -> tuple[Path, dict[str, Any]]:
    [path] = [
        p for p in (r.base / "deployments").glob(f"{CHAIN_ID}-*.json") if p.stem.count(".") == 0
    ]
    return path, json.loads(path.read_text())


def wait_for_line(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(
        f"{text!r} never appeared in {path}: {path.read_text() if path.exists() else ''}"
    )


# ------------------------------------------------------------------ the rehearsal


def test_deploy_operate_and_watch_on_a_live_network(rehearsal):
    r, node = rehearsal, rehearsal.node
    deploy_env = {"CM_HUB": HUB, "CM_TOKEN": r.token, "CM_YES": "1"}

    # dry run: the summary with the fee model the real run uses; nothing sent
    out = ok(run(r, "scripts/deploy.py", CM_DRY_RUN="1", **deploy_env))
    assert "EIP-1559: max fee" in out and "dry run: nothing was sent" in out
    assert node.nonce(DEPLOYER, "pending") == 0

    # 1. the node mines nothing: the deploy prints hash and address, writes a pending record,
    #    and gives up after CM_TX_TIMEOUT (exit 3) instead of hanging
    node.rpc("evm_setAutomine", [False])
    first = run(r, "scripts/deploy.py", CM_TX_TIMEOUT="2", **deploy_env)
    one_error(first, 3, "was sent but not mined yet after 2 s")
    txid = re.search(r"sent ChannelManager deployment: (0x[0-9a-f]{64})", first.stdout).group(1)
    address = re.search(r"the contract will be at (0x[0-9a-fA-F]{40})", first.stdout).group(1)
    _path, pending = record_of(r)
    assert (pending["status"], pending["transaction"], pending["address"]) == (
        "pending",
        txid,
        address,
    )

    # 2. a rerun finds it and waits again: nothing new is sent
    again = run(r, "scripts/deploy.py", CM_TX_TIMEOUT="1", **deploy_env)
    one_error(again, 3, txid)
    assert "resuming the pending deployment" in again.stdout and "still pending" in again.stdout
    assert node.nonce(DEPLOYER, "pending") == 1 and record_of(r)[1]["attempts"] == [txid]

    # 3. the node stops while a rerun waits, and restarts from its saved state without its
    #    transaction pool: the waiting deploy rides out the drop, sends the same signed
    #    transaction again (same hash), sees it mined, then waits for a second confirmation
    #    that never comes (the node mines no new block) and stops with a `mined` record
    log = r.base / "resume.log"
    with log.open("w") as sink:
        waiting = subprocess.Popen(
            [str(PYTHON), "tools/run_script.py", "scripts/deploy.py", "--network", NETWORK],
            cwd=r.checkout,
            env=script_env(
                r.home, {**r.env, **deploy_env, "CM_TX_TIMEOUT": "8", "CM_CONFIRMATIONS": "2"}
            ),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    wait_for_line(log, "still pending: waiting for it again")
    node.stop()
    time.sleep(1.2)  # the waiting deploy (polling each second) sees the node gone
    node.start(from_state=True)
    assert node.rpc("eth_getTransactionByHash", [txid]) is None  # the pool was lost
    assert waiting.wait(60) == 3, log.read_text()
    text = log.read_text()
    assert "the node stopped answering" in text and "sent the same signed transaction again" in text
    assert "has 1 of 2 confirmations" in text and "Traceback" not in text
    assert record_of(r)[1]["status"] == "mined"

    # 4. one more block, one more rerun: the record is finished; one contract, one nonce used
    node.rpc("evm_mine")
    out = ok(run(r, "scripts/deploy.py", CM_CONFIRMATIONS="2", **deploy_env))
    assert f"ChannelManager deployed at {address} (tx {txid}" in out
    _, record = record_of(r)
    assert (record["status"], record["address"], record["transaction"]) == (
        "deployed",
        address,
        txid,
    )
    assert node.nonce(DEPLOYER) == 1 and node.code(address) != "0x"
    one_error(run(r, "scripts/deploy.py", **deploy_env), 2, f"names ChannelManager {address}")
    assert node.nonce(DEPLOYER, "pending") == 1

    # verify: read-only (no hub, token or account configured); a wrong stated hub is a MISMATCH
    out = ok(run(r, "scripts/verify_deployment.py"))
    assert f"MATCH: {address}" in out
    wrong = run(r, "scripts/verify_deployment.py", CM_HUB=ALICE)
    assert (
        wrong.returncode == 1 and "MISMATCH" in wrong.stdout and "stated settings" in wrong.stdout
    )

    # the hub's reserve
    ok(run(r, "scripts/hub.py", "fund", "2ether", "100ether", **as_hub()))
    ok(run(r, "scripts/hub.py", "withdraw", "1ether", "0", **as_hub()))
    out = ok(run(r, "scripts/hub.py", "status"))
    assert "reserve            1 ETH, 100 tokens" in out

    # alice deposits ETH and tokens: the dry run simulates the deposit as if approved first
    domain = Domain(CHAIN_ID, address)
    proposal = transitions.propose_deposit(
        ChannelState(ALICE, ALICE), user_wei=ETHER, user_token=10 * ETHER
    )
    deposit = r.base / "deposit.json"
    write_envelope(
        deposit,
        channel_envelope(
            proposal, sign_channel_state(anvil_key(1), domain, proposal), None, domain
        ),
    )
    out = ok(run(r, "scripts/channel.py", "update", str(deposit), **as_alice(CM_DRY_RUN="1")))
    assert "dry run: would send approval" in out and "dry run: would send authorized update" in out
    assert node.nonce(ALICE) == 0
    ok(run(r, "scripts/channel.py", "update", str(deposit), **as_alice()))
    assert "Open, txCount [1, 1]" in ok(run(r, "scripts/channel.py", "show", ALICE))

    # alice exits with a stale state; the hub's watchtower holds the newest and answers
    acked = transitions.acknowledge(proposal)
    paid = transitions.pay(acked, to_hub=True, wei=4 * ETHER // 10)
    files = {}
    for name, state in (("acked", acked), ("paid", paid)):
        files[name] = r.base / f"{name}.json"
        sigs = [sign_channel_state(anvil_key(i), domain, state) for i in (1, 2)]
        write_envelope(files[name], channel_envelope(state, *sigs, domain))
    assert "kept" in ok(run(r, "scripts/watchtower.py", "add", str(files["paid"])))
    ok(run(r, "scripts/channel.py", "exit_with", str(files["acked"]), **as_alice()))
    before = node.balance(ALICE)
    watch = run(r, "scripts/watchtower.py", **as_hub(CM_WATCH_MAX_POLLS="1", CM_WATCH_INTERVAL="0"))
    assert watch.returncode == 0 and "answered" in watch.stderr, watch.stdout + watch.stderr
    assert node.balance(ALICE) == before + 6 * ETHER // 10
    assert "Open, txCount [3, 1]" in ok(run(r, "scripts/channel.py", "show", ALICE))
    assert "answered" in ok(run(r, "scripts/watchtower.py", "status"))
    # brownie wrote nothing about these contracts into the project (its live-network persisting)
    assert not list((r.checkout / "build" / "deployments").glob(f"{CHAIN_ID}/*.json"))


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "args, extra, status_fragment",
    [
        (
            ["scripts/hub.py", "status", "--network", "no-such-network"],
            {},
            "unknown network 'no-such-network'",
        ),
        (["scripts/hub.py", "fund", "1", "2", "3"], {}, "wrong number of arguments"),
        (
            ["scripts/hub.py", "stauts"],
            {},
            "has no command 'stauts' (commands: fund, main, status, withdraw)",
        ),
        (
            ["scripts/deploy.py"],
            {"CM_DRY_RUN": "maybe"},
            "CM_DRY_RUN='maybe' is not a yes/no value",
        ),
        (["scripts/hub.py", "fund", "1e400", "0"], {}, "is above the largest amount"),
        (
            ["scripts/deploy.py"],
            {"CM_MAX_FEE": "0", "CM_DEPLOYMENTS_DIR": "<empty>"},
            "max fee 0 gwei is below",
        ),
    ],
    ids=[
        "unknown-network",
        "extra-argument",
        "misspelt-command",
        "bad-flag",
        "huge-amount",
        "fee-below-base",
    ],
)
def test_bad_input_is_one_line_and_exit_2(rehearsal, args, extra, status_fragment):
    r = rehearsal
    before = r.node.nonce(DEPLOYER, "pending"), r.node.nonce(HUB, "pending")
    network = [] if "--network" in args else ["--network", NETWORK]
    env = {**r.env, "CM_HUB": HUB, "CM_TOKEN": r.token, "CM_YES": "1", **as_hub(), **extra}
    if env["CM_DEPLOYMENTS_DIR"] == "<empty>":  # no record: the deploy gets as far as its fees
        env["CM_DEPLOYMENTS_DIR"] = str(r.base / "no-records")
    if args[0] == "scripts/deploy.py":
        env.pop("CM_ACCOUNT"), env.pop("CM_PRIVATE_KEY")
    result = run_script(r.checkout, r.home, *args, *network, env=env)
    error = one_error(result, 2, status_fragment)
    assert len(error) < 200
    assert "deployment on" not in result.stdout  # refused before the summary
    assert (r.node.nonce(DEPLOYER, "pending"), r.node.nonce(HUB, "pending")) == before


def test_node_down_is_one_line_and_exit_2(rehearsal):
    r = rehearsal
    dead = free_port()  # nothing listens there
    register_network(r.checkout, r.home, "down", dead, CHAIN_ID)
    for args in (["scripts/hub.py", "status"], ["scripts/deploy.py"]):
        result = run_script(r.checkout, r.home, *args, "--network", "down", env=r.env)
        one_error(result, 2, "network 'down'")
