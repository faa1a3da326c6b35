"""fuzzing.abicodec encodes exactly what eth_abi encodes and decodes it back (no chain)."""

from __future__ import annotations

import eth_abi
import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzzing.abicodec import AbiValueError, decode, encode

ADDRESS = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
UINT256 = st.integers(0, 2**256 - 1)
CHANNEL_STATE = "(address,address,uint256[2],uint256[2],uint256[4],uint256[4],uint256[2],bytes32,uint256,uint256)"

channel_states = st.tuples(
    ADDRESS,
    ADDRESS,
    st.lists(UINT256, min_size=2, max_size=2),
    st.lists(UINT256, min_size=2, max_size=2),
    st.lists(UINT256, min_size=4, max_size=4),
    st.lists(UINT256, min_size=4, max_size=4),
    st.lists(UINT256, min_size=2, max_size=2),
    st.binary(min_size=32, max_size=32),
    UINT256,
    UINT256,
)

CASES = [
    ([CHANNEL_STATE, "bytes"], st.tuples(channel_states, st.binary(max_size=130))),
    (
        [
            "address",
            "(address,address,uint256,uint256[2],uint256[2],uint256)",
            "bytes32[]",
            "bytes",
        ],
        st.tuples(
            ADDRESS,
            st.tuples(
                ADDRESS,
                ADDRESS,
                UINT256,
                st.lists(UINT256, min_size=2, max_size=2),
                st.lists(UINT256, min_size=2, max_size=2),
                UINT256,
            ),
            st.lists(st.binary(min_size=32, max_size=32), max_size=5),
            st.binary(max_size=70),
        ),
    ),
    (
        ["int128", "bool", "string", "bytes4", "uint8[3]"],
        st.tuples(
            st.integers(-(2**127), 2**127 - 1),
            st.booleans(),
            st.text(max_size=40),
            st.binary(min_size=4, max_size=4),
            st.lists(st.integers(0, 255), min_size=3, max_size=3),
        ),
    ),
    (
        ["(uint8,bytes)[]", "uint256[2][]", "string[]"],
        st.tuples(
            st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), max_size=4),
            st.lists(st.lists(UINT256, min_size=2, max_size=2), max_size=3),
            st.lists(st.text(max_size=10), max_size=3),
        ),
    ),
]


def _normalised(value):
    """eth_abi's decoded form as fuzzing.abicodec returns it: checksummed addresses."""
    if isinstance(value, tuple):
        return tuple(_normalised(v) for v in value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


@pytest.mark.parametrize(
    "types, values", CASES, ids=["channel-call", "thread-call", "scalars", "nested-dynamic"]
)
def test_encoding_equals_eth_abi_and_decodes_back(types, values):
    @settings(max_examples=60, deadline=None)
    @given(values)
    def check(example):
        encoded = encode(types, example)
        assert encoded == eth_abi.encode(types, example)
        assert decode(types, encoded) == _normalised(eth_abi.decode(types, encoded))

    check()


@pytest.mark.parametrize(
    "types, value",
    [
        (["uint8"], [256]),
        (["uint256"], [-1]),
        (["int8"], [128]),
        (["bool"], [1]),
        (["bytes4"], [b"12345"]),
        (["address"], ["0x1234"]),
        (["uint256[2]"], [[1, 2, 3]]),
        (["uint256"], [True]),
    ],
)
def test_values_that_do_not_fit_are_refused_like_eth_abi(types, value):
    with pytest.raises(AbiValueError):
        encode(types, value)
    with pytest.raises(eth_abi.exceptions.EncodingError):
        eth_abi.encode(types, value)
