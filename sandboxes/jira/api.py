"""Request handlers of the Jira sandbox, free of HTTP plumbing.

Each handler takes decoded inputs and returns ``(status, body)``. Searches
keep the ids they matched as a snapshot that ``nextPageToken`` pages through
(current issue data is rendered on each page), so an issue edited while a
client pages does not shift the pages under it.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff_hub.sandboxes.jira.data import FIELDS, jira_time
from handoff_hub.sandboxes.jira.eval import search
from handoff_hub.sandboxes.jira.jql import JqlError
from handoff_hub.sandboxes.jira.render import ALL_FIELDS, comment_json, issue_json, select_fields
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import Endpoint
from handoff_hub.sandboxes.jira.write import (
    WriteError,
    add_comment,
    create_issue,
    create_project,
    edit_issue,
    set_property,
)

__all__ = ["BULK_LIMIT", "JiraApi", "Reply", "error"]

Reply = tuple[int, Any]
BULK_LIMIT = 50
FETCH_LIMIT = 100
_MAX_SNAPSHOTS = 64
_SEARCH_KEYS = frozenset(
    {
        "jql",
        "nextPageToken",
        "maxResults",
        "fields",
        "expand",
        "properties",
        "fieldsByKeys",
        "reconcileIssues",
    }
)
_NO_ISSUE = "Issue does not exist or you do not have permission to see it."
_PROJECT_EXPAND = "description,lead,issueTypes,url,projectKeys,permissions,insight"
_NOT_ADMIN = "You must have global administrator rights in order to modify projects."


def error(status: int, *messages: str, **errors: str) -> Reply:
    """Jira's error collection."""
    return status, {"errorMessages": list(messages), "errors": errors}


@dataclass(frozen=True)
class _Snapshot:
    jql: str
    ids: tuple[int, ...]


