"""ABI encoding and decoding for the chain backends, with eth_abi.

One `ContractAbi` per artifact: functions by name (selector, input and output types), events by
topic0, custom errors by selector. `AbiRegistry` merges the events and errors of every contract a
chain knows, so a log or a revert that comes from any of them (the manager, the token, a hostile
recipient) decodes to a name and its arguments.

Encoding and decoding go through `fuzzing.abicodec` (eth_abi's layout, compiled once per type
list). Decoded values are the same Python values on both backends: addresses are checksummed
strings, fixed and dynamic arrays and structs are tuples, bytes are `bytes`. Arguments may be
given as a backend user writes them (`ChannelState.to_tuple()` has the thread root as a hex
string and the arrays as lists); `bytes`/`bytesN` inputs accept hex strings, `address` inputs
accept any object whose str() is the address (a `Contract`, a brownie account).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_utils import keccak, to_checksum_address

from fuzzing.abicodec import decode, encode

#: Selectors of the two errors Solidity itself raises.
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

Normaliser = Callable[[Any], Any]


class AbiError(ValueError):
    """A function is unknown, or its arguments do not fit its ABI."""


@lru_cache(maxsize=4096)
def checksum(address: str) -> str:
    return to_checksum_address(address)


def canonical_type(param: dict[str, Any]) -> str:
    """`uint256[2]`, or `(address,uint256[2],...)[]` for a struct parameter."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _split_array(kind: str) -> tuple[str, bool]:
    """(`element type`, is_array) for the outermost array suffix of `kind`."""
    if kind.endswith("]"):
        return kind[: kind.rindex("[")], True
    return kind, False


def _input_normaliser(param: dict[str, Any]) -> Normaliser | None:
    """A function turning a user value into what eth_abi accepts, or None if it takes it as is."""
    return _normaliser_for(param["type"], param.get("components"))


def _normaliser_for(kind: str, components: list[dict[str, Any]] | None) -> Normaliser | None:
    element, is_array = _split_array(kind)
    if is_array:
        inner = _normaliser_for(element, components)
        if inner is None:
            return None
        return lambda value: [inner(v) for v in value]
    if kind == "tuple":
        assert components is not None
        parts = [_input_normaliser(c) for c in components]
        if all(p is None for p in parts):
            return None
        return lambda value: tuple(
            v if p is None else p(v) for p, v in zip(parts, value, strict=True)
        )
    if kind.startswith("bytes"):
        return _to_bytes
    if kind == "address":
        return _to_address
    return None


def _to_address(value: Any) -> Any:
    """A contract handle or an account object stands for its address (its str())."""
    return value if isinstance(value, str) else str(value)


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)


def _encode_arguments(
    types: tuple[str, ...],
    normalisers: tuple[Normaliser | None, ...],
    args: Sequence[Any],
    *,
    taker: str,
    failure: str,
) -> bytes:
    """ABI-encode `args` (normalised first) as `types`; `taker` and `failure` name the
    function or constructor in the errors."""
    if len(args) != len(types):
        raise AbiError(f"{taker} takes {len(types)} arguments, got {len(args)}")
    values = [a if n is None else n(a) for n, a in zip(normalisers, args, strict=True)]
    try:
        return encode(types, values) if values else b""
    except Exception as exc:  # eth_abi raises several types; one message for the caller
        raise AbiError(f"{failure}: {exc}") from None


