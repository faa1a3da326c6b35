"""Sending a transaction from the deploy and operate scripts, so that a real network cannot make
them hang, lie or spend twice:

- fees (scripts/_fees.py): EIP-1559 (max fee and priority fee) from the config or CM_MAX_FEE / CM_PRIORITY_FEE,
  else from the node; a legacy gas price (CM_GAS_PRICE) on nodes without a base fee. The dry run
  prints the same `Fees` the real run sends with;
- simulation first (`eth_call` and the node's gas estimate); a revert is refused with the
  contract's own error decoded (`InsufficientReserve: …`), nothing sent;
- the transaction hash is printed the moment it is sent, and `on_sent` lets the caller write it
  down (the deploy script's pending record) before anything is waited for;
- bounded waits: for the receipt, then for the confirmations, each at most `tx_timeout` seconds.
  An RPC drop during a wait is retried until then; a node that lost the transaction (restarted
  without its pool) gets the same signed transaction again, same hash. What is not finished in
  time ends in `TxUnfinished` (one line, exit status 3: sent, not finished — look before you
  send it again);
- CM_NONCE reuses a nonce to replace a stuck transaction (with higher fees).

Brownie's own `ContractTx.__call__` waits without a bound and, on live networks, persists the
contract into brownie's deployment database (which fails: docs/operations.md), so the scripts
send through web3 directly and keep brownie for reading and encoding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from brownie import web3
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector
from web3.exceptions import TransactionNotFound

from channel_manager.ops import OpsError
from channel_manager.ops.display import short
from scripts._fees import Fees
from scripts._reverts import decode_revert, revert_data

# What a lost connection to the node raises (requests underneath web3's HTTP provider).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)
# Transactions this process sent: a failure after one of them is not "nothing was sent".
SENT: list[str] = []


class TxUnfinished(Exception):
    """A transaction was sent but is not mined or not confirmed in time (or the node went away):
    it may still be mined (`txid`, None when it never can be). Exit status 3."""

    def __init__(self, message: str, txid: str | None = None) -> None:
        super().__init__(message)
        self.txid = txid


class TxFailed(Exception):
    """A transaction was mined and reverted (the chain changed since the simulation). Exit 1."""


# ------------------------------------------------------------------ the receipt


@dataclass
class Sent:
    """A mined, confirmed transaction: its hash, block, gas, and decoded events (name → the
    arguments of the first such event; `logs` keeps them all in order)."""

    txid: str
    nonce: int
    block_number: int
    gas_used: int
    contract_address: str | None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def decode_events(
    receipt: Mapping[str, Any], abi: Sequence[Mapping[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    events = [item for item in abi if item.get("type") == "event"]
    by_topic = {event_abi_to_log_topic(item): item for item in events}
    holder = web3.eth.contract(abi=events)
    out = []
    for log in receipt.get("logs", []):
        topics = log.get("topics") or []
        item = by_topic.get(bytes(topics[0])) if topics else None
        if item is None:
            continue
        try:
            decoded = holder.events[item["name"]]().process_log(log)
        except Exception:  # same topic, other indexing (another contract's event)
            continue
        out.append((item["name"], dict(decoded["args"])))
    return out


# ------------------------------------------------------------------ sending


@dataclass
class Sender:
    """Who sends, with which fees, how long to wait and for how many confirmations."""

    account: Any  # brownie Account (node-unlocked, local chains) or LocalAccount (has a key)
    fees: Fees
    confirmations: int
    timeout: float
    development: bool
    abis: list[Sequence[Mapping[str, Any]]] = field(default_factory=list)  # for errors and events
    say: Callable[[str], None] = print

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def poll(self) -> float:
        return 0.05 if self.development else 1.0

    # ---------------------------------------------------------------- before sending

    def simulate(
        self,
        to: str | None,
        data: str,
        value: int = 0,
        state_override: Mapping[str, Any] | None = None,
    ) -> int:
        """Gas the node estimates; a revert becomes `refused before sending: …`."""
        tx = self._call_fields(to, data, value)
        try:
            if state_override:
                web3.eth.call(tx, "latest", dict(state_override))
                return int(web3.eth.estimate_gas(tx, "latest", dict(state_override)))
            web3.eth.call(tx)
            return int(web3.eth.estimate_gas(tx))
        except CONNECTION_ERRORS:
            raise
        except Exception as exc:
            reason = decode_revert(revert_data(exc), self.abis) or short(exc, 200)
            raise OpsError(f"refused before sending: the contract would revert: {reason}") from None

    def _call_fields(self, to: str | None, data: str, value: int) -> dict[str, Any]:
        tx: dict[str, Any] = {"from": self.address, "data": data, "value": int(value)}
        if to is not None:
            tx["to"] = to
        return tx

    def next_nonce(self, env: Mapping[str, str]) -> int:
        """The account's next nonce, or CM_NONCE to replace a stuck transaction."""
        pending = int(web3.eth.get_transaction_count(self.address, "pending"))
        raw = env.get("CM_NONCE", "").strip()
        if not raw:
            return pending
        try:
            nonce = int(raw)
        except ValueError:
            raise OpsError(f"CM_NONCE={raw!r} is not a whole number") from None
        mined = int(web3.eth.get_transaction_count(self.address, "latest"))
        if nonce < mined:
            raise OpsError(
                f"CM_NONCE={nonce}: nonce {nonce} of {self.address} is used already (next is {mined})"
            )
        if nonce > pending:
            raise OpsError(
                f"CM_NONCE={nonce} would leave a gap: the next nonce of {self.address} is {pending}"
            )
        if nonce < pending:
            self.say(
                f"replacing the pending transaction with nonce {nonce} (fees must exceed the stuck one's)"
            )
        return nonce

    # ---------------------------------------------------------------- sending and waiting

    def send(
        self,
        to: str | None,
        data: str,
        *,
        value: int = 0,
        gas: int,
        nonce: int,
        summary: str,
        on_sent: Callable[[str, str | None], None] | None = None,
    ) -> Sent:
        """Sign and send; print the hash at once; `on_sent(txid, raw)` before any wait; then
        wait (bounded) for the receipt and the confirmations."""
        txid, raw = self.submit(to, data, value=value, gas=gas, nonce=nonce)
        self.say(f"sent {summary}: {txid} (nonce {nonce}, from {self.address})")
        if on_sent is not None:
            on_sent(txid, raw)
        return self.wait(txid, nonce=nonce, raw=raw, summary=summary)

    def submit(
        self, to: str | None, data: str, *, value: int, gas: int, nonce: int
    ) -> tuple[str, str | None]:
        """Send one transaction; returns its hash and, for a key account, the signed bytes."""
        tx: dict[str, Any] = {
            **self._call_fields(to, data, value),
            "gas": int(gas),
            "nonce": int(nonce),
            "chainId": int(web3.eth.chain_id),
            **self.fees.tx_fields(),
        }
        key = getattr(self.account, "private_key", None)
        try:
            if key:
                signed = web3.eth.account.sign_transaction(tx, key)
                raw = "0x" + bytes(signed.raw_transaction).hex()
                txid = "0x" + bytes(web3.eth.send_raw_transaction(raw)).hex()
            else:  # an account the local node unlocked for us
                raw = None
                txid = "0x" + bytes(web3.eth.send_transaction(tx)).hex()
        except CONNECTION_ERRORS:
            raise
        except Exception as exc:  # underpriced replacement, nonce too low, no funds …
            raise OpsError(f"the node refused the transaction: {short(exc, 200)}") from None
        SENT.append(txid)
        return txid, raw

    def wait(self, txid: str, *, nonce: int, raw: str | None, summary: str) -> Sent:
        receipt = self.wait_mined(txid, nonce=nonce, raw=raw, summary=summary)
        if int(receipt["status"]) != 1:
            raise TxFailed(
                f"{summary}: transaction {txid} reverted in block {receipt['blockNumber']}"
                " (the chain changed since the simulation)"
            )
        receipt = self.wait_confirmed(txid, receipt, summary=summary)
        return self.sent(txid, nonce, receipt)

    def sent(self, txid: str, nonce: int, receipt: Mapping[str, Any]) -> Sent:
        abi = [item for a in self.abis for item in a]
        logs = decode_events(receipt, abi)
        events: dict[str, dict[str, Any]] = {}
        for name, args in logs:
            events.setdefault(name, args)
        address = receipt.get("contractAddress")
        return Sent(
            txid,
            nonce,
            int(receipt["blockNumber"]),
            int(receipt["gasUsed"]),
            str(address) if address else None,
            events,
            logs,
        )

    def wait_mined(
        self, txid: str, *, nonce: int, raw: str | None, summary: str
    ) -> Mapping[str, Any]:
        """The receipt, waited for at most `timeout` s. Connection errors are retried; a node
        that no longer knows the transaction gets `raw` again while the nonce is unused."""
        deadline = time.monotonic() + self.timeout
        dropped = False
        checks = 0
        while True:
            try:
                receipt = _receipt(txid)
                if receipt is not None:
                    return receipt
                if dropped:  # a restarted node may have lost its pool: look at once
                    self.say("the node answers again")
                    dropped, checks = False, 0
                checks += 1
                if raw is not None and checks % 10 == 1 and unknown(txid):
                    self._rebroadcast(txid, nonce, raw)
            except CONNECTION_ERRORS as exc:
                if not dropped:
                    self.say(f"the node stopped answering ({short(exc, 200)[:80]}); retrying")
                    dropped = True
            if time.monotonic() >= deadline:
                state = "the node does not answer" if dropped else "not mined yet"
                raise TxUnfinished(
                    f"{summary}: {txid} (nonce {nonce}) was sent but {state} after {self.timeout:g} s;"
                    " it may still be mined: check it before sending again",
                    txid,
                )
            time.sleep(self.poll)

    def _rebroadcast(self, txid: str, nonce: int, raw: str) -> None:
        used = int(web3.eth.get_transaction_count(self.address, "latest"))
        if used > nonce:
            raise TxUnfinished(
                f"transaction {txid} is unknown to the node and nonce {nonce} was used by another"
                " transaction: it will never be mined"
            )
        web3.eth.send_raw_transaction(raw)
        self.say(f"the node had lost {txid}: sent the same signed transaction again")

    def wait_confirmed(
        self, txid: str, receipt: Mapping[str, Any], *, summary: str
    ) -> Mapping[str, Any]:
        """Wait until the block holding it has `confirmations` blocks (itself included) and
        the transaction is still in it; at most `timeout` s."""
        deadline = time.monotonic() + self.timeout
        head: int | None = None
        while True:
            block = int(receipt["blockNumber"])
            try:
                head = int(web3.eth.block_number)
                if head - block + 1 >= self.confirmations:
                    again = _receipt(txid)
                    if again is None:
                        raise TxUnfinished(f"{summary}: {txid} left the chain (a reorg): check it")
                    if again["blockHash"] == receipt["blockHash"]:
                        return again
                    receipt = again  # reorganised into another block: count from there
                    continue
            except CONNECTION_ERRORS:
                pass
            if time.monotonic() >= deadline:
                have = "?" if head is None else str(max(0, head - block + 1))
                raise TxUnfinished(
                    f"{summary}: {txid} was mined in block {block} but has {have} of"
                    f" {self.confirmations} confirmations after {self.timeout:g} s;"
                    " rerun to finish waiting",
                    txid,
                )
            time.sleep(self.poll)


