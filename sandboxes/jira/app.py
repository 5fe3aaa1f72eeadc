"""A local emulator of the Jira Cloud platform REST API, versions 2 and 3 (Starlette ASGI app).

It answers the calls the connector makes, and the common ones admins script
with the jira SDK, with Jira's paths, payloads, paging (``nextPageToken`` /
``isLast``), error bodies and headers: HTTP Basic auth with an e-mail and API
token (401 ``Client must be authenticated...`` with ``X-Seraph-LoginReason``),
``/serverInfo``, ``/myself``, ``/field``, JQL search (GET and POST, a real
parser), issue create/bulk create/edit/get/delete, entity properties,
comments, transitions, remote links, assignment, user search and projects
(list, get, create). Version 3 takes rich text as ADF only, version 2 as
strings (:mod:`.sandbox_wire`). The org it plays is its profile
(:class:`~.sandbox_profile.JiraSiteProfile`). With ``rate_limit`` set, every
response carries ``X-RateLimit-*`` headers and an exhausted window answers 429
with ``Retry-After`` in whole seconds. It imports nothing from the connector,
so a shared mistake cannot hide.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from handoff_hub.sandboxes.jira.actions import JiraActions
from handoff_hub.sandboxes.jira.api import JiraApi, error
from handoff_hub.sandboxes.jira.jql import JqlError
from handoff_hub.sandboxes.jira.profile import JiraSiteProfile
from handoff_hub.sandboxes.jira.routes import BadJson, Handler, routes
from handoff_hub.sandboxes.jira.seed import API_USER_EMAIL, api_token, integration_user, seed
from handoff_hub.sandboxes.jira.state import JiraState
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import VERSIONS
from handoff_hub.sandboxes.kit import (
    CallJournal,
    Faults,
    WindowLimiter,
)
from handoff_hub.sandboxes.kit.asgi import json_response as _json
from handoff_hub.sandboxes.kit.profile import ProfileChoice, load_profile
from handoff_hub.sandboxes.kit.sandbox import SandboxBase

__all__ = ["JiraSandbox"]

_API = "/rest/api/3"
_UNAUTHENTICATED = {
    "message": "Client must be authenticated to access this resource.",
    "status-code": 401,
}


class JiraSandbox(SandboxBase):
    """An in-memory Jira Cloud site behind the REST API v3.

    Args:
        seed: Seed of the generated data and of the API token.
        records: About how many issues project DEL holds.
        profile: The org it plays: a preset name (``hard``), a YAML file or values.
        faults: Faults to inject (429, 5xx, timeouts, dropped connections).
        rate_limit: ``(requests, window_seconds)``: a fixed-window limit, reported
            in ``X-RateLimit-*`` headers and enforced with 429 + ``Retry-After``.
        clock: Current time (default: the real UTC time); data is seeded relative to it.
    """

    name = "jira"
    profile_class = JiraSiteProfile

    def __init__(
        self,
        *,
        seed: int = 0,
        records: int = 50,
        faults: Faults | None = None,
        profile: ProfileChoice = None,
        rate_limit: tuple[int, float] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.faults = faults or Faults()
        self.profile = load_profile(JiraSiteProfile, profile)
        self.journal = CallJournal(
            read_only_posts=(r"/rest/api/[23]/search/.*", r"/rest/api/[23]/issue/bulkfetch")
        )
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        me = integration_user(self.profile.user_time_zone)
        self.store = JiraStore(me=me, clock=self.clock)
        anchor = self.clock().astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        _seed(self.store, seed, records, anchor)
        self.api = JiraApi(
            self.store,
            administer=not self.profile.no_admin_permission,
            reordered=self.profile.bulk_results_reordered,
        )
        self.state = JiraState(self.store)
        self.limiter = WindowLimiter(*rate_limit) if rate_limit else None
        self._token = api_token(seed)
        self._serve(self._starlette())

    @property
    def credentials(self) -> dict[str, str]:
        """The e-mail and API token this site accepts, by connector setting name."""
        return {"email": API_USER_EMAIL, "api_token": self._token}

    @property
    def settings(self) -> dict[str, Any]:
        """Connector settings that fit the seeded data."""
        return {"project_key": "DEL", "mode": "epic"}

    def _starlette(self) -> Starlette:
        table = routes(self.api, JiraActions(self.store), self._wrap)
        return Starlette(routes=table, exception_handlers={HTTPException: _http_error})

    def _wrap(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if request.path_params.get("version") not in VERSIONS:
                return _json(404, {"errorMessages": ["null for uri"], "errors": {}})
            refused = self._authenticate(request)
            if refused is not None:
                return refused
            headers, limited = self._rate_limit()
            if limited is not None:
                return limited
            raw = await request.body()
            try:
                with self.store.lock:
                    status, body = handler(request, raw)
            except JqlError as exc:
                status, body = error(400, exc.message)
            except BadJson:
                status, body = error(400, "The request body is not valid JSON.")
            return _json(status, body, headers)

        return endpoint

    def _authenticate(self, request: Request) -> Response | None:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        headers = {
            "WWW-Authenticate": f'OAuth realm="{request.url.scheme}%3A%2F%2F{request.url.netloc}"'
        }
        if scheme.lower() != "basic" or not encoded.strip():
            return _json(401, _UNAUTHENTICATED, headers)
        try:
            user, _, token = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, token = "", ""
        if user.lower() != API_USER_EMAIL or token != self._token:
            headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
            return _json(401, _UNAUTHENTICATED, headers)
        return None

    def _rate_limit(self) -> tuple[dict[str, str], Response | None]:
        if self.limiter is None:
            return {}, None
        allowed, remaining, reset = self.limiter.take()
        headers = {
            "X-RateLimit-Limit": str(self.limiter.limit),
            "X-RateLimit-Remaining": str(remaining),
        }
        if remaining < self.limiter.limit * 0.2:
            headers["X-RateLimit-NearLimit"] = "true"
        if allowed:
            return headers, None
        wait = _whole_seconds(reset)
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
        headers |= {
            "Retry-After": str(wait),
            "RateLimit-Reason": "jira-burst-based",
            "X-RateLimit-Reset": when.strftime("%Y-%m-%dT%H:%MZ"),
        }
        return headers, _json(
            429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers
        )


def _seed(store: JiraStore, seed_value: int, records: int, anchor: dt.datetime) -> None:
    with store.lock:
        seed(store, seed=seed_value, records=records, anchor=anchor)


def _whole_seconds(value: float) -> int:
    """``Retry-After`` as Jira sends it: whole seconds (RFC 9110 delta-seconds), rounded up.

    Never 0: a window that resets in a fraction of a second still asks for one.
    """
    return max(1, math.ceil(value))


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = (
        "null for uri" if status == 404 else "Method Not Allowed" if status == 405 else str(exc)
    )
    return _json(status, {"errorMessages": [message], "errors": {}})
