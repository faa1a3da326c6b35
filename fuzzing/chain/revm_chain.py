"""The in-process chain: revm (Rust) through pyrevm 0.3.7, one transaction per call.

pyrevm keeps one journal open for its whole life: every call runs inside the same never-
finalised "transaction", so accounts and storage slots stay warm and SSTORE's "original value"
stays the value before the *first* call (a second ERC20 transfer cost 24,841 gas instead of
34,441), transient storage survives calls and logs pile up. To get true per-transaction
semantics this backend keeps the chain state in pyrevm's database and runs every transaction in
a journal checkpoint on an empty journal:

1. checkpoint; execute (all accounts and slots cold, originals = database values);
2. read the touched accounts and changed slots from the journal (`journal_str`, the only place
   pyrevm shows storage);
3. revert the checkpoint (the journal is empty again) and write the changes into the database
   (`insert_account_info`; `insert_account_storage` inside its own checkpoint, because it
   warms the account it writes).

Reads follow the same rule (checkpoint, read, revert), so nothing is ever left warm. Snapshots
are an undo log of database writes. Other differences from anvil that this backend closes:
- revm 8 knows no EIP-7623 calldata floor (Prague): `gas_used` is raised to it here;
- `message_call` does not bump the sender's nonce: nonces are counted here and written before
  a deployment, so contracts land at the same addresses as on anvil;
- revm 8 refuses a sender with code (EIP-3607) and knows no EIP-7702: `delegate(eoa, target)`
  installs `target`'s runtime code at `eoa` and hides it from the EIP-3607 check while `eoa`
  sends. Calls into the EOA then run the target's code in the EOA's context, as EIP-7702 does;
  what differs: EXTCODESIZE/EXTCODEHASH see the target's code (EIP-7702: the 23-byte
  designator) and a call into the EOA does not pay EIP-7702's extra 100/2,600 gas for
  reading the delegate, so gas differs from anvil for such calls.
"""

from __future__ import annotations

import re
from typing import Any

from eth_utils import keccak
from pyrevm import EVM, AccountInfo, BlockEnv, CfgEnv, Env

from fuzzing.abi import checksum
from fuzzing.chain.base import (
    BLOCK_GAS_LIMIT,
    CHAIN_ID,
    DEFAULT_TIMESTAMP,
    DELEGATION_PREFIX,
    DEV_ACCOUNTS,
    DEV_BALANCE,
    MAX_TX_GAS,
    Chain,
    ChainError,
    RawOutcome,
    address_of,
    calldata_floor,
)

#: The EVM rules revm runs: the project compiles for Cancun (brownie-config evm_version).
SPEC_ID = "CANCUN"
KECCAK_EMPTY = keccak(b"")

_REVERT = re.compile(r"Revert \{ gas_used: (\d+), output: 0x([0-9a-f]*) \}$")
_HALT = re.compile(r"Halt \{ reason: (.*), gas_used: (\d+) \}$")
_ACCOUNT = re.compile(
    r"(0x[0-9a-f]{40}): Account \{ info: AccountInfo \{ balance: (\d+), nonce: (\d+), "
    r"code_hash: 0x([0-9a-f]{64})"
)
_CODE = re.compile(
    r"code: Some\(Bytecode \{ bytecode: 0x([0-9a-f]*), state: Analysed \{ len: (\d+)"
)
_SLOT = re.compile(
    r"(\d+): StorageSlot \{ previous_or_original_value: (\d+), present_value: (\d+) \}"
)
_ACCOUNT_MARK = ": Account { info: AccountInfo {"
_STORAGE_OPEN = "storage: {"
_STATUS_OPEN = "}, status: AccountStatus("


class _Touched:
    """One account a transaction touched: its new info and its changed slots."""

    __slots__ = ("address", "balance", "code", "code_hash", "nonce", "slots")

    def __init__(
        self,
        address: str,
        balance: int,
        nonce: int,
        code_hash: bytes,
        slots: list[tuple[int, int, int]],
        code: bytes | None,
    ) -> None:
        self.address = address
        self.balance = balance
        self.nonce = nonce
        self.code_hash = code_hash
        self.slots = slots  # (slot, value before the transaction, value after)
        self.code = code  # set only for code the database does not know yet


