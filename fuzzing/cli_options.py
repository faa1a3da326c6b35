"""Command-line options shared by the campaign launchers (research/fuzz.py, one process per
worker, and research/campaign.py, sharded over a Dask cluster): which contract, which oracle,
which seed. Each launcher keeps its own defaults and words for what differs between them."""

from __future__ import annotations

import argparse

from fuzzing.engine.campaign import ORACLES


def add_contract_oracle_seed(
    parser: argparse.ArgumentParser, *, contract_default: str, contract_help: str, seed_help: str
) -> None:
    """Add --contract, --oracle and --seed (default None: the launcher draws it from the clock)."""
    parser.add_argument("--contract", default=contract_default, help=contract_help)
    parser.add_argument(
        "--oracle",
        choices=ORACLES,
        default="properties",
        help="judge by the protocol properties, the reference model, or both",
    )
    parser.add_argument("--seed", type=int, default=None, help=seed_help)
