"""Sandbox building blocks: seeded faults, the fault middleware, the sync ASGI transport."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from handoff_hub.hub.errors import TransientError
from handoff_hub.hub.http import ApiClient, RetryPolicy, build_client
from handoff_hub.sandboxes.kit import (
    FAULT_KINDS,
    Call,
    CallJournal,
    FaultMiddleware,
    Faults,
    SyncASGITransport,
    WindowLimiter,
)

# --- Faults ------------------------------------------------------------------------------------


def _draws(faults: Faults, n: int = 300, path: str = "/api/items") -> list[str | None]:
    return [faults.draw(path) for _ in range(n)]


def test_faults_are_deterministic_for_a_seed() -> None:
    kinds = FAULT_KINDS

    first = _draws(Faults(rate=0.4, kinds=kinds, seed=7))
    again = _draws(Faults(rate=0.4, kinds=kinds, seed=7))
    other = _draws(Faults(rate=0.4, kinds=kinds, seed=8))

    assert first == again
    assert first != other
    assert set(first) - {None} == set(kinds)  # every kind shows up over 300 draws


@pytest.mark.parametrize(
    ("rate", "low", "high"), [(0.0, 0, 0), (0.1, 100, 300), (0.5, 850, 1150), (1.0, 2000, 2000)]
)
def test_fault_rate_is_respected(rate: float, low: int, high: int) -> None:
    faults = Faults(rate=rate, seed=3)

    injected = sum(d is not None for d in _draws(faults, 2000))

    assert low <= injected <= high
    assert faults.injected == injected


def test_only_paths_limits_faults_to_those_prefixes() -> None:
    faults = Faults(rate=1.0, kinds=("500",), only_paths=("/services/data/v61.0/composite",))

    assert faults.draw("/services/data/v61.0/query") is None
    assert faults.draw("/oauth2/token") is None
    assert faults.draw("/services/data/v61.0/composite/sobjects") == "500"
    assert faults.injected == 1


def test_limit_caps_the_number_of_faults() -> None:
    faults = Faults(rate=1.0, kinds=("429",), limit=3)

    assert _draws(faults, 6) == ["429", "429", "429", None, None, None]
    assert faults.injected == 3


def test_unknown_fault_kind_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match="drop_after"):
        Faults(rate=0.5, kinds=("429", "teapot"))


def test_a_rate_without_kinds_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one kind"):
        Faults(rate=0.5, kinds=())
    assert Faults(rate=0.0, kinds=()).draw("/x") is None


# --- FaultMiddleware over SyncASGITransport ------------------------------------------------------


class _ItemsApp:
    """A tiny product: POST /items creates, GET /items lists, GET /boom is a bug."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.handled = 0
        self.lifespan_seen = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self.lifespan_seen = True
            return
        self.handled += 1
        if scope["path"] == "/boom":
            raise RuntimeError("a bug in the sandbox")
        status = 200
        body: dict[str, Any] = {"items": self.items}
        if scope["method"] == "POST":
            message = await receive()
            self.items.append(json.loads(message.get("body", b"{}")))
            status, body = 201, {"id": len(self.items)}
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


@pytest.fixture
def product() -> _ItemsApp:
    return _ItemsApp()


@pytest.fixture
def journal() -> CallJournal:
    return CallJournal()


@pytest.fixture
def sandbox(product: _ItemsApp, journal: CallJournal) -> Iterator[Any]:
    """Factory: the product (or ``app``) behind FaultMiddleware, as a sync transport."""
    transports: list[SyncASGITransport] = []

    def make(faults: Faults, app: Any = None) -> SyncASGITransport:
        transport = SyncASGITransport(
            FaultMiddleware(app or product, faults=faults, journal=journal)
        )
        transports.append(transport)
        return transport

    yield make
    for transport in transports:
        transport.shutdown()


@pytest.fixture
def serve(sandbox: Any) -> Any:
    """Factory: a plain httpx client on a sandbox transport."""

    def make(faults: Faults, app: Any = None) -> httpx.Client:
        return httpx.Client(base_url="http://sandbox.test", transport=sandbox(faults, app))

    return make


def test_no_fault_passes_through_and_journals_the_status(
    serve: Any, product: _ItemsApp, journal: CallJournal
) -> None:
    client = serve(Faults())

    assert client.post("/items", json={"name": "a"}).json() == {"id": 1}
    assert client.get("/items").json() == {"items": [{"name": "a"}]}

    assert journal.calls == [Call("POST", "/items", 201), Call("GET", "/items", 200)]
    assert product.handled == 2


