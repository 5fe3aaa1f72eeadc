"""Deliveries accepted lately, so that one sent again is recognised as a replay.

A delivery is known by digests of what its signature covers (the body, and
HubSpot's signed timestamp) and, where the product sends one, its delivery
id; a header the signature does not cover can be changed by whoever replays
the delivery, so the body digest is what really decides. Entries live twice
the freshness window (a delivery dated up to one window ahead stays
acceptable for two), after which the time check refuses the delivery anyway.
The store is bounded: past ``max_entries`` the oldest are forgotten first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable

__all__ = ["SeenDeliveries", "digest"]


def digest(*parts: bytes) -> str:
    """A SHA-256 digest of ``parts`` (length-prefixed, so parts cannot run into each other)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


class SeenDeliveries:
    """A bounded, thread-safe memory of accepted delivery keys, each for ``ttl`` seconds."""

    def __init__(self, ttl: float, *, max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._until: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, keys: Iterable[str], now: float) -> bool:
        """Remember ``keys`` and return True, unless one of them was seen (then False)."""
        wanted = list(dict.fromkeys(keys))
        with self._lock:
            self._expire(now)
            if any(k in self._until for k in wanted):
                return False
            for key in wanted:
                self._until[key] = now + self.ttl
            while len(self._until) > self.max_entries:
                self._until.popitem(last=False)
            return True

    def release(self, keys: Iterable[str]) -> None:
        """Forget ``keys``: the delivery was not accepted after all, so its retry must be."""
        with self._lock:
            for key in keys:
                self._until.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._until)

    def _expire(self, now: float) -> None:
        # Entries are added with a constant ttl, so the oldest expire first.
        while self._until:
            key, until = next(iter(self._until.items()))
            if until > now:
                return
            del self._until[key]
