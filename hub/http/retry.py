"""The one retry layer for HTTP transients.

:func:`classify` maps a response or exception to an :class:`Action` through a
single table, with a message an admin can act on. :class:`RetryPolicy` builds a
``tenacity.Retrying`` that retries only ``RETRY`` outcomes and waits as long as
the product's ``Retry-After`` asks (else exponential backoff with jitter).

Requests that are not idempotent (a create) are retried only when the product
cannot have acted on them: 429, 503, or a connection that never opened. A read
timeout on a create is left to the engine, which looks for the stamped id
before it creates again.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import httpx
import tenacity

__all__ = [
    "Action",
    "RetryPolicy",
    "RetryableOutcome",
    "classify",
    "is_safe_to_repeat",
    "message_for",
    "retry_after_seconds",
]


class Action(StrEnum):
    """What the request loop does with an outcome."""

    OK = "ok"
    RETRY = "retry"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"


_STATUS_TABLE: dict[int, tuple[Action, str]] = {
    400: (Action.REJECTED, "the product rejected the request"),
    401: (Action.AUTH, "credentials were rejected (expired or wrong)"),
    403: (Action.AUTH, "the credentials lack permission for this call"),
    404: (Action.NOT_FOUND, "the record or endpoint does not exist"),
    408: (Action.RETRY, "the product timed out the request"),
    409: (Action.REJECTED, "the record changed or conflicts with another"),
    422: (Action.REJECTED, "the product refused the record's values"),
    429: (Action.RETRY, "rate limited; waiting as the product asks"),
    500: (Action.RETRY, "the product had an internal error"),
    502: (Action.RETRY, "bad gateway in front of the product"),
    503: (Action.RETRY, "the product is unavailable"),
    504: (Action.RETRY, "gateway timeout in front of the product"),
}
_SAFE_TO_REPEAT_STATUS = frozenset({429, 503})
# First match wins, so subclasses come before their bases. Errors the client
# itself causes (a URL without http(s), an invalid header) fail the same way
# every time and are not retried.
_EXCEPTION_TABLE: tuple[tuple[type[BaseException], Action, str], ...] = (
    (httpx.UnsupportedProtocol, Action.REJECTED, "the URL is not http or https"),
    (httpx.LocalProtocolError, Action.REJECTED, "the request could not be sent as HTTP"),
    (httpx.ConnectError, Action.RETRY, "could not connect"),
    (httpx.ConnectTimeout, Action.RETRY, "connection timed out"),
    (httpx.PoolTimeout, Action.RETRY, "no free connection in the pool"),
    (httpx.TimeoutException, Action.RETRY, "the response timed out"),
    (httpx.RemoteProtocolError, Action.RETRY, "the connection dropped mid-response"),
    (httpx.TransportError, Action.RETRY, "network error"),
)
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def classify(outcome: httpx.Response | BaseException) -> Action:
    """Decide what to do with a response or a transport exception."""
    if isinstance(outcome, BaseException):
        for exc_type, action, _ in _EXCEPTION_TABLE:
            if isinstance(outcome, exc_type):
                return action
        return Action.REJECTED
    if outcome.status_code < 400:
        return Action.OK
    if outcome.status_code in _STATUS_TABLE:
        return _STATUS_TABLE[outcome.status_code][0]
    return Action.RETRY if outcome.status_code >= 500 else Action.REJECTED


def message_for(outcome: httpx.Response | BaseException) -> str:
    """Admin-readable text for an outcome (never includes request headers)."""
    if isinstance(outcome, BaseException):
        for exc_type, _, text in _EXCEPTION_TABLE:
            if isinstance(outcome, exc_type):
                return text
        return type(outcome).__name__
    entry = _STATUS_TABLE.get(outcome.status_code)
    return entry[1] if entry else f"HTTP {outcome.status_code}"


def is_safe_to_repeat(outcome: httpx.Response | BaseException, *, idempotent: bool) -> bool:
    """True when sending the request again cannot double an effect."""
    if idempotent:
        return classify(outcome) is Action.RETRY
    if isinstance(outcome, BaseException):
        return isinstance(outcome, _NEVER_SENT)
    return outcome.status_code in _SAFE_TO_REPEAT_STATUS


def retry_after_seconds(
    response: httpx.Response, *, now: dt.datetime | None = None
) -> float | None:
    """Seconds the product asked us to wait (``Retry-After`` as seconds or HTTP date).

    None when there is no header or it cannot be read (``inf``, ``nan``, junk).
    """
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class RetryableOutcome(Exception):  # a signal to tenacity, not an error
    """Raised inside a retry attempt to ask tenacity for another one."""

    def __init__(self, outcome: httpx.Response | BaseException) -> None:
        self.outcome = outcome
        super().__init__(message_for(outcome))


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry transient failures."""

    max_attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    """Draws in [0, 1); the backoff is scaled by ``0.5 + jitter() / 2``."""

    def wait_seconds(self, state: tenacity.RetryCallState) -> float:
        """Retry-After when the product sent one, else capped exponential backoff with jitter."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableOutcome) and isinstance(exc.outcome, httpx.Response):
            asked = retry_after_seconds(exc.outcome)
            if asked is not None:
                return float(min(asked, self.max_wait))
        # The exponent is capped so that a long policy cannot overflow a float.
        backoff = self.initial_wait * 2.0 ** min(state.attempt_number - 1, 60)
        return min(self.max_wait, backoff) * (0.5 + self.jitter() / 2)

    def retrying(self) -> tenacity.Retrying:
        """A tenacity controller that retries :class:`RetryableOutcome` only."""
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.max_attempts)),
            wait=self.wait_seconds,
            retry=tenacity.retry_if_exception_type(RetryableOutcome),
            sleep=self.sleep,
            reraise=True,
        )
