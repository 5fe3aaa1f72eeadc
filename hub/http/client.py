"""HTTP client construction and the request loop every connector uses.

:class:`ApiClient` wraps an ``httpx.Client`` with the shared policies: a rate
limiter taken before each request, the retry layer of :mod:`handoff_hub.hub.http.retry`,
and the mapping of final failures onto the :mod:`handoff_hub.hub.errors` tree with the
product's own error text. It also counts calls, which benchmarks and the
"plan writes nothing" test read.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from handoff_hub.hub.errors import (
    AuthError,
    ConnectorError,
    HubError,
    NotFoundError,
    RateLimitedError,
    RecordError,
    TransientError,
)
from handoff_hub.hub.http.concurrent import read_ahead
from handoff_hub.hub.http.paging import PageRequest, Paginator
from handoff_hub.hub.http.ratelimit import TokenBucket
from handoff_hub.hub.http.redact import redact
from handoff_hub.hub.http.retry import (
    Action,
    RetryableOutcome,
    RetryPolicy,
    classify,
    is_safe_to_repeat,
    message_for,
)

__all__ = ["ApiClient", "ErrorDescriber", "PageFetcher", "build_client", "default_error_text"]

log = logging.getLogger("hub.http")

ErrorDescriber = Callable[[httpx.Response], str]
PageFetcher = Callable[[str, PageRequest], Any]
"""Sends one page's request (method, request) and returns its decoded body."""
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_USER_AGENT = "handoff-hub/0.1 (+https://github.com/handoff-hub)"


def build_client(
    base_url: str,
    *,
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
    headers: Mapping[str, str] | None = None,
    max_connections: int = 10,
) -> httpx.Client:
    """An ``httpx.Client`` with the hub's defaults; ``transport`` lets tests use a sandbox."""
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": _USER_AGENT, "Accept": "application/json", **(headers or {})},
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        follow_redirects=False,
    )


