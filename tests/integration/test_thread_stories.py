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
from brownie import ChannelManager, TestToken, accounts, chain, web3

from channel_manager import transitions
from channel_manager.eip712 import Domain
from channel_manager.states import HUB, USER, ChannelState, ThreadState
from channel_manager.threads import (
    ThreadedChannel,
    close_thread,
    initial_of,
    open_thread,
    pay_in_thread,
    release_thread,
)
from tests.helpers import CHALLENGE_PERIOD, ETHER, TOKEN, Signer, anvil_key, set_next_timestamp

RESERVE_WEI, RESERVE_TOKEN = 100 * ETHER, 10_000 * TOKEN
STEP_WEI, STEP_TOKEN = ETHER // 100, TOKEN
NUKE_DELAY = 10 * CHALLENGE_PERIOD


def _n(value: Any) -> int:
    return int(value)


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
class Story:
    """Drives channels and threads on a fresh deployment and audits every transaction."""

    manager: Any
    token: Any
    hub: Any
    users: list[Any]
    signer: Signer
    ghost: Ghost = field(default_factory=Ghost)
    channels: dict[str, ThreadedChannel] = field(default_factory=dict)
    newest_thread: dict[tuple[str, str, int], ThreadState] = field(default_factory=dict)
    user_deposits: dict[str, list[int]] = field(default_factory=dict)  # user -> [wei, token]
    hub_deposits: list[int] = field(default_factory=lambda: [0, 0])
    start: dict[str, tuple[int, int]] = field(default_factory=dict)

    # ---------------------------------------------------------------- audited transactions
    def send(self, method: Any, *args: Any, sender: Any, value: int = 0) -> Any:
        """Call a state-changing manager function, account for it, check the invariants."""
        tx = method(*args, {"from": sender, "value": value})
        self.ghost.eth_in += value
        self._account(tx)
        self.check_invariants()
        return tx

    def _account(self, tx: Any) -> None:
        g = self.ghost
        for e in _event_list(tx, "DidUpdateChannel"):
            pw, pt = (
                [_n(x) for x in e["pendingWeiUpdates"]],
                [_n(x) for x in e["pendingTokenUpdates"]],
            )
            if str(e["caller"]) != str(
                self.hub
            ):  # userAuthorizedUpdate: the user's tokens are pulled in
                g.token_in += pt[2]
            g.eth_out += pw[3]  # user withdrawals go to the recipient
            g.token_out += pt[3]
        for e in _event_list(tx, "DidEmptyChannel"):
            g.eth_out += _n(e["weiBalances"][1])
            g.token_out += _n(e["tokenBalances"][1])
        for e in _event_list(tx, "DidEmptyThread"):
            g.eth_out += _n(e["weiPaid"])
            g.token_out += _n(e["tokenPaid"])
        for e in _event_list(tx, "DidNukeThreads"):
            g.eth_out += _n(e["weiAmount"])
            g.token_out += _n(e["tokenAmount"])
        for e in _event_list(tx, "DidCreditUser"):  # refused payouts stay in the contract
            g.eth_out -= _n(e["weiAmount"])
            g.token_out -= _n(e["tokenAmount"])
        for e in _event_list(tx, "DidClaim") + _event_list(tx, "DidHubContractWithdraw"):
            g.eth_out += _n(e["weiAmount"])
            g.token_out += _n(e["tokenAmount"])

    def check_invariants(self) -> None:
        """docs/protocol.md §10.1: solvency, totals = Σ channel totals, hub + user ≤ total, ghost balance."""
        m = self.manager
        eth, tokens = web3.eth.get_balance(m.address), _n(self.token.balanceOf(m))
        credit_wei = sum(_n(m.creditWei(u)) for u in self.users)
        credit_token = sum(_n(m.creditToken(u)) for u in self.users)
        total_wei, total_token = _n(m.totalChannelWei()), _n(m.totalChannelToken())
        assert eth >= total_wei + credit_wei
        assert tokens >= total_token + credit_token
        channel_wei = channel_token = 0
        for u in self.users:
            wh, wu, wt, th, tu, tt = (_n(x) for x in m.getChannelBalances(u))
            assert wh + wu <= wt and th + tu <= tt
            channel_wei += wt
            channel_token += tt
        assert (total_wei, total_token) == (channel_wei, channel_token)
        assert eth == self.ghost.eth_in - self.ghost.eth_out
        assert tokens == self.ghost.token_in - self.ghost.token_out
        assert _n(m.getHubReserveWei()) == eth - total_wei - credit_wei
        assert _n(m.getHubReserveTokens()) == tokens - total_token - credit_token

    # ---------------------------------------------------------------- set-up
    def fund_reserve(self) -> None:
        self.token.mint(self.hub, RESERVE_TOKEN, {"from": self.hub})
        self.token.transfer(self.manager, RESERVE_TOKEN, {"from": self.hub})
        self.ghost.token_in += RESERVE_TOKEN
        self.hub.transfer(self.manager, RESERVE_WEI)
        self.ghost.eth_in += RESERVE_WEI
        for user in self.users:
            self.token.mint(user, 1_000 * TOKEN, {"from": user})
            self.token.approve(self.manager, 2**256 - 1, {"from": user})
        self.check_invariants()
        self.start = {str(a): self.holdings(a) for a in [self.hub, *self.users]}

    def deposit(
        self, user: Any, user_wei: int, user_token: int, hub_wei: int = 0, hub_token: int = 0
    ) -> None:
        proposal = transitions.propose_deposit(
            ChannelState(str(user), str(user)),
            user_wei=user_wei,
            user_token=user_token,
            hub_wei=hub_wei,
            hub_token=hub_token,
        )
        self.send(
            self.manager.userAuthorizedUpdate,
            proposal.to_tuple(),
            self.signer.channel(proposal, self.hub),
            sender=user,
            value=user_wei,
        )
        self.channels[str(user)] = ThreadedChannel(transitions.acknowledge(proposal))
        self.user_deposits[str(user)] = [user_wei, user_token]
        self.hub_deposits[0] += hub_wei
        self.hub_deposits[1] += hub_token

    # ---------------------------------------------------------------- off-chain
    def open_thread(
        self, sender: Any, receiver: Any, thread_id: int, wei: int, token: int
    ) -> ThreadState:
        opening = open_thread(
            self.channels[str(sender)],
            self.channels[str(receiver)],
            thread_id,
            wei=wei,
            token=token,
            hub=str(self.hub),
        )
        self.channels[str(sender)], self.channels[str(receiver)] = opening.sender, opening.receiver
        self.newest_thread[opening.initial.key] = opening.initial
        return opening.initial

    def pay(self, initial: ThreadState, steps: int) -> ThreadState:
        state = self.newest_thread[initial.key]
        for _ in range(steps):
            state = pay_in_thread(state, wei=STEP_WEI, token=STEP_TOKEN)
        self.newest_thread[initial.key] = state
        return state

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

    def sig(self, state: ThreadState) -> bytes:
        return self.signer.thread(state, state.sender)

    def proof(self, user: Any, initial: ThreadState) -> list[str]:
        return ["0x" + p.hex() for p in self.channels[str(user)].proof(initial)]

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
        state = self.channels[str(user)].state
        tx = self.send(
            self.manager.startExitWithUpdate,
            state.to_tuple(),
            *self.signer.both(state, self.hub),
            sender=by,
        )
        self.send(self.manager.emptyChannel, user, sender=answer_by)
        return _n(tx.events["DidStartExitChannel"]["channelClosingTime"])

    def exit_thread(
        self, user: Any, initial: ThreadState, by: Any, update: ThreadState | None = None
    ) -> int:
        if update is None:
            tx = self.send(
                self.manager.startExitThread,
                user,
                initial.to_tuple(),
                self.proof(user, initial),
                self.sig(initial),
                sender=by,
            )
        else:
            tx = self.send(
                self.manager.startExitThreadWithUpdate,
                user,
                initial.to_tuple(),
                self.proof(user, initial),
                self.sig(initial),
                update.to_tuple(),
                self.sig(update),
                sender=by,
            )
        return _n(tx.events["DidStartExitThread"]["threadClosingTime"])

    def challenge(self, update: ThreadState, by: Any) -> None:
        self.send(self.manager.challengeThread, update.to_tuple(), self.sig(update), sender=by)

    def empty_thread(self, user: Any, initial: ThreadState, by: Any) -> Any:
        return self.send(
            self.manager.emptyThread,
            user,
            initial.to_tuple(),
            self.proof(user, initial),
            self.sig(initial),
            sender=by,
        )

    # ---------------------------------------------------------------- outcomes
    def holdings(self, who: Any) -> tuple[int, int]:
        """ETH and tokens an address commands outside channels: wallet + unclaimed credits,
        and for the hub its reserve too."""
        wei = web3.eth.get_balance(str(who)) + _n(self.manager.creditWei(who))
        token = _n(self.token.balanceOf(who)) + _n(self.manager.creditToken(who))
        if str(who) == str(self.hub):
            wei += _n(self.manager.getHubReserveWei())
            token += _n(self.manager.getHubReserveTokens())
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
        assert (_n(self.manager.totalChannelWei()), _n(self.manager.totalChannelToken())) == (0, 0)
        for u in self.users:
            assert _n(self.manager.getChannelDetails(u)[6]) == 0  # Open
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
    signer = Signer(
        Domain(chain.id, manager.address), {str(accounts[i]): anvil_key(i) for i in range(10)}
    )
    s = Story(manager, token, hub, [alice, bob, carol], signer)
    s.fund_reserve()
    return s


