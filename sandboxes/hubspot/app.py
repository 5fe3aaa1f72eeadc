"""A local emulator of HubSpot's CRM API (Starlette ASGI app).

It answers the calls the connector and HubSpot's own SDK make, with
HubSpot's paths, payloads, paging, error bodies and headers, written from
HubSpot's public developer documentation: CRM objects v3 (list, read,
create, update, archive, search, batch read / create / update / upsert /
archive; archived records with ``archived=true``), properties, pipelines
and their stages, owners, associations v4, account info and the OAuth v1
token endpoint (record endpoints in :mod:`handoff_hub.sandboxes.hubspot.objects`).
The org it plays is its :class:`HubSpotPortalProfile`. Responses
carry HubSpot's rate-limit headers; over a limit it answers 429 with the
documented body. It imports nothing from the connector, so a shared
mistake cannot hide.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handoff_hub.sandboxes.hubspot import api as api
from handoff_hub.sandboxes.hubspot import portal as portal
from handoff_hub.sandboxes.hubspot.auth import TokenIssuer
from handoff_hub.sandboxes.hubspot.errors import ApiError
from handoff_hub.sandboxes.hubspot.http import bool_param, int_param
from handoff_hub.sandboxes.hubspot.limits import RateLimits, Throttle, retry_after
from handoff_hub.sandboxes.hubspot.objects import ObjectEndpoints
from handoff_hub.sandboxes.hubspot.profile import HubSpotPortalProfile
from handoff_hub.sandboxes.hubspot.search import WINDOW, SearchViews
from handoff_hub.sandboxes.hubspot.seed import clear_some, deactivate_some, import_at_once, seed
from handoff_hub.sandboxes.hubspot.state import SandboxState
from handoff_hub.sandboxes.hubspot.store import RecordStore
from handoff_hub.sandboxes.kit import (
    CallJournal,
    Faults,
    ProductJSONResponse,
)
from handoff_hub.sandboxes.kit.profile import ProfileChoice, load_profile
from handoff_hub.sandboxes.kit.sandbox import SandboxBase, oauth_credentials

__all__ = ["HubSpotSandbox"]

Reply = tuple[int, Any]
Handler = Callable[[Request], Awaitable[Reply]]


class HubSpotSandbox(SandboxBase):
    """An in-memory HubSpot portal behind the CRM API.

    Args:
        seed: Seed of the generated data and credentials.
        records: Number of deals (other objects scale with it).
        profile: The org it plays: a preset name (``hard``), a YAML file or values.
        faults: Faults to inject (429, 5xx, timeouts, dropped connections).
        rate_limit: The portal's limits; default: HubSpot's published ones.
        clock: Current time, for record stamps, tokens and rate windows
            (default: the real UTC time).
        search_window: Results a search may page through (HubSpot: 10,000).
        portal_id: The account id; default: derived from the seed.
    """

    name = "hubspot"
    profile_class = HubSpotPortalProfile

    def __init__(
        self,
        *,
        seed: int = 0,
        records: int = 50,
        faults: Faults | None = None,
        profile: ProfileChoice = None,
        rate_limit: RateLimits | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        search_window: int = WINDOW,
        portal_id: int | None = None,
    ) -> None:
        self.faults = faults or Faults()
        self.profile = load_profile(HubSpotPortalProfile, profile)
        self.journal = CallJournal(
            read_only_posts=(
                r"/oauth/v1/token",
                r"/oauth/v2/private-apps/get/access-token-info",
                r"/crm/v3/objects/[^/]+/search",
                r"/crm/v3/objects/[^/]+/batch/read",
                r"/crm/v4/associations/[^/]+/[^/]+/batch/read",
            )
        )
        now = clock or (lambda: dt.datetime.now(dt.UTC))
        ticks: Callable[[], float] = (lambda: now().timestamp()) if clock else time.monotonic
        self.store = RecordStore(
            now,
            portal_id=portal_id or 4_815_162 + seed,
            keep_cleared=self.profile.blank_as_empty_string,
        )
        _seed_store(self.store, seed, records, now(), self.profile)
        self.issuer = TokenIssuer(seed=seed, clock=now)
        self.throttle = Throttle(rate_limit or RateLimits(), ticks)
        self.state = SandboxState(self.store, self.issuer, self.throttle)
        self.search_window = search_window
        self._searches = SearchViews(self.store)
        self._rng = random.Random(f"hubspot-correlation-{seed}")
        self.answers = api.Answers(
            shuffled=self.profile.shuffled_batches,
            traces=not self.profile.no_trace_ids,
            partial=self.profile.partial_batches,
            leads_require_contact=self.profile.leads_require_contact,
            rng=random.Random(f"hubspot-batch-order-{seed}"),
        )
        self._lock = threading.Lock()
        self._serve(self._starlette())

    @property
    def _single(self) -> api.Answers:
        """How single-record endpoints answer: refused with 400, never multi-status."""
        return api.Answers(leads_require_contact=self.profile.leads_require_contact)

    @property
    def credentials(self) -> dict[str, str]:
        """The private-app access token this portal accepts (auth_flow private_app)."""
        return {"access_token": self.issuer.access_token}

    @property
    def oauth_credentials(self) -> dict[str, str]:
        """The OAuth app's client id and secret and a refresh token (auth_flow oauth)."""
        return oauth_credentials(self.issuer)

    @property
    def settings(self) -> dict[str, Any]:
        """Connector settings that fit this portal."""
        return {
            "auth_flow": "private_app",
            "portal_id": self.store.portal_id,
            "id_property": "handoff_hub_id",
            "search_window": self.search_window,
        }

    def _correlation(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _starlette(self) -> Starlette:
        objects = "/crm/v3/objects/{object_type}"
        v4 = "/crm/v4/objects/{from_type}/{from_id}/associations"
        pipelines = "/crm/v3/pipelines/{object_type}"
        crm = ObjectEndpoints(
            self.store, self.answers, self._single, self._searches, self.search_window
        )
        routes = [
            Route("/oauth/v1/token", self._token, methods=["POST"]),
            Route(
                "/oauth/v2/private-apps/get/access-token-info",
                self._token_info,
                methods=["POST"],
            ),
            Route("/account-info/v3/details", self._api(self._account), methods=["GET"]),
            Route(
                "/account-info/v3/api-usage/daily/private-apps",
                self._api(self._usage),
                methods=["GET"],
            ),
            Route("/crm/v3/owners", self._api(self._owners), methods=["GET"]),
            Route("/crm/v3/owners/{owner_id}", self._api(self._owner), methods=["GET"]),
            Route(pipelines, self._api(self._pipelines), methods=["GET"]),
            Route(pipelines + "/{pipeline_id}", self._api(self._pipeline), methods=["GET"]),
            Route(pipelines + "/{pipeline_id}/stages", self._api(self._stages), methods=["GET"]),
            Route("/crm/v3/properties/{object_type}", self._api(self._properties), methods=["GET"]),
            Route(
                "/crm/v3/properties/{object_type}/{name}",
                self._api(self._property),
                methods=["GET"],
            ),
            Route(objects + "/search", self._api(crm.search, search=True), methods=["POST"]),
            Route(objects + "/batch/{action}", self._api(crm.batch), methods=["POST"]),
            Route(objects, self._api(crm.collection), methods=["GET", "POST"]),
            Route(objects + "/{object_id}", self._api(crm.row), methods=["GET", "PATCH", "DELETE"]),
            Route(
                "/crm/v4/associations/{from_type}/{to_type}/batch/read",
                self._api(crm.association_batch),
                methods=["POST"],
            ),
            Route(v4 + "/{to_type}", self._api(crm.association_list), methods=["GET"]),
            Route(
                v4 + "/default/{to_type}/{to_id}",
                self._api(crm.associate_default),
                methods=["PUT"],
            ),
            Route(v4 + "/{to_type}/{to_id}", self._api(crm.association), methods=["PUT", "DELETE"]),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: self._http_error})

    def _api(
        self, handler: Handler, *, search: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                self.issuer.check(request.headers.get("Authorization"))
            except ApiError as exc:
                return _json(exc.status, exc.body(self._correlation()))
            verdict = self.throttle.take(search=search)
            if not verdict.allowed:
                headers = {**verdict.headers, "Retry-After": retry_after(verdict.retry_after)}
                return _json(429, verdict.refusal(self._correlation()), headers)
            try:
                status, body = await handler(request)
            except ApiError as exc:
                status, body = exc.status, exc.body(self._correlation())
            return _json(status, body, verdict.headers)

        return endpoint

    async def _http_error(self, _request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = "resource not found" if status == 404 else "method not allowed"
        category = "OBJECT_NOT_FOUND" if status == 404 else "VALIDATION_ERROR"
        return _json(status, ApiError(status, category, message).body(self._correlation()))

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = self.issuer.grant(form)
        return _json(status, body)

    async def _token_info(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        status, answer = self.issuer.token_info(body, hub_id=self.store.portal_id)
        return _json(status, answer)

    async def _account(self, _request: Request) -> Reply:
        return portal.account_details(self.store)

    async def _usage(self, _request: Request) -> Reply:
        return portal.daily_usage(self.store, self.throttle)

    async def _owners(self, request: Request) -> Reply:
        limit = int_param(request, "limit", 100)
        after = int_param(request, "after", 0)
        email = request.query_params.get("email")
        archived = bool_param(request, "archived")
        with self.store.lock:
            return portal.owners_page(
                self.store, limit=limit, after=after, email=email, archived=archived
            )

    async def _owner(self, request: Request) -> Reply:
        archived = bool_param(request, "archived")
        with self.store.lock:
            return portal.one_owner(self.store, request.path_params["owner_id"], archived=archived)

    async def _pipelines(self, request: Request) -> Reply:
        return portal.pipelines(api.object_or_error(request.path_params["object_type"]))

    async def _pipeline(self, request: Request) -> Reply:
        obj = api.object_or_error(request.path_params["object_type"])
        return portal.one_pipeline(obj, request.path_params["pipeline_id"])

    async def _stages(self, request: Request) -> Reply:
        obj = api.object_or_error(request.path_params["object_type"])
        return portal.stages(obj, request.path_params["pipeline_id"])

    async def _properties(self, request: Request) -> Reply:
        return portal.properties(api.object_or_error(request.path_params["object_type"]))

    async def _property(self, request: Request) -> Reply:
        obj = api.object_or_error(request.path_params["object_type"])
        return portal.one_property(obj, request.path_params["name"])


def _seed_store(
    store: RecordStore,
    seed_value: int,
    records: int,
    now: dt.datetime,
    profile: HubSpotPortalProfile,
) -> None:
    anchor = now.replace(minute=0, second=0, microsecond=0)
    seed(store, seed=seed_value, records=records, anchor=anchor)
    if profile.archived_owners:
        deactivate_some(store)
    if profile.shared_modified_times:
        import_at_once(store, anchor - dt.timedelta(hours=12))
    if profile.blank_as_empty_string:
        clear_some(store)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if status == 204:
        return Response(status_code=204, headers=headers)
    return ProductJSONResponse(body, status_code=status, headers=headers)
