"""A fast ABI codec, compiled once per type list, for the fuzzing hot path.

eth_abi validates and dispatches per value and took about 60 % of a revm transaction's time
(decoding one event ~50 µs). This module compiles a type list into plain closures over the ABI's
head/tail layout: unsigned and signed integers, address, bool, bytesN, bytes, string, fixed and
dynamic arrays and tuples. It encodes exactly what eth_abi encodes (tests/fuzzing/
test_abicodec.py checks both ways on random values) and rejects out-of-range values the same
way (AbiValueError). Decoding is for data a contract produced: it reads values without
eth_abi's strict padding checks, and returns addresses checksummed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from eth_abi.grammar import BasicType, TupleType, parse
from eth_utils import to_checksum_address

WORD = 32
_ZERO12 = bytes(12)

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes, int], Any]  # (data, offset of the value's head) -> value


class AbiValueError(ValueError):
    """A value does not fit its ABI type."""


@lru_cache(maxsize=8192)
def _checksum(raw20: bytes) -> str:
    return to_checksum_address("0x" + raw20.hex())


# ---------------------------------------------------------------------- type structure
class _Kind:
    __slots__ = ("decode", "dynamic", "encode", "head_size")

    def __init__(self, dynamic: bool, encode: Encoder, decode: Decoder, head_size: int) -> None:
        self.dynamic = dynamic
        self.encode = encode  # the value's own encoding (for a dynamic value: its tail)
        self.decode = decode
        self.head_size = head_size  # bytes the value takes in its parent's head


def _kind(node: Any) -> _Kind:
    if node.arrlist:
        *_outer, last = node.arrlist
        element = _kind(node.item_type)
        if last:  # fixed size [k]
            return _fixed_array(element, last[0])
        return _dynamic_array(element)
    if isinstance(node, TupleType):
        return _tuple([_kind(c) for c in node.components])
    return _basic(node)


def _basic(node: BasicType) -> _Kind:
    base, sub = node.base, node.sub
    if base == "uint":
        bits = int(sub)
        limit = 1 << bits

        def enc_uint(v: Any) -> bytes:
            if not isinstance(v, int) or isinstance(v, bool):
                raise AbiValueError(f"uint{bits} needs an int, got {v!r}")
            if not 0 <= v < limit:
                raise AbiValueError(f"{v} does not fit uint{bits}")
            return v.to_bytes(WORD, "big")

        return _Kind(False, enc_uint, lambda d, o: int.from_bytes(d[o : o + WORD], "big"), WORD)
    if base == "int":
        bits = int(sub)
        low, high = -(1 << (bits - 1)), 1 << (bits - 1)

        def enc_int(v: Any) -> bytes:
            if not isinstance(v, int) or isinstance(v, bool):
                raise AbiValueError(f"int{bits} needs an int, got {v!r}")
            if not low <= v < high:
                raise AbiValueError(f"{v} does not fit int{bits}")
            return v.to_bytes(WORD, "big", signed=True)

        return _Kind(
            False, enc_int, lambda d, o: int.from_bytes(d[o : o + WORD], "big", signed=True), WORD
        )
    if base == "address":
        return _Kind(False, _enc_address, lambda d, o: _checksum(bytes(d[o + 12 : o + WORD])), WORD)
    if base == "bool":

        def enc_bool(v: Any) -> bytes:
            if not isinstance(v, bool):
                raise AbiValueError(f"bool needs a bool, got {v!r}")
            return (1 if v else 0).to_bytes(WORD, "big")

        return _Kind(False, enc_bool, lambda d, o: d[o + WORD - 1] != 0, WORD)
    if base == "bytes" and sub:
        size = int(sub)

        def enc_fixed_bytes(v: Any) -> bytes:
            if not isinstance(v, (bytes, bytearray)) or len(v) > size:
                raise AbiValueError(f"bytes{size} needs at most {size} bytes, got {v!r}")
            return bytes(v).ljust(WORD, b"\0")

        return _Kind(False, enc_fixed_bytes, lambda d, o: bytes(d[o : o + size]), WORD)
    if base in ("bytes", "string"):
        is_string = base == "string"

        def enc_dynamic_bytes(v: Any) -> bytes:
            if is_string:
                if not isinstance(v, str):
                    raise AbiValueError(f"string needs a str, got {v!r}")
                raw = v.encode()
            else:
                if not isinstance(v, (bytes, bytearray)):
                    raise AbiValueError(f"bytes needs bytes, got {v!r}")
                raw = bytes(v)
            padded = -len(raw) % WORD
            return len(raw).to_bytes(WORD, "big") + raw + b"\0" * padded

        def dec_dynamic_bytes(d: bytes, o: int) -> Any:
            length = int.from_bytes(d[o : o + WORD], "big")
            raw = bytes(d[o + WORD : o + WORD + length])
            if len(raw) != length:
                raise AbiValueError("dynamic value runs past the end of the data")
            return raw.decode() if is_string else raw

        return _Kind(True, enc_dynamic_bytes, dec_dynamic_bytes, WORD)
    raise AbiValueError(f"unsupported ABI type {node.to_type_str()}")


def _enc_address(v: Any) -> bytes:
    if not isinstance(v, str):
        v = str(v)
    if len(v) != 42 or v[:2] not in ("0x", "0X"):
        raise AbiValueError(f"not an address: {v!r}")
    try:
        return _ZERO12 + bytes.fromhex(v[2:])
    except ValueError:
        raise AbiValueError(f"not an address: {v!r}") from None


def _tuple(parts: list[_Kind]) -> _Kind:
    dynamic = any(p.dynamic for p in parts)
    head_total = sum(p.head_size for p in parts)
    count = len(parts)

    def enc_tuple(values: Any) -> bytes:
        if len(values) != count:
            raise AbiValueError(f"expected {count} values, got {len(values)}")
        if not dynamic:
            return b"".join(p.encode(v) for p, v in zip(parts, values, strict=False))
        heads: list[bytes] = []
        tails: list[bytes] = []
        offset = head_total
        for p, v in zip(parts, values, strict=False):
            if p.dynamic:
                tail = p.encode(v)
                heads.append(offset.to_bytes(WORD, "big"))
                tails.append(tail)
                offset += len(tail)
            else:
                heads.append(p.encode(v))
        return b"".join(heads) + b"".join(tails)

    def dec_tuple(d: bytes, o: int) -> tuple[Any, ...]:
        out = []
        head = o
        for p in parts:
            if p.dynamic:
                out.append(p.decode(d, o + int.from_bytes(d[head : head + WORD], "big")))
            else:
                out.append(p.decode(d, head))
            head += p.head_size
        return tuple(out)

    return _Kind(dynamic, enc_tuple, dec_tuple, WORD if dynamic else head_total)


def _fixed_array(element: _Kind, size: int) -> _Kind:
    inner = _tuple([element] * size)

    def enc_fixed(values: Any) -> bytes:
        if len(values) != size:
            raise AbiValueError(f"expected an array of {size}, got {len(values)}")
        return inner.encode(values)

    return _Kind(inner.dynamic, enc_fixed, inner.decode, inner.head_size)


def _dynamic_array(element: _Kind) -> _Kind:
    def enc_dynamic(values: Any) -> bytes:
        values = list(values)
        return len(values).to_bytes(WORD, "big") + _tuple([element] * len(values)).encode(values)

    def dec_dynamic(d: bytes, o: int) -> tuple[Any, ...]:
        length = int.from_bytes(d[o : o + WORD], "big")
        if length > len(d):
            raise AbiValueError("array length runs past the end of the data")
        return _tuple([element] * length).decode(d, o + WORD)

    return _Kind(True, enc_dynamic, dec_dynamic, WORD)


# ---------------------------------------------------------------------- public
@lru_cache(maxsize=1024)
def _compiled(types: tuple[str, ...]) -> tuple[_Kind, int]:
    """The type list as a tuple, and the size of its head."""
    parts = [_kind(parse(t)) for t in types]
    return _tuple(parts), sum(p.head_size for p in parts)


def encode(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """eth_abi.encode(types, values), faster."""
    return _compiled(tuple(types))[0].encode(values)


def decode(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """eth_abi.decode(types, data) with addresses checksummed and arrays as tuples."""
    kind, head_size = _compiled(tuple(types))
    if len(data) < head_size:
        raise AbiValueError(f"{len(data)} bytes are too short for ({','.join(types)})")
    return kind.decode(bytes(data), 0)
