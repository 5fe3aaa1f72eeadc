"""Typed Jira Cloud REST API v3 calls over :class:`hub.http.ApiClient`.

Auth is HTTP Basic with the Atlassian account e-mail and an API token
(:class:`~hub.http.BasicToken`). Searches page with ``nextPageToken`` until
``isLast``; bulk creates are cut into calls of 50 and their per-element errors
mapped back to input order. Jira has no synchronous bulk *edit*, so edits are
one ``PUT /issue/{key}`` each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from handoff_hub.connectors.jira import settings
from handoff_hub.hub.errors import AuthError, ConnectorError, RecordError, TransientError
from handoff_hub.hub.http import ApiClient, OffsetPaginator, PageRequest, TokenPaginator, chunks
from handoff_hub.hub.http.client import default_error_text
from handoff_hub.hub.http.retry import retry_after_seconds

__all__ = [
    "BulkOutcome",
    "JiraClient",
    "PermissionRefused",
    "describe_error",
    "error_collection_text",
    "observe_limits",
]

_NOT_FOUND = frozenset({404})
_HEADERS = settings.RATE_LIMIT_HEADERS


@dataclass(frozen=True)
class BulkOutcome:
    """One element of a bulk create, in input order."""

    index: int
    ok: bool
    id: str | None = None
    key: str | None = None
    error: str | None = None


class PermissionRefused(AuthError):
    """Jira answered 403: the credentials are good, the API user lacks a permission."""

    def __init__(self, call: str, detail: str, *, system: str) -> None:
        self.call = call
        self.detail = detail
        """Jira's own words (its error collection)."""
        super().__init__(f"{call}: HTTP 403: {detail}", system=system, status=403)


def error_collection_text(collection: Mapping[str, Any]) -> str:
    """``message; field: message`` from Jira's ``{"errorMessages": [...], "errors": {...}}``."""
    parts = [str(m) for m in collection.get("errorMessages") or []]
    errors = collection.get("errors")
    if isinstance(errors, Mapping):
        parts += [f"{field}: {text}" for field, text in errors.items()]
    return "; ".join(parts)


def describe_error(response: httpx.Response) -> str:
    """Error text from a Jira body: an error collection, a bulk result, or ``{"message"}``."""
    try:
        body: Any = response.json()
    except ValueError:
        return default_error_text(response)
    if not isinstance(body, Mapping):
        return default_error_text(response)
    if isinstance(body.get("errors"), list):
        texts = [_element_text(e) for e in body["errors"] if isinstance(e, Mapping)]
        return " | ".join(texts) or default_error_text(response)
    text = error_collection_text(body)
    if text:
        return text
    if body.get("message"):
        return str(body["message"])
    return default_error_text(response)


def _element_text(error: Mapping[str, Any]) -> str:
    collection = error.get("elementErrors")
    text = error_collection_text(collection) if isinstance(collection, Mapping) else ""
    return f"element {error.get('failedElementNumber', '?')}: {text or 'refused'}"


def observe_limits(response: httpx.Response) -> tuple[int | None, float | None]:
    """Remaining budget and seconds to reset from Jira's rate-limit headers.

    ``Retry-After`` (seconds) wins over ``X-RateLimit-Reset`` (an ISO instant
    with minute precision); a 429 without ``X-RateLimit-Remaining`` counts as
    nothing left.
    """
    remaining = _int_header(response, _HEADERS["remaining"])
    if remaining is None and response.status_code == 429:
        remaining = 0
    reset = retry_after_seconds(response)
    if reset is None:
        reset = _reset_seconds(response.headers.get(_HEADERS["reset"]))
    return remaining, reset


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _reset_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


_SIGNATURE_FIELDS = ("summary", "parent", "labels")


def _signature(fields: Any) -> tuple[Any, ...]:
    """What tells the issues of one bulk create apart: summary, parent key and labels."""
    if not isinstance(fields, Mapping):
        return ()
    parent = fields.get("parent")
    labels = fields.get("labels") or []
    return (
        str(fields.get("summary") or ""),
        str(parent.get("key") or parent.get("id") or "") if isinstance(parent, Mapping) else "",
        tuple(sorted(str(label).lower() for label in labels)),
    )


