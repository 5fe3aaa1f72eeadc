"""What changed, according to a delivery: record ids per system, without trusting more.

A delivery says which records changed; it is not a copy of them to act on
(the dispatcher reads each record fresh from its product). So only ids and
their kind are taken from it:

* HubSpot: ``deal.*`` events (not deletions) give deal ids; events of another
  portal than the hub's are ignored, as an app's client secret signs the
  deliveries of every portal it is installed in.
* Jira: an event naming an ``issue`` gives its key (Epic, task, risk or
  feedback alike: the dispatcher finds out which); deletions are ignored.
* Asana: a changed task or project gives its gid; a change of a story or
  attachment gives its parent task; deletions are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hub.errors import HubError
from hub.webhooks.signatures import parse_event_time

__all__ = [
    "Change",
    "ChangeKind",
    "PayloadError",
    "asana_changes",
    "asana_event_time",
    "hubspot_changes",
    "jira_changes",
]

ChangeKind = Literal["deal", "item", "project", "issue"]
"""deal: a CRM deal; item: a PM task; project: a PM project; issue: a Jira issue (either)."""

_HUBSPOT_IGNORED = frozenset({"deletion", "privacyDeletion", "associationChange"})
_JIRA_IGNORED = frozenset({"jira:issue_deleted"})
_ASANA_KINDS: dict[str, ChangeKind] = {"task": "item", "project": "project"}


class PayloadError(HubError):
    """A delivery whose body is not what the product sends."""


@dataclass(frozen=True)
class Change:
    """One record that changed in one system."""

    system: str
    record_id: str
    kind: ChangeKind


def hubspot_changes(payload: Any, *, system: str, portal_id: int | None) -> list[Change]:
    """Deal ids from a HubSpot delivery (a JSON array of events)."""
    if not isinstance(payload, list):
        raise PayloadError("a HubSpot delivery is a JSON array of events")
    changes: list[Change] = []
    for event in payload:
        if not isinstance(event, Mapping):
            raise PayloadError("a HubSpot event is a JSON object")
        kind, _, action = str(event.get("subscriptionType") or "").partition(".")
        if kind != "deal" or action in _HUBSPOT_IGNORED:
            continue
        if portal_id is not None and str(event.get("portalId")) != str(portal_id):
            continue
        object_id = event.get("objectId")
        if isinstance(object_id, int | str) and str(object_id).isdigit():
            changes.append(Change(system, str(object_id), "deal"))
    return _unique(changes)


def jira_changes(payload: Any, *, system: str) -> list[Change]:
    """The issue key of a Jira delivery, if it is about an issue that still exists."""
    if not isinstance(payload, Mapping):
        raise PayloadError("a Jira delivery is a JSON object")
    if payload.get("webhookEvent") in _JIRA_IGNORED:
        return []
    issue = payload.get("issue")
    if not isinstance(issue, Mapping):
        return []
    key = issue.get("key") or issue.get("id")
    if not isinstance(key, str | int) or not str(key).strip():
        return []
    return [Change(system, str(key).strip(), "issue")]


def asana_changes(payload: Any, *, system: str) -> list[Change]:
    """Task and project gids from an Asana delivery (``{"events": [...]}``)."""
    events = _asana_events(payload)
    changes: list[Change] = []
    for event in events:
        if event.get("action") == "deleted":
            continue
        found = _asana_record(event.get("resource"), ("item", "project"))
        # A story, attachment or subtask event: the task it belongs to changed.
        found = found or _asana_record(event.get("parent"), ("item",))
        if found is not None:
            changes.append(Change(system, *found))
    return _unique(changes)


def asana_event_time(payload: Any) -> float | None:
    """The newest ``created_at`` of an Asana delivery's events (epoch seconds), if any."""
    times = [parse_event_time(e.get("created_at")) for e in _asana_events(payload)]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _asana_events(payload: Any) -> list[Mapping[str, Any]]:
    events = payload.get("events") if isinstance(payload, Mapping) else None
    if not isinstance(events, list) or not all(isinstance(e, Mapping) for e in events):
        raise PayloadError('an Asana delivery is {"events": [...]}')
    return events


def _asana_record(value: Any, kinds: tuple[ChangeKind, ...]) -> tuple[str, ChangeKind] | None:
    """(gid, kind) of an Asana resource reference, when it is of one of ``kinds``."""
    if not isinstance(value, Mapping):
        return None
    gid = str(value.get("gid") or "")
    kind: ChangeKind | None = _ASANA_KINDS.get(str(value.get("resource_type")))
    return (gid, kind) if gid.isdigit() and kind in kinds else None


def _unique(changes: list[Change]) -> list[Change]:
    return list(dict.fromkeys(changes))
