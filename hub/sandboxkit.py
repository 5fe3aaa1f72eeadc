"""Building blocks shared by the product sandboxes (ASGI emulators).

What every emulated product has in common lives here: injected faults
(429 with Retry-After, 5xx, timeouts, connections dropped before or after the
product acted), a fixed-window rate limiter, and a journal of the calls made,
which tests and benchmarks read (e.g. "plan made zero write calls"). What is
product-specific (paths, payloads, error bodies, auth) stays in each
connector's ``sandbox.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from starlette.responses import JSONResponse

from hub.sandbox_profile import OrgProfile

__all__ = [
    "Call",
    "CallJournal",
    "FaultMiddleware",
    "Faults",
    "ProductJSONResponse",
    "Sandbox",
    "SandboxFault",
    "SyncASGITransport",
    "WindowLimiter",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FAULT_KINDS = ("429", "500", "502", "503", "timeout", "drop", "drop_after")


class ProductJSONResponse(JSONResponse):
    r"""Starlette's JSON response, which escapes text UTF-8 cannot carry.

    A record broken behind the API's back may hold an unpaired surrogate. JSON
    can carry it as a ``\uXXXX`` escape, so a product may well send it that
    way rather than fail the whole page; the sandboxes do the same, where
    Starlette's own render would raise.
    """

    def render(self, content: Any) -> bytes:
        """UTF-8 JSON as Starlette writes it, else ASCII JSON with escapes."""
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(
                content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
            ).encode("ascii")


class Sandbox(Protocol):
    """What the CLI, the demo and the tests need from a product sandbox.

    Each connector package registers its sandbox class under the
    ``handoff_hub.sandboxes`` entry-point group. The class is built as
    ``Sandbox(seed=0, records=50, faults=None, profile=None)`` and seeds
    realistic data; ``profile`` (see :mod:`hub.sandbox_profile`) chooses the
    org it plays, and its class is the sandbox's ``profile_class``.
    """

    name: str
    journal: CallJournal
    faults: Faults

    @property
    def profile(self) -> OrgProfile:
        """The org this sandbox plays (see :mod:`hub.sandbox_profile`)."""
        ...

    @property
    def app(self) -> ASGIApp:
        """The ASGI app, wrapped in :class:`FaultMiddleware`."""
        ...

    @property
    def credentials(self) -> dict[str, str]:
        """Credential setting name -> value this sandbox accepts (for the demo's env vars)."""
        ...

    @property
    def settings(self) -> dict[str, Any]:
        """Connector settings that fit the seeded data (e.g. Jira project key)."""
        ...

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport to the app, for a connector's ``transport=``."""
        ...


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
        self._rng = random.Random(self.seed)  # noqa: S311 - replayable faults, not secrets

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


@dataclass(frozen=True)
class Call:
    """One request the sandbox received."""

    method: str
    path: str
    status: int
    fault: str | None = None
    in_batch: bool = False
    """An action carried by a batch request (journaled on its own; not an HTTP request)."""


class CallJournal:
    """Thread-safe list of calls, with counts by kind."""

    _WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, read_only_posts: Sequence[str] = ()) -> None:
        """Start empty.

        Args:
            read_only_posts: Regular expressions of the paths the product POSTs
                to only read (searches, batch reads, tokens); :meth:`writes`
                leaves them out.
        """
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._reads = [re.compile(p) for p in read_only_posts]

    def add(self, call: Call) -> None:
        """Record a call."""
        with self._lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[Call]:
        """A copy of every call so far."""
        with self._lock:
            return list(self._calls)

    def count(self, *, method: str | None = None, path_prefix: str = "") -> int:
        """Number of calls matching a method and path prefix."""
        return sum(
            1
            for c in self.calls
            if (method is None or c.method == method) and c.path.startswith(path_prefix)
        )

    def writes(self, *, read_paths: tuple[str, ...] = ()) -> list[Call]:
        """Calls that change data: write methods, less POSTs that only read.

        The sandbox's own ``read_only_posts`` are left out, and so are paths
        starting with one of ``read_paths``.
        """
        return [
            c
            for c in self.calls
            if c.method in self._WRITE_METHODS
            and not any(c.path.startswith(p) for p in read_paths)
            and not (c.method == "POST" and any(r.fullmatch(c.path) for r in self._reads))
        ]

    def requests(self) -> list[Call]:
        """The HTTP requests received (batch actions are inside one of them)."""
        return [c for c in self.calls if not c.in_batch]

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()


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

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            elif fault == "drop_after":
                raise SandboxFault("sandbox: connection dropped after the request was handled")
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.journal.add(Call(method, path, status[0], fault))


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


class SyncASGITransport(httpx.BaseTransport):
    """Run an ASGI app in-process behind a synchronous ``httpx.Client``.

    httpx's own ``ASGITransport`` is async-only; the connectors are sync. This
    transport runs the app on a private event loop thread and turns the
    sandbox's injected connection faults into the httpx exceptions a real
    network would raise (``ReadTimeout``, ``RemoteProtocolError``).
    """

    def __init__(self, app: ASGIApp, *, timeout: float = 60.0) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request to the app and wait for its complete response."""
        copy = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.read()
        )
        future = asyncio.run_coroutine_threadsafe(self._call(copy), self._loop)
        try:
            status, headers, body = future.result(self._timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()  # do not leave the app running on the loop
            raise httpx.ReadTimeout("sandbox did not answer", request=request) from exc
        except Exception as exc:
            fault = _find_fault(exc)
            if fault is None:
                raise
            if fault.timed_out:
                raise httpx.ReadTimeout(str(fault), request=request) from exc
            raise httpx.RemoteProtocolError(str(fault), request=request) from exc
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _call(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        response = await self._inner.handle_async_request(request)
        # The raw bytes: the headers still say how they are encoded (gzip), so
        # the caller's client decodes them once, as it would off the network.
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, response.headers, body

    def close(self) -> None:
        """Keep the loop: one transport may serve several clients in turn."""

    def shutdown(self) -> None:
        """Stop the private event loop for good, cancelling requests still in the app."""
        if self._loop.is_closed():
            return
        # An app that ignores cancellation must not keep the loop alive.
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(_cancel_pending(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


async def _cancel_pending() -> None:
    """Cancel every other task on the running loop and wait until they have finished."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _find_fault(exc: BaseException) -> SandboxFault | None:
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