def _parse_journal(text: str, known_code: dict[bytes, bytes]) -> list[_Touched]:
    """Touched accounts of pyrevm's journal dump (`EVM.journal_str`, revm 8's Debug format).
    New code is read from the dump too: `get_code` returns it padded for analysis, the dump
    gives its true length. Plain `str.find` skips the code hex (a regex scan of it cost
    ~250 µs a transaction)."""
    state_end = text.find("}, transient_storage:")
    touched: list[_Touched] = []
    at = text.find(_ACCOUNT_MARK)
    while 0 <= at < state_end:
        header = _ACCOUNT.match(text, at - 42)
        if header is None:
            raise ChainError("revm backend: unexpected journal format (pyrevm version?)")
        open_at = text.index(_STORAGE_OPEN, header.end())
        close_at = text.index(_STATUS_OPEN, open_at)
        flags_at = close_at + len(_STATUS_OPEN)
        flags = text[flags_at : text.index(")", flags_at)]
        at = text.find(_ACCOUNT_MARK, flags_at)
        if "SelfDestructed" in flags:
            raise ChainError("revm backend: SELFDESTRUCT that deletes an account is not supported")
        if "Touched" not in flags:
            continue
        slots = [
            (int(k), int(old), int(new))
            for k, old, new in _SLOT.findall(text, open_at, close_at)
            if old != new
        ]
        address, balance, nonce, code_hash_hex = header.groups()
        code_hash = bytes.fromhex(code_hash_hex)
        code = None
        if code_hash not in known_code:
            found = _CODE.match(text, header.end() + 2)
            if found is None:
                raise ChainError(f"revm backend: cannot read the new code of {address}")
            code = bytes.fromhex(found.group(1))[: int(found.group(2))]
        touched.append(_Touched(address, int(balance), int(nonce), code_hash, slots, code))
    return touched


def _parse_failure(message: str) -> tuple[bool, int, bytes, str] | None:
    """(halted, gas_used, revert data, halt reason) of pyrevm's error text, or None when the
    transaction was refused before execution."""
    revert = _REVERT.match(message)
    if revert:
        return False, int(revert.group(1)), bytes.fromhex(revert.group(2)), ""
    halt = _HALT.match(message)
    if halt:
        return True, int(halt.group(2)), b"", halt.group(1)
    return None


