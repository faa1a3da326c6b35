"""Keys of the local development chain's default accounts (anvil's public test mnemonic).

These keys are public knowledge: they exist so demos, benchmarks and tests can sign states for
the accounts the local chain pre-funds. Never use them on a public network.
"""

from __future__ import annotations

from functools import lru_cache

from eth_account import Account

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"


@lru_cache(maxsize=32)
def anvil_key(index: int) -> bytes:
    """Private key of anvil's default account `index`."""
    Account.enable_unaudited_hdwallet_features()
    path = f"m/44'/60'/0'/0/{index}"
    return bytes(Account.from_mnemonic(ANVIL_MNEMONIC, account_path=path).key)
