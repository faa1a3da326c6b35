"""How the operator tools print amounts, times and failures: short, readable, one line."""

from __future__ import annotations

import time


def fmt_units(amount: int, decimals: int = 18) -> str:
    """An amount of base units in whole units (`1.5`), never a wall of digits."""
    amount = int(amount)
    whole, frac = divmod(amount, 10**decimals)
    if whole >= 10**15:  # beyond any real supply: the magnitude is what matters
        return f"{amount / 10**decimals:.3e}"
    text = f"{whole:,}"
    if frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return text


def fmt_time(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(timestamp)))


def fmt_duration(seconds: int) -> str:
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours or days else []
    parts += [f"{minutes}m", f"{secs}s"]
    return sign + " ".join(parts)


def short(exc: BaseException, limit: int = 160) -> str:
    """An exception as one short line (node errors can carry whole bytecodes)."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"
