"""Helpers of the script tests: amounts, the deployment record's path, plain ints from brownie's
return values, and the assertion that a script refused with one line and sent nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from brownie import accounts, chain, web3

from channel_manager.devkeys import anvil_key

ETHER = 10**18


def key_of(account: Any) -> bytes:
    return anvil_key(list(accounts).index(account))


def record_file(folder: Path) -> Path:
    """Where the scripts keep this local chain's deployment record under `folder`
    (`dev/<chain-id>-<first 8 hex digits of the genesis hash>.json`)."""
    genesis = "0x" + bytes(web3.eth.get_block(0)["hash"]).hex()
    return folder / "dev" / f"{chain.id}-{genesis[2:10]}.json"


def records_env(folder: Path) -> dict[str, str]:
    """The script environment that keeps deployment records under `folder`."""
    return {"CM_DEPLOYMENTS_DIR": str(folder)}


def write_record(folder: Path, record: dict[str, Any]) -> None:
    """Put `record` where the scripts look for this chain's deployment record under `folder`."""
    path = record_file(folder)
    path.parent.mkdir()
    path.write_text(json.dumps(record))


def ints(values: Any) -> tuple[int, ...]:
    """Brownie's return values as plain ints (its Wei type refuses comparison with tuples)."""
    return tuple(int(v) for v in values)


def nonce(account: Any) -> int:
    return int(web3.eth.get_transaction_count(account.address))


def refused(
    capsys: pytest.CaptureFixture[str], call: Callable[[], Any], *fragments: str, sender: Any = None
) -> str:
    """The call exits with status 2 after one line `error: …` containing every fragment, and
    `sender` (if given) sent no transaction."""
    before = nonce(sender) if sender is not None else None
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        call()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    if sender is not None:
        assert nonce(sender) == before, "a transaction was sent"
    return err
