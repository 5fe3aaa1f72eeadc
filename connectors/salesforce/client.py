"""Typed Salesforce REST API calls over :class:`hub.http.ApiClient`.

Auth is an :class:`~hub.http.OAuth2Token` built from one of three grant
request factories; the token response's ``instance_url`` becomes the API host.
Batches are cut to the sizes in :mod:`handoff_hub.connectors.salesforce.settings` here, so
callers hand over any number of records and get one result per record back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from handoff_hub.connectors.salesforce import settings, soap
from handoff_hub.hub.errors import AuthError, ConnectorError, RateLimitedError, TransientError
from handoff_hub.hub.http import ApiClient, NextUrlPaginator, OAuth2Token, PageRequest, chunks
from handoff_hub.hub.http.client import default_error_text
from handoff_hub.hub.http.concurrent import in_parallel, waves
from handoff_hub.hub.http.query import soql_field

if TYPE_CHECKING:
    from pydantic import SecretStr

    from handoff_hub.connectors.salesforce.config import SalesforceConfig, SalesforceSecrets
    from handoff_hub.hub.http.auth import TokenRequestFactory

__all__ = [
    "SalesforceAuth",
    "SalesforceClient",
    "describe_error",
    "jwt_audience",
    "observe_limits",
    "token_request_factory",
]

_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_FORBIDDEN = frozenset({403})


def _record_keys(batch: Sequence[Mapping[str, Any]], field: str) -> list[str]:
    """The records a batch writes (by Id or upsert key); two writing one record go in order."""
    return [str(r[field]) for r in batch if r.get(field)]


def describe_error(response: httpx.Response) -> str:
    """Error text from a Salesforce body: ``[{message, errorCode, fields}]`` or OAuth's."""
    try:
        body: Any = response.json()
    except ValueError:
        return default_error_text(response)
    if isinstance(body, list) and body and all(isinstance(e, Mapping) for e in body):
        return "; ".join(error_text(e) for e in body)
    if isinstance(body, Mapping) and "error" in body:
        return f"{body['error']}: {body.get('error_description', '')}".rstrip(": ")
    return default_error_text(response)


def error_text(error: Mapping[str, Any]) -> str:
    """``CODE: message (fields: a, b)`` for one Salesforce error object."""
    code = error.get("errorCode") or error.get("statusCode") or "ERROR"
    text = f"{code}: {error.get('message', '')}"
    fields = error.get("fields") or []
    return f"{text} (fields: {', '.join(map(str, fields))})" if fields else text


def observe_limits(response: httpx.Response) -> tuple[int | None, float | None]:
    """Remaining daily API requests from ``Sforce-Limit-Info: api-usage=N/M``."""
    match = _API_USAGE.search(response.headers.get(settings.LIMIT_INFO_HEADER, ""))
    if match is None:
        return None, None
    used, limit = int(match.group(1)), int(match.group(2))
    return max(0, limit - used), None


def token_request_factory(
    config: SalesforceConfig,
    secrets: SalesforceSecrets,
    login_url: str,
    *,
    clock: Callable[[], float] = time.time,
) -> TokenRequestFactory:
    """The grant request of the configured flow, as OAuth2Token wants it."""
    url = login_url.rstrip("/") + settings.TOKEN_PATH
    grant = settings.GRANT_TYPES[config.auth_flow]
    client_id = secrets.client_id.get_secret_value()

    def build(refresh: str | None) -> httpx.Request:
        form = {"grant_type": grant}
        if config.auth_flow == "client_credentials":
            form |= {"client_id": client_id, "client_secret": _reveal(secrets.client_secret)}
        elif config.auth_flow == "jwt_bearer":
            form["assertion"] = _jwt_assertion(config, secrets, login_url, clock())
        else:
            form |= {
                "client_id": client_id,
                "refresh_token": refresh or _reveal(secrets.refresh_token),
            }
            if secrets.client_secret is not None:
                form["client_secret"] = secrets.client_secret.get_secret_value()
        return httpx.Request("POST", url, data=form, headers={"Accept": "application/json"})

    return build


def _reveal(secret: SecretStr | None) -> str:
    return "" if secret is None else secret.get_secret_value()


def _jwt_assertion(
    config: SalesforceConfig, secrets: SalesforceSecrets, login_url: str, now: float
) -> str:
    claims = {
        "iss": secrets.client_id.get_secret_value(),
        "sub": config.username,
        "aud": jwt_audience(config, login_url),
        "exp": int(now) + settings.JWT_LIFETIME_SECONDS,
    }
    import jwt  # only this auth flow signs: its import (cryptography) is left to it

    return jwt.encode(claims, _reveal(secrets.private_key), algorithm=settings.JWT_ALGORITHM)