class RevmChain(Chain):
    """A fresh in-memory chain: chain id 31337, anvil's ten development accounts funded with
    10,000 ETH, block gas limit 30M, time `timestamp`."""

    backend = "revm"

    def __init__(self, *, chain_id: int = CHAIN_ID, timestamp: int = DEFAULT_TIMESTAMP) -> None:
        super().__init__(chain_id, timestamp)
        self._block_number = 1
        self._evm = EVM(
            env=Env(cfg=CfgEnv(chain_id=chain_id), block=BlockEnv(number=1, timestamp=timestamp)),
            gas_limit=BLOCK_GAS_LIMIT,
            spec_id=SPEC_ID,
        )
        self._undo: list[tuple[Any, ...]] = []
        self._nonces: dict[str, int] = {}  # lower-case address -> nonce, for senders
        self._code_by_hash: dict[bytes, bytes] = {KECCAK_EMPTY: b""}  # code the database holds
        self._delegations: dict[str, bytes] = {}  # lower-case EOA -> delegate's runtime code
        self._designators: dict[str, bytes] = {}  # lower-case EOA -> 0xef0100 ‖ target
        for account in DEV_ACCOUNTS:
            self.set_balance(account, DEV_BALANCE)
        self._undo.clear()  # the funded start is the base state

    # ------------------------------------------------------------------ transactions
    def _execute(
        self, sender: str, to: str | None, data: bytes, value: int, gas: int, want_output: bool
    ) -> RawOutcome:
        evm = self._evm
        key = sender.lower()
        nonce = self.nonce(sender)
        if to is None:  # CREATE uses the sender's nonce: bring the database up to date
            self._write_info(key, nonce=nonce)
        self._block_number += 1
        evm.set_block_env(BlockEnv(number=self._block_number, timestamp=self._time))
        checkpoint = evm.snapshot()
        if key in self._delegations:
            self._hide_code_from_eip3607(sender)
        created: str | None = None
        try:
            if to is None:
                created = checksum(evm.deploy(sender, data, value=value, gas=gas))
                output = b""
            else:
                output = bytes(evm.message_call(sender, to, data, value=value, gas=gas))
        except RuntimeError as exc:
            failure = _parse_failure(str(exc))
            evm.revert(checkpoint)
            if failure is None:
                raise ChainError(f"revm refused the transaction: {exc}") from None
            self._nonces[key] = nonce + 1
            halted, gas_used, revert_data, reason = failure
            return RawOutcome(
                False,
                max(gas_used, calldata_floor(data)),
                revert_data,
                (),
                halted=halted,
                halt_reason=reason,
            )
        result = evm.result
        assert result is not None
        logs = tuple((log.address, tuple(log.data[0]), bytes(log.data[1])) for log in result.logs)
        touched = _parse_journal(evm.journal_str, self._code_by_hash)
        evm.revert(checkpoint)
        self._commit(touched)
        self._nonces[key] = nonce + 1
        gas_used = max(result.gas_used, calldata_floor(data))
        return RawOutcome(True, gas_used, output if want_output else b"", logs, created)

    def _static_call(self, sender: str, to: str, data: bytes) -> tuple[bool, bytes]:
        evm = self._evm
        evm.set_block_env(BlockEnv(number=self._block_number, timestamp=self._time))
        checkpoint = evm.snapshot()
        try:
            return True, bytes(evm.message_call(sender, to, data, gas=MAX_TX_GAS))
        except RuntimeError as exc:
            failure = _parse_failure(str(exc))
            if failure is None:
                raise ChainError(f"revm refused the call: {exc}") from None
            return False, failure[2]
        finally:
            evm.revert(checkpoint)

    def _hide_code_from_eip3607(self, sender: str) -> None:
        """Inside the transaction's checkpoint: the sender keeps its (delegated) code but shows
        the empty code hash, which is all revm's EIP-3607 check reads."""
        info = self._evm.basic(sender)  # loads the sender into the journal (it is warm anyway)
        self._evm.insert_account_info(
            sender,
            AccountInfo(
                balance=info.balance,
                nonce=info.nonce,
                code_hash=KECCAK_EMPTY,
                code=self._delegations[sender.lower()],
            ),
        )

    # ------------------------------------------------------------------ database writes
    def _commit(self, touched: list[_Touched]) -> None:
        """Write a transaction's effects into the database (the journal is empty)."""
        record = bool(self._snapshots)
        old = self._read_infos([t.address for t in touched]) if record else {}
        for t in touched:
            code_hash = t.code_hash
            if t.address in self._delegations:
                code_hash = keccak(self._delegations[t.address])
            if record:
                self._undo.append(("info", t.address, *old[t.address]))
            self._insert_info(t.address, t.balance, t.nonce, code_hash, t.code)
            for slot, before, after in t.slots:
                if record:
                    self._undo.append(("slot", t.address, slot, before))
                self._insert_slot(t.address, slot, after)

    def _read_infos(self, addresses: list[str]) -> dict[str, tuple[int, int, bytes]]:
        evm = self._evm
        checkpoint = evm.snapshot()
        try:
            infos = {}
            for address in addresses:
                info = evm.basic(address)
                infos[address] = (info.balance, info.nonce, bytes(info.code_hash))
            return infos
        finally:
            evm.revert(checkpoint)

    def _insert_info(
        self, address: str, balance: int, nonce: int, code_hash: bytes, code: bytes | None
    ) -> None:
        if code_hash in self._code_by_hash:
            code = None  # the database has it under this hash already
        elif code is None:
            raise ChainError(f"revm backend: code of {address} is unknown")
        else:
            if keccak(code) != code_hash:
                raise ChainError(f"revm backend: code of {address} does not match its hash")
            self._code_by_hash[code_hash] = code
        self._evm.insert_account_info(
            address, AccountInfo(balance=balance, nonce=nonce, code_hash=code_hash, code=code)
        )

    def _insert_slot(self, address: str, slot: int, value: int) -> None:
        # insert_account_storage loads (warms) the account after writing the database.
        checkpoint = self._evm.snapshot()
        self._evm.insert_account_storage(address, slot, value)
        self._evm.revert(checkpoint)

    def _write_info(
        self,
        key: str,
        *,
        balance: int | None = None,
        nonce: int | None = None,
        code: bytes | None = None,
    ) -> None:
        """Change some fields of an account in the database, with undo."""
        old_balance, old_nonce, old_hash = self._read_infos([key])[key]
        if self._snapshots:
            self._undo.append(("info", key, old_balance, old_nonce, old_hash))
        code_hash = old_hash if code is None else (keccak(code) if code else KECCAK_EMPTY)
        self._insert_info(
            key,
            old_balance if balance is None else balance,
            old_nonce if nonce is None else nonce,
            code_hash,
            code if code else None,
        )

    # ------------------------------------------------------------------ accounts
    def balance(self, address: Any) -> int:
        key = address_of(address).lower()
        return self._read_infos([key])[key][0]

    def set_balance(self, address: Any, wei: int) -> None:
        self._write_info(address_of(address).lower(), balance=wei)

    def nonce(self, address: Any) -> int:
        key = address_of(address).lower()
        if key in self._nonces:
            return self._nonces[key]
        return self._read_infos([key])[key][1]

    def set_nonce(self, address: Any, nonce: int) -> None:
        key = address_of(address).lower()
        self._nonces[key] = nonce
        self._write_info(key, nonce=nonce)

    def code(self, address: Any) -> bytes:
        key = address_of(address).lower()
        if key in self._delegations:
            return self._designators[key]
        code_hash = self._read_infos([key])[key][2]
        if code_hash == KECCAK_EMPTY:
            return b""
        return self._code_by_hash[code_hash]

    def set_code(self, address: Any, code: bytes) -> None:
        """Install `code`; an EIP-7702 designator (0xef0100 ‖ target) installs target's code
        (see the module docstring)."""
        key = address_of(address).lower()
        code = bytes(code)
        self._delegations.pop(key, None)
        self._designators.pop(key, None)
        if len(code) == 23 and code.startswith(DELEGATION_PREFIX):
            target_code = self.code(checksum("0x" + code[3:].hex()))
            if target_code.startswith(DELEGATION_PREFIX):
                raise ChainError("EIP-7702 delegation to a delegated account is not followed")
            if target_code:
                self._delegations[key] = target_code
                self._designators[key] = code
            code = target_code
        self._write_info(key, code=code)

    def storage_at(self, address: Any, slot: int) -> int:
        evm = self._evm
        checkpoint = evm.snapshot()
        try:
            return int(evm.storage(address_of(address), slot))
        finally:
            evm.revert(checkpoint)

    # ------------------------------------------------------------------ snapshots
    def _snapshot(self) -> int:
        return len(self._undo)

    def _revert(self, token: int) -> int:
        while len(self._undo) > token:
            entry = self._undo.pop()
            if entry[0] == "info":
                _, address, balance, nonce, code_hash = entry
                self._insert_info(address, balance, nonce, code_hash, None)
            else:
                _, address, slot, value = entry
                self._insert_slot(address, slot, value)
        return token

    def _save_local(self) -> Any:
        return (
            self._time,
            self._block_number,
            dict(self._nonces),
            dict(self._delegations),
            dict(self._designators),
        )

    def _restore_local(self, saved: Any) -> None:
        time, number, nonces, delegations, designators = saved
        self._time, self._block_number = time, number
        self._nonces = dict(nonces)
        self._delegations = dict(delegations)
        self._designators = dict(designators)
