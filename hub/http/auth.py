"""Authentication as ``httpx.Auth`` objects handed to the client.

Connector code never builds an Authorization header. OAuth2 tokens are fetched
and refreshed inside :meth:`OAuth2Token.auth_flow`: a 401 triggers one refresh
and one replay of the request.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Generator, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from handoff_hub.hub.errors import AuthError
from handoff_hub.hub.http.redact import redact, register_secret

__all__ = [
    "BasicToken",
    "BearerToken",
    "OAuth2Token",
    "TokenRequestFactory",
    "refresh_token_grant",
]

TokenRequestFactory = Callable[[str | None], httpx.Request]
"""Builds the token request; receives the current refresh token, if any."""


def refresh_token_grant(
    token_url: str,
    client_id: SecretStr | None,
    client_secret: SecretStr | None,
    refresh_token: SecretStr | None,
) -> TokenRequestFactory:
    """OAuth 2.0's refresh-token grant (RFC 6749, section 6): a form POST to ``token_url``.

    A product that rotates refresh tokens hands the new one back; the caller
    passes it in, else the configured one is used.
    """

    def build(refresh: str | None) -> httpx.Request:
        form = {
            "grant_type": "refresh_token",
            "client_id": _reveal(client_id),
            "client_secret": _reveal(client_secret),
            "refresh_token": refresh or _reveal(refresh_token),
        }
        return httpx.Request("POST", token_url, data=form, headers={"Accept": "application/json"})

    return build


def _reveal(secret: SecretStr | None) -> str:
    return "" if secret is None else secret.get_secret_value()


class BearerToken(httpx.Auth):
    """A static bearer token (HubSpot private app, Asana personal access token)."""

    def __init__(self, token: SecretStr) -> None:
        register_secret(token.get_secret_value())
        self._token = token

    def secret(self) -> SecretStr:
        """The token, for the product's own token-introspection call (``hub check``)."""
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach the token."""
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


class BasicToken(httpx.Auth):
    """User name plus API token as HTTP Basic (Jira Cloud e-mail + API token)."""

    def __init__(self, username: str, token: SecretStr) -> None:
        register_secret(token.get_secret_value())
        raw = f"{username}:{token.get_secret_value()}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")
        register_secret(self._header.split(" ", 1)[1])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach the Basic header."""
        request.headers["Authorization"] = self._header
        yield request


class OAuth2Token(httpx.Auth):
    """OAuth 2.0 access token, fetched on first use and refreshed once on 401.

    ``token_request`` builds the grant request (client credentials, JWT bearer,
    refresh token); ``on_token`` sees the token response (Salesforce returns
    its ``instance_url`` there).
    """

    requires_response_body = True

    def __init__(
        self,
        token_request: TokenRequestFactory,
        *,
        system: str,
        setting_hint: str,
        on_token: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        self._token_request = token_request
        self._system = system
        self._hint = setting_hint
        self._on_token = on_token
        self._access: str | None = None
        self._refresh: str | None = None
        self._lock = threading.Lock()
        self.token_fetches = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Fetch a token if none, send, and on 401 refresh and send once more."""
        if self._access is None:
            token_response = yield self._token_request(self._refresh)
            if _busy(token_response):
                return  # the caller's retry policy waits and sends again
            self._accept(token_response)
        request.headers["Authorization"] = f"Bearer {self._access}"
        response = yield request
        if response.status_code == 401:
            token_response = yield self._token_request(self._refresh)
            if _busy(token_response):
                return
            self._accept(token_response)
            request.headers["Authorization"] = f"Bearer {self._access}"
            yield request

    def _accept(self, response: httpx.Response) -> None:
        self.token_fetches += 1
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):  # a JSON list or string is no token response
            body = {}
        if response.status_code != 200 or not body.get("access_token"):
            error = (
                body.get("error_description")
                or body.get("error")
                or body.get("message")  # HubSpot: {"status": "BAD_REFRESH_TOKEN", "message"}
                or f"HTTP {response.status_code}"
            )
            # The endpoint may echo what it was sent (a client secret, a grant).
            raise AuthError(
                f"token request refused: {redact(str(error))}; check {self._hint}",
                system=self._system,
                status=response.status_code,
            )
        with self._lock:
            self._access = str(body["access_token"])
            register_secret(self._access)
            if body.get("refresh_token"):
                self._refresh = str(body["refresh_token"])
                register_secret(self._refresh)
        if self._on_token is not None:
            self._on_token(body)


def _busy(response: httpx.Response) -> bool:
    """A token endpoint that is rate-limited or down has not refused the credentials.

    Its answer is handed back as the request's own, so the client's retry
    policy (Retry-After, backoff) applies to the token request too.
    """
    return response.status_code == 429 or response.status_code >= 500