def _path(template: str, **parts: str) -> str:
    """The template with its parts URL-quoted; dots too, so ``..`` never climbs the path."""
    return template.format(**{k: quote(v, safe="").replace(".", "%2E") for k, v in parts.items()})


class JiraClient:
    """The REST calls the connector makes, one method per resource."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.api.system

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.api.request(method, url, **kwargs)
        return None if response.status_code == 404 else self.api.json_of(response)

    def _mapping(self, body: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(body, Mapping):
            raise ConnectorError(f"{what} answered no JSON object", system=self.system)
        return body

    def pause(self, seconds: float) -> None:
        """Wait with the retry policy's sleep (a no-op in tests that disable waiting)."""
        self.api.retry.sleep(seconds)

    def myself(self) -> Mapping[str, Any]:
        """``GET /myself``: the API user (``accountId``, ``timeZone``, ...)."""
        return self._mapping(self._json("GET", settings.MYSELF_PATH), "myself")

    def fields(self) -> list[Mapping[str, Any]]:
        """``GET /field``: every system and custom field."""
        body = self._json("GET", settings.FIELD_PATH)
        if not isinstance(body, list):
            raise ConnectorError("field list answered no JSON array", system=self.system)
        return [f for f in body if isinstance(f, Mapping)]

    def search(
        self, jql: str, fields: Sequence[str], *, page_size: int
    ) -> Iterator[Mapping[str, Any]]:
        """Yield each page of ``POST /search/jql``, following ``nextPageToken``."""
        paginator = TokenPaginator(
            token_path="nextPageToken",  # noqa: S106 - a JSON path, not a password
            param="nextPageToken",
            placement="body",
            stop_path="isLast",
        )
        body = {"jql": jql, "fields": list(fields), "maxResults": page_size}
        first = PageRequest(url=settings.SEARCH_PATH, json=body)
        for page in self.api.paginate("POST", first, paginator, idempotent=True):
            if not isinstance(page, Mapping) or not isinstance(page.get("issues"), list):
                raise ConnectorError("search answered without an issues list", system=self.system)
            yield page

    def get_issue(self, key: str, fields: Sequence[str] = ()) -> Mapping[str, Any] | None:
        """``GET /issue/{key}``; None when it does not exist (or is not visible)."""
        params = {"fields": ",".join(fields)} if fields else None
        body = self._json(
            "GET", _path(settings.ISSUE_KEY_PATH, key=key), params=params, allow=_NOT_FOUND
        )
        return None if body is None else self._mapping(body, f"issue {key}")

    def create_issue(self, update: Mapping[str, Any]) -> Mapping[str, Any]:
        """``POST /issue``: one issue; returns ``{id, key, self}``."""
        body = self._json("POST", settings.ISSUE_PATH, json=dict(update), idempotent=False)
        return self._mapping(body, "issue create")

    def create_issues(self, updates: Sequence[Mapping[str, Any]]) -> list[BulkOutcome]:
        """``POST /issue/bulk`` in calls of 50; one outcome per update, in input order."""
        outcomes: list[BulkOutcome] = []
        for batch in chunks(updates, settings.BULK_CREATE_SIZE):
            response = self.api.request(
                "POST",
                settings.ISSUE_BULK_PATH,
                json={"issueUpdates": list(batch)},
                idempotent=False,
                allow=frozenset({400}),
            )
            outcomes += self._bulk_outcomes(response, len(outcomes), batch)
        return outcomes

    def fetch_issues(self, refs: Sequence[str], fields: Sequence[str]) -> list[Mapping[str, Any]]:
        """``POST /issue/bulkfetch`` in calls of 100: the issues that exist, in ascending id order.

        Read from Jira's database, not its search index: an issue created a
        moment ago is there.
        """
        found: list[Mapping[str, Any]] = []
        for batch in chunks(refs, settings.BULK_FETCH_SIZE):
            body = {"issueIdsOrKeys": list(batch), "fields": list(fields)}
            answer = self._json("POST", settings.ISSUE_BULK_FETCH_PATH, json=body, idempotent=True)
            issues = answer.get("issues") if isinstance(answer, Mapping) else None
            found += [i for i in issues or [] if isinstance(i, Mapping)]
        return found

    def _in_element_order(
        self, kept: Sequence[Mapping[str, Any]], created: list[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """The created issues in the order of the elements that went through.

        Jira numbers the failed elements only; a created issue carries no
        element number. After a partial failure the created issues are read
        back and matched to the elements by summary, parent and labels, so a
        key never lands on another element's record. Where that cannot tell
        them apart (or the read fails), the answer's order is kept.
        """
        try:
            fetched = self.fetch_issues([str(c.get("key")) for c in created], _SIGNATURE_FIELDS)
        except (RecordError, TransientError):
            return created
        by_key = {str(i.get("key")): i for i in fetched}
        by_signature: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
        for issue in created:
            read = by_key.get(str(issue.get("key")))
            if read is None:
                return created
            by_signature.setdefault(_signature(read.get("fields")), []).append(issue)
        ordered = []
        for update in kept:
            matches = by_signature.get(_signature(update.get("fields")))
            if not matches:
                return created
            ordered.append(matches.pop(0))
        return ordered

    def _bulk_outcomes(
        self, response: httpx.Response, offset: int, batch: Sequence[Mapping[str, Any]]
    ) -> list[BulkOutcome]:
        size = len(batch)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping) or not isinstance(body.get("errors", []), list):
            raise RecordError(
                f"POST {settings.ISSUE_BULK_PATH}: HTTP {response.status_code}:"
                f" {describe_error(response)}",
                system=self.system,
                status=response.status_code,
            )
        failed = self._failed_elements(body.get("errors") or [], size, response)
        created = [i for i in body.get("issues") or [] if isinstance(i, Mapping)]
        if len(created) != size - len(failed):
            raise ConnectorError(
                f"bulk create answered {len(created)} issues and {len(failed)} errors"
                f" for {size} elements",
                system=self.system,
            )
        if failed and created:
            kept = [u for n, u in enumerate(batch) if n not in failed]
            created = self._in_element_order(kept, created)
        made = iter(created)
        outcomes = []
        for n in range(size):
            if n in failed:
                outcomes.append(BulkOutcome(offset + n, False, error=failed[n]))
            else:
                issue = next(made)
                outcomes.append(
                    BulkOutcome(offset + n, True, str(issue.get("id")), str(issue.get("key")))
                )
        return outcomes

    def _failed_elements(
        self, errors: list[Any], size: int, response: httpx.Response
    ) -> dict[int, str]:
        failed: dict[int, str] = {}
        for error in errors:
            number = error.get("failedElementNumber") if isinstance(error, Mapping) else None
            if not isinstance(number, int) or not 0 <= number < size:
                raise RecordError(
                    f"bulk create refused the request: {describe_error(response)}",
                    system=self.system,
                    status=response.status_code,
                )
            collection = error.get("elementErrors")
            text = error_collection_text(collection) if isinstance(collection, Mapping) else ""
            failed[number] = f"HTTP {error.get('status', response.status_code)}: {text}"
        return failed

    def edit_issue(self, key: str, update: Mapping[str, Any]) -> None:
        """``PUT /issue/{key}`` (204); Jira has no synchronous bulk edit."""
        self.api.request("PUT", _path(settings.ISSUE_KEY_PATH, key=key), json=dict(update))

    def set_property(self, key: str, name: str, value: Any) -> None:
        """``PUT /issue/{key}/properties/{name}``: the body is the JSON value itself."""
        url = _path(settings.ISSUE_PROPERTY_PATH, key=key, property=name)
        self.api.request("PUT", url, json=value)

    def get_property(self, key: str, name: str) -> Any:
        """The value of an issue property; None when the property (or issue) is missing."""
        url = _path(settings.ISSUE_PROPERTY_PATH, key=key, property=name)
        body = self._json("GET", url, allow=_NOT_FOUND)
        return body.get("value") if isinstance(body, Mapping) else None

    def add_comment(self, key: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """``POST /issue/{key}/comment`` with an ADF body; returns the comment."""
        url = _path(settings.ISSUE_COMMENT_PATH, key=key)
        answer = self._json("POST", url, json={"body": dict(body)}, idempotent=False)
        return self._mapping(answer, f"comment on {key}")

    def comments(self, key: str) -> list[Mapping[str, Any]]:
        """``GET /issue/{key}/comment``, every page: the issue's comments, oldest first."""
        url = _path(settings.ISSUE_COMMENT_PATH, key=key)
        first = PageRequest(url, params={"startAt": 0, "maxResults": settings.COMMENT_PAGE_SIZE})
        paginator = OffsetPaginator(records_path="comments", param="startAt", total_path="total")
        found: list[Mapping[str, Any]] = []
        for page in self.api.paginate("GET", first, paginator):
            body = self._mapping(page, f"comments of {key}")
            found += [c for c in body.get("comments") or [] if isinstance(c, Mapping)]
        return found

    def search_users(self, query: str) -> list[Mapping[str, Any]]:
        """``GET /user/search?query=``: users whose name or e-mail starts with ``query``."""
        params = {"query": query, "maxResults": settings.USER_SEARCH_PAGE}
        body = self._json("GET", settings.USER_SEARCH_PATH, params=params)
        return [u for u in body or [] if isinstance(u, Mapping)]

    def get_project(self, key: str) -> Mapping[str, Any] | None:
        """``GET /project/{key}``; None when there is no such project."""
        body = self._json("GET", _path(settings.PROJECT_KEY_PATH, key=key), allow=_NOT_FOUND)
        return None if body is None else self._mapping(body, f"project {key}")

    def my_permissions(self, keys: Sequence[str], *, project: str | None) -> dict[str, bool]:
        """``GET /mypermissions``: whether the API user holds each permission (on ``project``)."""
        params = {"permissions": ",".join(keys), **({"projectKey": project} if project else {})}
        body = self._mapping(
            self._json("GET", settings.MY_PERMISSIONS_PATH, params=params), "mypermissions"
        )
        held = body.get("permissions") or {}
        return {k: bool((held.get(k) or {}).get("havePermission")) for k in keys}

    def create_meta_types(self, project: str) -> list[Mapping[str, Any]]:
        """``GET /issue/createmeta/{project}/issuetypes``: the issue types one can create there."""
        url = _path(settings.CREATE_META_TYPES_PATH, key=project)
        return self._create_meta(url, "issueTypes")

    def create_meta_fields(self, project: str, type_id: str) -> list[Mapping[str, Any]]:
        """``GET /issue/createmeta/{project}/issuetypes/{id}``: the fields of its create screen."""
        url = _path(settings.CREATE_META_FIELDS_PATH, key=project, type=type_id)
        return self._create_meta(url, "fields")

    def _create_meta(self, url: str, key: str) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        while True:
            params = {"startAt": len(found), "maxResults": settings.CREATE_META_PAGE}
            body = self._mapping(self._json("GET", url, params=params), url)
            page = [v for v in body.get(key) or [] if isinstance(v, Mapping)]
            found += page
            if not page or len(found) >= int(body.get("total") or 0):
                return found

    def create_project(self, details: Mapping[str, Any]) -> Mapping[str, Any]:
        """``POST /project``; returns ``{id, key, self}``.

        Raises:
            PermissionRefused: 403, the API user lacks the Administer Jira permission.
        """
        response = self.api.request(
            "POST",
            settings.PROJECT_PATH,
            json=dict(details),
            idempotent=False,
            allow=frozenset({403}),
        )
        if response.status_code == 403:
            raise PermissionRefused(
                f"POST {settings.PROJECT_PATH}", describe_error(response), system=self.system
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        return self._mapping(body, "project create")

    def close(self) -> None:
        """Close the HTTP client."""
        self.api.close()
