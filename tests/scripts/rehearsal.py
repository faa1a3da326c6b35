"""What the command-line tests need to act like a deployer: a copy of the project under a folder
whose path has a dot, a private brownie home (the developer's ~/.brownie is never touched), a
node of their own on a free port of 127.0.0.1, and the scripts run as subprocesses through
tools/run_script.py."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
from eth_account import Account

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
PYTHON = Path(sys.executable)
BROWNIE = PYTHON.with_name("brownie")
# What a checkout needs to run the scripts (build/ copied so nothing is recompiled).
COPIED = (
    "brownie-config.yaml", "contracts", "interfaces", "scripts", "channel_manager", "tools",
    "deployments/config.yaml", "build/contracts", "build/interfaces",
    "build/immutable_references.json",  # verify's cache of solc's immutable positions
)  # fmt: skip
RESERVED_PORTS = {8545, 8548, 8551, 8552, 8553, 8554, 8555}


def dotted_checkout(base: Path) -> Path:
    """A copy of the project at `<base>/src.example.org/repo`: a real folder (not a symlink,
    which brownie would resolve away) whose path has a dot, as in ~/src/github.com/org/repo.
    node_modules is linked (it is only read)."""
    root = base / "src.example.org" / "repo"
    for name in COPIED:
        source, target = ROOT / name, root / name
        if not source.exists():  # a cache not made yet
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    assert "." in root.resolve().parent.name
    return root


def private_home(base: Path) -> Path:
    """A HOME of its own: brownie keeps its networks and keystores in $HOME/.brownie."""
    home = base / "home"
    (home / ".brownie" / "accounts").mkdir(parents=True)
    return home


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def script_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment less the caller's own CM_* settings, with the private home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CM_")}
    env.update(
        HOME=str(home), PYTHONWARNINGS="ignore", PATH=f"{ANVIL.parent}:{env.get('PATH', '')}"
    )
    env.update(extra or {})
    return env


def run_script(
    checkout: Path,
    home: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python tools/run_script.py ARGS…` in the checkout, as a deployer types it."""
    return run_in(
        checkout, home, [str(PYTHON), "tools/run_script.py", *args], env=env, timeout=timeout
    )


def brownie_cli(checkout: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_in(checkout, home, [str(BROWNIE), *args])


def run_in(
    checkout: Path,
    home: Path,
    command: list[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`command` in the checkout with the private home, output captured, no input."""
    return subprocess.run(
        command,
        cwd=checkout,
        env=script_env(home, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def register_network(checkout: Path, home: Path, name: str, port: int, chain_id: int) -> None:
    """docs/operations.md's recipe: a live (non-development) network in brownie's registry."""
    result = brownie_cli(
        checkout, home, "networks", "add", "Ethereum", name,
        f"host=http://127.0.0.1:{port}", f"chainid={chain_id}",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def save_keystore(home: Path, name: str, key: bytes, password: str) -> None:
    """A brownie keystore account, as `brownie accounts new NAME` would write it."""
    path = home / ".brownie" / "accounts" / f"{name}.json"
    path.write_text(json.dumps(Account.encrypt(key, password)))


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


class Node:
    """An anvil of the test's own. It writes its state to `state_file` when stopped, and a fixed
    genesis timestamp makes a node restarted from that file the same chain (same genesis hash,
    same blocks), without the transactions that were only in its pool."""

    def __init__(self, port: int, chain_id: int, state_file: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.state_file = state_file
        self.args = [
            str(ANVIL), "--port", str(port), "--chain-id", str(chain_id), "--silent",
            "--timestamp", str(int(time.time())), "--dump-state", str(state_file),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, from_state: bool = False) -> Node:
        """Start, and answer only once serving: a restart loads its state before it serves."""
        extra = ["--load-state", str(self.state_file)] if from_state else []
        self.process = subprocess.Popen(
            [*self.args, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.rpc("eth_chainId")
                return self
            except requests.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"anvil did not start on port {self.port}")

    def stop(self) -> None:
        """Stop the node (SIGTERM: it writes its state file and exits)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        answer = requests.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
            timeout=10,
        ).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def send(self, sender: str, to: str | None, data: str, value: int = 0) -> dict[str, Any]:
        """A transaction from an account the node unlocked, mined (automine) and checked."""
        tx = {"from": sender, "data": data, "value": hex(value)}
        if to is not None:
            tx["to"] = to
        txid = self.rpc("eth_sendTransaction", [tx])
        # Automine returns the hash before the block is always visible on a loaded machine:
        # wait (bounded) for the receipt instead of reading it once.
        deadline = time.monotonic() + 30
        receipt = self.rpc("eth_getTransactionReceipt", [txid])
        while receipt is None and time.monotonic() < deadline:
            time.sleep(0.05)
            receipt = self.rpc("eth_getTransactionReceipt", [txid])
        assert receipt is not None and int(receipt["status"], 16) == 1, receipt
        return receipt

    def nonce(self, address: str, block: str = "latest") -> int:
        return int(self.rpc("eth_getTransactionCount", [address, block]), 16)

    def balance(self, address: str) -> int:
        return int(self.rpc("eth_getBalance", [address, "latest"]), 16)

    def code(self, address: str) -> str:
        return str(self.rpc("eth_getCode", [address, "latest"]))


def dotted_checkout_with_make(base: Path) -> Path:
    """The dotted copy plus what `make` needs: the Makefile, the set-up inputs and stamps, and
    the installed .venv linked (set-up then only compares stamps, about a second)."""
    root = dotted_checkout(base)
    for name in ("Makefile", "requirements.lock", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / ".setup-stamps", root / ".setup-stamps")
    (root / ".venv").symlink_to(ROOT / ".venv")
    return root
