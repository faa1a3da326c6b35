"""Fixtures for the attack tests: the dispute fixtures (tests/unit/dispute/conftest.py, where
the catalogue is) are re-exported so both folders share one definition."""

from tests.unit.dispute.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    blacklist_env,
    contract_user,
    key_signer,
    open_contract_channel,
    read_channel,
    read_globals,
    sign_both,
)