class JiraApi:
    """The REST resources of one sandbox site."""

    def __init__(
        self, store: JiraStore, *, administer: bool = True, reordered: bool = False
    ) -> None:
        self.store = store
        self.administer = administer
        """The API user holds the Administer Jira global permission (creates projects)."""
        self.reordered = reordered
        """After a partial failure, a bulk create lists its created issues in reverse."""
        self._snapshots: OrderedDict[str, _Snapshot] = OrderedDict()
        self._numbers = itertools.count(1)

    # identity and catalogues -----------------------------------------------------

    def server_info(self, at: Endpoint) -> Reply:
        """``GET /serverInfo``: a Cloud site (the jira SDK's first call)."""
        return 200, {
            "baseUrl": at.host,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100218,
            "buildDate": "2026-11-02T08:21:48.000+0000",
            "serverTime": jira_time(self.store.clock(), self.store.me.time_zone),
            "scmInfo": "6138e2cd7259ce8b18fff9d4a6cde29a4e1837b6",
            "serverTitle": "Jira",
        }

    def myself(self, at: Endpoint) -> Reply:
        """``GET /myself``."""
        return 200, self.store.me.json(at, full=True)

    def fields(self) -> Reply:
        """``GET /field``."""
        return 200, [f.json() for f in FIELDS]

    def user_search(self, at: Endpoint, params: Mapping[str, str]) -> Reply:
        """``GET /user/search``: active users whose name or e-mail starts with ``query``."""
        query, account = params.get("query"), params.get("accountId")
        if not query and not account:
            return error(400, "One of 'query' or 'accountId' query parameters must be provided.")
        start, size = _int(params.get("startAt"), 0), _int(params.get("maxResults"), 50)
        found = [
            u
            for u in self.store.users.values()
            if u.active and (u.account_id == account or _user_matches(u, query))
        ]
        return 200, [u.json(at) for u in found[start : start + size]]

    # search ------------------------------------------------------------------

    def search(self, at: Endpoint, request: Mapping[str, Any]) -> Reply:
        """``/search/jql`` (GET params or POST body, already decoded)."""
        unknown = sorted(set(request) - _SEARCH_KEYS)
        if unknown:
            return error(400, f'Unrecognized field "{unknown[0]}".')
        fields = select_fields(_strings(request.get("fields")), default=())
        size = _int(request.get("maxResults"), 50)
        if size < 0:
            return error(400, "The value of 'maxResults' must be zero or greater.")
        size = min(size or 50, 100 if fields else 5000)
        jql = str(request.get("jql") or "")
        token = request.get("nextPageToken")
        snapshot, offset = self._continue(jql, token) if token else self._start(jql)
        ids = snapshot.ids[offset : offset + size]
        properties = _strings(request.get("properties"))[:5]
        issues = [
            issue_json(self.store, self.store.issues[i], at, fields, properties=properties)
            for i in ids
            if i in self.store.issues
        ]
        body: dict[str, Any] = {"issues": issues, "isLast": offset + size >= len(snapshot.ids)}
        if not body["isLast"]:
            body["nextPageToken"] = self._token(snapshot, offset + size)
        return 200, body

    def _start(self, jql: str) -> tuple[_Snapshot, int]:
        found = search(self.store, jql, zone=self.store.me.time_zone)
        return _Snapshot(jql, tuple(i.id for i in found)), 0

    def _continue(self, jql: str, token: Any) -> tuple[_Snapshot, int]:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
            snapshot = self._snapshots[decoded["s"]]
            offset = int(decoded["o"])
        except (ValueError, KeyError, TypeError):
            raise _BadToken from None
        if snapshot.jql != jql:
            raise _BadToken
        return snapshot, offset

    def _token(self, snapshot: _Snapshot, offset: int) -> str:
        number = f"s{next(self._numbers)}"
        self._snapshots[number] = snapshot
        while len(self._snapshots) > _MAX_SNAPSHOTS:
            self._snapshots.popitem(last=False)
        raw = json.dumps({"s": number, "o": offset}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    # issues ------------------------------------------------------------------

    def get_issue(self, at: Endpoint, key: str, params: Mapping[str, Any]) -> Reply:
        """``GET /issue/{key}`` (all fields unless ``fields`` says otherwise)."""
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        fields = select_fields(_strings(params.get("fields")), default=ALL_FIELDS)
        properties = _strings(params.get("properties"))
        return 200, issue_json(self.store, issue, at, fields, properties=properties)

    def bulk_fetch(self, at: Endpoint, body: Any) -> Reply:
        """``POST /issue/bulkfetch``: up to 100 issues by id or key, in ascending id order.

        An id or key naming no issue (or one the user cannot see) is left out.
        """
        refs = body.get("issueIdsOrKeys") if isinstance(body, Mapping) else None
        if not isinstance(refs, list) or not refs:
            return error(400, "Field 'issueIdsOrKeys' is required and must be a non-empty list.")
        if len(refs) > FETCH_LIMIT:
            return error(400, f"You can fetch at most {FETCH_LIMIT} issues in one request.")
        found = {i.id: i for i in (self.store.issue(r) for r in refs) if i is not None}
        fields = select_fields(_strings(body.get("fields")), default=ALL_FIELDS)
        properties = _strings(body.get("properties"))
        issues = [
            issue_json(self.store, found[n], at, fields, properties=properties)
            for n in sorted(found)
        ]
        return 200, {"issues": issues, "issueErrors": []}

    def create_issue(self, at: Endpoint, body: Any) -> Reply:
        """``POST /issue``."""
        try:
            issue = create_issue(self.store, body, adf=at.adf)
        except WriteError as exc:
            return exc.status, exc.body
        return 201, _created(issue.id, issue.key, at)

    def bulk_create(self, at: Endpoint, body: Any) -> Reply:
        """``POST /issue/bulk``: 201 when any issue was created, else 400; errors by index."""
        updates = body.get("issueUpdates") if isinstance(body, Mapping) else None
        if not isinstance(updates, list):
            return error(400, "Field 'issueUpdates' is required and must be a list.")
        if len(updates) > BULK_LIMIT:
            return error(400, f"You can create at most {BULK_LIMIT} issues in one request.")
        issues, errors = [], []
        for number, update in enumerate(updates):
            try:
                issue = create_issue(self.store, update, adf=at.adf)
            except WriteError as exc:
                errors.append(
                    {"status": exc.status, "elementErrors": exc.body, "failedElementNumber": number}
                )
            else:
                issues.append(_created(issue.id, issue.key, at))
        if self.reordered and errors:
            issues.reverse()
        return (201 if issues or not updates else 400), {"issues": issues, "errors": errors}

    def edit_issue(self, at: Endpoint, key: str, body: Any) -> Reply:
        """``PUT /issue/{key}`` (204)."""
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        try:
            edit_issue(self.store, issue, body, adf=at.adf)
        except WriteError as exc:
            return exc.status, exc.body
        return 204, None

    # properties and comments ---------------------------------------------------

    def property_keys(self, at: Endpoint, key: str) -> Reply:
        """``GET /issue/{key}/properties``."""
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        url = f"{at.api}/issue/{issue.id}/properties"
        return 200, {"keys": [{"self": f"{url}/{k}", "key": k} for k in issue.properties]}

    def get_property(self, key: str, name: str) -> Reply:
        """``GET /issue/{key}/properties/{name}``."""
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        if name not in issue.properties:
            return error(404, f"The property with key '{name}' does not exist.")
        return 200, {"key": name, "value": issue.properties[name]}

    def put_property(self, key: str, name: str, raw: bytes) -> Reply:
        """``PUT /issue/{key}/properties/{name}``: 201 when new, 200 when replaced."""
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        try:
            created = set_property(self.store, issue, name, raw)
        except WriteError as exc:
            return exc.status, exc.body
        return (201 if created else 200), None

    def comments(self, at: Endpoint, key: str) -> Reply:
        """``GET /issue/{key}/comment``."""
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        items = [comment_json(self.store, issue, c, at) for c in issue.comments]
        return 200, {"startAt": 0, "maxResults": 5000, "total": len(items), "comments": items}

    def add_comment(self, at: Endpoint, key: str, body: Any) -> Reply:
        """``POST /issue/{key}/comment``."""
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        try:
            comment = add_comment(self.store, issue, body, adf=at.adf)
        except WriteError as exc:
            return exc.status, exc.body
        return 201, comment_json(self.store, issue, comment, at)

    # projects ------------------------------------------------------------------

    def projects(self, at: Endpoint) -> Reply:
        """``GET /project``: every project the user can browse, by key (no paging)."""
        found = sorted(self.store.projects.values(), key=lambda p: p.key)
        return 200, [
            {"expand": _PROJECT_EXPAND, **p.json(at), "style": "next-gen", "isPrivate": False}
            for p in found
        ]

    def get_project(self, at: Endpoint, key: str) -> Reply:
        """``GET /project/{key}``."""
        project = self.store.project(key)
        if project is None or (not key.isdigit() and project.key != key.upper()):
            return error(404, f"No project could be found with key '{key}'.")
        lead = self.store.users[project.lead].json(at)
        return 200, {
            "expand": _PROJECT_EXPAND,
            **project.json(at),
            "description": project.description,
            "lead": lead,
            "style": "next-gen",
            "isPrivate": False,
        }

    def create_project(self, at: Endpoint, body: Any) -> Reply:
        """``POST /project``: only for holders of Administer Jira, checked before the body."""
        if not self.administer:
            return error(403, _NOT_ADMIN)
        try:
            project = create_project(self.store, body)
        except WriteError as exc:
            return exc.status, exc.body
        return 201, {
            "self": f"{at.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
        }


class _BadToken(JqlError):
    def __init__(self) -> None:
        super().__init__("The provided next page token is invalid or expired.")


def _created(issue_id: int, key: str, at: Endpoint) -> dict[str, str]:
    return {"id": str(issue_id), "key": key, "self": f"{at.api}/issue/{issue_id}"}


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    return [t.strip() for item in items for t in str(item).split(",") if t.strip()]


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def _user_matches(user: Any, query: str | None) -> bool:
    if not query:
        return False
    needle = query.lower()
    words = [user.display_name.lower(), *user.display_name.lower().split()]
    return any(w.startswith(needle) for w in words) or (user.email or "").lower().startswith(needle)
