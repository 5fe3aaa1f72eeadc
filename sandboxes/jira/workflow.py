"""The Jira sandbox's workflow: which transitions an issue has, and doing one.

The sandbox plays Jira Cloud's simplified workflow: every status has one global
transition into it, named after it, available from every other status, with no
screen. So a transition takes no ``fields`` (Jira refuses fields that are not on
the transition's screen) but may add a comment through ``update.comment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from handoff_hub.sandboxes.jira.data import STATUSES, Status
from handoff_hub.sandboxes.jira.fields import CANNOT_SET
from handoff_hub.sandboxes.jira.write import WriteError, comment_operations

if TYPE_CHECKING:
    from handoff_hub.sandboxes.jira.data import Issue
    from handoff_hub.sandboxes.jira.store import JiraStore
    from handoff_hub.sandboxes.jira.wire import Endpoint

__all__ = ["TRANSITIONS", "available", "do_transition", "transition_json"]

TRANSITIONS: dict[str, Status] = {
    str(11 + 10 * number): status for number, status in enumerate(STATUSES)
}
"""Transition id -> target status: 11 To Do, 21 In Progress, 31 In Review, ..."""


def available(issue: Issue) -> list[tuple[str, Status]]:
    """The transitions the issue can take now: into every status but its own."""
    return [(tid, s) for tid, s in TRANSITIONS.items() if s.name != issue.status]


def transition_json(tid: str, status: Status, at: Endpoint, *, fields: bool) -> dict[str, Any]:
    """One ``IssueTransition``; ``fields`` (the screen's fields) when expanded."""
    body: dict[str, Any] = {
        "id": tid,
        "name": status.name,
        "to": status.json(at),
        "hasScreen": False,
        "isGlobal": True,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }
    if fields:
        body["fields"] = {}
    return body


def do_transition(store: JiraStore, issue: Issue, body: Any, *, adf: bool) -> None:
    """Move the issue along ``transition.id``, adding the comments of ``update.comment``.

    Raises:
        WriteError: no transition given, one the issue does not have, fields
            (there is no screen), or an update other than a comment.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("transition"), Mapping):
        raise WriteError(messages=["Missing 'transition' identifier"])
    wanted = str(body["transition"].get("id") or "").strip()
    if not wanted:
        raise WriteError(messages=["Missing 'transition' identifier"])
    target = dict(available(issue)).get(wanted)
    if target is None:
        raise WriteError(messages=[f"Transition id '{wanted}' is not valid for this issue."])
    fields, update = body.get("fields") or {}, body.get("update") or {}
    if not isinstance(fields, Mapping) or not isinstance(update, Mapping):
        raise WriteError(messages=["'fields' and 'update' must be JSON objects."])
    errors = {k: CANNOT_SET.format(name=k) for k in [*fields, *update] if k != "comment"}
    comments = comment_operations(update.get("comment"), errors, adf=adf)
    if errors:
        raise WriteError(errors)
    issue.status = target.name
    store.touch(issue)
    for comment in comments:
        store.add_comment(issue, comment)