def jwt_audience(config: SalesforceConfig, login_url: str) -> str:
    """The configured ``aud``, else Salesforce's login host for this kind of org."""
    if config.jwt_audience:
        return config.jwt_audience.rstrip("/")
    login = login_url.rstrip("/")
    if login in settings.JWT_AUDIENCES:
        return login
    sandbox = any(marker in login for marker in settings.SANDBOX_HOST_MARKERS)
    return settings.JWT_AUDIENCES[1 if sandbox else 0]


class SalesforceAuth(OAuth2Token):
    """OAuth2Token that moves requests onto the token response's ``instance_url``."""

    def __init__(
        self,
        token_request: TokenRequestFactory,
        *,
        system: str,
        setting_hint: str,
        on_instance: Callable[[str], None],
    ) -> None:
        super().__init__(
            token_request, system=system, setting_hint=setting_hint, on_token=self._remember
        )
        self.instance_url: str | None = None
        self.session_id: str | None = None
        """The current access token, which the SOAP API takes as its session id."""
        self._on_instance = on_instance

    def _remember(self, body: Mapping[str, Any]) -> None:
        token = body.get("access_token")
        self.session_id = token if isinstance(token, str) and token else self.session_id
        url = body.get("instance_url")
        if isinstance(url, str) and url:
            self.instance_url = url.rstrip("/")
            self._on_instance(self.instance_url)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Run the OAuth2 flow; the API request itself goes to the instance host."""
        flow = super().auth_flow(request)
        outgoing = next(flow)
        while True:
            if outgoing is request:
                self._retarget(request)
            response = yield outgoing
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    def _retarget(self, request: httpx.Request) -> None:
        if self.instance_url is None:
            return
        target = httpx.URL(self.instance_url)
        if (request.url.scheme, request.url.host, request.url.port) == (
            target.scheme,
            target.host,
            target.port,
        ):
            return
        request.url = request.url.copy_with(
            scheme=target.scheme, host=target.host, port=target.port
        )
        request.headers["Host"] = target.netloc.decode("ascii")


class SalesforceClient:
    """The REST calls the connector makes, one method per resource."""

    def __init__(self, api: ApiClient, *, api_version: str) -> None:
        self.api = api
        self.version = api_version

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.api.system

    def _path(self, template: str, **parts: str) -> str:
        checked = {k: soql_field(v) for k, v in parts.items()}
        return template.format(version=self.version, **checked)

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.api.request(method, url, allow=_FORBIDDEN, **kwargs)
        if response.status_code == 403:
            raise self._forbidden(response, method, url)
        return self.api.json_of(response)

    def _forbidden(self, response: httpx.Response, method: str, url: str) -> ConnectorError:
        detail = describe_error(response)
        where = f"{method} {url}: HTTP 403"
        if settings.REQUEST_LIMIT_ERROR in detail:
            return RateLimitedError(
                f"{where}: the org's daily API request allocation is used up: {detail}",
                system=self.system,
                status=403,
            )
        return AuthError(
            f"{where}: the integration user lacks permission: {detail};"
            f" check {self.api.credentials_hint}",
            system=self.system,
            status=403,
        )

    def query(self, soql: str, *, batch_size: int) -> Iterator[Mapping[str, Any]]:
        """Yield each page of a SOQL query, following ``nextRecordsUrl``.

        Every page asks for ``batch_size`` records in the query-options header.
        With ``concurrency`` above 1 the next page is fetched while the caller
        works on this one.
        """
        paginator = NextUrlPaginator(url_path="nextRecordsUrl", done_path="done")
        first = PageRequest(
            url=self._path(settings.QUERY_PATH),
            params={"q": soql},
            headers={settings.QUERY_OPTIONS_HEADER: f"batchSize={batch_size}"},
        )
        return self.api.paginate("GET", first, paginator, fetch=self._query_page)

    def _query_page(self, method: str, request: PageRequest) -> Mapping[str, Any]:
        """One query page through :meth:`_call` (its 403 reading), checked for records."""
        body = self._call(
            method, request.url, params=request.params or None, headers=request.headers
        )
        if not isinstance(body, Mapping) or not isinstance(body.get("records"), list):
            raise ConnectorError("query answered without a records list", system=self.system)
        return body

    def create(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """POST /composite/sobjects in batches of 200; records carry ``attributes.type``."""
        url = self._path(settings.COLLECTIONS_PATH)
        return self._save("POST", url, records, idempotent=False)

    def update(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """PATCH /composite/sobjects in batches of 200; records carry ``Id``."""
        url = self._path(settings.COLLECTIONS_PATH)
        return self._save("PATCH", url, records, idempotent=True)

    def upsert(
        self, sobject: str, field: str, records: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """PATCH /composite/sobjects/{type}/{externalIdField} in batches of 200."""
        url = self._path(settings.UPSERT_PATH, sobject=sobject, field=field)
        return self._save("PATCH", url, records, idempotent=True, key_field=field)

    def _save(
        self,
        method: str,
        url: str,
        records: Sequence[Mapping[str, Any]],
        *,
        idempotent: bool,
        key_field: str = "Id",
    ) -> list[Mapping[str, Any]]:
        def save(batch: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
            body = self._call(
                method,
                url,
                json={"allOrNone": False, "records": list(batch)},
                idempotent=idempotent,
            )
            return self._checked_results(body, len(batch), url)

        results: list[Mapping[str, Any]] = []
        batches = list(chunks(records, settings.COLLECTION_BATCH_SIZE))
        for run in waves(batches, lambda batch: _record_keys(batch, key_field)):
            for saved in in_parallel(save, run, workers=self.api.concurrency):
                results.extend(saved)
        return results

    def _checked_results(self, body: Any, expected: int, url: str) -> list[Mapping[str, Any]]:
        if not isinstance(body, list) or len(body) != expected:
            got = len(body) if isinstance(body, list) else type(body).__name__
            raise ConnectorError(
                f"{url} answered {got} results for {expected} records", system=self.system
            )
        return [r if isinstance(r, Mapping) else {"success": False} for r in body]

    def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> list[Mapping[str, Any] | None]:
        """Records by id (None where missing) via POST retrieve, 2000 ids per call."""
        url = self._path(settings.COLLECTION_PATH, sobject=sobject)
        found: list[Mapping[str, Any] | None] = []
        for batch in chunks(ids, settings.RETRIEVE_BATCH_SIZE):
            body = self._call(
                "POST", url, json={"ids": list(batch), "fields": list(fields)}, idempotent=True
            )
            if not isinstance(body, list):
                raise ConnectorError(f"{url} answered no list", system=self.system)
            found.extend(r if isinstance(r, Mapping) else None for r in body)
        return found

    def describe(self, sobject: str) -> Mapping[str, Any]:
        """GET /sobjects/{type}/describe."""
        body = self._call("GET", self._path(settings.DESCRIBE_PATH, sobject=sobject))
        if not isinstance(body, Mapping) or not isinstance(body.get("fields"), list):
            raise ConnectorError(f"describe of {sobject} has no field list", system=self.system)
        return body

    def limits(self) -> Mapping[str, Any]:
        """GET /limits: the org's allocations, each ``{"Max": n, "Remaining": n}``."""
        body = self._call("GET", self._path(settings.LIMITS_PATH))
        if not isinstance(body, Mapping):
            raise ConnectorError("limits answered no JSON object", system=self.system)
        return body

    def user_info(self, session_id: str) -> dict[str, str]:
        """SOAP ``getUserInfo``: what REST does not tell, e.g. a single-currency org's currency.

        Sent on the HTTP client itself (rate-limited, not retried): the hub's
        request helper sends JSON and forms only, and a SOAP fault is HTTP 500.

        Raises:
            ConnectorError: a SOAP fault (the API disabled, an expired session).
            TransientError: the request did not complete.
        """
        url = self._path(settings.SOAP_PATH)
        if self.api.limiter is not None:
            self.api.limiter.acquire()
        headers = {"Content-Type": soap.CONTENT_TYPE, "SOAPAction": '""', "Accept": "text/xml"}
        try:
            response = self.api.http.post(
                url, content=soap.user_info_request(session_id), headers=headers
            )
        except httpx.HTTPError as exc:
            raise TransientError(f"POST {url}: {type(exc).__name__}", system=self.system) from exc
        values = soap.result_values(response.text) if response.status_code == 200 else None
        if values is None:
            raise ConnectorError(
                f"POST {url} getUserInfo: HTTP {response.status_code}:"
                f" {soap.fault_text(response.text)}",
                system=self.system,
                status=response.status_code,
            )
        return values

    def close(self) -> None:
        """Close the HTTP client."""
        self.api.close()
