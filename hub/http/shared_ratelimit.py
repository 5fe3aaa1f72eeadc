"""A rate budget shared by every process of one hub, kept in its store.

A :class:`~handoff_hub.hub.http.ratelimit.TokenBucket` paces one process: N
workers running shards of one CRM each pace to the vendor's whole limit, N
times what the vendor allows. :class:`SharedTokenBucket` takes its tokens
from a :class:`RateLedger` instead, one row per budget in the store that one
atomic statement refills and draws from. It reserves a few tokens at a time
(a grant), so there is one database round trip per few API calls, and spends
them locally, each at the moment the shared balance covered it: requests stay
evenly spaced as with the local bucket.

Tokens a process reserved and did not spend within :data:`HOLD_SECONDS` of
their time are dropped, so an idle worker's grant does not add to another's
burst later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from handoff_hub.hub.http.ratelimit import TokenBucket

__all__ = ["HOLD_SECONDS", "RateLedger", "SharedTokenBucket", "grant_size"]

HOLD_SECONDS = 1.0
GRANT_SECONDS = 0.25
"""A grant is about this many seconds of the rate (at least 1 token, at most 8)."""


class RateLedger(Protocol):
    """Budgets shared by processes: each refills at its rate up to its capacity."""

    def reserve(self, name: str, tokens: float, *, rate: float, capacity: float) -> float:
        """Take ``tokens`` from budget ``name``; return its balance just before the take.

        The balance may go below zero: the taker waits off the debt, ``-balance / rate``.
        """
        ...

    def lower(self, name: str, tokens: float, *, rate: float, capacity: float) -> None:
        """Lower budget ``name`` to at most ``tokens`` (the vendor says that little is left)."""
        ...


def grant_size(rate: float) -> int:
    """Tokens one reservation takes: a quarter second of ``rate``, 1 to 8.

    A grant may exceed the bucket's burst: its tokens are spent each at the
    time the shared balance covers it, so they stay evenly spaced.
    """
    return int(max(1, min(8, round(rate * GRANT_SECONDS))))


class SharedTokenBucket(TokenBucket):
    """A token bucket whose tokens come from a ledger that other processes draw from too."""

    def __init__(
        self,
        ledger: RateLedger,
        name: str,
        *,
        requests: int,
        per_seconds: float,
        burst: int | None = None,
        grant: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            requests=requests, per_seconds=per_seconds, burst=burst, clock=clock, sleep=sleep
        )
        self.ledger = ledger
        self.name = name
        self.grant = grant or grant_size(self.rate)
        self.reservations = 0
        """Round trips to the ledger so far."""
        self._granted_at = 0.0
        self._base = 0.0
        self._size = 0.0
        self._used = 0.0

    def acquire(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens from the shared budget, sleeping until they are covered."""
        with self._lock:
            ready = self._take(cost)
            wait = max(0.0, ready - self._clock())
            self.waited_seconds += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def _take(self, cost: float) -> float:
        """Spend ``cost`` tokens of the grant, reserving more as needed; when they are covered."""
        self._drop_stale(self._clock())
        ready = self._clock()
        need = cost
        while need > 0:
            if self._used >= self._size:
                self._reserve(max(need, self.grant))
            spent = min(need, self._size - self._used)
            self._used += spent
            need -= spent
            ready = max(ready, self._covered(self._used))
        return ready

    def _reserve(self, tokens: float) -> None:
        self._base = self.ledger.reserve(self.name, tokens, rate=self.rate, capacity=self.capacity)
        self._granted_at = self._clock()
        self._size, self._used = tokens, 0.0
        self.reservations += 1

    def _covered(self, used: float) -> float:
        """When the shared balance covered the grant's first ``used`` tokens."""
        return self._granted_at + max(0.0, (used - self._base) / self.rate)

    def _drop_stale(self, now: float) -> None:
        if self._used < self._size and now > self._covered(self._size) + HOLD_SECONDS:
            self._size = self._used

    def release(self) -> None:
        """Give the ledger back the granted tokens not spent here (this client is done).

        Without it a worker that finishes strands up to a grant that the
        others wait for, a quarter second of the rate at every worker's end.
        """
        with self._lock:
            unused = self._size - self._used
            self._size = self._used
        if unused > 0:
            self.ledger.reserve(self.name, -unused, rate=self.rate, capacity=self.capacity)

    def observe(self, *, remaining: int | None, reset_seconds: float | None = None) -> None:
        """Lower the shared budget when the product says less than a grant is left.

        More left changes nothing (the budget is at most its capacity, and
        usually in debt while workers wait on it), so only an almost spent
        vendor budget costs a round trip to the ledger. Tokens already
        granted here stay: the shared balance has counted them.
        """
        if remaining is None or remaining >= self.grant:
            return
        reset = max(0.0, reset_seconds or 0.0)
        tokens = 1.0 - reset * self.rate if remaining <= 0 and reset else float(max(remaining, 0))
        with self._lock:
            self.ledger.lower(self.name, tokens, rate=self.rate, capacity=self.capacity)
