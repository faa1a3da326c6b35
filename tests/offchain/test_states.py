"""channel_manager.states: tuple and JSON forms round-trip exactly; malformed input is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel_manager.states import ChannelState, ThreadState

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
u256 = st.integers(min_value=0, max_value=2**256 - 1)
pairs = st.tuples(u256, u256)
quads = st.tuples(u256, u256, u256, u256)

channel_states = st.builds(
    ChannelState,
    user=addresses,
    recipient=addresses,
    wei_balances=pairs,
    token_balances=pairs,
    pending_wei_updates=quads,
    pending_token_updates=quads,
    tx_count=pairs,
    thread_root=st.binary(min_size=32, max_size=32),
    thread_count=u256,
    timeout=u256,
)
thread_states = st.builds(
    ThreadState,
    sender=addresses,
    receiver=addresses,
    thread_id=u256,
    wei_balances=pairs,
    token_balances=pairs,
    tx_count=u256,
)


FORMS = ["tuple", "json"]  # each state class writes itself as, and reads itself from, both


def round_trip(state: ChannelState | ThreadState, form: str) -> ChannelState | ThreadState:
    """`state` written in `form` and read back by its own class."""
    cls = type(state)
    return cls.from_tuple(state.to_tuple()) if form == "tuple" else cls.from_json(state.to_json())


@pytest.mark.parametrize("form", FORMS)
@given(state=channel_states)
def test_channel_state_round_trip(form: str, state: ChannelState) -> None:
    assert round_trip(state, form) == state


@given(channel_states)
def test_channel_state_json_amounts_are_decimal_strings(state: ChannelState) -> None:
    """Amounts exceed JavaScript's 2^53, so JSON carries them as strings."""
    data = json.loads(state.to_json())
    assert data["wei_balances"] == [str(v) for v in state.wei_balances]
    assert data["timeout"] == str(state.timeout)


@pytest.mark.parametrize("form", FORMS)
@given(state=thread_states)
def test_thread_state_round_trip(form: str, state: ThreadState) -> None:
    assert round_trip(state, form) == state


def test_channel_state_refuses_negative_amount() -> None:
    with pytest.raises(ValueError):
        ChannelState("0x" + "11" * 20, "0x" + "11" * 20, wei_balances=(-1, 0))


def test_channel_state_refuses_wrong_array_length() -> None:
    with pytest.raises(ValueError):
        ChannelState("0x" + "11" * 20, "0x" + "11" * 20, pending_wei_updates=(0, 0, 0))


def test_channel_state_refuses_short_thread_root() -> None:
    with pytest.raises(ValueError):
        ChannelState("0x" + "11" * 20, "0x" + "11" * 20, thread_root=b"\x01" * 31)


def test_channel_state_json_refuses_unknown_field() -> None:
    data = ChannelState("0x" + "11" * 20, "0x" + "11" * 20).to_json_dict()
    data["nonce"] = "1"
    with pytest.raises(ValueError):
        ChannelState.from_json_dict(data)


def test_evolve_returns_a_new_state_and_keeps_the_old() -> None:
    state = ChannelState("0x" + "11" * 20, "0x" + "11" * 20)
    later = state.evolve(tx_count=(1, 0))
    assert (state.tx_count, later.tx_count) == ((0, 0), (1, 0))
