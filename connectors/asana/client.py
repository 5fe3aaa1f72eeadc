"""Typed Asana REST calls over :class:`hub.http.ApiClient`.

Every answer is wrapped in ``{"data": ...}``; lists page with ``limit`` (at most
100) and the opaque ``next_page.offset`` token. Offset tokens expire ("as data
may have changed"): a listing whose token is refused mid-way starts over once,
and callers keep each record once by gid. Errors are
``{"errors": [{"message", "help", "phrase"}]}``; :func:`describe_error` turns
them into the text of the hub's errors. Auth is a bearer token, either a
personal access token or an OAuth access token refreshed with the refresh-token
grant at ``POST /-/oauth_token`` on a 401.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.config import AsanaSecrets
from handoff_hub.hub.errors import ConnectorError, RecordError
from handoff_hub.hub.http import ApiClient, PageRequest, TokenPaginator
from handoff_hub.hub.http.auth import TokenRequestFactory, refresh_token_grant
from handoff_hub.hub.http.client import default_error_text
from handoff_hub.hub.http.retry import retry_after_seconds

__all__ = [
    "AsanaClient",
    "describe_error",
    "error_messages",
    "observe_limits",
    "token_request_factory",
]

_NOT_FOUND = frozenset({404})


def error_messages(body: Any) -> str:
    """``message; message (phrase ...)`` from Asana's ``{"errors": [...]}``; empty if none."""
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, list):
        return ""
    texts = []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        text = str(error.get("message") or "error")
        if error.get("phrase"):
            text += f" (phrase: {error['phrase']})"
        texts.append(text)
    return "; ".join(texts)


def describe_error(response: httpx.Response) -> str:
    """Error text from an Asana body, an OAuth error body, or the raw text."""
    try:
        body: Any = response.json()
    except ValueError:
        return default_error_text(response)
    text = error_messages(body)
    if text:
        return text
    if isinstance(body, Mapping) and body.get("error"):
        return str(body.get("error_description") or body["error"])
    return default_error_text(response)


def observe_limits(response: httpx.Response) -> tuple[int | None, float | None]:
    """Asana reports no remaining budget; a 429 means none left until ``Retry-After``."""
    if response.status_code != 429:
        return None, None
    return 0, retry_after_seconds(response)


def token_request_factory(base_url: str, secrets: AsanaSecrets) -> TokenRequestFactory:
    """The refresh-token grant at ``POST /-/oauth_token`` (form-encoded), as OAuth2Token wants it.

    Asana answers a refresh with a new access token only; the refresh token stays valid.
    """
    url = base_url.rstrip("/") + settings.TOKEN_PATH
    return refresh_token_grant(url, secrets.client_id, secrets.client_secret, secrets.refresh_token)


class _ExpiredOffset(Exception):
    pass


class AsanaClient:
    """The REST calls the connector makes; paths are relative to ``/api/1.0``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.api.system

    def pause(self, seconds: float) -> None:
        """Wait with the retry policy's sleep (a no-op in tests that disable waiting)."""
        self.api.retry.sleep(seconds)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        idempotent: bool | None = None,
        allow: frozenset[int] = frozenset(),
    ) -> Any:
        """One request; returns what is inside the ``data`` envelope (None for an allowed error)."""
        response = self.api.request(
            method,
            settings.API_ROOT + path,
            params=params,
            json=None if data is None else {"data": data},
            idempotent=idempotent,
            allow=allow,
        )
        if response.status_code >= 400:
            return None
        return self._data(response, f"{method} {path}")

    def _data(self, response: httpx.Response, where: str) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping) or "data" not in body:
            raise ConnectorError(
                f"{where}: answer has no data envelope (HTTP {response.status_code})",
                system=self.system,
                status=response.status_code,
            )
        return body["data"]

    def get(self, path: str, *, fields: Sequence[str] = (), allow_missing: bool = False) -> Any:
        """``GET`` one resource; None when missing and ``allow_missing``."""
        params = {"opt_fields": ",".join(fields)} if fields else None
        return self.call(
            "GET", path, params=params, allow=_NOT_FOUND if allow_missing else frozenset()
        )

    def post(self, path: str, data: Mapping[str, Any], *, fields: Sequence[str] = ()) -> Any:
        """``POST`` a create; never repeated by the HTTP layer unless Asana cannot have acted."""
        params = {"opt_fields": ",".join(fields)} if fields else None
        return self.call("POST", path, params=params, data=dict(data), idempotent=False)

    def put(self, path: str, data: Mapping[str, Any]) -> Any:
        """``PUT`` an update (idempotent: safe to repeat)."""
        return self.call("PUT", path, data=dict(data), idempotent=True)

    def list_all(
        self, path: str, params: Mapping[str, Any], *, page_size: int
    ) -> list[Mapping[str, Any]]:
        """Every item of a paged listing, each gid once (see :meth:`pages`)."""
        found: dict[str, Mapping[str, Any]] = {}
        for page in self.pages(path, params, page_size=page_size):
            for item in page:
                found.setdefault(str(item["gid"]), item)
        return list(found.values())

    def pages(
        self, path: str, params: Mapping[str, Any], *, page_size: int
    ) -> Iterator[list[Mapping[str, Any]]]:
        """The pages of a listing, as they come.

        An offset that expires mid-listing restarts the listing once, from its
        first page: the items of the pages before come again, and the caller
        keeps each gid once.

        Raises:
            RecordError: Asana refused the listing (a second expired offset included).
        """
        for attempt in (1, 2):
            try:
                yield from self._pages_once(path, params, page_size)
                return
            except _ExpiredOffset as exc:
                if attempt == 2:
                    raise RecordError(
                        f"GET {path}: offset token refused twice: {exc}", system=self.system
                    ) from None

    def _pages_once(
        self, path: str, params: Mapping[str, Any], page_size: int
    ) -> Iterator[list[Mapping[str, Any]]]:
        paginator = TokenPaginator(token_path="next_page.offset", param="offset")  # noqa: S106
        first = PageRequest(
            url=settings.API_ROOT + path, params={**params, "limit": min(page_size, 100)}
        )
        pages, read = self.api.paginate("GET", first, paginator), 0
        while True:
            try:
                body = next(pages)
            except StopIteration:
                return
            except RecordError as exc:
                if read and exc.status == 400 and "offset" in str(exc).lower():
                    raise _ExpiredOffset(str(exc)) from None
                raise
            read += 1
            items = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(items, list):
                raise ConnectorError(f"GET {path}: answer has no data list", system=self.system)
            yield [i for i in items if isinstance(i, Mapping) and i.get("gid")]

    def batch(self, actions: Sequence[Mapping[str, Any]], *, idempotent: bool) -> list[Any]:
        """One ``POST /batch`` of at most 10 actions; one result per action, in order.

        A batch of n actions counts as n requests against Asana's limit, so the
        client's rate limiter is charged for the other n - 1 before sending.
        """
        if not actions or len(actions) > settings.BATCH_SIZE:
            raise ValueError(f"a batch holds 1 to {settings.BATCH_SIZE} actions")
        if self.api.limiter is not None and len(actions) > 1:
            self.api.limiter.acquire(len(actions) - 1)
        results = self.call(
            "POST", settings.BATCH_PATH, data={"actions": list(actions)}, idempotent=idempotent
        )
        if not isinstance(results, list) or len(results) != len(actions):
            raise ConnectorError(
                f"POST /batch: {len(actions)} actions answered with "
                f"{len(results) if isinstance(results, list) else 'no'} results",
                system=self.system,
            )
        return results

    def close(self) -> None:
        """Close the HTTP client."""
        self.api.close()
