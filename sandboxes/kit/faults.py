"""Injected faults, and a fixed-window rate limiter.

Faults: 429 with Retry-After, 5xx, timeouts, connections dropped before or
after the product acted.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from handoff_hub.sandboxes.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from handoff_hub.sandboxes.kit.journal import Call, CallJournal

__all__ = [
    "FAULT_KINDS",
    "FaultMiddleware",
    "Faults",
    "SandboxFault",
    "WindowLimiter",
    "find_fault",
]

FAULT_KINDS = ("429", "500", "502", "503", "timeout", "drop", "drop_after")


class SandboxFault(Exception):  # it is the fault, injected on purpose
    """Raised inside the app to cut a connection, as a dropped link would."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        self.timed_out = timed_out
        super().__init__(message)


@dataclass
class Faults:
    """Which faults to inject and how often.

    ``rate`` is the share of requests that get a fault, drawn from ``kinds``
    with a seeded generator so a failing run can be replayed; ``limit`` caps
    how many are injected in all (``injected`` counts them). ``drop_after``
    lets the product act on the request and then cuts the connection, which is
    how a create can succeed while the client sees a failure.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "503")
    seed: int = 0
    retry_after: float = 0.0
    latency: float = 0.0
    timeout_seconds: float = 0.05
    only_paths: tuple[str, ...] = ()
    limit: int | None = None
    injected: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if self.rate > 0 and not self.kinds:
            raise ValueError(f"a fault rate needs at least one kind; known: {FAULT_KINDS}")
        self._rng = random.Random(self.seed)

    def draw(self, path: str) -> str | None:
        """Pick the fault for one request, or None."""
        if self.rate <= 0 or (self.only_paths and not path.startswith(self.only_paths)):
            return None
        with self._lock:
            if self.limit is not None and self.injected >= self.limit:
                return None
            if self._rng.random() >= self.rate:
                return None
            self.injected += 1
            return self._rng.choice(self.kinds)


class WindowLimiter:
    """A fixed-window request limit, as products enforce and report it."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if window_seconds <= 0:
            raise ValueError("a rate-limit window must be positive")
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._start = clock()
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """Count a request; return (allowed, remaining, seconds until the window resets)."""
        with self._lock:
            now = self._clock()
            if now - self._start >= self.window:
                self._start, self._used = now, 0
            reset = self.window - (now - self._start)
            if self._used >= self.limit:
                return False, 0, reset
            self._used += 1
            return True, self.limit - self._used, reset


class FaultMiddleware:
    """ASGI middleware that injects faults and journals every call."""

    def __init__(self, app: ASGIApp, *, faults: Faults, journal: CallJournal) -> None:
        self.app = app
        self.faults = faults
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Inject the drawn fault, or pass the request through and record its status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        fault = self.faults.draw(path)
        if fault in {"429", "500", "502", "503"}:
            self.journal.add(Call(method, path, int(str(fault)), fault))
            await _send_fault(send, int(str(fault)), self.faults.retry_after)
            return
        if fault == "timeout":
            self.journal.add(Call(method, path, 0, fault))
            await asyncio.sleep(self.faults.timeout_seconds)
            raise SandboxFault("sandbox: request timed out", timed_out=True)
        if fault == "drop":
            self.journal.add(Call(method, path, 0, fault))
            await _start_unfinished_response(send)
            raise SandboxFault("sandbox: connection dropped before the request was handled")
        status: list[int] = [0]
        recorded = [False]

        def record() -> None:
            if not recorded[0]:
                recorded[0] = True
                self.journal.add(Call(method, path, status[0], fault))

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            elif fault == "drop_after":
                raise SandboxFault("sandbox: connection dropped after the request was handled")
            elif not message.get("more_body", False):
                record()  # before the client can have the whole answer: a journal read then sees it
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            record()


async def _start_unfinished_response(send: Send) -> None:
    """Promise a body that never comes.

    An app that raises before it starts a response gets a clean 500 from a real
    server (uvicorn); one that raises after the start makes the server close the
    connection mid-response, which the client sees as a dropped connection.
    """
    headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})


async def _send_fault(send: Send, status: int, retry_after: float) -> None:
    headers = [(b"content-type", b"application/json")]
    if status in {429, 503}:
        headers.append((b"retry-after", f"{retry_after:g}".encode()))
    body = b'{"message": "sandbox fault injected"}'
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def find_fault(exc: BaseException) -> SandboxFault | None:
    """The injected fault behind ``exc``, even when a framework wrapped or grouped it."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, SandboxFault):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None
