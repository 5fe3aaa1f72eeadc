"""A local emulator of the Asana REST API 1.0 (Starlette ASGI app).

It answers below ``/api/1.0`` with Asana's payloads (``{"data": ...}``),
``opt_fields``, offset paging (``limit`` 1-100, opaque expiring offset
tokens, ``next_page {offset, path, uri}``), error bodies
(``{"errors": [{"message", "help", "phrase"}]}``, 400/401/402/403/404), the
batch API (at most 10 actions, each answered on its own), project templates
with instantiation jobs that finish on a later poll, and ``modified_since``.
Auth is a bearer token: a personal access token, or an OAuth access token
from ``POST /-/oauth_token`` (refresh-token grant). With ``rate_limit`` set,
an exhausted window answers 429 with ``Retry-After``; a batch counts one
request per action, as Asana counts it. It imports nothing from the
connector, so a shared mistake cannot hide.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handoff_hub.sandboxes.asana import seed as seeded
from handoff_hub.sandboxes.asana.api import AsanaReads
from handoff_hub.sandboxes.asana.auth import AsanaAuth
from handoff_hub.sandboxes.asana.batch import actions_of, run_batch
from handoff_hub.sandboxes.asana.org import play
from handoff_hub.sandboxes.asana.paging import OffsetBook
from handoff_hub.sandboxes.asana.profile import AsanaWorkspaceProfile
from handoff_hub.sandboxes.asana.router import Call, Reply, error
from handoff_hub.sandboxes.asana.routes import build_router
from handoff_hub.sandboxes.asana.state import AsanaState
from handoff_hub.sandboxes.asana.store import AsanaStore
from handoff_hub.sandboxes.asana.templates import TemplateJobs
from handoff_hub.sandboxes.asana.write import AsanaWrites
from handoff_hub.sandboxes.kit import (
    Call as JournalCall,
)
from handoff_hub.sandboxes.kit import (
    CallJournal,
    Faults,
    ProductJSONResponse,
    WindowLimiter,
)
from handoff_hub.sandboxes.kit.profile import ProfileChoice, load_profile
from handoff_hub.sandboxes.kit.sandbox import SandboxBase, oauth_credentials

__all__ = ["AsanaSandbox"]

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
_RATE_LIMITED = (
    "You've made too many requests and hit a rate limit. "
    "Please retry after the given amount of time."
)


class AsanaSandbox(SandboxBase):
    """An in-memory Asana organization behind the REST API.

    Args:
        seed: Seed of the generated data and of the credentials.
        records: About how many tasks the delivery projects hold.
        profile: The org it plays: a preset name (``hard``), a YAML file or values.
        faults: Faults to inject (429, 5xx, timeouts, dropped connections).
        rate_limit: ``(requests, window_seconds)``: a fixed-window limit
            enforced with 429 + ``Retry-After``.
        clock: Current time (default: the real UTC time); data is seeded relative to it
            and the rate-limit window runs on it.
        premium: Whether the workspace is premium (the task search answers 402 otherwise;
            the profile's ``free_plan`` also turns it off).
        offset_ttl: Seconds an offset token stays valid.
    """

    name = "asana"
    profile_class = AsanaWorkspaceProfile

    def __init__(
        self,
        *,
        seed: int = 0,
        records: int = 50,
        faults: Faults | None = None,
        profile: ProfileChoice = None,
        rate_limit: tuple[int, float] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        premium: bool = True,
        offset_ttl: float = 600.0,
    ) -> None:
        self.faults = faults or Faults()
        self.profile = load_profile(AsanaWorkspaceProfile, profile)
        self.journal = CallJournal(read_only_posts=(r"/-/oauth_token", r"/api/1\.0/batch"))
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.store = AsanaStore(clock=self.clock)
        anchor = self.clock().astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        with self.store.lock:
            seeded.seed(self.store, seed=seed, records=records, anchor=anchor)
            self.store.premium = premium
            play(self.store, self.profile)
        self.auth = AsanaAuth(seed=seed, user=self.store.api_user)
        self.book = OffsetBook(secret=f"asana-offsets-{seed}".encode(), ttl=offset_ttl)
        self.router = build_router(
            AsanaReads(self.store, self.book), AsanaWrites(self.store), TemplateJobs(self.store)
        )
        self.state = AsanaState(self.store, self.auth, self.book)
        self.limiter = (
            WindowLimiter(*rate_limit, clock=lambda: self.clock().timestamp())
            if rate_limit
            else None
        )
        self._serve(self._starlette(), fold_slashes=False)

    @property
    def credentials(self) -> dict[str, str]:
        """The personal access token this domain accepts (``auth_flow: pat``)."""
        return {"access_token": self.auth.pat}

    @property
    def oauth_credentials(self) -> dict[str, str]:
        """The OAuth app and refresh token this domain accepts (``auth_flow: oauth``)."""
        return oauth_credentials(self.auth)

    @property
    def settings(self) -> dict[str, Any]:
        """Connector settings that fit the seeded data."""
        return {
            "workspace_gid": seeded.WORKSPACE,
            "team_gid": seeded.TEAM,
            "budget_field": seeded.BUDGET_FIELD,
            "budget_currency_field": seeded.BUDGET_CURRENCY_FIELD,
            "crm_id_field": seeded.CRM_ID_FIELD,
            "health_field": seeded.HEALTH_FIELD,
            "customer_field": seeded.CUSTOMER_FIELD,
        }

    @property
    def template_gid(self) -> str:
        """The "Standard delivery" project template."""
        return seeded.TEMPLATE

    def _starlette(self) -> Starlette:
        routes = [
            Route("/-/oauth_token", self._token, methods=["POST"]),
            Route("/api/1.0/{path:path}", self._api, methods=_METHODS),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = self.auth.grant(form)
        return ProductJSONResponse(body, status_code=status)

    async def _api(self, request: Request) -> Response:
        if not self.auth.accepts(request.headers.get("Authorization", "")):
            return _json(*error(401, "Not Authorized"))
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return _json(*error(400, "Could not parse request data, invalid JSON"))
        call = Call(
            request.method,
            "/" + request.path_params["path"].strip("/"),
            _params(request),
            body,
            f"{request.url.scheme}://{request.url.netloc}",
        )
        actions: list[Any] | None = None
        if call.path == "/batch" and call.method == "POST":
            actions, refused = actions_of(call)
            if refused is not None:
                return _json(*refused)
        limited = self._rate_limit(len(actions) if actions else 1)
        if limited is not None:
            return limited
        with self.store.lock:
            reply: Reply = (
                run_batch(self.router, call, actions)
                if actions is not None
                else self.router.dispatch(call)
            )
        if actions is not None:
            self._journal_actions(actions, reply)
        return _json(*reply)

    def _journal_actions(self, actions: list[Any], reply: Reply) -> None:
        """Each action of a batch is a call of its own in the journal (the batch only carries)."""
        results = reply[1].get("data") if isinstance(reply[1], dict) else None
        for act, result in zip(actions, results or [], strict=False):
            if not isinstance(act, dict) or not isinstance(result, dict):
                continue
            self.journal.add(
                JournalCall(
                    str(act.get("method", "")).upper(),
                    "/api/1.0" + str(act.get("relative_path", "")),
                    int(result.get("status_code") or 0),
                    in_batch=True,
                )
            )

    def _rate_limit(self, cost: int) -> Response | None:
        if self.limiter is None:
            return None
        for _ in range(cost):
            allowed, _remaining, reset = self.limiter.take()
            if not allowed:
                status, body = error(429, _RATE_LIMITED)
                return _json(status, body, {"Retry-After": _seconds(reset)})
        return None


def _params(request: Request) -> dict[str, str]:
    """Query parameters; a repeated one (``opt_fields=a&opt_fields=b``) is joined with commas."""
    params: dict[str, str] = {}
    for key in request.query_params:
        params[key] = ",".join(request.query_params.getlist(key))
    return params


def _seconds(value: float) -> str:
    """Retry-After as Asana sends it: whole seconds, rounded up (a sub-second wait asks 1)."""
    return str(max(1, math.ceil(value)))


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return ProductJSONResponse(body, status_code=status, headers=headers)


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return _json(*error(status, "Not Found" if status == 404 else "Method Not Allowed"))
