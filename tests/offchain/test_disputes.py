"""channel_manager.disputes without a chain: events say what was ever disputed, scripted views
say what still runs. The same listing against a real chain: tests/scripts/test_hub.py."""

from __future__ import annotations

from channel_manager.aliases import ZERO_ADDRESS, ZERO_BYTES32
from channel_manager.contract_views import ChannelStatus
from channel_manager.disputes import running_disputes

HUB = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
CAROL = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
PERIOD = 3600


class ScriptedViews:
    """Carol's channel in ChannelDispute (started by the hub), alice's in ThreadDispute with one
    thread to bob unsettled, bob's channel open again."""

    def getChannelDetails(self, user):
        status, initiator, closing = {
            CAROL: (ChannelStatus.CHANNEL_DISPUTE, HUB, 5_000),
            ALICE: (ChannelStatus.THREAD_DISPUTE, ALICE, 4_000),
        }.get(user, (ChannelStatus.OPEN, ZERO_ADDRESS, 0))
        return (3, 1, ZERO_BYTES32, 1, initiator, closing, int(status))

    def getThread(self, sender, receiver, thread_id):
        return ([1, 3], [0, 0], 2, 4_500, [False, False])

    def getChannelBalances(self, user):
        return (0, 0, 0, 0, 0, 0)


EVENTS = [
    {"event": "DidStartExitChannel", "args": {"user": CAROL}},
    {
        "event": "DidStartExitThread",
        "args": {"user": ALICE, "sender": ALICE, "receiver": BOB, "threadId": 1},
    },
    {"event": "DidEmptyChannel", "args": {"user": BOB}},
]


def test_running_disputes_are_listed_soonest_deadline_first():
    found = running_disputes(EVENTS, ScriptedViews(), hub=HUB, challenge_period=PERIOD, now=4_200)
    assert [(d["kind"], d["what"], d["deadline"]) for d in found] == [
        ("thread", f"{ALICE} -> {BOB} #1", 4_500),
        ("channel", CAROL, 5_000),
        ("threads", ALICE, 4_000 + 10 * PERIOD),
    ]
    assert found[1]["detail"] == "started by the hub"
    assert found[0]["deadline_name"] == "challenge window closes"


def test_a_thread_past_its_window_says_so():
    found = running_disputes(EVENTS, ScriptedViews(), hub=HUB, challenge_period=PERIOD, now=4_500)
    assert found[0]["deadline_name"] == "window closed"
