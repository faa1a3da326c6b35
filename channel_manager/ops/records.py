"""Deployment records (`deployments/[dev/]<chain-id>-<genesis8>.json`, named by
`scripts/_deployment.record_path`): whether one still describes the chain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def record_describes_chain(
    record: Mapping[str, Any], block_hash_at_record: str | None, code: bytes
) -> bool:
    """A record still describes this chain when the block it names has the recorded hash (the
    chain was not reset) and the address holds code."""
    recorded = str(record.get("block_hash", "")).lower()
    return (
        bool(code) and block_hash_at_record is not None and block_hash_at_record.lower() == recorded
    )