@dataclass(frozen=True)
class FunctionAbi:
    name: str
    signature: str  # name(type,...)
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str
    _normalise_in: tuple[Normaliser | None, ...]

    def encode_call(self, args: Sequence[Any]) -> bytes:
        return self.selector + _encode_arguments(
            self.input_types,
            self._normalise_in,
            args,
            taker=self.signature,
            failure=f"cannot encode arguments of {self.signature}",
        )

    def decode_output(self, data: bytes) -> Any:
        """None for no outputs, the value for one, a tuple for several."""
        if not self.output_types:
            return None
        values = decode(self.output_types, data)
        return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class EventAbi:
    name: str
    topic0: bytes
    indexed_count: int
    names: tuple[str, ...]
    indexed: tuple[bool, ...]
    types: tuple[str, ...]

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Argument dict; an indexed argument of a dynamic type stays its 32-byte topic hash."""
        data_types = [t for t, i in zip(self.types, self.indexed, strict=True) if not i]
        data_values = iter(decode(data_types, data))
        topic_values = iter(topics[1:])
        raw: list[Any] = []
        for kind, is_indexed in zip(self.types, self.indexed, strict=True):
            if not is_indexed:
                raw.append(next(data_values))
            elif _is_dynamic(kind):
                raw.append(bytes(next(topic_values)))
            else:
                raw.append(decode([kind], next(topic_values))[0])
        return dict(zip(self.names, raw, strict=True))


@dataclass(frozen=True)
class ErrorAbi:
    name: str
    selector: bytes
    types: tuple[str, ...]
    names: tuple[str, ...]

    def decode(self, data: bytes) -> tuple[Any, ...]:
        return decode(self.types, data)


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("[]") or kind.startswith("(")


def _signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(canonical_type(p) for p in item['inputs'])})"


class ContractAbi:
    """Functions, events and errors of one contract ABI (a list of ABI entries)."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self.entries = list(abi)
        self.functions: dict[str, FunctionAbi] = {}
        self.events: dict[tuple[bytes, int], EventAbi] = {}
        self.errors: dict[bytes, ErrorAbi] = {}
        self.constructor_types: tuple[str, ...] = ()
        self._constructor_in: tuple[Normaliser | None, ...] = ()
        for item in self.entries:
            kind = item.get("type", "function")
            if kind == "function":
                self._add_function(item)
            elif kind == "event" and not item.get("anonymous"):
                event = _event(item)
                self.events[(event.topic0, event.indexed_count)] = event
            elif kind == "error":
                error = _error(item)
                self.errors[error.selector] = error
            elif kind == "constructor":
                self.constructor_types = tuple(canonical_type(p) for p in item["inputs"])
                self._constructor_in = tuple(_input_normaliser(p) for p in item["inputs"])

    def _add_function(self, item: dict[str, Any]) -> None:
        signature = _signature(item)
        fn = FunctionAbi(
            name=item["name"],
            signature=signature,
            selector=keccak(text=signature)[:4],
            input_types=tuple(canonical_type(p) for p in item["inputs"]),
            output_types=tuple(canonical_type(p) for p in item.get("outputs", [])),
            mutability=item.get("stateMutability", "nonpayable"),
            _normalise_in=tuple(_input_normaliser(p) for p in item["inputs"]),
        )
        self.functions[signature] = fn
        # A plain name refers to the function only while it is not overloaded.
        existing = self.functions.get(item["name"])
        if existing is None:
            self.functions[item["name"]] = fn
        elif existing is not _OVERLOADED and existing.signature != signature:
            self.functions[item["name"]] = _OVERLOADED

    def function(self, name: str) -> FunctionAbi:
        """By name, or by `name(types)` for an overloaded function."""
        fn = self.functions.get(name)
        if fn is None:
            raise AbiError(f"no function {name!r} in this ABI")
        if fn is _OVERLOADED:
            raise AbiError(f"{name!r} is overloaded: name it with its types, e.g. {name}(uint256)")
        return fn

    def encode_constructor(self, args: Sequence[Any]) -> bytes:
        return _encode_arguments(
            self.constructor_types,
            self._constructor_in,
            args,
            taker="constructor",
            failure="cannot encode constructor arguments",
        )


_OVERLOADED: Any = object()


def _event(item: dict[str, Any]) -> EventAbi:
    inputs = item["inputs"]
    signature = _signature(item)
    return EventAbi(
        name=item["name"],
        topic0=keccak(text=signature),
        indexed_count=sum(1 for p in inputs if p.get("indexed")),
        names=tuple(p["name"] or f"arg{i}" for i, p in enumerate(inputs)),
        indexed=tuple(bool(p.get("indexed")) for p in inputs),
        types=tuple(canonical_type(p) for p in inputs),
    )


def _error(item: dict[str, Any]) -> ErrorAbi:
    inputs = item["inputs"]
    return ErrorAbi(
        name=item["name"],
        selector=keccak(text=_signature(item))[:4],
        types=tuple(canonical_type(p) for p in inputs),
        names=tuple(p["name"] or f"arg{i}" for i, p in enumerate(inputs)),
    )


_BUILTIN_ERRORS = ContractAbi(
    [
        {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
        {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
    ]
)


class AbiRegistry:
    """Events and errors of every contract ABI registered, for decoding any log or revert."""

    def __init__(self) -> None:
        self.events: dict[tuple[bytes, int], EventAbi] = {}
        self.errors: dict[bytes, ErrorAbi] = dict(_BUILTIN_ERRORS.errors)
        self._seen: set[int] = set()

    def register(self, abi: ContractAbi) -> None:
        if id(abi) in self._seen:
            return
        self._seen.add(id(abi))
        for key, event in abi.events.items():
            self.events.setdefault(key, event)
        for selector, error in abi.errors.items():
            self.errors.setdefault(selector, error)

    def decode_log(self, topics: Sequence[bytes], data: bytes) -> tuple[str, dict[str, Any]]:
        """(event name, args); an unknown event gives ("", {"topics": ..., "data": ...})."""
        if topics:
            event = self.events.get((bytes(topics[0]), len(topics) - 1))
            if event is not None:
                try:
                    return event.name, event.decode(topics, data)
                except Exception:  # a log that only looks like a known event
                    pass
        return "", {"topics": tuple(bytes(t) for t in topics), "data": bytes(data)}

    def decode_revert(self, data: bytes) -> tuple[str, tuple[Any, ...]]:
        """(error name, args) of revert data: a custom error, `Error`, `Panic`; no data gives
        ("", ()); an unknown selector gives ("0x<selector>", (data after the selector,))."""
        if len(data) < 4:
            return ("", ()) if not data else (f"0x{data.hex()}", ())
        error = self.errors.get(bytes(data[:4]))
        if error is not None:
            try:
                return error.name, error.decode(bytes(data[4:]))
            except Exception:
                pass
        return f"0x{data[:4].hex()}", (bytes(data[4:]),)
