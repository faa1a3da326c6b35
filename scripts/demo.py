"""The main job: deploy on a local chain and play a channel's whole life, disputes included.

    make demo        (= python tools/run_script.py scripts/demo.py --network anvil)

Deploys a Dai-like test token and the ChannelManager, funds the hub reserve, then
1. alice deposits ETH and tokens (the hub adds token collateral from its reserve);
2. alice and the hub exchange off-chain payments (signed states, no transactions);
3. the hub tops up alice's channel from its reserve (hubAuthorizedUpdate);
4. alice sells tokens for ETH and withdraws ETH (userAuthorizedUpdate);
5. alice tries to exit with an old state that favours her; the hub answers inside the challenge
   window with the newest double-signed state and the channel is emptied on it;
6. bob deposits, goes silent; the hub exits unilaterally and anyone empties after the window;
7. a thread: carol opens one to dave through the hub and pays through it (only carol signs);
   carol then disputes it with its initial state, dave answers with her newest thread state,
   and after the thread window each side is settled (emptyThread in both channels).
Every step prints balances and gas; brownie's per-transaction lines are kept out (silent).
"""

from __future__ import annotations

from brownie import ChannelManager, TestToken, accounts, chain, network, web3

from channel_manager import threads, transitions
from channel_manager.contract_views import (
    channel_balances,
    channel_details,
    status_name,
    thread_record,
)
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state, sign_thread_state
from channel_manager.states import ChannelState, ThreadState

ETHER = 10**18
DAI = 10**18
CHALLENGE_PERIOD = 3600


def fmt(amount: int, unit: str) -> str:
    return f"{amount / 10**18:,.4f} {unit}"


class Story:
    """Prints a numbered account of the channel's life."""

    def __init__(self) -> None:
        self.step = 0
        self.gas: list[tuple[str, int]] = []

    def say(self, text: str) -> None:
        self.step += 1
        print(f"\n[{self.step}] {text}")

    def tx(self, label: str, tx) -> None:
        self.gas.append((label, tx.gas_used))
        print(f"    tx {label}: gas {tx.gas_used:,}")


def show_channel(manager, user, name: str) -> None:
    b = channel_balances(manager, user)
    d = channel_details(manager, user)
    print(
        f"    {name}'s channel: ETH hub {fmt(b.wei_hub, 'ETH')} / user {fmt(b.wei_user, 'ETH')} (total {fmt(b.wei_total, 'ETH')}),"
        f" DAI hub {fmt(b.token_hub, 'DAI')} / user {fmt(b.token_user, 'DAI')} (total {fmt(b.token_total, 'DAI')}),"
        f" txCount [{d.tx_count_global}, {d.tx_count_chain}], {status_name(d.status)}"
        + (f", closes at {d.closing_time}" if d.closing_time else "")
    )


def send(function, *args, sender, value: int = 0):
    """A transaction without brownie's own lines ("Transaction sent: …"): the story prints its own."""
    return function(*args, {"from": sender, "value": value}, silent=True)


def show_thread(manager, initial: ThreadState) -> None:
    t = thread_record(manager, initial.sender, initial.receiver, initial.thread_id)
    print(
        f"    thread record: sender {fmt(t.wei[0], 'ETH')}, receiver {fmt(t.wei[1], 'ETH')}, txCount {t.tx_count},"
        f" window closes at {t.closing_time}, settled sender/receiver side {t.emptied[0]}/{t.emptied[1]}"
    )


def show_reserve(manager) -> None:
    print(
        f"    hub reserve: {fmt(manager.getHubReserveWei(), 'ETH')}, {fmt(manager.getHubReserveTokens(), 'DAI')};"
        f" locked in channels: {fmt(manager.totalChannelWei(), 'ETH')}, {fmt(manager.totalChannelToken(), 'DAI')}"
    )


