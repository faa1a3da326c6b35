"""fuzzing.fastsign gives the reference signer's exact bytes (channel_manager.signing), no chain."""

from __future__ import annotations

from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain, channel_digest, thread_digest, thread_struct_hash
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState
from fuzzing import fastsign
from fuzzing.fastsign import FastSigner

ADDRESS = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
AMOUNT = st.integers(0, 2**256 - 1)
PAIR = st.tuples(AMOUNT, AMOUNT)
QUAD = st.tuples(AMOUNT, AMOUNT, AMOUNT, AMOUNT)
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
KEYS = [anvil_key(i) for i in range(3)]

channel_states = st.builds(
    ChannelState,
    ADDRESS,
    ADDRESS,
    PAIR,
    PAIR,
    QUAD,
    QUAD,
    PAIR,
    st.binary(min_size=32, max_size=32),
    AMOUNT,
    AMOUNT,
)
thread_states = st.builds(ThreadState, ADDRESS, ADDRESS, AMOUNT, PAIR, PAIR, AMOUNT)


@settings(max_examples=40, deadline=None)
@given(channel_states, st.sampled_from(KEYS))
def test_channel_signatures_equal_the_reference_signer(state, key):
    signer = FastSigner(DOMAIN)
    assert signer.channel_digest(state) == channel_digest(DOMAIN, state)
    assert signer.sign_channel(key, state) == sign_channel_state(key, DOMAIN, state)


@settings(max_examples=40, deadline=None)
@given(thread_states, st.sampled_from(KEYS))
def test_thread_signatures_and_leaves_equal_the_reference(state, key):
    signer = FastSigner(DOMAIN)
    assert fastsign.thread_struct_hash(state) == thread_struct_hash(state)
    assert signer.thread_digest(state) == thread_digest(DOMAIN, state)
    assert signer.sign_thread(key, state) == sign_thread_state(key, DOMAIN, state)
