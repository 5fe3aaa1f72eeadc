"""Helpers shared by the HubSpot tests (imported by name; not a test module)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from handoff_hub.hub.http import RetryPolicy

BASE_URL = "https://api.hubapi.com"
SYSTEM = "crm"
NO_WAIT = RetryPolicy(max_attempts=6, sleep=lambda _seconds: None)
START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


class ManualClock:
    """A clock that moves only when told to (sandbox stamps, tokens, rate windows)."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        """A retry policy's sleep: record the wait and let the time pass."""
        self.slept.append(seconds)
        self.advance(seconds)


class RecordingTransport(httpx.BaseTransport):
    """Passes requests on and remembers them (URL, headers, body) for assertions."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def bodies(self, path_end: str) -> list[Any]:
        """JSON bodies of the requests whose path ends with ``path_end``."""
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith(path_end)]


def calls(sandbox: Any, path_part: str, method: str | None = None) -> int:
    """Number of journalled calls whose path contains ``path_part``."""
    return sum(
        1
        for c in sandbox.journal.calls
        if path_part in c.path and (method is None or c.method == method)
    )
