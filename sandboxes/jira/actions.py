"""Request handlers of the Jira sandbox for what scripts do to one issue.

Delete, transitions, remote links and assignment: the calls admins make with
the jira SDK beside those the connector makes (:mod:`.sandbox_api`). Each
handler returns ``(status, body)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from handoff_hub.sandboxes.jira.api import Reply, error
from handoff_hub.sandboxes.jira.data import Issue
from handoff_hub.sandboxes.jira.fields import field_values
from handoff_hub.sandboxes.jira.links import find_link, link_json, remove_link, save_link
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import Endpoint
from handoff_hub.sandboxes.jira.workflow import available, do_transition, transition_json
from handoff_hub.sandboxes.jira.write import WriteError, delete_issue

__all__ = ["JiraActions"]

_NO_ISSUE = "Issue does not exist or you do not have permission to see it."


class JiraActions:
    """Issue actions of one sandbox site."""

    def __init__(self, store: JiraStore) -> None:
        self.store = store

    def _on(self, key: str, act: Callable[[Issue], Reply]) -> Reply:
        issue = self.store.issue(key)
        if issue is None:
            return error(404, _NO_ISSUE)
        try:
            return act(issue)
        except WriteError as exc:
            return exc.status, exc.body

    def delete(self, key: str, params: Mapping[str, str]) -> Reply:
        """``DELETE /issue/{key}``: 400 when it has sub-tasks and ``deleteSubtasks`` is not true."""
        subtasks = params.get("deleteSubtasks", "false").lower() == "true"

        def deleted(issue: Issue) -> Reply:
            delete_issue(self.store, issue, subtasks=subtasks)
            return 204, None

        return self._on(key, deleted)

    # transitions -----------------------------------------------------------------

    def transitions(self, at: Endpoint, key: str, params: Mapping[str, str]) -> Reply:
        """``GET /issue/{key}/transitions`` (``transitionId`` filters, ``expand`` adds fields)."""
        only = params.get("transitionId")
        expand = "transitions.fields" in params.get("expand", "")

        def listed(issue: Issue) -> Reply:
            found = [
                transition_json(tid, status, at, fields=expand)
                for tid, status in available(issue)
                if only in (None, tid)
            ]
            return 200, {"expand": "transitions", "transitions": found}

        return self._on(key, listed)

    def transition(self, at: Endpoint, key: str, body: Any) -> Reply:
        """``POST /issue/{key}/transitions`` (204)."""

        def moved(issue: Issue) -> Reply:
            do_transition(self.store, issue, body, adf=at.adf)
            return 204, None

        return self._on(key, moved)

    # remote links ----------------------------------------------------------------

    def remote_links(self, at: Endpoint, key: str, params: Mapping[str, str]) -> Reply:
        """``GET /issue/{key}/remotelink``: every link, or the one with ``globalId``."""
        wanted = params.get("globalId")

        def listed(issue: Issue) -> Reply:
            if wanted is None:
                return 200, [link_json(issue, lk, at) for lk in issue.remote_links]
            found = next((lk for lk in issue.remote_links if lk.get("globalId") == wanted), None)
            if found is None:
                return error(404, f"No remote issue link with global id '{wanted}' was found.")
            return 200, link_json(issue, found, at)

        return self._on(key, listed)

    def save_remote_link(self, at: Endpoint, key: str, body: Any) -> Reply:
        """``POST /issue/{key}/remotelink``: 201 created, 200 replaced (same ``globalId``)."""

        def saved(issue: Issue) -> Reply:
            link, created = save_link(self.store, issue, body)
            return (201 if created else 200), _identifies(link_json(issue, link, at))

        return self._on(key, saved)

    def remote_link(self, at: Endpoint, key: str, link_id: str) -> Reply:
        """``GET /issue/{key}/remotelink/{linkId}``."""
        return self._on(key, lambda i: self._with_link(i, link_id, lambda lk: link_json(i, lk, at)))

    def update_remote_link(self, key: str, link_id: str, body: Any) -> Reply:
        """``PUT /issue/{key}/remotelink/{linkId}`` (204)."""

        def updated(issue: Issue) -> Reply:
            if find_link(issue, link_id) is None:
                return _no_link(link_id)
            save_link(self.store, issue, body, link_id=link_id)
            return 204, None

        return self._on(key, updated)

    def delete_remote_link(self, key: str, link_id: str) -> Reply:
        """``DELETE /issue/{key}/remotelink/{linkId}`` (204)."""
        return self._on(
            key, lambda i: self._with_link(i, link_id, lambda lk: remove_link(self.store, i, lk))
        )

    def delete_remote_links(self, key: str, params: Mapping[str, str]) -> Reply:
        """``DELETE /issue/{key}/remotelink?globalId=`` (204; 400 without ``globalId``)."""
        wanted = params.get("globalId")
        if not wanted:
            return error(400, "The global ID of the remote issue link must be given.")

        def removed(issue: Issue) -> Reply:
            found = [lk for lk in issue.remote_links if lk.get("globalId") == wanted]
            if not found:
                return error(404, f"No remote issue link with global id '{wanted}' was found.")
            for link in found:
                remove_link(self.store, issue, link)
            return 204, None

        return self._on(key, removed)

    def _with_link(self, issue: Issue, link_id: str, act: Callable[[dict[str, Any]], Any]) -> Reply:
        link = find_link(issue, link_id)
        if link is None:
            return _no_link(link_id)
        result = act(link)
        return (200, result) if result is not None else (204, None)

    # assignment ------------------------------------------------------------------

    def assign(self, key: str, body: Any) -> Reply:
        """``PUT /issue/{key}/assignee``: an ``accountId``, ``null`` (unassigned) or ``"-1"``."""

        def assigned(issue: Issue) -> Reply:
            if not isinstance(body, Mapping) or "accountId" not in body:
                return error(400, "The accountId of the assignee must be given.")
            account = body["accountId"]
            if account == "-1":
                account = self.store.projects[issue.project].lead
            errors: dict[str, str] = {}
            values = field_values(
                self.store,
                {"assignee": None if account is None else {"accountId": account}},
                errors,
            )
            if errors:
                raise WriteError(errors)
            if issue.assignee != values["assignee"]:
                issue.assignee = values["assignee"]
                self.store.touch(issue)
            return 204, None

        return self._on(key, assigned)


def _identifies(link: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": link["id"], "self": link["self"]}


def _no_link(link_id: str) -> Reply:
    return error(404, f"No remote issue link with id '{link_id}' was found.")