def test_injected_429_carries_retry_after_and_skips_the_handler(
    serve: Any, product: _ItemsApp, journal: CallJournal
) -> None:
    client = serve(Faults(rate=1.0, kinds=("429",), retry_after=2.5))

    response = client.post("/items", json={"name": "a"})

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2.5"
    assert response.json() == {"message": "sandbox fault injected"}
    assert product.handled == 0 and product.items == []
    assert journal.calls == [Call("POST", "/items", 429, "429")]


@pytest.mark.parametrize(
    ("kind", "has_retry_after"), [("500", False), ("502", False), ("503", True)]
)
def test_injected_5xx(
    serve: Any, product: _ItemsApp, journal: CallJournal, kind: str, has_retry_after: bool
) -> None:
    client = serve(Faults(rate=1.0, kinds=(kind,), retry_after=1))

    response = client.get("/items")

    assert response.status_code == int(kind)
    assert ("Retry-After" in response.headers) is has_retry_after
    assert product.handled == 0
    assert journal.calls == [Call("GET", "/items", int(kind), kind)]


def test_injected_timeout_raises_read_timeout(
    serve: Any, product: _ItemsApp, journal: CallJournal
) -> None:
    client = serve(Faults(rate=1.0, kinds=("timeout",), timeout_seconds=0))

    with pytest.raises(httpx.ReadTimeout):
        client.get("/items")

    assert product.handled == 0
    assert journal.calls == [Call("GET", "/items", 0, "timeout")]


def test_injected_drop_raises_remote_protocol_error_before_handling(
    serve: Any, product: _ItemsApp, journal: CallJournal
) -> None:
    client = serve(Faults(rate=1.0, kinds=("drop",)))

    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/items", json={"name": "a"})

    assert product.handled == 0 and product.items == []
    assert journal.calls == [Call("POST", "/items", 0, "drop")]


def test_drop_after_lets_the_product_act_yet_the_client_sees_a_drop(
    serve: Any, product: _ItemsApp, journal: CallJournal
) -> None:
    client = serve(Faults(rate=1.0, kinds=("drop_after",)))

    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/items", json={"name": "created anyway"})

    assert product.items == [{"name": "created anyway"}]
    assert journal.calls == [Call("POST", "/items", 201, "drop_after")]


def _starlette_app() -> tuple[Starlette, list[dict[str, Any]]]:
    created: list[dict[str, Any]] = []

    async def create(request: Request) -> JSONResponse:
        created.append(await request.json())
        return JSONResponse({"id": len(created)}, status_code=201)

    async def missing(request: Request) -> JSONResponse:
        raise HTTPException(404, "no such record")

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return JSONResponse([{"message": exc.detail}], status_code=exc.status_code)

    app = Starlette(
        routes=[Route("/items", create, methods=["POST"]), Route("/missing", missing)],
        exception_handlers={HTTPException: http_error},
    )
    return app, created


def test_drop_after_through_a_starlette_app(serve: Any, journal: CallJournal) -> None:
    app, created = _starlette_app()
    client = serve(Faults(rate=1.0, kinds=("drop_after",)), app)

    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/items", json={"name": "x"})

    assert created == [{"name": "x"}]
    assert journal.calls[0].status == 201


def test_starlette_error_bodies_pass_through(serve: Any) -> None:
    app, _ = _starlette_app()
    client = serve(Faults(), app)

    response = client.get("/missing")

    assert response.status_code == 404
    assert response.json() == [{"message": "no such record"}]


def test_a_sandbox_bug_is_not_disguised_as_a_network_fault(
    serve: Any, journal: CallJournal
) -> None:
    client = serve(Faults())

    with pytest.raises(RuntimeError, match="a bug in the sandbox"):
        client.get("/boom")
    assert journal.calls == [Call("GET", "/boom", 0, None)]


def test_lifespan_passes_through_unjournaled(product: _ItemsApp, journal: CallJournal) -> None:
    middleware = FaultMiddleware(product, faults=Faults(rate=1.0, kinds=("drop",)), journal=journal)

    async def nothing() -> dict[str, Any]:
        return {}

    async def ignore(message: Any) -> None:
        return None

    asyncio.run(middleware({"type": "lifespan"}, nothing, ignore))

    assert product.lifespan_seen is True
    assert journal.calls == []


def test_faults_only_on_some_paths_leave_reads_alone(
    serve: Any, product: _ItemsApp, journal: CallJournal
) -> None:
    client = serve(Faults(rate=1.0, kinds=("500",), only_paths=("/items",)))

    assert client.get("/other").status_code == 200
    assert client.get("/items").status_code == 500
    assert [c.fault for c in journal.calls] == [None, "500"]


