"""A fresh world for one episode: an in-process chain, the token, the ChannelManager under
test, the hostile helper contracts, the hub and the users with their keys and funds."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from eth_utils import to_checksum_address

from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from fuzzing.artifacts import PROJECT_ROOT, Artifact, ArtifactError, load_build_artifact
from fuzzing.chain.base import DEV_ACCOUNTS, Chain, Contract
from fuzzing.chain.revm_chain import RevmChain
from fuzzing.engine.books import CHEATER, HONEST, PUPPET, Party
from fuzzing.engine.fast import Hasher, Key, derived_key, keccak

ETHER = 10**18
#: Amounts are drawn in these units, so equal amounts (and thread collisions) are frequent.
UNIT = 10**15
#: The unit of a "giant" episode: ten of them pass 2^64, so channel and thread amounts cross the
#: width of every packed field below 128 bits (docs/protocol.md §2) and truncation shows.
GIANT_UNIT = 2**62
MAX_UINT = 2**256 - 1
#: Wallets and the hub hold this many units: far more than any episode moves.
USER_UNITS = 10**6
HUB_UNITS = 10**12


@cache
def helper_artifact(name: str) -> Artifact:
    """A test contract from brownie's build folder, compiled here if it was never built."""
    try:
        return load_build_artifact(name)
    except ArtifactError:
        from fuzzing.compile import compile_contract

        return compile_contract(PROJECT_ROOT / "contracts" / "test" / f"{name}.sol", name)


@dataclass(frozen=True)
class Config:
    """An episode's shape: drawn per episode from the campaign's random stream."""

    challenge_period: int
    reserve_wei: int
    reserve_token: int
    honest: int
    cheaters: int
    puppets: int
    unit: int = UNIT
    token: str = (
        "standard"  # or "hostile": refuses or answers false to chosen recipients, takes fees
    )

    @classmethod
    def draw(cls, rng: random.Random) -> Config:
        unit = GIANT_UNIT if rng.random() < 0.15 else UNIT
        return cls(
            challenge_period=rng.choice((1, 2, 10, 3600)),
            unit=unit,
            # A small reserve makes theft show as insolvency; a large one hides it from solvency
            # alone (the payout property must still catch it).
            reserve_wei=rng.choice((0, 5, 50, 10**7)) * unit,
            reserve_token=rng.choice((0, 5, 50, 10**15)) * unit,
            honest=rng.randint(2, 3),
            cheaters=rng.randint(1, 2),
            puppets=rng.randint(2, 3),
            token="hostile" if rng.random() < 0.2 else "standard",
        )


class World:
    """Deployed contracts and parties. Setup transactions are not campaign steps."""

    def __init__(
        self, manager_artifact: Artifact, config: Config, chain: Chain | None = None
    ) -> None:
        self.config = config
        self.unit = config.unit
        self.chain = chain if chain is not None else RevmChain()
        chain = self.chain
        self.hub_key = Key(anvil_key(0))
        self.hub = self.hub_key.address
        self.stranger = DEV_ACCOUNTS[9]
        hub = self.hub
        chain.set_balance(hub, HUB_UNITS * config.unit)
        if config.token == "hostile":
            self.token: Contract = chain.deploy(helper_artifact("HostileToken"), sender=hub)
        else:
            self.token = chain.deploy(helper_artifact("TestToken"), "Test Token", "TST", sender=hub)
        #: The hostile token's switches as the episode last set them (the model is told them).
        self.token_refusals: dict[str, int] = {}
        self.token_fee = 0
        self.manager: Contract = chain.deploy(
            manager_artifact, hub, config.challenge_period, self.token, sender=hub
        )
        self.revoker: Contract = chain.deploy(helper_artifact("RevokingDelegate"), sender=hub)
        self.reenterer: Contract = chain.deploy(helper_artifact("ReenteringDelegate"), sender=hub)
        self.rejecter: Contract = chain.deploy(
            helper_artifact("RejectingRecipient"), self.manager, hub, sender=hub
        )
        self.domain = Domain(chain.chain_id, self.manager.address)
        self.hasher = Hasher(self.domain)

        self.parties: list[Party] = []
        for kind, count in (
            (HONEST, config.honest),
            (CHEATER, config.cheaters),
            (PUPPET, config.puppets),
        ):
            for i in range(count):
                name = f"{kind[0].upper()}{i}"
                key = derived_key(name)
                cold = "0x" + keccak(b"cold wallet of " + name.encode())[12:].hex()
                self.parties.append(Party(name, kind, key, to_checksum_address(cold)))
        for party in self.parties:
            chain.set_balance(party.address, USER_UNITS * config.unit)
            self._ok(
                chain.transact(
                    self.token, "mint", party.address, USER_UNITS * config.unit, sender=hub
                )
            )
            self._ok(
                chain.transact(self.token, "approve", self.manager, MAX_UINT, sender=party.address)
            )
        if config.reserve_wei:
            self._ok(chain.send(hub, self.manager, config.reserve_wei))
        if config.reserve_token:
            self._ok(
                chain.transact(self.token, "mint", self.manager, config.reserve_token, sender=hub)
            )
        self.by_address = {p.address: p for p in self.parties}
        self.names = {p.address: p.name for p in self.parties}
        self.names.update(
            {
                hub: "hub",
                self.stranger: "stranger",
                self.manager.address: "contract",
                "0x0000000000000000000000000000000000000000": "zero",
            }
        )
        for p in self.parties:
            self.names[p.cold] = f"{p.name}.cold"

    def lift_token_refusals(self) -> None:
        """The hostile token accepts every recipient again (a blacklist is beyond the contract's
        power; what the contract owes is that credits stay claimable once it lifts)."""
        for address, how in self.token_refusals.items():
            if how:
                self._ok(
                    self.chain.transact(self.token, "setRefusal", address, 0, sender=self.stranger)
                )
        self.token_refusals.clear()

    @staticmethod
    def _ok(result) -> None:
        if not result.success:
            raise RuntimeError(f"world setup failed: {result.revert_text()}")

    def of_kind(self, *kinds: str) -> list[Party]:
        return [p for p in self.parties if p.kind in kinds]

    def name(self, address: str) -> str:
        return self.names.get(address, address[:10])
