"""Thread stories on the chain (docs/protocol.md §8, §10.1): alice pays bob through the hub with a thread,
and the thread ends in each of the ways the protocol allows.

1. both users close it cooperatively (authorized updates with the released balances, then
   everyone withdraws);
2. the hub disputes alice's channel while the thread is open, and both sides are settled
   through thread disputes;
3. bob answers alice's stale thread exit with a later thread state;
4. alice's channel holds several threads, one is disputed, the others never are, and
   `nukeThreads` frees the rest.

Every transaction goes through a `Story`, which keeps ghost accounting of what entered and left
the contract and checks the docs/protocol.md §10.1 properties after each one. At the end of each story every
address's holdings (wallet + credits, + reserve for the hub) must have moved by exactly what
the newest signed states promise it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from brownie import ChannelManager, TestToken, web3

from channel_manager import transitions
from channel_manager.contract_views import (
    ChannelStatus,
    channel_balances,
    channel_details,
    thread_record,
)
from channel_manager.states import HUB, USER, ThreadState
from channel_manager.threads import (
    ThreadedChannel,
    close_thread,
    initial_of,
    release_thread,
)
from tests.fixtures.deployments import fund_users, signer_for
from tests.fixtures.solvency import assert_solvent
from tests.fixtures.threads import (
    RECEIVER_DEPOSIT,
    SENDER_DEPOSIT,
    STEP_TOKEN,
    STEP_WEI,
    ThreadWorld,
)
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, set_next_timestamp

RESERVE_WEI, RESERVE_TOKEN = 100 * ETHER, 10_000 * TOKEN
NUKE_DELAY = 10 * CHALLENGE_PERIOD


def _event_list(tx: Any, name: str) -> list[dict[str, Any]]:
    if name not in tx.events:
        return []
    item = tx.events[name]
    return [dict(item[i]) for i in range(len(item))]


@dataclass
class Ghost:
    """docs/protocol.md §10.1 ghost accounting: what entered and left the contract, per asset."""

    eth_in: int = 0
    eth_out: int = 0
    token_in: int = 0
    token_out: int = 0


@dataclass
class Story(ThreadWorld):
    """The thread harness on a fresh deployment, auditing every transaction it sends."""

    users: list[Any] = field(default_factory=list)
    ghost: Ghost = field(default_factory=Ghost)
    user_deposits: dict[str, list[int]] = field(default_factory=dict)  # user -> [wei, token]
    hub_deposits: list[int] = field(default_factory=lambda: [0, 0])
    start: dict[str, tuple[int, int]] = field(default_factory=dict)

    # ---------------------------------------------------------------- audited transactions
    def send(self, method: Any, *args: Any, sender: Any, value: int = 0) -> Any:
        """Call a state-changing manager function, account for it, check the invariants."""
        tx = super().send(method, *args, sender=sender, value=value)
        self.ghost.eth_in += value
        self._account(tx)
        self.check_invariants()
        return tx

    def _account(self, tx: Any) -> None:
        g = self.ghost
        for e in _event_list(tx, "DidUpdateChannel"):
            pw, pt = (
                [int(x) for x in e["pendingWeiUpdates"]],
                [int(x) for x in e["pendingTokenUpdates"]],
            )
            if str(e["caller"]) != str(self.hub):
                g.token_in += pt[2]  # userAuthorizedUpdate: the user's tokens are pulled in
            g.eth_out += pw[3]  # user withdrawals go to the recipient
            g.token_out += pt[3]
        for e in _event_list(tx, "DidEmptyChannel"):
            g.eth_out += int(e["weiBalances"][1])
            g.token_out += int(e["tokenBalances"][1])
        for e in _event_list(tx, "DidEmptyThread"):
            g.eth_out += int(e["weiPaid"])
            g.token_out += int(e["tokenPaid"])
        for e in _event_list(tx, "DidNukeThreads"):
            g.eth_out += int(e["weiAmount"])
            g.token_out += int(e["tokenAmount"])
        for e in _event_list(tx, "DidCreditUser"):  # refused payouts stay in the contract
            g.eth_out -= int(e["weiAmount"])
            g.token_out -= int(e["tokenAmount"])
        for e in _event_list(tx, "DidClaim") + _event_list(tx, "DidHubContractWithdraw"):
            g.eth_out += int(e["weiAmount"])
            g.token_out += int(e["tokenAmount"])

    def check_invariants(self) -> None:
        """docs/protocol.md §10.1: solvency, totals = Σ channel totals, hub + user ≤ total,
        ghost balance."""
        m = self.manager
        assert_solvent(m, self.token, self.users)
        eth, tokens = web3.eth.get_balance(m.address), int(self.token.balanceOf(m))
        credit_wei = sum(int(m.creditWei(u)) for u in self.users)
        credit_token = sum(int(m.creditToken(u)) for u in self.users)
        total_wei, total_token = int(m.totalChannelWei()), int(m.totalChannelToken())
        assert eth == self.ghost.eth_in - self.ghost.eth_out
        assert tokens == self.ghost.token_in - self.ghost.token_out
        assert int(m.getHubReserveWei()) == eth - total_wei - credit_wei
        assert int(m.getHubReserveTokens()) == tokens - total_token - credit_token

    # ---------------------------------------------------------------- set-up
    def fund_reserve(self) -> None:
        self.token.mint(self.hub, RESERVE_TOKEN, {"from": self.hub})
        self.token.transfer(self.manager, RESERVE_TOKEN, {"from": self.hub})
        self.ghost.token_in += RESERVE_TOKEN
        self.hub.transfer(self.manager, RESERVE_WEI)
        self.ghost.eth_in += RESERVE_WEI
        fund_users(self.manager, self.token, tuple(self.users))
        self.check_invariants()
        self.start = {str(a): self.holdings(a) for a in [self.hub, *self.users]}

    def open_channel(self, user: Any, **amounts: int) -> ThreadedChannel:
        """The harness's deposit, with each side's deposit booked for `promised`."""
        channel = super().open_channel(user, **amounts)
        wei, token = channel.state.wei_balances, channel.state.token_balances
        self.user_deposits[str(user)] = [wei[USER], token[USER]]
        self.hub_deposits[0] += wei[HUB]
        self.hub_deposits[1] += token[HUB]
        return channel

    # ---------------------------------------------------------------- off-chain
    def close(self, initial: ThreadState) -> None:
        """Cooperative close in both channels at the thread's newest state."""
        final = self.newest_thread[initial.key]
        closing = close_thread(self.channels[final.sender], self.channels[final.receiver], final)
        self.channels[final.sender], self.channels[final.receiver] = (
            closing.sender,
            closing.receiver,
        )

    def close_in(self, user: Any, initial: ThreadState) -> None:
        """Cooperative close in one channel only (the other side settles otherwise)."""
        self.channels[str(user)] = release_thread(
            self.channels[str(user)], self.newest_thread[initial.key]
        )

    # ---------------------------------------------------------------- on chain
    def submit_by_hub(self, user: Any) -> None:
        """hubAuthorizedUpdate with the user's signature on the newest state (no pending)."""
        state = self.channels[str(user)].state
        self.send(
            self.manager.hubAuthorizedUpdate,
            state.to_tuple(),
            self.signer.channel(state, user),
            sender=self.hub,
        )

    def withdraw_everything(self, user: Any) -> None:
        """The user takes its whole balance to its wallet, the hub its to the reserve."""
        ch = self.channels[str(user)]
        assert ch.threads == ()
        (wh, wu), (th, tu) = ch.state.wei_balances, ch.state.token_balances
        proposal = transitions.propose_withdrawal(
            ch.state, user_wei=wu, user_token=tu, hub_wei=wh, hub_token=th
        )
        self.send(
            self.manager.userAuthorizedUpdate,
            proposal.to_tuple(),
            self.signer.channel(proposal, self.hub),
            sender=user,
        )
        self.channels[str(user)] = ThreadedChannel(transitions.acknowledge(proposal))

    def exit_channel(self, user: Any, by: Any, answer_by: Any) -> int:
        """`by` exits with the newest double-signed state; `answer_by` (the other party) empties
        at once. Returns the channel closing time."""
        return self.dispute_state(self.channel(user).state, by=by, answer_by=answer_by)

    def start_thread_dispute(
        self, user: Any, initial: ThreadState, by: Any, update: ThreadState | None = None
    ) -> int:
        """startExitThread (or ...WithUpdate, given `update`); returns the thread closing time."""
        if update is None:
            tx = self.exit_thread(user, initial, caller=by)
        else:
            tx = self.exit_thread_with_update(user, initial, update, caller=by)
        return int(tx.events["DidStartExitThread"]["threadClosingTime"])

    # ---------------------------------------------------------------- outcomes
    def holdings(self, who: Any) -> tuple[int, int]:
        """ETH and tokens an address commands outside channels: wallet + unclaimed credits,
        and for the hub its reserve too."""
        wei = web3.eth.get_balance(str(who)) + int(self.manager.creditWei(who))
        token = int(self.token.balanceOf(who)) + int(self.manager.creditToken(who))
        if str(who) == str(self.hub):
            wei += int(self.manager.getHubReserveWei())
            token += int(self.manager.getHubReserveTokens())
        return wei, token

    def promised(
        self, channels: Iterable[ThreadedChannel] | None = None
    ) -> dict[str, tuple[int, int]]:
        """What the newest signed states promise each address, net of what it put in: per
        channel, the user gets its balance plus its side of every thread still locked there
        (at the thread's newest sender-signed state), the hub its balance plus the other side."""
        gets: dict[str, list[int]] = {str(a): [0, 0] for a in [self.hub, *self.users]}
        for ch in channels if channels is not None else self.channels.values():
            user, hub = gets[ch.user], gets[str(self.hub)]
            user[0] += ch.state.wei_balances[USER]
            user[1] += ch.state.token_balances[USER]
            hub[0] += ch.state.wei_balances[HUB]
            hub[1] += ch.state.token_balances[HUB]
            for initial in ch.threads:
                final = self.newest_thread[initial.key]
                mine, other = (0, 1) if ch.user == final.sender else (1, 0)
                user[0] += final.wei_balances[mine]
                user[1] += final.token_balances[mine]
                hub[0] += final.wei_balances[other]
                hub[1] += final.token_balances[other]
        for u, (wei, token) in self.user_deposits.items():
            gets[u][0] -= wei
            gets[u][1] -= token
        gets[str(self.hub)][0] -= self.hub_deposits[0]
        gets[str(self.hub)][1] -= self.hub_deposits[1]
        return {a: (w, t) for a, (w, t) in gets.items()}

    def assert_outcome(
        self, promised: dict[str, tuple[int, int]], expected: dict[Any, tuple[int, int]]
    ) -> None:
        """Every address moved by what the states promised (and by the story's own figures);
        nothing is left in any channel; the ghost books balance."""
        for who in [self.hub, *self.users]:
            now = self.holdings(who)
            delta = (now[0] - self.start[str(who)][0], now[1] - self.start[str(who)][1])
            assert delta == promised[str(who)], f"{who}: {delta} != promised {promised[str(who)]}"
        assert {str(k): v for k, v in expected.items()} == {
            k: v for k, v in promised.items() if k in {str(x) for x in expected}
        }
        assert (
            sum(w for w, _ in promised.values()) == 0 and sum(t for _, t in promised.values()) == 0
        )
        assert (int(self.manager.totalChannelWei()), int(self.manager.totalChannelToken())) == (
            0,
            0,
        )
        for u in self.users:
            assert channel_details(self.manager, str(u)).status == ChannelStatus.OPEN
        assert web3.eth.get_balance(self.manager.address) == self.ghost.eth_in - self.ghost.eth_out
        self.check_invariants()


