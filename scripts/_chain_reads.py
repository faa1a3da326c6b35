"""What the operate scripts read from the chain: the next block's time, the channels and
threads a call touches (as a `ChainView` the reference model judges), and the contract's events."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from brownie import chain, web3
from eth_utils import event_abi_to_log_topic

from channel_manager.contract_views import channel_balances, channel_details, thread_record
from channel_manager.ops.chain_view import ChainView
from scripts._common import token_of


def next_timestamp(development: bool) -> int:
    """A lower bound of the next block's timestamp."""
    latest = int(web3.eth.get_block("latest")["timestamp"]) + 1
    return latest if development else max(latest, int(time.time()))


def chain_view(
    contract: Any,
    *,
    development: bool,
    users: Sequence[str] = (),
    threads: Sequence[tuple[str, str, int]] = (),
) -> ChainView:
    """What the reference model needs to judge a call on these channels and threads."""
    token = token_of(contract)
    view = ChainView(
        address=contract.address,
        chain_id=chain.id,
        hub=str(contract.hub()),
        challenge_period=int(contract.challengePeriod()),
        now=next_timestamp(development),
        eth_balance=int(web3.eth.get_balance(contract.address)),
        token_balance=int(token.balanceOf(contract.address)),
        total_channel_wei=int(contract.totalChannelWei()),
        total_channel_token=int(contract.totalChannelToken()),
        reserve_wei=int(contract.getHubReserveWei()),
        reserve_token=int(contract.getHubReserveTokens()),
    )
    for user in users:
        view.channels[user] = (channel_balances(contract, user), channel_details(contract, user))
        if web3.eth.get_code(user):
            view.contract_signers.add(user)
    for sender, receiver, thread_id in threads:
        view.threads[(sender, receiver, int(thread_id))] = thread_record(
            contract, sender, receiver, thread_id
        )
        for party in (sender, receiver):
            if web3.eth.get_code(party):
                view.contract_signers.add(party)
    return view


def fetch_events(
    contract: Any, from_block: int, to_block: int, step: int = 2000
) -> list[dict[str, Any]]:
    """The contract's events in [from_block, to_block], decoded, in chain order:
    `{"event", "args", "block", "tx", "log_index"}`."""
    w3_contract = web3.eth.contract(address=contract.address, abi=contract.abi)
    by_topic = {
        "0x" + event_abi_to_log_topic(abi).hex(): abi["name"]
        for abi in contract.abi
        if abi.get("type") == "event"
    }
    out: list[dict[str, Any]] = []
    start = from_block
    while start <= to_block:
        end = min(start + step - 1, to_block)
        logs = web3.eth.get_logs({"address": contract.address, "fromBlock": start, "toBlock": end})
        for log in logs:
            topic = "0x" + bytes(log["topics"][0]).hex()
            name = by_topic.get(topic)
            if name is None:
                continue
            decoded = w3_contract.events[name]().process_log(log)
            out.append(
                {
                    "event": name,
                    "args": dict(decoded["args"]),
                    "block": int(log["blockNumber"]),
                    "tx": "0x" + bytes(log["transactionHash"]).hex(),
                    "log_index": int(log["logIndex"]),
                }
            )
        start = end + 1
    out.sort(key=lambda e: (e["block"], e["log_index"]))
    return out
