"""ApiClient against MockTransport fakes: retries, error mapping, paging, counters, limiter."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from http_fakes import BASE_URL, FakeApi, FakeClock, json_response
from pydantic import SecretStr

from handoff_hub.hub.errors import (
    AuthError,
    ConnectorError,
    NotFoundError,
    PagingLoopError,
    RateLimitedError,
    RecordError,
    TransientError,
)
from handoff_hub.hub.http import (
    ApiClient,
    BearerToken,
    NextUrlPaginator,
    OffsetPaginator,
    PageRequest,
    RetryPolicy,
    TokenBucket,
    TokenPaginator,
    build_client,
)

TOKEN = "pat-na1-0d6c1e7b-live-token"  # a fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_api(fake_api: FakeApi, sleeps: list[float]) -> Callable[..., ApiClient]:
    def make(*, attempts: int = 4, auth: httpx.Auth | None = None, **kwargs: object) -> ApiClient:
        http = build_client(BASE_URL, auth=auth, transport=fake_api.transport())
        policy = RetryPolicy(
            max_attempts=attempts,
            initial_wait=0.5,
            max_wait=10.0,
            sleep=sleeps.append,
            jitter=lambda: 1.0,
        )
        return ApiClient(http, system="acme", retry=policy, **kwargs)  # type: ignore[arg-type]

    return make


# --- retries ------------------------------------------------------------------------------


def test_429_with_retry_after_then_200_sleeps_the_asked_time(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    fake_api.add(
        "GET",
        "/v1/deals",
        json_response(429, {"message": "slow down"}, Retry_After="7"),
        json_response(200, {"results": [1, 2]}),
    )
    api = make_api()

    assert api.get_json("/v1/deals") == {"results": [1, 2]}
    assert sleeps == [7.0]
    assert api.retries == 1
    assert api.calls["GET"] == 2


def test_two_5xx_then_success_backs_off_exponentially(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    fake_api.add(
        "GET", "/v1/deals", json_response(502), json_response(500), json_response(200, {"ok": True})
    )
    api = make_api()

    assert api.get_json("/v1/deals") == {"ok": True}
    assert sleeps == [0.5, 1.0]
    assert api.retries == 2


def test_exhausted_5xx_raises_transient_error(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    fake_api.add("GET", "/v1/deals", *[json_response(503, {"message": "down"})] * 3)
    api = make_api(attempts=3)

    with pytest.raises(TransientError) as raised:
        api.get_json("/v1/deals")

    assert type(raised.value) is TransientError
    assert raised.value.status == 503 and raised.value.system == "acme"
    assert "GET /v1/deals: HTTP 503" in str(raised.value)
    assert len(sleeps) == 2
    assert fake_api.count("GET", "/v1/deals") == 3


def test_exhausted_429_raises_rate_limited_error(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    fake_api.add("GET", "/v1/deals", *[json_response(429, Retry_After="1")] * 4)
    api = make_api()

    with pytest.raises(RateLimitedError) as raised:
        api.get_json("/v1/deals")

    assert raised.value.status == 429
    assert sleeps == [1.0, 1.0, 1.0]


def test_exhausted_timeouts_raise_transient_error(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("GET", "/v1/deals", *[httpx.ReadTimeout("slow")] * 4)

    with pytest.raises(TransientError, match="the response timed out"):
        make_api().get_json("/v1/deals")


@pytest.mark.parametrize(
    ("first", "retried"),
    [
        (json_response(429, Retry_After="0"), True),
        (json_response(503), True),
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow"), True),
        (json_response(500), False),
        (json_response(502), False),
        (json_response(504), False),
        (httpx.ReadTimeout("slow"), False),
        (httpx.RemoteProtocolError("dropped"), False),
    ],
)
def test_post_is_retried_only_when_the_product_cannot_have_acted(
    fake_api: FakeApi,
    make_api: Callable[..., ApiClient],
    first: httpx.Response | Exception,
    retried: bool,
) -> None:
    if retried:
        fake_api.add("POST", "/v1/deals", first, json_response(201, {"id": "d1"}))
    else:
        fake_api.add("POST", "/v1/deals", first)
    api = make_api()

    if retried:
        assert api.post_json("/v1/deals", json={"name": "x"}) == {"id": "d1"}
    else:
        with pytest.raises(TransientError):
            api.post_json("/v1/deals", json={"name": "x"})
    assert api.calls["POST"] == (2 if retried else 1)


@pytest.mark.parametrize("first", [json_response(500), httpx.ReadTimeout("slow")])
def test_post_marked_idempotent_is_retried(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], first: httpx.Response | Exception
) -> None:
    fake_api.add("POST", "/v1/deals/search", first, json_response(200, {"results": []}))

    body = make_api().post_json("/v1/deals/search", json={"q": "x"}, idempotent=True)

    assert body == {"results": []}


def test_patch_is_not_idempotent_by_default(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("PATCH", "/v1/deals/1", json_response(500))

    with pytest.raises(TransientError):
        make_api().request("PATCH", "/v1/deals/1", json={"a": 1})


def test_retried_post_resends_the_same_body(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("POST", "/v1/deals", json_response(429, Retry_After="0"), json_response(201))

    make_api().post_json("/v1/deals", json={"name": "Ünïcode deal"})

    bodies = [r.content for r in fake_api.requests]
    assert bodies[0] == bodies[1] and "Ünïcode".encode() in bodies[0]


def test_client_side_protocol_error_is_not_retried_nor_transient(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    fake_api.add("GET", "/v1/deals", httpx.UnsupportedProtocol("no scheme"))

    with pytest.raises(ConnectorError) as raised:
        make_api().get_json("/v1/deals")

    assert type(raised.value) is ConnectorError
    assert "the URL is not http or https" in str(raised.value)
    assert sleeps == []


def test_undecodable_body_becomes_a_connector_error(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add(
        "GET",
        "/v1/deals",
        httpx.Response(
            200, stream=httpx.ByteStream(b"not gzip at all"), headers={"Content-Encoding": "gzip"}
        ),
    )

    with pytest.raises(ConnectorError, match="DecodingError"):
        make_api().get_json("/v1/deals")


def test_gzip_body_is_decoded(fake_api: FakeApi, make_api: Callable[..., ApiClient]) -> None:
    fake_api.add(
        "GET",
        "/v1/deals",
        httpx.Response(
            200,
            stream=httpx.ByteStream(gzip.compress(b'{"a": 1}')),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        ),
    )

    assert make_api().get_json("/v1/deals") == {"a": 1}


# --- error mapping -----------------------------------------------------------------------------


def test_401_is_an_auth_error_naming_the_setting_and_never_the_token(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    # The product echoes the token it refused; it still must not reach the message.
    fake_api.add(
        "GET",
        "/v1/deals",
        json_response(
            401, {"message": f"token {TOKEN} expired", "header": f"Authorization: Bearer {TOKEN}"}
        ),
    )
    api = make_api(auth=BearerToken(SecretStr(TOKEN)))

    with pytest.raises(AuthError) as raised:
        api.get_json("/v1/deals")

    message = str(raised.value)
    assert "systems.acme.credentials" in message
    assert TOKEN not in message and "0d6c1e7b" not in message
    assert raised.value.status == 401
    assert sleeps == [] and api.calls["GET"] == 1
    assert fake_api.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_auth_error_uses_the_given_credentials_hint(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("GET", "/v1/me", json_response(403, {"message": "missing scope crm.read"}))
    api = make_api(credentials_hint="HUBSPOT_TOKEN (private app scopes)")

    with pytest.raises(AuthError, match=r"crm\.read.*check HUBSPOT_TOKEN \(private app scopes\)"):
        api.get_json("/v1/me")


def test_404_is_not_found(fake_api: FakeApi, make_api: Callable[..., ApiClient]) -> None:
    fake_api.add("GET", "/v1/deals/9", json_response(404, {"message": "no deal 9"}))

    with pytest.raises(NotFoundError, match="no deal 9") as raised:
        make_api().get_json("/v1/deals/9")

    assert raised.value.status == 404


def test_allowed_status_is_returned_to_the_caller(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("GET", "/v1/deals/9", json_response(404, {"message": "no deal 9"}))

    response = make_api().request("GET", "/v1/deals/9", allow=frozenset({404}))

    assert response.status_code == 404


@pytest.mark.parametrize("status", [400, 409, 422])
def test_refused_record_is_a_record_error_with_the_vendor_message(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], status: int
) -> None:
    fake_api.add(
        "POST",
        "/v1/deals",
        json_response(status, {"errors": [{"message": "Property 'amount' must be a number"}]}),
    )

    with pytest.raises(RecordError) as raised:
        make_api().post_json("/v1/deals", json={"amount": "lots"})

    assert type(raised.value) is RecordError
    assert "Property 'amount' must be a number" in str(raised.value)
    assert raised.value.status == status


def test_custom_error_describer_is_used(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("POST", "/v1/deals", json_response(400, [{"errorCode": "REQUIRED_FIELD"}]))
    api = make_api(describe_error=lambda r: "described:" + r.json()[0]["errorCode"])

    with pytest.raises(RecordError, match="described:REQUIRED_FIELD"):
        api.post_json("/v1/deals", json={})


def test_error_message_drops_the_query_string(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("GET", "/v1/deals", json_response(404))

    with pytest.raises(NotFoundError) as raised:
        make_api().get_json("/v1/deals?hapikey=legacy-key-123&q=x")

    assert "legacy-key-123" not in str(raised.value)
    assert "GET /v1/deals:" in str(raised.value)


def test_non_json_body_is_a_connector_error(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add(
        "GET",
        "/v1/deals",
        httpx.Response(200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    )

    with pytest.raises(ConnectorError) as raised:
        make_api().get_json("/v1/deals")

    assert type(raised.value) is ConnectorError
    assert "not JSON" in str(raised.value) and "text/html" in str(raised.value)


def test_empty_body_decodes_to_none(fake_api: FakeApi, make_api: Callable[..., ApiClient]) -> None:
    fake_api.add("POST", "/v1/deals/1/archive", httpx.Response(204))

    assert make_api().post_json("/v1/deals/1/archive") is None


# --- paging ------------------------------------------------------------------------------


def test_paginate_follows_query_tokens_across_pages(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    seen: list[dict[str, str]] = []

    def page(after: str | None, nxt: str | None) -> Callable[[httpx.Request], httpx.Response]:
        def answer(request: httpx.Request) -> httpx.Response:
            params = dict(request.url.params)
            seen.append(params)
            assert params.get("after") == after
            body: dict[str, object] = {"results": [after or "first"]}
            if nxt:
                body["paging"] = {"next": {"after": nxt}}
            return json_response(200, body)

        return answer

    fake_api.add(
        "GET", "/crm/v3/objects/deals", page(None, "a1"), page("a1", "a2"), page("a2", None)
    )
    api = make_api()
    paginator = TokenPaginator(token_path="paging.next.after", param="after")

    pages = list(
        api.paginate(
            "GET", PageRequest(url="/crm/v3/objects/deals", params={"limit": "2"}), paginator
        )
    )

    assert [p["results"] for p in pages] == [["first"], ["a1"], ["a2"]]
    assert [s.get("limit") for s in seen] == ["2", "2", "2"]
    assert api.calls["GET"] == 3


def test_paginate_places_tokens_in_a_post_body(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    import json

    fake_api.add(
        "POST",
        "/rest/api/3/search/jql",
        json_response(200, {"issues": [1], "nextPageToken": "n1"}),
        json_response(200, {"issues": [2], "isLast": True, "nextPageToken": "n2"}),
    )
    paginator = TokenPaginator(
        token_path="nextPageToken", param="nextPageToken", placement="body", stop_path="isLast"
    )

    pages = list(
        make_api().paginate(
            "POST",
            PageRequest(url="/rest/api/3/search/jql", json={"jql": "project = HUB"}),
            paginator,
        )
    )

    assert [p["issues"] for p in pages] == [[1], [2]]
    sent = [json.loads(r.content) for r in fake_api.requests]
    assert sent == [{"jql": "project = HUB"}, {"jql": "project = HUB", "nextPageToken": "n1"}]


def test_paginate_follows_next_urls(fake_api: FakeApi, make_api: Callable[..., ApiClient]) -> None:
    fake_api.add("GET", "/query", json_response(200, {"done": False, "nextRecordsUrl": "/query/2"}))
    fake_api.add("GET", "/query/2", json_response(200, {"done": True, "records": []}))

    pages = list(
        make_api().paginate(
            "GET",
            PageRequest(url="/query", params={"q": "SELECT Id FROM Account"}),
            NextUrlPaginator(url_path="nextRecordsUrl", done_path="done"),
        )
    )

    assert len(pages) == 2
    assert "q" not in fake_api.requests[1].url.params


def test_paginate_stops_a_loop(fake_api: FakeApi, make_api: Callable[..., ApiClient]) -> None:
    fake_api.add("GET", "/items", *[json_response(200, {"next": "same"})] * 2)
    pages = make_api().paginate(
        "GET", PageRequest(url="/items"), TokenPaginator(token_path="next", param="next")
    )

    assert next(pages) == {"next": "same"}
    with pytest.raises(PagingLoopError):
        next(pages)


def test_paginate_retries_a_page_without_skipping_it(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], sleeps: list[float]
) -> None:
    fake_api.add(
        "GET",
        "/items",
        json_response(200, {"items": [1], "next": "t1"}),
        json_response(503, Retry_After="2"),
        json_response(200, {"items": [2]}),
    )

    pages = list(
        make_api().paginate(
            "GET", PageRequest(url="/items"), TokenPaginator(token_path="next", param="next")
        )
    )

    assert [p["items"] for p in pages] == [[1], [2]]
    assert [r.url.params.get("next") for r in fake_api.requests] == [None, "t1", "t1"]
    assert sleeps == [2.0]


def test_paginate_sends_the_page_headers_on_every_page(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("GET", "/query", json_response(200, {"done": False, "nextRecordsUrl": "/q/2"}))
    fake_api.add("GET", "/q/2", json_response(200, {"done": True, "records": []}))
    first = PageRequest(url="/query", params={"q": "x"}, headers={"Sforce-Query-Options": "b=9"})

    list(make_api().paginate("GET", first, NextUrlPaginator(url_path="nextRecordsUrl")))

    assert [r.headers.get("Sforce-Query-Options") for r in fake_api.requests] == ["b=9", "b=9"]


def test_paginate_pages_by_offset(fake_api: FakeApi, make_api: Callable[..., ApiClient]) -> None:
    fake_api.add(
        "GET",
        "/comment",
        json_response(200, {"comments": [1, 2], "total": 3}),
        json_response(200, {"comments": [3], "total": 3}),
    )
    paginator = OffsetPaginator(records_path="comments", param="startAt", total_path="total")
    first = PageRequest(url="/comment", params={"startAt": 0, "maxResults": 2})

    pages = list(make_api().paginate("GET", first, paginator))

    assert [p["comments"] for p in pages] == [[1, 2], [3]]
    assert [str(r.url.query, "ascii") for r in fake_api.requests] == [
        "startAt=0&maxResults=2",
        "startAt=2&maxResults=2",
    ]


def test_paginate_sends_each_page_through_the_callers_fetch(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("GET", "/items", json_response(200, {"next": "t1"}), json_response(200, {}))
    api = make_api()
    fetched: list[PageRequest] = []

    def fetch(method: str, request: PageRequest) -> Any:
        fetched.append(request)
        return api.get_json(request.url, params=request.params or None)

    paginator = TokenPaginator(token_path="next", param="next")
    pages = list(api.paginate("GET", PageRequest(url="/items"), paginator, fetch=fetch))

    assert pages == [{"next": "t1"}, {}]
    assert [dict(r.params) for r in fetched] == [{}, {"next": "t1"}]


# --- counters and the rate limiter ----------------------------------------------------------------


def test_call_counters_count_every_attempt_by_method(
    fake_api: FakeApi, make_api: Callable[..., ApiClient]
) -> None:
    fake_api.add("GET", "/a", json_response(200), json_response(200))
    fake_api.add("POST", "/b", json_response(503), json_response(201))
    fake_api.add("DELETE", "/c", httpx.Response(204))
    api = make_api()

    api.get_json("/a")
    api.get_json("/a")
    api.post_json("/b", json={})
    api.request("delete", "/c")

    assert dict(api.calls) == {"GET": 2, "POST": 2, "DELETE": 1}
    assert api.retries == 1


class _LoggingBucket(TokenBucket):
    def __init__(self, events: list[str], clock: FakeClock, **kwargs: float) -> None:
        super().__init__(clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]
        self.events = events

    def acquire(self, cost: float = 1.0) -> float:
        self.events.append("acquire")
        return super().acquire(cost)


def test_rate_limiter_is_consulted_before_each_request_and_retry(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], clock: FakeClock
) -> None:
    events: list[str] = []

    def answer(status: int) -> Callable[[httpx.Request], httpx.Response]:
        def respond(request: httpx.Request) -> httpx.Response:
            events.append("send")
            return json_response(status)

        return respond

    fake_api.add("GET", "/a", answer(503), answer(200), answer(200))
    limiter = _LoggingBucket(events, clock, requests=1, per_seconds=2, burst=1)
    api = make_api(limiter=limiter)

    api.get_json("/a")
    api.get_json("/a")

    assert events == ["acquire", "send"] * 3
    # The retry's own backoff goes to the policy's sleep, not the bucket's clock.
    assert clock.sleeps == [pytest.approx(2.0), pytest.approx(2.0)]


def test_observed_limits_pause_the_next_request(
    fake_api: FakeApi, make_api: Callable[..., ApiClient], clock: FakeClock
) -> None:
    fake_api.add("GET", "/a", json_response(200, X_Left="0"), json_response(200, X_Left="50"))
    limiter = TokenBucket(requests=100, per_seconds=10, clock=clock, sleep=clock.sleep)

    def observe(response: httpx.Response) -> tuple[int | None, float | None]:
        return int(response.headers["X-Left"]), 8.0

    api = make_api(limiter=limiter, observe_limits=observe)

    api.get_json("/a")
    assert clock.sleeps == []
    api.get_json("/a")

    assert clock.sleeps == [pytest.approx(8.0)]


def test_build_client_defaults() -> None:
    client = build_client(BASE_URL, headers={"X-Api-Version": "2"}, timeout=60.0)

    assert str(client.base_url).rstrip("/") == BASE_URL
    assert client.headers["Accept"] == "application/json"
    assert client.headers["User-Agent"].startswith("handoff-hub/")
    assert client.headers["X-Api-Version"] == "2"
    assert client.timeout.read == 60.0 and client.timeout.connect == 10.0
    assert client.follow_redirects is False
    client.close()
