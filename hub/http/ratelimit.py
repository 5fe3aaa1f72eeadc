"""Client-side rate limiting: stay under a product's published limits.

A token bucket refills at ``rate`` requests per second up to ``burst``; each
request takes a token and waits when none is left. When the product reports
its own remaining budget (e.g. ``X-RateLimit-Remaining``) :meth:`observe` drains
the bucket so the client pauses before the product has to refuse it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Thread-safe token bucket."""

    def __init__(
        self,
        *,
        requests: int,
        per_seconds: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests <= 0 or per_seconds <= 0:
            raise ValueError("a rate limit needs positive requests and period")
        if burst is not None and burst <= 0:
            raise ValueError("a burst must be positive")
        self.rate = requests / per_seconds
        self.capacity = float(burst if burst is not None else requests)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def acquire(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens, sleeping until they are there; return the seconds waited.

        The tokens are reserved at once (the balance may go below zero) and the
        caller sleeps off the debt: one computed sleep instead of a polling
        loop that float rounding could keep spinning, and callers on several
        threads are served in the order they asked.
        """
        with self._lock:
            self._refill()
            self._tokens -= cost
            wait = max(0.0, -self._tokens / self.rate)
            self.waited_seconds += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def release(self) -> None:
        """Give back what this bucket holds and will not spend: nothing, for a local one."""

    def observe(self, *, remaining: int | None, reset_seconds: float | None = None) -> None:
        """Lower the bucket to what the product says is left in its window.

        With nothing left and a reset time, the next request waits until the
        product's window resets (and not a token's refill time longer).
        """
        if remaining is None:
            return
        reset = max(0.0, reset_seconds or 0.0)  # a reset in the past (clock skew) is now
        with self._lock:
            self._refill()
            if remaining <= 0 and reset:
                self._tokens = min(self._tokens, 1.0 - reset * self.rate)
            else:
                self._tokens = min(self._tokens, float(max(remaining, 0)))
