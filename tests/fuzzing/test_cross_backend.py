"""The two backends agree: BENCHMARK.md's gas scenario, played through the `Chain` interface on
revm and on anvil, gives identical results at every step — status, gasUsed, decoded events and
errors, every storage view, ETH and token balances — and the same gas per operation as the
project's brownie benchmark (research/benchmark_scenario.py). EIP-7702 delegation is the one
documented difference: revm's emulation does not charge EIP-7702's access of the delegate."""

from __future__ import annotations

from typing import Any

from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from fuzzing.chain.anvil_chain import AnvilChain
from fuzzing.chain.base import Chain
from fuzzing.chain.revm_chain import RevmChain
from fuzzing.channel_walk import ChannelWalk
from fuzzing.gas_scenario import GasScenario, Step
from fuzzing.views import manager_views
from research.benchmark_scenario import OPERATIONS, run_scenario
from tests.helpers import CHALLENGE_PERIOD, ETHER

COLD_ACCOUNT_ACCESS = 2_600  # EIP-2929, charged by EIP-7702 for reading the delegate


def play(chain: Chain, artifacts: dict) -> tuple[GasScenario, list[tuple[Step, dict[str, Any]]]]:
    scenario = GasScenario(chain, artifacts["ChannelManager"], artifacts["TestToken"])
    observed = []
    for step in scenario.play():
        views: dict[str, Any] = {}
        if scenario.manager is not None:
            views = manager_views(
                chain,
                scenario.manager,
                users=chain.accounts[1:4],
                threads=scenario.threads,
                token=scenario.token,
                holders=chain.accounts[:4],
            )
            views["time"] = chain.time
            views["hub nonce"] = chain.nonce(chain.accounts[0])
        observed.append((step, views))
    return scenario, observed


def test_gas_scenario_is_identical_on_revm_and_anvil(artifacts):
    revm_scenario, on_revm = play(RevmChain(), artifacts)
    anvil_scenario, on_anvil = play(AnvilChain.from_brownie(), artifacts)
    assert len(on_revm) == len(on_anvil) == 35
    for (revm_step, revm_views), (anvil_step, anvil_views) in zip(on_revm, on_anvil, strict=True):
        assert revm_step == anvil_step, revm_step.label
        assert revm_step.result.events == anvil_step.result.events, revm_step.label
        assert revm_views == anvil_views, revm_step.label
    assert sorted(revm_scenario.record.gas) == [n for n, _, _ in OPERATIONS]
    assert revm_scenario.record == anvil_scenario.record


def test_scenario_replay_measures_what_the_brownie_benchmark_measures(artifacts):
    """Guards the replay itself: the brownie benchmark, on the same build, reports the same
    gasUsed per operation and the same runtime code size."""
    benchmark = run_scenario()
    replay, _ = play(RevmChain(), artifacts)
    assert replay.record.gas == benchmark.gas
    assert replay.record.runtime_code_size == benchmark.runtime_code_size


def test_random_channel_walk_is_identical_on_revm_and_anvil():
    """150 random channel operations (fuzzing.channel_walk: deposits, withdrawals, exits,
    challenges, emptying at closing −1/0/+1, stale replays; many of them refused): every
    transaction's result and every view read is the same on both backends, and the model
    agrees with both."""
    traces, walks = [], []
    for chain in (RevmChain(), AnvilChain.from_brownie()):
        for account in chain.accounts:
            chain.set_balance(account, 10_000 * ETHER)
        chain.set_nonce(chain.accounts[0], 500_000)  # same addresses whatever ran before
        walk = ChannelWalk(chain, seed=20261207, record=True)
        for _ in range(150):
            walk.step()
        traces.append(walk.trace)
        walks.append(walk)
    assert walks[0].outcomes == walks[1].outcomes
    assert len(walks[0].outcomes) > 10  # a varied walk, refusals included
    assert walks[0].disagreements == walks[1].disagreements == []
    for on_revm, on_anvil in zip(traces[0], traces[1], strict=True):
        assert on_revm == on_anvil


def delegated_refusal(chain: Chain, artifacts: dict) -> list[Any]:
    """alice deposits, delegates (EIP-7702) to a RejectingRecipient, exits herself; the hub
    empties her channel and the refused payout is credited."""
    hub, alice = chain.accounts[:2]
    chain.set_nonce(hub, 50)
    token = chain.deploy(artifacts["TestToken"], "Test Token", "TST", sender=hub)
    manager = chain.deploy(artifacts["ChannelManager"], hub, CHALLENGE_PERIOD, token, sender=hub)
    state = ChannelState(alice, alice, pending_wei_updates=(0, 0, ETHER, 0), tx_count=(1, 1))
    sig_hub = sign_channel_state(anvil_key(0), Domain(chain.chain_id, manager.address), state)
    rejecting = chain.deploy(artifacts["RejectingRecipient"], manager, alice, sender=hub)
    results = [
        chain.transact(
            manager, "userAuthorizedUpdate", state.to_tuple(), sig_hub, sender=alice, value=ETHER
        )
    ]
    chain.delegate(alice, rejecting)
    results.append(chain.transact(manager, "startExit", alice, sender=alice))
    chain.advance(CHALLENGE_PERIOD)
    results.append(chain.transact(manager, "emptyChannel", alice, sender=hub))
    results.append(chain.call(manager, "creditWei", alice))
    return results


def test_delegation_differs_only_by_the_delegate_access_gas(artifacts):
    """What revm's EIP-7702 emulation gets right (who pays, who is credited, every event) and
    the one figure it gets wrong: the payout's call into alice does not pay for reading her
    delegate (a cold account, 2,600 gas) as EIP-7702 requires."""
    on_revm = delegated_refusal(RevmChain(), artifacts)
    on_anvil = delegated_refusal(AnvilChain.from_brownie(), artifacts)
    assert on_revm[:2] == on_anvil[:2]
    assert on_revm[3] == on_anvil[3] == ETHER
    revm_empty, anvil_empty = on_revm[2], on_anvil[2]
    assert revm_empty.success and anvil_empty.success
    assert revm_empty.events == anvil_empty.events
    assert revm_empty.events_named("DidCreditUser")
    assert anvil_empty.gas_used - revm_empty.gas_used == COLD_ACCOUNT_ACCESS
