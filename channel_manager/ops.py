"""Checks shared by the deploy and operate scripts (`scripts/`): settings, addresses, bounds, the
signed-state envelope, and the validation of a submission before anything is sent.

Nothing here talks to a chain or imports brownie: the scripts read the chain and hand plain
values in. Every refusal is an `OpsError` whose message is one line naming the problem; the
scripts print it as `error: <message>` and exit with status 2, having sent nothing.

Envelope (a JSON file, one signed state; see docs/operations.md):

    {"kind": "channel", "state": {<ChannelState.to_json_dict()>},
     "sig_hub": "0x…", "sig_user": "0x…",            # either may be absent where not needed
     "chain_id": 31337, "contract": "0x…"}           # optional: checked when present

    {"kind": "thread", "state": {<ThreadState.to_json_dict()>}, "sig": "0x…",   # sender's
     "proof": ["0x…", …],                            # initial states: merkle proof in the root
     "chain_id": 31337, "contract": "0x…"}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import is_hex_address, to_checksum_address

from channel_manager import errors as E
from channel_manager.aliases import ZERO_ADDRESS
from channel_manager.eip712 import Domain, channel_digest, thread_digest
from channel_manager.model import (
    Channel,
    ChannelManagerModel,
    EcdsaOracle,
    Initiator,
    Status,
    Thread,
)
from channel_manager.rules import ThreadFieldsInconsistent, _check_ranges
from channel_manager.signing import recover
from channel_manager.states import ChannelState, ThreadState


class OpsError(Exception):
    """A refusal of a deploy or operate script: one line, nothing was sent."""


# ------------------------------------------------------------------ bounds

HOUR = 3600
DAY = 24 * HOUR
# The contract accepts 1 s .. 365 days (SPEC §2). On public networks the scripts also refuse
# anything under an hour: a shorter window cannot be relied on to get an answer mined in time
# (congestion, a watchtower restart), and a deployment cannot change it later.
MIN_PUBLIC_CHALLENGE_PERIOD = HOUR
MIN_CHALLENGE_PERIOD = 1
MAX_CHALLENGE_PERIOD = 365 * DAY

MAX_UINT256 = 2**256 - 1

TRUE_WORDS = {"1", "true", "yes", "y", "on"}
FALSE_WORDS = {"", "0", "false", "no", "n", "off"}


def flag(env: Mapping[str, str], name: str) -> bool:
    """A boolean environment variable (`1/true/yes` or `0/false/no/empty`)."""
    raw = env.get(name, "").strip().lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise OpsError(f"{name}={env[name]!r} is not a yes/no value (use 1 or 0)")


def check_challenge_period(value: Any, *, development: bool) -> int:
    """Seconds, within [1 h, 365 days] on public networks and [1 s, 365 days] on local ones."""
    try:
        seconds = int(str(value).strip())
    except ValueError:
        raise OpsError(f"challenge period {value!r} is not a whole number of seconds") from None
    low = MIN_CHALLENGE_PERIOD if development else MIN_PUBLIC_CHALLENGE_PERIOD
    if seconds < low:
        where = "" if development else " on a public network"
        raise OpsError(f"challenge period {seconds} s is below the minimum of {low} s{where}")
    if seconds > MAX_CHALLENGE_PERIOD:
        raise OpsError(
            f"challenge period {seconds} s is above the maximum of {MAX_CHALLENGE_PERIOD} s (365 days)"
        )
    return seconds


def parse_address(value: Any, what: str) -> str:
    """A checksummed, non-zero address, or an OpsError naming `what`."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise OpsError(f"{what} is not set")
    if not is_hex_address(text):
        raise OpsError(f"{what} {text!r} is not an address (expected 0x and 40 hex digits)")
    digits = text[2:]
    # mixed case must be a valid checksum, or a typo slipped in
    if digits not in (digits.lower(), digits.upper()) and to_checksum_address(text) != text:
        raise OpsError(f"{what} {text} has a wrong checksum (mistyped?)")
    address = to_checksum_address(text)
    if address == ZERO_ADDRESS:
        raise OpsError(f"{what} is the zero address")
    return address


