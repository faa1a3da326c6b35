"""What the scripts read from the chain before a submission, as plain values, and the
reference model that holds the same stored data: the model then judges the call first."""

from __future__ import annotations

from dataclasses import dataclass, field

from channel_manager.aliases import ZERO_ADDRESS
from channel_manager.contract_views import ChannelBalances, ChannelDetails, ThreadRecord
from channel_manager.eip712 import Domain
from channel_manager.model import Channel, ChannelManagerModel, EcdsaOracle, Initiator, Thread


@dataclass
class ChainView:
    """What the scripts read from the chain before a submission (plain values, no brownie)."""

    address: str
    chain_id: int
    hub: str
    challenge_period: int
    now: int  # timestamp the next block will have at least (latest + 1)
    eth_balance: int = 0
    token_balance: int = 0
    total_channel_wei: int = 0
    total_channel_token: int = 0
    reserve_wei: int = 0
    reserve_token: int = 0
    channels: dict[str, tuple[ChannelBalances, ChannelDetails]] = field(default_factory=dict)
    threads: dict[tuple[str, str, int], ThreadRecord] = field(default_factory=dict)
    contract_signers: set[str] = field(default_factory=set)  # addresses with code (ERC-1271)

    @property
    def domain(self) -> Domain:
        return Domain(self.chain_id, self.address)


class _ChainOracle(EcdsaOracle):
    """ECDSA for keys; contract signers are passed here and checked by the chain simulation."""

    def __init__(self, contract_signers: set[str]) -> None:
        super().__init__()
        self.contract_signers = contract_signers

    def is_valid_signature(self, signer: str, digest: bytes, signature: bytes) -> bool:
        if signer in self.contract_signers:
            return True
        return self.is_valid_key_signature(signer, digest, signature)


def model_of(view: ChainView) -> ChannelManagerModel:
    """A reference model holding the chain's stored data for the channels and threads read."""
    model = ChannelManagerModel(
        str(view.hub),
        view.challenge_period,
        view.address,
        chain_id=view.chain_id,
        signatures=_ChainOracle(view.contract_signers),
    )
    model.eth_balance = view.eth_balance
    model.token_balance = view.token_balance
    model.total_channel_wei = view.total_channel_wei
    model.total_channel_token = view.total_channel_token
    # credits are not exposed as a total: they are what is neither reserve nor channel money
    model.total_credit_wei = max(view.eth_balance - view.total_channel_wei - view.reserve_wei, 0)
    model.total_credit_token = max(
        view.token_balance - view.total_channel_token - view.reserve_token, 0
    )
    for user, (balances, details) in view.channels.items():
        role = Initiator.NONE
        if details.exit_initiator == str(view.hub):
            role = Initiator.HUB
        elif details.exit_initiator != ZERO_ADDRESS:
            role = Initiator.USER
        model.channels[str(user)] = Channel(
            wei_hub=balances.wei_hub,
            wei_user=balances.wei_user,
            token_hub=balances.token_hub,
            token_user=balances.token_user,
            wei_total=balances.wei_total,
            token_total=balances.token_total,
            tx_count_global=details.tx_count_global,
            tx_count_chain=details.tx_count_chain,
            closing_time=details.closing_time,
            thread_count=details.thread_count,
            status=details.status,
            initiator=role,
            thread_root=details.thread_root,
        )
    for key, record in view.threads.items():
        model.threads[key] = Thread(
            wei_sender=record.wei[0],
            token_sender=record.token[0],
            wei_receiver=record.wei[1],
            token_receiver=record.token[1],
            tx_count=record.tx_count,
            closing_time=record.closing_time,
            sender_emptied=record.emptied[0],
            receiver_emptied=record.emptied[1],
        )
    return model
