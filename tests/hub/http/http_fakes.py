"""Fakes for the HTTP toolkit tests: a strict MockTransport router and a fake clock.

``FakeApi`` answers each registered ``(method, path)`` with its queued
responses in order. A request nobody registered fails the test at once, and
:meth:`FakeApi.verify` fails it when a registered response was never requested
(Airbyte's ``HttpMocker._validate_all_matchers_called``): a fault test whose
fault was never served proves nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

Responder = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]

BASE_URL = "https://api.example.test"


class FakeApi:
    """A MockTransport handler with queued, must-be-used responses."""

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], deque[Responder]] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *responses: Responder) -> FakeApi:
        """Queue ``responses`` for ``method path``; each one answers exactly one request."""
        self._queues.setdefault((method.upper(), path), deque()).extend(responses)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path)
        self.requests.append(request)
        queue = self._queues.get(key)
        if not queue:
            raise AssertionError(f"unexpected request {key[0]} {request.url}")
        item = queue.popleft()
        if isinstance(item, Exception):
            raise item
        if callable(item):
            return item(request)
        return item

    def pending(self) -> list[str]:
        """Registered responses that no request has taken yet."""
        return [f"{m} {p} x{len(q)}" for (m, p), q in self._queues.items() if q]

    def verify(self) -> None:
        """Fail when a registered response went unrequested."""
        left = self.pending()
        assert not left, f"registered responses never requested: {left}"

    def transport(self) -> httpx.MockTransport:
        """A transport that routes every request through this fake."""
        return httpx.MockTransport(self)

    def count(self, method: str, path: str) -> int:
        """Requests received for ``method path``."""
        return sum(1 for r in self.requests if (r.method, r.url.path) == (method, path))


def json_response(status: int, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON response; keyword headers use ``_`` for ``-`` (``Retry_After``)."""
    return httpx.Response(
        status,
        json=body if body is not None else {},
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or we advance it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance time instead of waiting."""
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Let time pass outside the code under test."""
        self.now += seconds