def parse_amount(value: Any, what: str) -> int:
    """A non-negative integer amount: `123` (base units), `1.5ether`, `2 gwei`, `10e18`."""
    text = str(value).strip().lower().replace("_", "")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(?:e(\d+))?\s*(ether|gwei|wei)?", text)
    if not match:
        raise OpsError(f"{what} {_clip(value)} is not an amount (e.g. 1000, 1.5ether, 10e18)")
    number, exponent, unit = match.groups()
    scale = {"ether": 18, "gwei": 9, "wei": 0, None: 0}[unit] + int(exponent or 0)
    whole, _, fraction = number.partition(".")
    if len(fraction) > scale:
        raise OpsError(f"{what} {_clip(value)} has more decimals than base units")
    if len(whole.lstrip("0")) + scale > 80:  # far above 2^256 (78 digits): do not build it
        raise OpsError(f"{what} {_clip(value)} is above the largest amount, 2^256 - 1 base units")
    amount = int(whole + fraction.ljust(scale, "0"))
    if amount > MAX_UINT256:
        raise OpsError(f"{what} {_clip(value)} is above the largest amount, 2^256 - 1 base units")
    return amount


def _clip(value: Any, limit: int = 40) -> str:
    """User input quoted for a message, cut short (a 400-digit number is not worth echoing)."""
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "…'"


# ------------------------------------------------------------------ deploy settings

TEST_TOKEN = "test-token"  # config value: deploy contracts/test/TestToken.sol (local chains only)
DEPLOYER = "deployer"  # config value for `hub`: the deploying account is the hub


@dataclass(frozen=True)
class Settings:
    """Deploy and operate settings of one network, after environment overrides. Read-only and
    operate commands leave `hub`, `token` and `challenge_period` as None when they are not
    configured: the contract itself says what they are."""

    network: str
    development: bool
    chain_id: int
    hub: str | None  # an address, or DEPLOYER
    token: str | None  # an address, or TEST_TOKEN
    challenge_period: int | None
    account: str  # local:N | keystore:ID | privkey ("" when not configured)
    fund_reserve_wei: int = 0
    fund_reserve_token: int = 0
    confirmations: int = 1
    sources: dict[str, str] = field(default_factory=dict)  # field -> "config" | "env CM_…"
    # fees in wei per gas (None: from the node); EIP-1559 max fee and priority fee, or a legacy
    # gas price for nodes without a base fee
    max_fee: int | None = None
    priority_fee: int | None = None
    gas_price: int | None = None
    tx_timeout: int = 60  # seconds to wait for a transaction to be mined, and again for its confirmations


ENV_OVERRIDES = {
    "hub": "CM_HUB",
    "token": "CM_TOKEN",
    "challenge_period": "CM_CHALLENGE_PERIOD",
    "account": "CM_ACCOUNT",
    "confirmations": "CM_CONFIRMATIONS",
    "max_fee": "CM_MAX_FEE",
    "priority_fee": "CM_PRIORITY_FEE",
    "gas_price": "CM_GAS_PRICE",
    "tx_timeout": "CM_TX_TIMEOUT",
}
# Every yes/no variable the scripts read: all are checked before anything is printed or sent.
FLAGS = ("CM_DRY_RUN", "CM_YES", "CM_FORCE", "CM_REPLACE")


def check_flags(env: Mapping[str, str]) -> None:
    for name in FLAGS:
        flag(env, name)


