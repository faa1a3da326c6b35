"""channel_manager.watchtower without a chain: a scripted `WatchtowerChain` stands in for the node,
so the decisions (answer, cannot answer, missed, answer pending) are checked on their own. The
same decisions against a real chain: tests/scripts/test_watchtower.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from channel_manager.aliases import ZERO_BYTES32
from channel_manager.contract_views import ChannelBalances, ChannelDetails, ChannelStatus
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.ops.chain_view import ChainView
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState
from channel_manager.watchtower import AnswerUnfinished, Watchtower
from channel_manager.watchtower_store import WatchtowerStore

HUB = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
DOMAIN = Domain(31337, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
ETHER = 10**18
PERIOD = 3600
NOW = 1_000_000
CLOSING = NOW + PERIOD
# Alice exits with her deposit state (txCount [2, 1], 1 ETH hers); the tower holds the newer
# state in which she paid the hub 0.4 ETH.
STALE = ChannelState(ALICE, ALICE, wei_balances=(0, ETHER), tx_count=(2, 1))
NEWER = STALE.evolve(wei_balances=(4 * ETHER // 10, 6 * ETHER // 10), tx_count=(3, 1))


@dataclass
class ScriptedChain:
    """One disputed channel, one exit event in block 5, and a record of what was sent."""

    account: str = HUB
    hub: str = HUB
    now: int = NOW
    unfinished: bool = False  # every send ends "sent, not mined in time"
    sends: list[str] = field(default_factory=list)
    pending: set[str] = field(default_factory=set)

    def head(self) -> int:
        return 6

    def events(self, first: int, last: int) -> Sequence[Mapping[str, Any]]:
        exit_event = {
            "event": "DidStartExitChannel",
            "block": 5,
            "args": {
                "user": ALICE,
                "caller": ALICE,
                "channelClosingTime": CLOSING,
                "txCount": list(STALE.tx_count),
            },
        }
        return [exit_event] if first <= 5 <= last else []

    def channel_details(self, user: str) -> ChannelDetails:
        return ChannelDetails(
            *STALE.tx_count, ZERO_BYTES32, 0, ALICE, CLOSING, ChannelStatus.CHANNEL_DISPUTE
        )

    def view(
        self, *, users: Sequence[str] = (), threads: Sequence[tuple[str, str, int]] = ()
    ) -> ChainView:
        view = ChainView(
            address=DOMAIN.verifying_contract,
            chain_id=DOMAIN.chain_id,
            hub=self.hub,
            challenge_period=PERIOD,
            now=self.now,
            eth_balance=ETHER,
            total_channel_wei=ETHER,
        )
        for user in users:
            balances = ChannelBalances(*STALE.wei_balances, ETHER, 0, 0, 0)
            view.channels[user] = (balances, self.channel_details(user))
        return view

    def challenge_period(self) -> int:
        return PERIOD

    def still_pending(self, txid: str) -> bool:
        return txid in self.pending

    def send(self, method: str, args: tuple[Any, ...], summary: str) -> str | None:
        self.sends.append(method)
        if self.unfinished:
            self.pending.add("0xfeed")
            raise AnswerUnfinished("not mined within the bound", "0xfeed")
        return "0xabc"


@pytest.fixture
def store(tmp_path):
    store = WatchtowerStore(tmp_path / "w.sqlite", DOMAIN, HUB)
    sig_hub = sign_channel_state(anvil_key(0), DOMAIN, NEWER)
    sig_user = sign_channel_state(anvil_key(1), DOMAIN, NEWER)
    assert store.offer_channel(NEWER, sig_hub, sig_user)
    return store


def actions(decisions: Sequence[Any]) -> list[str]:
    return [d.action for d in decisions]


def test_a_stale_exit_is_answered_with_the_newer_state(store):
    chain = ScriptedChain()
    decisions = Watchtower(chain, store).run_once()
    assert actions(decisions) == ["dispute seen", "answered"]
    assert chain.sends == ["emptyChannelWithChallenge"]
    assert store.dispute("channel", ALICE).status == "answered"


def test_an_account_neither_hub_nor_user_cannot_answer(store):
    chain = ScriptedChain(account=BOB)
    decisions = Watchtower(chain, store).run_once()
    assert actions(decisions) == ["dispute seen", "cannot answer"]
    assert chain.sends == []


def test_a_closed_window_is_reported_missed(store):
    chain = ScriptedChain(now=CLOSING)
    decisions = Watchtower(chain, store).run_once()
    assert actions(decisions) == ["dispute seen", "missed"]
    assert chain.sends == [] and store.dispute("channel", ALICE).status == "closed"


def test_an_answer_not_mined_in_time_is_not_sent_again_while_pending(store):
    chain = ScriptedChain(unfinished=True)
    tower = Watchtower(chain, store)
    assert actions(tower.run_once()) == ["dispute seen", "answer pending"]
    assert actions(tower.run_once()) == ["answer pending"]  # the node still holds it
    assert tower.run_once() == []  # said once, not on every poll
    assert chain.sends == ["emptyChannelWithChallenge"]
