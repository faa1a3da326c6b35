"""The `Chain` interface the fuzzing engine drives, and the uniform transaction result.

A chain runs one transaction per call, each at an exact block timestamp the caller chose:
`chain.time` is the `block.timestamp` the next transaction and every view see, and it only moves
when `set_time` / `advance` move it (several transactions may share one timestamp). Everything a
result holds is computed by this module from the backend's raw outcome, so the two backends
(`RevmChain`, `AnvilChain`) return equal `TxResult`s for equal transactions on equal states:

- `gas_used` is the receipt's gasUsed (intrinsic gas + execution − capped refund, at least the
  EIP-7623 calldata floor), the same figure brownie reports;
- a revert is decoded from the ABIs of every contract the chain deployed or was told about
  (`register`): custom error name and arguments, `Error(string)` or `Panic(uint256)`;
- logs are decoded into `Event(address, name, args)` the same way;
- gas price is 0 on both, so ETH balances move only by the values sent.

Backends implement the small primitives at the bottom (`_execute`, `_static_call`, account
access, `_snapshot`/`_revert`); the public methods above them are shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fuzzing.abi import AbiRegistry, ContractAbi, FunctionAbi, checksum
from fuzzing.artifacts import Artifact

#: Gas limit of a transaction unless the caller gives one (the gas benchmark's limit).
DEFAULT_GAS = 8_000_000
#: EIP-7825 (Osaka, anvil's default hardfork) refuses transactions above 2^24 gas.
MAX_TX_GAS = 2**24
#: Block gas limit of the project's anvil networks (brownie-config / network-config).
BLOCK_GAS_LIMIT = 30_000_000
CHAIN_ID = 31337
#: The scenario's genesis time (BENCHMARK.md); a new chain starts here.
DEFAULT_TIMESTAMP = 1_700_000_000
#: anvil's default mnemonic accounts and their balance, mirrored by the revm backend.
DEV_ACCOUNTS = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
)
DEV_BALANCE = 10_000 * 10**18
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: EIP-7702 delegation designator prefix: an EOA whose code is 0xef0100 ‖ target runs target's code.
DELEGATION_PREFIX = bytes.fromhex("ef0100")

TX_BASE_GAS = 21_000
FLOOR_GAS_PER_TOKEN = 10  # EIP-7623


class ChainError(Exception):
    """Misuse of a chain, or a transaction the chain refuses to include (not a revert)."""


class CallReverted(Exception):
    """A view call reverted; `error` and `args` are decoded like a TxResult's."""

    def __init__(self, error: str, args: tuple[Any, ...], data: bytes) -> None:
        super().__init__(f"{error or 'revert'}{args if args else ''}")
        self.error = error
        self.error_args = args
        self.data = data


