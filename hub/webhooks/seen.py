"""Deliveries accepted lately, so that one sent again is recognised as a replay.

A delivery is known by digests of what its signature covers (the body, and
HubSpot's signed timestamp) and, where the product sends one, its delivery
id; a header the signature does not cover can be changed by whoever replays
the delivery, so the body digest is what really decides. Entries live twice
the freshness window (a delivery dated up to one window ahead stays
acceptable for two), after which the time check refuses the delivery anyway.

The digests are kept in the state store, not in the process: a delivery
accepted before a restart is still a replay after it, and of several ``hub
serve`` processes on one store only one accepts a delivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handoff_hub.hub.store import StateStore

__all__ = ["SeenDeliveries", "digest"]


def digest(*parts: bytes) -> str:
    """A SHA-256 digest of ``parts`` (length-prefixed, so parts cannot run into each other)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


class SeenDeliveries:
    """Accepted delivery digests in ``store``, each remembered for ``ttl`` seconds."""

    def __init__(self, store: StateStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl

    def claim(self, keys: Iterable[str], now: float) -> bool:
        """Remember ``keys`` and return True, unless one of them was seen (then False)."""
        at = dt.datetime.fromtimestamp(now, dt.UTC)
        forget_before = at - dt.timedelta(seconds=self.ttl)
        return self.store.claim_deliveries(list(keys), at=at, forget_before=forget_before)

    def release(self, keys: Iterable[str]) -> None:
        """Forget ``keys``: the delivery was not accepted after all, so its retry must be."""
        self.store.release_deliveries(list(keys))
