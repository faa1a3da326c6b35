"""The fuzzing engine's foundation: chain backends behind one interface, and the tools around them.

- `fuzzing.chain`: the `Chain` interface (`base`), the in-process revm backend (`revm_chain`)
  and the anvil backend (`anvil_chain`); both return identical `TxResult`s.
- `fuzzing.artifacts`: brownie's build output as `Artifact`s; `fuzzing.compile`: any Solidity
  file through the project's own compiler set-up (`--contract PATH`).
- `fuzzing.abi`, `fuzzing.abicodec`: ABI encoding, and decoding of events and custom errors.
- `fuzzing.fastsign`: EIP-712 signing with coincurve, byte-identical to channel_manager.signing.
- `fuzzing.gas_scenario`, `fuzzing.views`: BENCHMARK.md's scenario on any chain, and every
  storage view of a ChannelManager in one dict.

See docs/fuzzing-backends.md. Nothing here imports brownie except `AnvilChain.from_brownie`.
"""
