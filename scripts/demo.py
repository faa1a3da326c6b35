"""The main job: deploy on a local chain and play a channel's whole life, disputes included.

    brownie run scripts/demo.py --network anvil        (or: make demo)

Deploys a Dai-like test token and the ChannelManager, funds the hub reserve, then
1. alice deposits ETH and tokens (the hub adds token collateral from its reserve);
2. alice and the hub exchange off-chain payments (signed states, no transactions);
3. the hub tops up alice's channel from its reserve (hubAuthorizedUpdate);
4. alice sells tokens for ETH and withdraws ETH (userAuthorizedUpdate);
5. alice tries to exit with an old state that favours her; the hub answers inside the challenge
   window with the newest double-signed state and the channel is emptied on it;
6. bob deposits, goes silent; the hub exits unilaterally and anyone empties after the window.
Every step prints balances and gas.
"""

from __future__ import annotations

from brownie import ChannelManager, TestToken, accounts, chain, network, web3

from channel_manager import transitions
from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState

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
    wh, wu, wt, th, tu, tt = manager.getChannelBalances(user)
    g, c, _root, _count, initiator, closing, status = manager.getChannelDetails(user)
    state = ["Open", "ChannelDispute", "ThreadDispute"][status]
    print(
        f"    {name}'s channel: ETH hub {fmt(wh, 'ETH')} / user {fmt(wu, 'ETH')} (total {fmt(wt, 'ETH')}),"
        f" DAI hub {fmt(th, 'DAI')} / user {fmt(tu, 'DAI')} (total {fmt(tt, 'DAI')}),"
        f" txCount [{g}, {c}], {state}" + (f", closes at {closing}" if closing else "")
    )


def show_reserve(manager) -> None:
    print(
        f"    hub reserve: {fmt(manager.getHubReserveWei(), 'ETH')}, {fmt(manager.getHubReserveTokens(), 'DAI')};"
        f" locked in channels: {fmt(manager.totalChannelWei(), 'ETH')}, {fmt(manager.totalChannelToken(), 'DAI')}"
    )


