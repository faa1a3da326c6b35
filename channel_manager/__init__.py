"""Off-chain half of the ChannelManager payment-channel hub.

State types (`states`), EIP-712 encoding (`eip712`), signing (`signing`), thread merkle trees
(`merkle`), the protocol rules a wallet or hub checks before signing (`rules`), next-state
helpers for channels (`transitions`) and threads (`threads`), an executable reference model of
the contract (`model`), typed reads of the contract's views (`contract_views`), what the deploy
and operate scripts check before sending (`ops/`), the disputes still running on a deployment
(`disputes`), and the watchtower's decisions (`watchtower`) and store (`watchtower_store`).
This package never imports brownie: chain glue lives in scripts/ and tests/.
"""

from channel_manager.states import ChannelState, ThreadState

__all__ = ["ChannelState", "ThreadState"]
