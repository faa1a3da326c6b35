"""Operator input read from the environment and the command line: yes/no flags, addresses,
amounts, whole numbers and challenge periods, each checked into a plain value or refused with a
one-line `OpsError`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from eth_utils.address import is_hex_address, to_checksum_address

from channel_manager.aliases import MAX_CHALLENGE_PERIOD, ZERO_ADDRESS
from channel_manager.ops import OpsError

HOUR = 3600
# The contract accepts 1 s .. 365 days (SPEC §2). On public networks the scripts also refuse
# anything under an hour: a shorter window cannot be relied on to get an answer mined in time
# (congestion, a watchtower restart), and a deployment cannot change it later.
MIN_PUBLIC_CHALLENGE_PERIOD = HOUR
MIN_CHALLENGE_PERIOD = 1

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
    if str(address) == ZERO_ADDRESS:
        raise OpsError(f"{what} is the zero address")
    return address


def parse_amount(value: Any, what: str) -> int:
    """A non-negative integer amount: `123` (base units), `1.5ether`, `2 gwei`, `10e18`."""
    text = str(value).strip().lower().replace("_", "")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(?:e(\d+))?\s*(ether|gwei|wei)?", text)
    if not match:
        raise OpsError(f"{what} {clip(value)} is not an amount (e.g. 1000, 1.5ether, 10e18)")
    number, exponent, unit = match.groups()
    scale = {"ether": 18, "gwei": 9, "wei": 0, None: 0}[unit] + int(exponent or 0)
    whole, _, fraction = number.partition(".")
    if len(fraction) > scale:
        raise OpsError(f"{what} {clip(value)} has more decimals than base units")
    if len(whole.lstrip("0")) + scale > 80:  # far above 2^256 (78 digits): do not build it
        raise OpsError(f"{what} {clip(value)} is above the largest amount, 2^256 - 1 base units")
    amount = int(whole + fraction.ljust(scale, "0"))
    if amount > MAX_UINT256:
        raise OpsError(f"{what} {clip(value)} is above the largest amount, 2^256 - 1 base units")
    return amount


def clip(value: Any, limit: int = 40) -> str:
    """User input quoted for a message, cut short (a 400-digit number is not worth echoing)."""
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "…'"


def parse_whole(value: Any, what: str, low: int) -> int:
    """A whole number of at least `low`."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise OpsError(f"{what} {clip(value)} is not a whole number") from None
    if number < low:
        raise OpsError(f"{what} {number} is below {low}")
    return number