@pytest.fixture(scope="module")
def deployment(hub):
    token = TestToken.deploy("Test Token", "TST", {"from": hub})
    manager = ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub})
    return manager, token


@pytest.fixture
def story(deployment, hub, alice, bob, carol) -> Story:
    manager, token = deployment
    s = Story(manager, token, signer_for(manager), hub, users=[alice, bob, carol])
    s.fund_reserve()
    return s


def _alice_and_bob_share_a_thread(story: Story, alice: Any, bob: Any) -> ThreadState:
    """Channels for alice (1 ETH + 100 TST, hub 50 TST) and bob (1 ETH + 100 TST, hub 0.5 ETH +
    50 TST of collateral); thread alice → bob of 0.1 ETH + 10 TST."""
    story.open_channel(alice, **SENDER_DEPOSIT)
    story.open_channel(bob, **RECEIVER_DEPOSIT)
    return story.open_thread(alice, bob, 1, ETHER // 10, 10 * TOKEN)


def _alice_pays_bob(story: Story, alice: Any, bob: Any) -> ThreadState:
    """`_alice_and_bob_share_a_thread`, then alice pays 3 steps."""
    initial = _alice_and_bob_share_a_thread(story, alice, bob)
    story.pay_newest(initial, 3)
    return initial


SHARE = (3 * STEP_WEI, 3 * STEP_TOKEN)


def _bob_gains(share: tuple[int, int], alice: Any, bob: Any, carol: Any, hub: Any) -> dict:
    """The outcome every story expects: bob gains `share` (wei, token), alice loses it, the hub
    and carol end where they started."""
    return {alice: (-share[0], -share[1]), bob: share, hub: (0, 0), carol: (0, 0)}


def test_story_cooperative_close(story, alice, bob, carol, hub):
    initial = _alice_pays_bob(story, alice, bob)
    story.close(initial)
    promised = story.promised()

    # the released balances go on chain through authorized updates, then everyone withdraws
    story.submit_by_hub(alice)
    story.submit_by_hub(bob)
    assert list(channel_balances(story.manager, str(alice))) == [
        3 * STEP_WEI,
        ETHER - 3 * STEP_WEI,
        ETHER,
        53 * TOKEN,
        97 * TOKEN,
        150 * TOKEN,
    ]
    assert channel_details(story.manager, str(bob)).thread_count == 0  # none left in bob's state
    story.withdraw_everything(alice)
    story.withdraw_everything(bob)

    story.assert_outcome(promised, _bob_gains(SHARE, alice, bob, carol, hub))


def test_story_hub_disputes_sender_channel_with_thread_open(story, alice, bob, carol, hub):
    initial = _alice_pays_bob(story, alice, bob)
    newest = story.newest_thread[initial.key]
    promised = story.promised()

    # the hub exits alice's channel on the stale on-chain state (no thread in it) ...
    story.send(story.manager.startExit, alice, sender=hub)
    # ... alice answers with the newest double-signed state, which locks the thread
    state = story.channels[str(alice)].state
    story.send(
        story.manager.emptyChannelWithChallenge,
        state.to_tuple(),
        *story.signer.both(state, hub),
        sender=alice,
    )
    assert channel_details(story.manager, str(alice)).status == ChannelStatus.THREAD_DISPUTE
    # the hub disputes bob's channel too; bob concedes at once
    story.exit_channel(bob, by=hub, answer_by=bob)

    # alice starts the thread dispute with the initial state, bob answers with the newest
    closing = story.start_thread_dispute(alice, initial, by=alice)
    story.challenge(newest, caller=bob)
    set_next_timestamp(closing)
    story.empty(alice, initial, caller=alice)
    story.empty(bob, initial, caller=bob)

    assert thread_record(story.manager, str(alice), str(bob), 1).emptied == (True, True)
    story.assert_outcome(promised, _bob_gains(SHARE, alice, bob, carol, hub))


def test_story_receiver_answers_stale_thread_exit(story, alice, bob, carol, hub):
    initial = _alice_and_bob_share_a_thread(story, alice, bob)
    stale = story.pay_newest(initial, 1)
    story.pay_newest(initial, 3)  # newest: txCount 4, bob holds 0.04 ETH + 4 TST
    newest = story.newest_thread[initial.key]
    promised = story.promised()

    story.exit_channel(alice, by=alice, answer_by=hub)
    story.exit_channel(bob, by=bob, answer_by=hub)
    # alice exits the thread with the state that owes bob least ...
    closing = story.start_thread_dispute(alice, initial, by=alice, update=stale)
    # ... bob answers inside the window with the later one
    set_next_timestamp(closing - 1)
    story.challenge(newest, caller=bob)
    assert thread_record(story.manager, str(alice), str(bob), 1).tx_count == 4
    set_next_timestamp(closing)
    story.empty(alice, initial, caller=hub)
    story.empty(bob, initial, caller=bob)

    share = (4 * STEP_WEI, 4 * STEP_TOKEN)
    story.assert_outcome(promised, _bob_gains(share, alice, bob, carol, hub))


def test_story_several_threads_some_never_disputed_then_nuked(story, alice, bob, carol, hub):
    story.open_channel(alice, **SENDER_DEPOSIT)
    story.open_channel(bob, **RECEIVER_DEPOSIT)
    story.open_channel(carol, **RECEIVER_DEPOSIT)
    paid = story.open_thread(alice, bob, 1, ETHER // 10, 10 * TOKEN)
    idle_to_carol = story.open_thread(alice, carol, 1, ETHER // 5, 5 * TOKEN)
    idle_to_bob = story.open_thread(alice, bob, 2, ETHER // 20, 0)
    story.pay_newest(paid, 3)
    # alice's channel as it stands when she leaves: three threads locked
    alice_at_exit = story.channels[str(alice)]
    assert alice_at_exit.state.thread_count == 3

    # the receivers' channels close their threads with the hub cooperatively
    story.close_in(bob, paid)
    story.close_in(bob, idle_to_bob)
    story.close_in(carol, idle_to_carol)
    promised = story.promised()

    # alice exits with her newest state; the hub empties into ThreadDispute
    channel_closing = story.exit_channel(alice, by=alice, answer_by=hub)
    # the hub paid bob in bob's channel, so it disputes the paid thread in alice's channel
    closing = story.start_thread_dispute(alice, paid, by=hub, update=story.newest_thread[paid.key])
    set_next_timestamp(closing)
    story.empty(alice, paid, caller=hub)
    assert channel_details(story.manager, str(alice)).thread_count == 2  # two never disputed

    # bob and carol take their money out of their (cooperatively closed) channels
    for user in (bob, carol):
        story.submit_by_hub(user)
        story.withdraw_everything(user)

    # nobody disputes the idle threads: at the nuke deadline their locks go back to alice
    set_next_timestamp(channel_closing + NUKE_DELAY)
    tx = story.send(story.manager.nukeThreads, alice, sender=carol)
    assert int(tx.events["DidNukeThreads"]["weiAmount"]) == ETHER // 5 + ETHER // 20
    assert int(tx.events["DidNukeThreads"]["tokenAmount"]) == 5 * TOKEN

    story.assert_outcome(promised, _bob_gains(SHARE, alice, bob, carol, hub))
    assert initial_of(story.newest_thread[paid.key]) == paid
