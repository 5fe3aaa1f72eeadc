"""Auth objects: static headers, OAuth2 fetch/reuse/refresh-once, refusals and redaction."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from http_fakes import BASE_URL, FakeApi, json_response
from pydantic import SecretStr

from handoff_hub.hub.errors import AuthError
from handoff_hub.hub.http import (
    ApiClient,
    BasicToken,
    BearerToken,
    OAuth2Token,
    RetryPolicy,
    build_client,
)
from handoff_hub.hub.http.redact import redact

TOKEN_URL = "https://login.example.test/oauth2/token"
CLIENT_SECRET = "cs-9f8e7d6c5b4a-client-secret"  # a fake
HINT = "systems.crm.credentials (client_id and client_secret)"


def _client(fake: FakeApi, auth: httpx.Auth) -> httpx.Client:
    return httpx.Client(base_url=BASE_URL, auth=auth, transport=fake.transport())


class _Grants:
    """Builds token requests and records the refresh token each one carried."""

    def __init__(self) -> None:
        self.refresh_tokens: list[str | None] = []

    def __call__(self, refresh: str | None) -> httpx.Request:
        self.refresh_tokens.append(refresh)
        form = {
            "grant_type": "refresh_token" if refresh else "client_credentials",
            "client_id": "cid",
            "client_secret": CLIENT_SECRET,
        }
        if refresh:
            form["refresh_token"] = refresh
        return httpx.Request("POST", TOKEN_URL, data=form)


def _token(access: str, refresh: str | None = None, **extra: str) -> httpx.Response:
    body: dict[str, str] = {"access_token": access, "token_type": "Bearer", **extra}
    if refresh:
        body["refresh_token"] = refresh
    return json_response(200, body)


def _bearer_is(token: str) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {token}"
        return json_response(200, {"ok": token})

    return answer


def _oauth(grants: _Grants, **kwargs: Any) -> OAuth2Token:
    return OAuth2Token(grants, system="crm", setting_hint=HINT, **kwargs)


# --- static tokens ------------------------------------------------------------------------


def test_bearer_token_sets_the_header_and_registers_the_secret(fake_api: FakeApi) -> None:
    fake_api.add("GET", "/me", _bearer_is("pat-static-0001"))

    with _client(fake_api, BearerToken(SecretStr("pat-static-0001"))) as client:
        assert client.get("/me").json() == {"ok": "pat-static-0001"}

    assert redact("sent pat-static-0001") == "sent ***"


def test_basic_token_encodes_user_and_token(fake_api: FakeApi) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return json_response(200)

    fake_api.add("GET", "/rest/api/3/myself", answer)

    with _client(fake_api, BasicToken("ada@example.com", SecretStr("jira-api-token-77"))) as c:
        c.get("/rest/api/3/myself")

    scheme, encoded = seen[0].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "ada@example.com:jira-api-token-77"
    assert redact(f"token jira-api-token-77 header {encoded}") == "token *** header ***"


# --- OAuth2 ---------------------------------------------------------------------------------


def test_oauth2_fetches_once_and_reuses_the_token(fake_api: FakeApi) -> None:
    grants = _Grants()
    seen_bodies: list[Mapping[str, Any]] = []
    fake_api.add(
        "POST",
        "/oauth2/token",
        _token("at-one-1111", "rt-one-1111", instance_url="https://acme.my.example.test"),
    )
    fake_api.add("GET", "/data", *[_bearer_is("at-one-1111")] * 3)
    auth = _oauth(grants, on_token=seen_bodies.append)

    with _client(fake_api, auth) as client:
        for _ in range(3):
            assert client.get("/data").status_code == 200

    assert auth.token_fetches == 1
    assert fake_api.count("POST", "/oauth2/token") == 1
    assert grants.refresh_tokens == [None]
    assert seen_bodies[0]["instance_url"] == "https://acme.my.example.test"


def test_oauth2_refreshes_exactly_once_on_401_and_replays(fake_api: FakeApi) -> None:
    grants = _Grants()
    fake_api.add(
        "POST", "/oauth2/token", _token("at-old-2222", "rt-first-2222"), _token("at-new-3333")
    )

    def payload_kept(token: str) -> Any:
        def answer(request: httpx.Request) -> httpx.Response:
            assert request.headers["Authorization"] == f"Bearer {token}"
            assert request.content == b'{"name":"Acme"}'
            return json_response(201 if token == "at-new-3333" else 401)

        return answer

    fake_api.add("POST", "/data", payload_kept("at-old-2222"), payload_kept("at-new-3333"))
    auth = _oauth(grants)

    with _client(fake_api, auth) as client:
        response = client.post("/data", content=b'{"name":"Acme"}')

    assert response.status_code == 201
    assert auth.token_fetches == 2
    assert grants.refresh_tokens == [None, "rt-first-2222"]  # the refresh used the refresh token


def test_oauth2_second_401_is_returned_not_refreshed_again(fake_api: FakeApi) -> None:
    fake_api.add("POST", "/oauth2/token", _token("at-a-4444"), _token("at-b-4444"))
    fake_api.add("GET", "/data", json_response(401), json_response(401))
    auth = _oauth(_Grants())

    with _client(fake_api, auth) as client:
        assert client.get("/data").status_code == 401

    assert auth.token_fetches == 2
    assert fake_api.count("GET", "/data") == 2


def test_oauth2_401_after_refresh_becomes_an_auth_error_with_the_hint(fake_api: FakeApi) -> None:
    fake_api.add("POST", "/oauth2/token", _token("at-a-5555"), _token("at-b-5555"))
    fake_api.add(
        "GET",
        "/data",
        json_response(401, {"message": "Session expired or invalid"}),
        json_response(401, {"message": "Session expired or invalid"}),
    )
    http = build_client(BASE_URL, auth=_oauth(_Grants()), transport=fake_api.transport())
    api = ApiClient(
        http, system="crm", retry=RetryPolicy(sleep=lambda _: None), credentials_hint=HINT
    )

    with pytest.raises(AuthError) as raised:
        api.get_json("/data")

    assert HINT in str(raised.value)
    assert "at-b-5555" not in str(raised.value)


@pytest.mark.parametrize(
    "refusal",
    [
        json_response(
            400,
            {
                "error": "invalid_client",
                "error_description": f"client secret {CLIENT_SECRET} is wrong",
            },
        ),
        json_response(
            401,
            {
                "error": "invalid_grant",
                "error_description": f"bad request client_secret={CLIENT_SECRET}",
            },
        ),
        json_response(400, {"error": "unsupported_grant_type"}),
        json_response(200, {"token_type": "Bearer"}),  # a 200 without a token is a refusal too
        json_response(200, ["not", "an", "object"]),
    ],
)
def test_token_refusal_is_an_auth_error_naming_the_hint_not_the_secret(
    fake_api: FakeApi, refusal: httpx.Response
) -> None:
    from handoff_hub.hub.http.redact import register_secret

    register_secret(CLIENT_SECRET)  # as config resolution does for every SecretStr
    fake_api.add("POST", "/oauth2/token", refusal)  # GET /data is unregistered: never sent

    with _client(fake_api, _oauth(_Grants())) as client, pytest.raises(AuthError) as raised:
        client.get("/data")

    message = str(raised.value)
    assert message.startswith("crm: token request refused")
    assert f"check {HINT}" in message
    assert CLIENT_SECRET not in message and "9f8e7d6c5b4a" not in message
    assert raised.value.system == "crm" and raised.value.status == refusal.status_code


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_token_endpoint_answers_the_request_for_the_retry_policy(
    fake_api: FakeApi, status: int
) -> None:
    """A token endpoint that is down or rate-limited has not refused the credentials."""
    fake_api.add("POST", "/oauth2/token", httpx.Response(status, text="try later"))

    with _client(fake_api, _oauth(_Grants())) as client:
        response = client.get("/data")

    assert response.status_code == status
    assert [r.url.path for r in fake_api.requests] == ["/oauth2/token"]


def test_echoed_secret_is_masked_even_if_never_registered(fake_api: FakeApi) -> None:
    fake_api.add(
        "POST",
        "/oauth2/token",
        json_response(400, {"error_description": "refused refresh_token=rt-unregistered-6666"}),
    )

    with _client(fake_api, _oauth(_Grants())) as client, pytest.raises(AuthError) as raised:
        client.get("/data")

    assert "rt-unregistered-6666" not in str(raised.value)


def test_issued_tokens_are_registered_for_redaction(fake_api: FakeApi) -> None:
    fake_api.add("POST", "/oauth2/token", _token("at-issued-7777", "rt-issued-7777"))
    fake_api.add("GET", "/data", json_response(200))

    with _client(fake_api, _oauth(_Grants())) as client:
        client.get("/data")

    assert redact("at-issued-7777 / rt-issued-7777") == "*** / ***"


def test_refused_token_leaves_the_api_uncalled_and_is_not_retried(fake_api: FakeApi) -> None:
    fake_api.add("POST", "/oauth2/token", json_response(400, {"error": "invalid_client"}))
    sleeps: list[float] = []
    http = build_client(BASE_URL, auth=_oauth(_Grants()), transport=fake_api.transport())
    api = ApiClient(http, system="crm", retry=RetryPolicy(sleep=sleeps.append))

    with pytest.raises(AuthError, match="invalid_client"):
        api.get_json("/data")

    assert sleeps == []
    assert [r.url.path for r in fake_api.requests] == ["/oauth2/token"]
