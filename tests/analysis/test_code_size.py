"""EIP-170: the deployed ChannelManager's runtime code must fit 24,576 bytes (v1's did not)."""

from __future__ import annotations

from brownie import web3

EIP170_LIMIT = 24_576


def test_channel_manager_runtime_code_fits_eip170(manager):
    size = len(web3.eth.get_code(manager.address))
    print(
        f"\nChannelManager runtime code: {size:,} bytes (limit {EIP170_LIMIT:,}, "
        f"{EIP170_LIMIT - size:,} to spare)"
    )
    assert 0 < size <= EIP170_LIMIT