class DeployFailed(Exception):
    def __init__(self, name: str, result: TxResult) -> None:
        super().__init__(f"deploying {name} failed: {result.revert_text()}")
        self.result = result


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded log. `name` is "" for a log no registered ABI describes (then `args` holds
    the raw `topics` and `data`)."""

    address: str
    name: str
    args: dict[str, Any]


Log = tuple[str, tuple[bytes, ...], bytes]  # (address, topics, data) as the chain emitted it


@dataclass(frozen=True)
class TxResult:
    """What one transaction did, identical on both backends for identical input and state.

    On revert `error` is the custom error's name ("Error"/"Panic" for Solidity's own, "" for a
    revert without data, "0x<selector>" for an unknown selector) and `error_args` its decoded
    arguments; a halt (out of gas, invalid opcode) has `error == "Halt"` and the backend's own
    wording in `halt_reason`, which is not compared. `logs` are the raw logs; `events` decodes
    them on first use (decoding costs more than a revm transaction's execution).
    """

    success: bool
    gas_used: int
    timestamp: int
    logs: tuple[Log, ...] = ()
    return_value: Any = None
    error: str | None = None
    error_args: tuple[Any, ...] = ()
    revert_data: bytes = b""
    contract_address: str | None = None
    halt_reason: str = field(default="", compare=False)
    registry: AbiRegistry | None = field(default=None, compare=False, repr=False)

    @cached_property
    def events(self) -> tuple[Event, ...]:
        """The logs decoded with the ABIs the chain knew: `Event(address, name, args)`."""
        registry = self.registry or AbiRegistry()
        return tuple(
            Event(checksum(address), *registry.decode_log(topics, data))
            for address, topics, data in self.logs
        )

    def revert_text(self) -> str:
        """brownie's form, `"StaleTxCount: 3, 5"`, as `channel_manager.errors` writes it."""
        if self.success:
            return ""
        if not self.error_args:
            return self.error or "revert"
        return f"{self.error}: " + ", ".join(_fmt(a) for a in self.error_args)

    def reverted_with(self, name: str, *args: Any) -> bool:
        """True for a revert with custom error `name` (and exactly `args`, if any are given)."""
        if self.success or self.error != name:
            return False
        return not args or tuple(args) == self.error_args

    def events_named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return repr(value)
    text = str(value)
    return text.lower() if text.startswith("0x") else text


@dataclass(frozen=True, slots=True)
class RawOutcome:
    """A backend's report of one executed transaction, before decoding."""

    success: bool
    gas_used: int  # receipt gasUsed
    output: bytes  # return data (if asked for) or revert data
    logs: tuple[Log, ...]
    created: str | None = None
    halted: bool = False
    halt_reason: str = ""


@dataclass(frozen=True)
class Contract:
    """A deployed contract: its address and ABI. `deployment` is its creation's TxResult (None
    for a contract attached with `Chain.at`)."""

    address: str
    artifact: Artifact
    deployment: TxResult | None = None

    @property
    def abi(self) -> ContractAbi:
        return self.artifact.codec

    def __str__(self) -> str:
        return self.address


def calldata_floor(data: bytes) -> int:
    """EIP-7623 (Prague): a transaction pays at least 21,000 + 10 per calldata token
    (a zero byte is one token, any other byte four)."""
    zeros = data.count(0)
    return TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * (zeros + 4 * (len(data) - zeros))


def address_of(value: Any) -> str:
    """Checksummed address of a string, a Contract or anything whose str() is an address."""
    return checksum(str(value))


class Chain(ABC):
    """One EVM chain under test. See the module docstring for the time and result rules."""

    #: "revm" or "anvil".
    backend: str = ""

    def __init__(self, chain_id: int, timestamp: int) -> None:
        self.chain_id = chain_id
        self.registry = AbiRegistry()
        self._time = timestamp
        self._snapshots: dict[int, Any] = {}  # id -> (backend token, saved local state)
        self._snapshot_order: list[int] = []
        self._next_snapshot_id = 1
        self.tx_count = 0  # transactions executed through this object (reverted ones included)

    # ------------------------------------------------------------------ accounts
    @property
    def accounts(self) -> tuple[str, ...]:
        """anvil's ten funded development accounts (keys: `channel_manager.devkeys.anvil_key`)."""
        return DEV_ACCOUNTS

    # ------------------------------------------------------------------ time
    @property
    def time(self) -> int:
        """The block timestamp of the next transaction (and of views)."""
        return self._time

    def set_time(self, timestamp: int) -> None:
        """The next transactions run at exactly `timestamp` (earlier than now is allowed)."""
        if not isinstance(timestamp, int) or timestamp < 0:
            raise ChainError(f"timestamp must be a non-negative int, got {timestamp!r}")
        self._time = timestamp

    def advance(self, seconds: int) -> int:
        """Move time forward by `seconds`; returns the new time."""
        self.set_time(self._time + seconds)
        return self._time

    # ------------------------------------------------------------------ contracts
    def register(self, artifact: Artifact) -> None:
        """Decode the events and errors of `artifact` in every later result."""
        self.registry.register(artifact.codec)

    def at(self, address: str, artifact: Artifact) -> Contract:
        """A handle on a contract already at `address`."""
        self.register(artifact)
        return Contract(address_of(address), artifact)

    def deploy(
        self, artifact: Artifact, *args: Any, sender: Any, value: int = 0, gas: int = DEFAULT_GAS
    ) -> Contract:
        """Deploy `artifact` with constructor `args` from `sender`; raises DeployFailed."""
        self.register(artifact)
        data = artifact.bytecode + artifact.codec.encode_constructor(args)
        result = self._run(address_of(sender), None, data, value, gas, None)
        if not result.success:
            raise DeployFailed(artifact.name, result)
        assert result.contract_address is not None
        return Contract(result.contract_address, artifact, result)

    def transact(
        self,
        contract: Contract,
        function: str,
        *args: Any,
        sender: Any,
        value: int = 0,
        gas: int = DEFAULT_GAS,
    ) -> TxResult:
        """Send a transaction calling `function(*args)`; a revert is a result, not an exception."""
        fn = contract.abi.function(function)
        return self._run(address_of(sender), contract.address, fn.encode_call(args), value, gas, fn)

    def send(
        self, sender: Any, to: Any, value: int = 0, data: bytes = b"", gas: int = DEFAULT_GAS
    ) -> TxResult:
        """A plain transaction: ETH transfer, or raw calldata."""
        return self._run(address_of(sender), address_of(to), bytes(data), value, gas, None)

    def call(
        self, contract: Contract, function: str, *args: Any, sender: Any = ZERO_ADDRESS
    ) -> Any:
        """Run a view at `chain.time` on the current state; nothing is recorded. Raises
        CallReverted with the decoded error."""
        fn = contract.abi.function(function)
        ok, output = self._static_call(address_of(sender), contract.address, fn.encode_call(args))
        if not ok:
            name, error_args = self.registry.decode_revert(output)
            raise CallReverted(name, error_args, output)
        return fn.decode_output(output)

    def delegate(self, eoa: Any, target: Any | None) -> None:
        """EIP-7702: make `eoa` run `target`'s code (None removes the delegation). See the
        backend for how faithfully it does so."""
        eoa = address_of(eoa)
        if target is None:
            self.set_code(eoa, b"")
        else:
            self.set_code(eoa, DELEGATION_PREFIX + bytes.fromhex(address_of(target)[2:]))

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> int:
        """An id to come back to with `revert`; it stays valid after reverting to it."""
        snap_id = self._next_snapshot_id
        self._next_snapshot_id += 1
        self._snapshots[snap_id] = (self._snapshot(), self._save_local())
        self._snapshot_order.append(snap_id)
        return snap_id

    def revert(self, snap_id: int) -> None:
        """Restore the state (time included) at `snapshot()` `snap_id`; later snapshots are
        dropped, `snap_id` itself can be reverted to again."""
        if snap_id not in self._snapshots:
            raise ChainError(f"unknown or dropped snapshot {snap_id}")
        position = self._snapshot_order.index(snap_id)
        for later in self._snapshot_order[position + 1 :]:
            del self._snapshots[later]
        del self._snapshot_order[position + 1 :]
        token, local = self._snapshots[snap_id]
        new_token = self._revert(token)
        self._restore_local(local)
        self._snapshots[snap_id] = (new_token, local)

    # ------------------------------------------------------------------ shared execution
    def _run(
        self, sender: str, to: str | None, data: bytes, value: int, gas: int, fn: FunctionAbi | None
    ) -> TxResult:
        if not 0 < gas <= MAX_TX_GAS:
            raise ChainError(f"gas must be in 1..{MAX_TX_GAS} (EIP-7825), got {gas}")
        if value < 0:
            raise ChainError(f"value must not be negative, got {value}")
        want_output = fn is not None and bool(fn.output_types)
        raw = self._execute(sender, to, data, value, gas, want_output)
        self.tx_count += 1
        return self._decode(raw, fn)

    def _decode(self, raw: RawOutcome, fn: FunctionAbi | None) -> TxResult:
        logs = tuple((address.lower(), topics, data) for address, topics, data in raw.logs)
        if raw.success:
            value = fn.decode_output(raw.output) if fn is not None and fn.output_types else None
            return TxResult(
                True,
                raw.gas_used,
                self._time,
                logs,
                value,
                contract_address=raw.created,
                registry=self.registry,
            )
        if raw.halted:
            return TxResult(
                False,
                raw.gas_used,
                self._time,
                logs,
                error="Halt",
                halt_reason=raw.halt_reason,
                registry=self.registry,
            )
        name, args = self.registry.decode_revert(raw.output)
        return TxResult(
            False,
            raw.gas_used,
            self._time,
            logs,
            error=name,
            error_args=args,
            revert_data=raw.output,
            registry=self.registry,
        )

    # ------------------------------------------------------------------ backend primitives
    @abstractmethod
    def _execute(
        self, sender: str, to: str | None, data: bytes, value: int, gas: int, want_output: bool
    ) -> RawOutcome:
        """Mine one transaction at `self.time` (`to` None: a creation). `output` must hold the
        return data when `want_output`, the revert data on a revert."""

    @abstractmethod
    def _static_call(self, sender: str, to: str, data: bytes) -> tuple[bool, bytes]:
        """(success, return or revert data) of a call at `self.time` that changes nothing."""

    @abstractmethod
    def balance(self, address: Any) -> int: ...

    @abstractmethod
    def set_balance(self, address: Any, wei: int) -> None: ...

    @abstractmethod
    def nonce(self, address: Any) -> int: ...

    @abstractmethod
    def set_nonce(self, address: Any, nonce: int) -> None:
        """The next transaction from `address` uses this nonce (a deployment lands at
        CREATE(address, nonce))."""

    @abstractmethod
    def code(self, address: Any) -> bytes: ...

    @abstractmethod
    def set_code(self, address: Any, code: bytes) -> None:
        """Replace the code at `address` (storage, balance and nonce stay)."""

    @abstractmethod
    def storage_at(self, address: Any, slot: int) -> int: ...

    @abstractmethod
    def _snapshot(self) -> Any: ...

    @abstractmethod
    def _revert(self, token: Any) -> Any:
        """Restore the state saved under `token`; return a token for the same state again."""

    def _save_local(self) -> Any:
        """Python-side state a snapshot must restore; subclasses extend it."""
        return self._time

    def _restore_local(self, saved: Any) -> None:
        self._time = saved
