"""Which chain a campaign's episodes run on.

The default is a fresh in-process `RevmChain` per episode (a few milliseconds; about 2,000 steps
per core-second). `AnvilEpisodes` runs the same episodes on a real anvil node, for fidelity:
one private anvil for the whole campaign, each episode starting from the same snapshot of the
empty chain, so an episode sees exactly what it would see on revm (fresh contracts, its own
clock) and real EIP-7702 delegation instead of revm's emulation (docs/fuzzing-backends.md).
It is about 10× slower: use it for short runs that confirm a revm result.
"""

from __future__ import annotations

from fuzzing.chain.anvil_chain import AnvilChain, AnvilProcess, launch_anvil

BACKENDS = ("revm", "anvil")


class AnvilEpisodes:
    """A chain factory over one anvil: `factory()` reverts to the empty chain and returns it.
    Starts a private anvil on a free port unless `url` names a running one; `close()` stops it."""

    def __init__(self, url: str | None = None) -> None:
        self.process: AnvilProcess | None = launch_anvil() if url is None else None
        self.chain = AnvilChain(url if url is not None else self.process.url)
        self.empty = self.chain.snapshot()

    def __call__(self) -> AnvilChain:
        self.chain.revert(self.empty)
        return self.chain

    def close(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> AnvilEpisodes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
