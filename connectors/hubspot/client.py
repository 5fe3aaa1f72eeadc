"""Typed HubSpot API calls over :class:`hub.http.ApiClient`.

One method per resource: search, batch read / create / update / upsert,
properties, pipelines, owners, associations v4 and account info. Batch
writes answer a :class:`BatchAnswer` or raise :class:`BatchRefused` when
HubSpot refuses the whole batch (it does so for one invalid record); what to
do then is :mod:`handoff_hub.connectors.hubspot.writes`' job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from handoff_hub.connectors.hubspot import settings
from handoff_hub.connectors.hubspot.records import blank_to_null
from handoff_hub.hub.errors import ConnectorError, RateLimitedError
from handoff_hub.hub.http import ApiClient, PageRequest, TokenBucket, TokenPaginator, chunks
from handoff_hub.hub.http.auth import refresh_token_grant
from handoff_hub.hub.http.client import default_error_text
from handoff_hub.hub.http.concurrent import in_parallel

if TYPE_CHECKING:
    from handoff_hub.connectors.hubspot.config import HubSpotSecrets
    from handoff_hub.hub.http.auth import TokenRequestFactory

__all__ = [
    "BatchAnswer",
    "BatchRefused",
    "HubSpotClient",
    "describe_error",
    "error_text",
    "observe_limits",
    "token_request_factory",
]

_REFUSED_WHOLE = frozenset({400, 404, 409})
_VALUES_PREFIX = "Property values were not valid: "


def error_text(body: Mapping[str, Any]) -> str:
    """``CATEGORY: message`` for one HubSpot error body, property problems spelled out.

    HubSpot nests per-property problems as JSON inside the message
    (``Property values were not valid: [{"message": ..., "error": ...}]``);
    they are unpacked into ``message (CODE)`` parts.
    """
    category = body.get("category") or body.get("errorType") or body.get("status") or "ERROR"
    message = str(body.get("message") or "")
    if message.startswith(_VALUES_PREFIX):
        message = _property_problems(message[len(_VALUES_PREFIX) :]) or message
    codes = [
        str(e.get("code"))
        for e in body.get("errors") or []
        if isinstance(e, Mapping) and e.get("code") and str(e.get("code")) not in message
    ]
    text = f"{category}: {message}".rstrip(": ")
    return f"{text} ({', '.join(codes)})" if codes else text


def _property_problems(raw: str) -> str | None:
    try:
        problems = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(problems, list):
        return None
    parts = [
        f"{p.get('message', '')} ({p.get('error', 'INVALID')})"
        for p in problems
        if isinstance(p, Mapping)
    ]
    return "; ".join(parts) or None


def describe_error(response: httpx.Response) -> str:
    """Error text from a HubSpot error body (API or OAuth), else the raw body."""
    try:
        body: Any = response.json()
    except ValueError:
        return default_error_text(response)
    if isinstance(body, Mapping) and ("message" in body or "category" in body):
        return error_text(body)
    return default_error_text(response)


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(settings.RATE_HEADERS[name])
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def observe_limits(
    response: httpx.Response, *, system: str = ""
) -> tuple[int | None, float | None]:
    """Requests left (the tightest of the secondly and ten-second windows) and when to go on.

    The client's own bucket keeps it under the secondly limit, so a second
    only nearly used up (its requests in flight) is no reason to stop: only a
    second with nothing left waits for the next one, and a ten-second window
    nearly used up (another app of the portal spends it too) slows the bucket.

    A 429 that says the daily allowance is used up is final: retrying before
    midnight cannot succeed, so it raises at once instead of being retried.

    Raises:
        RateLimitedError: the portal's daily API allowance is used up.
    """
    daily_left = _header_int(response, "daily_remaining")
    if response.status_code == 429 and daily_left == 0:
        raise RateLimitedError(
            f"the portal's daily API allowance ({_header_int(response, 'daily')}) is used up:"
            f" {describe_error(response)}",
            system=system,
            status=429,
        )
    secondly = _header_int(response, "secondly_remaining")
    interval = _header_int(response, "remaining")
    known = [v for v in (secondly, interval) if v is not None]
    if not known:
        return None, None
    if secondly == 0:
        return 0, 1.0  # the second is used up: go on in the next one
    if interval is not None and interval <= settings.LOW_REMAINING:
        return 0, None
    return min(known), None


def token_request_factory(secrets: HubSpotSecrets, token_url: str) -> TokenRequestFactory:
    """The ``refresh_token`` grant HubSpot's OAuth v1 token endpoint expects (a form POST)."""
    return refresh_token_grant(
        token_url, secrets.client_id, secrets.client_secret, secrets.refresh_token
    )


