"""How the Jira sandbox renders issues and comments as JSON (``IssueBean``, ``Comment``).

Field selection follows Jira: ``*all`` / ``*navigable`` / ids, ``-id`` to
exclude, ``id``/``key`` alone for no fields; timestamps are rendered in the
requesting user's time zone; an issue without a parent has no ``parent`` key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from handoff_hub.sandboxes.jira.data import FIELDS, PRIORITIES, Issue, jira_time
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import Endpoint

__all__ = ["comment_json", "issue_json", "select_fields"]

ALL_FIELDS = tuple(f.id for f in FIELDS)
_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_OPTION_IDS = {
    "Green": "10020",
    "Amber": "10021",
    "Red": "10022",
    "Europe": "10030",
    "Americas": "10031",
    "APAC": "10032",
}


def select_fields(requested: Iterable[str], *, default: tuple[str, ...]) -> list[str]:
    """The field ids a ``fields`` parameter asks for (comma lists allowed)."""
    tokens = [t.strip() for item in requested for t in item.split(",") if t.strip()]
    if not tokens:
        return list(default)
    chosen: list[str] = []
    excluded = {t[1:] for t in tokens if t.startswith("-")}
    if excluded and all(t.startswith("-") for t in tokens):
        chosen = list(ALL_FIELDS)
    for token in tokens:
        if token in {"*all", "*navigable"}:
            chosen += ALL_FIELDS
        elif token in ALL_FIELDS:
            chosen.append(token)
    return [f for f in dict.fromkeys(chosen) if f not in excluded]


def issue_json(
    store: JiraStore,
    issue: Issue,
    at: Endpoint,
    fields: list[str],
    *,
    properties: Iterable[str] = (),
) -> dict[str, Any]:
    """One ``IssueBean`` with the chosen fields (and entity properties, if asked)."""
    body: dict[str, Any] = {
        "expand": _EXPAND,
        "id": str(issue.id),
        "self": f"{at.api}/issue/{issue.id}",
        "key": issue.key,
    }
    if fields:
        body["fields"] = {f: v for f in fields if (v := _value(store, issue, f, at)) is not _SKIP}
    wanted = [p for p in properties if p in issue.properties]
    if wanted:
        body["properties"] = {p: issue.properties[p] for p in wanted}
    return body


_SKIP = object()


def _value(store: JiraStore, issue: Issue, field: str, at: Endpoint) -> Any:
    zone = store.me.time_zone
    if field.startswith("customfield_"):
        definition = store.field(field)
        if definition is not None and definition.kind == "user":
            picked = store.users.get(issue.custom.get(field) or "")
            return picked.json(at) if picked else None
        return _custom(issue.custom.get(field), at)
    if field in {"created", "updated"}:
        return jira_time(getattr(issue, field), zone)
    if field in {"assignee", "reporter", "creator"}:
        user = store.users.get(
            (issue.reporter if field == "creator" else getattr(issue, field)) or ""
        )
        return user.json(at) if user else None
    if field == "parent":
        parent = store.issues.get(issue.parent) if issue.parent else None
        return _SKIP if parent is None else _parent(store, parent, at)
    simple: dict[str, Callable[[], Any]] = {
        "summary": lambda: issue.summary,
        "description": lambda: at.rich_out(issue.description),
        "labels": lambda: list(issue.labels),
        "duedate": lambda: issue.duedate.isoformat() if issue.duedate else None,
        "priority": lambda: _priority(issue.priority, at),
        "issuetype": lambda: _lookup(store.issue_type(issue.issuetype), at),
        "status": lambda: _lookup(store.status(issue.status), at),
        "project": lambda: store.projects[issue.project].json(at),
    }
    return simple[field]() if field in simple else _SKIP


def _lookup(found: Any, at: Endpoint) -> Any:
    return None if found is None else found.json(at)


def _priority(name: str | None, at: Endpoint) -> dict[str, str] | None:
    if name is None:
        return None
    number = str(PRIORITIES.index(name) + 1)
    return {
        "self": f"{at.api}/priority/{number}",
        "id": number,
        "name": name,
        "iconUrl": f"{at.host}/images/icons/priorities/{name.lower()}.svg",
    }


def _custom(value: Any, at: Endpoint) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict) and "value" in value:
        option = _OPTION_IDS.get(value["value"], "10029")
        return {
            "self": f"{at.api}/customFieldOption/{option}",
            "value": value["value"],
            "id": option,
        }
    return value


def _parent(store: JiraStore, parent: Issue, at: Endpoint) -> dict[str, Any]:
    return {
        "id": str(parent.id),
        "key": parent.key,
        "self": f"{at.api}/issue/{parent.id}",
        "fields": {
            "summary": parent.summary,
            "status": _lookup(store.status(parent.status), at),
            "priority": _priority(parent.priority, at),
            "issuetype": _lookup(store.issue_type(parent.issuetype), at),
        },
    }


def comment_json(
    store: JiraStore, issue: Issue, comment: dict[str, Any], at: Endpoint
) -> dict[str, Any]:
    """One ``Comment``."""
    author = store.users[comment["author"]].json(at)
    zone = store.me.time_zone
    return {
        "self": f"{at.api}/issue/{issue.id}/comment/{comment['id']}",
        "id": comment["id"],
        "author": author,
        "body": at.rich_out(comment["body"]),
        "updateAuthor": author,
        "created": jira_time(comment["created"], zone),
        "updated": jira_time(comment["updated"], zone),
        "jsdPublic": True,
    }