def main() -> None:
    if not network.is_connected() or chain.id != 31337:
        raise SystemExit("demo: run it on the local chain: brownie run scripts/demo.py --network anvil")
    hub, alice, bob = accounts[0], accounts[1], accounts[2]
    keys = {str(accounts[i]): anvil_key(i) for i in range(3)}
    story = Story()

    story.say("Deploy a Dai-like test token and the ChannelManager (challenge period 1 hour)")
    token = TestToken.deploy("Test Dai", "TDAI", {"from": hub})
    manager = ChannelManager.deploy(hub, CHALLENGE_PERIOD, token, {"from": hub})
    story.tx("deploy ChannelManager", manager.tx)
    domain = Domain(chain.id, manager.address)

    def sign(state: ChannelState, who) -> bytes:
        return sign_channel_state(keys[str(who)], domain, state)

    story.say("The hub funds its reserve with 10 ETH and 1,000 DAI; alice and bob get 100 DAI each")
    hub.transfer(manager, 10 * ETHER)
    token.mint(hub, 1_000 * DAI, {"from": hub})
    token.transfer(manager, 1_000 * DAI, {"from": hub})
    for user in (alice, bob):
        token.mint(user, 100 * DAI, {"from": user})
        token.approve(manager, 100 * DAI, {"from": user})
    show_reserve(manager)

    story.say("alice deposits 1 ETH + 50 DAI; the hub collateralises 20 DAI from its reserve")
    s = ChannelState(str(alice), str(alice))
    s = transitions.propose_deposit(
        s, user_wei=ETHER, user_token=50 * DAI, hub_token=20 * DAI, timeout=chain.time() + 600
    )
    story.tx("userAuthorizedUpdate", manager.userAuthorizedUpdate(s.to_tuple(), sign(s, hub), {"from": alice, "value": ETHER}))
    s = transitions.acknowledge(s)  # both sign the acknowledgement off-chain
    show_channel(manager, alice, "alice")

    story.say("Off-chain: alice pays the hub 0.1 ETH, then 5 DAI, then buys 10 DAI for 0.02 ETH")
    s = transitions.pay(s, to_hub=True, wei=ETHER // 10)
    s = transitions.pay(s, to_hub=True, token=5 * DAI)
    s = transitions.swap(s, user_sells_wei=ETHER // 50, user_buys_token=10 * DAI)
    print(f"    newest double-signed state: txCount {list(s.tx_count)}, ETH {s.wei_balances}, DAI {s.token_balances}")
    print("    (no transactions: each state is signed by both and kept by both)")

    story.say("The hub tops up alice's channel with 0.5 ETH from its reserve (alice signed it)")
    s = transitions.propose_deposit(s, hub_wei=ETHER // 2, timeout=chain.time() + 600)
    story.tx("hubAuthorizedUpdate", manager.hubAuthorizedUpdate(s.to_tuple(), sign(s, alice), {"from": hub}))
    s = transitions.acknowledge(s)
    show_channel(manager, alice, "alice")

    story.say("alice sells 10 DAI for 0.05 ETH and withdraws 0.3 ETH to her address")
    s = transitions.swap(s, user_sells_token=10 * DAI, user_buys_wei=ETHER // 20)
    s = transitions.propose_withdrawal(s, user_wei=3 * ETHER // 10, timeout=chain.time() + 600)
    before = alice.balance()
    story.tx("userAuthorizedUpdate", manager.userAuthorizedUpdate(s.to_tuple(), sign(s, hub), {"from": alice}))
    print(f"    alice received {fmt(alice.balance() - before, 'ETH')}")
    s = transitions.acknowledge(s)
    stale = s  # alice keeps this one...
    s = transitions.pay(s, to_hub=True, wei=ETHER // 5)  # ...and then pays the hub 0.2 ETH
    show_channel(manager, alice, "alice")
    print(f"    newest state: txCount {list(s.tx_count)}, alice holds {fmt(s.wei_balances[1], 'ETH')}")

    story.say("Dispute: alice exits with the stale state txCount "
              f"{list(stale.tx_count)} (it shows her 0.2 ETH richer)")
    story.tx("startExitWithUpdate", manager.startExitWithUpdate(stale.to_tuple(), sign(stale, hub), sign(stale, alice), {"from": alice}))
    show_channel(manager, alice, "alice")

    story.say(f"The hub answers inside the window with the newest state txCount {list(s.tx_count)}")
    before = alice.balance(), token.balanceOf(alice)
    story.tx("emptyChannelWithChallenge", manager.emptyChannelWithChallenge(s.to_tuple(), sign(s, hub), sign(s, alice), {"from": hub}))
    paid_wei, paid_token = alice.balance() - before[0], token.balanceOf(alice) - before[1]
    print(f"    alice was paid {fmt(paid_wei, 'ETH')} and {fmt(paid_token, 'DAI')}: exactly the newest state")
    assert (paid_wei, paid_token) == (s.wei_balances[1], s.token_balances[1])
    show_channel(manager, alice, "alice")
    show_reserve(manager)

    story.say("bob deposits 0.5 ETH, then stops answering; the hub starts a unilateral exit")
    b = transitions.propose_deposit(ChannelState(str(bob), str(bob)), user_wei=ETHER // 2, timeout=chain.time() + 600)
    story.tx("userAuthorizedUpdate", manager.userAuthorizedUpdate(b.to_tuple(), sign(b, hub), {"from": bob, "value": ETHER // 2}))
    story.tx("startExit", manager.startExit(bob, {"from": hub}))
    show_channel(manager, bob, "bob")

    story.say("One challenge period later anyone may empty bob's channel on the stored state")
    chain.sleep(CHALLENGE_PERIOD + 1)
    before = bob.balance()
    story.tx("emptyChannel", manager.emptyChannel(bob, {"from": hub}))
    print(f"    bob was paid {fmt(bob.balance() - before, 'ETH')}")
    show_channel(manager, bob, "bob")
    show_reserve(manager)

    print("\nGas by operation:")
    for label, gas in story.gas:
        print(f"    {label:<28} {gas:>10,}")
    size = len(web3.eth.get_code(manager.address))
    print(f"    runtime code size: {size:,} bytes (EIP-170 limit 24,576)")
    print("\nDemo complete: every dispute ended on the newest state both parties signed.")
