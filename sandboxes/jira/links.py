"""Remote issue links of the Jira sandbox (``/issue/{key}/remotelink``).

A link points from an issue to anything with a URL (a CRM record, a document).
Saving a link whose ``globalId`` the issue already has replaces that link, as
Jira's create-or-update does; every change bumps the issue's ``updated``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from handoff_hub.sandboxes.jira.write import WriteError

if TYPE_CHECKING:
    from handoff_hub.sandboxes.jira.data import Issue
    from handoff_hub.sandboxes.jira.store import JiraStore
    from handoff_hub.sandboxes.jira.wire import Endpoint

__all__ = ["find_link", "link_json", "remove_link", "save_link"]

_KEYS = ("globalId", "application", "relationship", "object")


def link_json(issue: Issue, link: Mapping[str, Any], at: Endpoint) -> dict[str, Any]:
    """One ``RemoteIssueLink``."""
    body: dict[str, Any] = {
        "id": link["id"],
        "self": f"{at.api}/issue/{issue.key}/remotelink/{link['id']}",
    }
    return body | {k: link[k] for k in _KEYS if link.get(k) is not None}


def find_link(issue: Issue, link_id: str) -> dict[str, Any] | None:
    """The issue's link with ``link_id``, or None."""
    return next((lk for lk in issue.remote_links if str(lk["id"]) == link_id), None)


def save_link(
    store: JiraStore, issue: Issue, body: Any, *, link_id: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Create a link, or replace the one with the same ``globalId`` (or ``link_id``).

    Returns:
        The stored link, and True when it is new.

    Raises:
        WriteError: no ``object`` with a ``url`` and a ``title``.
    """
    values = _checked(body)
    if link_id is not None:
        existing = find_link(issue, link_id)
    else:
        wanted = values.get("globalId")
        existing = next(
            (lk for lk in issue.remote_links if wanted and lk.get("globalId") == wanted), None
        )
    if existing is not None:
        existing.update(values)
        store.touch(issue)
        return existing, False
    link = {"id": store.next_number("remotelink"), **values}
    issue.remote_links.append(link)
    store.touch(issue)
    return link, True


def _checked(body: Any) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise WriteError(messages=["The request body must be a JSON object."])
    target = body.get("object")
    if not isinstance(target, Mapping):
        raise WriteError({"object": "'object' is required."})
    errors = {k: f"'{k}' is required." for k in ("url", "title") if not target.get(k)}
    if errors:
        raise WriteError(errors)
    return {k: body.get(k) for k in _KEYS}


def remove_link(store: JiraStore, issue: Issue, link: Mapping[str, Any]) -> None:
    """Delete one of the issue's links."""
    issue.remote_links[:] = [lk for lk in issue.remote_links if lk is not link]
    store.touch(issue)
