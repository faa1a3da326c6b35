"""`make demo` from a checkout whose path has a dot, on a local chain of its own (a development
network registered in a private brownie home, on a free port): it plays the channel's life and
a thread (opened, paid through, disputed and settled on both sides), and brownie's
per-transaction lines stay out of the story."""

from __future__ import annotations

from tests.scripts.rehearsal import (
    brownie_cli,
    dotted_checkout_with_make,
    free_port,
    private_home,
    run_in,
)

BROWNIE_TX_LINES = ("Transaction sent", "Gas price", "Block: ", "confirmed", "Running '")


def test_make_demo_plays_a_thread_from_a_dotted_path(tmp_path):
    checkout = dotted_checkout_with_make(tmp_path)
    assert "." in checkout.parent.name and "." in str(checkout.resolve())
    home = private_home(tmp_path)
    port = free_port()
    added = brownie_cli(
        checkout, home, "networks", "add", "Development", "demo-chain", "cmd=anvil",
        "host=http://127.0.0.1", f"port={port}", "accounts=10", "chain_id=31337", "base_fee=0", "gas_limit=30000000",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    result = run_in(checkout, home, ["make", "demo", "NETWORK=demo-chain"], timeout=300)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for step in (
        "carol opens a 0.3 ETH thread to dave",
        "carol pays dave 0.1 ETH, then 0.05 ETH, through the thread",
        "Thread dispute: carol starts it with the initial state",
        "tx challengeThread",
        "tx emptyThread (sender side)",
        "tx emptyThread (receiver side)",
        "carol got her remainder 0.1500 ETH, dave his share 0.1500 ETH",
        "settled sender/receiver side True/True",
        "Demo complete",
    ):
        assert step in out, step
    assert not [line for line in out.splitlines() if any(t in line for t in BROWNIE_TX_LINES)]
    assert "Traceback" not in out + result.stderr
