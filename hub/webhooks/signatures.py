"""What every product's webhook signature check is made of: an HMAC, compared safely, and a time.

Every function is pure. A reason returned never holds a secret or a
signature, so it may be logged and answered. The products' own schemes live
with their connectors (``webhooks.py`` in each connector package).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Any

__all__ = [
    "HEX_SHA256",
    "check_freshness",
    "hmac_sha256",
    "parse_event_time",
    "same_signature",
]

HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
"""A hex SHA-256 digest, as several products send their signature."""


def hmac_sha256(secret: str, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` with ``secret`` (UTF-8)."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def same_signature(expected: str, given: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time (``given`` may be any text)."""
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


def check_freshness(sent_at: float | None, now: float, window: float) -> str | None:
    """None when ``sent_at`` (epoch seconds) is within ``window`` of ``now``, either side.

    The future side tolerates the sender's clock running ahead by as much.
    """
    if sent_at is None:
        return "the delivery carries no time"
    if now - sent_at > window:
        return f"the delivery is older than {window:g} s"
    if sent_at - now > window:
        return f"the delivery is dated more than {window:g} s ahead"
    return None


def parse_event_time(value: Any) -> float | None:
    """Epoch seconds from ms since the epoch (Jira, HubSpot) or ISO 8601 (Asana); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return int(text) / 1000
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.timestamp()
    return None
