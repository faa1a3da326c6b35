"""The anvil chain: the same interface over anvil's JSON-RPC, one mined block per transaction.

It talks to anvil directly with one keep-alive HTTP session instead of through brownie's
transaction machinery (about 25 ms a transaction there, TOOLCHAIN.md): each transaction is one
HTTP request carrying a JSON-RPC batch `[evm_setNextBlockTimestamp, eth_sendTransactionSync]`,
so it is mined at exactly `chain.time` and its receipt comes back in the same round trip.
Senders need no keys (`anvil_autoImpersonateAccount`), gas price is 0, and revert data or a
function's return data, which receipts do not carry, is read from `debug_traceTransaction`
(callTracer) only when needed: on a failure, or for a function with outputs.

Use `AnvilChain.from_brownie()` inside `brownie test`/`brownie run` (the connected network's
endpoint), `AnvilChain(url)` for any running anvil, or `launch_anvil()` to start a private one.
anvil runs its default hardfork (Osaka+ for anvil 1.7.1) with real EIP-7702, so `delegate` here
is the reference behaviour that the revm backend emulates.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time as _time
from pathlib import Path
from typing import Any

import requests

from fuzzing.abi import checksum
from fuzzing.artifacts import PROJECT_ROOT
from fuzzing.chain.base import (
    BLOCK_GAS_LIMIT,
    DEFAULT_TIMESTAMP,
    DELEGATION_PREFIX,
    MAX_TX_GAS,
    Chain,
    ChainError,
    RawOutcome,
    address_of,
)

_REVERTED = "execution reverted"


class AnvilChain(Chain):
    """A chain over the anvil JSON-RPC endpoint `url`. Its clock starts at `timestamp`."""

    backend = "anvil"

    def __init__(self, url: str, *, timestamp: int = DEFAULT_TIMESTAMP) -> None:
        self._url = url
        self._http = requests.Session()
        self._request_id = 0
        chain_id = int(self._rpc("eth_chainId", []), 16)
        super().__init__(chain_id, timestamp)
        self._rpc("anvil_autoImpersonateAccount", [True])
        self._last_block_time = int(
            self._rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16
        )
        self._checked_senders: set[str] = set()

    @classmethod
    def from_brownie(cls, **kwargs: Any) -> AnvilChain:
        """The anvil that brownie is connected to (`brownie test --network anvil-hN`)."""
        from brownie import web3  # only here: the package itself never needs brownie

        return cls(web3.provider.endpoint_uri, **kwargs)

    # ------------------------------------------------------------------ JSON-RPC
    def _post(self, payload: Any) -> Any:
        try:
            response = self._http.post(self._url, json=payload, timeout=60)
        except requests.RequestException as exc:
            raise ChainError(f"anvil at {self._url} is unreachable: {exc}") from None
        return response.json()

    def _call(self, method: str, params: list[Any]) -> dict[str, Any]:
        self._request_id += 1
        return {"jsonrpc": "2.0", "id": self._request_id, "method": method, "params": params}

    def _rpc(self, method: str, params: list[Any]) -> Any:
        reply = self._post(self._call(method, params))
        if "error" in reply:
            raise ChainError(f"anvil {method}: {reply['error'].get('message', reply['error'])}")
        return reply["result"]

    # ------------------------------------------------------------------ transactions
    def _execute(
        self, sender: str, to: str | None, data: bytes, value: int, gas: int, want_output: bool
    ) -> RawOutcome:
        self._check_sender(sender)
        tx: dict[str, Any] = {
            "from": sender,
            "gas": hex(gas),
            "gasPrice": "0x0",
            "value": hex(value),
            "data": "0x" + data.hex(),
        }
        if to is not None:
            tx["to"] = to
        batch = []
        if self._time < self._last_block_time:  # anvil only moves backwards through evm_setTime
            batch.append(self._call("evm_setTime", [self._time]))
        batch.append(self._call("evm_setNextBlockTimestamp", [self._time]))
        batch.append(self._call("eth_sendTransactionSync", [tx]))
        replies = self._post(batch)
        for reply in replies[:-1]:
            if "error" in reply:  # the transaction may have been mined at another time
                raise ChainError(f"anvil refused the timestamp {self._time}: {reply['error']}")
        if "error" in replies[-1]:
            raise ChainError(
                f"anvil refused the transaction: {replies[-1]['error'].get('message')}"
            )
        receipt = replies[-1]["result"]
        mined_at = receipt.get("blockTimestamp")
        mined_at = int(mined_at, 16) if isinstance(mined_at, str) else mined_at
        if mined_at != self._time:
            raise ChainError(f"anvil mined at {mined_at}, expected {self._time}")
        self._last_block_time = self._time
        success = receipt["status"] == "0x1"
        logs = tuple(
            (
                log["address"],
                tuple(bytes.fromhex(t[2:]) for t in log["topics"]),
                bytes.fromhex(log["data"][2:]),
            )
            for log in receipt["logs"]
        )
        output, halted, reason = b"", False, ""
        if not success or want_output:
            trace = self._rpc(
                "debug_traceTransaction", [receipt["transactionHash"], {"tracer": "callTracer"}]
            )
            output = bytes.fromhex(trace.get("output", "0x")[2:])
            error = trace.get("error")
            if error and error != _REVERTED:
                halted, reason, output = True, error, b""
        created = receipt.get("contractAddress")
        return RawOutcome(
            success,
            int(receipt["gasUsed"], 16),
            output,
            logs,
            checksum(created) if created and success else None,
            halted,
            reason,
        )

    def _static_call(self, sender: str, to: str, data: bytes) -> tuple[bool, bytes]:
        call = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(MAX_TX_GAS)}
        reply = self._post(self._call("eth_call", [call, "latest", {}, {"time": hex(self._time)}]))
        if "error" not in reply:
            return True, bytes.fromhex(reply["result"][2:])
        error = reply["error"]
        revert_data = error.get("data")
        if isinstance(revert_data, str) and revert_data.startswith("0x"):
            return False, bytes.fromhex(revert_data[2:])
        if _REVERTED in str(error.get("message", "")):
            return False, b""
        raise ChainError(f"anvil eth_call: {error.get('message', error)}")

    def _check_sender(self, sender: str) -> None:
        """Refuse a sender with code, as revm and real chains do (EIP-3607); an EIP-7702
        delegated EOA may send. Checked once per address."""
        if sender in self._checked_senders:
            return
        code = self.code(sender)
        if code and not (len(code) == 23 and code.startswith(DELEGATION_PREFIX)):
            raise ChainError(f"sender {sender} has code (EIP-3607); send through a contract call")
        self._checked_senders.add(sender)

    # ------------------------------------------------------------------ accounts
    def balance(self, address: Any) -> int:
        return int(self._rpc("eth_getBalance", [address_of(address), "latest"]), 16)

    def set_balance(self, address: Any, wei: int) -> None:
        self._rpc("anvil_setBalance", [address_of(address), hex(wei)])

    def nonce(self, address: Any) -> int:
        return int(self._rpc("eth_getTransactionCount", [address_of(address), "latest"]), 16)

    def set_nonce(self, address: Any, nonce: int) -> None:
        self._rpc("anvil_setNonce", [address_of(address), hex(nonce)])

    def code(self, address: Any) -> bytes:
        return bytes.fromhex(self._rpc("eth_getCode", [address_of(address), "latest"])[2:])

    def set_code(self, address: Any, code: bytes) -> None:
        address = address_of(address)
        self._checked_senders.discard(address)
        self._rpc("anvil_setCode", [address, "0x" + bytes(code).hex()])

    def storage_at(self, address: Any, slot: int) -> int:
        return int(self._rpc("eth_getStorageAt", [address_of(address), hex(slot), "latest"]), 16)

    # ------------------------------------------------------------------ snapshots
    def _snapshot(self) -> str:
        return self._rpc("evm_snapshot", [])

    def _revert(self, token: str) -> str:
        if self._rpc("evm_revert", [token]) is not True:
            raise ChainError(f"anvil could not revert to snapshot {token}")
        return self._snapshot()  # anvil drops a snapshot once reverted to: take it again

    def _save_local(self) -> Any:
        return (self._time, self._last_block_time, frozenset(self._checked_senders))

    def _restore_local(self, saved: Any) -> None:
        self._time, self._last_block_time, checked = saved
        self._checked_senders = set(checked)


# ---------------------------------------------------------------------- a private anvil
class AnvilProcess:
    """An anvil started by `launch_anvil`, with the project's network settings; stop() ends it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch_anvil(port: int | None = None, *, timeout: float = 30.0) -> AnvilProcess:
    """Start anvil (node_modules/.bin/anvil, else the one on PATH) on `port` (default: a free
    one) with the settings of the project's anvil networks: 10 accounts, base fee 0, chain id
    31337, block gas limit 30M."""
    local = PROJECT_ROOT / "node_modules" / ".bin" / "anvil"
    binary = str(local) if local.exists() else shutil.which("anvil")
    if binary is None:
        raise ChainError("anvil not found: run `make setup` (it installs node_modules/.bin/anvil)")
    port = port or _free_port()
    command = [
        binary,
        "--port",
        str(port),
        "--accounts",
        "10",
        "--block-base-fee-per-gas",
        "0",
        "--chain-id",
        "31337",
        "--gas-limit",
        str(BLOCK_GAS_LIMIT),
        "--quiet",
    ]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(PROJECT_ROOT),
    )
    anvil = AnvilProcess(process, port)
    deadline = _time.monotonic() + timeout
    while _time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChainError(
                f"anvil exited at start (status {process.returncode}); is port {port} free?"
            )
        try:
            requests.post(
                anvil.url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                timeout=1,
            )
            return anvil
        except requests.RequestException:
            _time.sleep(0.1)
    anvil.stop()
    raise ChainError(f"anvil did not answer on port {port} within {timeout} s")
