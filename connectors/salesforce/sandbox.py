"""A local emulator of the Salesforce REST API (Starlette ASGI app).

It answers the calls the connector makes (and a few more), with Salesforce's
paths, payloads, paging, error bodies and headers: the OAuth 2.0 token
endpoint, ``/services/data`` versions and limits, SOQL query with
``nextRecordsUrl`` paging honouring ``Sforce-Query-Options: batchSize``,
sObject Collections, single-record sObject reads and writes, and describe.
Every API response carries ``Sforce-Limit-Info``; an exhausted daily
allocation answers 403 ``REQUEST_LIMIT_EXCEEDED``. It imports nothing from the
connector, so a shared mistake cannot hide.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import string
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.salesforce import sandbox_api as api
from connectors.salesforce import sandbox_soap as soap
from connectors.salesforce.sandbox_auth import TokenIssuer
from connectors.salesforce.sandbox_org import org_schema
from connectors.salesforce.sandbox_profile import SalesforceOrgProfile
from connectors.salesforce.sandbox_query import run_query
from connectors.salesforce.sandbox_schema import describe_object
from connectors.salesforce.sandbox_seed import INTEGRATION_USERNAME, seed, stage
from connectors.salesforce.sandbox_soql import SoqlError
from connectors.salesforce.sandbox_state import ApiAllocation, SandboxState
from connectors.salesforce.sandbox_store import RecordStore
from hub.sandbox_profile import ProfileChoice, load_profile
from hub.sandboxkit import (
    ASGIApp,
    CallJournal,
    FaultMiddleware,
    Faults,
    ProductJSONResponse,
    SyncASGITransport,
)

__all__ = ["SalesforceSandbox"]

LATEST_VERSION = 62
MAX_OPEN_CURSORS = 10
_DATA = "/services/data/v{version}"
_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
_LIMIT_EXCEEDED = [
    {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
]
_LIMIT_FAULT = ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
Reply = tuple[int, Any]
Handler = Callable[[Request, str], Awaitable[Reply]]


@dataclass
class _Cursor:
    rows: list[dict[str, Any]]
    batch: int
    total: int


class SalesforceSandbox:
    """An in-memory Salesforce org behind the REST API.

    Args:
        seed: Seed of the generated data and credentials.
        records: Number of opportunities (other objects scale with it).
        profile: The org it plays: a preset name (``hard``), a YAML file or values.
        faults: Faults to inject (429, 5xx, timeouts, dropped connections).
        token_ttl_seconds: Lifetime of access tokens; None: until expired by hand.
        jwt_public_key: PEM public key that JWT bearer assertions must verify against.
        daily_api_limit: The org's daily API request allocation.
        instance_url: ``instance_url`` in token responses; default: the request's origin.
        clock: Current time for audit stamps (default: the real UTC time).
    """

    name = "salesforce"
    profile_class = SalesforceOrgProfile

    def __init__(
        self,
        *,
        seed: int = 0,
        records: int = 50,
        faults: Faults | None = None,
        profile: ProfileChoice = None,
        token_ttl_seconds: float | None = None,
        jwt_public_key: str | None = None,
        daily_api_limit: int = 15000,
        instance_url: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.faults = faults or Faults()
        self.profile = load_profile(SalesforceOrgProfile, profile)
        self.journal = CallJournal(
            read_only_posts=(
                r"/services/oauth2/token",
                r"/services/data/v[0-9.]+/composite/sobjects/[A-Za-z0-9_]+",  # retrieve by ids
            )
        )
        now = clock or (lambda: dt.datetime.now(dt.UTC))
        self.store = RecordStore(now, schema=org_schema(self.profile))
        _seed_store(self.store, seed, records, now())
        stage(self.store, self.profile)
        self.issuer = TokenIssuer(
            seed=seed,
            ttl=token_ttl_seconds,
            public_key=jwt_public_key,
            usernames=self._usernames,
            run_as=INTEGRATION_USERNAME,
        )
        self.allocation = ApiAllocation(daily_api_limit)
        self.state = SandboxState(self.store, self.issuer, self.allocation)
        self.instance_url = instance_url
        self._cursors: dict[str, _Cursor] = {}
        self._rng = random.Random(f"salesforce-cursor-{seed}")
        self._lock = threading.Lock()
        self._app = FaultMiddleware(
            _strip_trailing_slash(self._starlette()), faults=self.faults, journal=self.journal
        )

    @property
    def app(self) -> ASGIApp:
        """The ASGI app, wrapped in FaultMiddleware."""
        return self._app

    @property
    def credentials(self) -> dict[str, str]:
        """Credential values this org accepts, by connector setting name."""
        return {
            "client_id": self.issuer.client_id,
            "client_secret": self.issuer.client_secret,
            "refresh_token": self.issuer.refresh_token,
        }

    @property
    def settings(self) -> dict[str, Any]:
        """Connector settings that fit this org."""
        return {
            "auth_flow": "client_credentials",
            "external_id_field": "Handoff_Hub_Id__c",
            "username": INTEGRATION_USERNAME,
        }

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport to the app."""
        return SyncASGITransport(self.app)

    def _usernames(self) -> dict[str, str]:
        with self.store.lock:
            users = self.store.records("User")
        return {u["Username"]: u["Id"] for u in users if u.get("IsActive")}

    def _starlette(self) -> Starlette:
        data = "/services/data/v{version}"
        routes = [
            Route("/services/oauth2/token", self._token, methods=["POST"]),
            Route("/services/data", self._versions, methods=["GET"]),
            Route("/services/Soap/u/{version}", self._soap, methods=["POST"]),
            Route(data, self._api(self._resources), methods=["GET"]),
            Route(data + "/limits", self._api(self._limits), methods=["GET"]),
            Route(data + "/query", self._api(self._query), methods=["GET"]),
            Route(data + "/query/{locator}", self._api(self._query_more), methods=["GET"]),
            Route(
                data + "/composite/sobjects",
                self._api(self._collection_save, writes=True),
                methods=["POST", "PATCH"],
            ),
            Route(
                data + "/composite/sobjects/{sobject}",
                self._api(self._collection_get),
                methods=["GET", "POST"],
            ),
            Route(
                data + "/composite/sobjects/{sobject}/{field}",
                self._api(self._upsert, writes=True),
                methods=["PATCH"],
            ),
            Route(
                data + "/sobjects/{sobject}/describe", self._api(self._describe), methods=["GET"]
            ),
            Route(
                data + "/sobjects/{sobject}",
                self._api(self._sobject_create, writes=True),
                methods=["POST"],
            ),
            Route(
                data + "/sobjects/{sobject}/{record_id}",
                self._api(self._sobject_row, writes=True),
                methods=["GET", "PATCH"],
            ),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})

    def _api(
        self, handler: Handler, *, writes: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a REST handler: version, session, allocation, error bodies.

        A write request (``writes``) lets one held save of a long transaction
        commit afterwards when the profile plays ``late_commits``.
        """

        async def endpoint(request: Request) -> Response:
            version = request.path_params["version"]
            if not _supported(version):
                return _json(
                    404,
                    [
                        {
                            "errorCode": "NOT_FOUND",
                            "message": "The requested resource does not exist",
                        }
                    ],
                )
            if not self.issuer.valid(_bearer(request)):
                return _json(401, _SESSION_EXPIRED)
            if not self.allocation.take():
                return _json(403, _LIMIT_EXCEEDED, {"Sforce-Limit-Info": self.allocation.header})
            limit = {"Sforce-Limit-Info": self.allocation.header}
            try:
                status, body = await handler(request, version)
            except SoqlError as exc:
                status, body = 400, [{"message": exc.message, "errorCode": exc.code}]
            except api.BadRequest as exc:
                status, body = exc.status, exc.body
            if writes and self.profile.late_commits and request.method != "GET":
                self._commit_one()
            return _json(status, body, limit)

        return endpoint

    def _commit_one(self) -> None:
        with self.store.lock:
            if self.store.held:
                self.store.commit(next(iter(self.store.held)))

    async def _soap(self, request: Request) -> Response:
        text = (await request.body()).decode("utf-8", "replace")
        if not _supported(request.path_params["version"]):
            return _soap_reply(500, soap.fault("UNSUPPORTED_API_VERSION", "Invalid API version"))
        if not self.issuer.valid(soap.session_id(text)):
            message = "Invalid Session ID found in SessionHeader: Illegal Session"
            return _soap_reply(500, soap.fault("INVALID_SESSION_ID", message))
        if not self.allocation.take():
            return _soap_reply(500, soap.fault(*_LIMIT_FAULT))
        name = soap.operation(text)
        if name != "getUserInfo":
            message = f"No operation available for request {{urn:partner.soap.sforce.com}}{name}"
            return _soap_reply(500, soap.fault("INVALID_OPERATION", message))
        with self.store.lock:
            return _soap_reply(200, soap.user_info(self.store, INTEGRATION_USERNAME))

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        origin = f"{request.url.scheme}://{request.url.netloc}"
        status, body = self.issuer.grant(
            form, origin=origin, instance_url=self.instance_url or origin
        )
        return _json(status, body)

    async def _versions(self, _request: Request) -> Response:
        return _json(200, api.versions(LATEST_VERSION))

    async def _resources(self, _request: Request, version: str) -> Reply:
        root = _DATA.format(version=version)
        names = ("sobjects", "query", "composite", "limits", "queryAll", "search")
        return 200, {name: f"{root}/{name}" for name in names}

    async def _limits(self, _request: Request, _version: str) -> Reply:
        used, limit = self.allocation.used, self.allocation.limit
        return 200, {"DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)}}

    async def _query(self, request: Request, version: str) -> Reply:
        text = request.query_params.get("q")
        if not text:
            raise SoqlError("MALFORMED_QUERY", "A query string has to be specified")
        batch = _batch_size(request.headers.get("Sforce-Query-Options", ""))
        with self.store.lock:
            rows, total = run_query(text, self.store, version)
        if len(rows) <= batch:
            return 200, {"totalSize": total, "done": True, "records": rows}
        with self._lock:
            locator = "01g" + "".join(self._rng.choices(string.ascii_letters + string.digits, k=15))
            self._cursors[locator] = _Cursor(rows, batch, total)
            while len(self._cursors) > MAX_OPEN_CURSORS:
                self._cursors.pop(next(iter(self._cursors)))
        return 200, self._page(locator, 0, version)

    async def _query_more(self, request: Request, version: str) -> Reply:
        locator, _, offset = request.path_params["locator"].rpartition("-")
        cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit() or int(offset) >= len(cursor.rows):
            raise api.BadRequest(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._page(locator, int(offset), version)

    def _page(self, locator: str, offset: int, version: str) -> dict[str, Any]:
        cursor = self._cursors[locator]
        end = offset + cursor.batch
        page: dict[str, Any] = {"totalSize": cursor.total, "done": end >= len(cursor.rows)}
        if end < len(cursor.rows):
            page["nextRecordsUrl"] = f"{_DATA.format(version=version)}/query/{locator}-{end}"
        return {**page, "records": cursor.rows[offset:end]}

    async def _collection_save(self, request: Request, _version: str) -> Reply:
        body = await _body(request)
        with self.store.lock:
            return 200, api.save_collection(self.store, body, creating=request.method == "POST")

    async def _collection_get(self, request: Request, version: str) -> Reply:
        obj = api.object_or_404(self.store.schema, request.path_params["sobject"])
        if request.method == "POST":
            body = await _body(request)
            ids, fields = (
                (body.get("ids"), body.get("fields")) if isinstance(body, dict) else (None, None)
            )
        else:
            ids = _split(request.query_params.get("ids"))
            fields = _split(request.query_params.get("fields"))
        with self.store.lock:
            return 200, api.retrieve(self.store, obj, ids, fields, version)

    async def _upsert(self, request: Request, _version: str) -> Reply:
        obj = api.object_or_404(self.store.schema, request.path_params["sobject"])
        body = await _body(request)
        with self.store.lock:
            return 200, api.upsert_collection(self.store, obj, request.path_params["field"], body)

    async def _describe(self, request: Request, version: str) -> Reply:
        obj = api.object_or_404(self.store.schema, request.path_params["sobject"])
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return 200, describe_object(obj, version, origin, self.store.schema.objects)

    async def _sobject_create(self, request: Request, _version: str) -> Reply:
        obj = api.object_or_404(self.store.schema, request.path_params["sobject"])
        body = await _body(request)
        with self.store.lock:
            outcome = self.store.insert(obj, body if isinstance(body, dict) else {})
        if not outcome.ok:
            return 400, [e.as_rest() for e in outcome.errors]
        return 201, {"id": outcome.id, "success": True, "errors": []}

    async def _sobject_row(self, request: Request, version: str) -> Reply:
        obj = api.object_or_404(self.store.schema, request.path_params["sobject"])
        record_id = request.path_params["record_id"]
        if request.method == "PATCH":
            body = await _body(request)
            with self.store.lock:
                outcome = self.store.modify(obj, record_id, body if isinstance(body, dict) else {})
            return (204, None) if outcome.ok else (400, [e.as_rest() for e in outcome.errors])
        with self.store.lock:
            found = self.store.readable(record_id)
            if found is None or found[0] != obj.name:
                raise api.BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
            fields = _split(request.query_params.get("fields"))
            return 200, api.project(obj, found[1], fields, version)


def _seed_store(store: RecordStore, seed_value: int, records: int, now: dt.datetime) -> None:
    anchor = now.replace(minute=0, second=0, microsecond=0)
    seed(store, seed=seed_value, records=records, anchor=anchor)


def _supported(version: str) -> bool:
    major, dot, minor = version.partition(".")
    return major.isdigit() and dot == "." and minor == "0" and 20 <= int(major) <= LATEST_VERSION


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() in {"bearer", "oauth"} and token.strip() else None


def _batch_size(header: str) -> int:
    match = _BATCH.search(header)
    size = int(match.group(1)) if match else 2000
    return min(2000, max(200, size))


def _split(value: str | None) -> list[str] | None:
    return [v for v in value.split(",") if v] if value else None


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise api.BadRequest(
            400, "JSON_PARSER_ERROR", "Unexpected character in the request body"
        ) from None


def _soap_reply(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type=soap.SOAP_CONTENT_TYPE)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return ProductJSONResponse(body, status_code=status, headers=headers)


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = "The requested resource does not exist" if status == 404 else str(exc)
    code = "NOT_FOUND" if status == 404 else "METHOD_NOT_ALLOWED" if status == 405 else "ERROR"
    return _json(status, [{"errorCode": code, "message": message}])


def _strip_trailing_slash(app: ASGIApp) -> ASGIApp:
    async def stripped(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {
                **scope,
                "path": path.rstrip("/") or "/",
                "raw_path": path.rstrip("/").encode(),
            }
        await app(scope, receive, send)

    return stripped
