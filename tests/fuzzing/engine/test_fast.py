"""The engine's fast state building, hashing and signing agree with channel_manager
(fuzzing/engine/fast.py), so what the engine signs is what the reference package would sign."""

import random

from channel_manager.eip712 import Domain, channel_digest, thread_digest, thread_struct_hash
from channel_manager.signing import recover
from channel_manager.states import ChannelState, ThreadState
from fuzzing.engine.fast import Hasher, channel_state, derived_key, evolve, thread_state

DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def random_channel_state(rng: random.Random, user: str) -> ChannelState:
    big = lambda: rng.choice((0, 1, rng.randrange(2**128), 2**256 - 1))  # noqa: E731
    return ChannelState(
        user,
        rng.choice((user, OTHER)),
        (big(), big()),
        (big(), big()),
        (big(), big(), big(), big()),
        (big(), big(), big(), big()),
        (big(), big()),
        rng.randbytes(32),
        rng.randrange(2**32),
        rng.choice((0, rng.randrange(2**64))),
    )


def test_fast_channel_states_hash_and_sign_like_channel_manager():
    rng = random.Random(7)
    hasher = Hasher(DOMAIN)
    key = derived_key("test")
    for _ in range(40):
        s = random_channel_state(rng, key.address)
        fast = channel_state(
            s.user,
            s.recipient,
            s.wei_balances,
            s.token_balances,
            s.pending_wei_updates,
            s.pending_token_updates,
            s.tx_count,
            s.thread_root,
            s.thread_count,
            s.timeout,
        )
        assert fast == s and hash(fast) == hash(s)
        assert evolve(fast, tx_count=(1, 2), timeout=5) == s.evolve(tx_count=(1, 2), timeout=5)
        digest = hasher.channel_digest(fast)
        assert digest == channel_digest(DOMAIN, s)
        signature = key.sign(digest)
        assert recover(digest, signature) == key.address
        assert (
            int.from_bytes(signature[32:64], "big")
            <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
        )


def test_fast_thread_states_hash_like_channel_manager():
    rng = random.Random(8)
    hasher = Hasher(DOMAIN)
    for _ in range(40):
        wei = (rng.randrange(2**96), rng.randrange(2**96))
        token = (rng.randrange(2**96), 0)
        tx = rng.choice((0, 2**64 - 1, 2**64, 2**256 - 1))
        reference = ThreadState(OTHER, derived_key("r").address, rng.randrange(9), wei, token, tx)
        fast = thread_state(
            reference.sender, reference.receiver, reference.thread_id, wei, token, tx
        )
        assert fast == reference
        assert hasher.thread_struct_hash(fast) == thread_struct_hash(reference)
        assert hasher.thread_digest(fast) == thread_digest(DOMAIN, reference)
