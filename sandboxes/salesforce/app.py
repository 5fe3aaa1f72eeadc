"""A local emulator of the Salesforce REST API (Starlette ASGI app).

It answers the calls the connector makes and those scripts commonly make
with the official SDKs, with Salesforce's paths, payloads, paging, error
bodies and headers: the OAuth 2.0 token endpoint, ``/services/data`` versions
and limits, SOQL query / queryAll with ``nextRecordsUrl`` paging honouring
``Sforce-Query-Options: batchSize``, SOSL search, sObject Collections,
sObject rows (by id and by external id, delete to the recycle bin), describe
and describe global, Get Updated / Get Deleted (:mod:`.sandbox_rest`), and
SOAP ``getUserInfo``. Every API response carries ``Sforce-Limit-Info``; an
exhausted daily allocation answers 403 ``REQUEST_LIMIT_EXCEEDED``. It imports
nothing from the connector, so a shared mistake cannot hide.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handoff_hub.sandboxes.kit import (
    CallJournal,
    Faults,
)
from handoff_hub.sandboxes.kit.asgi import json_response as _json
from handoff_hub.sandboxes.kit.profile import ProfileChoice, load_profile
from handoff_hub.sandboxes.kit.sandbox import SandboxBase, oauth_credentials
from handoff_hub.sandboxes.salesforce import api as api
from handoff_hub.sandboxes.salesforce import soap as soap
from handoff_hub.sandboxes.salesforce.auth import TokenIssuer
from handoff_hub.sandboxes.salesforce.cursors import QueryCursors
from handoff_hub.sandboxes.salesforce.org import org_schema
from handoff_hub.sandboxes.salesforce.profile import SalesforceOrgProfile
from handoff_hub.sandboxes.salesforce.rest import DataApi, Handler
from handoff_hub.sandboxes.salesforce.seed import INTEGRATION_USERNAME, seed, stage
from handoff_hub.sandboxes.salesforce.soql import SoqlError
from handoff_hub.sandboxes.salesforce.state import ApiAllocation, SandboxState
from handoff_hub.sandboxes.salesforce.store import RecordStore

__all__ = ["SalesforceSandbox"]

LATEST_VERSION = 62
_SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
_LIMIT_EXCEEDED = [
    {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
]
_LIMIT_FAULT = ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


class SalesforceSandbox(SandboxBase):
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
                r"/services/Soap/u/[0-9.]+",  # getUserInfo: the org's currency
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
        self.data_api = DataApi(self.store, self.allocation, QueryCursors(seed))
        self._serve(self._starlette())

    @property
    def credentials(self) -> dict[str, str]:
        """Credential values this org accepts, by connector setting name."""
        return oauth_credentials(self.issuer)

    @property
    def settings(self) -> dict[str, Any]:
        """Connector settings that fit this org."""
        return {
            "auth_flow": "client_credentials",
            "external_id_field": "Handoff_Hub_Id__c",
            "username": INTEGRATION_USERNAME,
        }

    def _usernames(self) -> dict[str, str]:
        with self.store.lock:
            users = self.store.records("User")
        return {u["Username"]: u["Id"] for u in users if u.get("IsActive")}

    def _starlette(self) -> Starlette:
        routes = [
            Route("/services/oauth2/token", self._token, methods=["POST"]),
            Route("/services/data", self._versions, methods=["GET"]),
            Route("/services/Soap/u/{version}", self._soap, methods=["POST"]),
            *self.data_api.routes(self._api),
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
        form = {**_basic_client(request.headers.get("Authorization", "")), **form}
        origin = f"{request.url.scheme}://{request.url.netloc}"
        status, body = self.issuer.grant(
            form, origin=origin, instance_url=self.instance_url or origin
        )
        return _json(status, body)

    async def _versions(self, _request: Request) -> Response:
        return _json(200, api.versions(LATEST_VERSION))


def _seed_store(store: RecordStore, seed_value: int, records: int, now: dt.datetime) -> None:
    anchor = now.replace(minute=0, second=0, microsecond=0)
    seed(store, seed=seed_value, records=records, anchor=anchor)


def _supported(version: str) -> bool:
    major, dot, minor = version.partition(".")
    return major.isdigit() and dot == "." and minor == "0" and 20 <= int(major) <= LATEST_VERSION


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() in {"bearer", "oauth"} and token.strip() else None


def _basic_client(header: str) -> dict[str, str]:
    """``client_id`` and ``client_secret`` sent as HTTP Basic (RFC 6749 2.3.1), if any."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return {}
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return {}
    return {"client_id": unquote_plus(client_id), "client_secret": unquote_plus(secret)}


def _soap_reply(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type=soap.SOAP_CONTENT_TYPE)


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = "The requested resource does not exist" if status == 404 else str(exc)
    code = "NOT_FOUND" if status == 404 else "METHOD_NOT_ALLOWED" if status == 405 else "ERROR"
    return _json(status, [{"errorCode": code, "message": message}])