def main() -> None:
    if not network.is_connected() or chain.id != 31337:
        raise SystemExit(
            "demo: run it on the local chain: python tools/run_script.py scripts/demo.py --network anvil"
        )
    hub, alice, bob, carol, dave = (accounts[i] for i in range(5))
    keys = {str(accounts[i]): anvil_key(i) for i in range(5)}
    story = Story()

    story.say("Deploy a Dai-like test token and the ChannelManager (challenge period 1 hour)")
    token = TestToken.deploy("Test Dai", "TDAI", {"from": hub}, silent=True)
    manager = ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub}, silent=True)
    story.tx("deploy ChannelManager", manager.tx)
    domain = Domain(chain.id, manager.address)

    def sign(state: ChannelState, who) -> bytes:
        return sign_channel_state(keys[str(who)], domain, state)

    story.say("The hub funds its reserve with 10 ETH and 1,000 DAI; alice and bob get 100 DAI each")
    hub.transfer(manager, 10 * ETHER, silent=True)
    send(token.mint, hub, 1_000 * DAI, sender=hub)
    send(token.transfer, manager, 1_000 * DAI, sender=hub)
    for user in (alice, bob):
        send(token.mint, user, 100 * DAI, sender=user)
        send(token.approve, manager, 100 * DAI, sender=user)
    show_reserve(manager)

    story.say("alice deposits 1 ETH + 50 DAI; the hub collateralises 20 DAI from its reserve")
    s = ChannelState(str(alice), str(alice))
    s = transitions.propose_deposit(
        s, user_wei=ETHER, user_token=50 * DAI, hub_token=20 * DAI, timeout=chain.time() + 600
    )
    story.tx(
        "userAuthorizedUpdate",
        send(manager.userAuthorizedUpdate, s.to_tuple(), sign(s, hub), sender=alice, value=ETHER),
    )
    s = transitions.acknowledge(s)  # both sign the acknowledgement off-chain
    show_channel(manager, alice, "alice")

    story.say("Off-chain: alice pays the hub 0.1 ETH, then 5 DAI, then buys 10 DAI for 0.02 ETH")
    s = transitions.pay(s, to_hub=True, wei=ETHER // 10)
    s = transitions.pay(s, to_hub=True, token=5 * DAI)
    s = transitions.swap(s, user_sells_wei=ETHER // 50, user_buys_token=10 * DAI)
    print(
        f"    newest double-signed state: txCount {list(s.tx_count)}, ETH hub {fmt(s.wei_balances[0], 'ETH')} /"
        f" user {fmt(s.wei_balances[1], 'ETH')}, DAI hub {fmt(s.token_balances[0], 'DAI')} / user {fmt(s.token_balances[1], 'DAI')}"
    )
    print("    (no transactions: each state is signed by both and kept by both)")

    story.say("The hub tops up alice's channel with 0.5 ETH from its reserve (alice signed it)")
    s = transitions.propose_deposit(s, hub_wei=ETHER // 2, timeout=chain.time() + 600)
    story.tx(
        "hubAuthorizedUpdate",
        send(manager.hubAuthorizedUpdate, s.to_tuple(), sign(s, alice), sender=hub),
    )
    s = transitions.acknowledge(s)
    show_channel(manager, alice, "alice")

    story.say("alice sells 10 DAI for 0.05 ETH and withdraws 0.3 ETH to her address")
    s = transitions.swap(s, user_sells_token=10 * DAI, user_buys_wei=ETHER // 20)
    s = transitions.propose_withdrawal(s, user_wei=3 * ETHER // 10, timeout=chain.time() + 600)
    before = alice.balance()
    story.tx(
        "userAuthorizedUpdate",
        send(manager.userAuthorizedUpdate, s.to_tuple(), sign(s, hub), sender=alice),
    )
    print(f"    alice received {fmt(alice.balance() - before, 'ETH')}")
    s = transitions.acknowledge(s)
    stale = s  # alice keeps this one...
    s = transitions.pay(s, to_hub=True, wei=ETHER // 5)  # ...and then pays the hub 0.2 ETH
    show_channel(manager, alice, "alice")
    print(
        f"    newest state: txCount {list(s.tx_count)}, alice holds {fmt(s.wei_balances[1], 'ETH')}"
    )

    story.say(
        "Dispute: alice exits with the stale state txCount "
        f"{list(stale.tx_count)} (it shows her 0.2 ETH richer)"
    )
    story.tx(
        "startExitWithUpdate",
        send(
            manager.startExitWithUpdate,
            stale.to_tuple(),
            sign(stale, hub),
            sign(stale, alice),
            sender=alice,
        ),
    )
    show_channel(manager, alice, "alice")

    story.say(f"The hub answers inside the window with the newest state txCount {list(s.tx_count)}")
    before = alice.balance(), token.balanceOf(alice)
    story.tx(
        "emptyChannelWithChallenge",
        send(
            manager.emptyChannelWithChallenge,
            s.to_tuple(),
            sign(s, hub),
            sign(s, alice),
            sender=hub,
        ),
    )
    paid_wei, paid_token = alice.balance() - before[0], token.balanceOf(alice) - before[1]
    print(
        f"    alice was paid {fmt(paid_wei, 'ETH')} and {fmt(paid_token, 'DAI')}: exactly the newest state"
    )
    assert (paid_wei, paid_token) == (s.wei_balances[1], s.token_balances[1])
    show_channel(manager, alice, "alice")
    show_reserve(manager)

    story.say("bob deposits 0.5 ETH, then stops answering; the hub starts a unilateral exit")
    b = transitions.propose_deposit(
        ChannelState(str(bob), str(bob)), user_wei=ETHER // 2, timeout=chain.time() + 600
    )
    story.tx(
        "userAuthorizedUpdate",
        send(
            manager.userAuthorizedUpdate, b.to_tuple(), sign(b, hub), sender=bob, value=ETHER // 2
        ),
    )
    story.tx("startExit", send(manager.startExit, bob, sender=hub))
    show_channel(manager, bob, "bob")

    story.say("One challenge period later anyone may empty bob's channel on the stored state")
    chain.sleep(CHALLENGE_PERIOD + 1)
    before = bob.balance()
    story.tx("emptyChannel", send(manager.emptyChannel, bob, sender=hub))
    print(f"    bob was paid {fmt(bob.balance() - before, 'ETH')}")
    show_channel(manager, bob, "bob")
    show_reserve(manager)

    play_thread(story, manager, hub, carol, dave, sign, keys)

    print("\nGas by operation:")
    for label, gas in story.gas:
        print(f"    {label:<28} {gas:>10,}")
    size = len(web3.eth.get_code(manager.address))
    print(f"    runtime code size: {size:,} bytes (EIP-170 limit 24,576)")
    print(
        "\nDemo complete: every channel dispute ended on the newest state both parties signed,"
        " the thread dispute on the receiver's best state."
    )


def exit_and_empty(
    story: Story, manager, s: ChannelState, sign, hub, user, name: str, *, starter, emptier
) -> None:
    """startExitWithUpdate on `s` sent by `starter`, then emptyChannel at once by `emptier`."""
    story.tx(
        "startExitWithUpdate",
        send(
            manager.startExitWithUpdate, s.to_tuple(), sign(s, hub), sign(s, user), sender=starter
        ),
    )
    story.tx("emptyChannel", send(manager.emptyChannel, user, sender=emptier))
    show_channel(manager, user, name)


def play_thread(story: Story, manager, hub, carol, dave, sign, keys) -> None:
    """A thread from carol to dave through the hub, paid through, disputed and settled."""
    domain = Domain(chain.id, manager.address)
    deadline = chain.time() + 600

    story.say("carol deposits 1 ETH; the hub puts 0.5 ETH of collateral into dave's channel")
    c = transitions.propose_deposit(
        ChannelState(str(carol), str(carol)), user_wei=ETHER, timeout=deadline
    )
    story.tx(
        "userAuthorizedUpdate",
        send(manager.userAuthorizedUpdate, c.to_tuple(), sign(c, hub), sender=carol, value=ETHER),
    )
    d = transitions.propose_deposit(
        ChannelState(str(dave), str(dave)), hub_wei=ETHER // 2, timeout=deadline
    )
    story.tx(
        "hubAuthorizedUpdate",
        send(manager.hubAuthorizedUpdate, d.to_tuple(), sign(d, dave), sender=hub),
    )
    c, d = transitions.acknowledge(c), transitions.acknowledge(d)

    story.say(
        "Off-chain: carol opens a 0.3 ETH thread to dave; both channels lock it (hub and user sign each)"
    )
    opening = threads.open_thread(c, d, 1, wei=3 * ETHER // 10, hub=str(hub))
    initial, carol_ch, dave_ch = opening.initial, opening.sender, opening.receiver
    for name, ch, whose in (
        ("carol", carol_ch, "carol's"),
        ("dave", dave_ch, "the hub's collateral"),
    ):
        wh, wu = ch.state.wei_balances
        print(
            f"    {name}'s channel state txCount {list(ch.state.tx_count)}: ETH hub {fmt(wh, 'ETH')} / user"
            f" {fmt(wu, 'ETH')}, 0.3 ETH of {whose} locked in the thread (root {ch.state.thread_root.hex()[:10]}…)"
        )
    carol_key = keys[str(carol)]
    sig_initial = sign_thread_state(carol_key, domain, initial)

    story.say(
        "Off-chain: carol pays dave 0.1 ETH, then 0.05 ETH, through the thread (only carol signs)"
    )
    paid = threads.pay_in_thread(threads.pay_in_thread(initial, wei=ETHER // 10), wei=ETHER // 20)
    sig_paid = sign_thread_state(carol_key, domain, paid)
    print(
        f"    newest thread state: txCount {paid.tx_count}, carol {fmt(paid.wei_balances[0], 'ETH')}, dave {fmt(paid.wei_balances[1], 'ETH')}"
    )

    story.say(
        "carol exits her channel on the state that locks the thread; the hub empties it at once"
    )
    exit_and_empty(
        story, manager, carol_ch.state, sign, hub, carol, "carol", starter=carol, emptier=hub
    )

    story.say("Thread dispute: carol starts it with the initial state, which shows dave nothing")
    story.tx(
        "startExitThread",
        send(
            manager.startExitThread,
            carol,
            initial.to_tuple(),
            carol_ch.proof(initial),
            sig_initial,
            sender=carol,
        ),
    )
    show_thread(manager, initial)

    story.say("dave answers inside the thread window with carol's newest signed thread state")
    story.tx(
        "challengeThread", send(manager.challengeThread, paid.to_tuple(), sig_paid, sender=dave)
    )
    show_thread(manager, initial)

    story.say("The hub exits dave's channel on the state that locks the thread; dave empties it")
    exit_and_empty(
        story, manager, dave_ch.state, sign, hub, dave, "dave", starter=hub, emptier=dave
    )

    story.say(
        "After the thread window each side settles: emptyThread in carol's channel, then in dave's"
    )
    chain.sleep(CHALLENGE_PERIOD + 1)
    before = carol.balance(), dave.balance()
    story.tx(
        "emptyThread (sender side)",
        send(
            manager.emptyThread,
            carol,
            initial.to_tuple(),
            carol_ch.proof(initial),
            sig_initial,
            sender=carol,
        ),
    )
    story.tx(
        "emptyThread (receiver side)",
        send(
            manager.emptyThread,
            dave,
            initial.to_tuple(),
            dave_ch.proof(initial),
            sig_initial,
            sender=dave,
        ),
    )
    got_carol, got_dave = carol.balance() - before[0], dave.balance() - before[1]
    print(
        f"    carol got her remainder {fmt(got_carol, 'ETH')}, dave his share {fmt(got_dave, 'ETH')}: the newest thread state"
    )
    assert (got_carol, got_dave) == paid.wei_balances
    show_thread(manager, initial)
    show_channel(manager, carol, "carol")
    show_channel(manager, dave, "dave")
    show_reserve(manager)
