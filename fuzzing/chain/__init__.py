"""Chain backends: `Chain` (the interface), `RevmChain` (in process), `AnvilChain` (JSON-RPC)."""

from fuzzing.chain.anvil_chain import AnvilChain, launch_anvil
from fuzzing.chain.base import (
    CallReverted,
    Chain,
    ChainError,
    Contract,
    DeployFailed,
    Event,
    TxResult,
)
from fuzzing.chain.revm_chain import RevmChain

__all__ = [
    "AnvilChain",
    "CallReverted",
    "Chain",
    "ChainError",
    "Contract",
    "DeployFailed",
    "Event",
    "RevmChain",
    "TxResult",
    "launch_anvil",
]