def _alice_pays_bob(story: Story, alice: Any, bob: Any) -> ThreadState:
    """Channels for alice (1 ETH + 100 TST, hub 50 TST) and bob (1 ETH + 100 TST, hub 0.5 ETH +
    50 TST of collateral); thread alice → bob of 0.1 ETH + 10 TST; alice pays 3 steps."""
    story.deposit(alice, ETHER, 100 * TOKEN, 0, 50 * TOKEN)
    story.deposit(bob, ETHER, 100 * TOKEN, ETHER // 2, 50 * TOKEN)
    initial = story.open_thread(alice, bob, 1, ETHER // 10, 10 * TOKEN)
    story.pay(initial, 3)
    return initial


SHARE = (3 * STEP_WEI, 3 * STEP_TOKEN)


def test_story_cooperative_close(story, alice, bob, carol, hub):
    initial = _alice_pays_bob(story, alice, bob)
    story.close(initial)
    promised = story.promised()

    # the released balances go on chain through authorized updates, then everyone withdraws
    story.submit_by_hub(alice)
    story.submit_by_hub(bob)
    assert [_n(x) for x in story.manager.getChannelBalances(alice)] == [
        3 * STEP_WEI,
        ETHER - 3 * STEP_WEI,
        ETHER,
        53 * TOKEN,
        97 * TOKEN,
        150 * TOKEN,
    ]
    assert story.manager.getChannelDetails(bob)[3] == 0  # no thread left in bob's state
    story.withdraw_everything(alice)
    story.withdraw_everything(bob)

    story.assert_outcome(
        promised,
        {
            alice: (-SHARE[0], -SHARE[1]),
            bob: SHARE,
            hub: (0, 0),
            carol: (0, 0),
        },
    )


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
    assert _n(story.manager.getChannelDetails(alice)[6]) == 2  # ThreadDispute
    # the hub disputes bob's channel too; bob concedes at once
    story.exit_channel(bob, by=hub, answer_by=bob)

    # alice starts the thread dispute with the initial state, bob answers with the newest
    closing = story.exit_thread(alice, initial, by=alice)
    story.challenge(newest, by=bob)
    set_next_timestamp(closing)
    story.empty_thread(alice, initial, by=alice)
    story.empty_thread(bob, initial, by=bob)

    assert [bool(x) for x in story.manager.getThread(alice, bob, 1)[4]] == [True, True]
    story.assert_outcome(
        promised,
        {
            alice: (-SHARE[0], -SHARE[1]),
            bob: SHARE,
            hub: (0, 0),
            carol: (0, 0),
        },
    )


def test_story_receiver_answers_stale_thread_exit(story, alice, bob, carol, hub):
    story.deposit(alice, ETHER, 100 * TOKEN, 0, 50 * TOKEN)
    story.deposit(bob, ETHER, 100 * TOKEN, ETHER // 2, 50 * TOKEN)
    initial = story.open_thread(alice, bob, 1, ETHER // 10, 10 * TOKEN)
    stale = story.pay(initial, 1)
    story.pay(initial, 3)  # newest: txCount 4, bob holds 0.04 ETH + 4 TST
    newest = story.newest_thread[initial.key]
    promised = story.promised()

    story.exit_channel(alice, by=alice, answer_by=hub)
    story.exit_channel(bob, by=bob, answer_by=hub)
    # alice exits the thread with the state that owes bob least ...
    closing = story.exit_thread(alice, initial, by=alice, update=stale)
    # ... bob answers inside the window with the later one
    set_next_timestamp(closing - 1)
    story.challenge(newest, by=bob)
    assert story.manager.getThread(alice, bob, 1)[2] == 4
    set_next_timestamp(closing)
    story.empty_thread(alice, initial, by=hub)
    story.empty_thread(bob, initial, by=bob)

    share = (4 * STEP_WEI, 4 * STEP_TOKEN)
    story.assert_outcome(
        promised,
        {
            alice: (-share[0], -share[1]),
            bob: share,
            hub: (0, 0),
            carol: (0, 0),
        },
    )


def test_story_several_threads_some_never_disputed_then_nuked(story, alice, bob, carol, hub):
    story.deposit(alice, ETHER, 100 * TOKEN, 0, 50 * TOKEN)
    story.deposit(bob, ETHER, 100 * TOKEN, ETHER // 2, 50 * TOKEN)
    story.deposit(carol, ETHER, 100 * TOKEN, ETHER // 2, 50 * TOKEN)
    paid = story.open_thread(alice, bob, 1, ETHER // 10, 10 * TOKEN)
    idle_to_carol = story.open_thread(alice, carol, 1, ETHER // 5, 5 * TOKEN)
    idle_to_bob = story.open_thread(alice, bob, 2, ETHER // 20, 0)
    story.pay(paid, 3)
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
    closing = story.exit_thread(alice, paid, by=hub, update=story.newest_thread[paid.key])
    set_next_timestamp(closing)
    story.empty_thread(alice, paid, by=hub)
    assert _n(story.manager.getChannelDetails(alice)[3]) == 2  # two threads never disputed

    # bob and carol take their money out of their (cooperatively closed) channels
    for user in (bob, carol):
        story.submit_by_hub(user)
        story.withdraw_everything(user)

    # nobody disputes the idle threads: at the nuke deadline their locks go back to alice
    set_next_timestamp(channel_closing + NUKE_DELAY)
    tx = story.send(story.manager.nukeThreads, alice, sender=carol)
    assert _n(tx.events["DidNukeThreads"]["weiAmount"]) == ETHER // 5 + ETHER // 20
    assert _n(tx.events["DidNukeThreads"]["tokenAmount"]) == 5 * TOKEN

    story.assert_outcome(
        promised,
        {
            alice: (-SHARE[0], -SHARE[1]),
            bob: SHARE,
            carol: (0, 0),
            hub: (0, 0),
        },
    )
    assert initial_of(story.newest_thread[paid.key]) == paid