# --- SyncASGITransport --------------------------------------------------------------------------


def test_transport_passes_encoded_bodies_through_undecoded() -> None:
    payload = gzip.compress(b'{"compressed": true}')

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-encoding", b"gzip"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    transport = SyncASGITransport(app)
    try:
        with httpx.Client(transport=transport, base_url="http://sandbox.test") as client:
            assert client.get("/").json() == {"compressed": True}
    finally:
        transport.shutdown()


def test_transport_times_out_a_hanging_app_and_shutdown_cancels_it() -> None:
    cancelled: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.Event().wait()  # never answers
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    transport = SyncASGITransport(app, timeout=0.05)
    try:
        with (
            httpx.Client(transport=transport, base_url="http://sandbox.test") as client,
            pytest.raises(httpx.ReadTimeout, match="did not answer"),
        ):
            client.get("/")
    finally:
        transport.shutdown()

    assert cancelled == [True]
    transport.shutdown()  # a second shutdown is harmless


def test_transport_sends_method_headers_and_body() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        seen.update(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"],
            headers=dict(scope["headers"]),
            body=message["body"],
        )
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = SyncASGITransport(app)
    try:
        with httpx.Client(transport=transport, base_url="http://sandbox.test") as client:
            client.patch("/a/b", params={"q": "x y"}, content=b"payload", headers={"X-Test": "1"})
    finally:
        transport.shutdown()

    assert (seen["method"], seen["path"], seen["query"]) == ("PATCH", "/a/b", b"q=x+y")
    assert seen["headers"][b"x-test"] == b"1" and seen["body"] == b"payload"


# --- end to end with ApiClient --------------------------------------------------------------------


def test_api_client_rides_out_a_sandbox_429(sandbox: Any, journal: CallJournal) -> None:
    sleeps: list[float] = []
    faults = Faults(rate=1.0, kinds=("429",), retry_after=3, limit=1)
    http = build_client("http://sandbox.test", transport=sandbox(faults))
    api = ApiClient(http, system="sandbox", retry=RetryPolicy(sleep=sleeps.append))

    assert api.post_json("/items", json={"name": "a"}) == {"id": 1}

    assert sleeps == [3.0]
    assert [c.status for c in journal.calls] == [429, 201]


def test_api_client_does_not_repeat_a_create_dropped_after_it_acted(
    sandbox: Any, product: _ItemsApp
) -> None:
    http = build_client(
        "http://sandbox.test", transport=sandbox(Faults(rate=1.0, kinds=("drop_after",), limit=1))
    )
    api = ApiClient(http, system="sandbox", retry=RetryPolicy(sleep=lambda _: None))

    with pytest.raises(TransientError, match="dropped"):
        api.post_json("/items", json={"name": "once"})

    assert product.items == [{"name": "once"}]  # created exactly once, not twice


# --- CallJournal and WindowLimiter ---------------------------------------------------------


def test_journal_counts_and_writes() -> None:
    journal = CallJournal()
    for call in [
        Call("GET", "/query", 200),
        Call("POST", "/composite/sobjects", 200),
        Call("POST", "/search", 200),
        Call("PATCH", "/composite/sobjects", 200),
        Call("DELETE", "/sobjects/Account/1", 204),
    ]:
        journal.add(call)

    assert journal.count() == 5
    assert journal.count(method="POST") == 2
    assert journal.count(path_prefix="/composite") == 2
    assert journal.count(method="GET", path_prefix="/composite") == 0
    assert [c.method for c in journal.writes(read_paths=("/search",))] == [
        "POST",
        "PATCH",
        "DELETE",
    ]
    journal.clear()
    assert journal.calls == []


def test_journal_calls_is_a_copy() -> None:
    journal = CallJournal()
    journal.add(Call("GET", "/x", 200))

    journal.calls.clear()

    assert journal.count() == 1


class _Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_window_limiter_counts_down_and_refuses_until_the_window_resets() -> None:
    clock = _Clock(start=50.0)
    limiter = WindowLimiter(3, 10.0, clock=clock)

    assert limiter.take() == (True, 2, 10.0)
    clock.advance(4.0)
    assert limiter.take() == (True, 1, 6.0)
    assert limiter.take() == (True, 0, 6.0)
    clock.advance(1.5)
    assert limiter.take() == (False, 0, 4.5)
    assert limiter.take() == (False, 0, 4.5)  # refusals do not use up the next window

    clock.advance(4.5)
    assert limiter.take() == (True, 2, 10.0)


def test_window_limiter_refuses_a_non_positive_window() -> None:
    with pytest.raises(ValueError):
        WindowLimiter(10, 0.0)
