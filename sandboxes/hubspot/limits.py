"""The sandbox's rate limits and HubSpot's rate-limit headers and 429 bodies.

Private apps get a daily allowance, a ten-second rolling burst limit
(``X-HubSpot-RateLimit-Max`` per ``-Interval-Milliseconds``) and a secondly
limit, reported on every response; search has its own, lower, per-second
limit and its answers carry none of those headers. A refusal is 429 with
``{"status": "error", "message": "You have reached your secondly limit.",
"errorType": "RATE_LIMIT", "correlationId", "policyName": "SECONDLY"}``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.sandboxes.kit import WindowLimiter

__all__ = ["RateLimits", "Throttle", "Verdict"]


@dataclass(frozen=True)
class RateLimits:
    """A portal's published limits (Professional tier, private app, by default)."""

    per_interval: int = 190
    interval_seconds: float = 10.0
    secondly: int = 19
    daily: int = 500_000
    search_per_second: int = 5

    @classmethod
    def generous(cls) -> RateLimits:
        """Limits no test reaches: headers are still sent, 429s never come."""
        return cls(per_interval=10**9, secondly=10**9, daily=10**9, search_per_second=10**9)


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on, the headers to send, and a refusal's body."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    policy: str | None = None
    retry_after: float = 0.0

    def refusal(self, correlation_id: str) -> dict[str, Any]:
        """HubSpot's 429 body for the policy that refused the request."""
        name = {"TEN_SECONDLY_ROLLING": "ten_secondly_rolling"}.get(
            str(self.policy), str(self.policy).lower()
        )
        return {
            "status": "error",
            "message": f"You have reached your {name} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": self.policy,
        }


class Throttle:
    """Counts requests against the limits of one portal."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.daily = WindowLimiter(limits.daily, 86_400.0, clock)
        self.interval = WindowLimiter(limits.per_interval, limits.interval_seconds, clock)
        self.secondly = WindowLimiter(limits.secondly, 1.0, clock)
        self.search = WindowLimiter(limits.search_per_second, 1.0, clock)
        self.used_today = 0
        self._lock = threading.Lock()

    def take(self, *, search: bool = False) -> Verdict:
        """Count one request; search answers carry no rate-limit headers."""
        with self._lock:  # several transports (event loops) may share one sandbox
            return self._take(search)

    def _take(self, search: bool) -> Verdict:
        ok, daily_left, daily_reset = self.daily.take()
        if ok:
            self.used_today += 1
        if search:
            if not ok:
                return Verdict(False, {}, "DAILY", daily_reset)
            allowed, _, reset = self.search.take()
            return Verdict(allowed, {}, None if allowed else "SECONDLY", reset)
        interval_ok, interval_left, interval_reset = self.interval.take()
        second_ok, second_left, second_reset = self.secondly.take()
        headers = self._headers(daily_left, interval_left, second_left)
        if not ok:
            return Verdict(False, headers, "DAILY", daily_reset)
        if not interval_ok:
            return Verdict(False, headers, "TEN_SECONDLY_ROLLING", interval_reset)
        if not second_ok:
            return Verdict(False, headers, "SECONDLY", second_reset)
        return Verdict(True, headers)

    def _headers(self, daily: int, interval: int, secondly: int) -> dict[str, str]:
        limits = self.limits
        return {
            "X-HubSpot-RateLimit-Daily": str(limits.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(daily),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(limits.interval_seconds * 1000)),
            "X-HubSpot-RateLimit-Max": str(limits.per_interval),
            "X-HubSpot-RateLimit-Remaining": str(interval),
            "X-HubSpot-RateLimit-Secondly": str(limits.secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(secondly),
        }


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))
