"""The fuzzing engine's foundation: chain backends behind one interface, and the tools around them.

- `fuzzing.chain`: the `Chain` interface (`base`), the in-process revm backend (`revm_chain`)
  and the anvil backend (`anvil_chain`); both return identical `TxResult`s.
- `fuzzing.artifacts`: brownie's build output as `Artifact`s; `fuzzing.compile`: any Solidity
  file through the project's own compiler set-up (`--contract PATH`).
- `fuzzing.abi`, `fuzzing.abicodec`: ABI encoding, and decoding of events and custom errors.
- `fuzzing.fastsign`: EIP-712 signing with coincurve, byte-identical to channel_manager.signing.
- `fuzzing.gas_scenario_script`: BENCHMARK.md's scenario written once (states, signatures, order,
  times); `fuzzing.gas_scenario` plays it on any chain (research/benchmark_scenario.py through
  brownie). `fuzzing.views`: every storage view of a ChannelManager in one dict.
- `fuzzing.engine`: the adversarial, property-judged engine (docs/fuzzing-engine.md);
  `fuzzing.mutants`: the mutant set; `fuzzing.cluster`, `fuzzing.replay`,
  `fuzzing.campaign_report`: sharded campaigns on Dask, replay and reports; `fuzzing.cli_options`:
  the options `research/fuzz.py` and `research/campaign.py` share; `fuzzing.channel_walk`,
  `fuzzing.ledger`: the throughput walk and the signed-state ledger the benchmarks use.

See docs/fuzzing-backends.md. Nothing here imports brownie except `AnvilChain.from_brownie`.
"""