def load_config(path: Path) -> dict[str, Any]:
    import yaml  # brownie's dependency; imported here so the rest of the module stays light

    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise OpsError(f"deploy settings {path} not found") from None
    except yaml.YAMLError as exc:
        raise OpsError(f"deploy settings {path} do not parse: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise OpsError(f"deploy settings {path} must be a mapping")
    return data


def _whole(value: Any, what: str, low: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise OpsError(f"{what} {_clip(value)} is not a whole number") from None
    if number < low:
        raise OpsError(f"{what} {number} is below {low}")
    return number


def resolve_settings(
    config: Mapping[str, Any],
    network: str,
    *,
    development: bool,
    env: Mapping[str, str],
    deploying: bool = True,
) -> Settings:
    """The entry `networks.<network>` of deployments/config.yaml, else (local chains only) the
    `development` entry; then the CM_* variables of ENV_OVERRIDES override. Only a deployment
    needs `hub`, `token` and `challenge_period` (`deploying`); the other commands check those
    that are set and read the rest from the contract."""
    networks = config.get("networks") or {}
    if network in networks:
        entry = dict(networks[network] or {})
    elif development and config.get("development"):
        entry = dict(config["development"])
    else:
        raise OpsError(
            f"network {network!r} has no entry in deployments/config.yaml"
            " (add one under `networks:`; local chains use the `development` entry)"
        )
    sources = {key: "config" for key in entry}
    for key, var in ENV_OVERRIDES.items():
        if env.get(var, "").strip():
            entry[key] = env[var].strip()
            sources[key] = f"env {var}"

    if "chain_id" not in entry:
        raise OpsError(f"deployments/config.yaml: network {network!r} has no chain_id")
    hub = _optional(entry.get("hub"))
    if hub is None and deploying:
        raise OpsError(
            f"hub address for {network!r} is not set: set CM_HUB or `hub:` in deployments/config.yaml"
        )
    if hub is not None and hub != DEPLOYER:
        hub = parse_address(hub, "hub")
    token = _optional(entry.get("token"))
    if token is None and deploying:
        raise OpsError(
            f"token address for {network!r} is not set: set CM_TOKEN or `token:` in deployments/config.yaml"
        )
    if token == TEST_TOKEN:
        if not development:
            raise OpsError("token `test-token` (open-mint TestToken) is for local chains only")
    elif token is not None:
        token = parse_address(token, "token")
    period = None
    if "challenge_period" in entry and _optional(entry["challenge_period"]) is not None:
        period = check_challenge_period(entry["challenge_period"], development=development)
    elif deploying:
        raise OpsError(f"deployments/config.yaml: network {network!r} has no challenge_period")
    account = str(entry.get("account") or "").strip()
    fund = entry.get("fund_reserve") or {}
    if fund and not development:
        raise OpsError(
            "fund_reserve is for local chains only (fund a public deployment with scripts/hub.py)"
        )

    def fee(key: str) -> int | None:
        raw = _optional(entry.get(key))
        return None if raw is None else parse_amount(raw, key.replace("_", " "))

    return Settings(
        network=network,
        development=development,
        chain_id=int(entry["chain_id"]),
        hub=hub,
        token=token,
        challenge_period=period,
        account=account,
        fund_reserve_wei=parse_amount(fund.get("wei", 0), "fund_reserve.wei"),
        fund_reserve_token=parse_amount(fund.get("token", 0), "fund_reserve.token"),
        confirmations=_whole(
            entry.get("confirmations", 1 if development else 2), "confirmations", 1
        ),
        sources=sources,
        max_fee=fee("max_fee"),
        priority_fee=fee("priority_fee"),
        gas_price=fee("gas_price"),
        tx_timeout=_whole(entry.get("tx_timeout", 60 if development else 600), "tx_timeout", 1),
    )


def _optional(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def require_account(settings: Settings) -> str:
    if not settings.account:
        raise OpsError(
            f"no account for {settings.network!r}: set CM_ACCOUNT or `account:` in deployments/config.yaml"
        )
    return settings.account


def parse_account_spec(spec: str, *, development: bool) -> tuple[str, str]:
    """`local:N` (the node's unlocked account N, local chains only), `keystore:ID` (a brownie
    keystore account) or `privkey` (CM_PRIVATE_KEY from the environment or `.env`)."""
    kind, _, rest = spec.partition(":")
    if kind == "local":
        if not development:
            raise OpsError("account `local:N` is for local chains only: use keystore:ID or privkey")
        if not rest.isdigit():
            raise OpsError(f"account {spec!r}: expected local:<index>")
        return kind, rest
    if kind == "keystore":
        if not rest:
            raise OpsError(f"account {spec!r}: expected keystore:<brownie account id>")
        return kind, rest
    if kind == "privkey" and not rest:
        return kind, ""
    raise OpsError(f"account {spec!r} is not local:N, keystore:ID or privkey")


def check_private_key(raw: str) -> str:
    """A 32-byte hex key; the message never contains the key."""
    text = raw.strip()
    hexpart = text[2:] if text.startswith("0x") else text
    if not re.fullmatch(r"[0-9a-fA-F]{64}", hexpart):
        raise OpsError("CM_PRIVATE_KEY is not a 32-byte hex key")
    return "0x" + hexpart


# ------------------------------------------------------------------ envelopes


@dataclass(frozen=True)
class Envelope:
    """A signed state read from a JSON file."""

    kind: str  # "channel" | "thread"
    state: ChannelState | ThreadState
    sig_hub: bytes | None = None  # channel
    sig_user: bytes | None = None  # channel
    sig: bytes | None = None  # thread (sender's)
    proof: tuple[bytes, ...] = ()  # thread initial state: proof in the channel's root
    chain_id: int | None = None
    contract: str | None = None
    source: str = "<envelope>"

    @property
    def channel(self) -> ChannelState:
        if not isinstance(self.state, ChannelState):
            raise OpsError(f"{self.source}: expected a channel state, got a {self.kind} state")
        return self.state

    @property
    def thread(self) -> ThreadState:
        if not isinstance(self.state, ThreadState):
            raise OpsError(f"{self.source}: expected a thread state, got a {self.kind} state")
        return self.state


def _hex(data: bytes | None) -> str | None:
    return None if data is None else "0x" + bytes(data).hex()


def channel_envelope(
    state: ChannelState,
    sig_hub: bytes | None = None,
    sig_user: bytes | None = None,
    domain: Domain | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "channel", "state": state.to_json_dict()}
    if sig_hub is not None:
        out["sig_hub"] = _hex(sig_hub)
    if sig_user is not None:
        out["sig_user"] = _hex(sig_user)
    if domain is not None:
        out["chain_id"], out["contract"] = domain.chain_id, domain.verifying_contract
    return out


def thread_envelope(
    state: ThreadState,
    sig: bytes,
    proof: Sequence[bytes] = (),
    domain: Domain | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "thread", "state": state.to_json_dict(), "sig": _hex(sig)}
    if proof:
        out["proof"] = [_hex(p) for p in proof]
    if domain is not None:
        out["chain_id"], out["contract"] = domain.chain_id, domain.verifying_contract
    return out


def _bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})*", value):
        raise ValueError(f"{what} must be a 0x-prefixed hex string")
    raw = bytes.fromhex(value[2:])
    if length is not None and len(raw) != length:
        raise ValueError(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


def parse_envelope(data: Any, source: str = "<envelope>") -> Envelope:
    try:
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        known = {"kind", "state", "sig_hub", "sig_user", "sig", "proof", "chain_id", "contract"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        kind = data.get("kind")
        if "state" not in data or not isinstance(data["state"], dict):
            raise ValueError("missing `state` object")
        chain_id = int(data["chain_id"]) if data.get("chain_id") is not None else None
        contract = parse_address(data["contract"], "contract") if data.get("contract") else None
        if kind == "channel":
            state: ChannelState | ThreadState = ChannelState.from_json_dict(data["state"])
            sigs = {
                k: _bytes(data[k], k) if data.get(k) is not None else None
                for k in ("sig_hub", "sig_user")
            }
            if "sig" in data or "proof" in data:
                raise ValueError("`sig` and `proof` belong to thread envelopes")
            return Envelope(
                kind, state, sigs["sig_hub"], sigs["sig_user"], None, (), chain_id, contract, source
            )
        if kind == "thread":
            state = ThreadState.from_json_dict(data["state"])
            if data.get("sig") is None:
                raise ValueError("missing the sender's signature `sig`")
            sig = _bytes(data["sig"], "sig")
            proof = tuple(_bytes(p, "proof element", 32) for p in data.get("proof") or [])
            if "sig_hub" in data or "sig_user" in data:
                raise ValueError("`sig_hub` and `sig_user` belong to channel envelopes")
            return Envelope(kind, state, None, None, sig, proof, chain_id, contract, source)
        raise ValueError(f'`kind` must be "channel" or "thread", got {kind!r}')
    except OpsError as exc:
        raise OpsError(f"{source}: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise OpsError(f"{source}: not a valid state envelope: {exc}") from None


def load_envelope(path: str | Path) -> Envelope:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise OpsError(f"state file {path}: cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OpsError(
            f"state file {path} does not parse as JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    return parse_envelope(data, f"state file {path}")


def write_envelope(path: str | Path, envelope: Mapping[str, Any]) -> None:
    Path(path).write_text(json.dumps(envelope, indent=2) + "\n")


# ------------------------------------------------------------------ validation


def check_envelope_domain(env: Envelope, domain: Domain) -> None:
    """The envelope, if it names a chain or contract, names this deployment."""
    if env.chain_id is not None and env.chain_id != domain.chain_id:
        raise OpsError(
            f"{env.source}: signed for chain {env.chain_id}, this is chain {domain.chain_id}"
        )
    if env.contract is not None and env.contract != domain.verifying_contract:
        raise OpsError(
            f"{env.source}: signed for contract {env.contract}, not {domain.verifying_contract}"
        )


def check_channel_state(env: Envelope) -> ChannelState:
    """Rules of a single state the package can check without the chain."""
    state = env.channel
    try:
        _check_ranges(state)
        if (state.thread_root == b"\x00" * 32) != (state.thread_count == 0):
            raise ThreadFieldsInconsistent(reason="a zero thread root must go with threadCount 0")
    except E.ChannelError as exc:
        raise OpsError(f"{env.source}: invalid state: {exc}") from None
    if state.user == ZERO_ADDRESS:
        raise OpsError(f"{env.source}: the state's user is the zero address")
    return state


def check_signer(
    digest: bytes, signature: bytes | None, expected: str, role: str, source: str
) -> None:
    """`signature` is a 65-byte ECDSA signature of `digest` by `expected`."""
    if signature is None:
        raise OpsError(f"{source}: the {role}'s signature is missing")
    try:
        signer = recover(digest, signature)
    except Exception as exc:  # malformed: wrong length, v, high s
        raise OpsError(f"{source}: the {role}'s signature is malformed ({exc})") from None
    if signer != expected:
        raise OpsError(
            f"{source}: the {role}'s signature recovers to {signer}, not the {role} {expected}"
        )


def check_channel_signatures(
    env: Envelope,
    domain: Domain,
    hub: str,
    *,
    need_hub: bool,
    need_user: bool,
    user_is_contract: bool = False,
) -> None:
    """Recover the hub's and user's signatures over the EIP-712 digest. A user with code signs
    through ERC-1271, which only the chain can answer: that check is left to the simulation."""
    digest = channel_digest(domain, env.channel)
    if need_hub:
        check_signer(digest, env.sig_hub, hub, "hub", env.source)
    if need_user and not user_is_contract:
        check_signer(digest, env.sig_user, env.channel.user, "user", env.source)
    elif need_user and env.sig_user is None:
        raise OpsError(f"{env.source}: the user's signature is missing")


def check_thread_signature(
    env: Envelope, domain: Domain, *, sender_is_contract: bool = False
) -> None:
    state = env.thread
    if sender_is_contract:
        if not env.sig:
            raise OpsError(f"{env.source}: the sender's signature is missing")
        return
    check_signer(thread_digest(domain, state), env.sig, state.sender, "sender", env.source)


# ------------------------------------------------------------------ chain snapshot → model


@dataclass
class ChainView:
    """What the scripts read from the chain before a submission (plain values, no brownie)."""

    address: str
    chain_id: int
    hub: str
    challenge_period: int
    now: int  # timestamp the next block will have at least (latest + 1)
    eth_balance: int = 0
    token_balance: int = 0
    total_channel_wei: int = 0
    total_channel_token: int = 0
    reserve_wei: int = 0
    reserve_token: int = 0
    # user -> (getChannelBalances(user), getChannelDetails(user))
    channels: dict[str, tuple[tuple[int, ...], tuple[Any, ...]]] = field(default_factory=dict)
    # (sender, receiver, id) -> getThread(...)
    threads: dict[tuple[str, str, int], tuple[Any, ...]] = field(default_factory=dict)
    contract_signers: set[str] = field(default_factory=set)  # addresses with code (ERC-1271)

    @property
    def domain(self) -> Domain:
        return Domain(self.chain_id, self.address)


class _ChainOracle(EcdsaOracle):
    """ECDSA for keys; contract signers are passed here and checked by the chain simulation."""

    def __init__(self, contract_signers: set[str]) -> None:
        super().__init__()
        self.contract_signers = contract_signers

    def is_valid_signature(self, signer: str, digest: bytes, signature: bytes) -> bool:
        if signer in self.contract_signers:
            return True
        return self.is_valid_key_signature(signer, digest, signature)


def model_of(view: ChainView) -> ChannelManagerModel:
    """A reference model holding the chain's stored data for the channels and threads read."""
    model = ChannelManagerModel(
        str(view.hub),
        view.challenge_period,
        view.address,
        chain_id=view.chain_id,
        signatures=_ChainOracle(view.contract_signers),
    )
    model.eth_balance = view.eth_balance
    model.token_balance = view.token_balance
    model.total_channel_wei = view.total_channel_wei
    model.total_channel_token = view.total_channel_token
    # credits are not exposed as a total: they are what is neither reserve nor channel money
    model.total_credit_wei = max(view.eth_balance - view.total_channel_wei - view.reserve_wei, 0)
    model.total_credit_token = max(
        view.token_balance - view.total_channel_token - view.reserve_token, 0
    )
    for user, (balances, details) in view.channels.items():
        user = str(user)
        wei_hub, wei_user, wei_total, token_hub, token_user, token_total = (
            int(x) for x in balances
        )
        tx_global, tx_chain, root, count, initiator, closing, status = details
        role = Initiator.NONE
        if str(initiator) == str(view.hub):
            role = Initiator.HUB
        elif str(initiator) != ZERO_ADDRESS:
            role = Initiator.USER
        model.channels[user] = Channel(
            wei_hub,
            wei_user,
            token_hub,
            token_user,
            wei_total,
            token_total,
            int(tx_global),
            int(tx_chain),
            int(closing),
            int(count),
            Status(int(status)),
            role,
            bytes(root) if not isinstance(root, str) else bytes.fromhex(root.removeprefix("0x")),
        )
    for key, (wei, token, tx_count, closing, emptied) in view.threads.items():
        model.threads[key] = Thread(
            int(wei[0]),
            int(token[0]),
            int(wei[1]),
            int(token[1]),
            int(tx_count),
            int(closing),
            bool(emptied[0]),
            bool(emptied[1]),
        )
    return model


# Why the contract would refuse, in words an operator can act on.
EXPLAIN = {
    "StaleTxCount": "the contract already holds a state at least this new; submit a newer one",
    "StaleOnchainTxCount": "txCount[1] is below the stored onchain count",
    "PendingAlreadyExecuted": "these pending updates were executed already (txCount[1] not raised)",
    "TimeSensitiveState": "a state with a timeout cannot be used in a dispute",
    "ChallengeWindowOpen": "the challenge window is still open; wait until it closes",
    "NukeTooEarly": "threads can be nuked only 10 challenge periods after the channel's closing time",
    "WrongChannelStatus": "the channel is not in the status this action needs",
    "CallerIsExitInitiator": "the party that started the dispute cannot answer it",
    "InsufficientReserve": "the hub reserve is too small: fund it first (scripts/hub.py fund)",
    "InsufficientChannelFunds": "the channel cannot fund these balances and withdrawals",
    "BalancesExceedTotal": "the balances exceed what the channel holds",
    "InvalidHubSignature": "the hub's signature does not verify",
    "InvalidUserSignature": "the user's signature does not verify",
    "InvalidThreadSignature": "the sender's signature does not verify",
    "NotHub": "only the hub may do this: use the hub's account",
    "NotHubOrUser": "only the hub or the channel's user may do this",
    "NotUser": "only the channel's user may submit a user-authorized update",
    "NotThreadParty": "only the hub, the sender or the receiver may challenge a thread",
    "ThreadNotInRoot": "the initial thread state is not in the channel's thread root (wrong proof?)",
    "ThreadNotDisputed": "the thread is not in dispute",
    "ThreadAlreadyDisputed": "the thread was disputed before and cannot be again",
    "ThreadStateNotNewer": "the state raises no receiver balance above what the contract holds",
    "ThreadMismatch": "the thread state is not the disputed thread's (other parties, id or sums)",
    "ThreadSideAlreadyEmptied": "this side of the thread was settled already",
    "ThreadSumsChanged": "the thread state changes the thread's sums",
    "NothingToClaim": "the account has no credit to claim",
    "InvalidUser": "the user is the zero address, the hub or the contract",
}


# Errors whose arguments are amounts: shown in units of 10^18 (ETH, and Dai-like tokens), not wei.
AMOUNT_ARGS = {
    "InsufficientReserve": ("requested", "reserve"),
    "InsufficientChannelFunds": ("required", "available"),
    "BalancesExceedTotal": ("hub", "user", "total"),
    "WrongDepositValue": ("sent", "expected"),
    "TokenTransferShortfall": ("expected", "received"),
    "ValueTooLarge": ("value",),
}


def units(amount: int, decimals: int = 18) -> str:
    """An amount of base units in whole units (`1.5`), never a wall of digits."""
    amount = int(amount)
    whole, frac = divmod(amount, 10**decimals)
    if whole >= 10**15:  # beyond any real supply: the magnitude is what matters
        return f"{amount / 10**decimals:.3e}"
    text = f"{whole:,}"
    if frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return text


def explain(error: E.ChannelError) -> str:
    if error.name in ("ChallengeWindowClosed", "StateExpired") and len(error.args) == 2:
        deadline, now = (int(a) for a in error.args)
        what = (
            "the challenge window closed"
            if error.name == "ChallengeWindowClosed"
            else "the state expired"
        )
        return f"{error.revert_text()} (deadline already passed: {what} at {deadline}, {now - deadline} s before now)"
    text = error.revert_text()
    names = AMOUNT_ARGS.get(error.name)
    if names and len(names) == len(error.args):
        shown = ", ".join(f"{n} {units(a)}" for n, a in zip(names, error.args))
        text = f"{error.name}: {shown} (in units of 10^18 base units)"
    hint = EXPLAIN.get(error.name)
    return f"{text} ({hint})" if hint else text


def preflight(
    model: ChannelManagerModel, method: str, caller: str, now: int, *args: Any, **kw: Any
) -> None:
    """Run the model's twin of the contract call; a broken rule becomes a one-line OpsError."""
    try:
        getattr(model, method)(caller, now, *args, **kw)
    except E.ChannelError as exc:
        raise OpsError(f"refused before sending: {explain(exc)}") from None


# ------------------------------------------------------------------ deployment records


def record_is_current(
    record: Mapping[str, Any], block_hash_at_record: str | None, code: bytes
) -> bool:
    """A record still describes this chain when the block it names has the recorded hash (the
    chain was not reset) and the address holds code."""
    recorded = str(record.get("block_hash", "")).lower()
    return (
        bool(code) and block_hash_at_record is not None and block_hash_at_record.lower() == recorded
    )