def default_error_text(response: httpx.Response) -> str:
    """Best-effort error text from a JSON or plain body, shortened."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300]
    return str(body)[:300]


class ApiClient:
    """Requests with rate limiting, retries and error mapping for one system."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        system: str,
        retry: RetryPolicy | None = None,
        limiter: TokenBucket | None = None,
        describe_error: ErrorDescriber = default_error_text,
        credentials_hint: str = "",
        observe_limits: Callable[[httpx.Response], tuple[int | None, float | None]] | None = None,
        concurrency: int = 1,
    ) -> None:
        self.http = client
        self.concurrency = concurrency
        """Requests a bulk write keeps in flight (:mod:`handoff_hub.hub.http.concurrent`)."""
        self.system = system
        self.retry = retry or RetryPolicy()
        self.limiter = limiter
        self.describe_error = describe_error
        self.credentials_hint = credentials_hint or f"systems.{system}.credentials"
        self.observe_limits = observe_limits
        self.calls: Counter[str] = Counter()
        self.retries = 0
        self.last_remaining: int | None = None
        """The allocation left as the product's last rate-limit headers said (``hub check``)."""
        self._count_lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        allow: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send one request under the retry policy; raise a hub error on final failure.

        ``idempotent`` defaults by method (POST is not); ``allow`` lists error
        statuses the caller handles itself (e.g. 404 on a lookup).
        """
        method = method.upper()
        repeatable = idempotent if idempotent is not None else method in _IDEMPOTENT_METHODS
        try:
            for attempt in self.retry.retrying():
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        with self._count_lock:
                            self.retries += 1
                    response = self._send(method, url, params, json, data, headers, repeatable)
        except RetryableOutcome as exc:
            raise self._final_error(exc.outcome, method, url) from None
        if response.status_code >= 400 and response.status_code not in allow:
            raise self._final_error(response, method, url)
        return response

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        repeatable: bool,
    ) -> httpx.Response:
        if self.limiter is not None:
            self.limiter.acquire()
        with self._count_lock:
            self.calls[method] += 1
        try:
            response = self.http.request(
                method, url, params=params, json=json, data=data, headers=headers
            )
        except httpx.TransportError as exc:
            where = f"{method} {_path(url)}"
            if is_safe_to_repeat(exc, idempotent=repeatable):
                log.info("%s %s: %s; retrying", self.system, where, message_for(exc))
                raise RetryableOutcome(exc) from exc
            # A transient failure that may have reached the product stays a
            # TransientError (the engine checks before creating again); a
            # client-side fault that would fail the same way is not transient.
            error = TransientError if classify(exc) is Action.RETRY else ConnectorError
            raise error(f"{where}: {message_for(exc)}", system=self.system) from exc
        except httpx.HTTPError as exc:  # undecodable body, too many redirects
            raise ConnectorError(
                f"{method} {_path(url)}: {type(exc).__name__}: {redact(str(exc))}",
                system=self.system,
            ) from exc
        self._observe(response)
        retryable = classify(response) is Action.RETRY
        if retryable and is_safe_to_repeat(response, idempotent=repeatable):
            log.info(
                "%s %s %s: HTTP %s, %s",
                self.system,
                method,
                _path(url),
                response.status_code,
                message_for(response),
            )
            raise RetryableOutcome(response)
        return response

    def _observe(self, response: httpx.Response) -> None:
        if self.observe_limits is None:
            return
        remaining, reset = self.observe_limits(response)
        if remaining is not None:
            self.last_remaining = remaining
        if self.limiter is None:
            return
        self.limiter.observe(remaining=remaining, reset_seconds=reset)

    def _final_error(
        self, outcome: httpx.Response | BaseException, method: str, url: str
    ) -> ConnectorError:
        where = f"{method} {_path(url)}"
        if isinstance(outcome, BaseException):
            return TransientError(f"{where}: {message_for(outcome)}", system=self.system)
        status = outcome.status_code
        detail = redact(self.describe_error(outcome))
        text = f"{where}: HTTP {status}: {message_for(outcome)}: {detail}"
        action = classify(outcome)
        if action is Action.AUTH:
            return AuthError(
                f"{text}; check {self.credentials_hint}", system=self.system, status=status
            )
        if action is Action.NOT_FOUND:
            return NotFoundError(text, system=self.system, status=status)
        if status == 429:
            return RateLimitedError(text, system=self.system, status=status)
        if action is Action.RETRY:
            return TransientError(text, system=self.system, status=status)
        return RecordError(text, system=self.system, status=status)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET and decode JSON."""
        return _json(self.request("GET", url, **kwargs), self.system)

    def post_json(self, url: str, **kwargs: Any) -> Any:
        """POST and decode JSON (an empty body decodes to None)."""
        return _json(self.request("POST", url, **kwargs), self.system)

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Any method, decoded as JSON (an empty body decodes to None)."""
        return _json(self.request(method, url, **kwargs), self.system)

    def json_of(self, response: httpx.Response) -> Any:
        """The JSON body (None when empty); a ConnectorError naming the call if it is not JSON."""
        return _json(response, self.system)

    def paginate(
        self,
        method: str,
        first: PageRequest,
        paginator: Paginator,
        *,
        idempotent: bool = True,
        fetch: PageFetcher | None = None,
    ) -> Iterator[Any]:
        """Yield each page's decoded body, following the paginator until it stops.

        ``fetch`` sends one page's request and decodes it, for a connector
        whose calls map errors or check bodies its own way; by default
        :meth:`request` does, with the page's params, body and headers. With
        ``concurrency`` above 1 the next page is fetched while the caller
        works on this one (:func:`hub.http.concurrent.read_ahead`).
        """
        send = fetch or functools.partial(self._page, idempotent=idempotent)
        pages = self._pages(method, first, paginator, send)
        return read_ahead(pages, enabled=self.concurrency > 1, more=lambda: paginator.has_next)

    def _page(self, method: str, request: PageRequest, *, idempotent: bool) -> Any:
        response = self.request(
            method,
            request.url,
            params=request.params or None,
            json=request.json,
            headers=request.headers or None,
            idempotent=idempotent,
        )
        return _json(response, self.system)

    def _pages(
        self, method: str, first: PageRequest, paginator: Paginator, fetch: PageFetcher
    ) -> Iterator[Any]:
        request = first
        while paginator.has_next:
            body = fetch(method, request)
            paginator.update_state(body)
            yield body
            request = paginator.update_request(request)

    def close(self) -> None:
        """Close the underlying connection pool; give back a shared budget's unspent grant."""
        self.http.close()
        if self.limiter is None:
            return
        try:
            self.limiter.release()
        except HubError as exc:  # the store went first: the grant's tokens expire on their own
            log.warning(
                "%s: the rate budget's unspent tokens were not given back: %s", self.system, exc
            )


def _json(response: httpx.Response, system: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ConnectorError(
            f"{response.request.method} {_path(str(response.request.url))}: response is not JSON"
            f" (HTTP {response.status_code}, {response.headers.get('content-type', 'no type')})",
            system=system,
            status=response.status_code,
        ) from None


def _path(url: str) -> str:
    return redact(url.split("?", 1)[0])