@dataclass(frozen=True)
class BatchAnswer:
    """A batch call's answer: results, and per-record errors of a 207 multi-status."""

    results: list[Mapping[str, Any]]
    errors: list[Mapping[str, Any]] = field(default_factory=list)


class BatchRefused(Exception):
    """HubSpot refused a whole batch (400 / 404 / 409); ``text`` says why."""

    def __init__(self, status: int, text: str) -> None:
        self.status = status
        self.text = text
        super().__init__(f"HTTP {status}: {text}")


class HubSpotClient:
    """The API calls the connector makes."""

    def __init__(self, api: ApiClient, *, search_limiter: TokenBucket | None = None) -> None:
        self.api = api
        self.search_limiter = search_limiter

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.api.system

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.api.request_json(method, url, **kwargs)

    def _mapping(self, value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise ConnectorError(f"{what} answered no JSON object", system=self.system)
        return value

    def search(self, object_name: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """POST /crm/v3/objects/{type}/search: one page (search has its own rate limit)."""
        if self.search_limiter is not None:
            self.search_limiter.acquire()
        url = _path(settings.SEARCH_PATH, object=object_name)
        page = self._mapping(self._json("POST", url, json=body, idempotent=True), url)
        results = page.get("results")
        if not isinstance(results, list):
            raise ConnectorError(f"{url} answered without a results list", system=self.system)
        return {**page, "results": _records(results)}

    def batch_read(
        self,
        object_name: str,
        ids: Sequence[str],
        properties: Sequence[str],
        *,
        id_property: str | None = None,
    ) -> list[Mapping[str, Any]]:
        """Records by id (or by a unique property), 100 per call; missing ones left out.

        The calls are independent reads, so up to ``concurrency`` go at once.
        """
        url = _path(settings.BATCH_PATH, object=object_name, action="read")

        def read(batch: Sequence[str]) -> list[Mapping[str, Any]]:
            body: dict[str, Any] = {
                "inputs": [{"id": i} for i in batch],
                "properties": list(properties),
                "propertiesWithHistory": [],
            }
            if id_property:
                body["idProperty"] = id_property
            answer = self._mapping(self._json("POST", url, json=body, idempotent=True), url)
            return _records(answer.get("results") or [])

        answers = in_parallel(read, chunks(ids, settings.BATCH_SIZE), workers=self.api.concurrency)
        return [record for answer in answers for record in answer]

    def batch_write(
        self, object_name: str, action: str, inputs: Sequence[Mapping[str, Any]]
    ) -> BatchAnswer:
        """One batch create / update / upsert call (at most 100 inputs).

        Create is not repeated after an answer that may have been acted on;
        update and upsert are (they set the same values again).

        Raises:
            BatchRefused: HubSpot refused the whole batch.
        """
        url = _path(settings.BATCH_PATH, object=object_name, action=action)
        response = self.api.request(
            "POST",
            url,
            json={"inputs": list(inputs)},
            idempotent=action != "create",
            allow=_REFUSED_WHOLE,
        )
        if response.status_code in _REFUSED_WHOLE:
            raise BatchRefused(response.status_code, describe_error(response))
        body = self._mapping(self.api.json_of(response), url)
        results = [r for r in body.get("results") or [] if isinstance(r, Mapping)]
        errors = [e for e in body.get("errors") or [] if isinstance(e, Mapping)]
        return BatchAnswer(results, errors)

    def associations(
        self, from_object: str, to_object: str, ids: Sequence[str]
    ) -> dict[str, list[Mapping[str, Any]]]:
        """Associations v4 batch read: from-id -> its ``to`` entries (toObjectId, types)."""
        url = _path(
            settings.ASSOCIATIONS_BATCH_READ_PATH, from_object=from_object, to_object=to_object
        )
        found: dict[str, list[Mapping[str, Any]]] = {}
        for batch in chunks(ids, settings.ASSOCIATIONS_BATCH_SIZE):
            body = {"inputs": [{"id": i} for i in batch]}
            answer = self._mapping(self._json("POST", url, json=body, idempotent=True), url)
            for result in answer.get("results") or []:
                if isinstance(result, Mapping) and isinstance(result.get("from"), Mapping):
                    to = [t for t in result.get("to") or [] if isinstance(t, Mapping)]
                    found[str(result["from"].get("id"))] = to
        return found

    def associate_default(
        self, from_object: str, from_id: str, to_object: str, to_id: str
    ) -> Mapping[str, Any]:
        """PUT the default (unlabeled) association between two records."""
        url = _path(
            settings.ASSOCIATE_DEFAULT_PATH,
            from_object=from_object,
            from_id=from_id,
            to_object=to_object,
            to_id=to_id,
        )
        return self._mapping(self._json("PUT", url), url)

    def pipelines(self, object_name: str) -> list[Mapping[str, Any]]:
        """GET /crm/v3/pipelines/{type}: every pipeline with its stages."""
        url = _path(settings.PIPELINES_PATH, object=object_name)
        body = self._mapping(self._json("GET", url), url)
        return [p for p in body.get("results") or [] if isinstance(p, Mapping)]

    def properties(self, object_name: str) -> list[Mapping[str, Any]]:
        """GET /crm/v3/properties/{type}: every property definition."""
        url = _path(settings.PROPERTIES_PATH, object=object_name)
        body = self._mapping(self._json("GET", url), url)
        return [p for p in body.get("results") or [] if isinstance(p, Mapping)]

    def owners(self, *, archived: bool = False) -> list[Mapping[str, Any]]:
        """Every active owner (or, ``archived``, every deactivated one), following paging."""
        paginator = TokenPaginator(token_path=settings.NEXT_PAGE_PATH, param="after")
        params: dict[str, Any] = {"limit": settings.OWNERS_PAGE_MAX}
        if archived:
            params["archived"] = "true"
        first = PageRequest(url=settings.OWNERS_PATH, params=params)
        found: list[Mapping[str, Any]] = []
        for page in self.api.paginate("GET", first, paginator):
            body = self._mapping(page, settings.OWNERS_PATH)
            found.extend(o for o in body.get("results") or [] if isinstance(o, Mapping))
        return found

    def token_info(self, token: str) -> Mapping[str, Any]:
        """POST /oauth/v2/private-apps/get/access-token-info: a private app token's scopes."""
        url = settings.TOKEN_INFO_PATH
        body = self._json("POST", url, json={"tokenKey": token}, idempotent=True)
        return self._mapping(body, url)

    def daily_usage(self) -> list[Mapping[str, Any]]:
        """GET /account-info/v3/api-usage/daily/private-apps: today's calls and the allowance."""
        url = settings.DAILY_USAGE_PATH
        body = self._mapping(self._json("GET", url), url)
        return [u for u in body.get("results") or [] if isinstance(u, Mapping)]

    def account_details(self) -> Mapping[str, Any]:
        """GET /account-info/v3/details (portal id, UI domain, currency)."""
        url = settings.ACCOUNT_DETAILS_PATH
        return self._mapping(self._json("GET", url), url)

    def close(self) -> None:
        """Close the HTTP client."""
        self.api.close()


def _records(results: Sequence[Any]) -> list[Mapping[str, Any]]:
    """The records of a read answer, blank property values as null (``records.blank_to_null``)."""
    return [blank_to_null(r) for r in results if isinstance(r, Mapping)]


def _path(template: str, **parts: str) -> str:
    return template.format(**{k: quote(str(v), safe="") for k, v in parts.items()})