def still_pending(txid: str) -> bool:
    """Sent, known to the node, not mined: sending the same thing again would pay twice."""
    return _receipt(txid) is None and not unknown(txid)


def _receipt(txid: str) -> Mapping[str, Any] | None:
    try:
        return web3.eth.get_transaction_receipt(txid)
    except TransactionNotFound:
        return None


def unknown(txid: str) -> bool:
    """The node has never heard of `txid` (dropped, or sent to a node that lost it)."""
    try:
        web3.eth.get_transaction(txid)
    except TransactionNotFound:
        return True
    return False


# ------------------------------------------------------------------ dry runs of two-step sends


def allowance_override(token: str, owner: str, spender: str, amount: int) -> dict[str, Any] | None:
    """A state override (for eth_call / eth_estimateGas) that gives `spender` an allowance of
    `amount` from `owner`, so a dry run can simulate a deposit as if the approval the real run
    sends first had been mined. Tokens keep allowances in a mapping at an unknown slot: each
    candidate slot (Solidity and Vyper layouts) is tried and kept if `allowance()` then reads
    `amount`. None when no slot fits (the dry run then says so instead of refusing falsely)."""
    from eth_abi import encode
    from eth_utils import keccak

    selector = function_abi_to_4byte_selector(
        {
            "type": "function",
            "name": "allowance",
            "inputs": [{"type": "address"}, {"type": "address"}],
        }
    )
    call = {
        "to": token,
        "data": "0x" + (selector + encode(["address", "address"], [owner, spender])).hex(),
    }
    value = "0x" + int(amount).to_bytes(32, "big").hex()
    for slot in range(12):
        for outer, inner in ((owner, spender), (spender, owner)):
            first = keccak(encode(["address", "uint256"], [outer, slot]))
            key = keccak(encode(["address"], [inner]) + first)
            override = {token: {"stateDiff": {"0x" + key.hex(): value}}}
            try:
                answer = web3.eth.call(call, "latest", override)
            except CONNECTION_ERRORS:
                raise
            except Exception:
                return None
            if int.from_bytes(bytes(answer)[-32:] or b"\0", "big") == int(amount):
                return override
    return None
